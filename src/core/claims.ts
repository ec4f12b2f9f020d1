// Claims. Ticks can overlap (a CronJob overrun, a manual run, a laptop beside the cluster).
// The executor writes an existing afk comment, and rings the doorbell, only while it holds
// the comment's claim (afk's own `eyes` reaction: the forge lets exactly one caller create it)
// and only if the comment still says what the plan was decided from. docs/concurrency.md.
import { doorbellRung, parseChecklist } from './checklist.js';
import type { Action } from './plan.js';

/**
 * How long a claim stands before a tick takes it for one a dead tick left, and releases it.
 * A live holder keeps it for a few requests, each bounded by its timeout and retries (GitHub:
 * 3 × 15 s plus at most 10 s of backoff; Slack: 2 × 10 s plus 1 s), so well under five
 * minutes, and a CronJob tick is killed after 150 s. Ten minutes leaves room for that and for
 * skew between the forge's clock and the tick's. A doorbell owed by a dead holder waits at
 * most this long plus two ticks (one releases, the next claims and rings).
 */
export const CLAIM_LEASE_MINUTES = 10;

/** A claim older than the lease, or whose time cannot be read, no longer holds anyone off. */
export const claimIsStale = (claimedAt: string, now: Date): boolean =>
  !(now.getTime() - Date.parse(claimedAt) < CLAIM_LEASE_MINUTES * 60_000);

/** The writes to afk's comment: a checklist, or the record of a doorbell that rings. */
export type CommentWrite = Exclude<
  Extract<Action, { kind: 'upsertChecklist' | 'notify' }>,
  { record: null }
>;

/**
 * What a claimed comment says about a write: `proceed` (it holds what the plan expects),
 * `already` (another tick made this very change: for a doorbell, the record shows it rung),
 * or `changed` (it moved on since this tick read it: the plan is stale, the next tick decides
 * again from what is there now).
 */
export type CommentVerdict = 'proceed' | 'already' | 'changed';

export function judgeComment(write: CommentWrite, current: string): CommentVerdict {
  if (write.kind === 'upsertChecklist') {
    if (current === write.body) return 'already';
    return current === write.previous ? 'proceed' : 'changed';
  }
  if (current === write.record.body) return 'already';
  const found = parseChecklist(current);
  const planned = parseChecklist(write.record.body);
  if (found.ok && planned.ok && doorbellRung(found.record, write.purpose, planned.record.attempt)) {
    return 'already';
  }
  return current === write.record.before ? 'proceed' : 'changed';
}
