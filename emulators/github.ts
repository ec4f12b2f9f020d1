// A strict in-memory GitHub REST API for the endpoints afk's tracker uses, as msw handlers.
// It answers the way api.github.com does (status codes, bodies, Link and rate-limit headers)
// and refuses what GitHub refuses; routes it does not implement fall through to msw's
// `onUnhandledRequest: 'error'`, and query parameters it does not implement answer 501.
// https://docs.github.com/en/rest/issues
import { http, HttpResponse, type HttpHandler } from 'msw';
import type { FakeCiState, FakeFailure, FakeRole, FakeStatusInput, ForgeFake } from './forge.js';
import {
  compare,
  createCommitGraph,
  createRequestLog,
  failureAnswer as answerFailure,
  fakeSha,
  flatten,
  isObject,
  userId,
  type CommitRecord,
} from './forge-core.js';

export type {
  FakeFailure,
  FakeIssueInput,
  FakeIssueState,
  FakePullRequestInput,
  FakeRepoOptions,
  FakeRole,
  FakeStatusInput,
  RecordedRequest,
  RequestMatch,
} from './forge.js';

export interface GitHubFakeOptions {
  /** Default `https://api.github.test`; may carry a path, like GHES's `/api/v3`. */
  baseUrl?: string;
  /** The one token accepted (as `token X` or `Bearer X`). Default `gh-test-token`. */
  token?: string;
  /** The login the token acts as. Default `afk-bot`. */
  selfLogin?: string;
  /**
   * The token is a GitHub App installation token: `GET /user` answers 403 "Resource not
   * accessible by integration", as GitHub does. Default false.
   */
  appInstallation?: boolean;
  /** The fake's clock, for the timestamps of writes. Default the real clock. */
  now?: () => Date;
}

export type FakeCheckRunStatus =
  'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending';

export type FakeCheckRunConclusion =
  | 'success'
  | 'failure'
  | 'neutral'
  | 'cancelled'
  | 'skipped'
  | 'timed_out'
  | 'action_required'
  | 'stale'
  | 'startup_failure';

export interface FakeCheckRunInput {
  name: string;
  /** A conclusion completes the run, as GitHub does. */
  status: FakeCheckRunStatus;
  conclusion?: FakeCheckRunConclusion;
  /** html_url and details_url, as GitHub Actions sets both. Default the run's checks page. */
  url?: string;
  title?: string;
  summary?: string;
}

export type FakeDeploymentState =
  'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

export interface FakeDeploymentInput {
  sha: string;
  environment: string;
  /** Default the repository's default branch. */
  ref?: string;
  createdAt?: string;
}

export interface FakeDeploymentStatusInput {
  state: FakeDeploymentState;
  environmentUrl?: string;
  logUrl?: string;
  description?: string;
  createdAt?: string;
}

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
}

interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

interface CommentRecord {
  id: number;
  issueNumber: number;
  author: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  reactions: ReactionRecord[];
}

interface ReactionRecord {
  id: number;
  login: string;
  content: string;
  createdAt: string;
}

interface EventRecord {
  id: number;
  event: 'labeled' | 'unlabeled' | 'closed' | 'reopened';
  label: LabelRecord | null;
  actor: string;
  createdAt: string;
  stateReason: string | null;
}

interface IssueRecord {
  id: number;
  number: number;
  title: string;
  body: string | null;
  labels: LabelRecord[];
  state: 'open' | 'closed';
  stateReason: string | null;
  author: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  isPullRequest: boolean;
  comments: CommentRecord[];
  events: EventRecord[];
}

interface PullRecord {
  id: number;
  number: number;
  head: string;
  headSha: string;
  mergedAt: string | null;
  /** The test merge while open, the real merge commit once merged. */
  mergeCommitSha: string;
}

interface CheckRunRecord {
  id: number;
  headSha: string;
  name: string;
  status: FakeCheckRunStatus;
  conclusion: FakeCheckRunConclusion | null;
  url: string | null;
  title: string | null;
  summary: string | null;
  startedAt: string;
  completedAt: string | null;
}

interface StatusRecord {
  id: number;
  sha: string;
  context: string;
  state: 'pending' | 'success' | 'failure' | 'error';
  targetUrl: string | null;
  description: string | null;
  createdAt: string;
}

interface DeploymentRecord {
  id: number;
  sha: string;
  ref: string;
  environment: string;
  createdAt: string;
  updatedAt: string;
  statuses: Array<{
    id: number;
    state: FakeDeploymentState;
    environmentUrl: string;
    logUrl: string;
    description: string;
    createdAt: string;
  }>;
}

interface RepoRecord {
  id: number;
  fullName: string;
  owner: string;
  visibility: 'public' | 'private';
  collaborators: Map<string, { login: string; role: FakeRole }>;
  labels: Map<string, LabelRecord>;
  issues: Map<number, IssueRecord>;
  createdAt: string;
  defaultBranch: string;
  commits: Map<string, CommitRecord>;
  branches: Map<string, string>;
  pulls: Map<number, PullRecord>;
  /** Shas that carry CI data without being pushed: the CI endpoints know them, compare not. */
  ciShas: Set<string>;
  checkRuns: CheckRunRecord[];
  statuses: StatusRecord[];
  deployments: DeploymentRecord[];
}

const docs = 'https://docs.github.com/rest';
// https://docs.github.com/en/rest/reactions/reactions#about-reactions
const reactionContents = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'];
const rateLimit = 5000;
// GitHub's label colours, cycled for labels the fake creates.
const colours = ['d73a4a', '0075ca', 'cfd3d7', 'a2eeef', '7057ff', '008672', 'e4e669', 'd876e3'];
const legacyPermission: Record<FakeRole, 'admin' | 'write' | 'read'> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
};
const roleRank: Record<FakeRole, number> = { read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

/** Thrown inside a route: becomes GitHub's error answer. */
class Refusal {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly documentation: string = docs,
    readonly errors?: unknown[],
  ) {}
}

