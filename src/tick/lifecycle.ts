// The life of a poll or watch tick, shared by both: open (the gates, the clock, the adapters),
// read each repo, act (the executor, live only), and finish (the report, the metrics, the exit
// code). A command supplies only what it reads and decides.
import type { Logger } from '../adapters/log.js';
import {
  ConfigError,
  describeAction,
  describeError,
  issueKey,
  renderTickMetrics,
  type Action,
  type Config,
  type QueueLabels,
  type RepoName,
  type RepoQueue,
  type TickMetricFacts,
} from '../core/index.js';
import { executePlan, type ActionResult } from './executor.js';
import { startTickClock } from './clock.js';
import { prepareTick, reportDisabled } from './gates.js';
import { logRequests } from './http.js';
import { writeReport, type Failure, type Waiting } from './report.js';
import type { RepoReads } from './repos.js';
import { EXIT, sharesScreen, type Mode, type Runtime, type TickFlags } from './runtime.js';
import { buildPorts, type TickPorts } from './wiring.js';

export interface TickContext {
  command: 'poll' | 'watch';
  mode: Mode;
  flags: TickFlags;
  config: Config;
  /** The allow-listed repos this tick covers (narrowed by --repo). */
  repos: RepoName[];
  /** On only in a dry run: the preview of a tick the kill switch stops. */
  killSwitch: boolean;
  runtime: Runtime;
  log: Logger;
  ports: TickPorts;
  startedAt: Date;
  /**
   * Failures outside the plan (reads), reported with the tick and counted in its exit code.
   * Written only through the `record…` functions below.
   */
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
  const tick = { command, mode: flags.mode, flags, config, repos, killSwitch, runtime, log };
  const rest = { ports, startedAt, failures: [], stop: clock.stop, endClock: clock.end };
  return { open: true, tick: { ...tick, ...rest } };
}

/** How a tick ends: its exit code and its summary line. */
export interface Ending {
  exitCode: number;
  summary: string;
}

/**
 * Reads the queues of the repos the tick covers (all at once: the tracker batches them); a
 * repo that cannot be read is recorded and left out (`each` says what could not be done with
 * it). Null when not one could be read: the tick has nothing to decide on.
 */
export async function readTickQueues(
  tick: TickContext,
  labels: QueueLabels,
  each: string,
): Promise<RepoReads<RepoQueue> | null> {
  const answers = await tick.ports.tracker.readQueues(tick.repos, labels);
  const reads: RepoReads<RepoQueue> = { read: [], unreadable: [] };
  for (const answer of answers) {
    if (answer.ok) {
      reads.read.push({ repo: answer.repo, value: answer.value });
      continue;
    }
    // A configuration error is nobody's repo and goes up as exit 2.
    if (answer.error instanceof ConfigError) throw answer.error;
    const error = describeError(answer.error);
    reads.unreadable.push({ repo: answer.repo, error });
    recordRepoUnreadable(tick, answer.repo, `cannot ${each}, left out of this tick: ${error}`);
  }
  return reads.read.length === 0 ? null : reads;
}

/** Not one repo could be read: `what` says what the tick could not do in any. */
export function stopNothingRead(tick: TickContext, what: string): Ending {
  const summary = `${tick.command}: stopped, ${what} in any repo (${tick.repos.length} unreadable)${stoppedBy(tick)}`;
  logSummary(tick, {}, summary, 'error');
  return { exitCode: EXIT.upstreamUnreadable, summary };
}

/**
 * A read the tick cannot do without failed: logged and recorded; the tick stops with exit 3.
 * A configuration error (a secret file gone) is not an upstream's fault and goes up as exit 2.
 */
export function stopUnreadable(tick: TickContext, what: string, error: unknown): Ending {
  if (error instanceof ConfigError) throw error;
  const message = `${what}: ${describeError(error)}`;
  // On a terminal the report shows it (stdout); in a container the log carries it too.
  tick.log[sharesScreen(tick.runtime) ? 'debug' : 'error']({ command: tick.command }, message);
  tick.failures.push({ issue: null, error: message, inSummary: true });
  const summary = `${tick.command}: stopped, ${message}${stoppedBy(tick)}`;
  return { exitCode: EXIT.upstreamUnreadable, summary };
}

/**
 * A repo whose issues could not be listed: left out of this tick, and named in the report
 * and the log (once on a terminal, where the report shows it).
 */
function recordRepoUnreadable(tick: TickContext, repo: RepoName, message: string): void {
  tick.log[sharesScreen(tick.runtime) ? 'debug' : 'error'](
    { command: tick.command, repo },
    `${repo}: ${message}`,
  );
  tick.failures.push({ issue: null, repo, error: message });
}

