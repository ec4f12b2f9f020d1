// What every tick shares: the runtime it is given, loading the config, the gates, building
// the adapters (read-only in a dry run), and writing the report.
import { loadConfig } from '../adapters/config-file.js';
import { createLogger, type Logger } from '../adapters/log.js';
import { requiredSecret, secretConfigured, type SecretSpec } from '../adapters/secrets.js';
import {
  ConfigError,
  describeError,
  renderTickMetrics,
  tickGate,
  type Config,
  type Doorbell,
  type Env,
  type LogLevel,
  type RepoName,
  type Upstream,
} from '../core/index.js';
import type { ActionResult, Ports } from './executor.js';
import type { Failure } from './report.js';

export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Everything a command may touch of the process, passed in so tests can supply their own. */
export interface Runtime {
  env: Env;
  cwd: string;
  stdout: Output;
  stderr: Output;
  now: () => Date;
  /**
   * Retry and throttle policy of the HTTP adapters. Production leaves it unset (the adapters'
   * tick-sized defaults); tests turn waiting off so retries do not leak time across tests. The
   * fault matrix keeps GitHub's rate-limit handling but not its write pacing (`pace: false`),
   * and sets a tiny per-request `timeoutMs` so that a timeout costs milliseconds.
   */
  http?: { retries?: number; throttle?: boolean; pace?: boolean; timeoutMs?: number };
}

export type Mode = 'live' | 'dry-run';

export interface TickFlags {
  config?: string;
  mode: Mode;
  output: 'text' | 'json';
  repo?: string;
}

export const EXIT = { ok: 0, actionFailed: 1, usage: 2, upstreamUnreadable: 3 } as const;

export function loggerFor(runtime: Runtime): Logger {
  const level = (runtime.env['AFK_LOG_LEVEL'] || 'info') as LogLevel;
  return createLogger({
    level,
    format: runtime.stderr.isTTY === true ? 'text' : 'json',
    sink: runtime.stderr,
  });
}

export type Prepared =
  | { open: false; reason: string }
  | { open: true; config: Config; repos: RepoName[]; killSwitch: boolean };

/**
 * The config and the repos a command covers: the allowlist, or the one `--repo` names, which
 * must be on it (a way to narrow a run, never around the allowlist).
 */
export async function loadScope(
  flags: { config?: string; repo?: string },
  runtime: Runtime,
): Promise<{ config: Config; repos: RepoName[] }> {
  const { config } = await loadConfig({ flag: flags.config, env: runtime.env, cwd: runtime.cwd });
  if (flags.repo === undefined) return { config, repos: config.repos };
  const wanted = flags.repo.toLowerCase();
  const match = config.repos.find((r) => r.toLowerCase() === wanted);
  if (match === undefined) {
    throw new ConfigError([`--repo: ${flags.repo} is not in the allowlist (repos / AFK_REPOS)`]);
  }
  return { config, repos: [match] };
}

/**
 * Loads the config and checks the gates; a closed gate means zero network requests. A dry run
 * passes the kill switch (it writes nothing) and carries it on to say so.
 */
export async function prepareTick(flags: TickFlags, runtime: Runtime): Promise<Prepared> {
  const { config, repos } = await loadScope(flags, runtime);
  const gate = tickGate(config, flags.mode === 'dry-run');
  if (!gate.open) return gate;
  return { open: true, config, repos, killSwitch: gate.killSwitch };
}

/** A closed gate: one log line, no request, exit 0 (and a JSON object for machines). */
export function reportDisabled(
  command: string,
  reason: string,
  flags: TickFlags,
  runtime: Runtime,
  log: Logger,
): number {
  log.info({ command, gate: reason }, `${command}: disabled: ${reason}`);
  if (flags.output === 'json') {
    runtime.stdout.write(`${JSON.stringify({ command, disabled: reason, exitCode: 0 })}\n`);
  }
  return EXIT.ok;
}

/**
 * A dry run gets adapters whose HTTP refuses anything but reads: the executor is never
 * called in a dry run, and this makes a write impossible even if a bug called it.
 */
function fetchFor(mode: Mode, send: typeof fetch): typeof fetch {
  const readOnly: typeof fetch = (input, init) => {
    const method = methodOf(input, init);
    if (method !== 'GET' && method !== 'HEAD') {
      return Promise.reject(new Error(`dry run: refused to send a ${method} request`));
    }
    return send(input, init);
  };
  return { live: send, 'dry-run': readOnly }[mode];
}

