// The one place afk writes. It performs a plan in order through the ports; a failed action is
// reported and the rest of the tick goes on, except the same issue's later steps, which
// depend on it (no turn on a thread that was not created, no lock on a failed dispatch).
//
// Ticks can overlap (docs/concurrency.md). T3 commands carry derived ids and labels are
// desired-minus-observed, so those repeat harmlessly; afk's comment and the doorbell do not.
// So: a new comment is checked against the others right after it is written (the oldest one
// stays), and an existing one is written, and the doorbell rung, only under the comment's
// claim and only while the comment still says what the plan was decided from. A tick that
// loses a race stops that issue's later steps as skipped, never as failed.
import {
  claimIsStale,
  describeAction,
  describeError,
  findAfkComment,
  issueKey,
  judgeComment,
  CLAIM_LEASE_MINUTES,
  SlackError,
  type Action,
  type CommentClaim,
  type CommentWrite,
  type Doorbell,
  type IssueRef,
  type Plan,
  type T3,
  type Tracker,
} from '../core/index.js';

export interface Ports {
  tracker: Tracker;
  t3: T3;
  doorbell: Doorbell;
}

export interface ExecuteOptions {
  /** The tick's clock: a claim older than the lease is a dead tick's. */
  now: () => Date;
  /**
   * Once aborted, no step starts (a SIGTERM, the tick's time budget spent): the rest are
   * skipped as `stopped by <reason>`, and a claim already taken is still released.
   */
  stop?: AbortSignal | undefined;
  /** Told of each step as it ends, so that a tick explains itself while it runs. */
  onResult?: ((result: ActionResult, ms: number) => void) | undefined;
}

export type ActionResult =
  | { action: Action; status: 'done' }
  | { action: Action; status: 'failed'; error: string }
  | { action: Action; status: 'skipped'; error: string };

/**
 * How one action ended. `holdBack` stops the issue's later steps, with the reason they get;
 * a lost race is `skipped`, which does not count as a failure in the tick's exit code.
 */
type Performed =
  | { status: 'done' }
  | { status: 'skipped'; why: string; holdBack: boolean }
  | { status: 'failed'; error: string; holdBack: boolean };

const done: Performed = { status: 'done' };
const NO_DOORBELL =
  'nothing was sent (set notify.slackWebhookUrlFile or AFK_SLACK_WEBHOOK_URL for a doorbell)';
/** Another tick got there first: this one leaves the issue to it, and to the next tick. */
const yielded = (why: string): Performed => ({ status: 'skipped', why, holdBack: true });

/** What this tick knows of one issue's afk comment while it performs that issue's steps. */
interface CommentState {
  /** The issue's first step was reached (and its claim taken, if it needs one). */
  begun?: boolean;
  /** A comment this plan wrote, for the later steps that rewrite it. */
  created?: number;
  /** The claim this tick holds, and the body the comment has under it. */
  held?: { commentId: number; claim: CommentClaim; body: string };
}

export async function executePlan(
  plan: Plan,
  ports: Ports,
  options: ExecuteOptions,
): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  const heldBack = new Map<string, string>();
  const comments = new Map<string, CommentState>();
  const lastStep = new Map<string, number>();
  plan.forEach((action, i) => lastStep.set(issueKey(action.issue), i));
  const stateOf = (key: string): CommentState => {
    let state = comments.get(key);
    if (state === undefined) comments.set(key, (state = {}));
    return state;
  };

  try {
    for (const [i, action] of plan.entries()) {
      const key = issueKey(action.issue);
      const started = performance.now();
      const stopped = options.stop?.aborted === true;
      const why = stopped ? `stopped by ${String(options.stop?.reason)}` : heldBack.get(key);
      let result: ActionResult;
      if (why !== undefined) {
        result = { action, status: 'skipped', error: why };
      } else {
        const state = stateOf(key);
        let performed: Performed | null = null;
        if (state.begun !== true) {
          state.begun = true;
          performed = await claimUpFront(plan, key, ports.tracker, options, state);
        }
        performed ??= await performSafely(action, ports, options, state);
        if (performed.status === 'done') result = { action, status: 'done' };
        else if (performed.status === 'skipped') {
          result = { action, status: 'skipped', error: performed.why };
          if (performed.holdBack) {
            heldBack.set(key, `another tick got there first: ${describeAction(action)}`);
          }
        } else {
          result = { action, status: 'failed', error: performed.error };
          if (performed.holdBack) {
            heldBack.set(key, `an earlier step failed: ${describeAction(action)}`);
          }
        }
      }
      // The claim covers the issue's remaining steps (the relabel after a doorbell too), and
      // goes as soon as there are none, or none will start.
      if (lastStep.get(key) === i || heldBack.has(key) || stopped) {
        const problem = await release(ports.tracker, action.issue, comments.get(key));
        if (problem !== null) result = noteRelease(result, problem);
      }
      results.push(result);
      options.onResult?.(result, Math.round(performance.now() - started));
    }
  } finally {
    // Every claim is released after its issue's last step; one still held here belongs to a
    // step that threw past performSafely, and must not wait for the lease.
    for (const [key, state] of comments) {
      const issue = plan.find((a) => issueKey(a.issue) === key)?.issue;
      if (issue !== undefined) await release(ports.tracker, issue, state);
    }
  }
  return results;
}

