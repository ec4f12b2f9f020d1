import { describe, expect, it } from 'vitest';
import { describeAction, planDuplicateCleanup, type Action } from '../../src/core/index.js';

const issue = { repo: 'acme/api', number: 7 };
const NOW = new Date('2026-11-21T12:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

describe('planDuplicateCleanup', () => {
  it('deletes every duplicate and keeps the comment itself', () => {
    const at = minutesAgo(0);
    const actions = planDuplicateCleanup(issue, {
      duplicates: [
        { id: 8, author: 'afk-bot', body: 'b', createdAt: at },
        { id: 9, author: 'afk-bot', body: 'b', createdAt: at },
      ],
    });
    expect(actions).toEqual<Action[]>([
      { kind: 'deleteComment', issue, commentId: 8 },
      { kind: 'deleteComment', issue, commentId: 9 },
    ]);
    expect(actions.map(describeAction)).toEqual([
      'acme/api#7: delete the duplicate afk comment 8',
      'acme/api#7: delete the duplicate afk comment 9',
    ]);
  });

  it('plans nothing without duplicates or without a comment', () => {
    expect(planDuplicateCleanup(issue, { duplicates: [] })).toEqual([]);
    expect(planDuplicateCleanup(issue, null)).toEqual([]);
  });
});
