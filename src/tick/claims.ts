// The comment-claim protocol (docs/concurrency.md). Ticks can overlap; T3 commands carry
// derived ids and labels are desired-minus-observed, so those repeat harmlessly; afk's comment
// and the doorbell do not. So: a new comment is checked against the others right after it is
// written (the oldest one stays), and an existing one is written, and the doorbell rung, only
// under the comment's claim and only while the comment still says what the plan was decided
// from. The pure rules (the lease, the verdict on a claimed comment) are in core/claims.ts;
// this is their I/O, one holder per issue of a plan, used by the executor.
import {
  claimIsStale,
  describeError,
  findAfkComment,
  issueKey,
  judgeComment,
  CLAIM_LEASE_MINUTES,
  type Action,
  type CommentClaim,
  type CommentWrite,
  type IssueRef,
  type Plan,
  type Tracker,
} from '../core/index.js';

/**
 * How one step of a plan ended. `holdBack` stops the issue's later steps, with the reason they
 * get; a lost race is `skipped`, which does not count as a failure in the tick's exit code.
 */
export type Outcome =
  | { status: 'done' }
  | { status: 'skipped'; why: string; holdBack: boolean }
  | { status: 'failed'; error: string; holdBack: boolean };

export const done: Outcome = { status: 'done' };

/** Another tick got there first: this one leaves the issue to it, and to the next tick. */
const yielded = (why: string): Outcome => ({ status: 'skipped', why, holdBack: true });

/** The claim on one issue's afk comment, over the steps one plan has for that issue. */
export interface IssueClaim {
  /**
   * Before the issue's first step (later calls do nothing): an issue whose plan rewrites
   * afk's comment takes the claim now, not at the write, since what comes before the write
   * (a fix-forward turn, the close) was decided from the same read. An outcome here ends the
   * issue's steps.
   */
  begin(): Promise<Outcome | null>;
  /** The comment a write goes to: the one planned, or the one this plan created. */
  commentId(planned: number | null): number | undefined;
  /** Writes a new afk comment, and yields if an older one turns up beside it. */
  create(body: string): Promise<Outcome>;
  /**
   * Performs `write` (through `act`) under the comment's claim, if the comment still holds
   * what the plan expects. `already`: another tick made this very change; nothing was done.
   */
  withClaim(
    write: CommentWrite,
    commentId: number,
    act: () => Promise<Outcome>,
  ): Promise<Outcome | 'already'>;
  /** Before the lock comes off: no claim may stay on the comment. An outcome stops the step. */
  clear(planned: number | null): Promise<Outcome | null>;
  /** Releases a held claim; returns what went wrong, if anything (the claim then lapses). */
  release(): Promise<string | null>;
}

export interface Claims {
  of(issue: IssueRef): IssueClaim;
  /** Releases every claim still held: one of a step that threw must not wait for the lease. */
  releaseAll(): Promise<void>;
}

/** What this tick knows of one issue's afk comment while it performs that issue's steps. */
interface ClaimState {
  issue: IssueRef;
  /** The plan's steps for this issue. */
  steps: Plan;
  tracker: Tracker;
  now: () => Date;
  /** The issue's first step was reached (and its claim taken, if it needs one). */
  begun: boolean;
  /** A comment this plan wrote, for the later steps that rewrite it. */
  created?: number;
  /** The claim this tick holds, and the body the comment has under it. */
  held?: Held;
}

interface Held {
  commentId: number;
  claim: CommentClaim;
  body: string;
}

export function openClaims(plan: Plan, tracker: Tracker, now: () => Date): Claims {
  const holders = new Map<string, IssueClaim>();
  return {
    of(issue) {
      const key = issueKey(issue);
      let holder = holders.get(key);
      if (holder === undefined) {
        const steps = plan.filter((action) => issueKey(action.issue) === key);
        holders.set(key, (holder = holdClaim({ issue, steps, tracker, now, begun: false })));
      }
      return holder;
    },
    async releaseAll() {
      for (const holder of holders.values()) await holder.release();
    },
  };
}

function holdClaim(state: ClaimState): IssueClaim {
  return {
    begin: () => claimUpFront(state),
    commentId: (planned) => planned ?? state.created,
    create: (body) => createComment(body, state),
    withClaim: (write, commentId, act) => withClaim(write, commentId, act, state),
    clear: (planned) => clearClaim(planned, state),
    release: () => release(state),
  };
}

async function claimUpFront(state: ClaimState): Promise<Outcome | null> {
  if (state.begun) return null;
  state.begun = true;
  const write = state.steps.find(writesComment);
  // A comment this plan writes first is new: nobody else can have changed it yet.
  const commentId = write === undefined ? null : plannedComment(write);
  if (write === undefined || commentId === null) return null;
  try {
    const claimed = await claim(write, commentId, state);
    return claimed === 'proceed' || claimed === 'already' ? null : claimed;
  } catch (error) {
    return { status: 'failed', error: describeError(error), holdBack: true };
  }
}

const writesComment = (action: Action): action is CommentWrite =>
  action.kind === 'upsertChecklist' || (action.kind === 'notify' && action.record !== null);

const plannedComment = (write: CommentWrite): number | null =>
  write.kind === 'upsertChecklist' ? write.commentId : write.record.commentId;