/**
 * An issue whose plan rewrites afk's comment takes the claim before its first step, not at
 * the write: what comes before the write (a fix-forward turn, the close) was decided from the
 * same read, so it too waits for the claim and for the comment to still say what was read.
 * Returns the outcome for the first step when that ends the issue's steps here.
 */
async function claimUpFront(
  plan: Plan,
  key: string,
  tracker: Tracker,
  options: ExecuteOptions,
  state: CommentState,
): Promise<Performed | null> {
  let write: CommentWrite | undefined;
  let commentId: number | null = null;
  for (const action of plan) {
    if (issueKey(action.issue) !== key) continue;
    if (action.kind === 'upsertChecklist') commentId = action.commentId;
    else if (action.kind === 'notify' && action.record !== null)
      commentId = action.record.commentId;
    else continue;
    // A comment this plan writes first is new: nobody else can have changed it yet.
    if (commentId !== null) write = action;
    break;
  }
  if (write === undefined || commentId === null) return null;
  try {
    const claimed = await claim(write, commentId, tracker, options, state);
    return claimed === 'proceed' || claimed === 'already' ? null : claimed;
  } catch (error) {
    return { status: 'failed', error: describeError(error), holdBack: true };
  }
}

async function performSafely(
  action: Action,
  ports: Ports,
  options: ExecuteOptions,
  state: CommentState,
): Promise<Performed> {
  try {
    return await perform(action, ports, options, state);
  } catch (error) {
    return { status: 'failed', error: describeError(error), holdBack: holdsBack(action, error) };
  }
}

/**
 * A failed step holds back the issue's later steps, with one exception: a doorbell that
 * cannot ring for good (Slack's 4xx: the webhook is gone or refused) does not keep a stuck run
 * looking busy. A doorbell that failed for now (5xx, timeout, rate limit) does hold the
 * relabel back, so the next tick, still seeing the lock, rings it again; so does a claim or a
 * read of afk's comment that failed, since the doorbell may only ring under the claim.
 */
function holdsBack(action: Action, error: unknown): boolean {
  if (action.kind !== 'notify' || !(error instanceof SlackError)) return true;
  return error.kind === 'transient' || error.kind === 'rate-limited';
}

async function perform(
  action: Action,
  ports: Ports,
  options: ExecuteOptions,
  state: CommentState,
): Promise<Performed> {
  const { tracker, t3 } = ports;
  switch (action.kind) {
    case 'ensureProject':
      return t3.createProject(action.command).then(() => done);
    case 'createThread':
      return t3.createThread(action.command).then(() => done);
    case 'startTurn':
      return t3.startTurn(action.command).then(() => done);
    case 'stopSession':
      return t3.stopSession(action.command).then(() => done);
    case 'archiveThread':
      return t3.archiveThread(action.command).then(() => done);
    case 'upsertChecklist': {
      const commentId = action.commentId ?? state.created ?? null;
      if (commentId === null) return createComment(action.issue, action.body, tracker, state);
      const claimed = await claim(action, commentId, tracker, options, state);
      // Another tick wrote this very body: nothing to write, and the later steps go on.
      if (claimed === 'already') return done;
      if (claimed !== 'proceed') return claimed;
      await tracker.updateComment(action.issue.repo, commentId, action.body);
      setBody(state, action.body);
      return done;
    }
    case 'notify': {
      // Nothing rings, so nothing is claimed or recorded; not a failure, and the relabel goes
      // on: the operator chose no doorbell (doctor warns).
      if (action.record === null) {
        return { status: 'skipped', why: NO_DOORBELL, holdBack: false };
      }
      const commentId = action.record.commentId ?? state.created;
      if (commentId === undefined) throw new Error('no afk comment to record the doorbell in');
      const claimed = await claim(action, commentId, tracker, options, state);
      // The record shows the doorbell rung: the later steps (the relabel) go on.
      if (claimed === 'already') {
        return { status: 'skipped', why: 'the doorbell was already rung', holdBack: false };
      }
      if (claimed !== 'proceed') return claimed;
      await ports.doorbell.ring(action.message);
      // Recorded right after the ring, under the claim. A record that does not land would have
      // the next tick ring again (a review notice has no relabel after it), so a failed write
      // is tried once more, whatever the failure: the ring is already spent. Ringing twice
      // then takes a tick that dies, or fails both writes, between the ring and the record:
      // docs/concurrency.md.
      try {
        await tracker
          .updateComment(action.issue.repo, commentId, action.record.body)
          .catch(() => tracker.updateComment(action.issue.repo, commentId, action.record.body));
      } catch (error) {
        // The doorbell did ring: the relabel goes on, so no later tick rings it again.
        const why = `the doorbell rang, but recording it failed: ${describeError(error)}`;
        return { status: 'failed', error: why, holdBack: false };
      }
      setBody(state, action.record.body);
      return done;
    }
    case 'deleteComment':
      return tracker.deleteComment(action.issue.repo, action.commentId).then(() => done);
    case 'addLabels':
      return tracker.addLabels(action.issue, action.labels).then(() => done);
    case 'removeLabels': {
      if (action.release !== undefined) {
        const cleared = await clearClaim(action, action.release.commentId, tracker, options, state);
        if (cleared !== null) return cleared;
      }
      for (const label of action.labels) await tracker.removeLabel(action.issue, label);
      return done;
    }
    case 'closeIssue':
      return tracker.closeIssue(action.issue).then(() => done);
  }
}

