import { describe, expect, it } from 'vitest';
import {
  countGitHub,
  countSlack,
  countT3,
  routeOf,
  tally,
  type RunIndex,
} from '../../tools/bench/requests.js';
import { quantile, quartiles } from '../../tools/bench/stats.js';
import { ticksPerHour } from '../../tools/bench/report.js';

const index: RunIndex = {
  runs: new Set(['acme/api#7', 'acme/api#12']),
  sha: new Map([['a'.repeat(40), 'acme/api#7']]),
  deployment: new Map([[31, 'acme/api#7']]),
  thread: new Map([['thread-7', 'acme/api#7']]),
  comment: new Map([[501, 'acme/api#12']]),
};

const gh = (method: string, path: string, query: Record<string, string> = {}) => ({
  method,
  path,
  search: '',
  query,
  body: undefined,
  headers: {},
});

describe('routeOf', () => {
  it.each([
    ['/repos/acme/api/issues', '/repos/:owner/:repo/issues'],
    ['/repos/acme/api/issues/12/labels/area%2Fui', '/repos/:owner/:repo/issues/:n/labels/:name'],
    [
      '/repos/acme/api/issues/comments/501/reactions/9',
      '/repos/:owner/:repo/issues/comments/:n/reactions/:n',
    ],
    [
      '/repos/acme/api/collaborators/octo/permission',
      '/repos/:owner/:repo/collaborators/:user/permission',
    ],
    [
      `/repos/acme/api/commits/${'a'.repeat(40)}/check-runs`,
      '/repos/:owner/:repo/commits/:ref/check-runs',
    ],
    [`/repos/acme/api/compare/${'a'.repeat(40)}...main`, '/repos/:owner/:repo/compare/:basehead'],
    ['/repos/acme/api', '/repos/:owner/:repo'],
    ['/repositories/123/issues', '/repos/:owner/:repo/issues'],
    ['/user', '/user'],
    ['/api/orchestration/threads/6f1c', '/api/orchestration/threads/:id'],
  ])('%s → %s', (path, route) => {
    expect(routeOf(path)).toBe(route);
  });
});

describe('counting a request for a live run', () => {
  it('finds the run from the issue, a comment, the branch, a commit or a deployment', () => {
    const run = (method: string, path: string, query?: Record<string, string>) =>
      countGitHub(gh(method, path, query), index).run;
    expect(run('GET', '/repos/acme/api/issues/7/comments')).toBe('acme/api#7');
    expect(run('PATCH', '/repos/acme/api/issues/comments/501')).toBe('acme/api#12');
    expect(run('GET', '/repos/acme/api/pulls', { head: 'acme:afk/issue-12' })).toBe('acme/api#12');
    expect(run('GET', `/repos/acme/api/commits/${'a'.repeat(40)}/status`)).toBe('acme/api#7');
    expect(run('GET', '/repos/acme/api/deployments', { sha: 'a'.repeat(40) })).toBe('acme/api#7');
    expect(run('GET', '/repos/acme/api/deployments/31/statuses')).toBe('acme/api#7');
  });

  it("leaves the tick's own reads, and issues that are no live run, unattributed", () => {
    const run = (path: string, query?: Record<string, string>) =>
      countGitHub(gh('GET', path, query), index).run;
    expect(run('/repos/acme/api/issues', { labels: 'agent-in-progress' })).toBeNull();
    expect(run('/user')).toBeNull();
    expect(run('/repos/acme/api')).toBeNull();
    expect(run('/repos/acme/api/issues/8/comments')).toBeNull();
    expect(run('/repos/acme/api/pulls', { head: 'acme:feature' })).toBeNull();
  });

  it('names T3 commands by type and finds their thread', () => {
    const t3 = (method: string, path: string, body?: unknown) =>
      countT3({ method, path, search: '', body, headers: {} }, index);
    expect(
      t3('POST', '/api/orchestration/dispatch', {
        type: 'thread.turn.start',
        threadId: 'thread-7',
      }),
    ).toEqual({
      upstream: 't3',
      method: 'POST',
      kind: 'POST /api/orchestration/dispatch thread.turn.start',
      run: 'acme/api#7',
    });
    expect(t3('GET', '/api/orchestration/threads/thread-7').run).toBe('acme/api#7');
    expect(t3('GET', '/api/orchestration/snapshot')).toMatchObject({
      kind: 'GET /api/orchestration/snapshot',
      run: null,
    });
  });

  it('finds the run a doorbell names, not one whose number is a prefix of it', () => {
    const slack = (text: string) =>
      countSlack(
        { method: 'POST', url: 'http://x/services/T/B/C', headers: {}, body: { text } },
        index,
      );
    expect(slack('acme/api#12 needs a human: stalled').run).toBe('acme/api#12');
    expect(slack('acme/api#123 needs a human').run).toBeNull();
  });
});

describe('tally', () => {
  it('counts by key, most frequent first, ties by name', () => {
    expect(tally(['b', 'a', 'b', 'c', 'a', 'b'], (s) => s)).toEqual([
      ['b', 3],
      ['a', 2],
      ['c', 1],
    ]);
  });
});

describe('stats', () => {
  it('interpolates quantiles of unsorted values', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quartiles([5, 1, 4, 2, 3])).toEqual([2, 3, 4]);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('ticksPerHour', () => {
  it('reads */N minute schedules, and refuses what it cannot read', () => {
    expect(ticksPerHour('*/2 * * * *')).toBe(30);
    expect(ticksPerHour('*/3 * * * *')).toBe(20);
    expect(() => ticksPerHour('0 * * * 1')).toThrow(/cannot read the schedule/);
  });
});
