// A strict in-memory Forgejo (and Gitea) REST API for the endpoints afk's tracker uses, as msw
// handlers under `/api/v1`. It answers the way Forgejo does, after its published swagger
// (templates/swagger/v1_json.tmpl) and, where the swagger is vague, its Go handlers
// (routers/api/v1/repo/*.go, services/convert, models/issues; Forgejo 11, June 2025):
// status codes, bodies, `X-Total-Count` and `Link` headers, Go's `null` for empty lists, and
// its refusals. Routes it does not implement fall through to msw's `onUnhandledRequest:
// 'error'`; query parameters it does not implement answer 501 (the real server would ignore
// them silently, which would hide a typo in afk).
// https://forgejo.org/docs/latest/user/api-usage/
//
// The fake is split the way firebase-tools splits its emulators: the state and the operations
// on it (forgejo/state.ts), how it refuses (forgejo/errors.ts), its wire shapes
// (forgejo/wire.ts), the request pipeline (forgejo/server.ts) and the routes
// (forgejo/routes-*.ts); this file wires them into msw handlers and holds the test-facing API.
import type { HttpHandler } from 'msw';
import type { FakeCiState, FakeReviewState, FakeStatusInput, ForgeFake } from './forge.js';
import { checkReview } from './forge-core.js';
import { createIssueRoutes } from './forgejo/routes-issues.js';
import { createLabelRoutes } from './forgejo/routes-labels.js';
import { createPullRoutes } from './forgejo/routes-pulls.js';
import { createRepoRoutes } from './forgejo/routes-repos.js';
import { createStatusRoutes } from './forgejo/routes-statuses.js';
import { createServer } from './forgejo/server.js';
import {
  createForgejoState,
  goTime,
  type ForgejoFakeOptions,
  type ForgejoReviewState,
  type IssueRecord,
  type PullRecord,
  type RepoRecord,
} from './forgejo/state.js';
import { createWire } from './forgejo/wire.js';

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
export type { ForgejoFakeOptions } from './forgejo/state.js';

export interface ForgejoFake extends ForgeFake {
  kind: 'forgejo';
  /**
   * Defines a label on organisation `org`: every repository the organisation owns may use
   * it, though the repository's own label list does not show it. Returns the label's id.
   */
  addOrgLabel(org: string, name: string): number;
  /**
   * Registers `login` as an individual account. A repository owner that is not registered is
   * an organisation; a user's repositories have no organisation labels (`/orgs/{login}` 404s).
   */
  addUser(login: string): void;
  /**
   * Deletes a branch, as "delete branch after merge" does: a pull request from it then shows
   * `head.ref: refs/pull/N/head`, while `head.label` keeps the branch's name.
   */
  deleteBranch(repo: string, branch: string): void;
}

