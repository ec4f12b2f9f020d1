// The ports: what the commands and the executor need from the outside world, in domain words.
// src/adapters implements them (GitHub, later Forgejo; T3); tests drive the real adapters
// against HTTP fakes rather than stubbing these interfaces.
import type {
  CiFacts,
  CommentReaction,
  CommitPlacement,
  DeploymentFacts,
  PullRequest,
  Issue,
  IssueComment,
  IssueRef,
  InteractionMode,
  LabelEvent,
  LabelSpec,
  Mergeability,
  ModelSelection,
  Permission,
  RepoAccess,
  RepoName,
  ReviewFeedback,
  RuntimeMode,
  T3Snapshot,
  T3Thread,
} from './types.js';

export interface Tracker {
  /**
   * The ready queue (open issues labelled `labels.ready`, when given) and the live runs (open
   * or closed issues labelled `labels.inProgress`) of every repo, in `repos`' order. A repo
   * that cannot be read is an answer of its own (`ok: false`): the others are still served.
   * GitHub reads them all in a few GraphQL queries; Forgejo lists each repo over REST.
   */
  readQueues(
    repos: readonly RepoName[],
    labels: QueueLabels,
  ): Promise<Array<RepoAnswer<RepoQueue>>>;
  /**
   * What watch reads for every live run before its decisions, in `runs`' order: each run's
   * comments (to find afk's), and whatever evidence the forge reads cheaply in bulk (GitHub:
   * the PR of `branch`, its head's and merge commit's CI, deployments to `environment`).
   * Evidence left out is read one by one when a decision asks for it. A run that cannot be
   * read is an answer of its own.
   */
  prefetchRuns(runs: readonly RunPrefetch[]): Promise<Array<RunAnswer>>;
  /** Issues (never pull requests) in one repo carrying `label`. */
  listLabelledIssues(repo: RepoName, label: string, state: 'open' | 'all'): Promise<Issue[]>;
  /** Every comment on the issue, oldest first. */
  listComments(issue: IssueRef): Promise<IssueComment[]>;
  /** Label events on the issue, oldest first. */
  listLabelEvents(issue: IssueRef): Promise<LabelEvent[]>;
  /** The permission `login` holds on `repo`; `none` for a stranger. */
  getPermission(repo: RepoName, login: string): Promise<Permission>;
  /** The login afk's token acts as: afk's own comments are the ones it wrote. */
  getSelfLogin(): Promise<string>;

  createComment(issue: IssueRef, body: string): Promise<{ id: number }>;
  updateComment(repo: RepoName, commentId: number, body: string): Promise<void>;
  addLabels(issue: IssueRef, labels: string[]): Promise<void>;
  /** Removing a label the issue does not carry is success: the desired state holds. */
  removeLabel(issue: IssueRef, label: string): Promise<void>;
  closeIssue(issue: IssueRef): Promise<void>;

  // Claims, for ticks that overlap (a CronJob overrun, a manual run): the forges have no lock,
  // but they do have one atomic test-and-set, a reaction. Adding a reaction the account has
  // already added answers 200 instead of 201, so of any number of concurrent callers exactly
  // one acquires it.

  /** One comment by id, or null when it is gone. */
  getComment(repo: RepoName, commentId: number): Promise<IssueComment | null>;
  /** Deleting a comment that is already gone is success. */
  deleteComment(repo: RepoName, commentId: number): Promise<void>;
  /**
   * Claims `commentId` for afk's account with the `eyes` reaction. `acquired` is true only
   * when this call created the reaction; `claimedAt` is when the reaction (this call's or the
   * holder's) was created, so a claim left by a dead tick can be recognised as stale.
   */
  claimComment(repo: RepoName, commentId: number): Promise<CommentClaim>;
  /** Removes afk's `eyes` reaction; one that is already gone is success. */
  releaseClaim(repo: RepoName, commentId: number, claim: CommentClaim): Promise<void>;

  // Evidence for watch: what the agent pushed and what CI and the deploy made of it.

  /** The newest pull request (any state) whose head is `branch` in `repo`, or null. */
  findPullRequest(repo: RepoName, branch: string): Promise<PullRequest | null>;
  /** Is `sha` on the repo's default branch (trunk mode: the agent pushed there)? */
  placeCommit(repo: RepoName, sha: string): Promise<CommitPlacement>;
  /** Check runs and commit statuses of one commit. */
  readCi(repo: RepoName, sha: string): Promise<CiFacts>;
  /** The newest deployment of `sha` to `environment` and its latest status. */
  readDeployment(repo: RepoName, sha: string, environment: string): Promise<DeploymentFacts>;

  // Conversations: review feedback, merge conflicts, `/afk` commands.

  /** One pull request's mergeability; GitHub answers `mergeable: null` until it has computed it. */
  readMergeability(repo: RepoName, pullNumber: number): Promise<Mergeability>;
  /** Reviews, review comments and conversation comments on a pull request, each oldest first. */
  readReviewFeedback(repo: RepoName, pullNumber: number): Promise<ReviewFeedback>;
  /** afk's reaction on an issue comment; a reaction afk already added there is success. */
  reactToComment(repo: RepoName, commentId: number, content: CommentReaction): Promise<void>;

