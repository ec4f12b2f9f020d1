// The one place afk writes. It performs a plan in order through the ports; a failed action is
// reported and the rest of the tick goes on, except the same issue's later steps, which
// depend on it (no turn on a thread that was not created, no lock on a failed dispatch).
import {
  describeAction,
  describeError,
  issueKey,
  UpstreamError,
  type Action,
  type Doorbell,
  type Plan,
  type T3,
  type Tracker,
} from '../core/index.js';

export interface Ports {
  tracker: Tracker;
  t3: T3;
  doorbell: Doorbell;
}

/** Comments created earlier in the same plan, so a later step can rewrite them. */
type CreatedComments = Map<string, number>;

export type ActionResult =
  | { action: Action; status: 'done' }
  | { action: Action; status: 'failed'; error: string }
  | { action: Action; status: 'skipped'; error: string };

export async function executePlan(plan: Plan, ports: Ports): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  const failedIssues = new Map<string, string>();
  const created: CreatedComments = new Map();
  for (const action of plan) {
    const key = issueKey(action.issue);
    const failedStep = failedIssues.get(key);
    if (failedStep !== undefined) {
      results.push({ action, status: 'skipped', error: `an earlier step failed: ${failedStep}` });
      continue;
    }
    try {
      await perform(action, ports, created);
      results.push({ action, status: 'done' });
    } catch (error) {
      if (holdsBack(action, error)) failedIssues.set(key, describeAction(action));
      results.push({ action, status: 'failed', error: describeError(error) });
    }
  }
  return results;
}

/**
 * A failed step holds back the issue's later steps, with one exception: a doorbell that
 * cannot ring for good (a 4xx: the webhook is gone or refused) does not keep a stuck run
 * looking busy. A doorbell that failed for now (5xx, timeout, rate limit) does hold the
 * relabel back, so the next tick, still seeing the lock, rings it again.
 */
function holdsBack(action: Action, error: unknown): boolean {
  if (action.kind !== 'notify') return true;
  return (
    error instanceof UpstreamError && (error.kind === 'transient' || error.kind === 'rate-limited')
  );
}

async function perform(
  action: Action,
  { tracker, t3, doorbell }: Ports,
  created: CreatedComments,
): Promise<void> {
  switch (action.kind) {
    case 'ensureProject':
      return t3.createProject(action.command);
    case 'createThread':
      return t3.createThread(action.command);
    case 'startTurn':
      return t3.startTurn(action.command);
    case 'stopSession':
      return t3.stopSession(action.command);
    case 'archiveThread':
      return t3.archiveThread(action.command);
    case 'upsertChecklist': {
      const commentId = action.commentId ?? created.get(issueKey(action.issue)) ?? null;
      if (commentId === null) {
        const { id } = await tracker.createComment(action.issue, action.body);
        created.set(issueKey(action.issue), id);
        return;
      }
      return tracker.updateComment(action.issue.repo, commentId, action.body);
    }
    case 'notify': {
      await doorbell.ring(action.message);
      // Recorded right after the ring, in the same step: the window in which a dead tick
      // leaves a rung doorbell unrecorded (and the next tick rings again) is this one await.
      const commentId = action.record.commentId ?? created.get(issueKey(action.issue));
      if (commentId === undefined) throw new Error('no afk comment to record the doorbell in');
      return tracker.updateComment(action.issue.repo, commentId, action.record.body);
    }
    case 'addLabels':
      return tracker.addLabels(action.issue, action.labels);
    case 'removeLabels':
      for (const label of action.labels) await tracker.removeLabel(action.issue, label);
      return;
    case 'closeIssue':
      return tracker.closeIssue(action.issue);
  }
}
