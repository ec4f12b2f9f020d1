// A strict in-memory Forgejo (and Gitea) REST API for the endpoints afk's tracker uses, as msw
// handlers under `/api/v1`. It answers the way Forgejo does, after its published swagger
// (templates/swagger/v1_json.tmpl) and, where the swagger is vague, its Go handlers
// (routers/api/v1/repo/*.go, services/convert, models/issues; Forgejo 11, June 2025):
// status codes, bodies, `X-Total-Count` and `Link` headers, Go's `null` for empty lists, and
// its refusals. Routes it does not implement fall through to msw's `onUnhandledRequest:
// 'error'`; query parameters it does not implement answer 501 (the real server would ignore
// them silently, which would hide a typo in afk).
// https://forgejo.org/docs/latest/user/api-usage/
import { createHash } from 'node:crypto';
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

interface LabelRecord {
  id: number;
  name: string;
  /** Six lower-case hex digits, without `#`. */
  color: string;
  description: string;
  /** `repo` labels belong to one repository, `org` labels to an organisation. */
  scope: { kind: 'repo'; repo: string } | { kind: 'org'; org: string };
}

interface ReactionRecord {
  login: string;
  content: string;
  createdAt: string;
}

/**
 * A row of Forgejo's `comment` table: comments and timeline events share it, and its ids.
 * https://codeberg.org/forgejo/forgejo/src/branch/forgejo/models/issues/comment.go
 */
