import { describe, expect, it } from 'vitest';
import {
  attemptFor,
  doorbellRung,
  findAfkComment,
  parseChecklist,
  renderChecklist,
  type RunRecord,
} from '../../src/core/index.js';

const live: RunRecord = {
  v: 1,
  attempt: 1,
  threadId: '0b7c8d7e-1111-5222-8333-444455556666',
  dispatchedAt: '2026-11-21T08:00:00.000Z',
  fixForwards: 0,
  outcome: null,
  phases: { dispatched: '2026-11-21T08:00:00.000Z' },
  history: [],
};

const escalated: RunRecord = {
  ...live,
  attempt: 2,
  fixForwards: 2,
  outcome: 'escalated',
  reason: 'fix-forward-exhausted: CI still red --> see <run>',
  phases: {
    dispatched: live.dispatchedAt,
    testsRed: '2026-11-21T08:10:00Z',
    pushed: '2026-11-21T08:30:00Z',
  },
  history: [{ attempt: 1, threadId: 't-1', outcome: 'escalated', reason: 'stalled' }],
};

describe('renderChecklist / parseChecklist', () => {
  it.each([
    ['a live first attempt', live],
    ['an escalated attempt with history and a reason that looks like markup', escalated],
    [
      'a closed attempt',
      {
        ...live,
        outcome: 'closed' as const,
        phases: { dispatched: live.dispatchedAt, deployed: '2026-11-21T09:00:00Z' },
      },
    ],
  ])('round-trips %s', (_name, record) => {
    expect(parseChecklist(renderChecklist(record))).toEqual({ ok: true, record });
  });

  it('keeps fields a newer afk added', () => {
    const newer = { ...live, costUsd: 1.5 } as RunRecord;
    const parsed = parseChecklist(renderChecklist(newer));
    expect(parsed.ok && parsed.record).toMatchObject({ costUsd: 1.5 });
  });

  it('renders a checklist a human can read, with the record hidden', () => {
    const body = renderChecklist(escalated);
    expect(body).toContain('### afk: needs a human (attempt 2)');
    expect(body).toContain('- [x] dispatched to an agent (2026-11-21T08:00:00.000Z)');
    expect(body).toContain('- [x] tests red (2026-11-21T08:10:00Z)');
    expect(body).toContain('- [ ] green\n');
    expect(body).toContain('- attempt 1, thread `t-1`: escalated: stalled');
    // The record's own text cannot end the HTML comment it sits in.
    const hidden = body.slice(body.indexOf('<!-- afk:run'));
    expect(hidden.indexOf('-->')).toBe(hidden.length - 3);
  });

  it.each([
    ['no marker', 'just a comment', { ok: false, reason: 'no-record' }],
    ['broken JSON', '<!-- afk:run {"v":1, -->', { ok: false, reason: 'no-record' }],
    [
      'invalid JSON',
      '<!-- afk:run {v:1} -->',
      { ok: false, reason: 'unreadable-record', detail: 'not JSON' },
    ],
    [
      'a record of the wrong shape',
      '<!-- afk:run {"v":1,"attempt":0} -->',
      expect.objectContaining({ ok: false, reason: 'unreadable-record' }),
    ],
  ])('reports %s', (_name, body, expected) => {
    expect(parseChecklist(body)).toEqual(expected);
  });
});

describe('findAfkComment', () => {
  const record = renderChecklist(live);
  it('takes the record only from a comment written by afk itself', () => {
    const comments = [
      { id: 1, author: 'mallory', body: record, createdAt: '2026-11-21T08:00:00Z' },
      { id: 2, author: 'AFK-Bot', body: record, createdAt: '2026-11-21T08:01:00Z' },
    ];
    expect(findAfkComment(comments, 'afk-bot')?.comment.id).toBe(2);
  });

  it('takes the lowest id, whatever the order, and names the others as duplicates', () => {
    const at = '2026-11-21T08:00:00Z';
    const comments = [
      { id: 9, author: 'afk-bot', body: record, createdAt: at },
      { id: 4, author: 'afk-bot', body: record, createdAt: at },
      { id: 2, author: 'afk-bot', body: 'no record here', createdAt: at },
      { id: 7, author: 'afk-bot', body: record, createdAt: at },
    ];
    const found = findAfkComment(comments, 'afk-bot');
    expect(found?.comment.id).toBe(4);
    expect(found?.duplicates?.map((c) => c.id)).toEqual([7, 9]);
  });

  it('finds none when only others carry a record', () => {
    const comments = [
      { id: 1, author: 'mallory', body: record, createdAt: '2026-11-21T08:00:00Z' },
    ];
    expect(findAfkComment(comments, 'afk-bot')).toBeNull();
  });
});

describe('attemptFor', () => {
  it.each([
    ['no record', null, 1],
    ['a live attempt, resumed', live, 1],
    ['an ended attempt, followed by the next', escalated, 3],
  ])('%s', (_name, record, attempt) => {
    expect(attemptFor(record)).toBe(attempt);
  });
});

describe('doorbellRung', () => {
  const rungAt = '2026-11-21T09:00:00.000Z';
  it.each<[string, RunRecord, 'escalation' | 'review-requested', number, boolean]>([
    [
      'an escalation recorded as rung',
      { ...escalated, doorbell: { reason: 'x', rungAt } },
      'escalation',
      2,
      true,
    ],
    [
      'an escalation still owed',
      { ...escalated, doorbell: { reason: 'x' } },
      'escalation',
      2,
      false,
    ],
    [
      'a review notice recorded',
      { ...live, reviewNotifiedAt: rungAt },
      'review-requested',
      1,
      true,
    ],
    ['a review notice not yet sent', live, 'review-requested', 1, false],
    [
      'a review notice, asked about the escalation',
      { ...live, reviewNotifiedAt: rungAt },
      'escalation',
      1,
      false,
    ],
    [
      'an earlier attempt’s doorbell',
      { ...escalated, doorbell: { reason: 'x', rungAt } },
      'escalation',
      3,
      false,
    ],
  ])('%s', (_name, record, purpose, attempt, expected) => {
    expect(doorbellRung(record, purpose, attempt)).toBe(expected);
  });
});
