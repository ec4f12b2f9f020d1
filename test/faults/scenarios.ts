// The worlds the fault matrix starts from: together their ticks make every kind of request
// poll and watch send (tracker reads and writes, the labeler-trust reads, T3 reads and
// commands, the Slack doorbell). Each is built on fresh fakes for every case.
import {
  parseChecklist,
  planDispatch,
  renderChecklist,
  threadIdFor,
  type RunRecord,
} from '../../src/core/index.js';
import type { GitHubFake } from '../../emulators/github.js';
import { SECRETS, type Scenario, type World } from './harness.js';

const API1 = { repo: 'acme/api', number: 1 };
const API2 = { repo: 'acme/api', number: 2 };
const WEB2 = { repo: 'acme/web', number: 2 };
const WEB3 = { repo: 'acme/web', number: 3 };
const THREAD = threadIdFor(API1, 1);
const HEAD = '1'.repeat(40);
const MERGE = '4'.repeat(40);

const ready = (world: World, issue: typeof API1, labeler: string, createdAt: string) =>
  world.forge.addIssue(issue.repo, {
    number: issue.number,
    title: `Fix thing ${issue.number}`,
    body: `Please fix thing ${issue.number}.`,
    labels: ['ready-for-agent'],
    labeledBy: { 'ready-for-agent': labeler },
    createdAt,
  });

function repos(world: World): void {
  world.forge.addRepo('acme/api', { collaborators: { maintainer: 'write', 'drive-by': 'read' } });
  world.forge.addRepo('acme/web', { collaborators: { maintainer: 'maintain' } });
  world.forge.pushCommit('acme/api', 'main', '0'.repeat(40));
}

/**
 * acme/api#1 as poll leaves it: the thread and its first turn in T3, afk's comment, the lock.
 * Poll's own plan is carried out, its T3 commands over HTTP and its tracker writes through the
 * fake's scenario API: a setup poll tick would cost a whole tick of requests per case.
 */
async function dispatched(world: World): Promise<void> {
  repos(world);
  await dispatchIssue(world, API1);
}

/** `issue` as poll leaves it, in repos `repos` made. */
async function dispatchIssue(world: World, issue: typeof API1): Promise<void> {
  const createdAt = '2026-11-01T00:00:00Z';
  const title = `Fix thing ${issue.number}`;
  const body = `Please fix thing ${issue.number}.`;
  world.forge.addIssue(issue.repo, {
    number: issue.number,
    title,
    body,
    labels: ['agent-in-progress'],
    createdAt,
  });
  const plan = planDispatch({
    config: world.config,
    issue: {
      ...issue,
      title,
      body,
      labels: ['ready-for-agent'],
      state: 'open',
      author: 'octocat',
      createdAt,
      url: `https://forge.test/${issue.repo}/issues/${issue.number}`,
    },
    afkComment: null,
    snapshot: { sequence: 0, detail: 'slim', projects: [], threads: [] },
    now: world.now(),
  });
  if (!plan.ok) throw new Error(plan.reason);
  for (const action of plan.actions) {
    if (action.kind === 'ensureProject') await world.t3Client.createProject(action.command);
    if (action.kind === 'createThread') await world.t3Client.createThread(action.command);
    if (action.kind === 'startTurn') await world.t3Client.startTurn(action.command);
    if (action.kind === 'upsertChecklist') {
      world.forge.addComment(issue.repo, issue.number, {
        author: world.forge.selfLogin,
        body: action.body,
      });
    }
  }
}

/** The agent works test-first, pushes `sha` (its PR's head in pull-request mode) and stops. */
function agentPushes(world: World, mode: 'pull-request' | 'trunk', sha: string): void {
  world.t3.startProvider(THREAD);
  world.t3.say(THREAD, 'Wrote a failing test.\nAFK-PHASE: tests-red');
  world.t3.say(THREAD, 'All tests pass.\nAFK-PHASE: green');
  if (mode === 'pull-request') {
    world.forge.addPullRequest('acme/api', { head: 'afk/issue-1', headSha: sha, number: 12 });
  } else {
    world.forge.pushCommit('acme/api', 'main', sha);
  }
  world.t3.completeTurn(THREAD, `Pushed.\nAFK-PHASE: pushed ${sha}`);
}

/**
 * GitHub computes a pull request's mergeability in the background after a push, so by the
 * time CI has reported it is known. The fake computes it on the first read, which answers
 * null: this read stands for the background job, so that the scenario's tick sees what GitHub
 * shows by then (and the matrix covers what follows, not one more wait).
 */
