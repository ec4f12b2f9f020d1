import { beforeEach, describe, expect, it } from 'vitest';
import {
  projectIdFor,
  renderChecklist,
  threadIdFor,
  type RunRecord,
} from '../../src/core/index.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { useMswServer } from '../support/msw.js';
import { armedConfig, runCli, writeConfig } from '../support/cli.js';

const { server, seen } = useMswServer();

const NOW = new Date('2026-11-21T08:00:00.000Z');
const THREAD = threadIdFor({ repo: 'acme/api', number: 7 }, 2);

let gh: GitHubFake;
let t3: T3Fake;
beforeEach(() => {
  seen.length = 0;
  gh = createGitHubFake();
  t3 = createT3Fake();
  server.use(...gh.handlers, ...t3.handlers);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write' } });
  gh.addRepo('acme/web', { collaborators: { maintainer: 'write' } });
});

const record = (overrides: Partial<RunRecord>): RunRecord => ({
  v: 1,
  attempt: 1,
  threadId: THREAD,
  dispatchedAt: '2026-11-21T05:55:00.000Z',
  fixForwards: 0,
  outcome: null,
  phases: {},
  history: [],
  ...overrides,
});

/** A run mid-way: attempt 2, pushed, CI being judged, one fix-forward spent. */
function liveRun() {
  gh.addIssue('acme/api', {
    number: 7,
    title: 'Fix login',
    labels: ['agent-in-progress'],
    createdAt: '2026-11-20T00:00:00Z',
  });
  gh.addComment('acme/api', 7, {
    author: 'afk-bot',
    body: renderChecklist(
      record({
        attempt: 2,
        fixForwards: 1,
        phases: {
          dispatched: '2026-11-21T05:56:00.000Z',
          testsRed: '2026-11-21T06:10:00.000Z',
          green: '2026-11-21T06:40:00.000Z',
          pushed: '2026-11-21T06:45:00.000Z',
        },
        subject: { sha: 'abcdef1234567890', since: '2026-11-21T06:45:00.000Z' },
        status: 'CI is running on abcdef1',
      }),
    ),
  });
  t3.addProject({ id: projectIdFor('acme/api'), workspaceRoot: '/data/acme__api' });
  t3.addThread({
    id: THREAD,
    projectId: projectIdFor('acme/api'),
    latestTurn: {
      turnId: 'turn-1',
      state: 'completed',
      requestedAt: '2026-11-21T05:56:00.000Z',
      startedAt: '2026-11-21T05:56:00.000Z',
      completedAt: '2026-11-21T06:45:00.000Z',
      assistantMessageId: null,
    },
    session: {
      threadId: THREAD,
      status: 'ready',
      providerName: 'claudeAgent',
      runtimeMode: 'full-access',
      activeTurnId: null,
      lastError: null,
      updatedAt: '2026-11-21T06:45:00.000Z',
    },
  });
}

function queue() {
  // acme/api is busy (its one run slot is taken): #8 waits on the repo lock.
  gh.addIssue('acme/api', {
    number: 8,
    title: 'Later',
    labels: ['ready-for-agent', 'P0'],
    createdAt: '2026-11-02T00:00:00Z',
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });
  // acme/web: #3 (P1) is next, #4 (P2) waits on the one-dispatch-per-tick cap.
  gh.addIssue('acme/web', {
    number: 4,
    title: 'Lower',
    labels: ['ready-for-agent', 'P2'],
    createdAt: '2026-11-01T00:00:00Z',
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });
  gh.addIssue('acme/web', {
    number: 3,
    title: 'Higher',
    labels: ['ready-for-agent', 'P1'],
    createdAt: '2026-11-05T00:00:00Z',
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });
}

function escalation() {
  gh.addIssue('acme/web', {
    number: 9,
    title: 'Stuck',
    labels: ['ready-for-human'],
    createdAt: '2026-11-10T00:00:00Z',
  });
  gh.addComment('acme/web', 9, {
    author: 'afk-bot',
    body: renderChecklist(
      record({
        threadId: threadIdFor({ repo: 'acme/web', number: 9 }, 1),
        outcome: 'escalated',
        reason: 'fix-forward-exhausted: CI still fails after 2 fix-forwards',
        endedAt: '2026-11-20T12:00:00.000Z',
      }),
    ),
  });
}

