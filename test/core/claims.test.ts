import { describe, expect, it } from 'vitest';
import {
  CLAIM_LEASE_MINUTES,
  claimIsStale,
  judgeComment,
  renderChecklist,
  type CommentWrite,
  type RunRecord,
} from '../../src/core/index.js';

const issue = { repo: 'acme/api', number: 7 };
const NOW = new Date('2026-11-21T12:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

const live: RunRecord = {
  v: 1,
  attempt: 1,
  threadId: 't-1',
  dispatchedAt: minutesAgo(60),
  fixForwards: 0,
  outcome: null,
  phases: { dispatched: minutesAgo(60) },
  history: [],
};
const waiting = renderChecklist({ ...live, status: 'CI pending on 1111111' });
const green = renderChecklist({ ...live, status: 'awaiting review of pull request #12' });
const notified = renderChecklist({
  ...live,
  status: 'awaiting review of pull request #12',
  reviewNotifiedAt: minutesAgo(0),
});
const escalated: RunRecord = {
  ...live,
  outcome: 'escalated',
  reason: 'stalled: x',
  doorbell: { reason: 'stalled: x' },
};

const upsert: CommentWrite = {
  kind: 'upsertChecklist',
  issue,
  commentId: 5,
  previous: waiting,
  body: green,
};
const review: CommentWrite = {
  kind: 'notify',
  issue,
  purpose: 'review-requested',
  message: { text: 'review requested', fields: [], url: 'https://github.test/pr/12' },
  record: { commentId: 5, before: green, body: notified },
};
const escalation: CommentWrite = {
  kind: 'notify',
  issue,
  purpose: 'escalation',
  message: { text: 'stalled', fields: [], url: 'https://github.test/7' },
  record: {
    commentId: 5,
    before: renderChecklist(escalated),
    body: renderChecklist({
      ...escalated,
      doorbell: { reason: 'stalled: x', rungAt: minutesAgo(0) },
    }),
  },
};

describe('judgeComment', () => {
  it.each<[string, CommentWrite, string, string]>([
    ['a checklist write over the body it was decided from', upsert, waiting, 'proceed'],
    ['a checklist write another tick already made', upsert, green, 'already'],
    ['a checklist write over a comment that moved on', upsert, notified, 'changed'],
    ['a doorbell over the body it expects', review, green, 'proceed'],
    ['a doorbell whose exact record another tick wrote', review, notified, 'already'],
    [
      'a doorbell another tick rang at another moment',
      review,
      renderChecklist({ ...live, status: 'x', reviewNotifiedAt: minutesAgo(3) }),
      'already',
    ],
    ['a doorbell over a comment that moved on', review, waiting, 'changed'],
    [
      'an escalation rung by another tick',
      escalation,
      renderChecklist({ ...escalated, doorbell: { reason: 'stalled: x', rungAt: minutesAgo(1) } }),
      'already',
    ],
    [
      'an escalation whose record is now another attempt’s',
      escalation,
      renderChecklist({
        ...escalated,
        attempt: 2,
        doorbell: { reason: 'stalled: x', rungAt: minutesAgo(1) },
      }),
      'changed',
    ],
    ['a doorbell over a comment a human emptied', escalation, '', 'changed'],
  ])('%s', (_name, write, current, verdict) => {
    expect(judgeComment(write, current)).toBe(verdict);
  });
});

describe('claimIsStale', () => {
  it.each([
    ['a claim taken just now', minutesAgo(0), false],
    ['a claim one minute short of the lease', minutesAgo(CLAIM_LEASE_MINUTES - 1), false],
    ['a claim as old as the lease', minutesAgo(CLAIM_LEASE_MINUTES), true],
    ['a claim an hour old', minutesAgo(60), true],
    [
      'a claim from a clock ahead of the tick’s',
      new Date(NOW.getTime() + 60_000).toISOString(),
      false,
    ],
    ['a claim whose time cannot be read', 'yesterday', true],
  ])('%s', (_name, claimedAt, stale) => {
    expect(claimIsStale(claimedAt, NOW)).toBe(stale);
  });
});