interface TimelineRecord {
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

interface IssueRecord {
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

interface PullRecord {
  id: number;
  number: number;
  head: string;
  headSha: string;
  mergedAt: string | null;
  /** Only once merged: Forgejo sends `merge_commit_sha: null` before. */
  mergeCommitSha: string | null;
  /** The default branch's tip when the pull request was opened. */
  mergeBase: string;
}

interface StatusRecord {
  /** Forgejo numbers statuses per commit (`index`), and shows that number as `id`. */
  index: number;
  sha: string;
  context: string;
  state: FakeStatusInput['state'];
  targetUrl: string;
  description: string;
  createdAt: string;
}

type AccessMode = 'none' | 'read' | 'write' | 'admin' | 'owner';

interface RepoRecord {
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

interface OrgRecord {
  name: string;
  labels: LabelRecord[];
}

// https://codeberg.org/forgejo/forgejo/src/branch/forgejo/modules/setting/api.go
const defaultPageSize = 30;
const maxPageSize = 50;
// setting.UI.Reactions, the default list of allowed reactions.
const reactionContents = ['+1', '-1', 'laugh', 'hooray', 'confused', 'heart', 'rocket', 'eyes'];
// Label colours the fake cycles through for labels it creates on the fly.
const colours = ['ee0701', '0052cc', 'e6e6e6', '84b6eb', 'fbca04', '5319e7', '009800', 'cc317c'];
const modeRank: Record<AccessMode, number> = { none: 0, read: 1, write: 2, admin: 3, owner: 4 };
// Forgejo has no maintain or triage role: folded as GitHub's legacy permission folds them.
const roleMode: Record<FakeRole, AccessMode> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
};
// Go's zero time, which Forgejo prints for times it never set.
const zeroTime = '0001-01-01T00:00:00Z';
// The combined status of a commit without statuses: Go's zero `CombinedStatus`, not GitHub's
// `pending`. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/status.go
const emptyCombinedStatus = {
  state: '',
  sha: '',
  total_count: 0,
  statuses: null,
  repository: null,
  commit_url: '',
  url: '',
};

/**
 * Thrown inside a route: becomes Forgejo's error answer. `message: null` is a bare status with
 * an empty body (Forgejo's `ctx.Status(403)`); `errors` makes it the 404 shape.
 */
class Refusal {
  constructor(
    readonly status: number,
    readonly message: string | null,
    readonly errors?: string[],
  ) {}
}

const notFound = (...errors: string[]) => new Refusal(404, "The target couldn't be found.", errors);

export function createForgejoFake(options: ForgejoFakeOptions = {}): ForgejoFake {
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
  const { fullSha, pushTo, commitOf, historyOf, mergeInto, startPull, mergePull, closePull } =
    createCommitGraph('forgejo fake', stamp);

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

  // --- wire shapes ------------------------------------------------------------------------

  const apiRepoUrl = (repo: RepoRecord) => `${baseUrl}/repos/${repo.fullName}`;
  const htmlRepoUrl = (repo: RepoRecord) => `${appUrl}${repo.fullName}`;

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/modules/structs/user.go
  // (`username` is a copy of `login` kept for compatibility).
  const userJson = (login: string) => ({
    id: userId(login),
    login,
    login_name: '',
    source_id: 0,
    full_name: '',
    email: `${login.toLowerCase()}@noreply.forgejo.test`,
    avatar_url: `${appUrl}avatars/${md5(login.toLowerCase())}`,
    html_url: `${appUrl}${encodeURIComponent(login)}`,
    language: '',
    is_admin: false,
    last_login: zeroTime,
    created: '2020-01-01T00:00:00Z',
    restricted: false,
    active: true,
    prohibit_login: false,
    location: '',
    pronouns: '',
    website: '',
    description: '',
    visibility: 'public',
    followers_count: 0,
    following_count: 0,
    starred_repos_count: 0,
    username: login,
  });

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/issue.go (ToLabel)
  const labelJson = (label: LabelRecord) => ({
    id: label.id,
    name: label.name,
    exclusive: false,
    is_archived: false,
    color: label.color,
    description: label.description,
    url:
      label.scope.kind === 'repo'
        ? `${baseUrl}/repos/${label.scope.repo}/labels/${label.id}`
        : `${appUrl}api/v1/orgs/${encodeURIComponent(label.scope.org)}/labels/${label.id}`,
  });

  /** Labels come back sorted by name (GetLabelsByIssueID orders by `label.name`). */
  const labelsJson = (labels: LabelRecord[]) =>
    [...labels].sort((a, b) => compare(a.name, b.name) || a.id - b.id).map(labelJson);

  const repoJson = (repo: RepoRecord) => {
    const mode = selfMode(repo);
    const open = (pulls: boolean) =>
      [...repo.issues.values()].filter((i) => i.isPullRequest === pulls && i.state === 'open')
        .length;
    return {
      id: repo.id,
      owner: userJson(repo.owner),
      name: repo.name,
      full_name: repo.fullName,
      description: '',
      empty: repo.commits.size === 0,
      private: repo.visibility === 'private',
      fork: false,
      template: false,
      parent: null,
      mirror: false,
      size: 0,
      language: '',
      languages_url: `${apiRepoUrl(repo)}/languages`,
      html_url: htmlRepoUrl(repo),
      url: apiRepoUrl(repo),
      link: '',
      ssh_url: `git@${base.host}:${repo.fullName}.git`,
      clone_url: `${htmlRepoUrl(repo)}.git`,
      original_url: '',
      website: '',
      stars_count: 0,
      forks_count: 0,
      watchers_count: 1,
      open_issues_count: open(false),
      open_pr_counter: open(true),
      release_counter: 0,
      default_branch: repo.defaultBranch,
      archived: false,
      created_at: repo.createdAt,
      updated_at: repo.createdAt,
      archived_at: '1970-01-01T00:00:00Z',
      // The authenticated user's access: admin from the repository access mode, push and pull
      // from the code unit. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/repository.go
      permissions: {
        admin: modeRank[mode] >= modeRank.admin,
        push: modeRank[mode] >= modeRank.write,
        pull: modeRank[mode] >= modeRank.read,
      },
      has_issues: true,
      internal_tracker: {
        enable_time_tracker: true,
        allow_only_contributors_to_track_time: true,
        enable_issue_dependencies: true,
      },
      has_wiki: true,
      wiki_branch: 'main',
      globally_editable_wiki: false,
      has_pull_requests: true,
      has_projects: true,
      has_releases: true,
      has_packages: true,
      has_actions: true,
      ignore_whitespace_conflicts: false,
      allow_merge_commits: true,
      allow_rebase: true,
      allow_rebase_explicit: true,
      allow_squash_merge: true,
      allow_fast_forward_only_merge: true,
      allow_rebase_update: true,
      default_delete_branch_after_merge: false,
      default_merge_style: 'merge',
      default_allow_maintainer_edit: false,
      default_update_style: 'merge',
      avatar_url: '',
      internal: false,
      mirror_interval: '',
      object_format_name: 'sha1',
      mirror_updated: zeroTime,
      repo_transfer: null,
      topics: [],
    };
  };

  const issueHtmlUrl = (repo: RepoRecord, issue: IssueRecord) =>
    `${htmlRepoUrl(repo)}/${issue.isPullRequest ? 'pulls' : 'issues'}/${issue.number}`;

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/issue.go (ToAPIIssue)
  const issueJson = (repo: RepoRecord, issue: IssueRecord) => {
    const pull = repo.pulls.get(issue.number);
    return {
      id: issue.id,
      url: `${apiRepoUrl(repo)}/issues/${issue.number}`,
      html_url: issueHtmlUrl(repo, issue),
      number: issue.number,
      user: userJson(issue.author),
      original_author: '',
      original_author_id: 0,
      title: issue.title,
      body: issue.body,
      ref: '',
      assets: [],
      labels: labelsJson(issue.labels),
      milestone: null,
      assignee: null,
      assignees: null,
      state: issue.state,
      is_locked: false,
      comments: issue.timeline.filter((row) => row.type === 'comment').length,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      due_date: null,
      // Present on every issue: null unless it is a pull request (GitHub omits the key).
      pull_request: issue.isPullRequest
        ? {
            merged: pull?.mergedAt != null,
            merged_at: pull?.mergedAt ?? null,
            draft: false,
            html_url: issueHtmlUrl(repo, issue),
          }
        : null,
      repository: {
        id: repo.id,
        name: repo.name,
        owner: repo.owner,
        full_name: repo.fullName,
      },
      pin_order: 0,
    };
  };

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/issue_comment.go
  const commentJson = (repo: RepoRecord, issue: IssueRecord, comment: TimelineRecord) => ({
    id: comment.id,
    html_url: `${issueHtmlUrl(repo, issue)}#issuecomment-${comment.id}`,
    pull_request_url: issue.isPullRequest ? issueHtmlUrl(repo, issue) : '',
    issue_url: issue.isPullRequest ? '' : issueHtmlUrl(repo, issue),
    user: userJson(comment.actor),
    original_author: '',
    original_author_id: 0,
    body: comment.body,
    assets: [],
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
  });

  // A label event is `type: "label"` with `body: "1"` when the label was added and `""` when
  // it was removed. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/issue_comment.go
  const timelineJson = (repo: RepoRecord, issue: IssueRecord, row: TimelineRecord) => ({
    id: row.id,
    type: row.type,
    html_url: `${issueHtmlUrl(repo, issue)}#issuecomment-${row.id}`,
    pull_request_url: issue.isPullRequest ? issueHtmlUrl(repo, issue) : '',
    issue_url: issue.isPullRequest ? '' : issueHtmlUrl(repo, issue),
    user: userJson(row.actor),
    body: row.body,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    old_project_id: 0,
    project_id: 0,
    old_milestone: null,
    milestone: null,
    tracked_time: null,
    old_title: '',
    new_title: '',
    old_ref: '',
    new_ref: '',
    ref_issue: null,
    ref_comment: null,
    ref_action: '',
    ref_commit_sha: '',
    review_id: 0,
    label: row.label === null ? null : labelJson(row.label),
    assignee: null,
    assignee_team: null,
    removed_assignee: false,
    resolve_doer: null,
    dependent_issue: null,
  });

  const reactionJson = (reaction: ReactionRecord) => ({
    user: userJson(reaction.login),
    content: reaction.content,
    created_at: reaction.createdAt,
  });

  const payloadCommitJson = (repo: RepoRecord, commit: CommitRecord) => {
    const person = { name: 'Agent', email: 'agent@example.test', username: '' };
    return {
      id: commit.sha,
      message: `Commit ${commit.sha.slice(0, 7)}\n`,
      url: `${htmlRepoUrl(repo)}/commit/${commit.sha}`,
      author: person,
      committer: person,
      verification: null,
      timestamp: commit.createdAt,
      added: null,
      removed: null,
      modified: null,
    };
  };

  const commitJson = (repo: RepoRecord, commit: CommitRecord) => {
    const person = { name: 'Agent', email: 'agent@example.test', date: commit.createdAt };
    return {
      url: `${apiRepoUrl(repo)}/git/commits/${commit.sha}`,
      sha: commit.sha,
      created: commit.createdAt,
      html_url: `${htmlRepoUrl(repo)}/commit/${commit.sha}`,
      commit: {
        url: `${apiRepoUrl(repo)}/git/commits/${commit.sha}`,
        author: person,
        committer: person,
        message: `Commit ${commit.sha.slice(0, 7)}\n`,
        tree: {
          url: `${apiRepoUrl(repo)}/git/trees/${fakeSha(`tree:${commit.sha}`)}`,
          sha: fakeSha(`tree:${commit.sha}`),
          created: commit.createdAt,
        },
        verification: null,
      },
      author: null,
      committer: null,
      parents: commit.parents.map((sha) => ({
        url: `${apiRepoUrl(repo)}/git/commits/${sha}`,
        sha,
        created: repo.commits.get(sha)?.createdAt ?? commit.createdAt,
      })),
      files: null,
      stats: null,
    };
  };

  // head.label is always the branch; head.ref is the branch while it exists, else the pull
  // request's own ref. merge_commit_sha and merged_at are null until merged.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/pull.go
  const pullJson = (repo: RepoRecord, pull: PullRecord) => {
    const issue = repo.issues.get(pull.number);
    if (issue === undefined) throw new Error(`forgejo fake: pull ${pull.number} lost its issue`);
    const branchExists = repo.branches.has(pull.head);
    const merged = pull.mergedAt !== null;
    return {
      id: pull.id,
      url: issueHtmlUrl(repo, issue),
      number: pull.number,
      user: userJson(issue.author),
      title: issue.title,
      body: issue.body,
      labels: labelsJson(issue.labels),
      milestone: null,
      assignee: null,
      assignees: null,
      requested_reviewers: [],
      requested_reviewers_teams: [],
      state: issue.state,
      draft: false,
      is_locked: false,
      comments: issue.timeline.filter((row) => row.type === 'comment').length,
      review_comments: 0,
      additions: 0,
      deletions: 0,
      changed_files: 0,
      html_url: issueHtmlUrl(repo, issue),
      diff_url: `${issueHtmlUrl(repo, issue)}.diff`,
      patch_url: `${issueHtmlUrl(repo, issue)}.patch`,
      mergeable: issue.state === 'open',
      merged,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha,
      merged_by: merged ? userJson(selfLogin) : null,
      allow_maintainer_edit: false,
      base: {
        label: repo.defaultBranch,
        ref: repo.defaultBranch,
        sha: repo.branches.get(repo.defaultBranch) ?? '',
        repo_id: repo.id,
        repo: repoJson(repo),
      },
      head: {
        label: pull.head,
        ref: branchExists ? pull.head : `refs/pull/${pull.number}/head`,
        sha: pull.headSha,
        repo_id: repo.id,
        repo: repoJson(repo),
      },
      merge_base: pull.mergeBase,
      due_date: null,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      pin_order: 0,
      flow: 0,
    };
  };

  // `status` (not `state`) is the field's name; `id` is the per-commit index.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/status.go
  const statusJson = (repo: RepoRecord, status: StatusRecord) => ({
    id: status.index,
    status: status.state,
    target_url: status.targetUrl,
    description: status.description,
    url: `${apiRepoUrl(repo)}/statuses/${status.sha}`,
    context: status.context,
    creator: userJson('forgejo-actions'),
    created_at: status.createdAt,
    updated_at: status.createdAt,
  });

  // --- answers ----------------------------------------------------------------------------

  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (body === undefined) return new HttpResponse(null, { status, headers });
    return HttpResponse.json(body, { status, headers });
  };