  // Setup checks for `afk doctor`.

  /** What afk's own token may do on `repo`; null when the forge does not say (App tokens). */
  getRepoAccess(repo: RepoName): Promise<RepoAccess | null>;
  /** The names of every label defined in `repo`. */
  listRepoLabels(repo: RepoName): Promise<string[]>;
  /** Creates a repository label; one that already exists is success: the desired state holds. */
  createLabel(repo: RepoName, label: LabelSpec): Promise<void>;
}

export interface QueueLabels {
  /** Left out, the ready queue is not read (watch follows only the live runs). */
  ready?: string | undefined;
  inProgress: string;
  /** Left out, the escalated runs are not read (poll does not; watch does, for `/afk`). */
  human?: string | undefined;
}

export interface RepoQueue {
  ready: Issue[];
  inProgress: Issue[];
  /** Open issues labelled `human`: escalated runs a `/afk` command may resume. */
  human: Issue[];
}

export type RepoAnswer<T> =
  { repo: RepoName; ok: true; value: T } | { repo: RepoName; ok: false; error: unknown };

export interface RunPrefetch {
  issue: Issue;
  /** afk's branch, when the run delivers through a pull request. */
  branch: string | null;
  /** The environment of the deploy, when it is a GitHub deployment. */
  environment: string | null;
}

/**
 * The evidence a batch settled for certain, keyed as `watchRun`'s `Evidence` (which it fits
 * into): what is left out, a decision reads one by one.
 */
export interface PrefetchedEvidence {
  pullRequest?: PullRequest | null;
  ci?: Readonly<Record<string, CiFacts>>;
  deployment?: Readonly<Record<string, DeploymentFacts>>;
  /** Of the open PR in `pullRequest`. */
  mergeability?: Mergeability;
  /** Of the open PR in `pullRequest`, when no list of it was longer than a page. */
  reviewFeedback?: ReviewFeedback;
}

/** What was read for one run: its comments, and the evidence the batch settled. */
export type RunAnswer =
  | { ok: true; comments: IssueComment[]; evidence: PrefetchedEvidence }
  | { ok: false; error: unknown };

export interface CommentClaim {
  acquired: boolean;
  /** The reaction's id (GitHub deletes by id; Forgejo by content, and ignores it). */
  reactionId: number;
  /** ISO 8601: when the reaction was created. */
  claimedAt: string;
}

/** The doorbell: one message to the humans on call. */
export interface Doorbell {
  /**
   * False when none is configured: escalations go on without one and say so. A configured
   * doorbell that cannot ring (its webhook file missing) is configured, and its ring fails.
   */
  readonly configured: boolean;
  /** Resolves only once the message was delivered; anything else rejects. */
  ring(message: DoorbellMessage): Promise<void>;
}

export interface DoorbellMessage {
  /** Plain text, the whole message (Slack shows it in notifications). */
  text: string;
  /** Labelled facts shown as fields: repo, issue, reason, attempt, thread. */
  fields: Array<{ label: string; value: string }>;
  /** A link to the issue. */
  url: string;
}

export interface EnsureProjectCommand {
  commandId: string;
  projectId: string;
  title: string;
  workspaceRoot: string;
  defaultModelSelection: ModelSelection;
}

export interface CreateThreadCommand {
  commandId: string;
  threadId: string;
  projectId: string;
  title: string;
  modelSelection: ModelSelection;
  runtimeMode: RuntimeMode;
  interactionMode: InteractionMode;
  branch: string | null;
}

export interface StartTurnCommand {
  commandId: string;
  threadId: string;
  messageId: string;
  text: string;
  runtimeMode: RuntimeMode;
  interactionMode: InteractionMode;
}

export interface ThreadCommand {
  commandId: string;
  threadId: string;
}

export const approvalDecisions = ['accept', 'acceptForSession', 'decline', 'cancel'] as const;
export type ApprovalDecision = (typeof approvalDecisions)[number];

export interface RespondToApprovalCommand {
  commandId: string;
  threadId: string;
  requestId: string;
  decision: ApprovalDecision;
}

export interface RespondToUserInputCommand {
  commandId: string;
  threadId: string;
  requestId: string;
  /** Question id → answer, as T3's `answers` record. */
  answers: Record<string, string>;
}

export interface T3 {
  readSnapshot(): Promise<T3Snapshot>;
  /** One thread's full detail (v0.0.29+), or null when the server does not know it. */
  readThread(threadId: string): Promise<T3Thread | null>;
  createProject(command: EnsureProjectCommand): Promise<void>;
  createThread(command: CreateThreadCommand): Promise<void>;
  /** Starts a turn: the first one, a fix-forward or a "continue". */
  startTurn(command: StartTurnCommand): Promise<void>;
  stopSession(command: ThreadCommand): Promise<void>;
  archiveThread(command: ThreadCommand): Promise<void>;
  /** Answers a pending approval request (`thread.approval.respond`). */
  respondToApproval(command: RespondToApprovalCommand): Promise<void>;
  /** Answers a pending user-input request (`thread.user-input.respond`). */
  respondToUserInput(command: RespondToUserInputCommand): Promise<void>;
}
