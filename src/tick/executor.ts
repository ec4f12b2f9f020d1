// The one place afk writes. It performs a plan in order through the ports; a failed action is
// reported and the rest of the tick goes on, except the same issue's later steps, which
// depend on it (no turn on a thread that was not created, no lock on a failed dispatch).
//
// Ticks can overlap (docs/concurrency.md): afk's comment is written, and the doorbell rung,
// under the comment's claim (tick/claims.ts). A tick that loses a race stops that issue's
// later steps as skipped, never as failed.
import {
  describeAction,
  describeError,
  findReply,
  issueKey,
  SlackError,
  type Action,
  type Doorbell,
  type IssueRef,
  type Plan,
  type RepoName,
  type T3,
  type Tracker,
} from '../core/index.js';
import { done, openClaims, type IssueClaim, type Outcome } from './claims.js';

export interface Ports {
  tracker: Tracker;
  t3: T3;
  /** With several T3 servers (`t3.servers`): the one a repo's commands go to. */
  t3Of?: (repo: RepoName) => T3;
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

const NO_DOORBELL =
  'nothing was sent (set notify.slackWebhookUrlFile or AFK_SLACK_WEBHOOK_URL for a doorbell)';

export async function executePlan(
  plan: Plan,
  ports: Ports,
  options: ExecuteOptions,
): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  const heldBack = new Map<string, string>();
  const claims = openClaims(plan, ports.tracker, options.now);
  const lastStep = new Map<string, number>();
  plan.forEach((action, i) => lastStep.set(issueKey(action.issue), i));
  try {
    for (const [i, action] of plan.entries()) {
      const key = issueKey(action.issue);
      const started = performance.now();
      const stopped = options.stop?.aborted === true;
      const why = stopped ? `stopped by ${String(options.stop?.reason)}` : heldBack.get(key);
      const claim = claims.of(action.issue);
      let result: ActionResult;
      if (why !== undefined) result = { action, status: 'skipped', error: why };
      else {
        const outcome = (await claim.begin()) ?? (await performSafely(action, ports, claim));
        result = toResult(action, outcome, heldBack);
      }
      // The claim covers the issue's remaining steps (the relabel after a doorbell too), and
      // goes as soon as there are none, or none will start.
      if (lastStep.get(key) === i || heldBack.has(key) || stopped) {
        const problem = await claim.release();
        if (problem !== null) result = noteRelease(result, problem);
      }
      results.push(result);
      options.onResult?.(result, Math.round(performance.now() - started));
    }
  } finally {
    // Every claim is released after its issue's last step; one still held here belongs to a
    // step that threw past performSafely, and must not wait for the lease.
    await claims.releaseAll();
  }
  return results;
}

/** The step's result; an outcome that holds back notes why the issue's later steps are skipped. */
function toResult(action: Action, outcome: Outcome, heldBack: Map<string, string>): ActionResult {
  const key = issueKey(action.issue);
  if (outcome.status === 'done') return { action, status: 'done' };
  if (outcome.status === 'skipped') {
    if (outcome.holdBack) {
      heldBack.set(key, `another tick got there first: ${describeAction(action)}`);
    }
    return { action, status: 'skipped', error: outcome.why };
  }
  if (outcome.holdBack) heldBack.set(key, `an earlier step failed: ${describeAction(action)}`);
  return { action, status: 'failed', error: outcome.error };
}

