// The one afk comment per issue: a checklist a human reads, and a hidden record afk reads
// back on the next tick (the tick is stateless; this comment and the labels are its memory).
// Render and parse are inverses; a round-trip test keeps them so.
import * as z from 'zod';
import type { IssueComment } from './types.js';

export const phaseNames = ['dispatched', 'testsRed', 'green', 'pushed', 'ci', 'deployed'] as const;
export type PhaseName = (typeof phaseNames)[number];

export const phaseLabels: Record<PhaseName, string> = {
  dispatched: 'dispatched to an agent',
  testsRed: 'tests red',
  green: 'green',
  pushed: 'pushed',
  ci: 'CI green',
  deployed: 'deployed',
};

const isoTime = z.iso.datetime({ offset: true });

export const outcomes = ['closed', 'escalated', 'cancelled'] as const;
export type Outcome = (typeof outcomes)[number];

const pastAttemptSchema = z.object({
  attempt: z.number().int().min(1),
  threadId: z.string().min(1),
  outcome: z.enum(outcomes),
  reason: z.string().optional(),
  endedAt: isoTime.optional(),
});

/** Which attempt this is, where it runs, and what it has used of its budgets. */
const attemptFields = {
  v: z.literal(1),
  attempt: z.number().int().min(1),
  threadId: z.string().min(1),
  dispatchedAt: isoTime,
  fixForwards: z.number().int().min(0),
};

/**
 * How the attempt ended (core/outcome.ts reads it into a union). `outcome` is null while the
 * attempt is live, and set as the first step of ending it, so a tick that dies half-way
 * through closing or escalating is finished by the next one. `reason` is the escalation as
 * "reason: detail", or why the run was cancelled; `endedAt` comes last in the record.
 */
const endingFields = {
  outcome: z.enum(outcomes).nullable(),
  reason: z.string().optional(),
};

/**
 * What watch keeps between ticks. Each field changes only when the run's state does, so the
 * comment is rewritten a few times per run, not once per tick.
 */
const watchFields = {
  /** One line for humans: what the run waits for now. */
  status: z.string().optional(),
  /** The latest turn afk sent, and the thread's latest turn id at that moment: until T3 shows a newer turn, afk's turn has not started yet. */
  lastTurn: z.object({ at: isoTime, purpose: z.string(), after: z.string().nullable() }).optional(),
  /** The latest finished turn whose messages afk has read (slim snapshots: skip re-reading). */
  turnSeen: z.string().optional(),
  /** Commits that already got a corrective turn: one per failing commit. */
  fixForwardShas: z.array(z.string()).optional(),
  /** The one "continue" turn of a run that went idle without pushing was sent. */
  continued: z.boolean().optional(),
  /** The commit being judged (PR head, merge commit or trunk commit) and since when. */
  subject: z.object({ sha: z.string(), since: isoTime }).optional(),
  /** The commit whose CI afk saw green, and when: the deploy timer starts there. */
  ciGreen: z.object({ sha: z.string(), at: isoTime }).optional(),
  pullRequest: z.number().int().optional(),
  /** When the doorbell rang the review notice of this attempt's green pull request. */
  reviewNotifiedAt: isoTime.optional(),
  /**
   * When the review notice found no doorbell configured: it was not rung and is not owed
   * (`doorbellRung` never reads this), and watch does not plan it again.
   */
  reviewNoticeSkippedAt: isoTime.optional(),
  /** The doorbell of this attempt's escalation: owed until rungAt is set. */
  doorbell: z.object({ reason: z.string(), rungAt: isoTime.optional() }).optional(),
  tokensUsed: z.number().int().min(0).optional(),
  // Conversations: review feedback and conflicts
  /** Review-feedback turns sent this attempt (rounds); `watch.maxReviewRounds` caps them. */
  reviewRounds: z.number().int().min(0).optional(),
  /**
   * The feedback afk has handled (carried in a turn, or ignored), so that one piece of it makes
   * at most one round, without trusting a clock: the reviews by id (GitHub numbers a review
   * when its draft starts, so a later submission can carry a lower id than one already
   * handled), and the newest line comment outside a known review and conversation comment
   * (numbered when posted: ids grow with creation on both forges).
   */
  reviewSeen: z
    .object({
      reviews: z.array(z.number().int()),
      reviewComment: z.number().int().min(0),
      comment: z.number().int().min(0),
    })
    .optional(),
  /** What the latest round carried to the agent, for `status` and the checklist. */
  reviewSent: z
    .object({
      round: z.number().int().min(1),
      items: z.number().int().min(0),
      from: z.array(z.string()),
    })
    .optional(),
  /** Reviewers whose feedback was ignored because they are not trusted, and why (newest last). */
  reviewIgnored: z.array(z.object({ login: z.string(), why: z.string() })).optional(),
  /** Merge-conflict turns sent this attempt; `watch.maxConflictTurns` caps them. */
  conflictTurns: z.number().int().min(0).optional(),
  /** The `<head sha>-<base sha>` pairs that got a conflict turn: one turn per pair. */
  conflictKeys: z.array(z.string()).optional(),
  // Conversations: /afk commands
  /**
   * The `/afk` commands acted on, oldest first (the newest few): each acts once, and only a
   * comment newer than the last one here counts. `requestId`: the request a response answered;
   * `delivered` once T3 shows whether it took.
   */
  commands: z
    .array(
      z.object({
        commentId: z.number().int(),
        by: z.string(),
        verb: z.string(),
        at: isoTime,
        did: z.string(),
        requestId: z.string().optional(),
        delivered: z.boolean().optional(),
      }),
    )
    .optional(),
  /** The request this attempt escalated `needs-input` on: its session is kept for the answer. */
  awaiting: z
    .object({ kind: z.enum(['approval', 'user-input']), requestId: z.string() })
    .optional(),
  /** The escalations a human's command resumed this attempt from, oldest first. */
  resumedFrom: z
    .array(
      z.object({ reason: z.string(), endedAt: isoTime.optional(), commentId: z.number().int() }),
    )
    .optional(),
  /** Who ended this attempt with `/afk stop`. */
  stoppedBy: z.object({ login: z.string(), commentId: z.number().int(), at: isoTime }).optional(),
};