async function mergeabilityComputed(world: World): Promise<void> {
  if (world.forgeKind !== 'github') return;
  const url = `${world.config.tracker.apiUrl}/repos/acme/api/pulls/12`;
  const answer = await fetch(url, { headers: { authorization: `token ${SECRETS.tracker}` } });
  if (!answer.ok) throw new Error(`priming mergeability: ${answer.status}`);
}

export const pollInTwoRepos: Scenario = {
  name: 'poll dispatching in two repos, one labeler untrusted',
  command: 'poll',
  config: { dispatch: { maxConcurrentRuns: 5, maxRunsPerRepo: 2, maxDispatchesPerTick: 3 } },
  issues: [API1, API2, WEB3],
  async build(world) {
    repos(world);
    ready(world, API1, 'maintainer', '2026-11-01T00:00:00Z');
    ready(world, API2, 'drive-by', '2026-11-02T00:00:00Z');
    ready(world, WEB3, 'maintainer', '2026-11-03T00:00:00Z');
  },
};

export const watchRunningTurn: Scenario = {
  name: 'watch with a running turn',
  command: 'watch',
  issues: [API1],
  async build(world) {
    await dispatched(world);
    world.t3.startProvider(THREAD);
    world.t3.say(THREAD, 'Wrote a failing test.\nAFK-PHASE: tests-red');
  },
};

export const watchCiFailure: Scenario = {
  name: 'watch at a CI failure (fix-forward)',
  command: 'watch',
  issues: [API1],
  async build(world) {
    await dispatched(world);
    agentPushes(world, 'pull-request', HEAD);
    await mergeabilityComputed(world);
    world.forge.setCi('acme/api', HEAD, 'unit tests', 'failure', {
      summary: 'expected 200, got 401',
    });
  },
};

export const watchReviewRequested: Scenario = {
  name: 'watch at green CI on an open PR (review requested)',
  command: 'watch',
  issues: [API1],
  knownFailures: [
    {
      upstream: 'tracker',
      request: /^PATCH \/repos\/acme\/api\/issues\/comments\/\d+$/,
      occurrence: 2,
      faults: ['503', 'timeout', 'reset', '401', '403 secondary rate limit', '429'],
      why: 'the notice rang but the tracker refused both writes of the record for the whole tick, so the next tick rings it again (at least once, by design: docs/concurrency.md)',
    },
    {
      upstream: 'slack',
      request: /./,
      faults: ['malformed 200'],
      why: 'Slack took the notice but its answer was unreadable; the next tick rings again',
    },
  ],
  async build(world) {
    await dispatched(world);
    agentPushes(world, 'pull-request', HEAD);
    await mergeabilityComputed(world);
    world.forge.setCi('acme/api', HEAD, 'test', 'success');
  },
};

export const watchReviewRound: Scenario = {
  name: 'watch at a trusted reviewer’s requested changes (review round)',
  command: 'watch',
  issues: [API1],
  async build(world) {
    await dispatched(world);
    agentPushes(world, 'pull-request', HEAD);
    await mergeabilityComputed(world);
    world.forge.setCi('acme/api', HEAD, 'test', 'success');
    world.forge.addReview('acme/api', 12, {
      author: 'maintainer',
      state: 'changes-requested',
      body: 'Handle the empty password.',
      comments: [{ path: 'src/login.ts', line: 3, body: 'This throws on "".' }],
    });
    world.forge.addPullComment('acme/api', 12, 'maintainer', 'Also log the failure.');
  },
};

export const watchConflict: Scenario = {
  name: 'watch at a pull request that conflicts with the default branch (conflict turn)',
  command: 'watch',
  issues: [API1],
  async build(world) {
    await dispatched(world);
    agentPushes(world, 'pull-request', HEAD);
    world.forge.setConflict('acme/api', 12, true);
    await mergeabilityComputed(world);
  },
};

export const watchCloseAfterDeployment: Scenario = {
  name: 'watch at a merged PR, CI green and a GitHub deployment done (close)',
  command: 'watch',
  forges: ['github'],
  config: { delivery: { mode: 'pull-request' }, deploy: { kind: 'github-deployment' } },
  issues: [API1],
  async build(world) {
    await dispatched(world);
    agentPushes(world, 'pull-request', HEAD);
    world.forge.setCi('acme/api', HEAD, 'test', 'success');
    world.forge.mergePullRequest('acme/api', 12, MERGE);
    world.forge.setCi('acme/api', MERGE, 'test', 'success');
    const github = world.forge as GitHubFake;
    const deployment = github.addDeployment('acme/api', { sha: MERGE, environment: 'production' });
    github.addDeploymentStatus('acme/api', deployment, { state: 'success' });
  },
};

