// The Forgejo fake's state: its repositories, organisations, users and labels, and the
// operations on them that both the routes and the test-facing API use.
import type { FakeRole, FakeStatusInput } from '../forge.js';
import { createCommitGraph, createRequestLog, type CommitRecord } from '../forge-core.js';

export interface ForgejoFakeOptions {
  /** The instance's API base. Default `https://forgejo.test/api/v1`. */
  baseUrl?: string;
  /** The one token accepted (as `token X` or `Bearer X`). Default `forgejo-test-token`. */
  token?: string;
  /** The login the token acts as. Default `afk-bot`. */
  selfLogin?: string;
  /** The fake's clock, for the timestamps of writes. Default the real clock. */
  now?: () => Date;
}

export interface LabelRecord {
  id: number;
  name: string;
  /** Six lower-case hex digits, without `#`. */
  color: string;
  description: string;
  /** `repo` labels belong to one repository, `org` labels to an organisation. */
  scope: { kind: 'repo'; repo: string } | { kind: 'org'; org: string };
}

export interface ReactionRecord {
  login: string;
  content: string;
  createdAt: string;
}

/**
 * A row of Forgejo's `comment` table: comments and timeline events share it, and its ids.
 * https://codeberg.org/forgejo/forgejo/src/branch/forgejo/models/issues/comment.go
 */
export interface TimelineRecord {
  id: number;
  type: 'comment' | 'label' | 'close' | 'reopen';
  actor: string;
  /** A comment's text; for a label event `"1"` when added and `""` when removed. */
  body: string;
  label: LabelRecord | null;
  createdAt: string;
  updatedAt: string;
  reactions: ReactionRecord[];
}

export interface IssueRecord {
  id: number;
  number: number;
  title: string;
  body: string;
  labels: LabelRecord[];
  state: 'open' | 'closed';
  author: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  isPullRequest: boolean;
  timeline: TimelineRecord[];
}

export interface PullRecord {
  id: number;
  number: number;
  head: string;
  headSha: string;
  mergedAt: string | null;
  /** Only once merged: Forgejo sends `merge_commit_sha: null` before. */
  mergeCommitSha: string | null;
  /** The default branch's tip when the pull request was opened. */
  mergeBase: string;
  /** Whether merging into the base would conflict (Forgejo's status `conflict`). */
  conflicting: boolean;
  reviews: ReviewRecord[];
}

export type ForgejoReviewState = 'APPROVED' | 'PENDING' | 'COMMENT' | 'REQUEST_CHANGES';

/**
 * A row of Forgejo's `review` table, with its code comments (rows of the `comment` table).
 * https://codeberg.org/forgejo/forgejo/src/branch/forgejo/models/issues/review.go
 */
export interface ReviewRecord {
  id: number;
  author: string;
  state: ForgejoReviewState;
  /** A dismissed review keeps its state. */
  dismissed: boolean;
  body: string;
  commitId: string;
  createdAt: string;
  comments: Array<{
    id: number;
    author: string;
    path: string;
    line: number;
    body: string;
    createdAt: string;
  }>;
}

export interface StatusRecord {
  /** Forgejo numbers statuses per commit (`index`), and shows that number as `id`. */
  index: number;
  sha: string;
  context: string;
  state: FakeStatusInput['state'];
  targetUrl: string;
  description: string;
  createdAt: string;
}

export type AccessMode = 'none' | 'read' | 'write' | 'admin' | 'owner';

export interface RepoRecord {
  id: number;
  fullName: string;
  owner: string;
  name: string;
  visibility: 'public' | 'private';
  collaborators: Map<string, { login: string; role: FakeRole }>;
  labels: LabelRecord[];
  issues: Map<number, IssueRecord>;
  createdAt: string;
  defaultBranch: string;
  commits: Map<string, CommitRecord>;
  branches: Map<string, string>;
  pulls: Map<number, PullRecord>;
  statuses: StatusRecord[];
}

export interface OrgRecord {
  name: string;
  labels: LabelRecord[];
}

