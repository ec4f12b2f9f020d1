// Builders for domain values in core tests: each test states only what matters to it.
import {
  parseConfig,
  type Config,
  type Issue,
  type T3Snapshot,
  type T3Thread,
} from '../../src/core/index.js';

export function config(overrides: Record<string, unknown> = {}): Config {
  const parsed = parseConfig(
    { killSwitch: false, repos: ['acme/api', 'acme/web'], ...overrides },
    {},
  );
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return parsed.config;
}

let counter = 0;
export function issue(overrides: Partial<Issue> = {}): Issue {
  counter += 1;
  const repo = overrides.repo ?? 'acme/api';
  const number = overrides.number ?? counter;
  return {
    repo,
    number,
    title: `Issue ${number}`,
    body: 'Something is broken.',
    labels: ['ready-for-agent'],
    state: 'open',
    author: 'alice',
    createdAt: '2026-11-01T10:00:00Z',
    url: `https://github.test/${repo}/issues/${number}`,
    ...overrides,
  };
}

export function snapshot(overrides: Partial<T3Snapshot> = {}): T3Snapshot {
  return { sequence: 1, detail: 'slim', projects: [], threads: [], ...overrides };
}

export function thread(
  overrides: Partial<T3Thread> & Pick<T3Thread, 'id' | 'projectId'>,
): T3Thread {
  return {
    title: 't',
    branch: null,
    archived: false,
    deleted: false,
    latestTurn: null,
    session: null,
    messages: null,
    activities: null,
    createdAt: '2026-11-01T10:00:00Z',
    updatedAt: '2026-11-01T10:00:00Z',
    ...overrides,
  };
}
