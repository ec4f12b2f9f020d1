// The one place afk writes. It performs a plan in order through the ports; a failed action is
// reported and the rest of the tick goes on, except the same issue's later steps, which
// depend on it (no turn on a thread that was not created, no lock on a failed dispatch).
import {
  describeAction,
  describeError,
  issueKey,
  type Action,
  type Plan,
  type T3,
  type Tracker,
} from '../core/index.js';

export interface Ports {
  tracker: Tracker;
  t3: T3;
}

export type ActionResult =
  | { action: Action; status: 'done' }
  | { action: Action; status: 'failed'; error: string }
  | { action: Action; status: 'skipped'; error: string };

export async function executePlan(plan: Plan, ports: Ports): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  const failedIssues = new Map<string, string>();
  for (const action of plan) {
    const key = issueKey(action.issue);
    const failedStep = failedIssues.get(key);
    if (failedStep !== undefined) {
      results.push({ action, status: 'skipped', error: `an earlier step failed: ${failedStep}` });
      continue;
    }
    try {
      await perform(action, ports);
      results.push({ action, status: 'done' });
    } catch (error) {
      failedIssues.set(key, describeAction(action));
      results.push({ action, status: 'failed', error: describeError(error) });
    }
  }
  return results;
}

async function perform(action: Action, { tracker, t3 }: Ports): Promise<void> {
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
    case 'upsertChecklist':
      if (action.commentId === null) {
        await tracker.createComment(action.issue, action.body);
        return;
      }
      return tracker.updateComment(action.issue.repo, action.commentId, action.body);
    case 'addLabels':
      return tracker.addLabels(action.issue, action.labels);
    case 'removeLabels':
      for (const label of action.labels) await tracker.removeLabel(action.issue, label);
      return;
    case 'closeIssue':
      return tracker.closeIssue(action.issue);
  }
}