/** Failures of single issues' reads: each is reported, and the tick goes on without it. */
export function recordFailures(tick: TickContext, failures: readonly Failure[]): void {
  tick.failures.push(...failures);
}

/**
 * Carries out a live tick's plan (a dry run carries out nothing), logging each step as it
 * ends. Steps a stop left unstarted are counted apart: they are work the next tick does.
 */
export async function executeTick(
  tick: TickContext,
  plan: Action[],
): Promise<{ results: ActionResult[]; notStarted: number; failed: number }> {
  if (tick.mode !== 'live') return { results: [], notStarted: 0, failed: tick.failures.length };
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
  const failed = tick.failures.length + results.filter((r) => r.status === 'failed').length;
  return { results, notStarted, failed };
}

/**
 * A read the grace cut short fails as `aborted`: without this the summary would blame the
 * upstream for what a signal or the budget did (the exit code already says which).
 */
const stoppedBy = (tick: TickContext): string =>
  tick.stop.aborted ? `; stopped by ${String(tick.stop.reason)}` : '';

/** The summary's note of a stop, when one left work undone. */
export const stopNote = (tick: TickContext, notStarted: number): string =>
  notStarted === 0 ? '' : `; ${notStarted} not started (stopped by ${String(tick.stop.reason)})`;

/** The end of a tick that got to decide: exit 1 when anything failed or was left unstarted. */
export function concludeTick(
  tick: TickContext,
  summary: string,
  fields: object,
  undone: number,
): Ending {
  logSummary(tick, fields, summary);
  return { exitCode: undone > 0 ? EXIT.actionFailed : EXIT.ok, summary };
}

/** The summary line: on a terminal the report (stdout) shows it, so the log keeps it at debug. */
function logSummary(
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

/** What a tick's report and metrics say besides its ending. */
export interface TickFacts {
  plan: Action[];
  results: ActionResult[];
  waiting: Waiting[];
  /** Command-specific facts for the report (poll's dispatched issues, watch's runs). */
  details: Record<string, unknown>;
  liveRuns: number | null;
  queueDepth: number | null;
  escalations: readonly string[] | null;
  /** With several T3 servers: each one's gauges. */
  servers?: TickMetricFacts['servers'];
}

/** Ends a tick: the report on stdout, the metrics pushed; returns the exit code. */
export async function finishTick(
  tick: TickContext,
  ending: Ending,
  facts: TickFacts,
): Promise<number> {
  const { exitCode, summary } = ending;
  writeReport(
    tick.runtime.stdout,
    tick.flags.output,
    {
      command: tick.command,
      mode: tick.mode,
      killSwitch: tick.killSwitch,
      exitCode,
      summary,
      plan: facts.plan,
      results: facts.results,
      waiting: facts.waiting,
      failures: tick.failures,
      details: facts.details,
      progressShown: progressShown(tick),
    },
    { verbose: tick.flags.verbose === true },
  );
  await pushTickMetrics(tick, { ...facts, exitCode });
  return exitCode;
}

/** The report leaves out the steps when the progress lines already showed them on the same screen. */
const progressShown = (tick: TickContext): boolean =>
  tick.mode === 'live' && sharesScreen(tick.runtime) && tick.log.isLevelEnabled('info');

/**
 * A live tick ends by pushing its metrics, when a Pushgateway is configured. A dry run pushes
 * nothing: it is a laptop run, and its push would replace the cluster's series. A failed push
 * is a warning, never a failure of the tick: the exit code stands.
 */
async function pushTickMetrics(
  tick: TickContext,
  outcome: TickFacts & { exitCode: number },
): Promise<void> {
  tick.endClock();
  const { pushgatewayUrl, job } = tick.config.metrics;
  if (pushgatewayUrl === null || tick.mode === 'dry-run') return;
  const body = renderTickMetrics({
    startedAt: tick.startedAt,
    endedAt: tick.runtime.now(),
    exitCode: outcome.exitCode,
    requests: tick.ports.requestCounts(),
    actions: outcome.results.map((r) => ({
      kind: r.action.kind,
      status: r.status,
      ...(r.action.kind === 'startTurn' ? { purpose: r.action.purpose } : {}),
    })),
    failures: tick.failures.length + outcome.results.filter((r) => r.status === 'failed').length,
    liveRuns: outcome.liveRuns,
    queueDepth: outcome.queueDepth,
    escalations: outcome.escalations,
    servers: outcome.servers,
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
