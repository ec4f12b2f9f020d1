// What every tick shares: the runtime it is given, loading the config, the gates, building
// the adapters (read-only in a dry run), and writing the report.
import { loadConfig } from '../adapters/config-file.js';
import { createLogger, type Logger } from '../adapters/log.js';
import { requiredSecret, secretConfigured, type SecretSpec } from '../adapters/secrets.js';
import {
  ConfigError,
  describeAction,
  describeError,
  issueKey,
  renderTickMetrics,
  tickGate,
  type Action,
  type Config,
  type Doorbell,
  type Env,
  type LogLevel,
  type RepoName,
  type Upstream,
} from '../core/index.js';
import { executePlan, type ActionResult, type Ports } from './executor.js';
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
  /** The process's SIGTERM and SIGINT (production: `process`); main turns them into `stop`. */
  signals?: Signals;
  /**
   * Aborted when the tick must start no new step; its reason names why (`SIGTERM`). Set by
   * main from `signals` for poll and watch.
   */
  stop?: AbortSignal;
  /** How long a step in flight may still run after a stop. Default STOP_GRACE_MS; tests shorten it. */
  graceMs?: number;
}

export type StopSignal = 'SIGTERM' | 'SIGINT';

export interface Signals {
  on(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
  /** Ends the process at once: a second signal does not wait for the tick. */
  exit(code: number): void;
}

// The clock of a tick, in seconds. A CronJob's Job is killed at activeDeadlineSeconds (100 for
// poll, 150 for watch: k8s/base). A tick starts no new step after its budget
// (`tick.budgetSeconds`, default 70), gives the step in flight STOP_GRACE_MS (5) before it
// aborts that step's requests, then may release one claim (one tracker request, at most
// TIMEOUTS.trackerMs: 10), pushes its metrics (3, adapters/metrics.ts), and has start-up and
// the report besides (under 2): 70 + 5 + 10 + 3 + 2 = 90 < 100 (worstTickSeconds).
// A request's own worst case (timeout × attempts + backoff: 10 × 2 + 0.25 for T3, 10 + 10 for
// the tracker's 5xx retries, 5 × 2 + 1 for Slack) never adds to this: the abort at the end of
// the grace cuts any request short. A SIGTERM takes the same path, 20 s at most (STOP_SECONDS),
// inside the pods' terminationGracePeriodSeconds of 30. test/k8s/manifests.test.ts checks both.
export const STOP_GRACE_MS = 5_000;
/** Per request (each attempt): short enough that one hung upstream leaves the tick most of its budget. */
export const TIMEOUTS = { trackerMs: 10_000, t3Ms: 10_000, slackMs: 5_000 } as const;
/** From a stop to the process's end: the grace, one claim's release, the metrics push, the report. */
export const STOP_SECONDS = STOP_GRACE_MS / 1000 + TIMEOUTS.trackerMs / 1000 + 3 + 2;
/** The longest a tick with this budget runs. */
export const worstTickSeconds = (budgetSeconds: number): number => budgetSeconds + STOP_SECONDS;

export type Mode = 'live' | 'dry-run';

export interface TickFlags {
  config?: string;
  mode: Mode;
  output: 'text' | 'json';
  repo?: string;
  /** Text lists each waiting issue instead of grouping them by reason. */
  verbose?: boolean;
}

export const EXIT = { ok: 0, actionFailed: 1, usage: 2, upstreamUnreadable: 3 } as const;

/**
 * stdout and stderr on one terminal: the report (stdout) is not repeated by the log (stderr).
 * The steps, already shown as progress lines, are left out of the report's text, and the
 * summary and the failures of reads are logged at debug only.
 */
export const sharesScreen = (runtime: Runtime): boolean =>
  runtime.stdout.isTTY === true && runtime.stderr.isTTY === true;

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
function createRequestMeter(log: Logger | undefined) {
  const counts = new Map<string, RequestCount>();
  return {
    fetchFor(upstream: Upstream): typeof fetch {
      const send = logRequests(log, upstream);
      return (input, init) => {
        const method = methodOf(input, init);
        const key = `${upstream} ${method}`;
        const known = counts.get(key);
        if (known === undefined) counts.set(key, { upstream, method, count: 1 });
        else known.count += 1;
        return send(input, init);
      };
    },
    counts: (): RequestCount[] => [...counts.values()].map((c) => ({ ...c })),
  };
}

/**
 * At debug, one log line per request as it ends: method, host, path, status, milliseconds.
 * Never a header, a body or a query string; the Slack webhook's path is the secret itself, and
 * a Pushgateway URL may carry credentials: for those two, the host alone.
 */
export function logRequests(
  log: Logger | undefined,
  upstream: Upstream | 'metrics',
  send: typeof fetch = globalThis.fetch,
): typeof fetch {
  if (log === undefined || !log.isLevelEnabled('debug')) return send;
  return async (input, init) => {
    const method = methodOf(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const path = { slack: '<slack webhook>', metrics: '<pushgateway>' }[upstream as string];
    const started = performance.now();
    const line = (status: number | string) => {
      const ms = Math.round(performance.now() - started);
      const http = { method, host: url.host, path: path ?? url.pathname, status, ms };
      log.debug({ http }, `${method} ${http.host} ${http.path} ${status} ${ms} ms`);
    };
    try {
      const response = await send(input, init);
      line(response.status);
      return response;
    } catch (error) {
      line(failureOf(error));
      throw error;
    }
  };
}

/** Why a request got no answer, by the error's name alone: its message may carry the URL. */
function failureOf(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError') return 'timeout';
  if (name === 'AbortError') return 'aborted';
  return 'no answer';
}

/** The ports, and the requests they sent so far. */
export interface TickPorts extends Ports {
  requestCounts(): RequestCount[];
}

export async function buildPorts(
  config: Config,
  runtime: Runtime,
  mode: Mode,
  edge: { log?: Logger; abort?: AbortSignal } = {},
): Promise<TickPorts> {
  const meter = createRequestMeter(edge.log);
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
  const signal = edge.abort === undefined ? {} : { signal: edge.abort };
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
      timeoutMs: timeoutMs ?? TIMEOUTS.trackerMs,
      ...signal,
    }),
    t3: createT3Client({
      baseUrl: config.t3.url,
      token: t3Token,
      fetch: fetch('t3'),
      ...(retries === undefined ? {} : { retries }),
      timeoutMs: timeoutMs ?? TIMEOUTS.t3Ms,
      ...signal,
    }),
    // No webhook configured means no doorbell: watch plans none, and escalations go on. A
    // configured one whose file cannot be read fails its ring, and the relabel waits for it.
    doorbell: secretConfigured(webhook, runtime.env)
      ? createSlackDoorbell({
          webhookUrl: requiredSecret(webhook, runtime.env),
          fetch: fetch('slack'),
          ...(retries === 0 ? { retryDelayMs: 0 } : {}),
          timeoutMs: timeoutMs ?? TIMEOUTS.slackMs,
          ...signal,
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
  /** Aborted when no new step may start: a signal, or the tick's budget spent (its reason says which). */
  stop: AbortSignal;
  /** Ends the tick's timers; called when its report is written. */
  endClock(): void;
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
  const clock = startTickClock(command, config.tick.budgetSeconds, runtime, log);
  let ports: TickPorts;
  try {
    ports = await buildPorts(config, runtime, flags.mode, { log, abort: clock.abort });
  } catch (error) {
    clock.end();
    throw error;
  }
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
  return { open: true, tick: { ...tick, failures: [], stop: clock.stop, endClock: clock.end } };
}

/**
 * A tick's two deadlines. `stop`: no new step starts (the process was told to stop, or the
 * budget is spent). `abort`: STOP_GRACE_MS later, the requests of the step still in flight
 * are aborted, and so is any request after them (a claim left by such a step lapses with its
 * lease). Every timer is unref'd: none keeps a finished process alive.
 */
function startTickClock(
  command: string,
  budgetSeconds: number,
  runtime: Runtime,
  log: Logger,
): { stop: AbortSignal; abort: AbortSignal; end(): void } {
  const stop = new AbortController();
  const abort = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const later = (ms: number, fn: () => void) => timers.push(setTimeout(fn, ms).unref());
  const graceMs = runtime.graceMs ?? STOP_GRACE_MS;
  const stopNow = (reason: string) => {
    if (stop.signal.aborted) return;
    stop.abort(reason);
    log.warn(
      { command, stop: reason },
      `${command}: stopped by ${reason}: no new step starts; the step in flight has ${graceMs / 1000} s to finish`,
    );
    later(graceMs, () => {
      abort.abort(reason);
      log.warn({ command, stop: reason }, `${command}: aborting the requests still in flight`);
    });
  };
  const onSignal = () => stopNow(String(runtime.stop?.reason));
  if (runtime.stop?.aborted === true) onSignal();
  else runtime.stop?.addEventListener('abort', onSignal, { once: true });
  later(budgetSeconds * 1000, () => stopNow(`the tick's time budget (${budgetSeconds} s)`));
  return {
    stop: stop.signal,
    abort: abort.signal,
    end: () => {
      timers.forEach(clearTimeout);
      runtime.stop?.removeEventListener('abort', onSignal);
    },
  };
}

/**
 * A read the tick cannot do without failed: logged and recorded; the caller stops with exit 3.
 * A configuration error (a secret file gone) is not an upstream's fault and goes up as exit 2.
 */
export function recordUnreadable(tick: TickContext, what: string, error: unknown): string {
  if (error instanceof ConfigError) throw error;
  const message = `${what}: ${describeError(error)}`;
  // On a terminal the report shows it (stdout); in a container the log carries it too.
  tick.log[sharesScreen(tick.runtime) ? 'debug' : 'error']({ command: tick.command }, message);
  tick.failures.push({ issue: null, error: message });
  return `${tick.command}: stopped, ${message}`;
}

/**
 * Carries out a live tick's plan (a dry run carries out nothing), logging each step as it
 * ends. Steps a stop left unstarted are counted apart: they are work the next tick does.
 */
export async function executeTick(
  tick: TickContext,
  plan: Action[],
): Promise<{ results: ActionResult[]; notStarted: number }> {
  if (tick.mode !== 'live') return { results: [], notStarted: 0 };
  const { command, log } = tick;
  const results = await executePlan(plan, tick.ports, {
    now: tick.runtime.now,
    stop: tick.stop,
    onResult: (result, ms) => {
      const error = result.status === 'done' ? '' : `: ${result.error}`;
      const fields = {
        command,
        issue: issueKey(result.action.issue),
        action: result.action.kind,
        result: result.status,
        ms,
      };
      const message = `${describeAction(result.action)}: ${result.status} in ${ms} ms${error}`;
      log[result.status === 'failed' ? 'error' : 'info'](fields, message);
    },
  });
  const stopped = `stopped by ${String(tick.stop.reason)}`;
  const notStarted = results.filter((r) => r.status === 'skipped' && r.error === stopped).length;
  return { results, notStarted };
}

/** The summary's note of a stop, when one left work undone. */
export const stopNote = (tick: TickContext, notStarted: number): string =>
  notStarted === 0 ? '' : `; ${notStarted} not started (stopped by ${String(tick.stop.reason)})`;

/** The summary line: on a terminal the report (stdout) shows it, so the log keeps it at debug. */
export function logSummary(
  tick: TickContext,
  fields: object,
  summary: string,
  level: 'info' | 'error' = 'info',
): void {
  tick.log[sharesScreen(tick.runtime) ? 'debug' : level](
    { command: tick.command, ...fields },
    summary,
  );
}

/**
 * A repo whose issues could not be listed: left out of this tick, and named in the report
 * and the log (once on a terminal, where the report shows it).
 */
export function recordRepoUnreadable(tick: TickContext, repo: RepoName, message: string): void {
  tick.log[sharesScreen(tick.runtime) ? 'debug' : 'error'](
    { command: tick.command, repo },
    `${repo}: ${message}`,
  );
  tick.failures.push({ issue: null, repo, error: message });
}

/** The report leaves out the steps when the progress lines already showed them on the same screen. */
export const progressShown = (tick: TickContext): boolean =>
  tick.mode === 'live' && sharesScreen(tick.runtime) && tick.log.isLevelEnabled('info');

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
  tick.endClock();
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
  const pushed = await pushMetrics({ url: pushgatewayUrl, job, command: tick.command }, body, {
    fetch: logRequests(tick.log, 'metrics'),
  });
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
