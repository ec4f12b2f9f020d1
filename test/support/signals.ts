// The process's signals, in-process: a test emits SIGTERM at the moment it chooses, and sees
// whether the CLI asked to exit at once (a second signal) instead of the process ending.
import { EventEmitter } from 'node:events';
import type { Signals, StopSignal } from '../../src/tick/runtime.js';

export function fakeSignals(): Signals & { emit(signal: StopSignal): void; exits: number[] } {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  return {
    on: (signal, listener) => emitter.on(signal, listener),
    off: (signal, listener) => emitter.off(signal, listener),
    exit: (code) => exits.push(code),
    emit: (signal) => emitter.emit(signal),
    exits,
  };
}
