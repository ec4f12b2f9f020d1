// A strict in-memory GitHub REST API for the endpoints afk's tracker uses, as msw handlers.
// It answers the way api.github.com does (status codes, bodies, Link and rate-limit headers)
// and refuses what GitHub refuses; routes it does not implement fall through to msw's
// `onUnhandledRequest: 'error'`, and query parameters it does not implement answer 501.
// https://docs.github.com/en/rest/issues
//
// The fake is split the way firebase-tools splits its emulators: the state and the operations
// on it (github/state.ts), how it refuses (github/errors.ts), its wire shapes (github/wire.ts),
// the request pipeline (github/server.ts) and the routes (github/routes-*.ts); this file wires
// them into msw handlers and holds the test-facing API.
import type { HttpHandler } from 'msw';
import type { FakeCiState, FakeReviewState, FakeStatusInput, ForgeFake } from './forge.js';
import { checkReview, fakeSha } from './forge-core.js';
import { createAppRoutes, type FakeAppInstallInput } from './github/apps.js';
import { answerGraphql, type GraphqlAccount } from './github/graphql.js';
import { createServer } from './github/server.js';
import { createCiRoutes } from './github/routes-ci.js';
import { createIssueRoutes } from './github/routes-issues.js';
import { createPullRoutes } from './github/routes-pulls.js';
import { createRepoRoutes } from './github/routes-repos.js';
import {
  createGitHubState,
  type CheckRunRecord,
  type DeploymentRecord,
  type FakeCheckRunConclusion,
  type FakeCheckRunInput,
  type FakeCheckRunStatus,
  type FakeDeploymentInput,
  type FakeDeploymentStatusInput,
  type GitHubFakeOptions,
  type GitHubReviewState,
  type IssueRecord,
  type PullRecord,
  type StatusRecord,
} from './github/state.js';
import { createWire } from './github/wire.js';

export type {
  FakeFailure,
  FakeIssueInput,
  FakeIssueState,
  FakePullRequestInput,
  FakeRepoOptions,
  FakeReviewInput,
  FakeReviewState,
  FakeRole,
  FakeStatusInput,
  RecordedRequest,
  RequestMatch,
} from './forge.js';
export { afkAppPermissions, type FakeAppInstallInput } from './github/apps.js';
export type {
  FakeCheckRunConclusion,
  FakeCheckRunInput,
  FakeCheckRunStatus,
  FakeDeploymentInput,
  FakeDeploymentState,
  FakeDeploymentStatusInput,
  GitHubFakeOptions,
} from './github/state.js';

export interface GitHubFake extends ForgeFake {
  kind: 'github';
  /** Returns the run's id. */
  addCheckRun(repo: string, sha: string, run: FakeCheckRunInput): number;
  updateCheckRun(repo: string, id: number, patch: Partial<FakeCheckRunInput>): void;
  /** Returns the status's id. Statuses are append-only; the newest per context wins. */
  addStatus(repo: string, sha: string, status: FakeStatusInput): number;
  /** Returns the deployment's id. It has no status until one is added. */
  addDeployment(repo: string, deployment: FakeDeploymentInput): number;
  /** Returns the status's id. */
  addDeploymentStatus(
    repo: string,
    deploymentId: number,
    status: FakeDeploymentStatusInput,
  ): number;
  /**
   * Registers a GitHub App (once per id) and installs it on an account; returns the
   * installation's id. Its tokens act as `<slug>[bot]`.
   */
  installApp(input: FakeAppInstallInput): number;
  /** Changes what an installation was granted, as an owner editing it on GitHub would. */
  setAppPermissions(installationId: number, permissions: Record<string, 'read' | 'write'>): void;
  /** GraphQL points spent (GitHub's `rateLimit.used`) and queries answered, since creation. */
  readonly graphql: Readonly<GraphqlAccount>;
}

