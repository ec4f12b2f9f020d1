// How an attempt ended, as a type the code switches on. The record stores it as two plain
// fields, `outcome` and a `reason` string ("reason: detail" for an escalation), the format
// comments already on issues carry; this reads them into the union and writes it back.
import type { RunRecord } from './checklist.js';

export const escalationReasons = [
  'agent-error',
  'needs-input',
  'fix-forward-exhausted',
  'stalled',
  'ci-timeout',
  'deploy-failed',
  'thread-missing',
  'token-budget',
  'review-exhausted',
  'merge-conflict',
] as const;
export type EscalationReason = (typeof escalationReasons)[number];

export interface Escalation {
  reason: EscalationReason;
  detail: string;
}

export type RunOutcome =
  | { outcome: 'closed' }
  | { outcome: 'cancelled'; reason: string }
  | { outcome: 'escalated'; escalation: Escalation };

const isEscalationReason = (text: string | undefined): text is EscalationReason =>
  (escalationReasons as readonly (string | undefined)[]).includes(text);

export const renderEscalation = (escalation: Escalation): string =>
  `${escalation.reason}: ${escalation.detail}`;

/**
 * Reads a stored escalation back. A reason afk does not know (a newer afk's, or a human's
 * edit) reads as `stalled`, keeping its detail, so an old afk still ends the run.
 */
export function parseEscalation(text: string): Escalation {
  const [reason, ...detail] = text.split(': ');
  return { reason: isEscalationReason(reason) ? reason : 'stalled', detail: detail.join(': ') };
}

/** The record's outcome, or null while the attempt is live. */
export function readOutcome(record: RunRecord): RunOutcome | null {
  switch (record.outcome) {
    case null:
      return null;
    case 'closed':
      return { outcome: 'closed' };
    case 'cancelled':
      return { outcome: 'cancelled', reason: record.reason ?? '' };
    case 'escalated':
      return {
        outcome: 'escalated',
        escalation: parseEscalation(record.reason ?? 'stalled: escalated'),
      };
  }
}

/** The record with its outcome set: the first step of ending an attempt. */
export function endRun(record: RunRecord, ending: RunOutcome, endedAt: string): RunRecord {
  switch (ending.outcome) {
    case 'closed':
      return { ...record, outcome: 'closed', endedAt };
    case 'cancelled':
      return { ...record, outcome: 'cancelled', reason: ending.reason, endedAt };
    case 'escalated':
      return {
        ...record,
        outcome: 'escalated',
        reason: renderEscalation(ending.escalation),
        endedAt,
      };
  }
}
