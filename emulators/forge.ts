// What every tracker fake offers the tick suites, the demo and the benchmark: one scenario
// vocabulary (a repo, an issue, a push, a pull request, CI, a deploy) over two wires. The
// GitHub fake speaks api.github.com, the Forgejo fake speaks Forgejo's /api/v1; a suite
// written against this interface runs unchanged against both.
import type { HttpHandler } from 'msw';

export type ForgeKind = 'github' | 'forgejo';

export interface RecordedRequest {
  method: string;
  /** The path below the fake's API base, still URL-encoded: `/repos/o/r/issues/1/labels/7`. */
  path: string;
  /** The raw query string with its `?`, or `''`. */
  search: string;
  /** The query, decoded. */
  query: Record<string, string>;
  /** Parsed JSON, the raw text when it is not JSON, or undefined without a body. */
  body: unknown;
  /** Lower-case names. */
  headers: Record<string, string>;
}

/** A repository role; Forgejo's `owner` and GitHub's `admin` both map to `admin`. */
export type FakeRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read';

export interface FakeRepoOptions {
  /** Explicit roles. The token's own login holds `write` unless listed here. */
  collaborators?: Record<string, FakeRole>;
  /**
   * Decides what a user who is not a collaborator holds: `read` on a public repository
   * (anyone may read it), `none` on a private one. Default `private`.
   */
  visibility?: 'public' | 'private';
  /** Default `main`. */
  defaultBranch?: string;
  /** Labels defined in the repository before the test starts (issues' labels add theirs). */
  labels?: string[];
}

export interface FakeIssueInput {
  number?: number;
  title: string;
  body?: string;
  labels?: string[];
  state?: 'open' | 'closed';
  author?: string;
  createdAt?: string;
  isPullRequest?: boolean;
  /** label → login who applied it; recorded as label events (the label is applied too). */
  labeledBy?: Record<string, string>;
}

export interface FakeIssueState {
  labels: string[];
  state: string;
  /** GitHub's `state_reason`; always null on Forgejo, which has none. */
  stateReason: string | null;
  comments: Array<{ id: number; author: string; body: string }>;
  /** `label` is `''` for events that carry none (closed, reopened). */
  events: Array<{ event: string; label: string; actor: string }>;
}

export interface FakePullRequestInput {
  number?: number;
  /** The head branch, in the repository itself (never a fork). */
  head: string;
  /** The branch's tip; pushed onto `head` when the branch does not end there yet. */
  headSha: string;
  title?: string;
  author?: string;
  /** Default `open`; `merged: true` closes it. */
  state?: 'open' | 'closed';
  merged?: boolean;
  /** Required with `merged`: the merge commit, pushed onto the default branch. */
  mergeCommitSha?: string;
  createdAt?: string;
}

export interface FakeStatusInput {
  context: string;
  /** Forgejo also has `warning`; GitHub refuses it. */
  state: 'pending' | 'success' | 'failure' | 'error' | 'warning';
  targetUrl?: string;
  description?: string;
}

/** A review's state in afk's words (core's `ReviewState`); each fake spells it its forge's way. */
export type FakeReviewState =
  'approved' | 'changes-requested' | 'commented' | 'dismissed' | 'pending';

export interface FakeReviewInput {
  author: string;
  state: FakeReviewState;
  /** Both forges refuse a change request without a body, and a comment review without either. */
  body?: string;
  /** Line comments, on the new version of `path`. */
  comments?: Array<{ path: string; line: number; body: string }>;
}

/** A forge-neutral CI state: GitHub shows it as a check run, Forgejo as a commit status. */
export type FakeCiState = 'pending' | 'running' | 'success' | 'failure';

export interface RequestMatch {
  method?: string;
  /** Exact path below the API base (no query), or a pattern tested against it. */
  path?: string | RegExp;
}

export type FakeFailure =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** The connection fails: fetch rejects. */
  | 'network-error'
  /** No answer, ever: the client's timeout must fire. */
  | 'timeout'
  /** 200 with a JSON body of the wrong shape. */
  | 'malformed';

