import { describe, expect, it } from 'vitest';
import {
  commandIdFor,
  describeAction,
  messageIdFor,
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
  type Mergeability,
  type Permission,
  type PullRequest,
  type ReadRequest,
  type Review,
  type ReviewComment,
  type ReviewFeedback,
  type RunRecord,
  type T3Activity,
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
  /** The PR's mergeability; clean on the PR's head unless said otherwise. */
  mergeability?: Mergeability;
  /** What reviewers said; nothing unless said otherwise. */
  reviewFeedback?: ReviewFeedback;
  /** Logins' permissions on the repo, by lower-case login. */
  permissions?: Record<string, Permission>;
}

const BASE = 'e'.repeat(40);
const clean = (head = SHA): Mergeability => ({
  mergeable: true,
  state: 'clean',
  headSha: head,
  baseSha: BASE,
});
const noFeedback: ReviewFeedback = { reviews: [], reviewComments: [], comments: [] };

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
      selfLogin: 'afk-bot',
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
      case 'mergeability':
        evidence = {
          ...evidence,
          mergeability: world.mergeability ?? clean(world.pullRequest?.headSha),
        };
        break;
      case 'reviewFeedback':
        evidence = { ...evidence, reviewFeedback: world.reviewFeedback ?? noFeedback };
        break;
      case 'permission': {
        const answer = world.permissions?.[read.login.toLowerCase()];
        if (answer === undefined) throw missing();
        evidence = { ...evidence, permissions: { ...evidence.permissions, [read.login]: answer } };
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
      { kind: 'mergeability', number: 12 },
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

  it.each<[string, T3Activity, string]>([
    [
      'the question, and how to answer it',
      {
        id: 'a1',
        tone: 'info',
        kind: 'user-input.requested',
        summary: 'User input requested',
        payload: {
          requestId: 'q1',
          questions: [{ id: 'theme', header: 'Theme', question: 'Follow the OS?', options: [] }],
        },
        turnId: 'turn-2',
        createdAt: minutesAgo(2),
      },
      'the agent waits for an answer (request q1): Theme: Follow the OS?; reply on the issue with `/afk answer <text>`',
    ],
    [
      'the approval, and how to give it',
      {
        id: 'a1',
        tone: 'approval',
        kind: 'approval.requested',
        summary: 'Command approval requested',
        payload: { requestId: 'r1', requestKind: 'command', detail: 'npm run migrate' },
        turnId: 'turn-2',
        createdAt: minutesAgo(2),
      },
      'the agent waits for an approval (request r1): npm run migrate; reply on the issue with `/afk approve` or `/afk deny`',
    ],
  ])('says on a needs-input escalation %s', (_name, activity, detail) => {
    const { step } = decide({ thread: runningThread({ activities: [activity] }) });
    expect(step.decision).toEqual({ kind: 'escalate', reason: 'needs-input', detail });
  });

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
      selfLogin: 'afk-bot',
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

describe('watchRun conversations: review feedback and merge conflicts', () => {
  const HEAD2 = 'c'.repeat(40);
  const review = (
    id: number,
    author: string | null,
    state: Review['state'],
    over: Partial<Review> = {},
  ): Review => ({
    id,
    author,
    state,
    body: '',
    commitSha: SHA,
    submittedAt: minutesAgo(2),
    ...over,
  });
  const onLine = (
    id: number,
    reviewId: number | null,
    author: string,
    path: string,
    line: number | null,
    body: string,
  ): ReviewComment => ({ id, reviewId, author, path, line, body, createdAt: minutesAgo(3) });
  const said = (id: number, author: string, body: string, at = minutesAgo(2)) => ({
    id,
    author,
    body,
    createdAt: at,
  });
  /** Alice (write access) requests changes with two line comments; Bob comments on the PR. */
  const feedback: ReviewFeedback = {
    reviews: [
      review(501, 'alice', 'changes-requested', { body: 'Please handle the empty password.' }),
    ],
    reviewComments: [
      onLine(601, 501, 'alice', 'src/login.ts', 42, 'This throws on an empty string.'),
      onLine(602, 501, 'alice', 'test/login.test.ts', null, 'Add a test for it.'),
    ],
    comments: [said(701, 'bob', 'Also log the failure, please.')],
  };
  const trusted = { alice: 'write', bob: 'admin' } as const;
  /** An open PR whose head stands green: what a reviewer looks at. */
  const greenPr = (over: World = {}): World => ({
    pullRequest: pr(),
    ci: { [SHA]: green(SHA) },
    permissions: { ...trusted },
    ...over,
  });
  const conflict = (head = SHA, base = BASE): Mergeability => ({
    mergeable: false,
    state: 'dirty',
    headSha: head,
    baseSha: base,
  });

  it.each<[string, World, string, string[]]>([
    [
      'sends a review turn for a trusted reviewer’s requested changes',
      greenPr({ reviewFeedback: feedback }),
      'review',
      ['mergeability', 'reviewFeedback', 'permission:alice', 'permission:bob'],
    ],
    [
      'sends a review turn for a trusted reviewer’s comment on the pull request alone',
      greenPr({
        reviewFeedback: { ...noFeedback, comments: [said(701, 'bob', 'Rename it.')] },
      }),
      'review',
      ['mergeability', 'reviewFeedback', 'permission:bob'],
    ],
    [
      'ignores an untrusted reviewer and asks for review as if nothing was said',
      greenPr({
        reviewFeedback: { ...noFeedback, reviews: [review(501, 'mallory', 'changes-requested')] },
        permissions: { mallory: 'read' },
      }),
      'review-requested',
      ['mergeability', 'reviewFeedback', 'permission:mallory'],
    ],
    [
      'ignores a bot and afk’s own account without reading their permission',
      greenPr({
        reviewFeedback: {
          ...noFeedback,
          comments: [said(701, 'ci[bot]', 'coverage -1%'), said(702, 'afk-bot', 'hi')],
        },
        permissions: {},
      }),
      'review-requested',
      ['mergeability', 'reviewFeedback'],
    ],
    [
      'trusts a reviewer listed in trust.labelers without reading a permission',
      greenPr({
        config: makeConfig({ trust: { labelers: ['carol'] } }),
        reviewFeedback: { ...noFeedback, reviews: [review(501, 'carol', 'changes-requested')] },
        permissions: {},
      }),
      'review',
      ['mergeability', 'reviewFeedback'],
    ],
    [
      'does not count an approval, a dismissed or a pending review as feedback',
      greenPr({
        reviewFeedback: {
          ...noFeedback,
          reviews: [
            review(501, 'alice', 'approved', { body: 'LGTM' }),
            review(502, 'alice', 'dismissed', { body: 'no' }),
            review(503, 'alice', 'pending', { body: 'draft', submittedAt: null }),
          ],
        },
      }),
      'review-requested',
      ['mergeability', 'reviewFeedback'],
    ],
    [
      'does not carry feedback from before this attempt started (an earlier thread’s)',
      greenPr({
        reviewFeedback: {
          ...noFeedback,
          reviews: [review(501, 'alice', 'changes-requested', { submittedAt: minutesAgo(31) })],
          comments: [said(701, 'bob', 'old', minutesAgo(31))],
        },
      }),
      'review-requested',
      ['mergeability', 'reviewFeedback'],
    ],
    [
      'does not carry feedback a round already carried',
      greenPr({
        record: reviewed({
          reviewRounds: 1,
          reviewSeen: { reviews: [501], reviewComment: 0, comment: 701 },
        }),
        reviewFeedback: feedback,
      }),
      'wait',
      ['mergeability', 'reviewFeedback'],
    ],
    [
      'carries a review submitted late with a lower id than one already handled',
      greenPr({
        record: reviewed({ reviewSeen: { reviews: [502], reviewComment: 0, comment: 0 } }),
        reviewFeedback: {
          ...noFeedback,
          reviews: [
            review(501, 'alice', 'changes-requested', { body: 'late' }),
            review(502, 'alice', 'commented', { body: 'early' }),
          ],
        },
      }),
      'review',
      ['mergeability', 'reviewFeedback', 'permission:alice'],
    ],
    [
      'escalates review-exhausted when feedback comes after maxReviewRounds rounds',
      greenPr({ record: reviewed({ reviewRounds: 3 }), reviewFeedback: feedback }),
      'escalate:review-exhausted',
      ['mergeability', 'reviewFeedback', 'permission:alice', 'permission:bob'],
    ],
    [
      'fixes CI forward first when the head is red, the feedback waiting for its turn',
      greenPr({ ci: { [SHA]: red(SHA) }, reviewFeedback: feedback }),
      'fix-forward',
      ['mergeability'],
    ],
    [
      'sends a conflict turn for GitHub’s mergeable false, state dirty',
      greenPr({ mergeability: conflict() }),
      'conflict',
      ['mergeability'],
    ],
    [
      'sends a conflict turn for Forgejo’s mergeable false (no state)',
      greenPr({ mergeability: { ...conflict(), state: null } }),
      'conflict',
      ['mergeability'],
    ],
    [
      'sends the conflict turn before judging CI: CI on a conflicting head says little',
      greenPr({ ci: { [SHA]: red(SHA) }, mergeability: conflict() }),
      'conflict',
      ['mergeability'],
    ],
    [
      'holds the review notice while the forge has not computed mergeability (null): no guess',
      greenPr({ mergeability: { ...conflict(), mergeable: null, state: 'unknown' } }),
      'wait',
      ['mergeability', 'reviewFeedback'],
    ],
    [
      'judges CI on as usual while mergeability is not computed, and fixes it forward',
      greenPr({
        ci: { [SHA]: red(SHA) },
        mergeability: { ...conflict(), mergeable: null, state: 'unknown' },
      }),
      'fix-forward',
      ['mergeability'],
    ],
    [
      'does not take mergeable false for a conflict when GitHub says why not (blocked)',
      greenPr({ mergeability: { ...conflict(), state: 'blocked' } }),
      'review-requested',
      ['mergeability', 'reviewFeedback'],
    ],
    [
      'waits for the agent’s resolution of a (head, base) that already got its turn',
      greenPr({
        record: baseRecord({ conflictTurns: 1, conflictKeys: [`${SHA}-${BASE}`] }),
        mergeability: conflict(),
      }),
      'wait',
      ['mergeability'],
    ],
    [
      'sends one more conflict turn when the base moved on',
      greenPr({
        record: baseRecord({ conflictTurns: 1, conflictKeys: [`${SHA}-${BASE}`] }),
        mergeability: conflict(SHA, 'f'.repeat(40)),
      }),
      'conflict',
      ['mergeability'],
    ],
    [
      'escalates merge-conflict when a new conflict comes after maxConflictTurns turns',
      greenPr({
        record: baseRecord({ conflictTurns: 2, conflictKeys: ['x', 'y'] }),
        mergeability: conflict(HEAD2),
      }),
      'escalate:merge-conflict',
      ['mergeability'],
    ],
  ])('%s', (_name, world, expected, conversation) => {
    const { step, reads } = decide(world);
    const { decision } = step;
    expect(decision.kind === 'escalate' ? `escalate:${decision.reason}` : decision.kind).toBe(
      expected,
    );
    // What the decision read of the conversation: only what it reaches.
    const asked = reads.flatMap((r) =>
      r.kind === 'permission'
        ? [`permission:${r.login}`]
        : r.kind === 'mergeability' || r.kind === 'reviewFeedback'
          ? [r.kind]
          : [],
    );
    expect(asked).toEqual(conversation);
  });

  it('sends one review turn naming each comment with its file, line and author, fenced', () => {
    const { step, reads } = decide(greenPr({ reviewFeedback: feedback }));
    expect(reads).toEqual([
      { kind: 'pullRequest', branch: 'afk/issue-7' },
      { kind: 'mergeability', number: 12 },
      { kind: 'ci', sha: SHA },
      { kind: 'reviewFeedback', number: 12 },
      { kind: 'permission', login: 'alice' },
      { kind: 'permission', login: 'bob' },
    ]);
    expect(step.decision).toEqual({ kind: 'review', round: 1, items: 4 });
    expect(kinds(step.actions)).toEqual(['startTurn', 'upsertChecklist']);
    const turn = step.actions[0];
    expect(turn).toMatchObject({
      kind: 'startTurn',
      purpose: 'review',
      command: {
        threadId,
        commandId: commandIdFor(threadId, 'review-1'),
        messageId: messageIdFor(threadId, 'review-1'),
      },
    });
    const text = turn?.kind === 'startTurn' ? turn.command.text : '';
    expect(text.split('\n')[0]).toBe(
      'Review feedback, round 1 of 3, on pull request #12 for issue #7 of acme/api: address each item below.',
    );
    expect(text).toContain(
      [
        '```text',
        '- alice requested changes:',
        'Please handle the empty password.',
        '',
        '- alice on src/login.ts line 42:',
        'This throws on an empty string.',
        '',
        '- alice on test/login.test.ts (a line no longer in the diff):',
        'Add a test for it.',
        '',
        '- bob commented on the pull request:',
        'Also log the failure, please.',
        '```',
      ].join('\n'),
    );
    if (turn === undefined) throw new Error('no turn');
    expect(describeAction(turn)).toBe(
      `acme/api#7: start review turn on thread ${threadId}: "Review feedback, round 1 of 3, on pull request #12 for issu…"`,
    );
    expect(step.record).toMatchObject({
      reviewRounds: 1,
      reviewSeen: { reviews: [501], reviewComment: 0, comment: 701 },
      reviewSent: { round: 1, items: 4, from: ['alice', 'bob'] },
      lastTurn: { purpose: 'review', after: 'turn-1' },
      status: 'review round 1 of 3 sent for pull request #12',
    });
    expect(renderChecklist(step.record)).toContain(
      'Review round 1: 4 item(s) from alice, bob sent to the agent.',
    );
    expect(renderChecklist(step.record)).toContain('fix-forwards used: 0; review rounds used: 1.');
  });

  it('carries nothing twice: the next tick, with the round recorded, sends no turn', () => {
    const first = decide(greenPr({ reviewFeedback: feedback }));
    expect(first.step.decision.kind).toBe('review');
    // The agent's turn ran; the push is green again on the same head (nothing changed).
    const next = decide(
      greenPr({
        record: first.step.record,
        thread: idleThread({
          latestTurn: {
            turnId: 'turn-2',
            state: 'completed',
            requestedAt: minutesAgo(1),
            startedAt: minutesAgo(1),
            completedAt: minutesAgo(0.5),
          },
        }),
        reviewFeedback: feedback,
      }),
    );
    expect(kinds(next.step.actions)).not.toContain('startTurn');
    expect(next.reads.filter((r) => r.kind === 'permission')).toEqual([]);
  });

  it('rings the "awaiting review" notice once per round: again after a round’s push is green', () => {
    const round = decide(greenPr({ record: reviewed(), reviewFeedback: feedback })).step.record;
    expect(round.reviewNotifiedAt).toBeUndefined();
    const after = {
      record: round,
      thread: idleThread({
        latestTurn: {
          turnId: 'turn-2',
          state: 'completed',
          requestedAt: minutesAgo(1),
          startedAt: minutesAgo(1),
          completedAt: minutesAgo(0.5),
        },
      }),
      pullRequest: pr({ headSha: HEAD2 }),
      mergeability: clean(HEAD2),
      reviewFeedback: feedback,
    };
    // CI on the new head is judged: pending first, then green, then the notice.
    expect(
      decisionOf({ ...after, ci: { [HEAD2]: ci(HEAD2, [['test', 'in_progress', null]]) } }),
    ).toBe('wait');
    const notice = decide({ ...after, ci: { [HEAD2]: green(HEAD2) } });
    expect(notice.step.decision).toEqual({ kind: 'review-requested' });
    expect(notice.step.record.ciGreen?.sha).toBe(HEAD2);
    expect(decisionOf({ ...after, record: notice.step.record, ci: {} })).toBe('wait');
  });

  it('records, without sending it again, a review turn a dead tick sent', () => {
    const { step } = decide(
      greenPr({
        reviewFeedback: feedback,
        thread: idleThread({
          messages: [
            {
              id: messageIdFor(threadId, 'review-1'),
              role: 'user',
              text: 'Review feedback …',
              turnId: null,
              createdAt: minutesAgo(1),
            },
          ],
        }),
      }),
    );
    expect(kinds(step.actions)).toEqual(['upsertChecklist']);
    expect(step.decision.kind).toBe('wait');
    expect(step.record).toMatchObject({ reviewRounds: 1, reviewSeen: { reviews: [501] } });
  });

  it('reads a slim thread’s messages before sending a turn, to see a dead tick’s', () => {
    const slim = idleThread({ messages: null });
    const { step, reads } = decide(
      greenPr({
        record: baseRecord({ turnSeen: 'turn-1' }),
        thread: slim,
        threadDetail: idleThread(),
        reviewFeedback: feedback,
      }),
    );
    expect(reads.filter((r) => r.kind === 'thread')).toEqual([{ kind: 'thread', threadId }]);
    expect(step.decision.kind).toBe('review');
  });

  it('names ignored reviewers on the checklist and in the wait line, and never again reads them', () => {
    const world = greenPr({
      record: reviewed(),
      reviewFeedback: { ...noFeedback, reviews: [review(501, 'mallory', 'changes-requested')] },
      permissions: { mallory: 'read' },
    });
    const { step } = decide(world);
    expect(step.decision).toEqual({
      kind: 'wait',
      why: 'awaiting review of pull request #12; ignored feedback from mallory (not trusted)',
    });
    expect(step.record.reviewIgnored).toEqual([
      { login: 'mallory', why: 'mallory has read permission; write is required' },
    ]);
    expect(renderChecklist(step.record)).toContain(
      'Feedback ignored, not from a trusted reviewer:\n- mallory has read permission; write is required',
    );
    const again = decide({ ...world, record: step.record, permissions: {} });
    expect(again.reads.filter((r) => r.kind === 'permission')).toEqual([]);
    expect(again.step.actions).toEqual([]);
  });

  it('escalates review-exhausted once, with one doorbell', () => {
    const { step } = decide(
      greenPr({ record: reviewed({ reviewRounds: 3 }), reviewFeedback: feedback }),
    );
    expect(kinds(step.actions)).toEqual([
      'upsertChecklist',
      'stopSession',
      'notify',
      'addLabels',
      'removeLabels',
    ]);
    expect(step.record.reason).toBe(
      'review-exhausted: more review feedback from alice, bob on pull request #12 after 3 review round(s)',
    );
  });

  it('sends one conflict turn per (head, base), keyed by both', () => {
    const { step, reads } = decide(greenPr({ mergeability: conflict() }));
    expect(reads.map((r) => r.kind)).toEqual(['pullRequest', 'mergeability']);
    const turn = step.actions[0];
    expect(turn).toMatchObject({
      kind: 'startTurn',
      purpose: 'conflict',
      command: { commandId: commandIdFor(threadId, `conflict-${SHA}-${BASE}`) },
    });
    const text = turn?.kind === 'startTurn' ? turn.command.text : '';
    expect(text.split('\n')[0]).toBe(
      `Merge conflict: pull request #12 for issue #7 of acme/api conflicts with the default branch (head ${SHA}, default branch at ${BASE}): resolve it.`,
    );
    expect(step.decision).toEqual({ kind: 'conflict', headSha: SHA, baseSha: BASE });
    expect(step.record).toMatchObject({
      conflictTurns: 1,
      conflictKeys: [`${SHA}-${BASE}`],
      status: 'conflict turn 1 of 2 sent for pull request #12',
    });
    expect(renderChecklist(step.record)).toContain('conflict turns used: 1.');
  });

  it('says why it waits on a mergeability not computed yet', () => {
    const { step } = decide(
      greenPr({ mergeability: { ...conflict(), mergeable: null, state: 'unknown' } }),
    );
    expect(step.decision).toEqual({
      kind: 'wait',
      why: 'waiting for the forge to tell whether pull request #12 can merge (not computed yet)',
    });
  });

  it('escalates stalled when the agent leaves a keyed conflict unresolved too long', () => {
    expect(
      decisionOf(
        greenPr({
          record: baseRecord({
            dispatchedAt: minutesAgo(300),
            phases: { dispatched: minutesAgo(300), pushed: minutesAgo(290) },
            conflictTurns: 1,
            conflictKeys: [`${SHA}-${BASE}`],
          }),
          thread: idleThread({ updatedAt: minutesAgo(200) }),
          mergeability: conflict(),
        }),
      ),
    ).toBe('escalate:stalled');
  });
});