export function createForgejoFake(options: ForgejoFakeOptions = {}): ForgejoFake {
  const state = createForgejoState(options);
  const {
    baseUrl,
    selfLogin,
    repos,
    orgs,
    userOwners,
    log,
    newId,
    stamp,
    knowUser,
    repoOrThrow,
    issueOrThrow,
    usableLabel,
    createLabel,
    ensureLabel,
    applyLabel,
    dropLabel,
    changeState,
    commentOrThrow,
    fullSha,
    pushTo,
    startPull,
    mergeInto,
    mergePull,
    closePull,
    advanceBase,
  } = state;
  const wire = createWire(state);
  const server = createServer(state);
  const { route } = server;
  const { getSelf, getRepo, getPermission } = createRepoRoutes(state, wire, server);
  const {
    listIssues,
    getIssue,
    editIssue,
    listComments,
    createComment,
    getComment,
    editComment,
    deleteComment,
    listReactions,
    createReaction,
    deleteReaction,
    listTimeline,
  } = createIssueRoutes(state, wire, server);
  const {
    listIssueLabels,
    addIssueLabels,
    removeIssueLabel,
    listRepoLabels,
    listOrgLabels,
    createRepoLabel,
  } = createLabelRoutes(state, wire, server);
  const { listPulls, getPull, listReviews, listReviewComments, getBranch, compareCommits } =
    createPullRoutes(state, wire, server);
  const { getCombinedStatus, listStatuses } = createStatusRoutes(state, wire, server);

  const handlers: HttpHandler[] = [
    route('get', '/user', getSelf),
    route('get', '/repos/:owner/:repo', getRepo),
    route('get', '/repos/:owner/:repo/collaborators/:collaborator/permission', getPermission),
    route('get', '/repos/:owner/:repo/issues', listIssues),
    route('get', '/repos/:owner/:repo/issues/comments/:id', getComment),
    route('patch', '/repos/:owner/:repo/issues/comments/:id', editComment),
    route('delete', '/repos/:owner/:repo/issues/comments/:id', deleteComment),
    route('get', '/repos/:owner/:repo/issues/comments/:id/reactions', listReactions),
    route('post', '/repos/:owner/:repo/issues/comments/:id/reactions', createReaction),
    route('delete', '/repos/:owner/:repo/issues/comments/:id/reactions', deleteReaction),
    route('get', '/repos/:owner/:repo/issues/:index', getIssue),
    route('patch', '/repos/:owner/:repo/issues/:index', editIssue),
    route('get', '/repos/:owner/:repo/issues/:index/comments', listComments),
    route('post', '/repos/:owner/:repo/issues/:index/comments', createComment),
    route('get', '/repos/:owner/:repo/issues/:index/timeline', listTimeline),
    route('get', '/repos/:owner/:repo/issues/:index/labels', listIssueLabels),
    route('post', '/repos/:owner/:repo/issues/:index/labels', addIssueLabels),
    route('delete', '/repos/:owner/:repo/issues/:index/labels/:id', removeIssueLabel),
    route('get', '/repos/:owner/:repo/labels', listRepoLabels),
    route('post', '/repos/:owner/:repo/labels', createRepoLabel),
    route('get', '/orgs/:org/labels', listOrgLabels),
    route('get', '/repos/:owner/:repo/pulls', listPulls),
    route('get', '/repos/:owner/:repo/pulls/:index', getPull),
    route('get', '/repos/:owner/:repo/pulls/:index/reviews', listReviews),
    route('get', '/repos/:owner/:repo/pulls/:index/reviews/:id/comments', listReviewComments),
    route('get', '/repos/:owner/:repo/branches/*', getBranch),
    route('get', '/repos/:owner/:repo/commits/:ref/status', getCombinedStatus),
    route('get', '/repos/:owner/:repo/commits/:ref/statuses', listStatuses),
    route('get', '/repos/:owner/:repo/compare/*', compareCommits),
  ];

  // --- the test-facing API ----------------------------------------------------------------

  const pullOrThrow = (repo: string, number: number): PullRecord => {
    const pull = repoOrThrow(repo).pulls.get(number);
    if (pull === undefined) throw new Error(`forgejo fake: no pull request ${repo}#${number}`);
    return pull;
  };

  const addStatus = (repo: string, sha: string, input: FakeStatusInput): number => {
    const record = repoOrThrow(repo);
    const key = fullSha(sha);
    const index =
      1 + Math.max(0, ...record.statuses.filter((s) => s.sha === key).map((s) => s.index));
    record.statuses.push({
      index,
      sha: key,
      context: input.context,
      state: input.state,
      targetUrl: input.targetUrl ?? '',
      description: input.description ?? '',
      createdAt: stamp(),
    });
    return index;
  };

  return {
    kind: 'forgejo',
    apiUrl: baseUrl,
    selfLogin,
    handlers,
    requests: log.requests,
    writes: log.writes,

    labelRef(repo, label) {
      const found = usableLabel(repoOrThrow(repo), label);
      if (found === undefined) throw new Error(`forgejo fake: ${repo} has no label "${label}"`);
      return String(found.id);
    },

    addRepo(repo, opts = {}) {
      const [owner, name, ...extra] = repo.split('/');
      if (!owner || !name || extra.length > 0) {
        throw new Error(`forgejo fake: "${repo}" is not owner/name`);
      }
      knowUser(owner);
      const collaborators = new Map(
        Object.entries(opts.collaborators ?? {}).map(([login, role]) => {
          knowUser(login);
          return [login.toLowerCase(), { login, role }];
        }),
      );
      const record: RepoRecord = {
        id: 100 + repos.size + 1,
        fullName: repo,
        owner,
        name,
        visibility: opts.visibility ?? 'private',
        collaborators,
        labels: [],
        issues: new Map(),
        createdAt: stamp(),
        defaultBranch: opts.defaultBranch ?? 'main',
        commits: new Map(),
        branches: new Map(),
        pulls: new Map(),
        statuses: [],
      };
      repos.set(repo.toLowerCase(), record);
      for (const label of opts.labels ?? []) ensureLabel(record, label);
    },

    addOrgLabel(org, name) {
      let record = orgs.get(org.toLowerCase());
      if (record === undefined) {
        record = { name: org, labels: [] };
        orgs.set(org.toLowerCase(), record);
      }
      const existing = record.labels.find((l) => l.name === name);
      if (existing !== undefined) return existing.id;
      return createLabel({ kind: 'org', org: record.name }, record.labels, name).id;
    },

    addUser(login) {
      userOwners.add(login.toLowerCase());
      knowUser(login);
    },

    addIssue(repo, input) {
      const record = repoOrThrow(repo);
      const number = input.number ?? Math.max(0, ...record.issues.keys()) + 1;
      if (record.issues.has(number)) throw new Error(`forgejo fake: ${repo}#${number} exists`);
      const createdAt = goTime(input.createdAt ?? stamp());
      const closed = input.state === 'closed';
      const author = input.author ?? 'octocat';
      knowUser(author);
      const issue: IssueRecord = {
        id: newId(),
        number,
        title: input.title,
        body: input.body ?? '',
        labels: [],
        state: closed ? 'closed' : 'open',
        author,
        createdAt,
        updatedAt: createdAt,
        closedAt: closed ? createdAt : null,
        isPullRequest: input.isPullRequest ?? false,
        timeline: [],
      };
      for (const name of input.labels ?? []) {
        const label = ensureLabel(record, name);
        if (!issue.labels.includes(label)) issue.labels.push(label);
      }
      for (const [name, actor] of Object.entries(input.labeledBy ?? {})) {
        knowUser(actor);
        const label = ensureLabel(record, name);
        issue.labels = issue.labels.filter((l) => l.id !== label.id);
        applyLabel(issue, label, actor, createdAt);
      }
      record.issues.set(number, issue);
      return number;
    },

    addComment(repo, number, comment) {
      const issue = issueOrThrow(repo, number);
      const at = goTime(comment.createdAt ?? stamp());
      knowUser(comment.author);
      const id = newId();
      issue.timeline.push({
        id,
        type: 'comment',
        actor: comment.author,
        body: comment.body,
        label: null,
        createdAt: at,
        updatedAt: at,
        reactions: [],
      });
      return id;
    },

    editComment(repo, commentId, body) {
      const { comment } = commentOrThrow(repo, commentId);
      comment.body = body;
      comment.updatedAt = stamp();
    },

    deleteComment(repo, commentId) {
      const { issue, comment } = commentOrThrow(repo, commentId);
      issue.timeline.splice(issue.timeline.indexOf(comment), 1);
    },

    labelIssue(repo, number, label, actor) {
      knowUser(actor);
      const record = repoOrThrow(repo);
      applyLabel(issueOrThrow(repo, number), ensureLabel(record, label), actor, stamp());
    },

    unlabelIssue(repo, number, label, actor) {
      knowUser(actor);
      const issue = issueOrThrow(repo, number);
      const carried = issue.labels.find((l) => l.name === label);
      if (carried === undefined || !dropLabel(issue, carried, actor, stamp())) {
        throw new Error(`forgejo fake: ${repo}#${number} does not carry "${label}"`);
      }
    },

    setIssueState(repo, number, state, actor) {
      knowUser(actor);
      changeState(issueOrThrow(repo, number), state, actor, stamp());
    },

    issue(repo, number) {
      const issue = issueOrThrow(repo, number);
      return {
        labels: issue.labels.map((label) => label.name),
        state: issue.state,
        // Forgejo has no state reason.
        stateReason: null,
        comments: issue.timeline
          .filter((row) => row.type === 'comment')
          .map(({ id, actor, body }) => ({ id, author: actor, body })),
        events: issue.timeline
          .filter((row) => row.type !== 'comment')
          .map((row) => ({
            event:
              row.type === 'label'
                ? row.body === '1'
                  ? 'labeled'
                  : 'unlabeled'
                : row.type === 'close'
                  ? 'closed'
                  : 'reopened',
            label: row.label?.name ?? '',
            actor: row.actor,
          })),
      };
    },

    reactions(repo, commentId) {
      const { comment } = commentOrThrow(repo, commentId);
      const byContent: Record<string, string[]> = {};
      for (const r of comment.reactions) (byContent[r.content] ??= []).push(r.login);
      return byContent;
    },

    failNext: log.failNext,
    clearFailures: log.clearFailures,

    setToken(next) {
      state.setToken(next);
    },

    pushCommit(repo, branch, sha, opts = {}) {
      pushTo(repoOrThrow(repo), branch, sha, opts.parents);
    },

    deleteBranch(repo, branch) {
      const record = repoOrThrow(repo);
      if (branch === record.defaultBranch) {
        throw new Error(`forgejo fake: ${branch} is the default branch of ${repo}`);
      }
      if (!record.branches.delete(branch)) {
        throw new Error(`forgejo fake: ${repo} has no branch ${branch}`);
      }
    },

    addPullRequest(repo, input) {
      const record = repoOrThrow(repo);
      const { number, headSha } = startPull(record, repo, input);
      const createdAt = goTime(input.createdAt ?? stamp());
      const closed = input.state === 'closed';
      const author = input.author ?? 'octocat';
      knowUser(author);
      record.issues.set(number, {
        id: newId(),
        number,
        title: input.title ?? `Work on ${input.head}`,
        body: '',
        labels: [],
        state: closed ? 'closed' : 'open',
        author,
        createdAt,
        updatedAt: createdAt,
        closedAt: closed ? createdAt : null,
        isPullRequest: true,
        timeline: [],
      });
      const pull: PullRecord = {
        id: newId(),
        number,
        head: input.head,
        headSha,
        mergedAt: null,
        mergeCommitSha: null,
        mergeBase: record.branches.get(record.defaultBranch) ?? headSha,
        conflicting: false,
        reviews: [],
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
      checkReview('forgejo fake', input);
      const pull = pullOrThrow(repo, number);
      knowUser(input.author);
      const at = stamp();
      const review = {
        id: newId(),
        author: input.author,
        state: reviewStates[input.state],
        dismissed: input.state === 'dismissed',
        body: input.body ?? '',
        commitId: pull.headSha,
        createdAt: at,
        comments: (input.comments ?? []).map((comment) => ({
          id: newId(),
          author: input.author,
          ...comment,
          createdAt: at,
        })),
      };
      pull.reviews.push(review);
      return { id: review.id };
    },

    addPullComment(repo, number, author, body) {
      pullOrThrow(repo, number);
      knowUser(author);
      const issue = issueOrThrow(repo, number);
      const at = stamp();
      const id = newId();
      issue.timeline.push({
        id,
        type: 'comment',
        actor: author,
        body,
        label: null,
        createdAt: at,
        updatedAt: at,
        reactions: [],
      });
      issue.updatedAt = at;
      return { id };
    },

    setConflict(repo, number, conflicting) {
      pullOrThrow(repo, number).conflicting = conflicting;
    },

    advanceBase(repo, number) {
      return advanceBase(repoOrThrow(repo), repo, number);
    },

    setCi(repo, sha, name, state, opts: { summary?: string } = {}) {
      addStatus(repo, sha, {
        context: name,
        state: ciStatus[state],
        description: opts.summary ?? ciDescription[state],
      });
    },

    addStatus,
  };
}

// --- helpers --------------------------------------------------------------------------------

// A dismissed review keeps its type and carries `dismissed: true`: a dismissed change request.
const reviewStates: Record<FakeReviewState, ForgejoReviewState> = {
  approved: 'APPROVED',
  'changes-requested': 'REQUEST_CHANGES',
  commented: 'COMMENT',
  dismissed: 'REQUEST_CHANGES',
  pending: 'PENDING',
};

/** The commit status Forgejo Actions posts for each forge-neutral CI state. */
const ciStatus: Record<FakeCiState, FakeStatusInput['state']> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
};

const ciDescription: Record<FakeCiState, string> = {
  pending: 'Waiting to run',
  running: 'Has started running',
  success: 'Successful',
  failure: 'Failing after 1m',
};
