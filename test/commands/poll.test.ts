import { http } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseChecklist, projectIdFor, threadIdFor } from '../../src/core/index.js';
import type { ForgeFake, ForgeKind } from '../../emulators/forge.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { useMswServer } from '../support/msw.js';
import { armedConfig as baseConfig, runCli, T3_URL, writeConfig } from '../support/cli.js';
import {
  forges,
  github,
  graphqlRead,
  readsOf,
  repoVariables,
  type ForgeUnderTest,
} from '../support/forges.js';
import { fakeSignals } from '../support/signals.js';

const { server, seen } = useMswServer();
/** A GET, or a GitHub GraphQL query (a dry run's fetch refuses any other POST to /graphql). */
const isRead = (seen: string) => seen.startsWith('GET ') || /^POST \S+\/graphql$/.test(seen);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let under: ForgeUnderTest = github;
let gh: ForgeFake;
let t3: T3Fake;
/** A config armed for the fakes of the forge under test. */
const armedConfig = (overrides: Record<string, unknown> = {}) =>
  baseConfig({ tracker: under.tracker, ...overrides });
const useForge = (forge: ForgeUnderTest) => {
  under = forge;
  seen.length = 0;
  gh = forge.create();
  t3 = createT3Fake();
  server.resetHandlers(...gh.handlers, ...t3.handlers);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write', 'drive-by': 'read' } });
  gh.addRepo('acme/web', { collaborators: { maintainer: 'maintain' } });
};
beforeEach(() => useForge(github));

const ready = (
  repo: string,
  number: number,
  extra: { labels?: string[]; createdAt?: string; by?: string } = {},
) =>
  gh.addIssue(repo, {
    number,
    title: `Issue ${number}`,
    body: `Please fix thing ${number}.`,
    labels: ['ready-for-agent', ...(extra.labels ?? [])],
    createdAt: extra.createdAt ?? '2026-11-01T00:00:00Z',
    labeledBy: { 'ready-for-agent': extra.by ?? 'maintainer' },
  });

const commandTypes = (fake: T3Fake) =>
  fake.commands.map(
    (c) =>
      `${String(c.command['type'])} ${String(c.command['threadId'] ?? c.command['projectId'])}`,
  );
const ghWrites = () => gh.writes().map((r) => `${r.method} ${r.path}`);
/** The path of removing `label` from an issue, as the forge under test spells it. */
const unlabel = (repo: string, number: number, label: string) =>
  `DELETE /repos/${repo}/issues/${number}/labels/${gh.labelRef(repo, label)}`;
const afkComments = (repo: string, number: number) =>
  gh.issue(repo, number).comments.filter((c) => c.author === 'afk-bot');

// The reads of dispatching acme/api#2 and acme/web#3: the queues of every repo, then only
// what the two dispatches need: who applied the label and may they, afk's login, the comments
// (twice: once to find afk's record, once to verify the comment it wrote is the only one).
// GitHub reads the queues in two GraphQL queries (how many issues each list holds, then those
// issues, each list asked for its size) and the comments of both issues in one more.
// Forgejo lists per repo and label, and also resolves label names to ids, once per repo and
// once for the organisation.
const queueLabels = { live: ['agent-in-progress'], ready: ['ready-for-agent'] };
const expectedDispatchReads: Record<ForgeKind, string[]> = {
  github: [
    graphqlRead('AfkQueueCounts', { ...queueLabels, ...repoVariables('acme/api', 'acme/web') }),
    graphqlRead('AfkQueues', {
      ready: queueLabels.ready,
      ...repoVariables('acme/api', 'acme/web'),
      readyFirst0: 2,
      readyAfter0: null,
      readyFirst1: 1,
      readyAfter1: null,
    }),
    '/repos/acme/api/issues/2/events?per_page=100',
    '/repos/acme/web/issues/3/events?per_page=100',
    '/repos/acme/api/collaborators/maintainer/permission',
    '/repos/acme/web/collaborators/maintainer/permission',
    '/user',
    graphqlRead('AfkRuns', { ...repoVariables('acme/api', 'acme/web'), i0: 2, i1: 3 }),
    '/repos/acme/api/issues/2/comments?per_page=100',
    '/repos/acme/web/issues/3/comments?per_page=100',
  ],
  forgejo: [
    '/repos/acme/api/issues?state=open&type=issues&labels=ready-for-agent&limit=50&page=1',
    '/repos/acme/api/issues?state=all&type=issues&labels=agent-in-progress&limit=50&page=1',
    '/repos/acme/web/issues?state=open&type=issues&labels=ready-for-agent&limit=50&page=1',
    '/repos/acme/web/issues?state=all&type=issues&labels=agent-in-progress&limit=50&page=1',
    '/repos/acme/api/issues/2/timeline',
    '/repos/acme/web/issues/3/timeline',
    '/repos/acme/api/collaborators/maintainer/permission',
    '/repos/acme/web/collaborators/maintainer/permission',
    '/user',
    '/repos/acme/api/issues/2/comments',
    '/repos/acme/api/issues/2/comments',
    '/repos/acme/web/issues/3/comments',
    '/repos/acme/web/issues/3/comments',
    '/repos/acme/api/labels?limit=50&page=1',
    '/repos/acme/web/labels?limit=50&page=1',
    '/orgs/acme/labels?limit=50&page=1',
  ],
};

