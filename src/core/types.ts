// Domain types shared by the core, the adapters and the commands. Adapters translate the
// forges' and T3's wire shapes into these; nothing outside src/adapters sees a raw response.

/** "owner/name", exactly as the allowlist spells it. */
export type RepoName = string;

export interface IssueRef {
  repo: RepoName;
  number: number;
}

export interface Issue extends IssueRef {
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  author: string | null;
  createdAt: string;
  url: string;
}

export interface IssueComment {
  id: number;
  author: string | null;
  body: string;
  createdAt: string;
}

export interface LabelEvent {
  action: 'labeled' | 'unlabeled';
  label: string;
  actor: string | null;
  createdAt: string;
}

/**
 * A user's access to a repository, in the forge-neutral words afk needs. GitHub's legacy
 * `permission` field folds maintain into write and triage into read; a user who is not a
 * collaborator (or a bot the API does not know as a user) is `none`.
 */
export type Permission = 'admin' | 'write' | 'read' | 'none';

/** What afk's own token may do on a repository (GitHub's `permissions` object, by role). */
export interface RepoAccess {
  admin: boolean;
  maintain: boolean;
  push: boolean;
  triage: boolean;
  pull: boolean;
}

/** A repository label as afk creates it: `color` is six hex digits without `#`. */
export interface LabelSpec {
  name: string;
  color: string;
  description: string;
}

/** What T3 makes of afk's token (`GET /api/auth/session`, which never answers 401). */
export interface T3AuthSession {
  authenticated: boolean;
  scopes: string[];
}

export const turnStates = ['running', 'interrupted', 'completed', 'error'] as const;
export type TurnState = (typeof turnStates)[number];

export const sessionStatuses = [
  'idle',
  'starting',
  'running',
  'ready',
  'interrupted',
  'stopped',
  'error',
] as const;
export type SessionStatus = (typeof sessionStatuses)[number];