/**
 * A new afk comment, then the issue's comments again: two ticks that both read "no afk
 * comment" both write one, and the oldest (lowest id) is the one every reader takes. One that
 * finds an older afk comment beside its own deletes its own and leaves the issue.
 */
async function createComment(
  issue: IssueRef,
  body: string,
  tracker: Tracker,
  state: CommentState,
): Promise<Performed> {
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

/**
 * Takes the comment's claim (or uses the one this tick already holds) and judges the write
 * against what the comment says now. Anything but `proceed` or `already` is returned as the
 * step's outcome.
 */
async function claim(
  write: CommentWrite,
  commentId: number,
  tracker: Tracker,
  options: ExecuteOptions,
  state: CommentState,
): Promise<'proceed' | 'already' | Performed> {
  const { repo } = write.issue;
  if (state.held !== undefined && state.held.commentId !== commentId) {
    const problem = await release(tracker, write.issue, state);
    if (problem !== null) throw new Error(problem);
  }
  if (state.held === undefined) {
    const claimed = await tracker.claimComment(repo, commentId);
    if (!claimed.acquired) {
      if (claimIsStale(claimed.claimedAt, options.now())) {
        // Its holder died: release it so the next tick can claim. Not claimed here, so that
        // two ticks seeing the same stale claim cannot both go on.
        await tracker.releaseClaim(repo, commentId, claimed);
        return yielded(
          `released a claim on afk's comment ${commentId} older than ${CLAIM_LEASE_MINUTES} minutes (${claimed.claimedAt}); the next tick takes it`,
        );
      }
      return yielded(
        `another tick holds afk's comment ${commentId} (claimed ${claimed.claimedAt})`,
      );
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
    state.held = { commentId, claim: claimed, body: current.body };
  }
  const verdict = judgeComment(write, state.held.body);
  if (verdict === 'changed') {
    return yielded(`afk's comment ${commentId} changed since this tick read it`);
  }
  return verdict;
}

/**
 * Before the lock comes off, no claim may stay on afk's comment: this tick's own is released;
 * one it does not hold is claimed and released at once, or released when stale (its holder
 * died, or an earlier tick failed to release it). One that another tick holds now holds the
 * lock removal back: that tick is ending the run, or the claim waits out its lease.
 */
async function clearClaim(
  action: Action,
  planned: number | null,
  tracker: Tracker,
  options: ExecuteOptions,
  state: CommentState,
): Promise<Performed | null> {
  const commentId = planned ?? state.created;
  if (commentId === undefined) return null;
  const { repo } = action.issue;
  if (state.held?.commentId === commentId) {
    const problem = await release(tracker, action.issue, state);
    if (problem !== null) throw new Error(problem);
    return null;
  }
  const claimed = await tracker.claimComment(repo, commentId);
  if (!claimed.acquired && !claimIsStale(claimed.claimedAt, options.now())) {
    return yielded(`another tick holds afk's comment ${commentId} (claimed ${claimed.claimedAt})`);
  }
  await tracker.releaseClaim(repo, commentId, claimed);
  return null;
}

function setBody(state: CommentState, body: string): void {
  if (state.held !== undefined) state.held.body = body;
}

/** Releases a held claim; returns what went wrong, if anything (the claim then lapses). */
async function release(
  tracker: Tracker,
  issue: IssueRef,
  state: CommentState | undefined,
): Promise<string | null> {
  const held = state?.held;
  if (state === undefined || held === undefined) return null;
  delete state.held;
  try {
    await tracker.releaseClaim(issue.repo, held.commentId, held.claim);
    return null;
  } catch (error) {
    return `releasing the claim on afk's comment ${held.commentId} failed (it lapses after ${CLAIM_LEASE_MINUTES} minutes): ${describeError(error)}`;
  }
}

/** A release that failed is reported with the step after which it was due, as a failure. */
function noteRelease(result: ActionResult, problem: string): ActionResult {
  const before = result.status === 'done' ? 'done' : `${result.status}: ${result.error}`;
  return { action: result.action, status: 'failed', error: `${before}; ${problem}` };
}
