// The plan: every write a tick makes, as data. A dry run prints it; the executor performs it,
// in order. Each action names its issue so the executor can stop an issue's later steps when
// an earlier one failed (a dispatch whose thread was not created must not start a turn).
// Writes to afk's comment carry the body they expect to find, so that a tick overlapping
// another one can tell a comment that moved on from the one it read (docs/concurrency.md).
import type { AfkComment, DoorbellPurpose } from './checklist.js';
import type {
  RespondToApprovalCommand,
  RespondToUserInputCommand,
  DoorbellMessage,
  CreateThreadCommand,
  EnsureProjectCommand,
  StartTurnCommand,
  ThreadCommand,
} from './ports.js';
import {
  issueKey,
  type CommentReaction,
  type IssueRef,
  type LabelSpec,
  type RepoName,
} from './types.js';

/**
 * Why a turn is sent: the first one, a corrective one, or a conversation turn (review
 * feedback, a merge conflict, a human's `/afk` message or answer).
 */
export const turnPurposes = [
  'first-turn',
  'fix-forward',
  'continue',
  'review',
  'conflict',
  'command',
] as const;
export type TurnPurpose = (typeof turnPurposes)[number];

export type Action =
  | { kind: 'ensureProject'; issue: IssueRef; command: EnsureProjectCommand }
  | { kind: 'createThread'; issue: IssueRef; command: CreateThreadCommand }
  | {
      kind: 'startTurn';
      issue: IssueRef;
      purpose: TurnPurpose;
      command: StartTurnCommand;
    }
  | {
      kind: 'upsertChecklist';
      issue: IssueRef;
      /** null: write a new comment. */
      commentId: number | null;
      /** The body the tick read and decided from; null with a new comment. */
      previous: string | null;
      body: string;
    }
  /** A second afk comment left by overlapping ticks: afk's comment is the oldest. */
  | { kind: 'deleteComment'; issue: IssueRef; commentId: number }
  | { kind: 'addLabels'; issue: IssueRef; labels: string[] }
  | {
      kind: 'removeLabels';
      issue: IssueRef;
      labels: string[];
      /**
       * Removing the lock takes the run out of watch's view, so no claim on afk's comment may
       * outlive it: the executor first releases its own, a stale one, or one whose release an
       * earlier tick failed, and waits while another tick holds it. `commentId` null: the
       * comment this plan creates earlier.
       */
      release?: { commentId: number | null };
    }
  | { kind: 'closeIssue'; issue: IssueRef }
  /**
   * A label afk needs that a repo lacks (`afk doctor --fix-labels`). A label belongs to a repo,
   * not to an issue: `issue` is the repo's `repoSubject`, so that the executor, which holds back
   * an issue's later steps after a failed one, holds back that repo's later labels.
   */
  | { kind: 'createLabel'; issue: IssueRef; label: LabelSpec }
  | { kind: 'stopSession'; issue: IssueRef; command: ThreadCommand }
  | { kind: 'archiveThread'; issue: IssueRef; command: ThreadCommand }
  | {
      kind: 'notify';
      issue: IssueRef;
      purpose: DoorbellPurpose;
      message: DoorbellMessage;
      /**
       * The afk comment rewritten right after the doorbell rang, recording it. `commentId`
       * null: the comment this plan creates earlier for the same issue. `before` is the body
       * the comment holds when the doorbell is due (after this plan's earlier checklist write).
       */
      record: DoorbellRecord;
    }
  /**
   * The doorbell when none is configured: nothing rings and nothing is recorded as rung, and
   * the step is reported as skipped. A review notice's checklist write before it notes
   * `reviewNoticeSkippedAt`, so that the notice is not planned again on every tick.
   */
  | {
      kind: 'notify';
      issue: IssueRef;
      purpose: DoorbellPurpose;
      message: DoorbellMessage;
      record: null;
    }
  // Conversations: `/afk` commands.
  | { kind: 'respondToApproval'; issue: IssueRef; command: RespondToApprovalCommand }
  | { kind: 'respondToUserInput'; issue: IssueRef; command: RespondToUserInputCommand }
  /** afk's reaction on a human's comment: `+1` acknowledges a command acted on. */
  | { kind: 'react'; issue: IssueRef; commentId: number; content: CommentReaction }
  /**
   * One comment afk posts once per `key` (a hidden marker in `body` names it): posted only if
   * no reply with the key is there, and a racing tick's second one is deleted (the oldest stays).
   */
  | { kind: 'reply'; issue: IssueRef; key: string; body: string };

export interface DoorbellRecord {
  commentId: number | null;
  before: string;
  body: string;
}

export type ActionKind = Action['kind'];

/** The subject of a repo's own actions (`createLabel`): no issue has number 0. */
export const repoSubject = (repo: RepoName): IssueRef => ({ repo, number: 0 });
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
    case 'deleteComment':
      return `${where}: delete the duplicate afk comment ${action.commentId}`;
    case 'addLabels':
      return `${where}: add label(s) ${action.labels.join(', ')}`;
    case 'removeLabels':
      return `${where}: remove label(s) ${action.labels.join(', ')}${action.release === undefined ? '' : " (afk's claim released first)"}`;
    case 'closeIssue':
      return `${where}: close the issue as completed`;
    case 'createLabel':
      return `${action.issue.repo}: create label ${action.label.name} (#${action.label.color})`;
    case 'stopSession':
      return `${where}: stop the session of thread ${action.command.threadId}`;
    case 'archiveThread':
      return `${where}: archive thread ${action.command.threadId}`;
    case 'respondToApproval':
      return `${where}: answer request ${action.command.requestId} on thread ${action.command.threadId}: ${action.command.decision}`;
    case 'respondToUserInput':
      return `${where}: answer request ${action.command.requestId} on thread ${action.command.threadId}: "${firstLine(Object.values(action.command.answers)[0] ?? '')}"`;
    case 'react':
      return `${where}: react ${action.content} on comment ${action.commentId}`;
    case 'reply':
      return `${where}: reply once (${action.key}): "${firstLine(action.body, 100)}"`;
    case 'notify':
      return action.record === null
        ? `${where}: the doorbell (${action.purpose}): no doorbell configured`
        : `${where}: ring the doorbell (${action.purpose}): ${firstLine(action.message.text, 80)}`;
  }
}

/** afk's other record-carrying comments on an issue go: the lowest id is the one kept. */
export function planDuplicateCleanup(
  issue: IssueRef,
  afkComment: Pick<AfkComment, 'duplicates'> | null,
): Action[] {
  const ref = { repo: issue.repo, number: issue.number };
  return (afkComment?.duplicates ?? []).map((duplicate) => ({
    kind: 'deleteComment' as const,
    issue: ref,
    commentId: duplicate.id,
  }));
}