  const refusalAnswer = (refusal: Refusal) => {
    if (refusal.message === null) return answer(refusal.status, undefined);
    return answer(refusal.status, {
      message: refusal.message,
      url: swaggerUrl,
      ...(refusal.errors === undefined ? {} : { errors: refusal.errors }),
    });
  };

  const failureAnswer = (failure: FakeFailure) =>
    answerFailure(failure, answer, (status) => ({
      message: `fake failure ${status}`,
      url: swaggerUrl,
    }));

  // --- the request pipeline: record, injected failures, auth, then the route ----------------

  interface Incoming {
    url: URL;
    params: Record<string, string>;
    /** The JSON body; `{}` when the request did not send JSON (Forgejo binds a form then). */
    body: unknown;
  }
  type Route = (incoming: Incoming) => Response | Promise<Response>;

  // `Authorization: token <t>` (lower-case `token`) or `Bearer <t>` (any case). A token Forgejo
  // does not know answers 401 with the user lookup's error; no token at all answers 401 "token
  // is required" here, where the real server would serve a public repository anonymously.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/auth/oauth2.go
  const authRefusal = (headers: Record<string, string>): Refusal | undefined => {
    const fields = (headers['authorization'] ?? '').trim().split(/\s+/);
    const [scheme, given] = fields;
    const isToken =
      fields.length === 2 && (scheme === 'token' || scheme?.toLowerCase() === 'bearer');
    if (!isToken) return new Refusal(401, 'token is required');
    return given === token ? undefined : new Refusal(401, 'user does not exist [uid: 0, name: ]');
  };

