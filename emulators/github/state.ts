// The GitHub fake's state: its repositories and what they hold, and the operations on them
// that both the routes and the test-facing API use (label, unlabel, close, find a comment).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { KeyObject } from 'node:crypto';
import type { FakeRole } from '../forge.js';
import { createCommitGraph, createRequestLog, type CommitRecord } from '../forge-core.js';

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

/** A GitHub App registered with the fake, and where it is installed. */
export interface AppRecord {
  id: number;
  slug: string;
  owner: string;
  publicKey: KeyObject;
  createdAt: string;
}

/** Permission name → `read` or `write` (GitHub's installation permissions). */
export type AppPermissions = Record<string, 'read' | 'write'>;

export interface InstallationRecord {
  id: number;
  app: AppRecord;
  /** The account the app is installed on: it covers that owner's repositories only. */
  account: string;
  /** `all` of the account's repositories, or the names of the selected ones (owner/name). */
  repos: 'all' | string[];
  permissions: AppPermissions;
  createdAt: string;
  /** token → expires at (ms); a token is refused after it. */
  tokens: Map<string, number>;
}

/** Who a request authenticated as: the token's user, an app's installation, the app itself. */
/** Does the installation reach `repo`: its account's, and all or one of the selected ones? */
export const installationCovers = (installation: InstallationRecord, repo: RepoRecord): boolean =>
  repo.owner.toLowerCase() === installation.account.toLowerCase() &&
  (installation.repos === 'all' ||
    installation.repos.some((name) => name.toLowerCase() === repo.fullName.toLowerCase()));

export type Caller =
  | { kind: 'user'; login: string }
  | { kind: 'installation'; login: string; installation: InstallationRecord }
  | { kind: 'app'; app: AppRecord };

export interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface CommentRecord {
  id: number;
  issueNumber: number;
  author: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  reactions: ReactionRecord[];
}

export interface ReactionRecord {
  id: number;
  login: string;
  content: string;
  createdAt: string;
}

export interface EventRecord {
  id: number;
  event: 'labeled' | 'unlabeled' | 'closed' | 'reopened';
  label: LabelRecord | null;
  actor: string;
  createdAt: string;
  stateReason: string | null;
}