export interface T3Turn {
  turnId: string;
  state: TurnState;
  requestedAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

export interface T3Session {
  status: SessionStatus;
  activeTurnId: string | null;
  lastError: string | null;
  updatedAt: string | null;
}

export interface T3Message {
  id: string;
  role: 'user' | 'assistant' | 'system';
  text: string;
  turnId: string | null;
  createdAt: string;
}

export interface T3Activity {
  id: string;
  tone: string;
  kind: string;
  summary: string;
  payload: unknown;
  turnId: string | null;
  createdAt: string;
}

export interface T3Project {
  id: string;
  title: string;
  workspaceRoot: string;
  deleted: boolean;
}

export interface T3Thread {
  id: string;
  projectId: string;
  title: string;
  branch: string | null;
  archived: boolean;
  deleted: boolean;
  latestTurn: T3Turn | null;
  session: T3Session | null;
  /**
   * Full detail (v0.0.27 to v0.0.31 snapshots, and the v0.0.29+ thread route) or `null` when
   * the source left it out (v0.0.32+ snapshots send empty arrays, which say nothing).
   */
  messages: T3Message[] | null;
  activities: T3Activity[] | null;
  createdAt: string;
  updatedAt: string;
}

export interface T3Snapshot {
  sequence: number;
  /** `full` carries messages and activities; `slim` (v0.0.32+) does not. */
  detail: 'full' | 'slim';
  projects: T3Project[];
  threads: T3Thread[];
}

export interface ModelSelection {
  instanceId: string;
  model: string;
}

export type RuntimeMode = 'approval-required' | 'auto-accept-edits' | 'full-access' | 'auto';
export type InteractionMode = 'default' | 'plan';

export const issueKey = (ref: IssueRef): string => `${ref.repo}#${ref.number}`;

/** Forges match label names without regard to case, and so does afk. */
export const hasLabel = (issue: Pick<Issue, 'labels'>, label: string): boolean =>
  issue.labels.some((l) => l.toLowerCase() === label.toLowerCase());

/** The pull request of afk's branch: the newest one whose head is `afk/issue-<n>`. */
export interface PullRequest {
  number: number;
  url: string;
  state: 'open' | 'closed';
  merged: boolean;
  /** The head commit of the branch as the PR shows it. */
  headSha: string;
  /** The commit the merge made on the base branch, once merged. */
  mergeCommitSha: string | null;
  mergedAt: string | null;
  createdAt: string;
}

/** Where a reported commit stands relative to the default branch. */
export type CommitPlacement = 'on-default-branch' | 'not-on-default-branch' | 'unknown-commit';

export const checkRunStatuses = [
  'queued',
  'in_progress',
  'completed',
  'waiting',
  'requested',
  'pending',
] as const;
export const checkRunConclusions = [
  'success',
  'failure',
  'neutral',
  'cancelled',
  'skipped',
  'timed_out',
  'action_required',
  'stale',
  'startup_failure',
] as const;

export interface CheckRun {
  name: string;
  status: (typeof checkRunStatuses)[number];
  conclusion: (typeof checkRunConclusions)[number] | null;
  url: string | null;
  /** The run's output title and summary, when it gave one. */
  summary: string | null;
}

export type CommitStatusState = 'pending' | 'success' | 'failure' | 'error';

export interface CommitStatus {
  context: string;
  state: CommitStatusState;
  url: string | null;
  description: string | null;
}

/**
 * Everything the forge says about CI on one commit: check runs (GitHub Actions and apps) and
 * commit statuses (the latest per context). Forgejo has statuses only.
 */
export interface CiFacts {
  sha: string;
  checkRuns: CheckRun[];
  statuses: CommitStatus[];
}

export const deploymentStates = [
  'error',
  'failure',
  'inactive',
  'in_progress',
  'queued',
  'pending',
  'success',
] as const;
export type DeploymentState = (typeof deploymentStates)[number];

/** The newest deployment of a commit to an environment, and its latest status. */
export interface DeploymentFacts {
  sha: string;
  environment: string;
  /** null when no deployment of the commit to the environment exists (yet). */
  state: DeploymentState | null;
  url: string | null;
  updatedAt: string | null;
}

/**
 * A pull request's mergeability. GitHub computes it lazily, in the background, after the
 * first read: `mergeable` is null until it has, and null means "ask again", never a verdict.
 */
export interface Mergeability {
  mergeable: boolean | null;
  /**
   * GitHub's `mergeable_state` (clean, dirty = conflicts, blocked, behind, unstable, unknown,
   * has_hooks, draft); null on Forgejo, whose `mergeable: false` means conflicts.
   */
  state: string | null;
  /** The head and base commits the answer is about: a conflict turn is keyed by both. */
  headSha: string;
  baseSha: string;
}

export const reviewStates = [
  'approved',
  'changes-requested',
  'commented',
  'dismissed',
  'pending',
] as const;
export type ReviewState = (typeof reviewStates)[number];

/** A submitted review (GitHub and Forgejo), in forge-neutral words. */
export interface Review {
  id: number;
  author: string | null;
  state: ReviewState;
  body: string;
  /** The head commit the review was made on. */
  commitSha: string | null;
  /** null for a review not submitted yet (pending). */
  submittedAt: string | null;
}

/** A comment on a line of a pull request's diff. */
export interface ReviewComment {
  id: number;
  /** The review it belongs to, when the forge says. */
  reviewId: number | null;
  author: string | null;
  path: string;
  /** The line in the file's new version; null when the comment is on a line no longer in the diff. */
  line: number | null;
  body: string;
  createdAt: string;
}

/** Everything reviewers said on a pull request, each list oldest first. */
export interface ReviewFeedback {
  reviews: Review[];
  reviewComments: ReviewComment[];
  /** The pull request's conversation: issue comments on its number. */
  comments: IssueComment[];
}

/** The reactions afk puts on a human's comment: acted on (`+1`), or refused (`confused`). */
export type CommentReaction = '+1' | 'confused';