  const route = (
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    handle: Route,
  ): HttpHandler =>
    http[method](`${baseUrl}${path}`, async ({ request, params }) => {
      const flat = flatten(params);
      // `/issues/comments` is another endpoint, not issue number "comments": fall through.
      if (flat['index'] !== undefined && !/^\d+$/.test(flat['index'])) return undefined;
      if (flat['id'] !== undefined && !/^\d+$/.test(flat['id'])) return undefined;
      const { recorded, url, parseError } = await log.record(request);
      const failure = log.takeFailure(recorded);
      if (failure !== undefined) return failureAnswer(failure);
      const refused = authRefusal(recorded.headers);
      if (refused !== undefined) return refusalAnswer(refused);
      try {
        let body: unknown = recorded.body;
        if (method !== 'get') {
          // Forgejo binds JSON only for a JSON content type; anything else is read as a form,
          // which leaves every field empty. Undecodable JSON is a 422 from the binding.
          // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/api.go (bind)
          const json = /^application\/json\b/i.test(recorded.headers['content-type'] ?? '');
          if (!json) body = {};
          else if (parseError !== undefined) throw new Refusal(422, `[]: ${parseError}`);
          else if (body === undefined) body = {};
        }
        return await handle({ url, params: flat, body });
      } catch (error) {
        if (error instanceof Refusal) return refusalAnswer(error);
        throw error;
      }
    });

  const repoOf = (params: Record<string, string>): RepoRecord => {
    const repo = repos.get(`${params['owner'] ?? ''}/${params['repo'] ?? ''}`.toLowerCase());
    // A private repository the token's user cannot see does not exist, as far as it knows.
    if (repo === undefined || selfMode(repo) === 'none') throw notFound();
    return repo;
  };

  const issueOf = (repo: RepoRecord, params: Record<string, string>): IssueRecord => {
    const index = Number(params['index']);
    const issue = repo.issues.get(index);
    if (issue === undefined) {
      throw notFound(`issue does not exist [id: 0, repo_id: ${repo.id}, index: ${index}]`);
    }
    return issue;
  };

  // commentAssignment: an unknown id, or a comment of another repository, is a 404.
  const commentOf = (repo: RepoRecord, params: Record<string, string>) => {
    const id = Number(params['id']);
    const found = commentIn(repo, id);
    if (found === undefined) throw notFound(`comment does not exist [id: ${id}, issue_id: 0]`);
    return found;
  };

  // Writes to issues need write access; Forgejo answers a bare 403 (empty body).
  const requireIssueWriter = (repo: RepoRecord) => {
    if (!selfCan(repo, 'write')) throw new Refusal(403, null);
  };

  /**
   * Forgejo's `page` and `limit`: `limit` defaults to 30 and is capped at 50; `page` starts at
   * 1. `explicitPage` is whether the caller sent a page at all: some lists return everything
   * without one. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/utils/page.go
   */
  const listOptions = (url: URL) => {
    const page = formInt(url.searchParams.get('page'));
    const limit = formInt(url.searchParams.get('limit'));
    const size = limit <= 0 ? defaultPageSize : Math.min(limit, maxPageSize);
    return { page: Math.max(page, 1), size, explicitPage: page > 0 };
  };

  const pageOf = <T>(items: T[], { page, size }: { page: number; size: number }): T[] =>
    items.slice((page - 1) * size, page * size);

  /**
   * Forgejo's `Link` header: next, last, first, prev, joined by `,`, each the request's own URL
   * with `page` replaced and the query re-encoded in key order, as Go's url.Values does.
   * https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/context/api.go (genAPILinks)
   */
  const linkHeader = (url: URL, total: number, size: number, page: number) => {
    const pages = Math.ceil(total / size);
    const link = (n: number, rel: string) => {
      const query = new URLSearchParams(url.searchParams);
      query.set('page', String(n));
      query.sort();
      return `<${url.origin}${url.pathname}?${query.toString()}>; rel="${rel}"`;
    };
    const links = [
      ...(page < pages ? [link(page + 1, 'next')] : []),
      ...(total > 0 && page !== pages ? [link(pages, 'last')] : []),
      ...(page !== 1 ? [link(1, 'first')] : []),
      ...(page > 1 ? [link(page - 1, 'prev')] : []),
    ];
    return links.length === 0 ? {} : { link: links.join(',') };
  };

  const totalCount = (total: number) => ({ 'x-total-count': String(total) });

  // --- endpoints --------------------------------------------------------------------------

