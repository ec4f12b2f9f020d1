// Wiring: the adapters every command uses, built from the config, the secrets and the runtime.
// One place says where each secret comes from and how each upstream is reached (timeouts,
// retries, pacing, the read-only fetch outside a live run, the request meter).
import type { Logger } from '../adapters/log.js';
import { requiredSecret, secretConfigured, type SecretSpec } from '../adapters/secrets.js';
import type { T3Client } from '../adapters/t3.js';
import type { Config, Doorbell, Tracker, Upstream } from '../core/index.js';
import type { Ports } from './executor.js';
import { createRequestMeter, fetchFor, isLoopback, type RequestCount } from './http.js';
import { TIMEOUTS, type Mode, type Runtime } from './runtime.js';

/** Where each secret comes from; its value is read afresh per request, never kept. */
export function secretSpecs(config: Config) {
  return {
    tracker: {
      name: 'tracker token',
      fileKey: 'tracker.tokenFile',
      file: config.tracker.tokenFile,
      envVars: ['AFK_TRACKER_TOKEN', 'GITHUB_TOKEN'],
    },
    t3: {
      name: 'T3 token',
      fileKey: 't3.tokenFile',
      file: config.t3.tokenFile,
      envVars: ['AFK_T3_TOKEN'],
    },
    slack: {
      name: 'Slack webhook URL',
      fileKey: 'notify.slackWebhookUrlFile',
      file: config.notify.slackWebhookUrlFile,
      envVars: ['AFK_SLACK_WEBHOOK_URL'],
    },
  } satisfies Record<string, SecretSpec>;
}

export interface Wiring {
  /** Anything but `live` gets adapters that cannot write (http.ts). */
  mode: Mode;
  log?: Logger | undefined;
  /** Aborts every request in flight and after (the end of a stopped tick's grace). */
  abort?: AbortSignal | undefined;
  /** Per request (each attempt); `runtime.http.timeoutMs` overrides them all. */
  timeouts?: { trackerMs: number; t3Ms: number; slackMs: number };
}

/** The adapters, each built when asked for, and the requests they sent so far. */
export interface Adapters {
  tracker(): Promise<Tracker>;
  t3(): T3Client;
  doorbell(): Doorbell;
  requestCounts(): RequestCount[];
}

export async function wireAdapters(
  config: Config,
  runtime: Runtime,
  wiring: Wiring,
): Promise<Adapters> {
  const meter = createRequestMeter(wiring.log);
  const fetch = (upstream: Upstream) => fetchFor(wiring.mode, meter.fetchFor(upstream));
  const [{ createTracker }, { createT3Client }, { createSlackDoorbell }] = await Promise.all([
    import('../adapters/tracker.js'),
    import('../adapters/t3.js'),
    import('../adapters/slack.js'),
  ]);
  const secrets = secretSpecs(config);
  const { retries, pace, timeoutMs } = runtime.http ?? {};
  const timeouts = wiring.timeouts ?? TIMEOUTS;
  const signal = wiring.abort === undefined ? {} : { signal: wiring.abort };
  // GitHub's write pacing (about one write a second) protects a real GitHub; an emulator on
  // loopback (the demo, the end-to-end tests) has no secondary limits to respect.
  const throttle =
    runtime.http?.throttle ?? (isLoopback(config.tracker.apiUrl) ? false : undefined);
  return {
    tracker: () =>
      createTracker(config.tracker.kind, {
        apiUrl: config.tracker.apiUrl,
        token: requiredSecret(secrets.tracker, runtime.env),
        fetch: fetch('tracker'),
        ...(config.tracker.login === undefined ? {} : { login: config.tracker.login }),
        ...(retries === undefined ? {} : { retries }),
        ...(throttle === undefined ? {} : { throttle }),
        ...(pace === undefined ? {} : { pace }),
        timeoutMs: timeoutMs ?? timeouts.trackerMs,
        ...signal,
      }),
    t3: () =>
      createT3Client({
        baseUrl: config.t3.url,
        token: requiredSecret(secrets.t3, runtime.env),
        fetch: fetch('t3'),
        ...(retries === undefined ? {} : { retries }),
        timeoutMs: timeoutMs ?? timeouts.t3Ms,
        ...signal,
      }),
    // No webhook configured means no doorbell: watch plans none, and escalations go on. A
    // configured one whose file cannot be read fails its ring, and the relabel waits for it.
    doorbell: () =>
      secretConfigured(secrets.slack, runtime.env)
        ? createSlackDoorbell({
            webhookUrl: requiredSecret(secrets.slack, runtime.env),
            fetch: fetch('slack'),
            ...(retries === 0 ? { retryDelayMs: 0 } : {}),
            timeoutMs: timeoutMs ?? timeouts.slackMs,
            ...signal,
          })
        : noDoorbell,
    requestCounts: meter.counts,
  };
}

/** Watch is told there is no doorbell and plans no ring: one that is asked to ring is a bug. */
export const noDoorbell: Doorbell = {
  configured: false,
  ring: () => Promise.reject(new Error('no doorbell is configured: nothing was sent')),
};

/** The ports, and the requests they sent so far. */
export interface TickPorts extends Ports {
  requestCounts(): RequestCount[];
}

/** The ports of a tick (and of status, read-only): every secret it needs, or exit 2. */
export async function buildPorts(
  config: Config,
  runtime: Runtime,
  mode: Mode,
  edge: { log?: Logger; abort?: AbortSignal } = {},
): Promise<TickPorts> {
  const adapters = await wireAdapters(config, runtime, { mode, ...edge });
  // Both secrets must exist before the first request: a missing one is a configuration
  // error (exit 2), not an unreadable upstream. They are still read afresh per request.
  const secrets = secretSpecs(config);
  await Promise.all([
    requiredSecret(secrets.tracker, runtime.env)(),
    requiredSecret(secrets.t3, runtime.env)(),
  ]);
  return {
    tracker: await adapters.tracker(),
    t3: adapters.t3(),
    doorbell: adapters.doorbell(),
    requestCounts: adapters.requestCounts,
  };
}
