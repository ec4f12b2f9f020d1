// The GitHub fake answers as GitHub does for the conversation endpoints: each test here is a
// fact read from GitHub's OpenAPI description and REST docs, asserted over plain fetch so
// that no adapter can hide it. (The older endpoints' facts live in test/adapters/github.test.ts.)
import { createHash } from 'node:crypto';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';

const baseUrl = 'https://api.github.test';
const token = 'gh-test-token';
const repo = 'acme/app';
const sha = (seed: string) => createHash('sha1').update(seed).digest('hex');

const server = setupServer();
let fake: GitHubFake;
let pr: number;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  fake = createGitHubFake({ now: () => new Date('2024-06-01T12:00:00Z') });
  server.use(...fake.handlers);
  fake.addRepo(repo);
  fake.pushCommit(repo, 'main', sha('m1'));
  pr = fake.addPullRequest(repo, { head: 'feature', headSha: sha('f1') });
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

const items = (answer: Answer) => answer.body as Array<Record<string, unknown>>;
const record = (answer: Answer) => answer.body as Record<string, unknown>;
const mergeability = async () => {
  const pull = record(await call('GET', `/repos/${repo}/pulls/${pr}`));
  return [pull['mergeable'], pull['mergeable_state']];
};

describe('mergeability', () => {
  it('answers null on the first read, then the computed value', async () => {
    expect(await mergeability()).toEqual([null, 'unknown']);
    expect(await mergeability()).toEqual([true, 'clean']);
    expect(await mergeability()).toEqual([true, 'clean']);
    // Only the single pull request carries it, never the list.
    expect(items(await call('GET', `/repos/${repo}/pulls`))[0]).not.toHaveProperty('mergeable');
  });

  it('computes again after the head moves, after the base moves, and after a conflict', async () => {
    await mergeability();
    await mergeability();
    fake.pushCommit(repo, 'feature', sha('f2'));
    expect(await mergeability()).toEqual([null, 'unknown']);
    expect(await mergeability()).toEqual([true, 'clean']);
    const base = fake.advanceBase(repo, pr);
    expect(await mergeability()).toEqual([null, 'unknown']);
    fake.setConflict(repo, pr, true);
    expect(await mergeability()).toEqual([null, 'unknown']);
    expect(await mergeability()).toEqual([false, 'dirty']);
    expect(record(await call('GET', `/repos/${repo}/pulls/${pr}`))).toMatchObject({
      head: { sha: sha('f2') },
      base: { sha: base },
    });
  });

  it('answers 404 for an unknown pull request and 501 for a query it does not implement', async () => {
    expect((await call('GET', `/repos/${repo}/pulls/99`)).status).toBe(404);
    expect((await call('GET', `/repos/${repo}/pulls/${pr}?style=full`)).status).toBe(501);
  });
});

describe('reviews and review comments', () => {
  it('lists reviews chronologically with GitHub’s states; submitted_at only once submitted', async () => {
    const changes = fake.addReview(repo, pr, {
      author: 'maintainer',
      state: 'changes-requested',
      body: 'Rename it.',
    });
    fake.addReview(repo, pr, { author: 'alice', state: 'commented', body: 'Nice.' });
    fake.addReview(repo, pr, { author: 'bob', state: 'dismissed', body: 'No.' });
    fake.addReview(repo, pr, { author: 'carol', state: 'approved' });

    const answer = await call('GET', `/repos/${repo}/pulls/${pr}/reviews`);

    expect(items(answer).map((r) => r['state'])).toEqual([
      'CHANGES_REQUESTED',
      'COMMENTED',
      'DISMISSED',
      'APPROVED',
    ]);
    expect(items(answer)[0]).toMatchObject({
      id: changes.id,
      user: { login: 'maintainer' },
      body: 'Rename it.',
      commit_id: sha('f1'),
      submitted_at: '2024-06-01T12:00:00.000Z',
    });
  });

  it('never lists another user’s pending review, nor its comments', async () => {
    fake.addReview(repo, pr, {
      author: 'alice',
      state: 'pending',
      comments: [{ path: 'a.ts', line: 1, body: 'draft' }],
    });

    expect(items(await call('GET', `/repos/${repo}/pulls/${pr}/reviews`))).toEqual([]);
    expect(items(await call('GET', `/repos/${repo}/pulls/${pr}/comments`))).toEqual([]);
  });

  it('lists review comments with path, line, review id and author', async () => {
    const review = fake.addReview(repo, pr, {
      author: 'maintainer',
      state: 'commented',
      comments: [
        { path: 'src/a.ts', line: 12, body: 'Call it total.' },
        { path: 'src/b.ts', line: 3, body: 'And here.' },
      ],
    });

    const answer = await call('GET', `/repos/${repo}/pulls/${pr}/comments`);

    expect(items(answer)).toEqual([
      expect.objectContaining({
        pull_request_review_id: review.id,
        path: 'src/a.ts',
        line: 12,
        side: 'RIGHT',
        body: 'Call it total.',
        user: expect.objectContaining({ login: 'maintainer' }),
        commit_id: sha('f1'),
      }),
      expect.objectContaining({ path: 'src/b.ts', line: 3 }),
    ]);
    expect(items(answer)[0]).not.toHaveProperty('in_reply_to_id');
  });

  it('pages both lists with a Link header', async () => {
    for (let n = 0; n < 3; n++) {
      fake.addReview(repo, pr, {
        author: 'alice',
        state: 'commented',
        comments: [{ path: 'a.ts', line: n + 1, body: `#${n}` }],
      });
    }
    for (const list of ['reviews', 'comments']) {
      const answer = await call('GET', `/repos/${repo}/pulls/${pr}/${list}?per_page=2`);
      expect(items(answer)).toHaveLength(2);
      expect(answer.headers.get('link')).toMatch(/rel="next"/);
    }
  });

  it('answers 501 for list parameters it does not implement, 404 for an unknown pull', async () => {
    expect((await call('GET', `/repos/${repo}/pulls/${pr}/comments?sort=updated`)).status).toBe(
      501,
    );
    expect((await call('GET', `/repos/${repo}/pulls/${pr}/reviews?state=open`)).status).toBe(501);
    expect((await call('GET', `/repos/${repo}/pulls/99/reviews`)).status).toBe(404);
  });

  it('refuses, as GitHub would, a change request without a body', () => {
    expect(() => fake.addReview(repo, pr, { author: 'alice', state: 'changes-requested' })).toThrow(
      /needs a body/,
    );
  });
});

describe('the conversation and reactions', () => {
  it('puts a pull request comment among the issue comments of its number', async () => {
    const { id } = fake.addPullComment(repo, pr, 'maintainer', '/afk answer yes');

    expect(items(await call('GET', `/repos/${repo}/issues/${pr}/comments`))).toEqual([
      expect.objectContaining({
        id,
        body: '/afk answer yes',
        user: expect.objectContaining({ login: 'maintainer' }),
      }),
    ]);
  });

  it('creates a reaction with 201, and answers 200 with the existing one after', async () => {
    const { id } = fake.addPullComment(repo, pr, 'maintainer', '/afk stop');
    const path = `/repos/${repo}/issues/comments/${id}/reactions`;

    const first = await call('POST', path, { content: 'confused' });
    const second = await call('POST', path, { content: 'confused' });

    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body).toEqual(first.body);
    expect(record(first)).toMatchObject({ content: 'confused', user: { login: 'afk-bot' } });
    expect((await call('POST', path, { content: 'thumbsup' })).status).toBe(422);
  });
});