// Label colours the fake cycles through for labels it creates on the fly.
const colours = ['ee0701', '0052cc', 'e6e6e6', '84b6eb', 'fbca04', '5319e7', '009800', 'cc317c'];
export const modeRank: Record<AccessMode, number> = {
  none: 0,
  read: 1,
  write: 2,
  admin: 3,
  owner: 4,
};
// Forgejo has no maintain or triage role: folded as GitHub's legacy permission folds them.
const roleMode: Record<FakeRole, AccessMode> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
};

export type ForgejoState = ReturnType<typeof createForgejoState>;

export function createForgejoState(options: ForgejoFakeOptions) {
  const baseUrl = (options.baseUrl ?? 'https://forgejo.test/api/v1').replace(/\/+$/, '');
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  // Forgejo's AppURL: the instance root, with its trailing slash (https://forgejo.test/).
  const appUrl = `${base.origin}${basePath.replace(/\/api\/v1$/, '')}/`;
  const swaggerUrl = `${appUrl}api/swagger`;
  const selfLogin = options.selfLogin ?? 'afk-bot';
  const now = options.now ?? (() => new Date());
  let token = options.token ?? 'forgejo-test-token';

  const repos = new Map<string, RepoRecord>();
  const orgs = new Map<string, OrgRecord>();
  /** Individual accounts that own repositories (every other owner is an organisation). */
  const userOwners = new Set<string>();
  /** Every login the fake has seen: Forgejo answers 404 for a user that does not exist. */
  const users = new Map<string, string>([[selfLogin.toLowerCase(), selfLogin]]);
  const labelsById = new Map<number, LabelRecord>();
  const log = createRequestLog(basePath);
  let nextId = 1000;
  const newId = () => ++nextId;
  const stamp = () => goTime(now().toISOString());
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
  } = createCommitGraph('forgejo fake', stamp);

  const knowUser = (login: string) => {
    if (!users.has(login.toLowerCase())) users.set(login.toLowerCase(), login);
  };

  // --- lookups ----------------------------------------------------------------------------

  const repoOrThrow = (repo: string): RepoRecord => {
    const record = repos.get(repo.toLowerCase());
    if (record === undefined) throw new Error(`forgejo fake: unknown repo ${repo}; addRepo first`);
    return record;
  };

  const issueOrThrow = (repo: string, number: number): IssueRecord => {
    const record = repoOrThrow(repo).issues.get(number);
    if (record === undefined) throw new Error(`forgejo fake: no issue ${repo}#${number}`);
    return record;
  };

  const isOrg = (owner: string) => !userOwners.has(owner.toLowerCase());

  const orgLabels = (repo: RepoRecord): LabelRecord[] =>
    isOrg(repo.owner) ? (orgs.get(repo.owner.toLowerCase())?.labels ?? []) : [];

  /** A label the repository may use, by exact name: its own first, then its organisation's. */
  const usableLabel = (repo: RepoRecord, name: string): LabelRecord | undefined =>
    repo.labels.find((l) => l.name === name) ?? orgLabels(repo).find((l) => l.name === name);

  const createLabel = (
    scope: LabelRecord['scope'],
    list: LabelRecord[],
    name: string,
    color?: string,
    description = '',
  ): LabelRecord => {
    const label: LabelRecord = {
      id: newId(),
      name,
      color: color ?? colours[list.length % colours.length] ?? 'e6e6e6',
      description,
      scope,
    };
    list.push(label);
    labelsById.set(label.id, label);
    return label;
  };

  /** The label a scenario names: an existing one, or a new repository label. */
  const ensureLabel = (repo: RepoRecord, name: string): LabelRecord =>
    usableLabel(repo, name) ??
    createLabel({ kind: 'repo', repo: repo.fullName }, repo.labels, name);

  const pushEvent = (issue: IssueRecord, event: Omit<TimelineRecord, 'id' | 'reactions'>) => {
    issue.timeline.push({ id: newId(), reactions: [], ...event });
    issue.updatedAt = event.createdAt;
  };

  const applyLabel = (issue: IssueRecord, label: LabelRecord, actor: string, at: string) => {
    // A label the issue already carries changes nothing and records nothing.
    if (issue.labels.some((l) => l.id === label.id)) return;
    issue.labels.push(label);
    pushEvent(issue, { type: 'label', actor, body: '1', label, createdAt: at, updatedAt: at });
  };

  const dropLabel = (issue: IssueRecord, label: LabelRecord, actor: string, at: string) => {
    const index = issue.labels.findIndex((l) => l.id === label.id);
    // Removing a label the issue does not carry deletes no row and records nothing.
    // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/models/issues/issue_label.go
    if (index === -1) return false;
    issue.labels.splice(index, 1);
    pushEvent(issue, { type: 'label', actor, body: '', label, createdAt: at, updatedAt: at });
    return true;
  };

  const changeState = (
    issue: IssueRecord,
    state: 'open' | 'closed',
    actor: string,
    at: string,
  ): void => {
    if (issue.state === state) return;
    issue.state = state;
    issue.closedAt = state === 'closed' ? at : null;
    pushEvent(issue, {
      type: state === 'closed' ? 'close' : 'reopen',
      actor,
      body: '',
      label: null,
      createdAt: at,
      updatedAt: at,
    });
  };

  /** A comment (a timeline row of type `comment`) by id anywhere in the repository. */
  const commentIn = (repo: RepoRecord, id: number) => {
    for (const issue of repo.issues.values()) {
      const comment = issue.timeline.find((row) => row.id === id && row.type === 'comment');
      if (comment !== undefined) return { issue, comment };
    }
    return undefined;
  };

  const commentOrThrow = (repo: string, id: number) => {
    const found = commentIn(repoOrThrow(repo), id);
    if (found === undefined) throw new Error(`forgejo fake: no comment ${id} in ${repo}`);
    return found;
  };

  /** The access mode Forgejo computes for a login: owner, collaborator role, or visibility. */
  const modeOf = (repo: RepoRecord, login: string): AccessMode => {
    const listed = repo.collaborators.get(login.toLowerCase());
    if (listed !== undefined) return roleMode[listed.role];
    if (login.toLowerCase() === repo.owner.toLowerCase()) return 'owner';
    if (login.toLowerCase() === selfLogin.toLowerCase()) return 'write';
    return repo.visibility === 'public' ? 'read' : 'none';
  };

  const selfMode = (repo: RepoRecord) => modeOf(repo, selfLogin);
  const selfCan = (repo: RepoRecord, floor: AccessMode) =>
    modeRank[selfMode(repo)] >= modeRank[floor];

  // --- commits, branches and pull requests ------------------------------------------------

  /**
   * What the statuses routes make of `{ref}`: a branch or tag resolves to its tip, anything
   * else is taken as given. An unknown sha is no error there: it simply has no statuses.
   * https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/utils/git.go
   */
  const statusSha = (repo: RepoRecord, ref: string): string => {
    const tip = repo.branches.get(ref);
    if (tip !== undefined) return tip;
    const commit = commitOf(repo, ref);
    return commit?.sha ?? ref;
  };

  /** The newest status of each context, as Forgejo's GetLatestCommitStatus picks them. */
  const latestStatuses = (repo: RepoRecord, sha: string): StatusRecord[] => {
    const all = repo.statuses.filter((s) => s.sha === sha);
    return all.filter((s) => !all.some((o) => o.context === s.context && o.index > s.index));
  };

  return {
    baseUrl,
    base,
    fullSha,
    pushTo,
    commitOf,
    historyOf,
    mergeInto,
    startPull,
    mergePull,
    closePull,
    advanceBase,
    basePath,
    appUrl,
    swaggerUrl,
    selfLogin,
    now,
    repos,
    orgs,
    userOwners,
    users,
    labelsById,
    log,
    newId,
    stamp,
    knowUser,
    repoOrThrow,
    issueOrThrow,
    isOrg,
    orgLabels,
    usableLabel,
    createLabel,
    ensureLabel,
    pushEvent,
    applyLabel,
    dropLabel,
    changeState,
    commentIn,
    commentOrThrow,
    modeOf,
    selfMode,
    selfCan,
    statusSha,
    latestStatuses,
    /** The one token accepted; the test-facing API may rotate it. */
    get token() {
      return token;
    },
    setToken(next: string) {
      token = next;
    },
  };
}

/** RFC 3339 at second precision, as Forgejo's Unix timestamps print. */
export function goTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`forgejo fake: "${iso}" is not a time`);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