// A dry run's requests: the listings, who applied each ready label and may they, afk's login,
// each selected issue's comments once, and T3's snapshot. Only reads.
const t3Reads = [
  'GET http://t3.test/.well-known/t3/environment',
  'GET http://t3.test/api/orchestration/snapshot',
];
const expectedPreviewRequests: Record<ForgeKind, string[]> = {
  github: [
    ...t3Reads,
    // AfkQueueCounts, AfkQueues, AfkRuns: queries, which the read-only fetch of a dry run lets
    // through (a mutation it refuses).
    ...Array.from({ length: 3 }, () => 'POST https://api.github.test/graphql'),
    ...[
      '/repos/acme/api/issues/1/events?per_page=100',
      '/repos/acme/web/issues/2/events?per_page=100',
      '/repos/acme/api/collaborators/maintainer/permission',
      '/repos/acme/web/collaborators/maintainer/permission',
      '/user',
    ].map((path) => `GET https://api.github.test${path}`),
  ],
  forgejo: [
    ...t3Reads,
    ...[
      '/repos/acme/api/issues?state=open&type=issues&labels=ready-for-agent&limit=50&page=1',
      '/repos/acme/api/issues?state=all&type=issues&labels=agent-in-progress&limit=50&page=1',
      '/repos/acme/web/issues?state=open&type=issues&labels=ready-for-agent&limit=50&page=1',
      '/repos/acme/web/issues?state=all&type=issues&labels=agent-in-progress&limit=50&page=1',
      '/repos/acme/api/issues/1/timeline',
      '/repos/acme/web/issues/2/timeline',
      '/repos/acme/api/collaborators/maintainer/permission',
      '/repos/acme/web/collaborators/maintainer/permission',
      '/user',
      '/repos/acme/api/issues/1/comments',
      '/repos/acme/web/issues/2/comments',
    ].map((path) => `GET https://forgejo.test/api/v1${path}`),
  ],
};