export interface IssueRecord {
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

export interface PullRecord {
  id: number;
  number: number;
  head: string;
  headSha: string;
  mergedAt: string | null;
  /** The test merge while open, the real merge commit once merged. */
  mergeCommitSha: string;
  /** Whether merging into the base would conflict. */
  conflicting: boolean;
  /**
   * `head:base` when GitHub last computed mergeability: the read that finds it stale answers
   * `mergeable: null` and starts the computation, which the next read sees done.
   */
  mergeableFor: string | null;
  reviews: ReviewRecord[];
  reviewComments: ReviewCommentRecord[];
}

export type GitHubReviewState =
  'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';

export interface ReviewRecord {
  id: number;
  author: string;
  state: GitHubReviewState;
  body: string;
  commitId: string;
  /** null while pending. */
  submittedAt: string | null;
}

export interface ReviewCommentRecord {
  id: number;
  reviewId: number;
  author: string;
  path: string;
  line: number;
  body: string;
  commitId: string;
  createdAt: string;
}

export interface CheckRunRecord {
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

export interface StatusRecord {
  id: number;
  sha: string;
  context: string;
  state: 'pending' | 'success' | 'failure' | 'error';
  targetUrl: string | null;
  description: string | null;
  createdAt: string;
}

export interface DeploymentRecord {
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

export interface RepoRecord {
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

/**
 * `mergeable` and `mergeable_state` as REST and GraphQL both read them: GitHub computes them in
 * the background, so the first read after the head or the base moved answers null (`unknown`)
 * and starts the computation; later reads, over either API, see the result.
 */
export function readMergeable(
  repo: RepoRecord,
  pull: PullRecord,
): { mergeable: boolean | null; state: 'unknown' | 'dirty' | 'clean' } {
  const current = `${pull.headSha}:${repo.branches.get(repo.defaultBranch) ?? ''}`;
  if (pull.mergeableFor !== current) {
    pull.mergeableFor = current;
    return { mergeable: null, state: 'unknown' };
  }
  return { mergeable: !pull.conflicting, state: pull.conflicting ? 'dirty' : 'clean' };
}

/** A pending review, and its line comments, are shown to their author only. */
export function visibleReviews(pull: PullRecord, selfLogin: string): ReviewRecord[] {
  return pull.reviews.filter(
    (review) =>
      review.state !== 'PENDING' || review.author.toLowerCase() === selfLogin.toLowerCase(),
  );
}

// GitHub's label colours, cycled for labels the fake creates.
const colours = ['d73a4a', '0075ca', 'cfd3d7', 'a2eeef', '7057ff', '008672', 'e4e669', 'd876e3'];
export const roleRank: Record<FakeRole, number> = {
  read: 1,
  triage: 2,
  write: 3,
  maintain: 4,
  admin: 5,
};

export type GitHubState = ReturnType<typeof createGitHubState>;

export function createGitHubState(options: GitHubFakeOptions) {
  const baseUrl = (options.baseUrl ?? 'https://api.github.test').replace(/\/+$/, '');
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  // https://api.github.com → https://github.com; https://ghe.example/api/v3 → https://ghe.example
  const webUrl = `${base.protocol}//${base.host.replace(/^api\./, '')}`;
  const selfLogin = options.selfLogin ?? 'afk-bot';
  const now = options.now ?? (() => new Date());
  let token = options.token ?? 'gh-test-token';

  const repos = new Map<string, RepoRecord>();
  const apps = new Map<number, AppRecord>();
  const installations = new Map<number, InstallationRecord>();
  // The request being answered: its routes run inside it (server.ts), so that writes carry
  // the login of whoever sent them (the token's user, or an app's `<slug>[bot]`).
  const callers = new AsyncLocalStorage<Caller>();
  const caller = (): Caller => callers.getStore() ?? { kind: 'user', login: selfLogin };
  const actor = (): string => {
    const current = caller();
    return current.kind === 'app' ? `${current.app.slug}[bot]` : current.login;
  };
  const log = createRequestLog(basePath);
  const requests = log.requests;
  let nextId = 1000;
  const newId = () => ++nextId;
  const stamp = () => now().toISOString();
  // Merging or closing a pull request that is not open: GitHub's API answers 405 there.
  const {
    fullSha,
    pushTo,
    commitOf,
    historyOf,
    mergeInto,
    startPull,
    mergePull,
    closePull,
    advanceBase,
  } = createCommitGraph('github fake', stamp, ' (GitHub answers 405)');

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
    // An installation acts with the permissions it was granted, which the pipeline checks
    // route by route (server.ts): the role checks of a user's token do not apply to it.
    const current = caller();
    if (current.kind === 'installation' && login.toLowerCase() === current.login.toLowerCase()) {
      return 'write';
    }
    return login.toLowerCase() === selfLogin.toLowerCase() ? 'write' : undefined;
  };

  // --- commits, branches and pull requests ------------------------------------------------

  const checkRunOf = (repo: string, id: number): CheckRunRecord => {
    const run = repoOrThrow(repo).checkRuns.find((r) => r.id === id);
    if (run === undefined) throw new Error(`github fake: no check run ${id} in ${repo}`);
    return run;
  };

  return {
    baseUrl,
    basePath,
    webUrl,
    selfLogin,
    now,
    appInstallation: options.appInstallation === true,
    /** The one token accepted; the test-facing API may rotate it. */
    get token() {
      return token;
    },
    setToken(next: string) {
      token = next;
    },
    repos,
    apps,
    installations,
    callers,
    caller,
    actor,
    log,
    requests,
    newId,
    stamp,
    fullSha,
    pushTo,
    commitOf,
    historyOf,
    mergeInto,
    startPull,
    mergePull,
    closePull,
    advanceBase,
    findRepo,
    repoOrThrow,
    issueOrThrow,
    ensureLabel,
    applyLabel,
    dropLabel,
    changeState,
    commentIn,
    roleOf,
    checkRunOf,
  };
}
