import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { commandIdFor, parseChecklist, threadIdFor, type RunRecord } from '../../src/core/index.js';
import type { ForgeFake, ForgeKind } from '../../emulators/forge.js';
import type { GitHubFake } from '../../emulators/github.js';
import { createSlackFake, type SlackFake } from '../../emulators/slack.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { useMswServer } from '../support/msw.js';
import { armedConfig, runCli, T3_URL, writeConfig, type CliResult } from '../support/cli.js';
import { fakeSignals } from '../support/signals.js';
import {
  forges,
  github,
  graphqlRead,
  loginIssue,
  readLine,
  repoVariables,
  type ForgeUnderTest,
} from '../support/forges.js';

const SLACK_URL = 'https://hooks.slack.test/services/T000/B000/XXXX';
const HEAD = '1'.repeat(40);
const HEAD2 = '2'.repeat(40);
const HEAD3 = '3'.repeat(40);
const MERGE = '4'.repeat(40);
const ISSUE = { repo: 'acme/api', number: 1 };
const THREAD = threadIdFor(ISSUE, 1);

const { server, seen } = useMswServer();
/** A GET, or a GitHub GraphQL query (a dry run's fetch refuses any other POST to /graphql). */
const isRead = (seen: string) => seen.startsWith('GET ') || /^POST \S+\/graphql$/.test(seen);

let clock: Date;
let gh: ForgeFake;
let t3: T3Fake;
let slack: SlackFake;
let configFile: string;
/** The doorbell's wiring for the ticks: the webhook in the environment unless a test says not. */
let doorbellEnv: Record<string, string>;

function setup(
  forge: ForgeUnderTest,
  options: { serverVersion?: string; config?: Record<string, unknown> } = {},
) {
  seen.length = 0;
  clock = new Date('2026-11-21T08:00:00.000Z');
  gh = forge.create({ now: () => clock });
  t3 = createT3Fake({
    clock: () => clock,
    ...(options.serverVersion === undefined ? {} : { serverVersion: options.serverVersion }),
  });
  slack = createSlackFake();
  server.resetHandlers(...gh.handlers, ...t3.handlers, ...slack.handlers);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write', reader: 'read' } });
  gh.addRepo('acme/web');
  gh.pushCommit('acme/api', 'main', '0'.repeat(40));
  gh.addIssue('acme/api', loginIssue());
  configFile = writeConfig(armedConfig({ tracker: forge.tracker, ...options.config }));
  doorbellEnv = { AFK_SLACK_WEBHOOK_URL: SLACK_URL };
}

const advance = (minutes = 1) => {
  clock = new Date(clock.getTime() + minutes * 60_000);
};
const tick = async (command: 'poll' | 'watch', ...args: string[]): Promise<CliResult> => {
  advance();
  return runCli([command, '--config', configFile, '--output', 'json', ...args], {
    now: clock,
    env: doorbellEnv,
  });
};
const afkComments = () => gh.issue('acme/api', 1).comments.filter((c) => c.author === 'afk-bot');
const record = (): RunRecord => {
  const [comment] = afkComments();
  const parsed = comment === undefined ? null : parseChecklist(comment.body);
  if (parsed === null || !parsed.ok) throw new Error('no afk record');
  return parsed.record;
};
const ticked = () => Object.keys(record().phases);
const decisions = (result: CliResult) =>
  (result.json?.['runs'] as Array<{ decision: { kind: string; reason?: string } }>).map((r) =>
    r.decision.kind === 'escalate' ? `escalate:${r.decision.reason}` : r.decision.kind,
  );
const turns = () => t3.commands.filter((c) => c.command['type'] === 'thread.turn.start');
const labels = () => gh.issue('acme/api', 1).labels.sort();

async function dispatch() {
  const polled = await tick('poll');
  expect(polled.code, polled.stdout).toBe(0);
  expect(labels()).toEqual(['agent-in-progress']);
}

/** The agent works test-first and pushes `sha`, opening its PR in pull-request mode. */
async function agentPushes(mode: 'pull-request' | 'trunk', sha: string) {
  t3.startProvider(THREAD);
  t3.say(THREAD, 'Wrote a failing test.\nAFK-PHASE: tests-red');
  let watched = await tick('watch');
  expect(decisions(watched)).toEqual(['wait']);
  expect(ticked()).toEqual(['dispatched', 'testsRed']);
  t3.say(THREAD, 'All tests pass.\nAFK-PHASE: green');
  watched = await tick('watch');
  expect(ticked()).toEqual(['dispatched', 'testsRed', 'green']);
  if (mode === 'pull-request') {
    gh.addPullRequest('acme/api', { head: 'afk/issue-1', headSha: sha, number: 12 });
  } else {
    gh.pushCommit('acme/api', 'main', sha);
  }
  t3.completeTurn(THREAD, `Pushed.\nAFK-PHASE: pushed ${sha}`);
}

/**
 * The watch tick that asks for review of PR #12, green on a head just pushed. GitHub has not
 * computed mergeability at its first read after a push (null): that tick waits, saying so,
 * and the next one asks. Forgejo answers at once.
 */
async function askForReview(): Promise<CliResult> {
  if (gh.kind === 'github') {
    const waited = await tick('watch');
    expect(decisions(waited)).toEqual(['wait']);
    expect(afkComments()[0]?.body).toContain(
      'Now: waiting for the forge to tell whether pull request #12 can merge (not computed yet)',
    );
  }
  return tick('watch');
}

/**
 * The watch tick that closes a merged run with no CI on its merge commit: one CI read, on the
 * merge commit (the head's green CI is in the record), then the close.
 */
const requestsOfAMergedRun: Record<ForgeKind, string[]> = {
  // GitHub reads in three GraphQL queries what Forgejo lists, reads and asks for over REST: how
  // many runs each repo holds, the runs, then the run's comments, PR and the CI of its head and
  // merge commit.
  github: [
    graphqlRead('AfkQueueCounts', {
      live: ['agent-in-progress'],
      human: ['ready-for-human'],
      ...repoVariables('acme/api', 'acme/web'),
    }),
    graphqlRead('AfkQueues', {
      live: ['agent-in-progress'],
      ...repoVariables('acme/api'),
      liveFirst0: 1,
      liveAfter0: null,
    }),
    'GET /user',
    graphqlRead('AfkRuns', { ...repoVariables('acme/api'), i0: 1, b0: 'afk/issue-1' }),
    'POST /repos/acme/api/issues/comments/:id/reactions',
    'GET /repos/acme/api/issues/comments/:id',
    'PATCH /repos/acme/api/issues/comments/:id',
    'PATCH /repos/acme/api/issues/1',
    'DELETE /repos/acme/api/issues/comments/:id/reactions/:id',
    'DELETE /repos/acme/api/issues/1/labels/agent-in-progress',
  ],
  forgejo: [
    'GET /repos/acme/api/issues?state=all&type=issues&labels=agent-in-progress&limit=50&page=1',
    'GET /repos/acme/api/issues?state=open&type=issues&labels=ready-for-human&limit=50&page=1',
    'GET /repos/acme/web/issues?state=all&type=issues&labels=agent-in-progress&limit=50&page=1',
    'GET /repos/acme/web/issues?state=open&type=issues&labels=ready-for-human&limit=50&page=1',
    'GET /user',
    'GET /repos/acme/api/issues/1/comments',
    'GET /repos/acme/api/pulls?state=all&limit=50&page=1',
    `GET /repos/acme/api/commits/${MERGE}/status?limit=50&page=1`,
    'POST /repos/acme/api/issues/comments/:id/reactions',
    'GET /repos/acme/api/issues/comments/:id',
    'PATCH /repos/acme/api/issues/comments/:id',
    'PATCH /repos/acme/api/issues/1',
    'DELETE /repos/acme/api/issues/comments/:id/reactions',
    'GET /repos/acme/api/labels?limit=50&page=1',
    'GET /orgs/acme/labels?limit=50&page=1',
    'DELETE /repos/acme/api/issues/1/labels/1002',
  ],
};