  const getSelf: Route = () => answer(200, userJson(selfLogin));

  const getRepo: Route = ({ url, params }) => {
    unsupported(url.searchParams, []);
    return answer(200, repoJson(repoOf(params)));
  };

  // Only a site admin, a repository admin (or owner), or the user asking about themselves may
  // read a permission: a token with mere write access gets 403.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/collaborators.go
  const getPermission: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const name = params['collaborator'] ?? '';
    const login = users.get(name.toLowerCase());
    if (login === undefined) {
      throw new Refusal(404, `user does not exist [uid: 0, name: ${name}]`);
    }
    if (login.toLowerCase() !== selfLogin.toLowerCase() && !selfCan(repo, 'admin')) {
      throw new Refusal(
        403,
        'Only admins can query all permissions, repo admins can query all repo permissions, collaborators can query only their own',
      );
    }
    const mode = modeOf(repo, login);
    return answer(200, { permission: mode, role_name: mode, user: userJson(login) });
  };

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue.go (ListIssues)
  const listIssues: Route = ({ url, params }) => {
    const repo = repoOf(params);
    const query = url.searchParams;
    unsupported(query, ['state', 'type', 'labels', 'sort', 'page', 'limit']);
    // Anything but closed or all reads as open; anything but issues or pulls lists both.
    const state = query.get('state');
    const type = query.get('type');
    const sort = query.get('sort') ?? 'latest';
    if (!['latest', 'oldest', 'recentupdate', 'leastupdate', ''].includes(sort)) {
      throw new Refusal(501, `forgejo fake: sort "${sort}" is not implemented`);
    }
    // Names resolve among the repository's own labels only (not its organisation's), and
    // names that resolve to nothing are dropped; when none resolves, there is no filter at all.
    const names = (query.get('labels') ?? '').split(',');
    const wanted = repo.labels.filter((l) => names.includes(l.name)).map((l) => l.id);
    const key = (issue: IssueRecord) =>
      sort === 'recentupdate' || sort === 'leastupdate' ? issue.updatedAt : issue.createdAt;
    const ascending = sort === 'oldest' || sort === 'leastupdate';
    const matching = [...repo.issues.values()]
      .filter((issue) =>
        state === 'closed'
          ? issue.state === 'closed'
          : state === 'all'
            ? true
            : issue.state === 'open',
      )
      .filter((issue) =>
        type === 'issues' ? !issue.isPullRequest : type === 'pulls' ? issue.isPullRequest : true,
      )
      .filter((issue) => wanted.every((id) => issue.labels.some((l) => l.id === id)))
      .sort((a, b) => compare(key(a), key(b)) || a.id - b.id);
    if (!ascending) matching.reverse();
    const options = listOptions(url);
    return answer(
      200,
      pageOf(matching, options).map((issue) => issueJson(repo, issue)),
      {
        ...linkHeader(url, matching.length, options.size, options.page),
        ...totalCount(matching.length),
      },
    );
  };