describe.each(forges)('afk poll on $kind', (forge) => {
  beforeEach(() => useForge(forge));

  it('dispatches the P0 issue of a busy repo and the other repo’s issue, with exactly these requests', async () => {
    ready('acme/api', 1, { labels: ['P1'], createdAt: '2026-11-01T00:00:00Z' });
    ready('acme/api', 2, { labels: ['P0'], createdAt: '2026-11-10T00:00:00Z' });
    ready('acme/web', 3, { createdAt: '2026-11-05T00:00:00Z' });
    const config = writeConfig(
      armedConfig({
        dispatch: { maxConcurrentRuns: 2, maxRunsPerRepo: 1, maxDispatchesPerTick: 2 },
      }),
    );

    const result = await runCli(['poll', '--config', config]);

    expect(result.code, result.stderr).toBe(0);
    const api2 = threadIdFor({ repo: 'acme/api', number: 2 }, 1);
    const web3 = threadIdFor({ repo: 'acme/web', number: 3 }, 1);
    expect(commandTypes(t3)).toEqual([
      `project.create ${projectIdFor('acme/api')}`,
      `thread.create ${api2}`,
      `thread.turn.start ${api2}`,
      `project.create ${projectIdFor('acme/web')}`,
      `thread.create ${web3}`,
      `thread.turn.start ${web3}`,
    ]);
    expect(ghWrites()).toEqual([
      'POST /repos/acme/api/issues/2/comments',
      'POST /repos/acme/api/issues/2/labels',
      unlabel('acme/api', 2, 'ready-for-agent'),
      'POST /repos/acme/web/issues/3/comments',
      'POST /repos/acme/web/issues/3/labels',
      unlabel('acme/web', 3, 'ready-for-agent'),
    ]);
    // GitHub takes label names; Forgejo takes the ids it resolved from the repo's labels.
    expect(gh.writes()[1]?.body).toEqual({
      labels: [
        forge.kind === 'github'
          ? 'agent-in-progress'
          : Number(gh.labelRef('acme/api', 'agent-in-progress')),
      ],
    });

    // The reads: one listing per repo and label, then only what the two dispatches need.
    const reads = readsOf(gh);
    expect(reads.sort()).toEqual(expectedDispatchReads[forge.kind].sort());

    // The first turn is the preamble and the issue; the record names the thread.
    const turn = t3.commands.find((c) => c.command['type'] === 'thread.turn.start')?.command;
    expect(turn).toMatchObject({
      threadId: api2,
      runtimeMode: 'full-access',
      interactionMode: 'default',
      message: { role: 'user', attachments: [] },
    });
    expect(JSON.stringify(turn)).toContain('Please fix thing 2.');
    const [comment] = afkComments('acme/api', 2);
    expect(comment !== undefined && parseChecklist(comment.body)).toMatchObject({
      ok: true,
      record: { attempt: 1, threadId: api2, outcome: null },
    });
    expect(gh.issue('acme/api', 2).labels.sort()).toEqual(['P0', 'agent-in-progress']);
    expect(gh.issue('acme/api', 1).labels.sort()).toEqual(['P1', 'ready-for-agent']);
    expect(gh.issue('acme/api', 1).comments).toEqual([]);
    expect(result.stdout).toContain(
      'poll: dispatched 2 (acme/api#2, acme/web#3); 1 waiting; 0 failed',
    );
  });

  it('leaves the issue ready and unlocked when the first turn fails', async () => {
    ready('acme/api', 1);
    t3.failNext(
      { commandType: 'thread.turn.start' },
      {
        status: 500,
        body: {
          _tag: 'EnvironmentInternalError',
          code: 'internal_error',
          reason: 'orchestration_dispatch_failed',
          traceId: 't',
        },
      },
    );

    const result = await runCli(['poll', '--config', writeConfig(armedConfig())]);

    expect(result.code).toBe(1);
    expect(gh.issue('acme/api', 1).labels).toEqual(['ready-for-agent']);
    expect(gh.writes()).toEqual([]);
    expect(result.stdout).toContain('failed  acme/api#1: start first-turn turn');
    expect(result.stdout).toContain('orchestration_dispatch_failed');
    expect(result.stdout).toContain('skipped acme/api#1: write the afk comment');
  });

  it('does not send runtimeMode auto to a T3 version that lacks it, and says why', async () => {
    t3 = createT3Fake({ serverVersion: '0.0.29' });
    server.resetHandlers(...gh.handlers, ...t3.handlers);
    ready('acme/api', 1);
    const config = armedConfig({ t3: { url: 'http://t3.test', runtimeMode: 'auto' } });

    const result = await runCli(['poll', '--config', writeConfig(config)]);

    expect(result.code).toBe(1);
    expect(commandTypes(t3)).toEqual([`project.create ${projectIdFor('acme/api')}`]);
    expect(result.stdout).toContain(
      't3: POST /api/orchestration/dispatch (thread.create): not sent: runtimeMode auto needs T3 0.0.30 or later; this server is 0.0.29; set t3.runtimeMode to another mode or upgrade T3',
    );
    expect(gh.issue('acme/api', 1).labels).toEqual(['ready-for-agent']);
    expect(gh.writes()).toEqual([]);
  });

  it('says a T3 server without the HTTP orchestration API does not serve it, and exits 3', async () => {
    ready('acme/api', 1);
    t3.failNext({ path: '/api/orchestration/snapshot' }, { status: 404 });

    const result = await runCli(['poll', '--config', writeConfig(armedConfig())]);

    expect(result.code).toBe(3);
    expect(`${result.stdout}${result.stderr}`).toContain(
      `t3: GET /api/orchestration/snapshot: 404 this server does not serve the HTTP orchestration API (T3's "orchestration v2" moves it)`,
    );
    expect(t3.writes()).toEqual([]);
  });

  // A tick that dies after each step, then a clean tick: the same end state every time.
  it.each([
    ['the project', (t: T3Fake) => t.failNext({ commandType: 'thread.create' }, 'network-error')],
    [
      'the thread',
      (t: T3Fake) => t.failNext({ commandType: 'thread.turn.start' }, 'network-error'),
    ],
    [
      'the turn',
      (_t: T3Fake, g: ForgeFake) =>
        g.failNext({ method: 'POST', path: /\/comments$/ }, 'network-error'),
    ],
    [
      'the comment',
      (_t: T3Fake, g: ForgeFake) =>
        g.failNext({ method: 'POST', path: /\/labels$/ }, 'network-error'),
    ],
    [
      'the lock label',
      (_t: T3Fake, g: ForgeFake) =>
        g.failNext({ method: 'DELETE', path: /\/labels\// }, 'network-error'),
    ],
    ['the whole dispatch', () => undefined],
  ])(
    'finishes a dispatch whose tick died after %s, without a second thread, turn or comment',
    async (_step, crash) => {
      ready('acme/api', 1);
      const config = writeConfig(armedConfig());
      crash(t3, gh);
      await runCli(['poll', '--config', config]);
      gh.clearFailures();
      const clean = await runCli(['poll', '--config', config]);

      expect(clean.code, clean.stdout).toBe(0);
      const threadId = threadIdFor({ repo: 'acme/api', number: 1 }, 1);
      expect([...t3.state.threads.keys()]).toEqual([threadId]);
      expect(t3.commands.filter((c) => c.command['type'] === 'thread.turn.start')).toHaveLength(1);
      expect(
        t3.state.threads.get(threadId)?.messages.filter((m) => m.role === 'user'),
      ).toHaveLength(1);
      expect(afkComments('acme/api', 1)).toHaveLength(1);
      expect(gh.issue('acme/api', 1).labels).toEqual(['agent-in-progress']);

      // And a third tick finds nothing left to do.
      const writesBefore = gh.writes().length + t3.writes().length;
      const idle = await runCli(['poll', '--config', config]);
      expect(idle.code).toBe(0);
      expect(gh.writes().length + t3.writes().length).toBe(writesBefore);
    },
  );

  it('prints in a dry run the plan the real run then executes, and writes nothing', async () => {
    ready('acme/api', 1, { labels: ['P2'] });
    ready('acme/web', 2);
    const config = writeConfig(armedConfig({ dispatch: { maxDispatchesPerTick: 2 } }));

    const dry = await runCli(['poll', '--config', config, '--dry-run', '--output', 'json']);
    expect(dry.code).toBe(0);
    expect(seen.filter((s) => !isRead(s))).toEqual([]);
    expect(dry.json).toMatchObject({
      command: 'poll',
      dryRun: true,
      dispatched: ['acme/api#1', 'acme/web#2'],
    });

    const live = await runCli(['poll', '--config', config, '--output', 'json']);
    expect(live.code).toBe(0);
    expect(live.json?.['plan']).toEqual(dry.json?.['plan']);
    expect(
      (live.json?.['results'] as Array<{ status: string }>).every((r) => r.status === 'done'),
    ).toBe(true);
  });

  it('previews with the kill switch on: the armed dry run’s reads and plan, said to be disarmed', async () => {
    ready('acme/api', 1, { labels: ['P2'] });
    ready('acme/web', 2);
    const armed = armedConfig({ dispatch: { maxDispatchesPerTick: 2 } });
    const disarmed = writeConfig({ ...armed, killSwitch: true });

    const preview = await runCli(['poll', '--config', disarmed, '--dry-run', '--output', 'json']);
    expect(preview.code, preview.stderr).toBe(0);
    const previewRequests = seen.splice(0).sort();
    expect(previewRequests).toEqual(expectedPreviewRequests[forge.kind].sort());
    expect(preview.json).toMatchObject({
      command: 'poll',
      dryRun: true,
      killSwitch: true,
      exitCode: 0,
      dispatched: ['acme/api#1', 'acme/web#2'],
    });
    expect(preview.stderr).toContain('poll: kill switch is on: a dry run previews');

    const dry = await runCli([
      'poll',
      '--config',
      writeConfig(armed),
      '--dry-run',
      '--output',
      'json',
    ]);
    expect(seen.splice(0).sort()).toEqual(previewRequests);
    expect(dry.json?.['killSwitch']).toBe(false);
    expect(preview.json?.['plan']).toEqual(dry.json?.['plan']);
    expect((preview.json?.['plan'] as unknown[]).length).toBeGreaterThan(0);
    expect(gh.writes()).toEqual([]);
    expect(t3.writes()).toEqual([]);
  });

  it('says in a readable preview that the kill switch is on', async () => {
    ready('acme/api', 1);
    const result = await runCli(['poll', '--config', writeConfig(armedConfig()), '--dry-run'], {
      env: { AFK_KILL_SWITCH: 'true' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^poll: dry run, nothing is written\nkill switch is on: a live tick would do nothing \(killSwitch \/ AFK_KILL_SWITCH\)\nplan:\n {2}1\. acme\/api#1: create T3 project /,
    );
    expect(result.stdout).toContain('poll: would dispatch 1 (acme/api#1); 0 waiting; 0 failed');
    expect(seen.filter((s) => !isRead(s))).toEqual([]);
  });

  it('prints a readable plan in a dry run', async () => {
    ready('acme/api', 1);
    const result = await runCli(['poll', '--config', writeConfig(armedConfig()), '--dry-run']);
    expect(result.stdout).toMatch(
      /^poll: dry run, nothing is written\nplan:\n {2}1\. acme\/api#1: create T3 project /,
    );
    expect(result.stdout).toContain('  6. acme/api#1: remove label(s) ready-for-agent');
    expect(result.stdout).toContain('poll: would dispatch 1 (acme/api#1); 0 waiting; 0 failed');
  });

  it('does not dispatch an issue labelled by a user without write access, and says why', async () => {
    ready('acme/api', 1, { by: 'drive-by' });
    ready('acme/web', 2, { by: 'stranger' });

    const result = await runCli([
      'poll',
      '--config',
      writeConfig(armedConfig({ dispatch: { maxDispatchesPerTick: 2 } })),
      '--output',
      'json',
    ]);

    expect(result.code).toBe(0);
    expect(t3.writes()).toEqual([]);
    expect(gh.writes()).toEqual([]);
    expect(result.json?.['waiting']).toEqual([
      {
        issue: 'acme/api#1',
        reason: 'untrusted-labeler',
        detail: 'drive-by applied the ready label with read permission; write is required',
      },
      {
        issue: 'acme/web#2',
        reason: 'untrusted-labeler',
        detail: 'stranger applied the ready label with none permission; write is required',
      },
    ]);
  });

  it('skips an issue whose labeler cannot be checked, and exits 1', async () => {
    ready('acme/api', 1);
    gh.failNext(
      // The labeler's events: GitHub's /events, Forgejo's /timeline.
      { method: 'GET', path: /\/(events|timeline)$/ },
      { status: 502, body: { message: 'Bad Gateway' } },
      10,
    );

    const result = await runCli([
      'poll',
      '--config',
      writeConfig(armedConfig()),
      '--output',
      'json',
    ]);

    expect(result.code).toBe(1);
    expect(t3.writes()).toEqual([]);
    expect(result.json?.['waiting']).toEqual([
      expect.objectContaining({ issue: 'acme/api#1', reason: 'trust-check-failed' }),
    ]);
  });

  it('repairs a half-swapped label pair left by a dead tick', async () => {
    gh.addIssue('acme/api', {
      number: 4,
      title: 'x',
      labels: ['agent-in-progress', 'ready-for-agent'],
    });
    const result = await runCli(['poll', '--config', writeConfig(armedConfig())]);
    expect(result.code).toBe(0);
    expect(ghWrites()).toEqual([unlabel('acme/api', 4, 'ready-for-agent')]);
    expect(t3.writes()).toEqual([]);
  });

  it('serves the other repos when one cannot be read (404), names it, and exits 1', async () => {
    ready('acme/api', 1);

    const result = await runCli(['poll', '--config', writeConfig(armedConfig())], {
      env: { AFK_REPOS: 'acme/api,acme/ghost' },
    });

    expect(result.code, result.stdout).toBe(1);
    const api1 = threadIdFor({ repo: 'acme/api', number: 1 }, 1);
    expect(commandTypes(t3)).toEqual([
      `project.create ${projectIdFor('acme/api')}`,
      `thread.create ${api1}`,
      `thread.turn.start ${api1}`,
    ]);
    expect(ghWrites()).toEqual([
      'POST /repos/acme/api/issues/1/comments',
      'POST /repos/acme/api/issues/1/labels',
      unlabel('acme/api', 1, 'ready-for-agent'),
    ]);
    // The unknown repo's listings, refused, and nothing else of it.
    const reads = readsOf(gh);
    if (forge.kind === 'github') {
      const repos = repoVariables('acme/api', 'acme/ghost');
      expect(reads.sort()).toEqual(
        [
          graphqlRead('AfkQueueCounts', { ...queueLabels, ...repos }),
          graphqlRead('AfkQueues', {
            ready: queueLabels.ready,
            ...repoVariables('acme/api'),
            readyFirst0: 1,
            readyAfter0: null,
          }),
          '/repos/acme/api/issues/1/events?per_page=100',
          '/repos/acme/api/collaborators/maintainer/permission',
          '/user',
          graphqlRead('AfkRuns', { ...repoVariables('acme/api'), i0: 1 }),
          '/repos/acme/api/issues/1/comments?per_page=100',
        ].sort(),
      );
    } else {
      const listings = expectedDispatchReads[forge.kind].filter((r) => r.includes('/issues?'));
      const ghost = listings
        .filter((r) => r.startsWith('/repos/acme/web/'))
        .map((r) => r.replace('/acme/web/', '/acme/ghost/'));
      const api = expectedDispatchReads[forge.kind]
        .filter((r) => !r.includes('/acme/web/'))
        .map((r) => r.replace('/issues/2/', '/issues/1/'));
      expect(reads.sort()).toEqual([...api, ...ghost].sort());
    }
    expect(result.stdout).toContain(
      `failed  acme/ghost: cannot list its issues, left out of this tick: tracker: ${forge.listing.request('acme/ghost')}: ${forge.listing.unknownRepo}`,
    );
    expect(result.stdout).toContain('poll: dispatched 1 (acme/api#1); 0 waiting; 1 failed');
  });

  it('counts the live runs of a repo it cannot read as full, so the global cap holds', async () => {
    ready('acme/api', 1, { createdAt: '2026-11-01T00:00:00Z' });
    ready('acme/web', 2, { createdAt: '2026-11-02T00:00:00Z' });
    const config = armedConfig({
      repos: ['acme/api', 'acme/web', 'acme/ghost'],
      dispatch: { maxConcurrentRuns: 2, maxRunsPerRepo: 1, maxDispatchesPerTick: 2 },
    });

    const result = await runCli(['poll', '--config', writeConfig(config), '--output', 'json']);

    expect(result.code).toBe(1);
    expect(result.json?.['dispatched']).toEqual(['acme/api#1']);
    expect(result.json?.['waiting']).toEqual([
      {
        issue: 'acme/web#2',
        reason: 'global-cap',
        detail: '2 of 2 runs live (1 of them assumed: acme/ghost could not be read)',
      },
    ]);
    expect(result.json?.['failures']).toEqual([
      {
        issue: null,
        repo: 'acme/ghost',
        error: expect.stringMatching(
          `^cannot list its issues, left out of this tick: tracker: ${escape(forge.listing.request('acme/ghost'))}: ${forge.listing.unknownRepo}`,
        ) as unknown,
      },
    ]);
    expect(gh.issue('acme/web', 2).labels).toEqual(['ready-for-agent']);
  });

  it('exits 3 and writes nothing when no repo can be listed', async () => {
    ready('acme/api', 1);
    for (const repo of ['acme/api', 'acme/web']) {
      gh.failNext(forge.listing.match(repo), { status: 401, body: { message: 'Bad credentials' } });
    }

    const result = await runCli(['poll', '--config', writeConfig(armedConfig())]);

    expect(result.code).toBe(3);
    expect(t3.writes()).toEqual([]);
    expect(gh.writes()).toEqual([]);
    for (const repo of ['acme/api', 'acme/web']) {
      expect(result.stdout).toContain(
        `failed  ${repo}: cannot list its issues, left out of this tick: tracker: ${forge.listing.request(repo)}: 401 auth`,
      );
    }
    expect(result.stdout).toMatch(
      /\npoll: stopped, cannot list issues in any repo \(2 unreadable\)\n$/,
    );
  });

  it('groups a long queue by why it waits, lists each with --verbose, and all in JSON', async () => {
    for (let n = 1; n <= 300; n += 1) {
      const repo = n <= 150 ? 'acme/api' : 'acme/web';
      const labels = n % 30 === 0 ? ['ready-for-human'] : [];
      ready(repo, n, { labels, createdAt: `2026-10-01T00:${String(n % 60).padStart(2, '0')}:00Z` });
    }
    const config = writeConfig(armedConfig({ dispatch: { maxDispatchesPerTick: 2 } }));

    const grouped = await runCli(['poll', '--config', config, '--dry-run']);
    expect(grouped.code, grouped.stdout).toBe(0);
    // The plan (two dispatches of six steps), one line per reason, the summary.
    const lines = grouped.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(19);
    expect(lines.slice(14)).toEqual([
      'waiting 298 (--verbose lists each):',
      '  needs-human 10: acme/api#150, acme/api#90, acme/api#30 and 7 more (it carries ready-for-human: remove that label to re-queue)',
      '  repo-busy 2: acme/api#61, acme/api#121 (1 of 1 runs live in acme/api)',
      '  tick-cap 286: acme/web#241, acme/api#2, acme/api#62 and 283 more (2 dispatch(es) per tick)',
      'poll: would dispatch 2 (acme/api#1, acme/web#181); 298 waiting; 0 failed',
    ]);

    const verbose = await runCli(['poll', '--config', config, '--dry-run', '--verbose']);
    const each = verbose.stdout.split('\n').filter((l) => /^waiting acme\/\w+#\d+: /.test(l));
    expect(each).toHaveLength(298);
    expect(each).toContain(
      'waiting acme/web#300: needs-human (it carries ready-for-human: remove that label to re-queue)',
    );

    const json = await runCli(['poll', '--config', config, '--dry-run', '--output', 'json']);
    expect(json.json?.['waiting']).toHaveLength(298);
  });

  it('exits 3 when the T3 snapshot cannot be read, before any write', async () => {
    ready('acme/api', 1);
    t3.failNext(
      { path: '/api/orchestration/snapshot' },
      {
        status: 401,
        body: {
          _tag: 'EnvironmentAuthInvalidError',
          code: 'auth_invalid',
          reason: 'invalid_credential',
          traceId: 't',
        },
      },
      10,
    );

    const result = await runCli(['poll', '--config', writeConfig(armedConfig())]);

    expect(result.code).toBe(3);
    expect(gh.writes()).toEqual([]);
    expect(t3.writes()).toEqual([]);
  });

  it('narrows a run to one repo with --repo', async () => {
    ready('acme/api', 1);
    ready('acme/web', 2);
    await runCli([
      'poll',
      '--config',
      writeConfig(armedConfig({ dispatch: { maxDispatchesPerTick: 2 } })),
      '--repo',
      'acme/web',
    ]);
    expect(seen.some((s) => s.includes('/repos/acme/api/'))).toBe(false);
    expect(gh.issue('acme/web', 2).labels).toEqual(['agent-in-progress']);
  });

  it('refuses --repo outside the allowlist', async () => {
    const result = await runCli([
      'poll',
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

describe.each(forges)('afk poll as it runs, and when it is stopped, on $kind', (forge) => {
  beforeEach(() => useForge(forge));
  const thread = threadIdFor({ repo: 'acme/api', number: 1 }, 1);
  const logLines = (stderr: string) =>
    stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('logs each step as it ends, with its result and time', async () => {
    ready('acme/api', 1);
    const result = await runCli(['poll', '--config', writeConfig(armedConfig())]);

    expect(result.code, result.stderr).toBe(0);
    const steps = logLines(result.stderr).filter((l) => l['action'] !== undefined);
    expect(steps.map((l) => [l['level'], l['issue'], l['action'], l['result']])).toEqual([
      ['info', 'acme/api#1', 'ensureProject', 'done'],
      ['info', 'acme/api#1', 'createThread', 'done'],
      ['info', 'acme/api#1', 'startTurn', 'done'],
      ['info', 'acme/api#1', 'upsertChecklist', 'done'],
      ['info', 'acme/api#1', 'addLabels', 'done'],
      ['info', 'acme/api#1', 'removeLabels', 'done'],
    ]);
    for (const line of steps) {
      expect(line['ms']).toEqual(expect.any(Number));
      expect(line['msg']).toMatch(/^acme\/api#1: .+: done in \d+ ms$/);
    }
  });

  it('logs one line per HTTP request at debug, and none at info', async () => {
    ready('acme/api', 1);
    const config = writeConfig(armedConfig());
    const info = await runCli(['poll', '--config', config]);
    expect(logLines(info.stderr).filter((l) => l['http'] !== undefined)).toEqual([]);

    useForge(forge);
    ready('acme/api', 1);
    const debug = await runCli(['poll', '--config', config], {
      env: { AFK_LOG_LEVEL: 'debug' },
    });
    expect(debug.code, debug.stderr).toBe(0);
    const lines = logLines(debug.stderr).filter((l) => l['http'] !== undefined);
    const sent = seen.map((request) => {
      const [method, url] = request.split(' ') as [string, string];
      const { host, pathname } = new URL(url);
      return `${method} ${host} ${pathname}`;
    });
    expect(sent.length).toBeGreaterThan(10);
    // Each line is written as its request ends, and concurrent reads end in any order.
    const logged = lines.map((l) => String(l['msg']));
    expect(logged.map((msg) => msg.replace(/ \d{3} \d+ ms$/, '')).sort()).toEqual(sent.sort());
    for (const msg of logged) expect(msg).toMatch(/ \d{3} \d+ ms$/);
    for (const line of lines) {
      expect(line['level']).toBe('debug');
      expect(Object.keys(line['http'] as object).sort()).toEqual(
        ['host', 'method', 'ms', 'path', 'status'].sort(),
      );
    }
    expect(debug.stderr).not.toContain('?');
  });

  it('shows each step, failure and summary once when stdout and stderr are one terminal', async () => {
    ready('acme/api', 1);
    t3.failNext(
      { commandType: 'thread.turn.start' },
      { status: 400, body: { code: 'invalid_request', reason: 'invalid_command', traceId: 't' } },
    );
    const result = await runCli(['poll', '--config', writeConfig(armedConfig())], { tty: true });

    expect(result.code).toBe(1);
    const screen = result.stderr + result.stdout;
    const count = (text: string) => screen.split(text).length - 1;
    expect(count('invalid_command')).toBe(1);
    expect(count('poll: dispatched 0; 0 waiting; 1 failed')).toBe(1);
    expect(count('create thread')).toBe(1);
    expect(result.stdout).toContain('poll: dispatched 0; 0 waiting; 1 failed');
  });

  it('shows the read it stopped at once: in the summary, not again as a failed line', async () => {
    ready('acme/api', 1);
    t3.failNext({ path: '/api/orchestration/snapshot' }, { status: 503 }, 10);
    const config = writeConfig(armedConfig());

    const result = await runCli(['poll', '--config', config], { tty: true });

    expect(result.code).toBe(3);
    const screen = result.stderr + result.stdout;
    expect(screen.split('GET /api/orchestration/snapshot: 503').length - 1).toBe(1);
    expect(result.stdout).toMatch(
      /^poll: stopped, cannot read what a dispatch needs: t3: GET \/api\/orchestration\/snapshot: 503/m,
    );
    const json = await runCli(['poll', '--config', config, '--output', 'json']);
    expect(json.json?.['failures']).toEqual([
      {
        issue: null,
        error: expect.stringContaining('GET /api/orchestration/snapshot: 503') as unknown,
      },
    ]);
  });

  it('stops at SIGTERM after the step in flight, exits 143, and the next tick finishes with no duplicate', async () => {
    ready('acme/api', 1);
    const config = writeConfig(armedConfig());
    const signals = fakeSignals();
    // The signal arrives while the thread is being created.
    server.use(
      http.post(`${T3_URL}/api/orchestration/dispatch`, async ({ request }) => {
        const body = (await request.clone().json()) as { type: string };
        if (body.type === 'thread.create') signals.emit('SIGTERM');
      }),
    );

    const stopped = await runCli(['poll', '--config', config], { runtime: { signals } });

    expect(stopped.code, stopped.stderr).toBe(143);
    expect(signals.exits).toEqual([]);
    expect(commandTypes(t3)).toEqual([
      `project.create ${projectIdFor('acme/api')}`,
      `thread.create ${thread}`,
    ]);
    expect(gh.writes()).toEqual([]);
    expect(stopped.stdout).toMatch(/^done +acme\/api#1: create thread/m);
    expect(stopped.stdout).toMatch(
      /^skipped acme\/api#1: start first-turn turn.*: stopped by SIGTERM$/m,
    );
    expect(stopped.stdout).toMatch(
      /^skipped acme\/api#1: write the afk comment.*: stopped by SIGTERM$/m,
    );
    expect(stopped.stdout).toContain(
      'poll: dispatched 0; 0 waiting; 0 failed; 4 not started (stopped by SIGTERM)',
    );
    expect(stopped.stderr).toContain('stopped by SIGTERM: no new step starts');

    server.resetHandlers(...gh.handlers, ...t3.handlers);
    const next = await runCli(['poll', '--config', config]);
    expect(next.code, next.stdout).toBe(0);
    expect([...t3.state.threads.keys()]).toEqual([thread]);
    expect(t3.commands.filter((c) => c.command['type'] === 'thread.create')).toHaveLength(1);
    expect(t3.commands.filter((c) => c.command['type'] === 'thread.turn.start')).toHaveLength(1);
    expect(afkComments('acme/api', 1)).toHaveLength(1);
    expect(gh.issue('acme/api', 1).labels).toEqual(['agent-in-progress']);
  });

  it('says a signal, not the tracker, stopped a tick still reading its repos', async () => {
    ready('acme/api', 1);
    const signals = fakeSignals();
    // The listing does not answer; the signal arrives while it hangs, and the grace ends it.
    const listing = under.listing.match('acme/api');
    gh.failNext(listing, 'timeout');
    const method = listing.method === 'POST' ? http.post : http.get;
    server.use(
      method(`${under.tracker.apiUrl}${String(listing.path)}`, () => {
        signals.emit('SIGTERM');
      }),
    );

    const result = await runCli(
      ['poll', '--config', writeConfig(armedConfig({ repos: ['acme/api'] }))],
      { runtime: { signals, graceMs: 50 } },
    );

    expect(result.code, result.stderr).toBe(143);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(
      'poll: stopped, cannot list issues in any repo (1 unreadable); stopped by SIGTERM',
    );
    expect(gh.writes()).toEqual([]);
    expect(t3.requests).toEqual([]);
  });

  it('exits 130 on SIGINT, and at once on a second signal', async () => {
    ready('acme/api', 1);
    const signals = fakeSignals();
    server.use(
      http.post(`${T3_URL}/api/orchestration/dispatch`, async ({ request }) => {
        const body = (await request.clone().json()) as { type: string };
        if (body.type === 'thread.create') {
          signals.emit('SIGINT');
          signals.emit('SIGINT');
        }
      }),
    );
    const result = await runCli(['poll', '--config', writeConfig(armedConfig())], {
      runtime: { signals },
    });
    expect(signals.exits).toEqual([130]);
    expect(result.code).toBe(130);
  });

  it('aborts a step still in flight after the grace once its budget is spent, and exits 1', async () => {
    ready('acme/api', 1);
    t3.failNext({ commandType: 'thread.create' }, 'timeout');
    const started = Date.now();
    const result = await runCli(
      ['poll', '--config', writeConfig(armedConfig({ tick: { budgetSeconds: 1 } }))],
      { runtime: { graceMs: 50 } },
    );

    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^failed +acme\/api#1: create thread.*aborted/m);
    const budget = "stopped by the tick's time budget (1 s)";
    expect(result.stdout).toContain(`skipped acme/api#1: write the afk comment`);
    expect(result.stdout).toContain(`1 failed; 4 not started (${budget})`);
    expect(gh.writes()).toEqual([]);
  });
});

describe('afk poll gates', () => {
  it.each([
    ['the embedded default', undefined, {}, 'kill switch is on'],
    [
      'the kill switch in the file',
      { ...armedConfig(), killSwitch: true },
      {},
      'kill switch is on',
    ],
    [
      'AFK_KILL_SWITCH over an armed file',
      armedConfig(),
      { AFK_KILL_SWITCH: 'true' },
      'kill switch is on',
    ],
    ['an empty allowlist', { ...armedConfig(), repos: [] }, {}, 'no repos are allow-listed'],
    [
      'an empty AFK_REPOS over an armed file',
      armedConfig(),
      { AFK_REPOS: '' },
      'no repos are allow-listed',
    ],
    // A dry run previews past the kill switch, never past the allowlist.
    [
      'a dry run with the kill switch on and no repos',
      { ...armedConfig(), killSwitch: true, repos: [] },
      {},
      'no repos are allow-listed',
      ['--dry-run'],
    ],
    [
      'a dry run of the embedded default',
      undefined,
      {},
      'no repos are allow-listed',
      ['--dry-run'],
    ],
  ])(
    'exits 0 with one log line and zero requests under %s',
    async (_name, config, env, reason, flags: string[] = []) => {
      ready('acme/api', 1);
      const args = config === undefined ? ['poll'] : ['poll', '--config', writeConfig(config)];
      const result = await runCli([...args, ...flags], { env });
      expect(result.code).toBe(0);
      expect(seen).toEqual([]);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(reason);
    },
  );
});

describe('afk poll configuration errors', () => {
  it('exits 2 listing every bad key', async () => {
    const config = writeConfig({
      killSwitch: 'off',
      repos: ['acme'],
      dispatch: { maxConcurrentRuns: 0, maxPerTick: 3 },
      t3: { runtimeMode: 'yolo' },
    });
    const result = await runCli(['poll', '--config', config]);
    expect(result.code).toBe(2);
    for (const problem of [
      'killSwitch: Invalid input: expected boolean, received string',
      'repos.0: expected \\"owner/name\\"',
      'dispatch.maxConcurrentRuns: Too small: expected number to be >=1',
      'dispatch.maxPerTick: unknown key',
      't3.runtimeMode: Invalid option',
    ]) {
      expect(result.stderr).toContain(problem);
    }
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(seen).toEqual([]);
  });

  it.each([
    [
      'a missing --config file',
      ['--config', '/nonexistent/afk.yaml'],
      {},
      '--config: no such file: /nonexistent/afk.yaml',
    ],
    [
      'a missing AFK_CONFIG file',
      [],
      { AFK_CONFIG: '/nonexistent/afk.yaml' },
      'AFK_CONFIG: no such file: /nonexistent/afk.yaml',
    ],
    ['broken YAML', ['--config', writeConfig('repos: [a/b\nkillSwitch: false')], {}, '(yaml) line'],
    [
      'a bad AFK_KILL_SWITCH',
      [],
      { AFK_KILL_SWITCH: 'yes' },
      'AFK_KILL_SWITCH: expected \\"true\\" or \\"false\\"',
    ],
    ['an unknown option', ['--frobnicate'], {}, "unknown option '--frobnicate'"],
    ['a bad --output', ['--output', 'xml'], {}, "argument 'xml' is invalid"],
  ])('exits 2 on %s', async (_name, args, env, message) => {
    const result = await runCli(['poll', ...args], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(seen).toEqual([]);
  });

  it('blames the environment, not the file, for a bad variable', async () => {
    const config = writeConfig(armedConfig());
    const result = await runCli(['poll', '--config', config], {
      env: { AFK_KILL_SWITCH: 'maybe' },
    });
    expect(result.code).toBe(2);
    const line = JSON.parse(result.stderr) as { msg: string; problems: string[] };
    expect(line.problems).toEqual(['AFK_KILL_SWITCH: expected "true" or "false", got "maybe"']);
    expect(line.msg).toMatch(/^invalid configuration in the environment:/);
    expect(result.stderr).not.toContain(config);
    expect(seen).toEqual([]);
  });

  it('exits 2 naming the missing token, before any request', async () => {
    ready('acme/api', 1);
    const result = await runCli(['poll', '--config', writeConfig(armedConfig())], {
      env: { AFK_TRACKER_TOKEN: '', GITHUB_TOKEN: '' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tracker.tokenFile: no tracker token configured');
  });
});