export interface ForgeFake {
  kind: ForgeKind;
  /** The `tracker.apiUrl` that points a config at this fake. */
  apiUrl: string;
  /** The login the accepted token acts as (afk's own account). */
  selfLogin: string;
  handlers: HttpHandler[];
  /** Every request, in order, including the ones the fake refused. */
  requests: RecordedRequest[];
  /** The requests that are not GET. */
  writes(): RecordedRequest[];
  /**
   * How a label appears in the path of a label removal: GitHub names it (URL-encoded),
   * Forgejo gives its numeric id. Lets a suite spell the exact request on either forge.
   */
  labelRef(repo: string, label: string): string;

  addRepo(repo: string, opts?: FakeRepoOptions): void;
  /** Returns the issue's number. */
  addIssue(repo: string, issue: FakeIssueInput): number;
  /** Returns the comment's id. */
  addComment(
    repo: string,
    number: number,
    comment: { author: string; body: string; createdAt?: string },
  ): number;
  /** A human edits a comment between ticks. */
  editComment(repo: string, commentId: number, body: string): void;
  /** A human deletes a comment between ticks. */
  deleteComment(repo: string, commentId: number): void;
  /** A human applies a label between ticks (recorded as a label event). */
  labelIssue(repo: string, number: number, label: string, actor: string): void;
  /** A human removes a label between ticks (recorded as a label event). */
  unlabelIssue(repo: string, number: number, label: string, actor: string): void;
  /** A human closes or reopens an issue between ticks. */
  setIssueState(repo: string, number: number, state: 'open' | 'closed', actor: string): void;
  issue(repo: string, number: number): FakeIssueState;
  /** The logins with a reaction on a comment, by content (`eyes` → ['afk-bot']). */
  reactions(repo: string, commentId: number): Record<string, string[]>;
  /** The next `times` requests matching `match` get `answer` instead (before the auth check). */
  failNext(match: RequestMatch, answer: FakeFailure, times?: number): void;
  /** Drops the failures not yet answered (e.g. between a crashed tick and a clean one). */
  clearFailures(): void;
  /** Rotates the accepted token: the old one answers 401 from now on. */
  setToken(token: string): void;

  /**
   * Pushes a commit onto `branch` (created from the default branch's tip when new). `parents`
   * defaults to the branch's tip; `[]` makes a root commit with no history in common.
   */
  pushCommit(repo: string, branch: string, sha: string, opts?: { parents?: string[] }): void;
  /** Opens (or records) a pull request; it takes the next issue number, as both forges do. */
  addPullRequest(repo: string, pull: FakePullRequestInput): number;
  /** Merges an open pull request: the merge commit lands on the default branch. */
  mergePullRequest(repo: string, number: number, mergeCommitSha: string): void;
  /** A human closes an open pull request without merging it. */
  closePullRequest(repo: string, number: number): void;
  /**
   * CI named `name` on `sha` is now `state`: on GitHub a check run (created, then updated in
   * place; `summary` is its output summary), on Forgejo a commit status with context `name`
   * (`summary` is its description).
   */
  setCi(
    repo: string,
    sha: string,
    name: string,
    state: FakeCiState,
    opts?: { summary?: string },
  ): void;
  /** Returns the status's id. Statuses are append-only; the newest per context wins. */
  addStatus(repo: string, sha: string, status: FakeStatusInput): number;

  // Conversations: reviews, the pull request's own comments, conflicts.

  /**
   * A submitted review on PR `number`, on its current head, with optional line comments. A
   * pending review is listed to its author only, as on both forges: never to afk.
   */
  addReview(repo: string, number: number, review: FakeReviewInput): { id: number };
  /** A comment on the PR's conversation (an issue comment on the PR's number). */
  addPullComment(repo: string, number: number, author: string, body: string): { id: number };
  /**
   * Makes the PR conflict with its base (or not), as a push would. GitHub answers
   * `mergeable: null` on the first read after that, or after a push or a base change.
   */
  setConflict(repo: string, number: number, conflicting: boolean): void;
  /** Moves the base branch head (a new commit on the default branch); returns the new sha. */
  advanceBase(repo: string, number: number): string;
}
