// The ready label starts an agent with full access, so who applied it matters. A label put on
// by a reader, a bot, or a collaborator who has since lost access is never dispatched, and
// `afk poll --output json` and `afk status` (text and JSON) say why.
import { beforeEach, describe, expect, it } from 'vitest';
import { threadIdFor } from '../../src/core/index.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { armedConfig, runCli, writeConfig } from '../support/cli.js';
import { useMswServer } from '../support/msw.js';

const { server, seen } = useMswServer();

let gh: GitHubFake;
let t3: T3Fake;
let configFile: string;

/** Oldest first, so poll weighs every untrusted issue before the trusted one. */
const issues: Array<[number, string, string]> = [
  [1, 'reader', 'a reader (read permission)'],
  [2, 'triager', 'a triager (triage counts as read)'],
  [3, 'renovate[bot]', 'a bot account'],
  [4, 'former', 'a collaborator since removed from the private repo'],
  [5, 'ghost', 'a deleted account'],
];

beforeEach(() => {
  seen.length = 0;
  gh = createGitHubFake();
  t3 = createT3Fake();
  server.resetHandlers(...gh.handlers, ...t3.handlers);
  // `former` applied the label while a collaborator; the repo no longer lists them.
  gh.addRepo('acme/api', {
    visibility: 'private',
    collaborators: { maintainer: 'write', reader: 'read', triager: 'triage' },
  });
  gh.addRepo('acme/web', { visibility: 'public', collaborators: { maintainer: 'admin' } });
  for (const [number, by] of issues) {
    gh.addIssue('acme/api', {
      number,
      title: `Issue ${number}`,
      labels: ['ready-for-agent'],
      createdAt: `2026-11-0${number}T00:00:00Z`,
      labeledBy: { 'ready-for-agent': by },
    });
  }
  // A maintainer queued #6, then a reader took the label off and put it back on: the label
  // the issue carries now is the reader's.
  gh.addIssue('acme/api', {
    number: 6,
    title: 'Issue 6',
    labels: ['ready-for-agent'],
    createdAt: '2026-11-06T00:00:00Z',
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });
  gh.unlabelIssue('acme/api', 6, 'ready-for-agent', 'reader');
  gh.labelIssue('acme/api', 6, 'ready-for-agent', 'reader');
  // On a public repository anyone can read: a stranger's label is a read-permission label.
  gh.addIssue('acme/web', {
    number: 7,
    title: 'Issue 7',
    labels: ['ready-for-agent'],
    createdAt: '2026-11-07T00:00:00Z',
    labeledBy: { 'ready-for-agent': 'former' },
  });
  gh.addIssue('acme/api', {
    number: 8,
    title: 'Trusted',
    labels: ['ready-for-agent'],
    createdAt: '2026-11-08T00:00:00Z',
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });
  configFile = writeConfig(
    armedConfig({ dispatch: { maxConcurrentRuns: 3, maxRunsPerRepo: 1, maxDispatchesPerTick: 1 } }),
  );
});

const expectedWaits = [
  ['acme/api#1', 'reader applied the ready label with read permission; write is required'],
  ['acme/api#2', 'triager applied the ready label with read permission; write is required'],
  ['acme/api#3', 'renovate[bot] applied the ready label with none permission; write is required'],
  ['acme/api#4', 'former applied the ready label with none permission; write is required'],
  ['acme/api#5', 'ghost applied the ready label with none permission; write is required'],
  ['acme/api#6', 'reader applied the ready label with read permission; write is required'],
  ['acme/web#7', 'former applied the ready label with read permission; write is required'],
];

describe('labels applied by untrusted accounts', () => {
  it('are not dispatched, and poll’s JSON says why for each', async () => {
    const result = await runCli(['poll', '--config', configFile, '--output', 'json']);

    expect(result.code, result.stdout).toBe(0);
    expect(result.json?.['dispatched']).toEqual(['acme/api#8']);
    const waiting = result.json?.['waiting'] as Array<Record<string, string>>;
    expect(waiting.map((w) => [w.issue, w.reason, w.detail])).toEqual(
      expectedWaits.map(([issue, detail]) => [issue, 'untrusted-labeler', detail]),
    );
    // Only #8 got a thread, a turn, a comment and the lock; the others are untouched.
    expect([...t3.state.threads.keys()]).toEqual([threadIdFor({ repo: 'acme/api', number: 8 }, 1)]);
    expect(gh.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      'POST /repos/acme/api/issues/8/comments',
      'POST /repos/acme/api/issues/8/labels',
      'DELETE /repos/acme/api/issues/8/labels/ready-for-agent',
    ]);
    for (const [number] of issues) {
      expect(gh.issue('acme/api', number).labels).toEqual(['ready-for-agent']);
      expect(gh.issue('acme/api', number).comments).toEqual([]);
    }
  });

  it('show in afk status why they wait, in text and JSON, and status writes nothing', async () => {
    const json = await runCli(['status', '--config', configFile, '--output', 'json']);

    expect(json.code, json.stdout).toBe(0);
    const queue = json.json?.['queue'] as Array<Record<string, unknown>>;
    expect(queue.map((e) => [e['issue'], e['waits'], e['detail']])).toEqual([
      ...expectedWaits.map(([issue, detail]) => [issue, 'untrusted-labeler', detail]),
      ['acme/api#8', 'next', 'would dispatch next'],
    ]);

    const text = await runCli(['status', '--config', configFile]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      '  3  acme/api#3  -         untrusted-labeler: renovate[bot] applied the ready label with none permission; write is required',
    );
    expect(text.stdout).toContain('  8  acme/api#8  -         would dispatch next');
    expect(seen.filter((r) => !r.startsWith('GET '))).toEqual([]);
  });

  it('are dispatched once a trusted maintainer applies the label again', async () => {
    gh.unlabelIssue('acme/api', 8, 'ready-for-agent', 'maintainer');
    gh.unlabelIssue('acme/api', 1, 'ready-for-agent', 'maintainer');
    gh.labelIssue('acme/api', 1, 'ready-for-agent', 'maintainer');

    const result = await runCli(['poll', '--config', configFile, '--output', 'json']);

    expect(result.code, result.stdout).toBe(0);
    expect(result.json?.['dispatched']).toEqual(['acme/api#1']);
  });
});