/**
 * Version 1 of the record. The fields' order is the JSON's (see `renderChecklist`), so the
 * groups are spread in the order records on issues already have. Unknown fields are kept
 * on parse (`loose`) so a newer afk's record read by an older one is not cut down on rewrite.
 */
export const runRecordSchema = z
  .object({
    ...attemptFields,
    ...endingFields,
    /** When each phase was first seen, as evidence afk verified. */
    phases: z.partialRecord(z.enum(phaseNames), isoTime).default({}),
    history: z.array(pastAttemptSchema).default([]),
    ...watchFields,
    endedAt: isoTime.optional(),
  })
  .loose();

export type RunRecord = z.output<typeof runRecordSchema>;
export type PastAttempt = z.output<typeof pastAttemptSchema>;

/** A new attempt's record: live, no fix-forward spent, nothing watch keeps yet. */
export function newRunRecord(attempt: {
  attempt: number;
  threadId: string;
  dispatchedAt: string;
  phases?: RunRecord['phases'];
  history?: PastAttempt[];
}): RunRecord {
  return {
    v: 1,
    attempt: attempt.attempt,
    threadId: attempt.threadId,
    dispatchedAt: attempt.dispatchedAt,
    fixForwards: 0,
    outcome: null,
    phases: attempt.phases ?? {},
    history: attempt.history ?? [],
  };
}

const MARKER = 'afk:run';
const RECORD_PATTERN = /<!-- afk:run (\{.*?\}) -->/s;

// The record sits in an HTML comment: a `-->` inside a string would end it early, so angle
// brackets are written as JSON escapes (JSON.parse reads them back unchanged).
const escapeForComment = (json: string): string =>
  json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e');

export function renderChecklist(given: RunRecord, notes: string[] = []): string {
  // Canonical key order (the schema's), so a record read back and rewritten unchanged
  // renders byte-for-byte the same and no tick rewrites a comment that did not change.
  const record = runRecordSchema.parse(given);
  const heading: Record<Outcome | 'live', string> = {
    live: 'working on it',
    closed: 'done',
    escalated: 'needs a human',
    cancelled: 'stopped, the issue was closed',
  };
  const state =
    record.stoppedBy === undefined
      ? heading[record.outcome ?? 'live']
      : `stopped by @${record.stoppedBy.login}`;
  const title = `### afk: ${state} (attempt ${record.attempt})`;
  const lines = [title, ''];
  for (const phase of phaseNames) {
    const at = record.phases[phase];
    lines.push(
      `- [${at === undefined ? ' ' : 'x'}] ${phaseLabels[phase]}${at === undefined ? '' : ` (${at})`}`,
    );
  }
  lines.push('');
  if (record.outcome === 'escalated' && record.reason !== undefined) {
    lines.push(`**Escalated:** ${record.reason}`, '');
  } else if (record.status !== undefined) {
    lines.push(`Now: ${record.status}`, '');
  }
  for (const note of notes) lines.push(note, '');
  lines.push(...commandLines(record));
  const tokens = record.tokensUsed === undefined ? '' : `; tokens used: ${record.tokensUsed}`;
  lines.push(...conversationLines(record));
  lines.push(
    `Thread \`${record.threadId}\`; fix-forwards used: ${record.fixForwards}${conversationUse(record)}${tokens}.`,
  );
  if (record.history.length > 0) {
    lines.push('', 'Earlier attempts:');
    for (const past of record.history) {
      const reason = past.reason === undefined ? '' : `: ${past.reason}`;
      lines.push(
        `- attempt ${past.attempt}, thread \`${past.threadId}\`: ${past.outcome}${reason}`,
      );
    }
  }
  lines.push('', `<!-- ${MARKER} ${escapeForComment(JSON.stringify(record))} -->`);
  return lines.join('\n');
}