describe('afk status', () => {
  it('shows a live run, the queue with why each waits, and an escalation, reading only', async () => {
    liveRun();
    queue();
    escalation();

    const result = await runCli(['status', '--config', writeConfig(armedConfig())], { now: NOW });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        'gates: kill switch off; 2 repo(s): acme/api, acme/web',
        '',
        'live runs (1)',
        '  ISSUE       ATTEMPT  PHASE   THREAD           CI               AGE     FIX-FORWARDS  NOW',
        '  acme/api#7  2        pushed  completed/ready  judging abcdef1  2h 05m  1/2           CI is running on abcdef1',
        '',
        'queue (3)',
        '  #  ISSUE       PRIORITY  WAITS',
        '  1  acme/api#8  P0        repo-busy: 1 of 1 runs live in acme/api',
        '  2  acme/web#3  P1        would dispatch next',
        '  3  acme/web#4  P2        tick-cap: 1 dispatch(es) per tick',
        '',
        'escalations (1)',
        '  ISSUE       ATTEMPT  ESCALATED                 REASON',
        '  acme/web#9  1        2026-11-20T12:00:00.000Z  fix-forward-exhausted: CI still fails after 2 fix-forwards',
        '',
        'status: 1 live run, 3 queued, 1 escalation',
        '',
      ].join('\n'),
    );
    // Listings, who labelled the next issue (as poll checks it), afk's login, one comment read
    // per run and escalation, the snapshot: no CI, no writes.
    expect(seen.sort()).toEqual(
      [
        'GET https://api.github.test/repos/acme/api/issues?labels=ready-for-agent&state=open&per_page=100',
        'GET https://api.github.test/repos/acme/api/issues?labels=agent-in-progress&state=all&per_page=100',
        'GET https://api.github.test/repos/acme/api/issues?labels=ready-for-human&state=open&per_page=100',
        'GET https://api.github.test/repos/acme/web/issues?labels=ready-for-agent&state=open&per_page=100',
        'GET https://api.github.test/repos/acme/web/issues?labels=agent-in-progress&state=all&per_page=100',
        'GET https://api.github.test/repos/acme/web/issues?labels=ready-for-human&state=open&per_page=100',
        'GET https://api.github.test/repos/acme/web/issues/3/events?per_page=100',
        'GET https://api.github.test/repos/acme/web/collaborators/maintainer/permission',
        'GET https://api.github.test/user',
        'GET https://api.github.test/repos/acme/api/issues/7/comments?per_page=100',
        'GET https://api.github.test/repos/acme/web/issues/9/comments?per_page=100',
        'GET http://t3.test/.well-known/t3/environment',
        'GET http://t3.test/api/orchestration/snapshot',
      ].sort(),
    );
  });

  it('answers JSON for machines', async () => {
    liveRun();
    queue();
    escalation();

    const result = await runCli(
      ['status', '--config', writeConfig(armedConfig()), '--output', 'json'],
      { now: NOW },
    );

    expect(result.code).toBe(0);
    expect(result.json).toEqual({
      command: 'status',
      exitCode: 0,
      summary: 'status: 1 live run, 3 queued, 1 escalation',
      gates: { killSwitch: false, repos: ['acme/api', 'acme/web'] },
      runs: [
        {
          issue: 'acme/api#7',
          url: 'https://github.test/acme/api/issues/7',
          state: 'open',
          attempt: 2,
          phase: 'pushed',
          thread: 'completed/ready',
          ci: 'judging abcdef1',
          dispatchedAt: '2026-11-21T05:55:00.000Z',
          ageMinutes: 125,
          fixForwards: 1,
          maxFixForwards: 2,
          now: 'CI is running on abcdef1',
          problem: null,
        },
      ],
      queue: [
        expect.objectContaining({ position: 1, issue: 'acme/api#8', waits: 'repo-busy' }),
        expect.objectContaining({
          position: 2,
          issue: 'acme/web#3',
          priority: 'P1',
          waits: 'next',
          detail: 'would dispatch next',
        }),
        expect.objectContaining({
          position: 3,
          issue: 'acme/web#4',
          waits: 'tick-cap',
          detail: '1 dispatch(es) per tick',
        }),
      ],
      escalations: [
        {
          issue: 'acme/web#9',
          url: 'https://github.test/acme/web/issues/9',
          attempt: 1,
          reason: 'fix-forward-exhausted: CI still fails after 2 fix-forwards',
          escalatedAt: '2026-11-20T12:00:00.000Z',
        },
      ],
      failures: [],
      t3Unreadable: null,
    });
  });

  it('works with the kill switch on', async () => {
    queue();

    const result = await runCli(
      ['status', '--config', writeConfig(armedConfig({ killSwitch: true }))],
      { now: NOW },
    );

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'gates: kill switch ON: poll and watch do nothing; 2 repo(s): acme/api, acme/web',
    );
    expect(result.stdout).toContain('  1  acme/api#8  P0        would dispatch next');
    // No live run and no escalation: neither the snapshot nor afk's login is needed.
    expect(seen.filter((r) => !r.includes('/issues?labels=')).sort()).toEqual([
      'GET https://api.github.test/repos/acme/api/collaborators/maintainer/permission',
      'GET https://api.github.test/repos/acme/api/issues/8/events?per_page=100',
    ]);
  });

  it('says there is nothing to show with an empty allowlist, without a request', async () => {
    const result = await runCli(['status', '--config', writeConfig(armedConfig({ repos: [] }))]);

    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'status: nothing to show: no repos are allow-listed (repos / AFK_REPOS)\n',
    );
    expect(seen).toEqual([]);
  });

  it('shows a run whose thread T3 does not know as missing, narrowed to one repo', async () => {
    liveRun();
    t3 = createT3Fake();
    server.use(...t3.handlers);

    const result = await runCli(
      ['status', '--config', writeConfig(armedConfig()), '--repo', 'acme/api'],
      { now: NOW },
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('acme/api#7  2        pushed  missing');
    expect(seen.some((r) => r.includes('acme/web'))).toBe(false);
  });

  it('shows the repos it can read, names the one it cannot, and exits 1', async () => {
    liveRun();
    escalation();

    const result = await runCli(['status', '--config', writeConfig(armedConfig())], {
      now: NOW,
      env: { AFK_REPOS: 'acme/api,acme/ghost' },
    });

    expect(result.code, result.stderr).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines).toContain(
      '  acme/api#7  2        pushed  completed/ready  judging abcdef1  2h 05m  1/2           CI is running on abcdef1',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^unreadable: acme\/ghost: cannot list its issues: tracker: GET \/repos\/acme\/ghost\/issues: 404 not-found\b/,
      ),
    );
    expect(lines).toContain('status: 1 live run, 0 queued, 0 escalations; 1 unreadable');
    expect(seen.filter((r) => r.includes('/acme/ghost/')).sort()).toEqual([
      'GET https://api.github.test/repos/acme/ghost/issues?labels=agent-in-progress&state=all&per_page=100',
      'GET https://api.github.test/repos/acme/ghost/issues?labels=ready-for-agent&state=open&per_page=100',
      'GET https://api.github.test/repos/acme/ghost/issues?labels=ready-for-human&state=open&per_page=100',
    ]);
  });

  it('exits 3 when no repo can be read', async () => {
    gh.failNext({ path: /^\/repos\/acme\/(api|web)\/issues$/ }, { status: 502 }, 10);

    const result = await runCli(['status', '--config', writeConfig(armedConfig())]);

    expect(result.code).toBe(3);
    expect(result.stdout).toBe(
      'status: stopped, acme/api: cannot list its issues: tracker: GET /repos/acme/api/issues: 502 transient (fake failure 502); acme/web: cannot list its issues: tracker: GET /repos/acme/web/issues: 502 transient (fake failure 502)\n',
    );
  });

  it('shows everything the tracker knows when T3 is down, with T3’s column unknown, and exits 3', async () => {
    liveRun();
    queue();
    escalation();
    t3.failNext({ path: '/api/orchestration/snapshot' }, { status: 503 }, 10);

    const text = await runCli(['status', '--config', writeConfig(armedConfig())], { now: NOW });

    expect(text.code).toBe(3);
    expect(text.stdout).toBe(
      [
        'gates: kill switch off; 2 repo(s): acme/api, acme/web',
        '',
        'live runs (1)',
        '  ISSUE       ATTEMPT  PHASE   THREAD   CI               AGE     FIX-FORWARDS  NOW',
        '  acme/api#7  2        pushed  unknown  judging abcdef1  2h 05m  1/2           CI is running on abcdef1',
        '  THREAD unknown: T3 could not be read (t3: GET /api/orchestration/snapshot: 503 transient)',
        '',
        'queue (3)',
        '  #  ISSUE       PRIORITY  WAITS',
        '  1  acme/api#8  P0        repo-busy: 1 of 1 runs live in acme/api',
        '  2  acme/web#3  P1        would dispatch next',
        '  3  acme/web#4  P2        tick-cap: 1 dispatch(es) per tick',
        '',
        'escalations (1)',
        '  ISSUE       ATTEMPT  ESCALATED                 REASON',
        '  acme/web#9  1        2026-11-20T12:00:00.000Z  fix-forward-exhausted: CI still fails after 2 fix-forwards',
        '',
        'status: 1 live run, 3 queued, 1 escalation; T3 unknown',
        '',
      ].join('\n'),
    );

    const json = await runCli(
      ['status', '--config', writeConfig(armedConfig()), '--output', 'json'],
      { now: NOW },
    );
    expect(json.code).toBe(3);
    expect(json.json).toMatchObject({
      exitCode: 3,
      summary: 'status: 1 live run, 3 queued, 1 escalation; T3 unknown',
      runs: [{ issue: 'acme/api#7', thread: 'unknown', phase: 'pushed' }],
      queue: [{ issue: 'acme/api#8' }, { issue: 'acme/web#3' }, { issue: 'acme/web#4' }],
      escalations: [{ issue: 'acme/web#9' }],
      failures: [],
      t3Unreadable: 't3: GET /api/orchestration/snapshot: 503 transient',
    });
  });

  it('caps each table at 20 rows, or --limit; --limit 0, --verbose and JSON show all', async () => {
    for (let n = 1; n <= 25; n += 1) {
      gh.addIssue('acme/web', {
        number: n,
        title: `Queued ${n}`,
        labels: ['ready-for-agent'],
        createdAt: `2026-11-01T00:${String(n).padStart(2, '0')}:00Z`,
        labeledBy: { 'ready-for-agent': 'maintainer' },
      });
    }
    const config = writeConfig(armedConfig());
    const rows = (stdout: string) => stdout.split('\n').filter((l) => /^ {2}\d+ {2}/.test(l));

    const capped = await runCli(['status', '--config', config]);
    expect(capped.code).toBe(0);
    expect(rows(capped.stdout)).toHaveLength(20);
    expect(capped.stdout).toContain(
      '  20  acme/web#20  -         tick-cap: 1 dispatch(es) per tick\n  … and 5 more (--limit 0 shows all)\n',
    );
    expect(capped.stdout).toContain('queue (25)');

    const three = await runCli(['status', '--config', config, '--limit', '3']);
    expect(rows(three.stdout)).toHaveLength(3);
    expect(three.stdout).toContain('  … and 22 more (--limit 0 shows all)');

    for (const all of [['--limit', '0'], ['--verbose']]) {
      const result = await runCli(['status', '--config', config, ...all]);
      expect(rows(result.stdout), all.join(' ')).toHaveLength(25);
      expect(result.stdout).not.toContain('more (--limit 0 shows all)');
    }

    const json = await runCli(['status', '--config', config, '--output', 'json']);
    expect(json.json?.['queue']).toHaveLength(25);

    const bad = await runCli(['status', '--config', config, '--limit', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--limit <n>' argument 'many' is invalid");
  });

  it('exits 2 for a repo outside the allowlist', async () => {
    const result = await runCli([
      'status',
      '--config',
      writeConfig(armedConfig()),
      '--repo',
      'evil/repo',
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--repo: evil/repo is not in the allowlist');
    expect(seen).toEqual([]);
  });
});