export function createGitHubFake(options: GitHubFakeOptions = {}): GitHubFake {
  const baseUrl = (options.baseUrl ?? 'https://api.github.test').replace(/\/+$/, '');
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  // https://api.github.com → https://github.com; https://ghe.example/api/v3 → https://ghe.example
  const webUrl = `${base.protocol}//${base.host.replace(/^api\./, '')}`;
  const selfLogin = options.selfLogin ?? 'afk-bot';
  const now = options.now ?? (() => new Date());
  let token = options.token ?? 'gh-test-token';

  const repos = new Map<string, RepoRecord>();
  const log = createRequestLog(basePath);
  const requests = log.requests;
  let nextId = 1000;
  const newId = () => ++nextId;
  const stamp = () => now().toISOString();
  // Merging or closing a pull request that is not open: GitHub's API answers 405 there.
  const { fullSha, pushTo, commitOf, historyOf, mergeInto, startPull, mergePull, closePull } =
    createCommitGraph('github fake', stamp, ' (GitHub answers 405)');

  // --- lookups ----------------------------------------------------------------------------

  const findRepo = (owner: string, name: string): RepoRecord | undefined =>
    repos.get(`${owner}/${name}`.toLowerCase());

  const repoOrThrow = (repo: string): RepoRecord => {
    const record = repos.get(repo.toLowerCase());
    if (record === undefined) throw new Error(`github fake: unknown repo ${repo}; addRepo first`);
    return record;
  };

  const issueOrThrow = (repo: string, number: number): IssueRecord => {
    const record = repoOrThrow(repo).issues.get(number);
    if (record === undefined) throw new Error(`github fake: no issue ${repo}#${number}`);
    return record;
  };

  const ensureLabel = (repo: RepoRecord, name: string): LabelRecord => {
    const key = name.toLowerCase();
    let label = repo.labels.get(key);
    if (label === undefined) {
      label = {
        id: newId(),
        name,
        color: colours[repo.labels.size % colours.length] ?? 'ededed',
        description: null,
      };
      repo.labels.set(key, label);
    }
    return label;
  };

  const applyLabel = (
    repo: RepoRecord,
    issue: IssueRecord,
    name: string,
    actor: string,
    at: string,
  ) => {
    const label = ensureLabel(repo, name);
    // Applying a label the issue already carries changes nothing and records nothing.
    if (issue.labels.some((l) => l.id === label.id)) return;
    issue.labels.push(label);
    issue.events.push({
      id: newId(),
      event: 'labeled',
      label,
      actor,
      createdAt: at,
      stateReason: null,
    });
    issue.updatedAt = at;
  };

  const dropLabel = (issue: IssueRecord, name: string, actor: string, at: string): boolean => {
    const index = issue.labels.findIndex((l) => l.name.toLowerCase() === name.toLowerCase());
    const label = issue.labels[index];
    if (label === undefined) return false;
    issue.labels.splice(index, 1);
    issue.events.push({
      id: newId(),
      event: 'unlabeled',
      label,
      actor,
      createdAt: at,
      stateReason: null,
    });
    issue.updatedAt = at;
    return true;
  };

  /** Closing or reopening, recorded as the event GitHub records; the same state is a no-op. */
  const changeState = (
    issue: IssueRecord,
    state: 'open' | 'closed',
    reason: string | null,
    actor: string,
    at: string,
  ) => {
    if (state === issue.state) return;
    issue.state = state;
    issue.stateReason =
      state === 'open'
        ? 'reopened'
        : reason !== null && reason !== 'reopened'
          ? reason
          : 'completed';
    issue.closedAt = state === 'closed' ? at : null;
    issue.events.push({
      id: newId(),
      event: state === 'closed' ? 'closed' : 'reopened',
      label: null,
      actor,
      createdAt: at,
      stateReason: state === 'closed' ? issue.stateReason : null,
    });
    issue.updatedAt = at;
  };

  /** A comment by id anywhere in the repository, with its issue. */
  const commentIn = (repo: RepoRecord, id: number) => {
    for (const issue of repo.issues.values()) {
      const comment = issue.comments.find((c) => c.id === id);
      if (comment !== undefined) return { issue, comment };
    }
    return undefined;
  };

  const roleOf = (repo: RepoRecord, login: string): FakeRole | undefined => {
    const listed = repo.collaborators.get(login.toLowerCase());
    if (listed !== undefined) return listed.role;
    return login.toLowerCase() === selfLogin.toLowerCase() ? 'write' : undefined;
  };

  // --- commits, branches and pull requests ------------------------------------------------

  const checkRunOf = (repo: string, id: number): CheckRunRecord => {
    const run = repoOrThrow(repo).checkRuns.find((r) => r.id === id);
    if (run === undefined) throw new Error(`github fake: no check run ${id} in ${repo}`);
    return run;
  };

  // --- wire shapes ------------------------------------------------------------------------

  const apiRepoUrl = (repo: RepoRecord) => `${baseUrl}/repos/${repo.fullName}`;

  const userJson = (login: string) => ({
    login,
    id: userId(login),
    node_id: `U_${userId(login)}`,
    avatar_url: `${webUrl}/avatars/${encodeURIComponent(login)}`,
    url: `${baseUrl}/users/${encodeURIComponent(login)}`,
    html_url: `${webUrl}/${encodeURIComponent(login)}`,
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
    site_admin: false,
  });

  const labelJson = (repo: RepoRecord, label: LabelRecord) => ({
    id: label.id,
    node_id: `LA_${label.id}`,
    url: `${apiRepoUrl(repo)}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: false,
    description: label.description,
  });

  const association = (repo: RepoRecord, login: string) =>
    login.toLowerCase() === repo.owner.toLowerCase()
      ? 'OWNER'
      : roleOf(repo, login) !== undefined
        ? 'COLLABORATOR'
        : 'NONE';

  const issueJson = (repo: RepoRecord, issue: IssueRecord) => {
    const url = `${apiRepoUrl(repo)}/issues/${issue.number}`;
    const htmlUrl = `${webUrl}/${repo.fullName}/${issue.isPullRequest ? 'pull' : 'issues'}/${issue.number}`;
    return {
      url,
      repository_url: apiRepoUrl(repo),
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: htmlUrl,
      id: issue.id,
      node_id: `I_${issue.id}`,
      number: issue.number,
      title: issue.title,
      user: userJson(issue.author),
      labels: issue.labels.map((label) => labelJson(repo, label)),
      state: issue.state,
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: issue.comments.length,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      author_association: association(repo, issue.author),
      active_lock_reason: null,
      body: issue.body,
      timeline_url: `${url}/timeline`,
      performed_via_github_app: null,
      state_reason: issue.stateReason,
      ...(issue.isPullRequest
        ? {
            draft: false,
            pull_request: {
              url: `${apiRepoUrl(repo)}/pulls/${issue.number}`,
              html_url: htmlUrl,
              diff_url: `${htmlUrl}.diff`,
              patch_url: `${htmlUrl}.patch`,
              merged_at: repo.pulls.get(issue.number)?.mergedAt ?? null,
            },
          }
        : {}),
    };
  };

  const commentJson = (repo: RepoRecord, issue: IssueRecord, comment: CommentRecord) => ({
    url: `${apiRepoUrl(repo)}/issues/comments/${comment.id}`,
    html_url: `${webUrl}/${repo.fullName}/issues/${issue.number}#issuecomment-${comment.id}`,
    issue_url: `${apiRepoUrl(repo)}/issues/${issue.number}`,
    id: comment.id,
    node_id: `IC_${comment.id}`,
    user: userJson(comment.author),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: association(repo, comment.author),
    body: comment.body,
    performed_via_github_app: null,
  });

  const reactionJson = (reaction: ReactionRecord) => ({
    id: reaction.id,
    node_id: `REA_${reaction.id}`,
    user: userJson(reaction.login),
    content: reaction.content,
    created_at: reaction.createdAt,
  });

  const eventJson = (repo: RepoRecord, event: EventRecord) => ({
    id: event.id,
    node_id: `LE_${event.id}`,
    url: `${apiRepoUrl(repo)}/issues/events/${event.id}`,
    actor: userJson(event.actor),
    event: event.event,
    commit_id: null,
    commit_url: null,
    created_at: event.createdAt,
    performed_via_github_app: null,
    ...(event.label === null
      ? {}
      : { label: { name: event.label.name, color: event.label.color } }),
    ...(event.event === 'closed' ? { state_reason: event.stateReason } : {}),
  });

  const repoJson = (repo: RepoRecord) => ({
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.fullName.split('/')[1] ?? '',
    full_name: repo.fullName,
    private: repo.visibility === 'private',
    owner: userJson(repo.owner),
    html_url: `${webUrl}/${repo.fullName}`,
    description: null,
    fork: false,
    url: apiRepoUrl(repo),
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    pushed_at: repo.createdAt,
    archived: false,
    disabled: false,
    visibility: repo.visibility,
    has_issues: true,
    default_branch: repo.defaultBranch,
    // The authenticated user's role; only the token's own login ever asks here.
    permissions: rolePermissions(roleOf(repo, selfLogin)),
  });

  const commitJson = (repo: RepoRecord, commit: CommitRecord) => {
    const url = `${apiRepoUrl(repo)}/commits/${commit.sha}`;
    const person = { name: 'Agent', email: 'agent@example.test', date: commit.createdAt };
    return {
      sha: commit.sha,
      node_id: `C_${commit.sha}`,
      url,
      html_url: `${webUrl}/${repo.fullName}/commit/${commit.sha}`,
      comments_url: `${url}/comments`,
      commit: {
        author: person,
        committer: person,
        message: `Commit ${commit.sha.slice(0, 7)}`,
        tree: {
          sha: fakeSha(`tree:${commit.sha}`),
          url: `${apiRepoUrl(repo)}/git/trees/${fakeSha(`tree:${commit.sha}`)}`,
        },
        url: `${apiRepoUrl(repo)}/git/commits/${commit.sha}`,
        comment_count: 0,
        verification: {
          verified: false,
          reason: 'unsigned',
          signature: null,
          payload: null,
          verified_at: null,
        },
      },
      author: null,
      committer: null,
      parents: commit.parents.map((sha) => ({
        sha,
        url: `${apiRepoUrl(repo)}/commits/${sha}`,
        html_url: `${webUrl}/${repo.fullName}/commit/${sha}`,
      })),
    };
  };

  const branchRefJson = (repo: RepoRecord, ref: string, sha: string) => ({
    label: `${repo.owner}:${ref}`,
    ref,
    sha,
    user: userJson(repo.owner),
    repo: repoJson(repo),
  });

  const pullJson = (repo: RepoRecord, pull: PullRecord) => {
    const issue = repo.issues.get(pull.number);
    if (issue === undefined) throw new Error(`github fake: pull ${pull.number} lost its issue`);
    const url = `${apiRepoUrl(repo)}/pulls/${pull.number}`;
    const issueUrl = `${apiRepoUrl(repo)}/issues/${pull.number}`;
    const htmlUrl = `${webUrl}/${repo.fullName}/pull/${pull.number}`;
    const baseSha = repo.branches.get(repo.defaultBranch) ?? pull.headSha;
    return {
      url,
      id: pull.id,
      node_id: `PR_${pull.id}`,
      html_url: htmlUrl,
      diff_url: `${htmlUrl}.diff`,
      patch_url: `${htmlUrl}.patch`,
      issue_url: issueUrl,
      commits_url: `${url}/commits`,
      review_comments_url: `${url}/comments`,
      review_comment_url: `${apiRepoUrl(repo)}/pulls/comments{/number}`,
      comments_url: `${issueUrl}/comments`,
      statuses_url: `${apiRepoUrl(repo)}/statuses/${pull.headSha}`,
      number: pull.number,
      state: issue.state,
      locked: false,
      title: issue.title,
      user: userJson(issue.author),
      body: issue.body,
      labels: issue.labels.map((label) => labelJson(repo, label)),
      milestone: null,
      active_lock_reason: null,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: branchRefJson(repo, pull.head, pull.headSha),
      base: branchRefJson(repo, repo.defaultBranch, baseSha),
      author_association: association(repo, issue.author),
      auto_merge: null,
      draft: false,
    };
  };

  const githubActions = {
    id: 15368,
    slug: 'github-actions',
    node_id: 'MDM6QXBwMTUzNjg=',
    name: 'GitHub Actions',
    owner: userJson('github'),
    external_url: 'https://help.github.com/en/actions',
    html_url: 'https://github.com/apps/github-actions',
  };

  const checkRunJson = (repo: RepoRecord, run: CheckRunRecord) => {
    const htmlUrl = run.url ?? `${webUrl}/${repo.fullName}/runs/${run.id}`;
    return {
      id: run.id,
      name: run.name,
      node_id: `CR_${run.id}`,
      head_sha: run.headSha,
      external_id: '',
      url: `${apiRepoUrl(repo)}/check-runs/${run.id}`,
      html_url: htmlUrl,
      details_url: htmlUrl,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      output: {
        title: run.title,
        summary: run.summary,
        text: null,
        annotations_count: 0,
        annotations_url: `${apiRepoUrl(repo)}/check-runs/${run.id}/annotations`,
      },
      check_suite: { id: run.id + 500_000 },
      app: githubActions,
      pull_requests: [],
    };
  };

  const statusJson = (repo: RepoRecord, status: StatusRecord) => ({
    url: `${apiRepoUrl(repo)}/statuses/${status.sha}`,
    avatar_url: `${webUrl}/avatars/ci`,
    id: status.id,
    node_id: `SC_${status.id}`,
    state: status.state,
    description: status.description,
    target_url: status.targetUrl,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.createdAt,
  });

  const deploymentJson = (repo: RepoRecord, deployment: DeploymentRecord) => {
    const url = `${apiRepoUrl(repo)}/deployments/${deployment.id}`;
    return {
      url,
      id: deployment.id,
      node_id: `DE_${deployment.id}`,
      task: 'deploy',
      original_environment: deployment.environment,
      environment: deployment.environment,
      description: null,
      created_at: deployment.createdAt,
      updated_at: deployment.updatedAt,
      statuses_url: `${url}/statuses`,
      repository_url: apiRepoUrl(repo),
      creator: userJson('github-actions[bot]'),
      sha: deployment.sha,
      ref: deployment.ref,
      payload: {},
      transient_environment: false,
      production_environment: deployment.environment === 'production',
      performed_via_github_app: null,
    };
  };

  // GitHub sends "" for the URLs a status was not given, and `target_url` mirrors `log_url`.
  // https://docs.github.com/en/rest/deployments/statuses#create-a-deployment-status
  const deploymentStatusJson = (
    repo: RepoRecord,
    deployment: DeploymentRecord,
    status: DeploymentRecord['statuses'][number],
  ) => {
    const deploymentUrl = `${apiRepoUrl(repo)}/deployments/${deployment.id}`;
    return {
      url: `${deploymentUrl}/statuses/${status.id}`,
      id: status.id,
      node_id: `DES_${status.id}`,
      state: status.state,
      creator: userJson('github-actions[bot]'),
      description: status.description,
      environment: deployment.environment,
      target_url: status.logUrl,
      created_at: status.createdAt,
      updated_at: status.createdAt,
      deployment_url: deploymentUrl,
      repository_url: apiRepoUrl(repo),
      environment_url: status.environmentUrl,
      log_url: status.logUrl,
      performed_via_github_app: null,
    };
  };

  // --- answers ----------------------------------------------------------------------------

  const rateLimitHeaders = (): Record<string, string> => {
    const used = Math.min(requests.length, rateLimit);
    return {
      'x-ratelimit-limit': String(rateLimit),
      'x-ratelimit-remaining': String(rateLimit - used),
      'x-ratelimit-reset': String(Math.floor(now().getTime() / 1000) + 3600),
      'x-ratelimit-used': String(used),
      'x-ratelimit-resource': 'core',
      'x-github-request-id': `FAKE:${requests.length}`,
      'x-github-api-version-selected': '2022-11-28',
    };
  };

  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const all = { ...rateLimitHeaders(), ...headers };
    if (body === undefined) return new HttpResponse(null, { status, headers: all });
    return HttpResponse.json(body, { status, headers: all });
  };

  const refusalAnswer = (refusal: Refusal) =>
    answer(refusal.status, {
      message: refusal.message,
      ...(refusal.errors === undefined ? {} : { errors: refusal.errors }),
      documentation_url: refusal.documentation,
      status: String(refusal.status),
    });

  const failureAnswer = (failure: FakeFailure) =>
    answerFailure(failure, answer, (status) => ({
      message: `fake failure ${status}`,
      documentation_url: docs,
      status: String(status),
    }));

  // --- the request pipeline: record, injected failures, auth, then the route ----------------

  interface Incoming {
    url: URL;
    params: Record<string, string>;
    body: unknown;
    rawBody: string;
  }
  type Route = (incoming: Incoming) => Response | Promise<Response>;

  const authRefusal = (headers: Record<string, string>): Refusal | undefined => {
    const header = headers['authorization'];
    if (header === undefined) return new Refusal(401, 'Requires authentication');
    const [, given] = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim()) ?? [];
    return given === token ? undefined : new Refusal(401, 'Bad credentials');
  };

  const route = (
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    handle: Route,
  ): HttpHandler =>
    http[method](`${baseUrl}${path}`, async ({ request, params }) => {
      const flat = flatten(params);
      // `/issues/comments` is another endpoint, not issue number "comments": fall through.
      if (flat['number'] !== undefined && !/^\d+$/.test(flat['number'])) return undefined;
      if (flat['id'] !== undefined && !/^\d+$/.test(flat['id'])) return undefined;
      const { recorded, rawBody } = await log.record(request);
      const failure = log.takeFailure(recorded);
      if (failure !== undefined) return failureAnswer(failure);
      const refused = authRefusal(recorded.headers);
      if (refused !== undefined) return refusalAnswer(refused);
      try {
        return await handle({
          url: new URL(request.url),
          params: flat,
          body: recorded.body,
          rawBody,
        });
      } catch (error) {
        if (error instanceof Refusal) return refusalAnswer(error);
        throw error;
      }
    });

  // Routes under /repos/{owner}/{repo} are also served as /repositories/{id}: the form
  // GitHub puts in its Link headers.
  const repoOf = (params: Record<string, string>, documentation: string): RepoRecord => {
    const repo =
      params['id'] !== undefined && params['owner'] === undefined
        ? [...repos.values()].find((r) => String(r.id) === params['id'])
        : findRepo(params['owner'] ?? '', params['repo'] ?? '');
    if (repo === undefined) throw new Refusal(404, 'Not Found', documentation);
    return repo;
  };

  const issueOf = (repo: RepoRecord, params: Record<string, string>, documentation: string) => {
    const issue = repo.issues.get(Number(params['number']));
    if (issue === undefined) throw new Refusal(404, 'Not Found', documentation);
    return issue;
  };

  /** One page of `items` plus GitHub's Link header. */
  const page = (url: URL, repo: RepoRecord, items: unknown[]) => {
    const { slice, headers } = paginate(url, repo, items);
    return answer(200, slice, headers);
  };

  /** One page of `items` and GitHub's Link header for it, for bodies that wrap the list. */
  const paginate = (url: URL, repo: RepoRecord, items: unknown[], defaultPerPage = 30) => {
    const asked = url.searchParams.get('per_page');
    const perPage = asked === null ? defaultPerPage : clamp(Number(asked), 1, 100, 30);
    const current = clamp(Number(url.searchParams.get('page') ?? 1), 1, Number.MAX_SAFE_INTEGER, 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((current - 1) * perPage, current * perPage);
    const rest = url.pathname
      .slice(basePath.length)
      .replace(/^\/repos\/[^/]+\/[^/]+|^\/repositories\/\d+/, '');
    const link = (n: number, rel: string) => {
      const target = new URL(`${baseUrl}/repositories/${repo.id}${rest}`);
      target.search = url.search;
      target.searchParams.set('page', String(n));
      return `<${target.href}>; rel="${rel}"`;
    };
    const links = [
      ...(current > 1 ? [link(Math.min(current - 1, last), 'prev')] : []),
      ...(current < last ? [link(current + 1, 'next'), link(last, 'last')] : []),
      ...(current > 1 ? [link(1, 'first')] : []),
    ];
    const headers: Record<string, string> = links.length === 0 ? {} : { link: links.join(', ') };
    return { slice, headers };
  };

  // --- endpoints --------------------------------------------------------------------------

  const listIssuesDocs = `${docs}/issues/issues#list-repository-issues`;
  const listIssues: Route = ({ url, params }) => {
    const repo = repoOf(params, listIssuesDocs);
    const query = url.searchParams;
    unsupported(query, ['labels', 'state', 'sort', 'direction', 'since', 'per_page', 'page']);
    const state = oneOf(
      query.get('state') ?? 'open',
      ['open', 'closed', 'all'],
      'state',
      listIssuesDocs,
    );
    const sort = oneOf(
      query.get('sort') ?? 'created',
      ['created', 'updated', 'comments'],
      'sort',
      listIssuesDocs,
    );
    const direction = oneOf(
      query.get('direction') ?? 'desc',
      ['asc', 'desc'],
      'direction',
      listIssuesDocs,
    );
    // `labels` is a comma-separated list of names; an issue must carry every one of them.
    const wanted = (query.get('labels') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== '');
    const since = query.get('since');
    const key = (issue: IssueRecord): string | number =>
      sort === 'comments'
        ? issue.comments.length
        : sort === 'updated'
          ? issue.updatedAt
          : issue.createdAt;
    const items = [...repo.issues.values()]
      .filter((issue) => state === 'all' || issue.state === state)
      .filter((issue) =>
        wanted.every((name) => issue.labels.some((l) => l.name.toLowerCase() === name)),
      )
      .filter((issue) => since === null || issue.updatedAt >= since)
      .sort((a, b) => compare(key(a), key(b)) || a.number - b.number)
      .map((issue) => issueJson(repo, issue));
    if (direction === 'desc') items.reverse();
    return page(url, repo, items);
  };

  const getIssue: Route = ({ params }) => {
    const documentation = `${docs}/issues/issues#get-an-issue`;
    const repo = repoOf(params, documentation);
    return answer(200, issueJson(repo, issueOf(repo, params, documentation)));
  };

  const updateIssueDocs = `${docs}/issues/issues#update-an-issue`;
  const updateIssue: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, updateIssueDocs);
    const issue = issueOf(repo, params, updateIssueDocs);
    const fields = jsonObject(body, rawBody, updateIssueDocs);
    const implemented = ['state', 'state_reason', 'title', 'body', 'labels'];
    const other = Object.keys(fields).find((name) => !implemented.includes(name));
    if (other !== undefined) throw new Refusal(501, `github fake: "${other}" is not implemented`);
    const at = stamp();
    const { state, state_reason: reason, title, body: text, labels } = fields;
    if (state !== undefined && state !== 'open' && state !== 'closed') {
      throw invalidField('Issue', 'state', updateIssueDocs);
    }
    if (
      reason !== undefined &&
      reason !== null &&
      !['completed', 'not_planned', 'reopened'].includes(String(reason))
    ) {
      throw invalidField('Issue', 'state_reason', updateIssueDocs);
    }
    if (title !== undefined && (typeof title !== 'string' || title.trim() === '')) {
      throw invalidField('Issue', 'title', updateIssueDocs);
    }
    if (text !== undefined && text !== null && typeof text !== 'string') {
      throw invalidField('Issue', 'body', updateIssueDocs);
    }
    const names = labels === undefined ? undefined : labelNames(labels, updateIssueDocs);
    if (typeof title === 'string') issue.title = title;
    if (text !== undefined) issue.body = text as string | null;
    if (names !== undefined) {
      for (const label of [...issue.labels]) {
        if (!names.some((n) => n.toLowerCase() === label.name.toLowerCase())) {
          dropLabel(issue, label.name, selfLogin, at);
        }
      }
      for (const name of names) applyLabel(repo, issue, name, selfLogin, at);
    }
    if (state === 'closed' || state === 'open') {
      changeState(issue, state, typeof reason === 'string' ? reason : null, selfLogin, at);
    } else if (issue.state === 'closed' && typeof reason === 'string') {
      issue.stateReason = reason;
    }
    issue.updatedAt = at;
    return answer(200, issueJson(repo, issue));
  };

  const listCommentsDocs = `${docs}/issues/comments#list-issue-comments`;
  const listComments: Route = ({ url, params }) => {
    const repo = repoOf(params, listCommentsDocs);
    const issue = issueOf(repo, params, listCommentsDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    return page(
      url,
      repo,
      issue.comments.map((comment) => commentJson(repo, issue, comment)),
    );
  };

  const createCommentDocs = `${docs}/issues/comments#create-an-issue-comment`;
  const createComment: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, createCommentDocs);
    const issue = issueOf(repo, params, createCommentDocs);
    const text = commentBody(jsonObject(body, rawBody, createCommentDocs), createCommentDocs);
    const at = stamp();
    const comment = {
      id: newId(),
      issueNumber: issue.number,
      author: selfLogin,
      body: text,
      createdAt: at,
      updatedAt: at,
      reactions: [],
    };
    issue.comments.push(comment);
    issue.updatedAt = at;
    return answer(201, commentJson(repo, issue, comment), {
      location: `${apiRepoUrl(repo)}/issues/comments/${comment.id}`,
    });
  };

  const updateCommentDocs = `${docs}/issues/comments#update-an-issue-comment`;
  const updateComment: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, updateCommentDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', updateCommentDocs);
    const { issue, comment } = found;
    comment.body = commentBody(jsonObject(body, rawBody, updateCommentDocs), updateCommentDocs);
    comment.updatedAt = stamp();
    return answer(200, commentJson(repo, issue, comment));
  };

  const getCommentDocs = `${docs}/issues/comments#get-an-issue-comment`;
  const getComment: Route = ({ params }) => {
    const repo = repoOf(params, getCommentDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', getCommentDocs);
    return answer(200, commentJson(repo, found.issue, found.comment));
  };

  const deleteCommentDocs = `${docs}/issues/comments#delete-an-issue-comment`;
  const deleteComment: Route = ({ params }) => {
    const repo = repoOf(params, deleteCommentDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', deleteCommentDocs);
    found.issue.comments.splice(found.issue.comments.indexOf(found.comment), 1);
    return answer(204, undefined);
  };

  // https://docs.github.com/en/rest/reactions/reactions#create-reaction-for-an-issue-comment
  // Adding a reaction the user already added answers 200 with the existing one, not 201.
  const createReactionDocs = `${docs}/reactions/reactions#create-reaction-for-an-issue-comment`;
  const createReaction: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, createReactionDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', createReactionDocs);
    const { content } = jsonObject(body, rawBody, createReactionDocs);
    if (typeof content !== 'string' || !reactionContents.includes(content)) {
      throw invalidField('Reaction', 'content', createReactionDocs);
    }
    const mine = found.comment.reactions.find(
      (r) => r.login.toLowerCase() === selfLogin.toLowerCase() && r.content === content,
    );
    if (mine !== undefined) return answer(200, reactionJson(mine));
    const reaction = { id: newId(), login: selfLogin, content, createdAt: stamp() };
    found.comment.reactions.push(reaction);
    return answer(201, reactionJson(reaction));
  };

  const listReactionsDocs = `${docs}/reactions/reactions#list-reactions-for-an-issue-comment`;
  const listReactions: Route = ({ url, params }) => {
    const repo = repoOf(params, listReactionsDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', listReactionsDocs);
    unsupported(url.searchParams, ['content', 'per_page', 'page']);
    const content = url.searchParams.get('content');
    return page(
      url,
      repo,
      found.comment.reactions
        .filter((r) => content === null || r.content === content)
        .map(reactionJson),
    );
  };

  const deleteReactionDocs = `${docs}/reactions/reactions#delete-an-issue-comment-reaction`;
  const deleteReaction: Route = ({ params }) => {
    const repo = repoOf(params, deleteReactionDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', deleteReactionDocs);
    const index = found.comment.reactions.findIndex((r) => String(r.id) === params['reaction_id']);
    // Only the reaction's own author may delete it (afk deletes only its own).
    if (index === -1) throw new Refusal(404, 'Not Found', deleteReactionDocs);
    found.comment.reactions.splice(index, 1);
    return answer(204, undefined);
  };

  const listEventsDocs = `${docs}/issues/events#list-issue-events`;
  const listEvents: Route = ({ url, params }) => {
    const repo = repoOf(params, listEventsDocs);
    const issue = issueOf(repo, params, listEventsDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    return page(
      url,
      repo,
      issue.events.map((event) => eventJson(repo, event)),
    );
  };

  const addLabelsDocs = `${docs}/issues/labels#add-labels-to-an-issue`;
  const addLabels: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, addLabelsDocs);
    const issue = issueOf(repo, params, addLabelsDocs);
    if (rawBody !== '' && body === rawBody)
      throw new Refusal(400, 'Problems parsing JSON', addLabelsDocs);
    // GitHub takes `{"labels": [...]}` or a bare array, of names or of `{name}` objects.
    const given = Array.isArray(body) ? body : isObject(body) ? body['labels'] : undefined;
    if (given === undefined) {
      throw new Refusal(422, 'Invalid request.\n\n"labels" wasn\'t supplied.', addLabelsDocs);
    }
    const names = labelNames(given, addLabelsDocs);
    const at = stamp();
    // Names the repository lacks are created on the fly, as GitHub does.
    for (const name of names) applyLabel(repo, issue, name, selfLogin, at);
    return answer(
      200,
      issue.labels.map((label) => labelJson(repo, label)),
    );
  };

  const removeLabelDocs = `${docs}/issues/labels#remove-a-label-from-an-issue`;
  const removeLabel: Route = ({ params }) => {
    const repo = repoOf(params, removeLabelDocs);
    const issue = issueOf(repo, params, removeLabelDocs);
    if (!dropLabel(issue, params['name'] ?? '', selfLogin, stamp())) {
      throw new Refusal(404, 'Label does not exist', removeLabelDocs);
    }
    return answer(
      200,
      issue.labels.map((label) => labelJson(repo, label)),
    );
  };

  const permissionDocs = `${docs}/collaborators/collaborators#get-repository-permissions-for-a-user`;
  const getPermission: Route = ({ params }) => {
    const repo = repoOf(params, permissionDocs);
    const self = roleOf(repo, selfLogin);
    if (self === undefined || roleRank[self] < roleRank.write) {
      throw new Refusal(
        403,
        'Must have push access to view collaborator permission.',
        permissionDocs,
      );
    }
    const login = params['username'] ?? '';
    // Logins that are not user accounts (apps' bots, `Copilot`) answer 404 "is not a user".
    if (login.endsWith('[bot]')) throw new Refusal(404, `${login} is not a user`, permissionDocs);
    const role = roleOf(repo, login);
    // Everyone can read a public repository, so a stranger there holds `read`.
    const permission =
      role !== undefined ? legacyPermission[role] : repo.visibility === 'public' ? 'read' : 'none';
    const roleName = role ?? permission;
    return answer(200, {
      permission,
      role_name: roleName,
      user: {
        ...userJson(repo.collaborators.get(login.toLowerCase())?.login ?? login),
        permissions: {
          admin: role === 'admin',
          maintain: role !== undefined && roleRank[role] >= roleRank.maintain,
          push: role !== undefined && roleRank[role] >= roleRank.write,
          triage: role !== undefined && roleRank[role] >= roleRank.triage,
          pull: permission !== 'none',
        },
        role_name: roleName,
      },
    });
  };

  const getSelf: Route = () => {
    if (options.appInstallation === true) {
      throw new Refusal(
        403,
        'Resource not accessible by integration',
        `${docs}/users/users#get-the-authenticated-user`,
      );
    }
    return answer(200, { ...userJson(selfLogin), name: null, created_at: '2020-01-01T00:00:00Z' });
  };

  const listRepoLabelsDocs = `${docs}/issues/labels#list-labels-for-a-repository`;
  const listRepoLabels: Route = ({ url, params }) => {
    const repo = repoOf(params, listRepoLabelsDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    return page(
      url,
      repo,
      [...repo.labels.values()].map((label) => labelJson(repo, label)),
    );
  };

  const createLabelDocs = `${docs}/issues/labels#create-a-label`;
  const createLabel: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, createLabelDocs);
    const self = roleOf(repo, selfLogin);
    if (self === undefined || roleRank[self] < roleRank.write) {
      throw new Refusal(403, 'Must have push access to repository', createLabelDocs);
    }
    const fields = jsonObject(body, rawBody, createLabelDocs);
    const { name, color, description } = fields;
    if (name === undefined) {
      throw new Refusal(422, 'Invalid request.\n\n"name" wasn\'t supplied.', createLabelDocs);
    }
    if (typeof name !== 'string' || name.trim() === '' || name.length > 50) {
      throw invalidField('Label', 'name', createLabelDocs);
    }
    // Six hex digits, without the leading `#`.
    if (color !== undefined && (typeof color !== 'string' || !/^[0-9a-f]{6}$/i.test(color))) {
      throw invalidField('Label', 'color', createLabelDocs);
    }
    if (
      description !== undefined &&
      description !== null &&
      (typeof description !== 'string' || description.length > 100)
    ) {
      throw invalidField('Label', 'description', createLabelDocs);
    }
    // Names are unique regardless of case.
    if (repo.labels.has(name.toLowerCase())) {
      throw new Refusal(422, 'Validation Failed', createLabelDocs, [
        { resource: 'Label', code: 'already_exists', field: 'name' },
      ]);
    }
    const label: LabelRecord = {
      id: newId(),
      name,
      color: typeof color === 'string' ? color.toLowerCase() : 'ededed',
      description: typeof description === 'string' ? description : null,
    };
    repo.labels.set(name.toLowerCase(), label);
    return answer(201, labelJson(repo, label));
  };

  const getRepo: Route = ({ params }) =>
    answer(200, repoJson(repoOf(params, `${docs}/repos/repos#get-a-repository`)));

  const listPullsDocs = `${docs}/pulls/pulls#list-pull-requests`;
  const listPulls: Route = ({ url, params }) => {
    const repo = repoOf(params, listPullsDocs);
    const query = url.searchParams;
    unsupported(query, ['state', 'head', 'base', 'sort', 'direction', 'per_page', 'page']);
    const state = oneOf(
      query.get('state') ?? 'open',
      ['open', 'closed', 'all'],
      'state',
      listPullsDocs,
    );
    const sort = query.get('sort') ?? 'created';
    if (sort === 'popularity' || sort === 'long-running') {
      throw new Refusal(501, `github fake: sort "${sort}" is not implemented`);
    }
    oneOf(sort, ['created', 'updated'], 'sort', listPullsDocs);
    // The default direction is desc for `created`, asc for the other sorts.
    const direction = oneOf(
      query.get('direction') ?? (sort === 'created' ? 'desc' : 'asc'),
      ['asc', 'desc'],
      'direction',
      listPullsDocs,
    );
    const head = headFilter(query.get('head'));
    const base = query.get('base');
    const key = (issue: IssueRecord) => (sort === 'updated' ? issue.updatedAt : issue.createdAt);
    const matching = [...repo.pulls.values()]
      .map((pull) => ({ pull, issue: repo.issues.get(pull.number) }))
      .filter(
        (entry): entry is { pull: PullRecord; issue: IssueRecord } => entry.issue !== undefined,
      )
      .filter(({ issue }) => state === 'all' || issue.state === state)
      .filter(
        ({ pull }) =>
          head === undefined ||
          (head.owner.toLowerCase() === repo.owner.toLowerCase() && head.ref === pull.head),
      )
      .filter(() => base === null || base === repo.defaultBranch)
      .sort((a, b) => compare(key(a.issue), key(b.issue)) || a.pull.number - b.pull.number);
    if (direction === 'desc') matching.reverse();
    return page(
      url,
      repo,
      matching.map(({ pull }) => pullJson(repo, pull)),
    );
  };

  const compareDocs = `${docs}/commits/commits#compare-two-commits`;
  const compareCommits: Route = ({ url, params }) => {
    const repo = repoOf(params, compareDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    const basehead = params['basehead'] ?? '';
    const [baseRef, headRef, ...extra] = basehead.split('...');
    if (baseRef === undefined || headRef === undefined || extra.length > 0) {
      throw new Refusal(404, 'Not Found', compareDocs);
    }
    if (basehead.includes(':')) {
      throw new Refusal(501, 'github fake: comparing across forks is not implemented');
    }
    const base = commitOf(repo, baseRef);
    const head = commitOf(repo, headRef);
    if (base === undefined || head === undefined) throw new Refusal(404, 'Not Found', compareDocs);
    const inBase = historyOf(repo, base);
    const inHead = historyOf(repo, head);
    const common = [...inHead].filter((sha) => inBase.has(sha));
    if (common.length === 0) {
      throw new Refusal(404, `No common ancestor between ${baseRef} and ${headRef}.`, compareDocs);
    }
    const commits = (shas: Iterable<string>) =>
      [...shas]
        .map((sha) => repo.commits.get(sha))
        .filter((commit): commit is CommitRecord => commit !== undefined)
        .sort((a, b) => a.order - b.order);
    const ahead = commits([...inHead].filter((sha) => !inBase.has(sha)));
    const behind = [...inBase].filter((sha) => !inHead.has(sha)).length;
    const mergeBase = commits(common).at(-1) ?? base;
    const status =
      ahead.length === 0 && behind === 0
        ? 'identical'
        : behind === 0
          ? 'ahead'
          : ahead.length === 0
            ? 'behind'
            : 'diverged';
    // Without paging parameters the list stops at 250 commits.
    const { slice, headers } = paginate(
      url,
      repo,
      ahead.map((commit) => commitJson(repo, commit)),
      250,
    );
    const path = `${repo.fullName}/compare/${basehead}`;
    return answer(
      200,
      {
        url: `${baseUrl}/repos/${path}`,
        html_url: `${webUrl}/${path}`,
        permalink_url: `${webUrl}/${repo.fullName}/compare/${base.sha}...${head.sha}`,
        diff_url: `${webUrl}/${path}.diff`,
        patch_url: `${webUrl}/${path}.patch`,
        base_commit: commitJson(repo, base),
        merge_base_commit: commitJson(repo, mergeBase),
        status,
        ahead_by: ahead.length,
        behind_by: behind,
        total_commits: ahead.length,
        commits: slice,
        files: [],
      },
      headers,
    );
  };

  /** The commit a CI route names; GitHub answers 422 for a ref it cannot resolve. */
  const ciCommitOf = (repo: RepoRecord, ref: string, documentation: string): string => {
    const sha = commitOf(repo, ref)?.sha ?? (repo.ciShas.has(ref.toLowerCase()) ? ref : undefined);
    if (sha === undefined) throw new Refusal(422, `No commit found for SHA: ${ref}`, documentation);
    return sha.toLowerCase();
  };

  const checkRunsDocs = `${docs}/checks/runs#list-check-runs-for-a-git-reference`;
  const listCheckRuns: Route = ({ url, params }) => {
    const repo = repoOf(params, checkRunsDocs);
    const query = url.searchParams;
    unsupported(query, ['check_name', 'status', 'filter', 'per_page', 'page']);
    const sha = ciCommitOf(repo, params['ref'] ?? '', checkRunsDocs);
    const filter = oneOf(
      query.get('filter') ?? 'latest',
      ['latest', 'all'],
      'filter',
      checkRunsDocs,
    );
    const status = query.get('status');
    if (status !== null) {
      oneOf(status, ['queued', 'in_progress', 'completed'], 'status', checkRunsDocs);
    }
    const name = query.get('check_name');
    const onCommit = repo.checkRuns.filter((run) => run.headSha === sha);
    // `latest` keeps the newest run of each name: a re-run hides the run it repeats.
    const runs = onCommit
      .filter(
        (run) =>
          filter === 'all' ||
          !onCommit.some((other) => other.name === run.name && other.id > run.id),
      )
      .filter((run) => status === null || run.status === status)
      .filter((run) => name === null || run.name === name)
      .sort((a, b) => b.id - a.id);
    const { slice, headers } = paginate(
      url,
      repo,
      runs.map((run) => checkRunJson(repo, run)),
    );
    return answer(200, { total_count: runs.length, check_runs: slice }, headers);
  };

  const combinedStatusDocs = `${docs}/commits/statuses#get-the-combined-status-for-a-specific-reference`;
  const getCombinedStatus: Route = ({ url, params }) => {
    const repo = repoOf(params, combinedStatusDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    const sha = ciCommitOf(repo, params['ref'] ?? '', combinedStatusDocs);
    const all = repo.statuses.filter((status) => status.sha === sha);
    const latest = all
      .filter((status) => !all.some((o) => o.context === status.context && o.id > status.id))
      .sort((a, b) => b.id - a.id);
    // failure if any context failed or errored; pending if any is pending OR there are none
    // at all (the trap: an Actions-only repository reads "pending" here forever); else success.
    const state = latest.some((s) => s.state === 'failure' || s.state === 'error')
      ? 'failure'
      : latest.length === 0 || latest.some((s) => s.state === 'pending')
        ? 'pending'
        : 'success';
    const { slice, headers } = paginate(
      url,
      repo,
      latest.map((status) => statusJson(repo, status)),
    );
    return answer(
      200,
      {
        state,
        statuses: slice,
        sha,
        total_count: latest.length,
        repository: repoJson(repo),
        commit_url: `${apiRepoUrl(repo)}/commits/${sha}`,
        url: `${apiRepoUrl(repo)}/commits/${sha}/status`,
      },
      headers,
    );
  };

  const listDeploymentsDocs = `${docs}/deployments/deployments#list-deployments`;
  const listDeployments: Route = ({ url, params }) => {
    const repo = repoOf(params, listDeploymentsDocs);
    const query = url.searchParams;
    unsupported(query, ['sha', 'ref', 'task', 'environment', 'per_page', 'page']);
    const wanted = (name: string, value: string) => {
      const given = query.get(name);
      return given === null || given === value;
    };
    const matching = repo.deployments
      .filter((d) => wanted('sha', d.sha) && wanted('ref', d.ref) && wanted('task', 'deploy'))
      .filter((d) => wanted('environment', d.environment))
      .sort((a, b) => b.id - a.id);
    return page(
      url,
      repo,
      matching.map((deployment) => deploymentJson(repo, deployment)),
    );
  };

  const deploymentStatusesDocs = `${docs}/deployments/statuses#list-deployment-statuses`;
  const listDeploymentStatuses: Route = ({ url, params }) => {
    const repo = repoOf(params, deploymentStatusesDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    const id = Number(params['deployment_id']);
    const deployment = repo.deployments.find((d) => d.id === id);
    if (deployment === undefined) throw new Refusal(404, 'Not Found', deploymentStatusesDocs);
    return page(
      url,
      repo,
      [...deployment.statuses]
        .reverse()
        .map((status) => deploymentStatusJson(repo, deployment, status)),
    );
  };

  const handlers: HttpHandler[] = [
    route('get', '/user', getSelf),
    route('get', '/repos/:owner/:repo/issues', listIssues),
    route('get', '/repositories/:id/issues', listIssues),
    route('get', '/repos/:owner/:repo/issues/:number', getIssue),
    route('patch', '/repos/:owner/:repo/issues/:number', updateIssue),
    route('get', '/repos/:owner/:repo/issues/:number/comments', listComments),
    route('get', '/repositories/:id/issues/:number/comments', listComments),
    route('post', '/repos/:owner/:repo/issues/:number/comments', createComment),
    route('get', '/repos/:owner/:repo/issues/comments/:id', getComment),
    route('patch', '/repos/:owner/:repo/issues/comments/:id', updateComment),
    route('delete', '/repos/:owner/:repo/issues/comments/:id', deleteComment),
    route('get', '/repos/:owner/:repo/issues/comments/:id/reactions', listReactions),
    route('post', '/repos/:owner/:repo/issues/comments/:id/reactions', createReaction),
    route(
      'delete',
      '/repos/:owner/:repo/issues/comments/:id/reactions/:reaction_id',
      deleteReaction,
    ),
    route('get', '/repos/:owner/:repo/issues/:number/events', listEvents),
    route('get', '/repositories/:id/issues/:number/events', listEvents),
    route('post', '/repos/:owner/:repo/issues/:number/labels', addLabels),
    route('delete', '/repos/:owner/:repo/issues/:number/labels/:name', removeLabel),
    route('get', '/repos/:owner/:repo/collaborators/:username/permission', getPermission),
    route('get', '/repos/:owner/:repo', getRepo),
    route('get', '/repos/:owner/:repo/labels', listRepoLabels),
    route('get', '/repositories/:id/labels', listRepoLabels),
    route('post', '/repos/:owner/:repo/labels', createLabel),
    route('get', '/repos/:owner/:repo/pulls', listPulls),
    route('get', '/repositories/:id/pulls', listPulls),
    route('get', '/repos/:owner/:repo/compare/:basehead', compareCommits),
    route('get', '/repos/:owner/:repo/commits/:ref/check-runs', listCheckRuns),
    route('get', '/repositories/:id/commits/:ref/check-runs', listCheckRuns),
    route('get', '/repos/:owner/:repo/commits/:ref/status', getCombinedStatus),
    route('get', '/repositories/:id/commits/:ref/status', getCombinedStatus),
    route('get', '/repos/:owner/:repo/deployments', listDeployments),
    route('get', '/repositories/:id/deployments', listDeployments),
    route('get', '/repos/:owner/:repo/deployments/:deployment_id/statuses', listDeploymentStatuses),
  ];

  // --- the test-facing API ----------------------------------------------------------------

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
    writes: log.writes,
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
      token = next;
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

// --- helpers --------------------------------------------------------------------------------

function rolePermissions(role: FakeRole | undefined) {
  const at = (floor: FakeRole) => role !== undefined && roleRank[role] >= roleRank[floor];
  return {
    admin: at('admin'),
    maintain: at('maintain'),
    push: at('write'),
    triage: at('triage'),
    pull: at('read'),
  };
}

/** The check run GitHub Actions shows for each forge-neutral CI state. */
const ciRun: Record<FakeCiState, Pick<FakeCheckRunInput, 'status' | 'conclusion'>> = {
  pending: { status: 'queued' },
  running: { status: 'in_progress' },
  success: { status: 'completed', conclusion: 'success' },
  failure: { status: 'completed', conclusion: 'failure' },
};

function jsonObject(
  body: unknown,
  rawBody: string,
  documentation: string,
): Record<string, unknown> {
  if (rawBody !== '' && body === rawBody)
    throw new Refusal(400, 'Problems parsing JSON', documentation);
  if (!isObject(body))
    throw new Refusal(
      422,
      'Invalid request.\n\nInvalid input: body is not an object.',
      documentation,
    );
  return body;
}

// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
const maxCommentLength = 65_536;

function commentBody(fields: Record<string, unknown>, documentation: string): string {
  const body = fields['body'];
  if (typeof body !== 'string')
    throw new Refusal(422, 'Invalid request.\n\n"body" wasn\'t supplied.', documentation);
  if (body.trim() === '') {
    throw new Refusal(422, 'Validation Failed', documentation, [
      { resource: 'IssueComment', code: 'missing_field', field: 'body' },
    ]);
  }
  if (body.length > maxCommentLength) {
    throw new Refusal(422, 'Validation Failed', documentation, [
      {
        resource: 'IssueComment',
        code: 'custom',
        field: 'body',
        message: `body is too long (maximum is ${maxCommentLength} characters)`,
      },
    ]);
  }
  return body;
}

function labelNames(given: unknown, documentation: string): string[] {
  if (!Array.isArray(given))
    throw new Refusal(422, 'Invalid request.\n\n"labels" is not an array.', documentation);
  return given.map((item) => {
    const name = typeof item === 'string' ? item : isObject(item) ? item['name'] : undefined;
    // https://docs.github.com/en/rest/issues/labels#create-a-label (names are at most 50 characters)
    if (typeof name !== 'string' || name.trim() === '' || name.length > 50) {
      throw new Refusal(422, 'Validation Failed', documentation, [
        { resource: 'Label', code: 'invalid', field: 'name' },
      ]);
    }
    return name;
  });
}

function invalidField(resource: string, field: string, documentation: string): Refusal {
  return new Refusal(422, 'Validation Failed', documentation, [
    { resource, code: 'invalid', field },
  ]);
}

function oneOf<T extends string>(
  value: string,
  allowed: readonly T[],
  field: string,
  documentation: string,
): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw invalidField('Issue', field, documentation);
  return found;
}

function unsupported(query: URLSearchParams, implemented: string[]): void {
  for (const name of query.keys()) {
    if (!implemented.includes(name)) {
      throw new Refusal(501, `github fake: query parameter "${name}" is not implemented`);
    }
  }
}

function clamp(value: number, min: number, max: number, fallback: number): number {
  if (!Number.isFinite(value) || value < 1) return fallback;
  return Math.min(Math.max(Math.floor(value), min), max);
}

/** `owner:branch`, or undefined: GitHub ignores a `head` without an owner and lists them all. */
function headFilter(head: string | null): { owner: string; ref: string } | undefined {
  if (head === null) return undefined;
  const colon = head.indexOf(':');
  if (colon <= 0) return undefined;
  return { owner: head.slice(0, colon), ref: head.slice(colon + 1) };
}

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
