// Runs the real CLI in-process against the msw fakes: the same main() the binary runs, with a
// runtime whose streams, environment, working directory and clock the test controls.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { main } from '../../src/cli.js';
import type { Runtime } from '../../src/tick/runtime.js';

export const GITHUB_URL = 'https://api.github.test';
export const T3_URL = 'http://t3.test';
export const TRACKER_TOKEN = 'gh-test-token';
export const T3_TOKEN = 't3-test-token';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is one JSON object. */
  json: Record<string, unknown> | undefined;
}

/** A config armed for the fakes, with the given overrides merged at the top level. */
export function armedConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    killSwitch: false,
    repos: ['acme/api', 'acme/web'],
    tracker: { apiUrl: GITHUB_URL },
    t3: { url: T3_URL },
    ...overrides,
  };
}

export function writeConfig(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'afk-test-'));
  const file = join(dir, 'afk.yaml');
  writeFileSync(file, typeof config === 'string' ? config : stringify(config));
  return file;
}

export async function runCli(
  args: string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    now?: Date;
    /** stdout and stderr both a terminal, as on a laptop. */
    tty?: boolean;
    runtime?: Pick<Runtime, 'signals' | 'graceMs'>;
  } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'afk', ...args], {
    env: { AFK_TRACKER_TOKEN: TRACKER_TOKEN, AFK_T3_TOKEN: T3_TOKEN, ...options.env },
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), 'afk-cwd-')),
    stdout: {
      write: (s: string) => (stdout += s),
      ...(options.tty === true ? { isTTY: true } : {}),
    },
    stderr: {
      write: (s: string) => (stderr += s),
      ...(options.tty === true ? { isTTY: true } : {}),
    },
    now: () => options.now ?? new Date('2026-11-21T08:00:00.000Z'),
    http: { retries: 0, throttle: false },
    ...options.runtime,
  });
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr, json };
}