export const watchCloseAfterCommitStatus: Scenario = {
  name: 'watch at a trunk push, CI green and a deploy commit status (close)',
  command: 'watch',
  config: { delivery: { mode: 'trunk' }, deploy: { kind: 'commit-status' } },
  issues: [API1],
  async build(world) {
    await dispatched(world);
    agentPushes(world, 'trunk', HEAD);
    world.forge.setCi('acme/api', HEAD, 'test', 'success');
    world.forge.addStatus('acme/api', HEAD, { context: 'deploy/production', state: 'success' });
  },
};

export const watchEscalations: Scenario = {
  name: 'watch at two escalations (agent error; a phantom lock)',
  command: 'watch',
  issues: [API1, WEB2],
  plantedLocks: [WEB2],
  async build(world) {
    await dispatched(world);
    world.t3.failProviderStart(THREAD, 'claude binary not found');
    world.forge.addIssue('acme/web', {
      number: 2,
      title: 'Locked by hand',
      labels: ['agent-in-progress'],
    });
  },
};

/**
 * A run watch escalated `needs-input` on the agent's pending request, as it leaves it: the
 * session kept for the answer, `ready-for-human` instead of the lock, the doorbell rung.
 */
function escalatedOnRequest(
  world: World,
  issue: typeof API1,
  awaiting: NonNullable<RunRecord['awaiting']>,
): void {
  const comment = world.forge
    .issue(issue.repo, issue.number)
    .comments.find((c) => c.author === world.forge.selfLogin);
  const parsed = comment === undefined ? null : parseChecklist(comment.body);
  if (comment === undefined || parsed?.ok !== true) throw new Error('no afk record');
  world.advance(5);
  const at = world.now().toISOString();
  const reason = `needs-input: the agent waits (request ${awaiting.requestId})`;
  const record: RunRecord = {
    ...parsed.record,
    outcome: 'escalated',
    reason,
    endedAt: at,
    awaiting,
    doorbell: { reason, rungAt: at },
  };
  world.forge.editComment(issue.repo, comment.id, renderChecklist(record));
  world.forge.unlabelIssue(issue.repo, issue.number, 'agent-in-progress', world.forge.selfLogin);
  world.forge.labelIssue(issue.repo, issue.number, 'ready-for-human', world.forge.selfLogin);
}

const command = (world: World, issue: typeof API1, author: string, body: string) => {
  world.advance(1);
  world.forge.addComment(issue.repo, issue.number, {
    author,
    body,
    createdAt: world.now().toISOString(),
  });
};

export const watchCommands: Scenario = {
  name: 'watch at /afk commands (approve, answer, stop, and one refused)',
  command: 'watch',
  issues: [API1, API2, WEB3],
  async build(world) {
    repos(world);
    for (const issue of [API1, API2, WEB3]) await dispatchIssue(world, issue);
    for (const issue of [API1, API2, WEB3]) world.t3.startProvider(threadIdFor(issue, 1));
    const approval = world.t3.requestApproval(THREAD, { detail: 'run the migrations' });
    escalatedOnRequest(world, API1, { kind: 'approval', requestId: approval.requestId });
    const question = world.t3.requestUserInput(threadIdFor(API2, 1), [
      { id: 'db', question: 'Which database should the test use?' },
    ]);
    escalatedOnRequest(world, API2, { kind: 'user-input', requestId: question.requestId });
    // A read-only user's command gets a reply; the maintainer's after it resumes the run.
    command(world, API1, 'drive-by', '/afk approve');
    command(world, API1, 'maintainer', '/afk approve');
    command(world, API2, 'maintainer', '/afk answer the sqlite one in test/fixtures');
    command(world, WEB3, 'maintainer', '/afk stop');
  },
};

/** Every scenario, in the order the forges after the first meet each kind of request. */
export const allScenarios: Scenario[] = [
  pollInTwoRepos,
  watchRunningTurn,
  watchCiFailure,
  watchReviewRequested,
  watchReviewRound,
  watchConflict,
  watchCloseAfterDeployment,
  watchCloseAfterCommitStatus,
  watchEscalations,
  watchCommands,
];