/**
 * A new afk comment, then the issue's comments again: two ticks that both read "no afk
 * comment" both write one, and the oldest (lowest id) is the one every reader takes. One that
 * finds an older afk comment beside its own deletes its own and leaves the issue.
 */
async function createComment(body: string, state: ClaimState): Promise<Outcome> {
  const { issue, tracker } = state;
  const { id } = await tracker.createComment(issue, body);
  const [comments, selfLogin] = await Promise.all([
    tracker.listComments(issue),
    tracker.getSelfLogin(),
  ]);
  const oldest = findAfkComment(comments, selfLogin)?.comment.id;
  if (oldest !== undefined && oldest < id) {
    await tracker.deleteComment(issue.repo, id);
    return yielded(
      `another tick wrote afk's comment ${oldest} first; this tick's ${id} was deleted`,
    );
  }
  state.created = id;
  return done;
}

async function withClaim(
  write: CommentWrite,
  commentId: number,
  act: () => Promise<Outcome>,
  state: ClaimState,
): Promise<Outcome | 'already'> {
  const claimed = await claim(write, commentId, state);
  if (claimed !== 'proceed') return claimed;
  const outcome = await act();
  // The comment now says what was written; a later write of this plan is judged against it.
  if (outcome.status === 'done' && state.held !== undefined) {
    state.held.body = write.kind === 'upsertChecklist' ? write.body : write.record.body;
  }
  return outcome;
}

/**
 * Takes the comment's claim (or uses the one this tick already holds) and judges the write
 * against what the comment says now. Anything but `proceed` or `already` is returned as the
 * step's outcome.
 */
async function claim(
  write: CommentWrite,
  commentId: number,
  state: ClaimState,
): Promise<'proceed' | 'already' | Outcome> {
  if (state.held !== undefined && state.held.commentId !== commentId) {
    const problem = await release(state);
    if (problem !== null) throw new Error(problem);
  }
  let held = state.held;
  if (held === undefined) {
    const taken = await takeClaim(commentId, state);
    if ('status' in taken) return taken;
    held = state.held = taken;
  }
  const verdict = judgeComment(write, held.body);
  if (verdict === 'changed') {
    return yielded(`afk's comment ${commentId} changed since this tick read it`);
  }
  return verdict;
}

/** Claims the comment and reads it under the claim; an outcome when another tick holds it. */
async function takeClaim(commentId: number, state: ClaimState): Promise<Held | Outcome> {
  const { tracker } = state;
  const { repo } = state.issue;
  const claimed = await tracker.claimComment(repo, commentId);
  if (!claimed.acquired) {
    if (claimIsStale(claimed.claimedAt, state.now())) {
      // Its holder died: release it so the next tick can claim. Not claimed here, so that
      // two ticks seeing the same stale claim cannot both go on.
      await tracker.releaseClaim(repo, commentId, claimed);
      return yielded(
        `released a claim on afk's comment ${commentId} older than ${CLAIM_LEASE_MINUTES} minutes (${claimed.claimedAt}); the next tick takes it`,
      );
    }
    return yielded(`another tick holds afk's comment ${commentId} (claimed ${claimed.claimedAt})`);
  }
  let current;
  try {
    current = await tracker.getComment(repo, commentId);
  } catch (error) {
    // The read's failure is the one reported; a claim that stays lapses with the lease.
    await tracker.releaseClaim(repo, commentId, claimed).catch(() => undefined);
    throw error;
  }
  if (current === null) {
    // Its claim went with it: nothing to release.
    throw new Error(`afk's comment ${commentId} is gone (deleted?); the next tick writes anew`);
  }
  return { commentId, claim: claimed, body: current.body };
}

/**
 * Before the lock comes off, no claim may stay on afk's comment: this tick's own is released;
 * one it does not hold is claimed and released at once, or released when stale (its holder
 * died, or an earlier tick failed to release it). One that another tick holds now holds the
 * lock removal back: that tick is ending the run, or the claim waits out its lease.
 */
async function clearClaim(planned: number | null, state: ClaimState): Promise<Outcome | null> {
  const commentId = planned ?? state.created;
  if (commentId === undefined) return null;
  const { tracker } = state;
  const { repo } = state.issue;
  if (state.held?.commentId === commentId) {
    const problem = await release(state);
    if (problem !== null) throw new Error(problem);
    return null;
  }
  const claimed = await tracker.claimComment(repo, commentId);
  if (!claimed.acquired && !claimIsStale(claimed.claimedAt, state.now())) {
    return yielded(`another tick holds afk's comment ${commentId} (claimed ${claimed.claimedAt})`);
  }
  await tracker.releaseClaim(repo, commentId, claimed);
  return null;
}

async function release(state: ClaimState): Promise<string | null> {
  const { held } = state;
  if (held === undefined) return null;
  delete state.held;
  try {
    await state.tracker.releaseClaim(state.issue.repo, held.commentId, held.claim);
    return null;
  } catch (error) {
    return `releasing the claim on afk's comment ${held.commentId} failed (it lapses after ${CLAIM_LEASE_MINUTES} minutes): ${describeError(error)}`;
  }
}
