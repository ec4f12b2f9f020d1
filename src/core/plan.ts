// The plan: every write a tick makes, as data. A dry run prints it; the executor performs it,
// in order. Each action names its issue so the executor can stop an issue's later steps when
// an earlier one failed (a dispatch whose thread was not created must not start a turn).
import type {
  DoorbellMessage,
  CreateThreadCommand,
  EnsureProjectCommand,
  StartTurnCommand,
  ThreadCommand,
} from './ports.js';
import { issueKey, type IssueRef } from './types.js';

export type Action =
  | { kind: 'ensureProject'; issue: IssueRef; command: EnsureProjectCommand }
  | { kind: 'createThread'; issue: IssueRef; command: CreateThreadCommand }
  | {
      kind: 'startTurn';
      issue: IssueRef;
      purpose: 'first-turn' | 'fix-forward' | 'continue';
      command: StartTurnCommand;
    }
  | { kind: 'upsertChecklist'; issue: IssueRef; commentId: number | null; body: string }
  | { kind: 'addLabels'; issue: IssueRef; labels: string[] }
  | { kind: 'removeLabels'; issue: IssueRef; labels: string[] }
  | { kind: 'closeIssue'; issue: IssueRef }
  | { kind: 'stopSession'; issue: IssueRef; command: ThreadCommand }
  | { kind: 'archiveThread'; issue: IssueRef; command: ThreadCommand }
  | {
      kind: 'notify';
      issue: IssueRef;
      purpose: 'escalation' | 'review-requested';
      message: DoorbellMessage;
      /**
       * The afk comment rewritten right after the doorbell rang, recording it. `commentId`
       * null: the comment this plan creates earlier for the same issue.
       */
      record: { commentId: number | null; body: string };
    };

export type ActionKind = Action['kind'];
export type Plan = Action[];

const firstLine = (text: string, max = 60): string => {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/** One readable line per action, for the dry run and the logs. */
export function describeAction(action: Action): string {
  const where = issueKey(action.issue);
  switch (action.kind) {
    case 'ensureProject':
      return `${where}: create T3 project ${action.command.projectId} at ${action.command.workspaceRoot}`;
    case 'createThread':
      return `${where}: create thread ${action.command.threadId} (${action.command.modelSelection.model}, branch ${action.command.branch ?? 'none'})`;
    case 'startTurn':
      return `${where}: start ${action.purpose} turn on thread ${action.command.threadId}: "${firstLine(action.command.text)}"`;
    case 'upsertChecklist':
      return action.commentId === null
        ? `${where}: write the afk comment`
        : `${where}: update the afk comment ${action.commentId}`;
    case 'addLabels':
      return `${where}: add label(s) ${action.labels.join(', ')}`;
    case 'removeLabels':
      return `${where}: remove label(s) ${action.labels.join(', ')}`;
    case 'closeIssue':
      return `${where}: close the issue as completed`;
    case 'stopSession':
      return `${where}: stop the session of thread ${action.command.threadId}`;
    case 'archiveThread':
      return `${where}: archive thread ${action.command.threadId}`;
    case 'notify':
      return `${where}: ring the doorbell (${action.purpose}): ${firstLine(action.message.text, 80)}`;
  }
}
