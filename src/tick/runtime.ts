// What a command is given of the process (the runtime), the flags every tick takes, the exit
// codes, and the time a tick may take. Loaded with the first command (cli.ts): it stays light.
import { createLogger, type Logger } from '../adapters/log.js';
import type { Env, LogLevel } from '../core/index.js';

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