export function createGitHubFake(options: GitHubFakeOptions = {}): GitHubFake {
  const state = createGitHubState(options);
  const {
    baseUrl,
    selfLogin,
    repos,
    log,
    requests,
    newId,
    stamp,
    fullSha,
    pushTo,
    mergeInto,
    startPull,
    mergePull,
    closePull,
    advanceBase,
    repoOrThrow,
    issueOrThrow,
    ensureLabel,
    applyLabel,
    dropLabel,
    changeState,
    commentIn,
    checkRunOf,
  } = state;
  const wire = createWire(state);
  const server = createServer(state);
  const { route } = server;
  const {
    listIssues,
    getIssue,
    updateIssue,
    listComments,
    createComment,
    updateComment,
    getComment,
    deleteComment,
    createReaction,
    listReactions,
    deleteReaction,
    listEvents,
    addLabels,
    removeLabel,
  } = createIssueRoutes(state, wire, server);
  const { getPermission, getSelf, listRepoLabels, createLabel, getRepo } = createRepoRoutes(
    state,
    wire,
    server,
  );
  const { listPulls, getPull, listReviews, listReviewComments, compareCommits } = createPullRoutes(
    state,
    wire,
    server,
  );
  const { listCheckRuns, getCombinedStatus, listDeployments, listDeploymentStatuses } =
    createCiRoutes(state, wire, server);
  const { getApp, getRepoInstallation, createAccessToken } = createAppRoutes(
    state,
    wire,
    server,
    server.apps,
  );
  // What an installation token needs on each route, from the "Permissions required for GitHub
  // Apps" table of each endpoint's docs page.
  const jwt = { jwt: true } as const;
  const needs = (name: string, level: 'read' | 'write') => ({
    permission: [name, level] as [string, 'read' | 'write'],
  });
  const issuesRead = needs('issues', 'read');
  const issuesWrite = needs('issues', 'write');

  const graphql: GraphqlAccount = { points: 0, queries: 0 };
  const handlers: HttpHandler[] = [
    route('get', '/app', getApp, jwt),
    route('get', '/repos/:owner/:repo/installation', getRepoInstallation, jwt),
    route('post', '/app/installations/:installation_id/access_tokens', createAccessToken, jwt),
    route('post', '/graphql', ({ body }) => {
      const answered = answerGraphql(state, graphql, body);
      return server.answer(answered.status, answered.body, answered.headers);
    }),
    route('get', '/user', getSelf),
    route('get', '/repos/:owner/:repo/issues', listIssues, issuesRead),
    route('get', '/repositories/:id/issues', listIssues, issuesRead),
    route('get', '/repos/:owner/:repo/issues/:number', getIssue, issuesRead),
    route('patch', '/repos/:owner/:repo/issues/:number', updateIssue, issuesWrite),
    route('get', '/repos/:owner/:repo/issues/:number/comments', listComments, issuesRead),
    route('get', '/repositories/:id/issues/:number/comments', listComments, issuesRead),
    route('post', '/repos/:owner/:repo/issues/:number/comments', createComment, issuesWrite),
    route('get', '/repos/:owner/:repo/issues/comments/:id', getComment, issuesRead),
    route('patch', '/repos/:owner/:repo/issues/comments/:id', updateComment, issuesWrite),
    route('delete', '/repos/:owner/:repo/issues/comments/:id', deleteComment, issuesWrite),
    route('get', '/repos/:owner/:repo/issues/comments/:id/reactions', listReactions, issuesRead),
    route('post', '/repos/:owner/:repo/issues/comments/:id/reactions', createReaction, issuesWrite),
    route(
      'delete',
      '/repos/:owner/:repo/issues/comments/:id/reactions/:reaction_id',
      deleteReaction,
      issuesWrite,
    ),
    route('get', '/repos/:owner/:repo/issues/:number/events', listEvents, issuesRead),
    route('get', '/repositories/:id/issues/:number/events', listEvents, issuesRead),
    route('post', '/repos/:owner/:repo/issues/:number/labels', addLabels, issuesWrite),
    route('delete', '/repos/:owner/:repo/issues/:number/labels/:name', removeLabel, issuesWrite),
    route(
      'get',
      '/repos/:owner/:repo/collaborators/:username/permission',
      getPermission,
      needs('metadata', 'read'),
    ),
    route('get', '/repos/:owner/:repo', getRepo, needs('metadata', 'read')),
    route('get', '/repos/:owner/:repo/labels', listRepoLabels, issuesRead),
    route('get', '/repositories/:id/labels', listRepoLabels, issuesRead),
    route('post', '/repos/:owner/:repo/labels', createLabel, issuesWrite),
    route('get', '/repos/:owner/:repo/pulls', listPulls, needs('pull_requests', 'read')),
    route('get', '/repositories/:id/pulls', listPulls, needs('pull_requests', 'read')),
    route('get', '/repos/:owner/:repo/pulls/:number', getPull, needs('pull_requests', 'read')),
    route(
      'get',
      '/repos/:owner/:repo/pulls/:number/reviews',
      listReviews,
      needs('pull_requests', 'read'),
    ),
    route(
      'get',
      '/repositories/:id/pulls/:number/reviews',
      listReviews,
      needs('pull_requests', 'read'),
    ),
    route(
      'get',
      '/repos/:owner/:repo/pulls/:number/comments',
      listReviewComments,
      needs('pull_requests', 'read'),
    ),
    route(
      'get',
      '/repositories/:id/pulls/:number/comments',
      listReviewComments,
      needs('pull_requests', 'read'),
    ),
    route(
      'get',
      '/repos/:owner/:repo/compare/:basehead',
      compareCommits,
      needs('contents', 'read'),
    ),
    route(
      'get',
      '/repos/:owner/:repo/commits/:ref/check-runs',
      listCheckRuns,
      needs('checks', 'read'),
    ),
    route(
      'get',
      '/repositories/:id/commits/:ref/check-runs',
      listCheckRuns,
      needs('checks', 'read'),
    ),
    route(
      'get',
      '/repos/:owner/:repo/commits/:ref/status',
      getCombinedStatus,
      needs('statuses', 'read'),
    ),
    route(
      'get',
      '/repositories/:id/commits/:ref/status',
      getCombinedStatus,
      needs('statuses', 'read'),
    ),
    route('get', '/repos/:owner/:repo/deployments', listDeployments, needs('deployments', 'read')),
    route('get', '/repositories/:id/deployments', listDeployments, needs('deployments', 'read')),
    route(
      'get',
      '/repos/:owner/:repo/deployments/:deployment_id/statuses',
      listDeploymentStatuses,
      needs('deployments', 'read'),
    ),
  ];

  // --- the test-facing API ----------------------------------------------------------------

  function pullOrThrow(repo: string, number: number): PullRecord {
    const pull = repoOrThrow(repo).pulls.get(number);
    if (pull === undefined) throw new Error(`github fake: no pull request ${repo}#${number}`);
    return pull;
  }

  function addCheckRun(repo: string, sha: string, input: FakeCheckRunInput): number {
    const record = repoOrThrow(repo);
    const headSha = fullSha(sha);
    if (!record.commits.has(headSha)) record.ciShas.add(headSha);
    const at = stamp();
    const run: CheckRunRecord = {
      id: newId(),
      headSha,
      name: input.name,
      ...runState(input.status, input.conclusion),
      url: input.url ?? null,
      title: input.title ?? null,
      summary: input.summary ?? null,
      startedAt: at,
      completedAt: null,
    };
    if (run.status === 'completed') run.completedAt = at;
    record.checkRuns.push(run);
    return run.id;
  }

  function updateCheckRun(repo: string, id: number, patch: Partial<FakeCheckRunInput>): void {
    const run = checkRunOf(repo, id);
    const wasCompleted = run.status === 'completed';
    const state = runState(
      patch.status ?? (patch.conclusion === undefined ? run.status : 'completed'),
      patch.conclusion ?? run.conclusion ?? undefined,
    );
    Object.assign(run, state, {
      name: patch.name ?? run.name,
      url: patch.url ?? run.url,
      title: patch.title ?? run.title,
      summary: patch.summary ?? run.summary,
    });
    if (run.status === 'completed' && !wasCompleted) run.completedAt = stamp();
    if (run.status !== 'completed') run.completedAt = null;
  }

  return {
    kind: 'github',
    apiUrl: baseUrl,
    selfLogin,
    handlers,
    requests,
    // A GraphQL query is a POST that writes nothing.
    writes: () => log.writes().filter((r) => r.path !== '/graphql'),
    graphql,
    labelRef: (_repo, label) => encodeURIComponent(label),

    addRepo(repo, opts = {}) {
      const [owner, name, ...extra] = repo.split('/');
      if (!owner || !name || extra.length > 0)
        throw new Error(`github fake: "${repo}" is not owner/name`);
      const collaborators = new Map(
        Object.entries(opts.collaborators ?? {}).map(([login, role]) => [
          login.toLowerCase(),
          { login, role },
        ]),
      );
      repos.set(repo.toLowerCase(), {
        id: 100_000 + repos.size + 1,
        fullName: repo,
        owner,
        visibility: opts.visibility ?? 'private',
        collaborators,
        labels: new Map(),
        issues: new Map(),
        createdAt: stamp(),
        defaultBranch: opts.defaultBranch ?? 'main',
        commits: new Map(),
        branches: new Map(),
        pulls: new Map(),
        ciShas: new Set(),
        checkRuns: [],
        statuses: [],
        deployments: [],
      });
      const record = repoOrThrow(repo);
      for (const name of opts.labels ?? []) ensureLabel(record, name);
    },

    addIssue(repo, input) {
      const record = repoOrThrow(repo);
      const number = input.number ?? Math.max(0, ...record.issues.keys()) + 1;
      if (record.issues.has(number)) throw new Error(`github fake: ${repo}#${number} exists`);
      const createdAt = input.createdAt ?? stamp();
      const closed = input.state === 'closed';
      const issue: IssueRecord = {
        id: newId(),
        number,
        title: input.title,
        body: input.body ?? null,
        labels: [],
        state: closed ? 'closed' : 'open',
        stateReason: closed ? 'completed' : null,
        author: input.author ?? 'octocat',
        createdAt,
        updatedAt: createdAt,
        closedAt: closed ? createdAt : null,
        isPullRequest: input.isPullRequest ?? false,
        comments: [],
        events: [],
      };
      for (const name of input.labels ?? []) {
        const label = ensureLabel(record, name);
        if (!issue.labels.includes(label)) issue.labels.push(label);
      }
      for (const [name, actor] of Object.entries(input.labeledBy ?? {})) {
        issue.labels = issue.labels.filter((l) => l.name.toLowerCase() !== name.toLowerCase());
        applyLabel(record, issue, name, actor, createdAt);
      }
      record.issues.set(number, issue);
      return number;
    },

    addComment(repo, number, comment) {
      const issue = issueOrThrow(repo, number);
      const at = comment.createdAt ?? stamp();
      const id = newId();
      issue.comments.push({
        id,
        issueNumber: number,
        author: comment.author,
        body: comment.body,
        createdAt: at,
        updatedAt: at,
        reactions: [],
      });
      return id;
    },

    editComment(repo, commentId, body) {
      const found = commentIn(repoOrThrow(repo), commentId);
      if (found === undefined) throw new Error(`github fake: no comment ${commentId} in ${repo}`);
      found.comment.body = body;
      found.comment.updatedAt = stamp();
    },

    deleteComment(repo, commentId) {
      const found = commentIn(repoOrThrow(repo), commentId);
      if (found === undefined) throw new Error(`github fake: no comment ${commentId} in ${repo}`);
      found.issue.comments.splice(found.issue.comments.indexOf(found.comment), 1);
    },

    setIssueState(repo, number, state, actor) {
      changeState(issueOrThrow(repo, number), state, null, actor, stamp());
    },

    reactions(repo, commentId) {
      const found = commentIn(repoOrThrow(repo), commentId);
      if (found === undefined) throw new Error(`github fake: no comment ${commentId} in ${repo}`);
      const byContent: Record<string, string[]> = {};
      for (const r of found.comment.reactions) (byContent[r.content] ??= []).push(r.login);
      return byContent;
    },

    labelIssue(repo, number, label, actor) {
      applyLabel(repoOrThrow(repo), issueOrThrow(repo, number), label, actor, stamp());
    },

    unlabelIssue(repo, number, label, actor) {
      if (!dropLabel(issueOrThrow(repo, number), label, actor, stamp())) {
        throw new Error(`github fake: ${repo}#${number} does not carry "${label}"`);
      }
    },

    issue(repo, number) {
      const issue = issueOrThrow(repo, number);
      return {
        labels: issue.labels.map((label) => label.name),
        state: issue.state,
        stateReason: issue.stateReason,
        comments: issue.comments.map(({ id, author, body }) => ({ id, author, body })),
        events: issue.events.map((event) => ({
          event: event.event,
          label: event.label?.name ?? '',
          actor: event.actor,
        })),
      };
    },

    failNext: log.failNext,
    clearFailures: log.clearFailures,

    setToken(next) {
      state.setToken(next);
    },

    pushCommit(repo, branch, sha, opts = {}) {
      pushTo(repoOrThrow(repo), branch, sha, opts.parents);
    },

    addPullRequest(repo, input) {
      const record = repoOrThrow(repo);
      const { number, headSha } = startPull(record, repo, input);
      const createdAt = input.createdAt ?? stamp();
      const closed = input.state === 'closed';
      record.issues.set(number, {
        id: newId(),
        number,
        title: input.title ?? `Work on ${input.head}`,
        body: null,
        labels: [],
        state: closed ? 'closed' : 'open',
        stateReason: null,
        author: input.author ?? 'octocat',
        createdAt,
        updatedAt: createdAt,
        closedAt: closed ? createdAt : null,
        isPullRequest: true,
        comments: [],
        events: [],
      });
      // While open, merge_commit_sha is GitHub's test merge: a commit on no branch.
      // https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
      const pull: PullRecord = {
        id: newId(),
        number,
        head: input.head,
        headSha,
        mergedAt: null,
        mergeCommitSha: fakeSha(`test-merge:${repo}#${number}:${headSha}`),
        conflicting: false,
        mergeableFor: null,
        reviews: [],
        reviewComments: [],
      };
      record.pulls.set(number, pull);
      if (input.merged === true && input.mergeCommitSha !== undefined) {
        mergeInto(record, pull, input.mergeCommitSha, createdAt);
      }
      return number;
    },

    mergePullRequest(repo, number, mergeCommitSha) {
      mergePull(repoOrThrow(repo), repo, number, mergeCommitSha);
    },

    closePullRequest(repo, number) {
      closePull(repoOrThrow(repo), repo, number);
    },

    addReview(repo, number, input) {
      checkReview('github fake', input);
      const pull = pullOrThrow(repo, number);
      const at = stamp();
      const pending = input.state === 'pending';
      const review = {
        id: newId(),
        author: input.author,
        state: reviewStates[input.state],
        body: input.body ?? '',
        commitId: pull.headSha,
        submittedAt: pending ? null : at,
      };
      pull.reviews.push(review);
      for (const comment of input.comments ?? []) {
        pull.reviewComments.push({
          id: newId(),
          reviewId: review.id,
          author: input.author,
          ...comment,
          commitId: pull.headSha,
          createdAt: at,
        });
      }
      return { id: review.id };
    },

    addPullComment(repo, number, author, body) {
      pullOrThrow(repo, number);
      const issue = issueOrThrow(repo, number);
      const at = stamp();
      const id = newId();
      issue.comments.push({
        id,
        issueNumber: number,
        author,
        body,
        createdAt: at,
        updatedAt: at,
        reactions: [],
      });
      issue.updatedAt = at;
      return { id };
    },

    setConflict(repo, number, conflicting) {
      const pull = pullOrThrow(repo, number);
      pull.conflicting = conflicting;
      // A conflict comes with a push: GitHub computes mergeability again.
      pull.mergeableFor = null;
    },

    advanceBase(repo, number) {
      return advanceBase(repoOrThrow(repo), repo, number);
    },

    addCheckRun,
    updateCheckRun,

    setCi(repo, sha, name, state, opts = {}) {
      const headSha = fullSha(sha);
      const run = repoOrThrow(repo)
        .checkRuns.filter((r) => r.headSha === headSha && r.name === name)
        .at(-1);
      const input = {
        ...ciRun[state],
        ...(opts.summary === undefined ? {} : { summary: opts.summary }),
      };
      // A re-run after a completed run is a new check run, as on GitHub; `filter=latest` shows it.
      if (run === undefined || run.status === 'completed')
        addCheckRun(repo, sha, { name, ...input });
      else updateCheckRun(repo, run.id, input);
    },

    addStatus(repo, sha, input) {
      if (input.state === 'warning') {
        throw new Error('github fake: GitHub has no "warning" status state (Forgejo has)');
      }
      const record = repoOrThrow(repo);
      const key = fullSha(sha);
      if (!record.commits.has(key)) record.ciShas.add(key);
      const status: StatusRecord = {
        id: newId(),
        sha: key,
        context: input.context,
        state: input.state,
        targetUrl: input.targetUrl ?? null,
        description: input.description ?? null,
        createdAt: stamp(),
      };
      record.statuses.push(status);
      return status.id;
    },

    addDeployment(repo, input) {
      const record = repoOrThrow(repo);
      const at = input.createdAt ?? stamp();
      const deployment: DeploymentRecord = {
        id: newId(),
        sha: fullSha(input.sha),
        ref: input.ref ?? record.defaultBranch,
        environment: input.environment,
        createdAt: at,
        updatedAt: at,
        statuses: [],
      };
      record.deployments.push(deployment);
      return deployment.id;
    },

    installApp: server.apps.installApp,

    setAppPermissions(installationId, permissions) {
      const installation = state.installations.get(installationId);
      if (installation === undefined) {
        throw new Error(`github fake: no installation ${installationId}`);
      }
      installation.permissions = { ...permissions };
    },

    addDeploymentStatus(repo, deploymentId, input) {
      const deployment = repoOrThrow(repo).deployments.find((d) => d.id === deploymentId);
      if (deployment === undefined) {
        throw new Error(`github fake: no deployment ${deploymentId} in ${repo}`);
      }
      const at = input.createdAt ?? stamp();
      const status = {
        id: newId(),
        state: input.state,
        environmentUrl: input.environmentUrl ?? '',
        logUrl: input.logUrl ?? '',
        description: input.description ?? '',
        createdAt: at,
      };
      deployment.statuses.push(status);
      deployment.updatedAt = at;
      return status.id;
    },
  };
}