  const getIssue: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    return answer(200, issueJson(repo, issueOf(repo, params)));
  };

  // Closing answers 201, not 200; any `state` but "closed" reopens.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue.go (EditIssue)
  const editIssue: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const issue = issueOf(repo, params);
    const fields = isObject(body) ? body : {};
    const implemented = ['state', 'title', 'body'];
    const other = Object.keys(fields).find((name) => !implemented.includes(name));
    if (other !== undefined) throw new Refusal(501, `forgejo fake: "${other}" is not implemented`);
    const { state, title, body: text } = fields;
    if (state !== undefined && state !== null && typeof state !== 'string') {
      throw new Refusal(422, '[State]: cannot unmarshal');
    }
    if (title !== undefined && typeof title !== 'string') {
      throw new Refusal(422, '[Title]: cannot unmarshal');
    }
    if (text !== undefined && text !== null && typeof text !== 'string') {
      throw new Refusal(422, '[Body]: cannot unmarshal');
    }
    const poster = issue.author.toLowerCase() === selfLogin.toLowerCase();
    if (!poster && !selfCan(repo, 'write')) throw new Refusal(403, null);
    const at = stamp();
    if (typeof title === 'string' && title !== '') issue.title = title;
    if (typeof text === 'string') issue.body = text;
    if (typeof state === 'string') {
      const pull = repo.pulls.get(issue.number);
      if (pull !== undefined && pull.mergedAt !== null) {
        throw new Refusal(412, 'cannot change state of this pull request, it was already merged');
      }
      changeState(issue, state === 'closed' ? 'closed' : 'open', selfLogin, at);
    }
    issue.updatedAt = at;
    return answer(201, issueJson(repo, issue));
  };

  // No pagination: every comment, oldest first, with X-Total-Count. The route's only
  // parameters are `since` and `before` (not implemented here). Forgejo ignores `page` and
  // `limit` on it; the fake refuses them like any parameter it does not implement, so a
  // client that pages this list (and believes it got one page) shows up in its tests.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_comment.go (ListIssueComments)
  const listComments: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const issue = issueOf(repo, params);
    const comments = chronological(issue.timeline).filter((row) => row.type === 'comment');
    return answer(
      200,
      comments.map((comment) => commentJson(repo, issue, comment)),
      totalCount(comments.length),
    );
  };

  const commentText = (body: unknown): string => {
    const text = isObject(body) ? body['body'] : undefined;
    if (text !== undefined && typeof text !== 'string') {
      throw new Refusal(422, '[Body]: cannot unmarshal');
    }
    // binding:"Required" refuses only the empty string.
    if (text === undefined || text === '') throw new Refusal(422, '[Body]: Required');
    return text;
  };

  const createComment: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const issue = issueOf(repo, params);
    const text = commentText(body);
    const at = stamp();
    pushEvent(issue, {
      type: 'comment',
      actor: selfLogin,
      body: text,
      label: null,
      createdAt: at,
      updatedAt: at,
    });
    const comment = issue.timeline.at(-1);
    if (comment === undefined) throw new Error('forgejo fake: the comment was not recorded');
    return answer(201, commentJson(repo, issue, comment));
  };

  const getComment: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const { issue, comment } = commentOf(repo, params);
    return answer(200, commentJson(repo, issue, comment));
  };

  /** A comment's author, or anyone with write access, may edit or delete it. */
  const requireCommentWriter = (repo: RepoRecord, comment: TimelineRecord) => {
    const author = comment.actor.toLowerCase() === selfLogin.toLowerCase();
    if (!author && !selfCan(repo, 'write')) throw new Refusal(403, null);
  };

  const editComment: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const { issue, comment } = commentOf(repo, params);
    const text = commentText(body);
    requireCommentWriter(repo, comment);
    comment.body = text;
    comment.updatedAt = stamp();
    return answer(200, commentJson(repo, issue, comment));
  };

  const deleteComment: Route = ({ params }) => {
    const repo = repoOf(params);
    const { issue, comment } = commentOf(repo, params);
    requireCommentWriter(repo, comment);
    issue.timeline.splice(issue.timeline.indexOf(comment), 1);
    return answer(204, undefined);
  };

  // No reactions is JSON `null` (a nil Go slice), not `[]`.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_reaction.go
  const listReactions: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const { comment } = commentOf(repo, params);
    const reactions = comment.reactions.filter((r) => reactionContents.includes(r.content));
    return answer(200, reactions.length === 0 ? null : reactions.map(reactionJson));
  };

  const reactionContent = (body: unknown): string => {
    const content = isObject(body) ? body['content'] : undefined;
    if (content !== undefined && typeof content !== 'string') {
      throw new Refusal(422, '[Reaction]: cannot unmarshal');
    }
    return content ?? '';
  };

  // 201 when this call created the reaction, 200 with the existing one when the user already
  // reacted so: the one atomic test-and-set afk's claims rest on.
  const createReaction: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const { comment } = commentOf(repo, params);
    const content = reactionContent(body);
    if (!reactionContents.includes(content)) {
      throw new Refusal(403, `'${content}' is not an allowed reaction`);
    }
    const mine = comment.reactions.find(
      (r) => r.login.toLowerCase() === selfLogin.toLowerCase() && r.content === content,
    );
    if (mine !== undefined) return answer(200, reactionJson(mine));
    const reaction = { login: selfLogin, content, createdAt: stamp() };
    comment.reactions.push(reaction);
    return answer(201, reactionJson(reaction));
  };

  // By content, for the token's user; deleting a reaction that is not there is still 200.
  const deleteReaction: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const { comment } = commentOf(repo, params);
    const content = reactionContent(body);
    comment.reactions = comment.reactions.filter(
      (r) => !(r.login.toLowerCase() === selfLogin.toLowerCase() && r.content === content),
    );
    return answer(200, undefined);
  };

  // Without `page` the whole timeline; with it, one page of `limit`. X-Total-Count counts the
  // rows in this answer, not in the timeline.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_comment.go (ListIssueCommentsAndTimeline)
  const listTimeline: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, ['page', 'limit']);
    const issue = issueOf(repo, params);
    const options = listOptions(url);
    const timeline = chronological(issue.timeline);
    const rows = options.explicitPage ? pageOf(timeline, options) : timeline;
    return answer(
      200,
      rows.map((row) => timelineJson(repo, issue, row)),
      totalCount(rows.length),
    );
  };

  const listIssueLabels: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    return answer(200, labelsJson(issueOf(repo, params).labels));
  };

  // `labels` holds ids (numbers) or names (strings), never both. Names resolve among the
  // repository's and its organisation's labels; unknown names and ids, and labels of other
  // repositories, are dropped without a word.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_label.go
  const addIssueLabels: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const issue = issueOf(repo, params);
    const given = isObject(body) ? body['labels'] : undefined;
    if (given !== undefined && given !== null && !Array.isArray(given)) {
      throw new Refusal(422, '[Labels]: cannot unmarshal');
    }
    const ids: number[] = [];
    const names: string[] = [];
    for (const item of given ?? []) {
      if (typeof item === 'number') ids.push(Math.trunc(item));
      else if (typeof item === 'string') names.push(item);
      else throw new Refusal(400, 'a label must be an integer or a string');
    }
    if (ids.length > 0 && names.length > 0) {
      throw new Refusal(400, 'labels should be an array of strings or integers');
    }
    const byName = [...repo.labels, ...orgLabels(repo)].filter((l) => names.includes(l.name));
    const byId = ids.flatMap((id) => {
      const label = labelsById.get(id);
      return label === undefined ? [] : [label];
    });
    requireIssueWriter(repo);
    const at = stamp();
    for (const label of [...byName, ...byId]) {
      const usable =
        label.scope.kind === 'repo'
          ? label.scope.repo === repo.fullName
          : isOrg(repo.owner) && label.scope.org.toLowerCase() === repo.owner.toLowerCase();
      if (usable) applyLabel(issue, label, selfLogin, at);
    }
    return answer(200, labelsJson(issue.labels));
  };

  // By id. An id no label has is 422; a label the issue does not carry is a silent 204.
  const removeIssueLabel: Route = ({ params }) => {
    const repo = repoOf(params);
    const issue = issueOf(repo, params);
    requireIssueWriter(repo);
    const label = labelsById.get(Number(params['id']));
    if (label === undefined) throw new Refusal(422, 'label does not exist [label_id: 0]');
    dropLabel(issue, label, selfLogin, stamp());
    return answer(204, undefined);
  };

  // X-Total-Count but no Link header; without `page`, every label.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/label.go
  const labelList = (url: URL, labels: LabelRecord[]) => {
    unsupported(url.searchParams, ['page', 'limit']);
    const options = listOptions(url);
    const sorted = [...labels].sort((a, b) => compare(a.name, b.name) || a.id - b.id);
    const rows = options.explicitPage ? pageOf(sorted, options) : sorted;
    return answer(200, rows.map(labelJson), totalCount(labels.length));
  };

  const listRepoLabels: Route = ({ url, params }) => labelList(url, repoOf(params).labels);

  const listOrgLabels: Route = ({ url, params }) => {
    const name = params['org'] ?? '';
    // orgAssignment: a user account, or no account at all, is not an organisation.
    const known = [...repos.values()].some((r) => r.owner.toLowerCase() === name.toLowerCase());
    const org = orgs.get(name.toLowerCase());
    if (!isOrg(name) || (org === undefined && !known)) throw notFound();
    return labelList(url, org?.labels ?? []);
  };

  // Forgejo does not refuse a duplicate name: a second label of that name is created.
  const createRepoLabel: Route = ({ params, body }) => {
    const repo = repoOf(params);
    if (!selfCan(repo, 'write')) {
      throw new Refusal(403, 'user should have a permission to write to a repo');
    }
    const fields = isObject(body) ? body : {};
    const { name, color, description } = fields;
    for (const [field, value] of [
      ['Name', name],
      ['Color', color],
      ['Description', description],
    ] as const) {
      if (value !== undefined && typeof value !== 'string') {
        throw new Refusal(422, `[${field}]: cannot unmarshal`);
      }
    }
    if (typeof name !== 'string' || name === '') throw new Refusal(422, '[Name]: Required');
    if (typeof color !== 'string' || color === '') throw new Refusal(422, '[Color]: Required');
    const normalised = normaliseColor(color);
    if (normalised === undefined) {
      throw new Refusal(422, `bad color code: ${color.trim().toLowerCase()}`);
    }
    const label = createLabel(
      { kind: 'repo', repo: repo.fullName },
      repo.labels,
      name,
      normalised,
      typeof description === 'string' ? description : '',
    );
    return answer(201, labelJson(label));
  };

  // No `head` filter. Without `state` (or with anything but open or closed) every pull
  // request is listed, whatever the swagger's "default: open" says; newest first.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/models/issues/pull_list.go
  const listPulls: Route = ({ url, params }) => {
    const repo = repoOf(params);
    const query = url.searchParams;
    unsupported(query, ['state', 'sort', 'page', 'limit']);
    const state = (query.get('state') ?? '').trim();
    const sort = (query.get('sort') ?? '').trim();
    if (!['', 'oldest', 'recentupdate', 'leastupdate'].includes(sort)) {
      throw new Refusal(501, `forgejo fake: sort "${sort}" is not implemented`);
    }
    const key = (issue: IssueRecord) =>
      sort === 'recentupdate' || sort === 'leastupdate' ? issue.updatedAt : issue.createdAt;
    const matching = [...repo.pulls.values()]
      .map((pull) => ({ pull, issue: repo.issues.get(pull.number) }))
      .filter((e): e is { pull: PullRecord; issue: IssueRecord } => e.issue !== undefined)
      .filter(({ issue }) =>
        state === 'open' || state === 'closed' ? issue.state === state : true,
      )
      .sort((a, b) => compare(key(a.issue), key(b.issue)) || a.issue.id - b.issue.id);
    if (sort !== 'oldest' && sort !== 'leastupdate') matching.reverse();
    const options = listOptions(url);
    return answer(
      200,
      pageOf(matching, options).map(({ pull }) => pullJson(repo, pull)),
      {
        ...linkHeader(url, matching.length, options.size, options.page),
        ...totalCount(matching.length),
      },
    );
  };

  const getPull: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const index = Number(params['index']);
    const pull = repo.pulls.get(index);
    if (pull === undefined) {
      throw notFound(
        `pull request does not exist [id: 0, issue_id: 0, head_repo_id: 0, base_repo_id: ${repo.id}, head_branch: , base_branch: ]`,
      );
    }
    return answer(200, pullJson(repo, pull));
  };

  const getBranch: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const name = params['0'] ?? '';
    const tip = repo.branches.get(name);
    const commit = tip === undefined ? undefined : repo.commits.get(tip);
    if (commit === undefined) {
      throw notFound(`branch does not exist [name: ${name}]`);
    }
    return answer(200, {
      name,
      commit: payloadCommitJson(repo, commit),
      protected: false,
      required_approvals: 0,
      enable_status_check: false,
      status_check_contexts: [],
      user_can_push: selfCan(repo, 'write'),
      user_can_merge: selfCan(repo, 'write'),
      effective_branch_protection_name: '',
    });
  };

  // The latest status of each context, a page of contexts at a time (newest first). With no
  // statuses at all: Go's zero CombinedStatus, `state: ""`, and no X-Total-Count. The combined
  // state is the worst by error < failure < warning < pending < success, error shown as
  // failure. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/status.go
  const getCombinedStatus: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, ['page', 'limit']);
    const sha = statusSha(repo, params['ref'] ?? '');
    const latest = latestStatuses(repo, sha).sort((a, b) => b.index - a.index);
    const rows = pageOf(latest, listOptions(url)).sort((a, b) => a.index - b.index);
    if (rows.length === 0) return answer(200, emptyCombinedStatus);
    const worst = rows.reduce<FakeStatusInput['state']>(
      (state, s) => (statusRank[s.state] <= statusRank[state] ? s.state : state),
      'success',
    );
    return answer(
      200,
      {
        state: worst === 'error' ? 'failure' : worst,
        sha,
        total_count: rows.length,
        statuses: rows.map((s) => statusJson(repo, s)),
        repository: repoJson(repo),
        commit_url: '',
        url: '',
      },
      totalCount(latest.length),
    );
  };

  const listStatuses: Route = ({ url, params }) => {
    const repo = repoOf(params);
    const query = url.searchParams;
    unsupported(query, ['sort', 'state', 'page', 'limit']);
    const sha = statusSha(repo, params['ref'] ?? '');
    const sort = query.get('sort') ?? '';
    if (!['', 'oldest', 'leastindex', 'highestindex'].includes(sort)) {
      throw new Refusal(501, `forgejo fake: sort "${sort}" is not implemented`);
    }
    const state = query.get('state') ?? '';
    const matching = repo.statuses
      .filter((s) => s.sha === sha)
      .filter((s) => !Object.hasOwn(statusRank, state) || s.state === state)
      .sort((a, b) => a.index - b.index);
    // created_unix DESC by default; `leastindex` is index DESC and `highestindex` index ASC,
    // as Forgejo (oddly) names them.
    if (sort === '' || sort === 'leastindex') matching.reverse();
    const options = listOptions(url);
    return answer(
      200,
      pageOf(matching, options).map((s) => statusJson(repo, s)),
      {
        ...linkHeader(url, matching.length, options.size, options.page),
        ...totalCount(matching.length),
      },
    );
  };

  // `{base}...{head}` (or `..`): the commits of head since the merge base, every one of them
  // (no pagination). An unknown ref is 404; two histories with no common ancestor make git
  // itself fail, which Forgejo reports as a 500 with an empty message.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/compare.go
  const compareCommits: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, ['files', 'verification']);
    const spec = params['0'] ?? '';
    const parts = spec.includes('...') ? spec.split('...') : spec.split('..');
    const [baseRef, headRef] = parts.length === 2 ? parts : [repo.defaultBranch, spec];
    if (baseRef === undefined || headRef === undefined) throw notFound();
    if (headRef.includes(':')) {
      throw new Refusal(501, 'forgejo fake: comparing across forks is not implemented');
    }
    // parseCompareInfo names the side it could not resolve in the 404's message.
    const baseCommit = commitOf(repo, baseRef);
    if (baseCommit === undefined) throw new Refusal(404, 'BaseNotExist', []);
    const headCommit = commitOf(repo, headRef);
    if (headCommit === undefined) throw new Refusal(404, 'IsRefExist', []);
    const inBase = historyOf(repo, baseCommit);
    const inHead = historyOf(repo, headCommit);
    if (![...inHead].some((sha) => inBase.has(sha))) throw new Refusal(500, '');
    const commits = [...inHead]
      .filter((sha) => !inBase.has(sha))
      .map((sha) => repo.commits.get(sha))
      .filter((commit): commit is CommitRecord => commit !== undefined)
      .sort((a, b) => b.order - a.order);
    return answer(200, {
      total_commits: commits.length,
      commits: commits.map((commit) => commitJson(repo, commit)),
      files: [],
    });
  };

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
    route('get', '/repos/:owner/:repo/branches/*', getBranch),
    route('get', '/repos/:owner/:repo/commits/:ref/status', getCombinedStatus),
    route('get', '/repos/:owner/:repo/commits/:ref/statuses', listStatuses),
    route('get', '/repos/:owner/:repo/compare/*', compareCommits),
  ];

  // --- the test-facing API ----------------------------------------------------------------

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
      token = next;
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