const methodOf = (input: Parameters<typeof fetch>[0], init: RequestInit | undefined): string =>
  (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();

export interface RequestCount {
  upstream: Upstream;
  method: string;
  count: number;
}

/** Counts every request an adapter sends (retries too; not the ones a dry run refused). */
function createRequestMeter() {
  const counts = new Map<string, RequestCount>();
  return {
    fetchFor(upstream: Upstream): typeof fetch {
      return (input, init) => {
        const method = methodOf(input, init);
        const key = `${upstream} ${method}`;
        const known = counts.get(key);
        if (known === undefined) counts.set(key, { upstream, method, count: 1 });
        else known.count += 1;
        return globalThis.fetch(input, init);
      };
    },
    counts: (): RequestCount[] => [...counts.values()].map((c) => ({ ...c })),
  };
}

/** The ports, and the requests they sent so far. */
export interface TickPorts extends Ports {
  requestCounts(): RequestCount[];
}

export async function buildPorts(config: Config, runtime: Runtime, mode: Mode): Promise<TickPorts> {
  const meter = createRequestMeter();
  const fetch = (upstream: Upstream) => fetchFor(mode, meter.fetchFor(upstream));
  const [{ createTracker }, { createT3Client }, { createSlackDoorbell }] = await Promise.all([
    import('../adapters/tracker.js'),
    import('../adapters/t3.js'),
    import('../adapters/slack.js'),
  ]);
  const trackerToken = requiredSecret(
    {
      name: 'tracker token',
      fileKey: 'tracker.tokenFile',
      file: config.tracker.tokenFile,
      envVars: ['AFK_TRACKER_TOKEN', 'GITHUB_TOKEN'],
    },
    runtime.env,
  );
  const t3Token = requiredSecret(
    {
      name: 'T3 token',
      fileKey: 't3.tokenFile',
      file: config.t3.tokenFile,
      envVars: ['AFK_T3_TOKEN'],
    },
    runtime.env,
  );
  const webhook: SecretSpec = {
    name: 'Slack webhook URL',
    fileKey: 'notify.slackWebhookUrlFile',
    file: config.notify.slackWebhookUrlFile,
    envVars: ['AFK_SLACK_WEBHOOK_URL'],
  };
  // Both secrets must exist before the first request: a missing one is a configuration
  // error (exit 2), not an unreadable upstream. They are still read afresh per request.
  await Promise.all([trackerToken(), t3Token()]);
  const { retries, pace, timeoutMs } = runtime.http ?? {};
  const timeout = timeoutMs === undefined ? {} : { timeoutMs };
  // GitHub's write pacing (about one write a second) protects a real GitHub; an emulator on
  // loopback (the demo, the end-to-end tests) has no secondary limits to respect.
  const throttle =
    runtime.http?.throttle ?? (isLoopback(config.tracker.apiUrl) ? false : undefined);
  return {
    tracker: await createTracker(config.tracker.kind, {
      apiUrl: config.tracker.apiUrl,
      token: trackerToken,
      fetch: fetch('tracker'),
      ...(config.tracker.login === undefined ? {} : { login: config.tracker.login }),
      ...(retries === undefined ? {} : { retries }),
      ...(throttle === undefined ? {} : { throttle }),
      ...(pace === undefined ? {} : { pace }),
      ...timeout,
    }),
    t3: createT3Client({
      baseUrl: config.t3.url,
      token: t3Token,
      fetch: fetch('t3'),
      ...(retries === undefined ? {} : { retries }),
      ...timeout,
    }),
    // No webhook configured means no doorbell: watch plans none, and escalations go on. A
    // configured one whose file cannot be read fails its ring, and the relabel waits for it.
    doorbell: secretConfigured(webhook, runtime.env)
      ? createSlackDoorbell({
          webhookUrl: requiredSecret(webhook, runtime.env),
          fetch: fetch('slack'),
          ...(retries === 0 ? { retryDelayMs: 0 } : {}),
          ...timeout,
        })
      : noDoorbell,
    requestCounts: meter.counts,
  };
}

/** Watch is told there is no doorbell and plans no ring: one that is asked to ring is a bug. */
const noDoorbell: Doorbell = {
  configured: false,
  ring: () => Promise.reject(new Error('no doorbell is configured: nothing was sent')),
};

export interface TickContext {
  command: 'poll' | 'watch';
  mode: Mode;
  config: Config;
  /** The allow-listed repos this tick covers (narrowed by --repo). */
  repos: RepoName[];
  /** On only in a dry run: the preview of a tick the kill switch stops. */
  killSwitch: boolean;
  runtime: Runtime;
  log: Logger;
  ports: TickPorts;
  startedAt: Date;
  /** Failures outside the plan (reads), reported with the tick and counted in its exit code. */
  failures: Failure[];
}

/**
 * Opens a tick: the config, the gates and the adapters. A closed gate ends it here with
 * exit 0, one log line and no request. A dry run under the kill switch goes on, read-only.
 */
export async function openTick(
  command: TickContext['command'],
  flags: TickFlags,
  runtime: Runtime,
  log: Logger,
): Promise<{ open: false; exitCode: number } | { open: true; tick: TickContext }> {
  const startedAt = runtime.now();
  const prepared = await prepareTick(flags, runtime);
  if (!prepared.open) {
    return { open: false, exitCode: reportDisabled(command, prepared.reason, flags, runtime, log) };
  }
  const { config, repos, killSwitch } = prepared;
  if (killSwitch) {
    log.info(
      { command, killSwitch: true },
      `${command}: kill switch is on: a dry run previews the plan; a live tick would do nothing`,
    );
  }
  const ports = await buildPorts(config, runtime, flags.mode);
  const tick = {
    command,
    mode: flags.mode,
    config,
    repos,
    killSwitch,
    runtime,
    log,
    ports,
    startedAt,
  };
  return { open: true, tick: { ...tick, failures: [] } };
}

/**
 * A read the tick cannot do without failed: logged and recorded; the caller stops with exit 3.
 * A configuration error (a secret file gone) is not an upstream's fault and goes up as exit 2.
 */
export function recordUnreadable(tick: TickContext, what: string, error: unknown): string {
  if (error instanceof ConfigError) throw error;
  const message = `${what}: ${describeError(error)}`;
  tick.log.error({ command: tick.command }, message);
  tick.failures.push({ issue: null, error: message });
  return `${tick.command}: stopped, ${message}`;
}

export interface TickOutcome {
  exitCode: number;
  results: readonly ActionResult[];
  failures: readonly Failure[];
  liveRuns: number | null;
  queueDepth: number | null;
  escalations: readonly string[] | null;
}

/**
 * A live tick ends by pushing its metrics, when a Pushgateway is configured. A dry run pushes
 * nothing: it is a laptop run, and its push would replace the cluster's series. A failed push
 * is a warning, never a failure of the tick: the exit code stands.
 */
export async function pushTickMetrics(tick: TickContext, outcome: TickOutcome): Promise<void> {
  const { pushgatewayUrl, job } = tick.config.metrics;
  if (pushgatewayUrl === null || tick.mode === 'dry-run') return;
  const body = renderTickMetrics({
    startedAt: tick.startedAt,
    endedAt: tick.runtime.now(),
    exitCode: outcome.exitCode,
    requests: tick.ports.requestCounts(),
    actions: outcome.results.map((r) => ({ kind: r.action.kind, status: r.status })),
    failures: outcome.failures.length + outcome.results.filter((r) => r.status === 'failed').length,
    liveRuns: outcome.liveRuns,
    queueDepth: outcome.queueDepth,
    escalations: outcome.escalations,
  });
  const { pushMetrics } = await import('../adapters/metrics.js');
  const pushed = await pushMetrics({ url: pushgatewayUrl, job, command: tick.command }, body);
  if (!pushed.ok) {
    // Kind, status and host:port only: the URL may carry credentials.
    const { kind, status } = pushed;
    const why =
      status === null
        ? `network error: ${pushed.network.cause} (${pushed.network.address})`
        : `${kind} ${status}`;
    tick.log.warn(
      { command: tick.command, metrics: { kind, status } },
      `${tick.command}: the metrics push failed (${why}); the exit code stands`,
    );
  }
}

const isLoopback = (url: string): boolean =>
  ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

/** Runs `fn` over `items` with at most `limit` in flight, keeping the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