async function performSafely(action: Action, ports: Ports, claim: IssueClaim): Promise<Outcome> {
  try {
    return await perform(action, ports, claim);
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

async function perform(action: Action, ports: Ports, claim: IssueClaim): Promise<Outcome> {
  const { tracker } = ports;
  const t3 = () => ports.t3Of?.(action.issue.repo) ?? ports.t3;
  switch (action.kind) {
    case 'ensureProject':
      return t3()
        .createProject(action.command)
        .then(() => done);
    case 'createThread':
      return t3()
        .createThread(action.command)
        .then(() => done);
    case 'startTurn':
      return t3()
        .startTurn(action.command)
        .then(() => done);
    case 'stopSession':
      return t3()
        .stopSession(action.command)
        .then(() => done);
    case 'archiveThread':
      return t3()
        .archiveThread(action.command)
        .then(() => done);
    case 'upsertChecklist':
      return writeChecklist(action, tracker, claim);
    case 'notify':
      return ringDoorbell(action, ports, claim);
    case 'deleteComment':
      return tracker.deleteComment(action.issue.repo, action.commentId).then(() => done);
    case 'addLabels':
      return tracker.addLabels(action.issue, action.labels).then(() => done);
    case 'removeLabels': {
      if (action.release !== undefined) {
        const cleared = await claim.clear(action.release.commentId);
        if (cleared !== null) return cleared;
      }
      for (const label of action.labels) await tracker.removeLabel(action.issue, label);
      return done;
    }
    case 'closeIssue':
      return tracker.closeIssue(action.issue).then(() => done);
    case 'createLabel':
      return tracker.createLabel(action.issue.repo, action.label).then(() => done);
    case 'respondToApproval':
      return t3()
        .respondToApproval(action.command)
        .then(() => done);
    case 'respondToUserInput':
      return t3()
        .respondToUserInput(action.command)
        .then(() => done);
    case 'react':
      return tracker
        .reactToComment(action.issue.repo, action.commentId, action.content)
        .then(() => done);
    case 'reply':
      return replyOnce(action, tracker);
  }
}

/**
 * A reply is posted once per key: not at all if one is there, and checked again right after
 * posting, since two overlapping ticks can both have read "no reply"; the oldest stays.
 */
async function replyOnce(
  action: Extract<Action, { kind: 'reply' }>,
  tracker: Tracker,
): Promise<Outcome> {
  const selfLogin = await tracker.getSelfLogin();
  const already = findReply(await tracker.listComments(action.issue), selfLogin, action.key);
  if (already !== null) return { status: 'skipped', why: 'already replied', holdBack: false };
  const { id } = await tracker.createComment(action.issue, action.body);
  const oldest = findReply(await tracker.listComments(action.issue), selfLogin, action.key);
  if (oldest !== null && oldest.id < id) {
    await tracker.deleteComment(action.issue.repo, id);
    return {
      status: 'skipped',
      why: `another tick replied first (comment ${oldest.id})`,
      holdBack: false,
    };
  }
  return done;
}

async function writeChecklist(
  action: Extract<Action, { kind: 'upsertChecklist' }>,
  tracker: Tracker,
  claim: IssueClaim,
): Promise<Outcome> {
  const commentId = claim.commentId(action.commentId);
  if (commentId === undefined) return claim.create(action.body);
  const outcome = await claim.withClaim(action, commentId, async () => {
    await tracker.updateComment(action.issue.repo, commentId, action.body);
    return done;
  });
  // Another tick wrote this very body: nothing to write, and the later steps go on.
  return outcome === 'already' ? done : outcome;
}

async function ringDoorbell(
  action: Extract<Action, { kind: 'notify' }>,
  ports: Ports,
  claim: IssueClaim,
): Promise<Outcome> {
  // Nothing rings, so nothing is claimed or recorded; not a failure, and the relabel goes
  // on: the operator chose no doorbell (doctor warns).
  if (action.record === null) return { status: 'skipped', why: NO_DOORBELL, holdBack: false };
  const { record } = action;
  const commentId = claim.commentId(record.commentId);
  if (commentId === undefined) throw new Error('no afk comment to record the doorbell in');
  const outcome = await claim.withClaim(action, commentId, async () => {
    await ports.doorbell.ring(action.message);
    return recordRing(action.issue, commentId, record.body, ports.tracker);
  });
  // The record shows the doorbell rung: the later steps (the relabel) go on.
  if (outcome === 'already') {
    return { status: 'skipped', why: 'the doorbell was already rung', holdBack: false };
  }
  return outcome;
}

/**
 * Recorded right after the ring, under the claim. A record that does not land would have the
 * next tick ring again (a review notice has no relabel after it), so a failed write is tried
 * once more, whatever the failure: the ring is already spent. Ringing twice then takes a tick
 * that dies, or fails both writes, between the ring and the record: docs/concurrency.md.
 */
async function recordRing(
  issue: IssueRef,
  commentId: number,
  body: string,
  tracker: Tracker,
): Promise<Outcome> {
  try {
    await tracker
      .updateComment(issue.repo, commentId, body)
      .catch(() => tracker.updateComment(issue.repo, commentId, body));
  } catch (error) {
    // The doorbell did ring: the relabel goes on, so no later tick rings it again.
    const why = `the doorbell rang, but recording it failed: ${describeError(error)}`;
    return { status: 'failed', error: why, holdBack: false };
  }
  return done;
}

/** A release that failed is reported with the step after which it was due, as a failure. */
function noteRelease(result: ActionResult, problem: string): ActionResult {
  const before = result.status === 'done' ? 'done' : `${result.status}: ${result.error}`;
  return { action: result.action, status: 'failed', error: `${before}; ${problem}` };
}