// https://docs.github.com/en/rest/pulls/reviews (a dismissed review's state is DISMISSED)
const reviewStates: Record<FakeReviewState, GitHubReviewState> = {
  approved: 'APPROVED',
  'changes-requested': 'CHANGES_REQUESTED',
  commented: 'COMMENTED',
  dismissed: 'DISMISSED',
  pending: 'PENDING',
};

/** The check run GitHub Actions shows for each forge-neutral CI state. */
const ciRun: Record<FakeCiState, Pick<FakeCheckRunInput, 'status' | 'conclusion'>> = {
  pending: { status: 'queued' },
  running: { status: 'in_progress' },
  success: { status: 'completed', conclusion: 'success' },
  failure: { status: 'completed', conclusion: 'failure' },
};

/**
 * A conclusion completes a run; a completed run needs one (GitHub answers 422 otherwise).
 * https://docs.github.com/en/rest/checks/runs#create-a-check-run
 */
function runState(
  status: FakeCheckRunStatus,
  conclusion: FakeCheckRunConclusion | undefined,
): { status: FakeCheckRunStatus; conclusion: FakeCheckRunConclusion | null } {
  if (conclusion !== undefined) return { status: 'completed', conclusion };
  if (status === 'completed') {
    throw new Error('github fake: a completed check run needs a conclusion (GitHub answers 422)');
  }
  return { status, conclusion: null };
}
