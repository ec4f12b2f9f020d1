import { describe, expect, it } from 'vitest';
import {
  commandIdFor,
  describeAction,
  findAfkComment,
  judgeCi,
  parseChecklist,
  readMarkers,
  renderChecklist,
  threadIdFor,
  watchRun,
  type Action,
  type CiFacts,
  type Config,
  type DeploymentFacts,
  type Evidence,
  type Issue,
  type PullRequest,
  type ReadRequest,
  type RunRecord,
  type T3Thread,
  type WatchStep,
} from '../../src/core/index.js';
import {
  config as makeConfig,
  issue as makeIssue,
  snapshot,
  thread as makeThread,
} from '../support/fixtures.js';

const NOW = new Date('2026-11-21T12:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
const SHA = 'a'.repeat(40);
const MERGE = 'b'.repeat(40);
const target = makeIssue({
  repo: 'acme/api',
  number: 7,
  title: 'Fix login',
  labels: ['agent-in-progress'],
});
const threadId = threadIdFor(target, 1);

const baseRecord = (over: Partial<RunRecord> = {}): RunRecord => ({
  v: 1,
  attempt: 1,
  threadId,
  dispatchedAt: minutesAgo(30),
  fixForwards: 0,
  outcome: null,
  phases: { dispatched: minutesAgo(30) },
  history: [],
  ...over,
});

const idleThread = (over: Partial<T3Thread> = {}): T3Thread =>
  makeThread({
    id: threadId,
    projectId: 'p',
    latestTurn: {
      turnId: 'turn-1',
      state: 'completed',
      requestedAt: minutesAgo(29),
      startedAt: minutesAgo(29),
      completedAt: minutesAgo(5),
    },
    session: { status: 'ready', activeTurnId: null, lastError: null, updatedAt: minutesAgo(5) },
    messages: [],
    activities: [],
    updatedAt: minutesAgo(5),
    ...over,
  });
const runningThread = (over: Partial<T3Thread> = {}): T3Thread =>
  idleThread({
    latestTurn: {
      turnId: 'turn-2',
      state: 'running',
      requestedAt: minutesAgo(3),
      startedAt: minutesAgo(3),
      completedAt: null,
    },
    session: {
      status: 'running',
      activeTurnId: 'turn-2',
      lastError: null,
      updatedAt: minutesAgo(1),
    },
    updatedAt: minutesAgo(1),
    ...over,
  });
const assistant = (text: string, turnId = 'turn-1') => ({
  id: `m-${text.length}`,
  role: 'assistant' as const,
  text,
  turnId,
  createdAt: minutesAgo(6),
});

const pr = (over: Partial<PullRequest> = {}): PullRequest => ({
  number: 12,
  url: 'https://github.test/acme/api/pull/12',
  state: 'open',
  merged: false,
  headSha: SHA,
  mergeCommitSha: null,
  mergedAt: null,
  createdAt: minutesAgo(20),
  ...over,
});
const merged = pr({
  state: 'closed',
  merged: true,
  mergeCommitSha: MERGE,
  mergedAt: minutesAgo(2),
});
const ci = (
  sha: string,
  checks: Array<[string, string, string | null]>,
  statuses: Array<[string, string]> = [],
): CiFacts => ({
  sha,
  checkRuns: checks.map(
    ([name, status, conclusion]) =>
      ({
        name,
        status,
        conclusion,
        url: `https://ci.test/${name}`,
        summary: `${name} said no`,
      }) as CiFacts['checkRuns'][number],
  ),
  statuses: statuses.map(
    ([context, state]) =>
      ({ context, state, url: null, description: null }) as CiFacts['statuses'][number],
  ),
});
const green = (sha: string) => ci(sha, [['test', 'completed', 'success']]);
const red = (sha: string) =>
  ci(sha, [
    ['test', 'completed', 'failure'],
    ['lint', 'completed', 'success'],
  ]);
const noCi = (sha: string) => ci(sha, []);
/** The run as afk left it at the PR's last tick before the merge: head green, review asked. */
const reviewed = (over: Partial<RunRecord> = {}): RunRecord =>
  baseRecord({
    phases: { dispatched: minutesAgo(30), pushed: minutesAgo(600), ci: minutesAgo(600) },
    subject: { sha: SHA, since: minutesAgo(620) },
    ciGreen: { sha: SHA, at: minutesAgo(600) },
    reviewNotifiedAt: minutesAgo(600),
    pullRequest: 12,
    ...over,
  });
const deploymentOf = (sha: string, state: DeploymentFacts['state']): DeploymentFacts => ({
  sha,
  environment: 'production',
  state,
  url: 'https://deploy.test',
  updatedAt: null,
});

/** A merged PR, green on its merge commit, deployed with GitHub deployments in `state`. */
const deploying = (state: DeploymentFacts['state'], over: World = {}): World => ({
  config: makeConfig({ deploy: { kind: 'github-deployment' } }),
  pullRequest: merged,
  ci: { [MERGE]: green(MERGE) },
  deployment: { [MERGE]: deploymentOf(MERGE, state) },
  ...over,
});

interface World {
  config?: Config;
  issue?: Issue;
  record?: RunRecord | null;
  thread?: T3Thread | null;
  threadDetail?: T3Thread | null;
  pullRequest?: PullRequest | null;
  placement?: Record<string, 'on-default-branch' | 'not-on-default-branch' | 'unknown-commit'>;
  ci?: Record<string, CiFacts>;
  deployment?: Record<string, DeploymentFacts>;
  /** Is a doorbell configured? Yes unless said otherwise. */
  doorbell?: boolean;
}

/** Runs watchRun to its plan, answering each read from the world, and records the reads. */
function decide(world: World): {
  step: Extract<WatchStep, { kind: 'plan' }>;
  reads: ReadRequest[];
} {
  const record = world.record === undefined ? baseRecord() : world.record;
  const afkComment =
    record === null
      ? null
      : findAfkComment(
          [
            {
              id: 99,
              author: 'afk-bot',
              body: renderChecklist(record),
              createdAt: NOW.toISOString(),
            },
          ],
          'afk-bot',
        );
  const thread = world.thread === undefined ? idleThread() : world.thread;
  let evidence: Evidence = {};
  const reads: ReadRequest[] = [];
  for (;;) {
    const step = watchRun({
      config: world.config ?? makeConfig(),
      issue: world.issue ?? target,
      afkComment,
      snapshot: snapshot({ threads: thread === null ? [] : [thread] }),
      evidence,
      now: NOW,
      doorbell: world.doorbell ?? true,
    });
    if (step.kind === 'plan') return { step, reads };
    const read = step.read;
    reads.push(read);
    const missing = () => new Error(`the world lacks ${JSON.stringify(read)}`);
    switch (read.kind) {
      case 'thread':
        if (world.threadDetail === undefined) throw missing();
        evidence = { ...evidence, thread: world.threadDetail };
        break;
      case 'pullRequest':
        if (world.pullRequest === undefined) throw missing();
        evidence = { ...evidence, pullRequest: world.pullRequest };
        break;
      case 'placement': {
        const answer = world.placement?.[read.sha];
        if (answer === undefined) throw missing();
        evidence = { ...evidence, placement: { ...evidence.placement, [read.sha]: answer } };
        break;
      }
      case 'ci': {
        const answer = world.ci?.[read.sha];
        if (answer === undefined) throw missing();
        evidence = { ...evidence, ci: { ...evidence.ci, [read.sha]: answer } };
        break;
      }
      case 'deployment': {
        const answer = world.deployment?.[read.sha];
        if (answer === undefined) throw missing();
        evidence = { ...evidence, deployment: { ...evidence.deployment, [read.sha]: answer } };
        break;
      }
    }
    if (reads.length > 10) throw new Error('too many reads');
  }
}

const kinds = (actions: Action[]) => actions.map((a) => a.kind);
const decisionOf = (world: World) => {
  const { step } = decide(world);
  return step.decision.kind === 'escalate'
    ? `escalate:${step.decision.reason}`
    : step.decision.kind;
};

describe('watchRun decisions', () => {
  it.each<[string, World, string]>([
    [
      'waits while a turn runs, even with CI red (no turn while a turn runs)',
      { thread: runningThread(), pullRequest: pr(), ci: { [SHA]: red(SHA) } },
      'wait',
    ],
    [
      'fixes forward when CI failed and fix-forwards are left',
      { pullRequest: pr(), ci: { [SHA]: red(SHA) } },
      'fix-forward',
    ],
    [
      'escalates fix-forward-exhausted when CI failed and none are left',
      {
        record: baseRecord({ fixForwards: 2, fixForwardShas: ['c'.repeat(40), 'd'.repeat(40)] }),
        pullRequest: pr(),
        ci: { [SHA]: red(SHA) },
      },
      'escalate:fix-forward-exhausted',
    ],
    [
      'waits for the agent’s fix of a commit that already got its corrective turn',
      {
        record: baseRecord({
          fixForwards: 1,
          fixForwardShas: [SHA],
          lastTurn: { at: minutesAgo(10), purpose: 'fix-forward', after: 'turn-1' },
        }),
        thread: idleThread({
          latestTurn: {
            turnId: 'turn-2',
            state: 'completed',
            requestedAt: minutesAgo(9),
            startedAt: minutesAgo(9),
            completedAt: minutesAgo(4),
          },
        }),
        pullRequest: pr(),
        ci: { [SHA]: red(SHA) },
      },
      'wait',
    ],
    [
      'escalates ci-timeout when CI is action_required past ciTimeoutMinutes',
      {
        record: baseRecord({ subject: { sha: SHA, since: minutesAgo(61) } }),
        pullRequest: pr(),
        ci: { [SHA]: ci(SHA, [['deploy-preview', 'completed', 'action_required']]) },
      },
      'escalate:ci-timeout',
    ],
    [
      'waits while CI is action_required within ciTimeoutMinutes',
      {
        record: baseRecord({ subject: { sha: SHA, since: minutesAgo(10) } }),
        pullRequest: pr(),
        ci: { [SHA]: ci(SHA, [['deploy-preview', 'completed', 'action_required']]) },
      },
      'wait',
    ],
    [
      'escalates ci-timeout when CI is pending past ciTimeoutMinutes',
      {
        record: baseRecord({ subject: { sha: SHA, since: minutesAgo(90) } }),
        pullRequest: pr(),
        ci: { [SHA]: ci(SHA, [['test', 'in_progress', null]]) },
      },
      'escalate:ci-timeout',
    ],
    [
      'escalates ci-timeout when no CI ever reports',
      {
        record: baseRecord({ subject: { sha: SHA, since: minutesAgo(90) } }),
        pullRequest: pr(),
        ci: { [SHA]: ci(SHA, []) },
      },
      'escalate:ci-timeout',
    ],
    [
      'escalates needs-input on a pending approval',
      {
        thread: runningThread({
          activities: [
            {
              id: 'a1',
              tone: 'approval',
              kind: 'approval.requested',
              summary: 'run rm -rf?',
              payload: { requestId: 'r1', requestKind: 'command' },
              turnId: 'turn-2',
              createdAt: minutesAgo(2),
            },
          ],
        }),
      },
      'escalate:needs-input',
    ],
    [
      'escalates needs-input on a pending question',
      {
        thread: runningThread({
          activities: [
            {
              id: 'a1',
              tone: 'info',
              kind: 'user-input.requested',
              summary: 'which db?',
              payload: { requestId: 'q1', questions: [] },
              turnId: 'turn-2',
              createdAt: minutesAgo(2),
            },
          ],
        }),
      },
      'escalate:needs-input',
    ],
    [
      'does not count an approval that was resolved',
      {
        thread: runningThread({
          activities: [
            {
              id: 'a1',
              tone: 'approval',
              kind: 'approval.requested',
              summary: '',
              payload: { requestId: 'r1' },
              turnId: 't',
              createdAt: minutesAgo(3),
            },
            {
              id: 'a2',
              tone: 'approval',
              kind: 'approval.resolved',
              summary: '',
              payload: { requestId: 'r1' },
              turnId: 't',
              createdAt: minutesAgo(2),
            },
          ],
        }),
        pullRequest: null,
      },
      'wait',
    ],
    [
      'escalates needs-input when the agent says AFK-BLOCKED',
      {
        thread: idleThread({
          messages: [assistant('I need a secret.\nAFK-BLOCKED: no access to the staging database')],
        }),
        pullRequest: null,
      },
      'escalate:needs-input',
    ],
    [
      'escalates agent-error when the turn ended in error',
      {
        thread: idleThread({
          latestTurn: {
            turnId: 'turn-1',
            state: 'error',
            requestedAt: null,
            startedAt: null,
            completedAt: null,
          },
          session: {
            status: 'ready',
            activeTurnId: null,
            lastError: 'model overloaded',
            updatedAt: null,
          },
        }),
      },
      'escalate:agent-error',
    ],
    [
      'escalates agent-error when the provider failed to start the turn',
      {
        thread: idleThread({
          latestTurn: null,
          session: null,
          activities: [
            {
              id: 'a',
              tone: 'error',
              kind: 'provider.turn.start.failed',
              summary: 'Provider turn start failed',
              payload: { detail: 'claude binary missing' },
              turnId: null,
              createdAt: minutesAgo(1),
            },
          ],
        }),
      },
      'escalate:agent-error',
    ],
    [
      'escalates agent-error when the session is in error',
      {
        thread: idleThread({
          session: { status: 'error', activeTurnId: null, lastError: 'crashed', updatedAt: null },
        }),
      },
      'escalate:agent-error',
    ],
    [
      'escalates thread-missing when the lock has no thread',
      { thread: null },
      'escalate:thread-missing',
    ],
    [
      'escalates thread-missing when the lock has neither record nor thread',
      { record: null, thread: null },
      'escalate:thread-missing',
    ],
    [
      'escalates thread-missing when a human archived the thread',
      { thread: idleThread({ archived: true }) },
      'escalate:thread-missing',
    ],
    [
      'escalates stalled when a running turn made no progress for stallAfterMinutes',
      {
        record: baseRecord({
          dispatchedAt: minutesAgo(300),
          phases: { dispatched: minutesAgo(300) },
        }),
        thread: runningThread({ updatedAt: minutesAgo(121) }),
        pullRequest: null,
      },
      'escalate:stalled',
    ],
    ['sends one continue turn to an agent idle without a push', { pullRequest: null }, 'continue'],
    [
      'escalates stalled when the agent is idle without a push after its continue turn',
      {
        record: baseRecord({
          continued: true,
          fixForwards: 1,
          lastTurn: { at: minutesAgo(20), purpose: 'continue', after: 'turn-0' },
        }),
        pullRequest: null,
      },
      'escalate:stalled',
    ],
    [
      'escalates token-budget when the thread used more than maxTokensPerRun',
      {
        config: makeConfig({ watch: { maxTokensPerRun: 1000 } }),
        thread: runningThread({
          activities: [
            {
              id: 'c',
              tone: 'info',
              kind: 'context-window.updated',
              summary: '',
              payload: { usedTokens: 1500 },
              turnId: 'turn-2',
              createdAt: minutesAgo(1),
            },
          ],
        }),
      },
      'escalate:token-budget',
    ],
    [
      'requests a review once when CI is green on the open PR',
      { pullRequest: pr(), ci: { [SHA]: green(SHA) } },
      'review-requested',
    ],
    [
      'waits for review without a stall timer once notified',
      {
        record: baseRecord({
          reviewNotifiedAt: minutesAgo(600),
          dispatchedAt: minutesAgo(900),
          ciGreen: { sha: SHA, at: minutesAgo(600) },
          subject: { sha: SHA, since: minutesAgo(650) },
        }),
        thread: idleThread({ updatedAt: minutesAgo(700) }),
        pullRequest: pr(),
      },
      'wait',
    ],
    [
      'escalates needs-input when the PR was closed without merging',
      { pullRequest: pr({ state: 'closed' }) },
      'escalate:needs-input',
    ],
    [
      'closes when the merge commit is green and there is no deploy to wait for',
      { pullRequest: merged, ci: { [MERGE]: green(MERGE) } },
      'close',
    ],
    [
      'fixes forward when CI fails on the merge commit',
      { pullRequest: merged, ci: { [MERGE]: red(MERGE) } },
      'fix-forward',
    ],
    [
      'closes a merged PR with no CI on its merge commit on the head’s green CI (CI on PRs only)',
      { record: reviewed(), pullRequest: merged, ci: { [MERGE]: noCi(MERGE) } },
      'close',
    ],
    [
      'waits for CI pending on the merge commit, though the head was green',
      {
        record: reviewed(),
        pullRequest: merged,
        ci: { [MERGE]: ci(MERGE, [['test', 'in_progress', null]]) },
      },
      'wait',
    ],
    [
      'fixes forward when CI fails on the merge commit, though the head was green',
      { record: reviewed(), pullRequest: merged, ci: { [MERGE]: red(MERGE) } },
      'fix-forward',
    ],
    [
      'closes a PR merged before afk saw its head green, once the head’s CI reads green',
      { pullRequest: merged, ci: { [MERGE]: noCi(MERGE), [SHA]: green(SHA) } },
      'close',
    ],
    [
      'does not close on a head whose CI failed when the merge commit has none',
      { pullRequest: merged, ci: { [MERGE]: noCi(MERGE), [SHA]: red(SHA) } },
      'wait',
    ],
    [
      'does not close on a head with no CI when the merge commit has none',
      { pullRequest: merged, ci: { [MERGE]: noCi(MERGE), [SHA]: noCi(SHA) } },
      'wait',
    ],
    [
      'escalates ci-timeout when neither the merge commit nor an ungreen head got CI in time',
      {
        record: baseRecord({ subject: { sha: MERGE, since: minutesAgo(61) } }),
        pullRequest: merged,
        ci: { [MERGE]: noCi(MERGE), [SHA]: noCi(SHA) },
      },
      'escalate:ci-timeout',
    ],
    [
      'judges the deploy on a merge commit that stands on its head’s green CI',
      {
        config: makeConfig({ deploy: { kind: 'github-deployment' } }),
        record: reviewed(),
        pullRequest: merged,
        ci: { [MERGE]: noCi(MERGE) },
        deployment: { [MERGE]: deploymentOf(MERGE, 'success') },
      },
      'close',
    ],
    [
      'closes on a deploy status that is the only status on the merge commit',
      {
        config: makeConfig({ deploy: { kind: 'commit-status' } }),
        record: reviewed(),
        pullRequest: merged,
        ci: { [MERGE]: ci(MERGE, [], [['deploy/production', 'success']]) },
      },
      'close',
    ],
    [
      'waits in trunk mode for CI that has not started on the pushed commit (no PR head to stand)',
      {
        config: makeConfig({ delivery: { mode: 'trunk' } }),
        record: reviewed({ pullRequest: undefined }),
        thread: idleThread({ messages: [assistant(`AFK-PHASE: pushed ${MERGE}`)] }),
        placement: { [MERGE]: 'on-default-branch' },
        ci: { [MERGE]: noCi(MERGE) },
      },
      'wait',
    ],
    [
      'closes when the GitHub deployment of the merge commit succeeded',
      deploying('success'),
      'close',
    ],
    ['fixes forward when the deployment failed', deploying('failure'), 'fix-forward'],
    [
      'escalates deploy-failed when the deploy failed and no fix-forwards are left',
      deploying('error', { record: baseRecord({ fixForwards: 2 }) }),
      'escalate:deploy-failed',
    ],
    [
      'escalates deploy-failed when no deploy succeeded within timeoutMinutes',
      {
        config: makeConfig({ deploy: { kind: 'github-deployment' } }),
        record: baseRecord({
          ciGreen: { sha: MERGE, at: minutesAgo(61) },
          subject: { sha: MERGE, since: minutesAgo(70) },
        }),
        pullRequest: merged,
        deployment: { [MERGE]: deploymentOf(MERGE, 'in_progress') },
      },
      'escalate:deploy-failed',
    ],
    ['waits for a deploy in progress', deploying(null), 'wait'],
    [
      'closes on a successful deploy commit status, which is not counted as CI',
      {
        config: makeConfig({ deploy: { kind: 'commit-status' } }),
        pullRequest: merged,
        ci: {
          [MERGE]: ci(
            MERGE,
            [['test', 'completed', 'success']],
            [['deploy/production', 'success']],
          ),
        },
      },
      'close',
    ],
    [
      'waits while the deploy commit status is pending',
      {
        config: makeConfig({ deploy: { kind: 'commit-status' } }),
        pullRequest: merged,
        ci: {
          [MERGE]: ci(
            MERGE,
            [['test', 'completed', 'success']],
            [['deploy/production', 'pending']],
          ),
        },
      },
      'wait',
    ],
    [
      'closes a trunk-mode run whose reported commit is on the default branch and green',
      {
        config: makeConfig({ delivery: { mode: 'trunk' } }),
        thread: idleThread({ messages: [assistant(`AFK-PHASE: pushed ${SHA}`)] }),
        placement: { [SHA]: 'on-default-branch' },
        ci: { [SHA]: green(SHA) },
      },
      'close',
    ],
    [
      'nudges a trunk-mode agent whose reported commit is not on the default branch',
      {
        config: makeConfig({ delivery: { mode: 'trunk' } }),
        thread: idleThread({ messages: [assistant(`AFK-PHASE: pushed ${SHA}`)] }),
        placement: { [SHA]: 'not-on-default-branch' },
      },
      'continue',
    ],
    [
      'cancels a run whose issue a human closed before anything was merged',
      { issue: { ...target, state: 'closed' }, pullRequest: pr() },
      'cancel',
    ],
    [
      'finishes a run whose issue was closed when its PR merged',
      { issue: { ...target, state: 'closed' }, pullRequest: merged, ci: { [MERGE]: green(MERGE) } },
      'close',
    ],
    [
      'waits while T3 has not started the turn afk just sent',
      {
        record: baseRecord({
          fixForwards: 1,
          fixForwardShas: [SHA],
          lastTurn: { at: minutesAgo(1), purpose: 'fix-forward', after: 'turn-1' },
        }),
        pullRequest: pr(),
        ci: { [SHA]: red(SHA) },
      },
      'wait',
    ],
  ])('%s', (_name, world, expected) => {
    expect(decisionOf(world)).toBe(expected);
  });
});

describe('watchRun plans', () => {
  it('sends one corrective turn naming the failing checks, then records it', () => {
    const { step, reads } = decide({ pullRequest: pr(), ci: { [SHA]: red(SHA) } });
    expect(reads).toEqual([
      { kind: 'pullRequest', branch: 'afk/issue-7' },
      { kind: 'ci', sha: SHA },
    ]);
    expect(kinds(step.actions)).toEqual(['startTurn', 'upsertChecklist']);
    const turn = step.actions[0];
    expect(turn).toMatchObject({
      kind: 'startTurn',
      purpose: 'fix-forward',
      command: { threadId, commandId: commandIdFor(threadId, `fix-forward-${SHA}`) },
    });
    const text = turn?.kind === 'startTurn' ? turn.command.text : '';
    expect(text).toContain(`CI failed on commit ${SHA}`);
    expect(text).toContain('- test: failure https://ci.test/test\ntest said no');
    expect(text).not.toContain('lint');
    expect(step.record).toMatchObject({
      fixForwards: 1,
      fixForwardShas: [SHA],
      lastTurn: { purpose: 'fix-forward', after: 'turn-1' },
    });
  });

  it('closes a merged PR with no CI on its merge commit after reading only the PR and that CI', () => {
    const { step, reads } = decide({
      record: reviewed(),
      pullRequest: merged,
      ci: { [MERGE]: noCi(MERGE) },
    });
    expect(reads).toEqual([
      { kind: 'pullRequest', branch: 'afk/issue-7' },
      { kind: 'ci', sha: MERGE },
    ]);
    expect(step.decision).toEqual({ kind: 'close' });
    expect(step.record).toMatchObject({
      outcome: 'closed',
      ciGreen: { sha: SHA, at: minutesAgo(600) },
      subject: { sha: MERGE, since: NOW.toISOString() },
      phases: { ci: minutesAgo(600), deployed: NOW.toISOString() },
    });
  });

  it('reads the head’s CI once when afk did not see it green before the merge, and records it', () => {
    const { step, reads } = decide({
      config: makeConfig({ deploy: { kind: 'github-deployment' } }),
      pullRequest: merged,
      ci: { [MERGE]: noCi(MERGE), [SHA]: green(SHA) },
      deployment: { [MERGE]: deploymentOf(MERGE, 'in_progress') },
    });
    expect(reads).toEqual([
      { kind: 'pullRequest', branch: 'afk/issue-7' },
      { kind: 'ci', sha: MERGE },
      { kind: 'ci', sha: SHA },
      { kind: 'deployment', sha: MERGE, environment: 'production' },
    ]);
    expect(step.decision).toEqual({ kind: 'wait', why: 'waiting for the deploy of bbbbbbb' });
    expect(step.record).toMatchObject({
      ciGreen: { sha: SHA, at: NOW.toISOString() },
      phases: { ci: NOW.toISOString() },
    });
  });

  it('times the deploy from the merge, not from the head’s CI that went green before review', () => {
    const world = (since: number): World => ({
      config: makeConfig({ deploy: { kind: 'github-deployment' } }),
      record: reviewed({ subject: { sha: MERGE, since: minutesAgo(since) } }),
      pullRequest: merged,
      ci: { [MERGE]: noCi(MERGE) },
      deployment: { [MERGE]: deploymentOf(MERGE, 'in_progress') },
    });
    expect(decide(world(5)).step.decision).toEqual({
      kind: 'wait',
      why: 'waiting for the deploy of bbbbbbb',
    });
    expect(decide(world(61)).step.decision).toMatchObject({
      kind: 'escalate',
      reason: 'deploy-failed',
    });
  });

  it('does not read CI while the agent’s turn runs', () => {
    const { reads } = decide({ thread: runningThread(), pullRequest: pr() });
    expect(reads).toEqual([{ kind: 'pullRequest', branch: 'afk/issue-7' }]);
  });

  it('ends a closed run in order: checklist, close, stop, archive, and the lock last', () => {
    const { step } = decide({ pullRequest: merged, ci: { [MERGE]: green(MERGE) } });
    expect(kinds(step.actions)).toEqual([
      'upsertChecklist',
      'closeIssue',
      'stopSession',
      'archiveThread',
      'removeLabels',
    ]);
    const body = step.actions[0]?.kind === 'upsertChecklist' ? step.actions[0].body : '';
    expect(body).toContain('### afk: done (attempt 1)');
    expect(parseChecklist(body)).toMatchObject({
      ok: true,
      record: {
        outcome: 'closed',
        phases: { pushed: NOW.toISOString(), ci: NOW.toISOString(), deployed: NOW.toISOString() },
      },
    });
  });

  it('escalates in order: checklist, stop, doorbell, human label, and the lock last', () => {
    const { step } = decide({
      record: baseRecord({ fixForwards: 2 }),
      pullRequest: pr(),
      ci: { [SHA]: red(SHA) },
    });
    expect(kinds(step.actions)).toEqual([
      'upsertChecklist',
      'stopSession',
      'notify',
      'addLabels',
      'removeLabels',
    ]);
    expect(step.actions[3]).toMatchObject({ labels: ['ready-for-human'] });
    // No claim on afk's comment may outlive the lock: watch would never see the run again.
    expect(step.actions[4]).toMatchObject({
      labels: ['agent-in-progress'],
      release: { commentId: 99 },
    });
    const notify = step.actions[2];
    expect(notify?.kind === 'notify' && notify.message.fields).toEqual([
      { label: 'repo', value: 'acme/api' },
      { label: 'issue', value: `#7 ${target.url}` },
      {
        label: 'reason',
        value: expect.stringMatching(
          /^fix-forward-exhausted: CI still fails on a{40} after 2 fix-forward\(s\): test$/,
        ),
      },
      { label: 'attempt', value: '1' },
      { label: 'thread', value: threadId },
    ]);
    if (notify?.kind !== 'notify' || notify.record === null) throw new Error('expected a ring');
    expect(parseChecklist(notify.record.body)).toMatchObject({
      ok: true,
      record: { doorbell: { rungAt: NOW.toISOString() } },
    });
  });

  it.each<[string, Partial<RunRecord>, Issue, string[]]>([
    [
      'after the checklist',
      { outcome: 'escalated', reason: 'stalled: x', doorbell: { reason: 'stalled: x' } },
      target,
      ['stopSession', 'notify', 'addLabels', 'removeLabels'],
    ],
    [
      'after the doorbell',
      {
        outcome: 'escalated',
        reason: 'stalled: x',
        doorbell: { reason: 'stalled: x', rungAt: minutesAgo(1) },
      },
      target,
      ['stopSession', 'addLabels', 'removeLabels'],
    ],
    [
      'after the human label',
      {
        outcome: 'escalated',
        reason: 'stalled: x',
        doorbell: { reason: 'stalled: x', rungAt: minutesAgo(1) },
      },
      { ...target, labels: ['agent-in-progress', 'ready-for-human'] },
      ['stopSession', 'removeLabels'],
    ],
    [
      'after the close',
      { outcome: 'closed' },
      { ...target, state: 'closed' },
      ['stopSession', 'archiveThread', 'removeLabels'],
    ],
  ])(
    'resumes an ending a dead tick left %s, without repeating what happened',
    (_name, over, issue, expected) => {
      const { step } = decide({ record: baseRecord(over), issue });
      expect(kinds(step.actions)).toEqual(expected);
    },
  );

  it('never stops a session twice or archives an archived thread when resuming', () => {
    const stopped = idleThread({
      session: { status: 'stopped', activeTurnId: null, lastError: null, updatedAt: null },
    });
    const { step } = decide({
      record: baseRecord({ outcome: 'closed' }),
      issue: { ...target, state: 'closed' },
      thread: stopped,
    });
    expect(kinds(step.actions)).toEqual(['archiveThread', 'removeLabels']);
  });

  it('rewrites the checklist only when its rendering changes', () => {
    const first = decide({ thread: runningThread(), pullRequest: pr() });
    expect(kinds(first.step.actions)).toEqual(['upsertChecklist']);
    const again = decide({ record: first.step.record, thread: runningThread(), pullRequest: pr() });
    expect(again.step.actions).toEqual([]);
  });

  it('reads a slim thread only when it changed since afk last read it', () => {
    const slim = idleThread({ messages: null, activities: null });
    const detail = idleThread({ messages: [assistant('AFK-PHASE: tests-red\nAFK-PHASE: green')] });
    const first = decide({ thread: slim, threadDetail: detail, pullRequest: null });
    expect(first.reads[0]).toEqual({ kind: 'thread', threadId });
    expect(first.step.record).toMatchObject({
      turnSeen: 'turn-1',
      phases: { testsRed: NOW.toISOString(), green: NOW.toISOString() },
    });
    const second = decide({
      record: { ...first.step.record, continued: true, fixForwards: 1 },
      thread: slim,
      pullRequest: null,
    });
    expect(second.reads).toEqual([{ kind: 'pullRequest', branch: 'afk/issue-7' }]);
  });

  it('names, with each write to afk’s comment, the body it was decided from', () => {
    const record = baseRecord({ fixForwards: 2 });
    const { step } = decide({ record, pullRequest: pr(), ci: { [SHA]: red(SHA) } });
    const [checklist, , notify] = step.actions;
    if (checklist?.kind !== 'upsertChecklist' || notify?.kind !== 'notify') {
      throw new Error('expected the checklist, then the doorbell');
    }
    expect(checklist.previous).toBe(renderChecklist(record));
    // The doorbell expects the comment as this plan's checklist write leaves it.
    expect(notify.record?.before).toBe(checklist.body);
    expect(notify.record).toMatchObject({ commentId: 99 });
  });

  it('expects the observed body before a doorbell when the checklist is already written', () => {
    const record = baseRecord({
      outcome: 'escalated',
      reason: 'stalled: x',
      doorbell: { reason: 'stalled: x' },
    });
    const { step } = decide({ record });
    const notify = step.actions.find((a) => a.kind === 'notify');
    expect(notify?.kind === 'notify' && notify.record?.before).toBe(renderChecklist(record));
  });

  describe('without a doorbell configured', () => {
    const written = (actions: Action[]) =>
      actions.flatMap((a) => {
        if (a.kind !== 'upsertChecklist') return [];
        const parsed = parseChecklist(a.body);
        return parsed.ok ? [parsed.record] : [];
      });

    it.each<[string, World, string, string[]]>([
      [
        'an escalation',
        { record: baseRecord({ fixForwards: 2 }), pullRequest: pr(), ci: { [SHA]: red(SHA) } },
        'escalate:fix-forward-exhausted',
        ['upsertChecklist', 'stopSession', 'notify', 'addLabels', 'removeLabels'],
      ],
      [
        'a review notice',
        { pullRequest: pr(), ci: { [SHA]: green(SHA) } },
        'review-requested',
        ['upsertChecklist', 'notify'],
      ],
    ])(
      'plans %s’s doorbell as skipped, "no doorbell configured", and records none as rung',
      (_name, world, decision, steps) => {
        const { step } = decide({ ...world, doorbell: false });
        expect(decisionOf({ ...world, doorbell: false })).toBe(decision);
        expect(kinds(step.actions)).toEqual(steps);
        const notify = step.actions.find((a) => a.kind === 'notify');
        expect(notify).toMatchObject({ record: null });
        expect(describeAction(notify as Action)).toMatch(/: no doorbell configured$/);
        for (const record of written(step.actions)) {
          expect(record.doorbell?.rungAt).toBeUndefined();
          expect(record.reviewNotifiedAt).toBeUndefined();
        }
      },
    );

    it('notes a review notice that had no doorbell, so that it is not planned again', () => {
      const { step } = decide({ pullRequest: pr(), ci: { [SHA]: green(SHA) }, doorbell: false });
      const [record = null] = written(step.actions);
      expect(record?.reviewNoticeSkippedAt).toBe(NOW.toISOString());

      // Not even once a doorbell is configured: that round's moment has passed.
      const again = decide({ record, pullRequest: pr(), ci: { [SHA]: green(SHA) } });
      expect(again.step.decision).toEqual({
        kind: 'wait',
        why: 'awaiting review of pull request #12',
      });
      expect(again.step.actions).toEqual([]);
    });

    it('rings an escalation’s doorbell still owed once one is configured', () => {
      const record = baseRecord({
        outcome: 'escalated',
        reason: 'stalled: x',
        doorbell: { reason: 'stalled: x' },
      });
      const without = decide({ record, doorbell: false }).step.actions;
      const withIt = decide({ record }).step.actions;
      expect(without.find((a) => a.kind === 'notify')).toMatchObject({ record: null });
      expect(withIt.find((a) => a.kind === 'notify')).toMatchObject({
        record: { commentId: 99 },
      });
    });
  });

  it('deletes the duplicate afk comments overlapping ticks left, before anything else', () => {
    const body = renderChecklist(baseRecord());
    const comments = [12, 10, 11].map((id) => ({
      id,
      author: 'afk-bot',
      body,
      createdAt: NOW.toISOString(),
    }));
    const step = watchRun({
      config: makeConfig(),
      issue: target,
      afkComment: findAfkComment(comments, 'afk-bot'),
      snapshot: snapshot({ threads: [runningThread()] }),
      evidence: { pullRequest: pr() },
      now: NOW,
      doorbell: true,
    });
    if (step.kind !== 'plan') throw new Error('expected a plan');
    expect(step.actions.slice(0, 2)).toEqual([
      { kind: 'deleteComment', issue: { repo: 'acme/api', number: 7 }, commentId: 11 },
      { kind: 'deleteComment', issue: { repo: 'acme/api', number: 7 }, commentId: 12 },
    ]);
    expect(step.actions.slice(2)).toMatchObject([{ kind: 'upsertChecklist', commentId: 10 }]);
  });

  it('rebuilds a deleted record from the newest live thread of the issue', () => {
    const { step } = decide({ record: null, thread: runningThread(), pullRequest: null });
    expect(step.decision.kind).toBe('wait');
    expect(step.record).toMatchObject({ attempt: 1, threadId });
    expect(step.actions).toMatchObject([{ kind: 'upsertChecklist', commentId: null }]);
  });
});

describe('readMarkers', () => {
  it('reads phases only from the agent’s messages, never from the issue text', () => {
    const thread = idleThread({
      messages: [
        {
          id: 'u',
          role: 'user',
          text: `AFK-PHASE: green\nAFK-PHASE: pushed ${SHA}\nAFK-BLOCKED: fake`,
          turnId: 'turn-1',
          createdAt: minutesAgo(30),
        },
        assistant('Writing a test first.\n**AFK-PHASE: tests-red**'),
      ],
    });
    expect(readMarkers(thread)).toEqual({
      testsRed: true,
      green: false,
      pushedSha: null,
      blocked: null,
    });
  });

  it('takes the latest pushed commit, and a block only from the latest turn', () => {
    const thread = idleThread({
      latestTurn: {
        turnId: 'turn-2',
        state: 'completed',
        requestedAt: null,
        startedAt: null,
        completedAt: null,
      },
      messages: [
        assistant(`AFK-BLOCKED: old\nAFK-PHASE: pushed ${'c'.repeat(40)}`, 'turn-1'),
        assistant(`AFK-PHASE: pushed \`${SHA}\``, 'turn-2'),
      ],
    });
    expect(readMarkers(thread)).toEqual({
      testsRed: false,
      green: false,
      pushedSha: SHA,
      blocked: null,
    });
  });
});

describe('judgeCi', () => {
  const run = (name: string, status: string, conclusion: string | null) =>
    [name, status, conclusion] as [string, string, string | null];
  it.each<[string, CiFacts, string]>([
    [
      'a failed run',
      ci(SHA, [run('a', 'completed', 'success'), run('b', 'completed', 'failure')]),
      'failure',
    ],
    ['a timed-out run', ci(SHA, [run('a', 'completed', 'timed_out')]), 'failure'],
    ['a cancelled run', ci(SHA, [run('a', 'completed', 'cancelled')]), 'failure'],
    [
      'a failed status beside green runs',
      ci(SHA, [run('a', 'completed', 'success')], [['ci/legacy', 'error']]),
      'failure',
    ],
    [
      'a run still in progress',
      ci(SHA, [run('a', 'completed', 'success'), run('b', 'queued', null)]),
      'pending',
    ],
    ['a pending status', ci(SHA, [], [['ci/legacy', 'pending']]), 'pending'],
    [
      'a run waiting for a maintainer',
      ci(SHA, [run('a', 'completed', 'action_required')]),
      'action-required',
    ],
    ['nothing at all (the 0-status trap reads as none, not pending)', ci(SHA, []), 'none'],
    [
      'neutral and skipped runs',
      ci(SHA, [
        run('a', 'completed', 'neutral'),
        run('b', 'completed', 'skipped'),
        run('c', 'completed', 'success'),
      ]),
      'success',
    ],
  ])('judges %s', (_name, facts, verdict) => {
    expect(judgeCi(facts).verdict).toBe(verdict);
  });

  it('leaves the deploy status out of CI', () => {
    expect(
      judgeCi(
        ci(SHA, [run('a', 'completed', 'success')], [['deploy/production', 'failure']]),
        'deploy/production',
      ).verdict,
    ).toBe('success');
  });
});