// https://codeberg.org/forgejo/forgejo/src/branch/forgejo/modules/structs/commit_status.go
const statusRank: Record<FakeStatusInput['state'], number> = {
  error: 0,
  failure: 1,
  warning: 2,
  pending: 3,
  success: 4,
};

function unsupported(query: URLSearchParams, implemented: string[]): void {
  for (const name of query.keys()) {
    if (!implemented.includes(name)) {
      throw new Refusal(501, `forgejo fake: query parameter "${name}" is not implemented`);
    }
  }
}

/** Go's `ctx.FormInt`: a value that is not an integer reads as 0. */
function formInt(value: string | null): number {
  if (value === null || !/^[+-]?\d+$/.test(value.trim())) return 0;
  return Number.parseInt(value, 10);
}

/** RFC 3339 at second precision, as Forgejo's Unix timestamps print. */
function goTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`forgejo fake: "${iso}" is not a time`);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `#rgb`, `rgb`, `#rrggbb` or `rrggbb`, case-insensitive; stored without `#`, lower-case. */
function normaliseColor(color: string): string | undefined {
  const hex = color.trim().toLowerCase().replace(/^#/, '');
  if (/^[0-9a-f]{6}$/.test(hex)) return hex;
  if (/^[0-9a-f]{3}$/.test(hex)) return [...hex].map((c) => c + c).join('');
  return undefined;
}

/** Comment rows as FindComments orders them: created_unix, then id. */
function chronological<T extends { id: number; createdAt: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => compare(a.createdAt, b.createdAt) || a.id - b.id);
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}
