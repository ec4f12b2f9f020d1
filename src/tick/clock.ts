import type { Logger } from '../adapters/log.js';
import { STOP_GRACE_MS, type Runtime } from './runtime.js';

export interface TickClock {
  /** No new step starts: the process was told to stop, or the budget is spent. */
  stop: AbortSignal;
  /** The requests still in flight, and any after them, are aborted. */
  abort: AbortSignal;
  /** Clears every timer and listener. */
  end(): void;
}

/**
 * A tick's two deadlines. `stop`: no new step starts (the process was told to stop, or the
 * budget is spent). `abort`: STOP_GRACE_MS later, the requests of the step still in flight
 * are aborted, and so is any request after them (a claim left by such a step lapses with its
 * lease). Every timer is unref'd: none keeps a finished process alive.
 */
export function startTickClock(
  command: string,
  budgetSeconds: number,
  runtime: Runtime,
  log: Logger,
): TickClock {
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