describe.each(forges)('afk watch on $kind', (forge) => {
  describe.each([
    ['T3 v0.0.32 (slim snapshot + thread route)', '0.0.32'],
    ['T3 v0.0.27 (full snapshot)', '0.0.27'],
  ])('afk watch lifecycle against %s', (_name, serverVersion) => {
    // Forgejo has no Deployments API: deploy evidence there is a commit status.
    const deployKinds = (
      forge.kind === 'github'
        ? ['none', 'github-deployment', 'commit-status']
        : ['none', 'commit-status']
    ) as Array<'none' | 'github-deployment' | 'commit-status'>;
    describe.each([['pull-request'], ['trunk']] as const)('in %s mode', (mode) => {
      it.each(deployKinds)(
        'follows a run from dispatch to closed with deploy kind %s',
        async (deployKind) => {
          setup(forge, {
            serverVersion,
            config: { delivery: { mode }, deploy: { kind: deployKind } },
          });
          await dispatch();

          let watched = await tick('watch');
          expect(watched.code, watched.stdout).toBe(0);
          expect(decisions(watched)).toEqual(['wait']);
          expect(ticked()).toEqual(['dispatched']);
          expect(afkComments()[0]?.body).toContain('Now: the agent is working');

          await agentPushes(mode, HEAD);
          watched = await tick('watch');
          expect(decisions(watched)).toEqual(['wait']);
          expect(ticked()).toEqual(['dispatched', 'testsRed', 'green', 'pushed']);
          expect(afkComments()[0]?.body).toContain('Now: CI has not started on 1111111');

          gh.setCi('acme/api', HEAD, 'test', 'running');
          watched = await tick('watch');
          expect(decisions(watched)).toEqual(['wait']);
          expect(afkComments()[0]?.body).toContain('Now: CI pending on 1111111');

          gh.setCi('acme/api', HEAD, 'test', 'success');
          let final = HEAD;
          if (mode === 'pull-request') {
            watched = await tick('watch');
            expect(decisions(watched)).toEqual(['review-requested']);
            expect(ticked()).toEqual(['dispatched', 'testsRed', 'green', 'pushed', 'ci']);
            expect(slack.messages).toHaveLength(1);
            expect(slack.messages[0]?.text).toContain('review requested');
            watched = await tick('watch');
            expect(decisions(watched)).toEqual(['wait']);
            expect(afkComments()[0]?.body).toContain('Now: awaiting review of pull request #12');
            expect(slack.messages).toHaveLength(1);

            // CI that runs on the default branch too: once it reports on the merge commit, it
            // is what the run waits for.
            gh.mergePullRequest('acme/api', 12, MERGE);
            gh.setCi('acme/api', MERGE, 'test', 'running');
            watched = await tick('watch');
            expect(decisions(watched)).toEqual(['wait']);
            expect(afkComments()[0]?.body).toContain('Now: CI pending on 4444444');
            gh.setCi('acme/api', MERGE, 'test', 'success');
            final = MERGE;
          }

          if (deployKind !== 'none') {
            watched = await tick('watch');
            expect(decisions(watched)).toEqual(['wait']);
            expect(afkComments()[0]?.body).toContain(
              `Now: waiting for the deploy of ${final.slice(0, 7)}`,
            );
            if (deployKind === 'github-deployment') {
              const github = gh as GitHubFake;
              const deployment = github.addDeployment('acme/api', {
                sha: final,
                environment: 'production',
              });
              github.addDeploymentStatus('acme/api', deployment, { state: 'in_progress' });
              watched = await tick('watch');
              expect(decisions(watched)).toEqual(['wait']);
              github.addDeploymentStatus('acme/api', deployment, { state: 'success' });
            } else {
              gh.addStatus('acme/api', final, { context: 'deploy/production', state: 'pending' });
              watched = await tick('watch');
              expect(decisions(watched)).toEqual(['wait']);
              gh.addStatus('acme/api', final, { context: 'deploy/production', state: 'success' });
            }
          }

          watched = await tick('watch');
          expect(watched.code, watched.stdout).toBe(0);
          expect(decisions(watched)).toEqual(['close']);
          expect(ticked()).toEqual(['dispatched', 'testsRed', 'green', 'pushed', 'ci', 'deployed']);
          expect(afkComments()).toHaveLength(1);
          expect(afkComments()[0]?.body).toContain('### afk: done (attempt 1)');
          expect(gh.issue('acme/api', 1).state).toBe('closed');
          expect(labels()).toEqual([]);
          expect(t3.state.threads.get(THREAD)?.archivedAt).not.toBeNull();
          expect(t3.state.threads.get(THREAD)?.session?.status).toBe('stopped');
          expect(turns()).toHaveLength(1);

          // The run is over: the next tick has nothing to watch.
          const writes = gh.writes().length + t3.writes().length;
          watched = await tick('watch');
          expect(watched.stdout).toContain('watch: no live runs');
          expect(gh.writes().length + t3.writes().length).toBe(writes);
        },
      );
    });
  });

  describe('afk watch after the merge', () => {
    /** The PR's head went green, afk asked for review, and a human merged it. */
    async function merge(config: Record<string, unknown> = {}) {
      setup(forge, { config });
      await dispatch();
      await agentPushes('pull-request', HEAD);
      gh.setCi('acme/api', HEAD, 'test', 'success');
      expect(decisions(await askForReview())).toEqual(['review-requested']);
      gh.mergePullRequest('acme/api', 12, MERGE);
    }
    const requestsSince = (from: number) =>
      gh.requests
        .slice(from)
        .map((r) =>
          r.path === '/graphql'
            ? readLine(r)
            : `${r.method} ${r.path.replace(/\/(comments|reactions)\/\d+/g, '/$1/:id')}${r.search}`,
        );

    it('closes a merged PR whose CI runs only on pull requests, with exactly these requests', async () => {
      await merge();
      const from = gh.requests.length;
      const watched = await tick('watch');

      expect(watched.code, watched.stdout).toBe(0);
      expect(decisions(watched)).toEqual(['close']);
      expect(requestsSince(from)).toEqual(requestsOfAMergedRun[forge.kind]);
      expect(record()).toMatchObject({ outcome: 'closed', ciGreen: { sha: HEAD } });
      expect(gh.issue('acme/api', 1).state).toBe('closed');
      expect(labels()).toEqual([]);
    });

    it('waits for CI pending on the merge commit, and fixes forward when it fails there', async () => {
      await merge();
      gh.setCi('acme/api', MERGE, 'test', 'running');
      let watched = await tick('watch');
      expect(decisions(watched)).toEqual(['wait']);
      expect(afkComments()[0]?.body).toContain('Now: CI pending on 4444444');

      gh.setCi('acme/api', MERGE, 'test', 'failure');
      watched = await tick('watch');
      expect(decisions(watched)).toEqual(['fix-forward']);
      expect(record()).toMatchObject({ fixForwardShas: [MERGE] });
    });

    it('judges a commit-status deploy on the merge commit, with no CI there', async () => {
      await merge({ deploy: { kind: 'commit-status' } });
      let watched = await tick('watch');
      expect(decisions(watched)).toEqual(['wait']);
      expect(afkComments()[0]?.body).toContain('Now: waiting for the deploy of 4444444');

      gh.addStatus('acme/api', MERGE, { context: 'deploy/production', state: 'success' });
      watched = await tick('watch');
      expect(decisions(watched)).toEqual(['close']);
    });
  });

  describe('afk watch fix-forward and escalation', () => {
    beforeEach(() => setup(forge));

    it('sends one corrective turn per failing commit, then escalates and rings the doorbell once', async () => {
      await dispatch();
      await agentPushes('pull-request', HEAD);
      gh.setCi('acme/api', HEAD, 'unit tests', 'failure', { summary: 'expected 200, got 401' });
      gh.setCi('acme/api', HEAD, 'lint', 'success');

      let watched = await tick('watch');
      expect(decisions(watched)).toEqual(['fix-forward']);
      expect(turns()).toHaveLength(2);
      const text = String((turns()[1]?.command['message'] as { text: string }).text);
      expect(text).toContain(`CI failed on commit ${HEAD}`);
      expect(text).toContain('unit tests: failure');
      expect(text).toContain('expected 200, got 401');
      expect(text).not.toContain('lint');
      expect(record()).toMatchObject({ fixForwards: 1, fixForwardShas: [HEAD] });

      // Further ticks on the same red commit send nothing more.
      watched = await tick('watch');
      expect(decisions(watched)).toEqual(['wait']);
      t3.startProvider(THREAD);
      watched = await tick('watch');
      t3.completeTurn(THREAD, 'Still looking.');
      watched = await tick('watch');
      expect(decisions(watched)).toEqual(['wait']);
      expect(turns()).toHaveLength(2);

      // A second red commit gets the second and last corrective turn.
      gh.pushCommit('acme/api', 'afk/issue-1', HEAD2);
      gh.setCi('acme/api', HEAD2, 'unit tests', 'failure');
      watched = await tick('watch');
      expect(decisions(watched)).toEqual(['fix-forward']);
      expect(turns()).toHaveLength(3);
      t3.startProvider(THREAD);
      t3.completeTurn(THREAD, `AFK-PHASE: pushed ${HEAD3}`);

      // A third red commit: out of fix-forwards.
      gh.pushCommit('acme/api', 'afk/issue-1', HEAD3);
      gh.setCi('acme/api', HEAD3, 'unit tests', 'failure');
      watched = await tick('watch');
      expect(decisions(watched)).toEqual(['escalate:fix-forward-exhausted']);
      expect(turns()).toHaveLength(3);
      expect(labels()).toEqual(['ready-for-human']);
      expect(afkComments()[0]?.body).toContain('### afk: needs a human (attempt 1)');
      expect(afkComments()[0]?.body).toContain(
        '**Escalated:** fix-forward-exhausted: CI still fails on 3333',
      );
      expect(slack.messages).toHaveLength(1);
      expect(slack.messages[0]?.text).toContain('acme/api#1 "Fix login": fix-forward-exhausted');
      expect(JSON.stringify(slack.messages[0]?.blocks)).toContain(THREAD);

      watched = await tick('watch');
      expect(watched.stdout).toContain('watch: no live runs');
      expect(slack.messages).toHaveLength(1);
    });

    it('starts a new attempt with a new thread when a human re-queues an escalated issue', async () => {
      await dispatch();
      t3.failProviderStart(THREAD, 'claude binary not found');
      const watched = await tick('watch');
      expect(decisions(watched)).toEqual(['escalate:agent-error']);
      expect(slack.messages).toHaveLength(1);

      gh.unlabelIssue('acme/api', 1, 'ready-for-human', 'maintainer');
      gh.labelIssue('acme/api', 1, 'ready-for-agent', 'maintainer');
      const polled = await tick('poll');
      expect(polled.code, polled.stdout).toBe(0);
      const second = threadIdFor(ISSUE, 2);
      expect(t3.state.threads.has(second)).toBe(true);
      expect(afkComments()).toHaveLength(1);
      expect(afkComments()[0]?.body).toContain('### afk: working on it (attempt 2)');
      expect(record()).toMatchObject({
        attempt: 2,
        threadId: second,
        history: [{ attempt: 1, outcome: 'escalated' }],
      });
      expect(labels()).toEqual(['agent-in-progress']);
    });

    it('escalates a phantom lock with no thread, once', async () => {
      gh.addIssue('acme/api', {
        number: 2,
        title: 'Locked by hand',
        labels: ['agent-in-progress'],
      });
      const watched = await tick('watch');
      expect(decisions(watched)).toEqual(['escalate:thread-missing']);
      expect(gh.issue('acme/api', 2).labels).toEqual(['ready-for-human']);
      expect(gh.issue('acme/api', 2).comments).toHaveLength(1);
      expect(slack.messages).toHaveLength(1);
      await tick('watch');
      expect(slack.messages).toHaveLength(1);
    });

    it('reports a failed doorbell and still hands the issue to a human', async () => {
      await dispatch();
      t3.failProviderStart(THREAD, 'boom');
      slack.failNext({ status: 404, body: 'no_service' });
      const watched = await tick('watch');
      expect(watched.code).toBe(1);
      expect(watched.stdout).not.toContain(SLACK_URL);
      expect(watched.stderr).not.toContain(SLACK_URL);
      expect(labels()).toEqual(['ready-for-human']);
    });
  });

  describe('afk watch with a doorbell that cannot ring', () => {
    type Result = { kind: string; status: string; description: string; error?: string };
    const results = (result: CliResult) => result.json?.['results'] as Result[];
    let labelWritesBefore = 0;
    /** The relabel requests since the dispatch. */
    const labelWrites = () =>
      gh
        .writes()
        .filter((r) => r.path.includes('/issues/1/labels'))
        .slice(labelWritesBefore);

    it('fails the escalation’s doorbell on a webhook file that is missing, holds the relabel, and rings once when it exists', async () => {
      const webhookFile = join(mkdtempSync(join(tmpdir(), 'afk-webhook-')), 'slack-webhook');
      setup(forge, { config: { notify: { slackWebhookUrlFile: webhookFile } } });
      doorbellEnv = {};
      await dispatch();
      labelWritesBefore = labelWrites().length;
      t3.failProviderStart(THREAD, 'claude binary not found');

      const failed = await tick('watch');
      expect(failed.code, failed.stdout).toBe(1);
      expect(decisions(failed)).toEqual(['escalate:agent-error']);
      const notify = results(failed).find((r) => r.kind === 'notify');
      expect(notify?.status).toBe('failed');
      expect(notify?.error).toBe(
        `notify.slackWebhookUrlFile: cannot read the Slack webhook URL file ${webhookFile} (ENOENT)`,
      );
      expect(results(failed).slice(-2)).toMatchObject([
        { kind: 'addLabels', status: 'skipped' },
        { kind: 'removeLabels', status: 'skipped' },
      ]);
      expect(failed.stdout).not.toMatch(/"status":"done"[^}]*ring the doorbell/);
      expect(labelWrites()).toEqual([]);
      expect(labels()).toEqual(['agent-in-progress']);
      expect(slack.requests).toEqual([]);
      expect(record().doorbell?.rungAt).toBeUndefined();

      writeFileSync(webhookFile, `${SLACK_URL}\n`);
      const rung = await tick('watch');
      expect(rung.code, rung.stdout).toBe(0);
      expect(results(rung).map((r) => `${r.kind} ${r.status}`)).toEqual([
        'notify done',
        'addLabels done',
        'removeLabels done',
      ]);
      expect(slack.messages).toHaveLength(1);
      expect(slack.messages[0]?.text).toContain('acme/api#1 "Fix login": agent-error');
      expect(labels()).toEqual(['ready-for-human']);
      expect(labelWrites().map((r) => r.method)).toEqual(['POST', 'DELETE']);
      expect(record().doorbell?.rungAt).toBe(clock.toISOString());

      const after = await tick('watch');
      expect(after.stdout).toContain('watch: no live runs');
      expect(slack.requests).toHaveLength(1);
    });

    it('escalates without a doorbell when none is configured: skipped, relabelled, exit 0', async () => {
      setup(forge);
      doorbellEnv = {};
      await dispatch();
      t3.failProviderStart(THREAD, 'claude binary not found');

      advance();
      const dry = await runCli(['watch', '--config', configFile, '--dry-run'], {
        now: clock,
        env: doorbellEnv,
      });
      expect(dry.code, dry.stdout).toBe(0);
      expect(dry.stdout).toContain(
        '3. acme/api#1: the doorbell (escalation): no doorbell configured',
      );

      const watched = await tick('watch');
      expect(watched.code, watched.stdout).toBe(0);
      expect(decisions(watched)).toEqual(['escalate:agent-error']);
      expect(results(watched).map((r) => `${r.kind} ${r.status}`)).toEqual([
        'upsertChecklist done',
        'stopSession done',
        'notify skipped',
        'addLabels done',
        'removeLabels done',
      ]);
      expect(results(watched)[2]).toMatchObject({
        description: 'acme/api#1: the doorbell (escalation): no doorbell configured',
      });
      expect(labels()).toEqual(['ready-for-human']);
      expect(slack.requests).toEqual([]);
      expect(record().doorbell?.rungAt).toBeUndefined();
      expect(watched.json?.['summary']).toBe('watch: 1 live run(s): 1 escalate; 0 failed');
    });

    it('gives the review notice no doorbell when none is configured, once, and never reports it again', async () => {
      setup(forge, { config: { delivery: { mode: 'pull-request' } } });
      doorbellEnv = {};
      await dispatch();
      await agentPushes('pull-request', HEAD);
      gh.setCi('acme/api', HEAD, 'test', 'success');

      const noticed = await askForReview();
      expect(noticed.code, noticed.stdout).toBe(0);
      expect(decisions(noticed)).toEqual(['review-requested']);
      expect(results(noticed).map((r) => `${r.kind} ${r.status}`)).toEqual([
        'upsertChecklist done',
        'notify skipped',
      ]);
      expect(results(noticed)[1]?.description).toBe(
        'acme/api#1: the doorbell (review-requested): no doorbell configured',
      );
      expect(record().reviewNotifiedAt).toBeUndefined();
      expect(afkComments()[0]?.body).toContain('Now: awaiting review of pull request #12');

      const writes = gh.writes().length;
      const again = await tick('watch');
      expect(again.code, again.stdout).toBe(0);
      expect(decisions(again)).toEqual(['wait']);
      expect(results(again)).toEqual([]);
      expect(gh.writes()).toHaveLength(writes);
      expect(slack.requests).toEqual([]);
    });
  });

  describe('afk watch carrying the pull request’s conversation to the agent', () => {
    const REVIEWER = 'maintainer';
    const reviewTurns = () => turns().filter((c) => turnText(c).startsWith('Review feedback'));
    const conflictTurns = () => turns().filter((c) => turnText(c).startsWith('Merge conflict'));
    const turnText = (c: { command: Record<string, unknown> }) =>
      (c.command['message'] as { text: string }).text;
    const userMessages = () =>
      (t3.state.threads.get(THREAD)?.messages ?? []).filter((m) => m.role === 'user');
    const requestsSince = (from: number) =>
      gh.requests
        .slice(from)
        .map((r) =>
          r.path === '/graphql'
            ? readLine(r)
            : `${r.method} ${r.path.replace(/\/(comments|reactions)\/\d+/g, '/$1/:id')}${r.search}`,
        );

    /** PR #12 green on HEAD and review asked (the notice rung): where reviewers come in. */
    async function awaitingReview(config: Record<string, unknown> = {}, serverVersion?: string) {
      setup(forge, {
        ...(serverVersion === undefined ? {} : { serverVersion }),
        config: { delivery: { mode: 'pull-request' }, ...config },
      });
      await dispatch();
      await agentPushes('pull-request', HEAD);
      gh.setCi('acme/api', HEAD, 'test', 'success');
      expect(decisions(await askForReview())).toEqual(['review-requested']);
      expect(slack.messages).toHaveLength(1);
    }

    /** The trusted reviewer requests a change on a line and says one more thing on the PR. */
    function reviewerAsks() {
      gh.addReview('acme/api', 12, {
        author: REVIEWER,
        state: 'changes-requested',
        body: 'Handle the empty password.',
        comments: [{ path: 'src/login.ts', line: 42, body: 'This throws on "".' }],
      });
      gh.addPullComment('acme/api', 12, REVIEWER, 'Also log the failure.');
    }

    /** The agent runs the turn afk sent and pushes `sha`, which goes green. */
    function agentAddresses(sha: string) {
      t3.startProvider(THREAD);
      t3.completeTurn(THREAD, `Addressed.\nAFK-PHASE: pushed ${sha}`);
      gh.pushCommit('acme/api', 'afk/issue-1', sha);
      gh.setCi('acme/api', sha, 'test', 'success');
    }

    /** The reads of a tick that finds the review on a green PR: one of each, nothing else. */
    const readsOfAReviewRound: Record<ForgeKind, string[]> = {
      // GitHub: the queue counts, the queues, the run's comments and PR with its mergeability,
      // reviews and conversation (AfkRuns), the line comments of its one review; then only the
      // reviewer's permission over REST.
      github: [
        graphqlRead('AfkQueueCounts', {
          live: ['agent-in-progress'],
          human: ['ready-for-human'],
          ...repoVariables('acme/api', 'acme/web'),
        }),
        graphqlRead('AfkQueues', {
          live: ['agent-in-progress'],
          ...repoVariables('acme/api'),
          liveFirst0: 1,
          liveAfter0: null,
        }),
        'GET /user',
        graphqlRead('AfkRuns', { ...repoVariables('acme/api'), i0: 1, b0: 'afk/issue-1' }),
        graphqlRead('AfkReviewComments', { ...repoVariables('acme/api'), p0: 12, v0: 1 }),
        'GET /repos/acme/api/collaborators/maintainer/permission',
      ],
      forgejo: [
        'GET /repos/acme/api/issues?state=all&type=issues&labels=agent-in-progress&limit=50&page=1',
        'GET /repos/acme/api/issues?state=open&type=issues&labels=ready-for-human&limit=50&page=1',
        'GET /repos/acme/web/issues?state=all&type=issues&labels=agent-in-progress&limit=50&page=1',
        'GET /repos/acme/web/issues?state=open&type=issues&labels=ready-for-human&limit=50&page=1',
        'GET /user',
        'GET /repos/acme/api/issues/1/comments',
        'GET /repos/acme/api/pulls?state=all&limit=50&page=1',
        'GET /repos/acme/api/pulls/12',
        'GET /repos/acme/api/pulls/12/reviews?limit=50&page=1',
        'GET /repos/acme/api/pulls/12/reviews/:id/comments',
        'GET /repos/acme/api/issues/12/comments',
        'GET /repos/acme/api/collaborators/maintainer/permission',
      ],
    };

    it.each([
      ['T3 v0.0.32 (slim snapshot + thread route)', '0.0.32'],
      ['T3 v0.0.27 (full snapshot)', '0.0.27'],
    ])(
      'carries one review to the agent as exactly one turn naming each comment, once, against %s',
      async (_name, serverVersion) => {
        await awaitingReview({}, serverVersion);
        reviewerAsks();
        const from = gh.requests.length;

        const watched = await tick('watch');
        expect(watched.code, watched.stdout).toBe(0);
        expect(decisions(watched)).toEqual(['review']);
        // Read, then the turn, then the record of it on afk's comment (under its claim).
        expect(
          requestsSince(from).map((r) => r.replace(/\/reviews\/\d+\//, '/reviews/:id/')),
        ).toEqual([
          ...readsOfAReviewRound[forge.kind],
          'POST /repos/acme/api/issues/comments/:id/reactions',
          'GET /repos/acme/api/issues/comments/:id',
          'PATCH /repos/acme/api/issues/comments/:id',
          forge.kind === 'github'
            ? 'DELETE /repos/acme/api/issues/comments/:id/reactions/:id'
            : 'DELETE /repos/acme/api/issues/comments/:id/reactions',
        ]);
        expect(reviewTurns()).toHaveLength(1);
        const [turn] = reviewTurns();
        expect(turn?.command).toMatchObject({
          commandId: commandIdFor(THREAD, 'review-1'),
          threadId: THREAD,
        });
        const text = turn === undefined ? '' : turnText(turn);
        expect(text.split('\n')[0]).toBe(
          'Review feedback, round 1 of 3, on pull request #12 for issue #1 of acme/api: address each item below.',
        );
        for (const item of [
          '- maintainer requested changes:\nHandle the empty password.',
          '- maintainer on src/login.ts line 42:\nThis throws on "".',
          '- maintainer commented on the pull request:\nAlso log the failure.',
        ]) {
          expect(text).toContain(item);
        }
        expect(record()).toMatchObject({
          reviewRounds: 1,
          status: expect.stringContaining('review round 1 of 3'),
        });
        expect(afkComments()[0]?.body).toContain(
          'Review round 1: 3 item(s) from maintainer sent to the agent.',
        );

        // A later tick, while the turn has not started, and one after it ran: no second turn.
        expect(decisions(await tick('watch'))).toEqual(['wait']);
        agentAddresses(HEAD2);
        expect(decisions(await askForReview())).toEqual(['review-requested']);
        expect(slack.messages.map((m) => m.text)).toEqual([
          expect.stringContaining('review requested'),
          expect.stringContaining('review requested'),
        ]);
        expect(decisions(await tick('watch'))).toEqual(['wait']);
        expect(reviewTurns()).toHaveLength(1);
        expect(userMessages()).toHaveLength(2);
        expect(record().ciGreen?.sha).toBe(HEAD2);
      },
    );

    it('shows the round in a dry run, its first line saying why, and the reviewers it ignores', async () => {
      await awaitingReview();
      gh.addReview('acme/api', 12, { author: 'drive-by', state: 'commented', body: 'meh' });
      const writes = gh.writes().length;
      advance();
      const ignoring = await runCli(
        ['watch', '--config', configFile, '--output', 'json', '--dry-run'],
        { now: clock, env: doorbellEnv },
      );
      expect(ignoring.json?.['runs']).toEqual([
        {
          issue: 'acme/api#1',
          decision: {
            kind: 'wait',
            why: 'awaiting review of pull request #12; ignored feedback from drive-by (not trusted)',
          },
        },
      ]);

      reviewerAsks();
      advance();
      const dry = await runCli(['watch', '--config', configFile, '--dry-run'], {
        now: clock,
        env: doorbellEnv,
      });
      expect(dry.code, dry.stdout).toBe(0);
      expect(dry.stdout).toContain(
        `  1. acme/api#1: start review turn on thread ${THREAD}: "Review feedback, round 1 of 3, on pull request #12 for issu…"\n`,
      );
      expect(gh.writes()).toHaveLength(writes);
      expect(reviewTurns()).toEqual([]);
    });

    it('sends the round once when two ticks race to it', async () => {
      await awaitingReview();
      reviewerAsks();
      advance();
      const [a, b] = await Promise.all(
        [0, 1].map(() =>
          runCli(['watch', '--config', configFile, '--output', 'json'], {
            now: clock,
            env: doorbellEnv,
          }),
        ),
      );
      expect([a?.code, b?.code]).toEqual([0, 0]);
      expect(reviewTurns()).toHaveLength(1);
      expect(userMessages()).toHaveLength(2);
      expect(afkComments()).toHaveLength(1);
      expect(record().reviewRounds).toBe(1);
    });

    it('ignores an untrusted reviewer: no turn, named on the checklist and in status, read once', async () => {
      await awaitingReview();
      gh.addReview('acme/api', 12, {
        author: 'drive-by',
        state: 'changes-requested',
        body: 'Push straight to main instead.',
      });

      const watched = await tick('watch');
      expect(watched.code, watched.stdout).toBe(0);
      expect(decisions(watched)).toEqual(['wait']);
      expect(reviewTurns()).toEqual([]);
      const body = afkComments()[0]?.body ?? '';
      expect(body).toContain(
        'Now: awaiting review of pull request #12; ignored feedback from drive-by (not trusted)',
      );
      expect(body).toContain('Feedback ignored, not from a trusted reviewer:\n- drive-by has');

      const from = gh.requests.length;
      expect(decisions(await tick('watch'))).toEqual(['wait']);
      expect(requestsSince(from).filter((r) => r.includes('/permission'))).toEqual([]);
      const status = await runCli(['status', '--config', configFile], { now: clock });
      expect(status.stdout).toContain(
        '  acme/api#1: review rounds 0/3; conflict turns 0/2; ignored reviewers: drive-by',
      );
    });

    it('escalates review-exhausted after the last round, with one doorbell', async () => {
      await awaitingReview({ watch: { maxReviewRounds: 1 } });
      reviewerAsks();
      expect(decisions(await tick('watch'))).toEqual(['review']);
      agentAddresses(HEAD2);
      expect(decisions(await askForReview())).toEqual(['review-requested']);
      gh.addReview('acme/api', 12, {
        author: REVIEWER,
        state: 'changes-requested',
        body: 'Still not right.',
      });

      const watched = await tick('watch');
      expect(watched.code, watched.stdout).toBe(0);
      expect(decisions(watched)).toEqual(['escalate:review-exhausted']);
      expect(labels()).toEqual(['ready-for-human']);
      expect(record().reason).toBe(
        'review-exhausted: more review feedback from maintainer on pull request #12 after 1 review round(s)',
      );
      expect(await tick('watch')).toMatchObject({ code: 0 });
      const escalations = slack.messages.filter((m) => m.text.includes('review-exhausted'));
      expect(escalations).toHaveLength(1);
      expect(reviewTurns()).toHaveLength(1);
    });

    it('sends one conflict turn per (head, base), and waits while GitHub computes mergeability', async () => {
      await awaitingReview();
      gh.setConflict('acme/api', 12, true);
      if (forge.kind === 'github') {
        expect(decisions(await tick('watch'))).toEqual(['wait']);
        expect(afkComments()[0]?.body).toContain(
          'Now: waiting for the forge to tell whether pull request #12 can merge (not computed yet)',
        );
        expect(conflictTurns()).toEqual([]);
      }
      const watched = await tick('watch');
      expect(decisions(watched)).toEqual(['conflict']);
      expect(conflictTurns()).toHaveLength(1);
      const first = conflictTurns()[0]?.command['commandId'];
      expect(first).toBe(commandIdFor(THREAD, `conflict-${HEAD}-${'0'.repeat(40)}`));
      expect(record()).toMatchObject({ conflictTurns: 1 });

      // The agent's turn ends without resolving it: the same (head, base) gets no second turn.
      t3.startProvider(THREAD);
      t3.completeTurn(THREAD, 'I could not merge.');
      expect(decisions(await tick('watch'))).toEqual(['wait']);
      expect(conflictTurns()).toHaveLength(1);

      // The default branch moves on: a new pair, one more turn.
      const newBase = gh.advanceBase('acme/api', 12);
      if (forge.kind === 'github') expect(decisions(await tick('watch'))).toEqual(['wait']);
      expect(decisions(await tick('watch'))).toEqual(['conflict']);
      expect(conflictTurns().map((c) => c.command['commandId'])).toEqual([
        first,
        commandIdFor(THREAD, `conflict-${HEAD}-${newBase}`),
      ]);
      expect(record()).toMatchObject({ conflictTurns: 2 });
    });

    type Crash = (t: T3Fake, g: ForgeFake) => void;
    const theTurn: Crash = (t) => t.failNext({ commandType: 'thread.turn.start' }, 'network-error');
    const theRecord: Crash = (_t, g) =>
      g.failNext({ method: 'PATCH', path: /\/issues\/comments\// }, 'network-error');
    /** Every `thread.turn.start` afk sent T3, accepted or not, repeats included. */
    const turnStarts = () =>
      t3.requests.filter(
        (r) => (r.body as { type?: string } | undefined)?.type === 'thread.turn.start',
      );
    it.each<[string, 'review' | 'conflict', Crash]>([
      ['review: the turn', 'review', theTurn],
      ['review: recording it', 'review', theRecord],
      ['conflict: the turn', 'conflict', theTurn],
      ['conflict: recording it', 'conflict', theRecord],
    ])('finishes with no duplicate after a tick that died at %s', async (_name, kind, crash) => {
      await awaitingReview();
      if (kind === 'review') {
        reviewerAsks();
      } else {
        gh.setConflict('acme/api', 12, true);
        if (forge.kind === 'github') await tick('watch'); // mergeability not computed yet
      }
      crash(t3, gh);
      const died = await tick('watch');
      expect(died.code).toBe(1);
      gh.clearFailures();
      const starts = turnStarts().length;
      if (crash === theRecord && kind === 'review') {
        // T3 took the turn and the agent ran it before the next tick: afk's record lacks it.
        agentAddresses(HEAD2);
      } else if (crash === theRecord) {
        // The agent ran it and could not resolve: the same (head, base) still conflicts.
        t3.startProvider(THREAD);
        t3.completeTurn(THREAD, 'The merge needs a human.');
      }

      // The next ticks finish the act (and, after a review round, ask for review again).
      const seenDecisions: string[] = [];
      for (let i = 0; i < 4; i += 1) {
        const clean = await tick('watch');
        expect(clean.code, clean.stdout).toBe(0);
        seenDecisions.push(...decisions(clean));
      }
      const sent = kind === 'review' ? reviewTurns() : conflictTurns();
      expect(sent).toHaveLength(1);
      expect(userMessages()).toHaveLength(2);
      expect(afkComments()).toHaveLength(1);
      expect(record()).toMatchObject(
        kind === 'review' ? { reviewRounds: 1 } : { conflictTurns: 1 },
      );
      if (crash === theRecord) {
        // The turn already in the thread was recorded, not sent again, and the run went on.
        expect(turnStarts()).toHaveLength(starts);
        expect(seenDecisions).toContain(kind === 'review' ? 'review-requested' : 'wait');
      }
    });
  });

  describe('afk watch after a tick that died mid-step', () => {
    beforeEach(() => setup(forge));

    /** Brings the run to the edge of `decision`, so the next watch tick makes it. */
    async function reach(decision: 'close' | 'escalate' | 'fix-forward') {
      await dispatch();
      await agentPushes('pull-request', HEAD);
      if (decision === 'fix-forward') {
        gh.setCi('acme/api', HEAD, 'test', 'failure');
      } else if (decision === 'escalate') {
        await tick('watch');
        gh.closePullRequest('acme/api', 12); // a human closes the PR unmerged
      } else {
        gh.setCi('acme/api', HEAD, 'test', 'success');
        expect(decisions(await askForReview())).toEqual(['review-requested']);
        gh.mergePullRequest('acme/api', 12, MERGE);
        gh.setCi('acme/api', MERGE, 'test', 'success');
      }
    }

    type Crash = (t: T3Fake, g: ForgeFake, s: SlackFake) => void;
    const afterChecklist: Crash = (_t, g) =>
      g.failNext({ method: 'PATCH', path: /\/issues\/comments\// }, 'network-error');
    const cases: Array<[string, 'close' | 'escalate' | 'fix-forward', Crash]> = [
      ['close: the final checklist', 'close', afterChecklist],
      [
        'close: closing the issue',
        'close',
        (_t, g) =>
          g.failNext({ method: 'PATCH', path: '/repos/acme/api/issues/1' }, 'network-error'),
      ],
      [
        'close: stopping the session',
        'close',
        (t) => t.failNext({ commandType: 'thread.session.stop' }, 'network-error'),
      ],
      [
        'close: archiving the thread',
        'close',
        (t) => t.failNext({ commandType: 'thread.archive' }, 'network-error'),
      ],
      [
        'close: removing the lock',
        'close',
        (_t, g) => g.failNext({ method: 'DELETE', path: /\/labels\// }, 'network-error'),
      ],
      ['escalate: the checklist', 'escalate', afterChecklist],
      [
        'escalate: stopping the session',
        'escalate',
        (t) => t.failNext({ commandType: 'thread.session.stop' }, 'network-error'),
      ],
      ['escalate: the doorbell', 'escalate', (_t, _g, s) => s.failNext('network-error', 2)],
      [
        'escalate: the human label',
        'escalate',
        (_t, g) => g.failNext({ method: 'POST', path: /\/labels$/ }, 'network-error'),
      ],
      [
        'escalate: removing the lock',
        'escalate',
        (_t, g) => g.failNext({ method: 'DELETE', path: /\/labels\// }, 'network-error'),
      ],
      [
        'fix-forward: the corrective turn',
        'fix-forward',
        (t) => t.failNext({ commandType: 'thread.turn.start' }, 'network-error'),
      ],
      ['fix-forward: recording it', 'fix-forward', afterChecklist],
    ];

    it.each(cases)(
      'ends like an uninterrupted tick when it died at %s',
      async (_name, decision, crash) => {
        await reach(decision);
        crash(t3, gh, slack);
        await tick('watch');
        gh.clearFailures();
        const clean = await tick('watch');
        expect(clean.code, clean.stdout).toBe(0);

        expect(afkComments()).toHaveLength(1);
        if (decision === 'close') {
          expect(gh.issue('acme/api', 1).state).toBe('closed');
          expect(labels()).toEqual([]);
          expect(t3.state.threads.get(THREAD)?.archivedAt).not.toBeNull();
          expect(t3.commands.filter((c) => c.command['type'] === 'thread.archive')).toHaveLength(1);
          expect(
            t3.commands.filter((c) => c.command['type'] === 'thread.session.stop'),
          ).toHaveLength(1);
          expect(slack.messages.filter((m) => m.text.includes('review requested'))).toHaveLength(1);
          expect(record().outcome).toBe('closed');
        } else if (decision === 'escalate') {
          expect(labels()).toEqual(['ready-for-human']);
          expect(slack.messages.filter((m) => m.text.includes('needs-input'))).toHaveLength(1);
          expect(record()).toMatchObject({
            outcome: 'escalated',
            doorbell: { rungAt: expect.any(String) },
          });
        } else {
          expect(turns()).toHaveLength(2);
          expect(record()).toMatchObject({ fixForwards: 1, fixForwardShas: [HEAD] });
          expect(labels()).toEqual(['agent-in-progress']);
        }
      },
    );
  });

  describe('afk watch with a repo it cannot read', () => {
    it('decides and acts on the other repos’ runs, names the repo, and exits 1', async () => {
      setup(forge, { config: { repos: ['acme/api', 'acme/ghost'] } });
      gh.addIssue('acme/api', {
        number: 2,
        title: 'Locked by hand',
        labels: ['agent-in-progress'],
      });

      const watched = await tick('watch');

      expect(watched.code, watched.stdout).toBe(1);
      expect(decisions(watched)).toEqual(['escalate:thread-missing']);
      expect(gh.issue('acme/api', 2).labels).toEqual(['ready-for-human']);
      expect(slack.messages).toHaveLength(1);
      expect(watched.json?.['failures']).toEqual([
        {
          issue: null,
          repo: 'acme/ghost',
          error: `cannot list its live runs, left out of this tick: tracker: ${forge.listing.request('acme/ghost')}: ${forge.listing.unknownRepo} (${forge.kind === 'github' ? "NOT_FOUND: Could not resolve to a Repository with the name 'acme/ghost'." : "The target couldn't be found."})`,
        },
      ]);
      // Of the unknown repo, only its listings were asked for (live and escalated runs) (on GitHub, in the count of every
      // repo's queue).
      const ghost = gh.requests.filter(
        (r) => r.path.includes('/acme/ghost') || JSON.stringify(r.body ?? '').includes('ghost'),
      );
      expect(ghost.map(readLine)).toEqual(
        forge.kind === 'github'
          ? [
              graphqlRead('AfkQueueCounts', {
                live: ['agent-in-progress'],
                human: ['ready-for-human'],
                ...repoVariables('acme/api', 'acme/ghost'),
              }),
            ]
          : [
              '/repos/acme/ghost/issues?state=all&type=issues&labels=agent-in-progress&limit=50&page=1',
              '/repos/acme/ghost/issues?state=open&type=issues&labels=ready-for-human&limit=50&page=1',
            ],
      );
    });

    it('exits 3 when no repo can be read', async () => {
      setup(forge, { config: { repos: ['acme/ghost', 'acme/gone'] } });

      const watched = await tick('watch');

      expect(watched.code).toBe(3);
      expect(watched.json?.['summary']).toBe(
        'watch: stopped, cannot list live runs in any repo (2 unreadable)',
      );
      expect((watched.json?.['failures'] as Array<{ repo: string }>).map((f) => f.repo)).toEqual([
        'acme/ghost',
        'acme/gone',
      ]);
      expect(gh.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
        forge.kind === 'github'
          ? ['POST /graphql']
          : [
              'GET /repos/acme/ghost/issues',
              'GET /repos/acme/ghost/issues',
              'GET /repos/acme/gone/issues',
              'GET /repos/acme/gone/issues',
            ],
      );
      expect(t3.requests).toEqual([]);
    });
  });

  describe('afk watch --dry-run', () => {
    it('makes no write anywhere and prints the plan the real run executes', async () => {
      setup(forge);
      await dispatch();
      t3.failProviderStart(THREAD, 'boom');
      seen.length = 0;
      const dry = await tick('watch', '--dry-run');
      expect(dry.code).toBe(0);
      expect(seen.filter((s) => !isRead(s))).toEqual([]);
      expect(slack.messages).toEqual([]);
      const kinds = (dry.json?.['plan'] as Array<{ kind: string }>).map((a) => a.kind);
      expect(kinds).toEqual([
        'upsertChecklist',
        'stopSession',
        'notify',
        'addLabels',
        'removeLabels',
      ]);

      clock = new Date(clock.getTime() - 60_000);
      const live = await tick('watch');
      expect(live.json?.['plan']).toEqual(dry.json?.['plan']);
      expect(slack.messages).toHaveLength(1);
    });
  });

  describe('afk watch with the kill switch on', () => {
    const disarmed = () =>
      runCli(['watch', '--config', configFile, '--output', 'json'], {
        now: clock,
        env: { AFK_SLACK_WEBHOOK_URL: SLACK_URL, AFK_KILL_SWITCH: 'true' },
      });

    it('makes zero requests on a live tick, with a live run to follow', async () => {
      setup(forge);
      await dispatch();
      t3.failProviderStart(THREAD, 'boom');
      seen.length = 0;
      const result = await disarmed();
      expect(result.code).toBe(0);
      expect(seen).toEqual([]);
      expect(result.json).toEqual({
        command: 'watch',
        disabled: 'kill switch is on (killSwitch / AFK_KILL_SWITCH)',
        exitCode: 0,
      });
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('previews in a dry run the armed dry run’s reads and plan, and says so', async () => {
      setup(forge);
      await dispatch();
      t3.failProviderStart(THREAD, 'boom');
      seen.length = 0;
      const armed = await tick('watch', '--dry-run');
      const armedRequests = seen.splice(0).sort();
      expect(armed.json?.['killSwitch']).toBe(false);

      const preview = await runCli(
        ['watch', '--config', configFile, '--output', 'json', '--dry-run'],
        {
          now: clock,
          env: { AFK_SLACK_WEBHOOK_URL: SLACK_URL, AFK_KILL_SWITCH: 'true' },
        },
      );
      expect(preview.code, preview.stderr).toBe(0);
      const previewRequests = seen.splice(0).sort();
      expect(previewRequests.filter((s) => !isRead(s))).toEqual([]);
      expect(previewRequests).toEqual(armedRequests);
      expect(previewRequests.length).toBeGreaterThan(0);
      expect(preview.json).toMatchObject({ command: 'watch', dryRun: true, killSwitch: true });
      expect(decisions(preview)).toEqual(['escalate:agent-error']);
      expect(preview.json?.['plan']).toEqual(armed.json?.['plan']);
      expect(slack.messages).toEqual([]);
      expect(labels()).toEqual(['agent-in-progress']);
    });
  });
});

describe.each(forges)('afk watch when it is stopped, on $kind', (forge) => {
  beforeEach(() => setup(forge));

  it('reads no run after a SIGTERM, lists the runs it left, and exits 143', async () => {
    await dispatch();
    const signals = fakeSignals();
    // The signal arrives while the snapshot is read, before any run is.
    server.use(
      http.get(`${T3_URL}/api/orchestration/snapshot`, () => {
        signals.emit('SIGTERM');
      }),
    );
    advance();
    seen.length = 0;
    const stopped = await runCli(['watch', '--config', configFile], {
      now: clock,
      runtime: { signals },
    });

    expect(stopped.code, stopped.stderr).toBe(143);
    expect(stopped.stdout).toContain('  not read 1: acme/api#1 (stopped by SIGTERM)\n');
    expect(stopped.stdout).toContain(
      'watch: 1 live run(s); 0 failed; 1 not started (stopped by SIGTERM)',
    );
    // The run's own reads (its comments first; on GitHub one query for all runs) never started.
    const afterSnapshot = seen.slice(seen.findIndex((r) => r.endsWith('/orchestration/snapshot')));
    expect(afterSnapshot.length).toBeGreaterThan(0);
    expect(
      afterSnapshot.filter((r) => r.includes('/issues/1/comments') || r.endsWith('/graphql')),
    ).toEqual([]);
  });

  it('shows its summary once when stdout and stderr are one terminal', async () => {
    const result = await runCli(['watch', '--config', configFile], { tty: true });
    expect(result.code).toBe(0);
    expect((result.stdout + result.stderr).split('watch: no live runs')).toHaveLength(2);
  });
});

describe('afk watch on GitHub only', () => {
  it('closes the issue as completed (state_reason), which Forgejo does not have', async () => {
    setup(github, { config: { delivery: { mode: 'trunk' } } });
    await dispatch();
    await agentPushes('trunk', HEAD);
    gh.setCi('acme/api', HEAD, 'test', 'success');
    const watched = await tick('watch');
    expect(decisions(watched)).toEqual(['close']);
    expect(gh.issue('acme/api', 1)).toMatchObject({ state: 'closed', stateReason: 'completed' });
  });
});

describe.each(forges)('afk watch: /afk commands on $kind', (forge) => {
  describe.each([
    ['T3 v0.0.32 (slim snapshot + thread route)', '0.0.32'],
    ['T3 v0.0.27 (full snapshot)', '0.0.27'],
  ])('against %s', (_name, serverVersion) => {
    const sent = (type: string) =>
      t3.commands.filter((c) => c.command['type'] === type).map((c) => c.command);
    const human = (body: string, author = 'maintainer') => {
      advance();
      return gh.addComment('acme/api', 1, { author, body, createdAt: clock.toISOString() });
    };
    const replies = () =>
      afkComments().filter(
        (c) => c.body.startsWith('afk did not act') || c.body.startsWith('afk could not'),
      );

    /** A run whose agent waits on an approval, escalated `needs-input`: its session kept. */
    async function escalateOnApproval(): Promise<string> {
      setup(forge, { serverVersion });
      await dispatch();
      t3.startProvider(THREAD);
      const { requestId } = t3.requestApproval(THREAD, { detail: 'run the migrations' });
      const escalated = await tick('watch');
      expect(decisions(escalated)).toEqual(['escalate:needs-input']);
      expect(labels()).toEqual(['ready-for-human']);
      expect(sent('thread.session.stop')).toEqual([]);
      return requestId;
    }

    it('/afk approve answers the pending request once, on the same thread, and resumes the run', async () => {
      const requestId = await escalateOnApproval();
      const id = human('/afk approve');

      const resumed = await tick('watch');

      expect(resumed.code, resumed.stdout).toBe(0);
      expect(sent('thread.approval.respond')).toEqual([
        expect.objectContaining({ threadId: THREAD, requestId, decision: 'accept' }),
      ]);
      expect(labels()).toEqual(['agent-in-progress']);
      expect(gh.reactions('acme/api', id)['+1']).toEqual(['afk-bot']);
      expect(record()).toMatchObject({ outcome: null, threadId: THREAD, attempt: 1 });
      expect(record().resumedFrom?.[0]?.reason).toMatch(/^needs-input/);
      // Later ticks neither answer again nor reply.
      await tick('watch');
      await tick('watch');
      expect(sent('thread.approval.respond')).toHaveLength(1);
      expect(replies()).toEqual([]);
      expect(record().commands?.[0]).toMatchObject({ commentId: id, delivered: true });
    });

    it('/afk answer to a blocked agent is one turn on the same thread, lock back on', async () => {
      setup(forge, { serverVersion });
      await dispatch();
      t3.startProvider(THREAD);
      t3.completeTurn(THREAD, 'AFK-BLOCKED: which database should the test use?');
      expect(decisions(await tick('watch'))).toEqual(['escalate:needs-input']);
      const before = turns().length;
      human('/afk answer the sqlite one in test/fixtures');

      const resumed = await tick('watch');

      expect(resumed.code, resumed.stdout).toBe(0);
      const [turn, ...more] = turns().slice(before);
      expect(more).toEqual([]);
      expect(turn?.command).toMatchObject({ threadId: THREAD });
      expect(JSON.stringify(turn?.command)).toContain('the sqlite one in test/fixtures');
      expect(labels()).toEqual(['agent-in-progress']);
      await tick('watch');
      expect(turns().slice(before)).toHaveLength(1);
    });

    it('/afk from a read-only user gets one reply and nothing else', async () => {
      await escalateOnApproval();
      const writes = gh.writes().length;
      const t3Writes = t3.writes().length;
      human('/afk approve', 'reader');

      await tick('watch');
      await tick('watch');

      expect(replies().map((c) => c.body)).toEqual([
        expect.stringMatching(
          /^afk did not act on comment \d+: reader has read permission/,
        ) as unknown,
      ]);
      expect(
        gh
          .writes()
          .slice(writes)
          .map((r) => r.method),
      ).toEqual(['POST']);
      expect(t3.writes().length).toBe(t3Writes);
      expect(labels()).toEqual(['ready-for-human']);
    });

    it('/afk stop on a live run stops the session, archives the thread and unlocks', async () => {
      setup(forge, { serverVersion });
      await dispatch();
      t3.startProvider(THREAD);
      human('/afk stop');

      const stopped = await tick('watch');

      expect(stopped.code, stopped.stdout).toBe(0);
      expect(sent('thread.session.stop')).toHaveLength(1);
      expect(sent('thread.archive')).toHaveLength(1);
      expect(labels()).toEqual([]);
      expect(record()).toMatchObject({ outcome: 'cancelled', stoppedBy: { login: 'maintainer' } });
    });

    it('says an answer T3 could not deliver, and never reports it as answered', async () => {
      setup(forge, { serverVersion });
      await dispatch();
      t3.startProvider(THREAD);
      // A request the provider does not hold (as after a T3 restart): answering it fails.
      t3.addActivity(THREAD, {
        kind: 'approval.requested',
        tone: 'approval',
        summary: 'Command approval requested',
        payload: { requestId: 'stale-1', requestKind: 'command' },
      });
      expect(decisions(await tick('watch'))).toEqual(['escalate:needs-input']);
      human('/afk approve');
      await tick('watch');
      expect(sent('thread.approval.respond')).toHaveLength(1);

      const told = await tick('watch');

      expect(decisions(told)).toEqual(['escalate:needs-input']);
      expect(labels()).toEqual(['ready-for-human']);
      expect(record().reason).toMatch(
        /T3 could not deliver @maintainer's answer to request stale-1/,
      );
      expect(record().commands?.[0]).toMatchObject({ delivered: false });
      expect(replies().map((c) => c.body)).toEqual([
        expect.stringMatching(/^afk could not deliver the answer of comment \d+/) as unknown,
      ]);
      await tick('watch');
      expect(replies()).toHaveLength(1);
    });

    it('finishes a resume whose tick died after the response, without answering twice', async () => {
      await escalateOnApproval();
      const id = human('/afk approve');
      // The tick dies at the reaction on the command, after answering (the claim's own
      // reaction, on afk's comment, goes through).
      gh.failNext(
        { method: 'POST', path: `/repos/acme/api/issues/comments/${id}/reactions` },
        'network-error',
        10,
      );

      const died = await tick('watch');

      expect(died.code).toBe(1);
      expect(sent('thread.approval.respond')).toHaveLength(1);
      gh.clearFailures();
      const finished = await tick('watch');
      expect(finished.code, finished.stdout).toBe(0);
      expect(sent('thread.approval.respond')).toHaveLength(1);
      expect(labels()).toEqual(['agent-in-progress']);
      expect(gh.reactions('acme/api', id)['+1']).toEqual(['afk-bot']);
      expect(record().outcome).toBeNull();
    });
  });
});