/** The `/afk` commands acted on, and the escalations they resumed, one line each. */
function commandLines(record: RunRecord): string[] {
  const lines = (record.resumedFrom ?? []).map(
    (r) => `- resumed by comment ${r.commentId} from: ${r.reason}`,
  );
  for (const c of record.commands ?? []) {
    lines.push(`- @${c.by}: \`${c.verb}\` (comment ${c.commentId}, ${c.at}): ${c.did}`);
  }
  return lines.length === 0 ? [] : ['Commands:', ...lines, ''];
}

/** `; review rounds used: 1; conflict turns used: 0`, for the ones this attempt has used. */
function conversationUse(record: RunRecord): string {
  const rounds =
    record.reviewRounds === undefined ? '' : `; review rounds used: ${record.reviewRounds}`;
  const conflicts =
    record.conflictTurns === undefined ? '' : `; conflict turns used: ${record.conflictTurns}`;
  return `${rounds}${conflicts}`;
}

/** The feedback of the latest round and the reviewers afk ignored, each a paragraph. */
function conversationLines(record: RunRecord): string[] {
  const lines: string[] = [];
  const sent = record.reviewSent;
  if (sent !== undefined) {
    const from = sent.from.length === 0 ? '' : ` from ${sent.from.join(', ')}`;
    lines.push(`Review round ${sent.round}: ${sent.items} item(s)${from} sent to the agent.`, '');
  }
  const ignored = record.reviewIgnored ?? [];
  if (ignored.length > 0) {
    lines.push('Feedback ignored, not from a trusted reviewer:');
    lines.push(...ignored.map((i) => `- ${i.why}`), '');
  }
  return lines;
}

export type ParsedRecord =
  | { ok: true; record: RunRecord }
  | { ok: false; reason: 'no-record' | 'unreadable-record'; detail?: string };

export function parseChecklist(body: string): ParsedRecord {
  const match = RECORD_PATTERN.exec(body);
  if (match?.[1] === undefined) return { ok: false, reason: 'no-record' };
  let json: unknown;
  try {
    json = JSON.parse(match[1]);
  } catch {
    return { ok: false, reason: 'unreadable-record', detail: 'not JSON' };
  }
  const parsed = runRecordSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.map(String).join('.') || '(record)'}: ${i.message}`)
      .join('; ');
    return { ok: false, reason: 'unreadable-record', detail };
  }
  return { ok: true, record: parsed.data };
}

export interface AfkComment {
  comment: IssueComment;
  parsed: ParsedRecord;
  /**
   * afk's other record-carrying comments on the issue, oldest first: two overlapping ticks
   * that both wrote one, where the loser died before deleting its own. They are deleted.
   */
  duplicates?: IssueComment[];
}

const isAfkComment = (comment: IssueComment, self: string): boolean =>
  comment.author?.toLowerCase() === self && comment.body.includes(`<!-- ${MARKER} `);

/**
 * afk's comment is the one with the lowest id among those written by afk's own account that
 * carry a record marker. A record in anybody else's comment is ignored: issue authors can
 * write HTML comments too. The lowest id, not the first listed: ids grow with creation on
 * both forges, so every tick, whatever else it sees, agrees on the oldest one, and two ticks
 * that each wrote one keep the same one (see docs/concurrency.md).
 */
export function findAfkComment(comments: IssueComment[], selfLogin: string): AfkComment | null {
  const self = selfLogin.toLowerCase();
  const [comment, ...duplicates] = comments
    .filter((c) => isAfkComment(c, self))
    .sort((a, b) => a.id - b.id);
  if (comment === undefined) return null;
  return { comment, parsed: parseChecklist(comment.body), duplicates };
}

export type DoorbellPurpose = 'escalation' | 'review-requested';

/**
 * Does `record` show this doorbell rung? Both marks are per attempt: an escalation's
 * `doorbell.rungAt`, a green PR's `reviewNotifiedAt`. A record of another attempt says
 * nothing about this one.
 */
export function doorbellRung(
  record: RunRecord,
  purpose: DoorbellPurpose,
  attempt: number,
): boolean {
  if (record.attempt !== attempt) return false;
  return purpose === 'escalation'
    ? record.doorbell?.rungAt !== undefined
    : record.reviewNotifiedAt !== undefined;
}

/**
 * The attempt a dispatch works on: a live attempt (no outcome yet) is resumed, so a tick
 * that died half-way finishes the same attempt; an ended one is followed by the next.
 */
export const attemptFor = (record: RunRecord | null): number =>
  record === null ? 1 : record.outcome === null ? record.attempt : record.attempt + 1;
