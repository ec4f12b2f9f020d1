import { inspect } from 'node:util';
import { createHash } from 'node:crypto';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createGitHubTracker,
  retryWaits,
  type GitHubTrackerOptions,
} from '../../src/adapters/github.js';
import { ConfigError, TrackerError } from '../../src/core/errors.js';
import type { Tracker } from '../../src/core/ports.js';
import { createGitHubFake, type FakeFailure, type GitHubFake } from '../../emulators/github.js';
import { rejectionOf } from '../support/rejection.js';

const baseUrl = 'https://api.github.test';
const token = 'gh-test-token';
const repo = 'acme/app';

const server = setupServer();
let fake: GitHubFake;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  fake = createGitHubFake({ baseUrl, token });
  server.use(...fake.handlers);
  fake.addRepo(repo, { collaborators: { maintainer: 'maintain' } });
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const tracker = (overrides: Partial<GitHubTrackerOptions> = {}): Tracker =>
  createGitHubTracker({
    apiUrl: baseUrl,
    token: () => Promise.resolve(token),
    throttle: false,
    retries: 0,
    ...overrides,
  });

/** The request as the assertions compare it. */
const sent = ({ method, path, query, body }: GitHubFake['requests'][number]) => ({
  method,
  path,
  query,
  body,
});

const failure = (promise: Promise<unknown>) => rejectionOf(promise, TrackerError);

describe('listLabelledIssues', () => {
  it('lists the open issues carrying the label and drops pull requests', async () => {
    fake.addIssue(repo, {
      number: 1,
      title: 'Fix the build',
      body: 'It is red.',
      labels: ['ready-for-agent', 'P1'],
      author: 'alice',
      createdAt: '2024-05-01T10:00:00Z',
    });
    fake.addIssue(repo, {
      number: 2,
      title: 'A PR',
      labels: ['ready-for-agent'],
      isPullRequest: true,
    });
    fake.addIssue(repo, { number: 3, title: 'Unlabelled' });
    fake.addIssue(repo, { number: 4, title: 'Done', labels: ['ready-for-agent'], state: 'closed' });

    const issues = await tracker().listLabelledIssues(repo, 'ready-for-agent', 'open');

    expect(issues).toEqual([
      {
        repo,
        number: 1,
        title: 'Fix the build',
        body: 'It is red.',
        labels: ['ready-for-agent', 'P1'],
        state: 'open',
        author: 'alice',
        createdAt: '2024-05-01T10:00:00Z',
        url: 'https://github.test/acme/app/issues/1',
      },
    ]);
    expect(fake.requests.map(sent)).toEqual([
      {
        method: 'GET',
        path: '/repos/acme/app/issues',
        query: { labels: 'ready-for-agent', state: 'open', per_page: '100' },
        body: undefined,
      },
    ]);
  });

  it('includes closed issues when asked for all, and maps a null body to empty', async () => {
    fake.addIssue(repo, { number: 1, title: 'Open', labels: ['afk'] });
    fake.addIssue(repo, { number: 2, title: 'Closed', labels: ['afk'], state: 'closed' });

    const issues = await tracker().listLabelledIssues(repo, 'afk', 'all');

    expect(issues.map((i) => [i.number, i.state, i.body])).toEqual([
      [2, 'closed', ''],
      [1, 'open', ''],
    ]);
    expect(fake.requests[0]?.query).toEqual({ labels: 'afk', state: 'all', per_page: '100' });
  });

  it.each([
    [1, 1],
    [100, 1],
    [101, 2],
    [250, 3],
  ])('reads all %i issues in %i request(s)', async (count, requests) => {
    for (let n = 1; n <= count; n++) fake.addIssue(repo, { title: `#${n}`, labels: ['afk'] });

    const issues = await tracker().listLabelledIssues(repo, 'afk', 'open');

    expect(issues).toHaveLength(count);
    expect(new Set(issues.map((i) => i.number)).size).toBe(count);
    expect(fake.requests).toHaveLength(requests);
    // Later pages follow GitHub's Link header, which names the repository by id.
    expect(fake.requests.slice(1).map((r) => [r.path, r.query['page']])).toEqual(
      Array.from({ length: requests - 1 }, (_, i) => [
        expect.stringMatching(/^\/repositories\/\d+\/issues$/),
        String(i + 2),
      ]),
    );
  });

  it('refuses to follow a pagination link to another host', async () => {
    let leaked = 0;
    server.use(
      http.get(`${baseUrl}/repos/${repo}/issues`, () =>
        HttpResponse.json([], {
          headers: { link: '<https://evil.test/issues?page=2>; rel="next"' },
        }),
      ),
      http.get('https://evil.test/issues', () => {
        leaked += 1;
        return HttpResponse.json([]);
      }),
    );

    const error = await failure(tracker().listLabelledIssues(repo, 'afk', 'open'));

    expect(error.kind).toBe('malformed');
    expect(error.reason).toBe('pagination link leaves the API host');
    expect(leaked).toBe(0);
  });

  it('reports an item without a number as malformed', async () => {
    server.use(
      http.get(`${baseUrl}/repos/${repo}/issues`, () =>
        HttpResponse.json([{ title: 'no number' }]),
      ),
    );

    const error = await failure(tracker().listLabelledIssues(repo, 'afk', 'open'));

    expect(error).toMatchObject({
      kind: 'malformed',
      status: 200,
      request: 'GET /repos/acme/app/issues',
    });
    expect(error.reason).toMatch(/^number: /);
  });
});

describe('listComments', () => {
  it('lists every comment, oldest first', async () => {
    fake.addIssue(repo, { number: 7, title: 'x' });
    const first = fake.addComment(repo, 7, {
      author: 'alice',
      body: 'first',
      createdAt: '2024-05-01T10:00:00Z',
    });
    const second = fake.addComment(repo, 7, {
      author: 'afk-bot',
      body: 'second',
      createdAt: '2024-05-01T11:00:00Z',
    });

    const comments = await tracker().listComments({ repo, number: 7 });

    expect(comments).toEqual([
      { id: first, author: 'alice', body: 'first', createdAt: '2024-05-01T10:00:00Z' },
      { id: second, author: 'afk-bot', body: 'second', createdAt: '2024-05-01T11:00:00Z' },
    ]);
    expect(fake.requests.map(sent)).toEqual([
      {
        method: 'GET',
        path: '/repos/acme/app/issues/7/comments',
        query: { per_page: '100' },
        body: undefined,
      },
    ]);
  });

  it('reads 150 comments in two requests', async () => {
    fake.addIssue(repo, { number: 7, title: 'x' });
    for (let n = 0; n < 150; n++) fake.addComment(repo, 7, { author: 'alice', body: `c${n}` });

    const comments = await tracker().listComments({ repo, number: 7 });

    expect(comments.map((c) => c.body)).toEqual(Array.from({ length: 150 }, (_, n) => `c${n}`));
    expect(fake.requests).toHaveLength(2);
  });
});

describe('listLabelEvents', () => {
  it('keeps only labeled and unlabeled events, with label and actor', async () => {
    fake.addIssue(repo, {
      number: 3,
      title: 'x',
      createdAt: '2024-05-01T10:00:00Z',
      labeledBy: { 'ready-for-agent': 'stranger' },
    });
    fake.unlabelIssue(repo, 3, 'ready-for-agent', 'maintainer');
    fake.labelIssue(repo, 3, 'ready-for-agent', 'maintainer');
    await tracker().closeIssue({ repo, number: 3 });
    fake.requests.length = 0;

    const events = await tracker().listLabelEvents({ repo, number: 3 });

    expect(events.map(({ action, label, actor }) => ({ action, label, actor }))).toEqual([
      { action: 'labeled', label: 'ready-for-agent', actor: 'stranger' },
      { action: 'unlabeled', label: 'ready-for-agent', actor: 'maintainer' },
      { action: 'labeled', label: 'ready-for-agent', actor: 'maintainer' },
    ]);
    expect(events[0]?.createdAt).toBe('2024-05-01T10:00:00Z');
    expect(fake.requests.map(sent)).toEqual([
      {
        method: 'GET',
        path: '/repos/acme/app/issues/3/events',
        query: { per_page: '100' },
        body: undefined,
      },
    ]);
  });
});

describe('getPermission', () => {
  it.each([
    ['admin', 'admin'],
    ['maintain', 'write'],
    ['write', 'write'],
    ['triage', 'read'],
    ['read', 'read'],
  ] as const)('maps the %s role to %s', async (role, permission) => {
    fake.addRepo('acme/roles', { collaborators: { alice: role } });

    expect(await tracker().getPermission('acme/roles', 'alice')).toBe(permission);
    expect(fake.requests.map(sent)).toEqual([
      {
        method: 'GET',
        path: '/repos/acme/roles/collaborators/alice/permission',
        query: {},
        body: undefined,
      },
    ]);
  });

  it.each([
    ['public', 'read'],
    ['private', 'none'],
  ] as const)('gives a stranger on a %s repository %s', async (visibility, permission) => {
    fake.addRepo('acme/other', { visibility });

    expect(await tracker().getPermission('acme/other', 'stranger')).toBe(permission);
  });

  it('answers none for a login GitHub does not know as a user (404)', async () => {
    expect(await tracker().getPermission(repo, 'renovate[bot]')).toBe('none');
    expect(fake.requests).toHaveLength(1);
  });

  it('reports forbidden when the token may not read permissions', async () => {
    fake.addRepo('acme/readonly', { collaborators: { 'afk-bot': 'triage' } });

    const error = await failure(tracker().getPermission('acme/readonly', 'alice'));

    expect(error).toMatchObject({ kind: 'forbidden', status: 403 });
  });
});

describe('getSelfLogin', () => {
  it('asks GET /user once per tracker', async () => {
    const github = tracker();

    expect(await github.getSelfLogin()).toBe('afk-bot');
    expect(await github.getSelfLogin()).toBe('afk-bot');
    expect(fake.requests.map(sent)).toEqual([
      { method: 'GET', path: '/user', query: {}, body: undefined },
    ]);
  });

  it('answers the configured login without a request', async () => {
    expect(await tracker({ login: 'afk-app[bot]' }).getSelfLogin()).toBe('afk-app[bot]');
    expect(fake.requests).toEqual([]);
  });

  it('asks again after a failed lookup', async () => {
    const github = tracker();
    fake.failNext({ path: '/user' }, { status: 502 });

    await expect(github.getSelfLogin()).rejects.toMatchObject({ kind: 'transient' });
    expect(await github.getSelfLogin()).toBe('afk-bot');
    expect(fake.requests).toHaveLength(2);
  });

  it('reports forbidden for an installation token, which cannot read /user', async () => {
    server.resetHandlers();
    fake = createGitHubFake({ baseUrl, token, appInstallation: true });
    server.use(...fake.handlers);

    const error = await failure(tracker().getSelfLogin());

    expect(error).toMatchObject({
      kind: 'forbidden',
      reason: 'Resource not accessible by integration',
    });
  });
});

describe('writes', () => {
  beforeEach(() => {
    fake.addIssue(repo, { number: 5, title: 'x', labels: ['ready-for-agent'] });
  });

  it('creates a comment and returns its id', async () => {
    const { id } = await tracker().createComment({ repo, number: 5 }, 'afk is on it');

    expect(fake.issue(repo, 5).comments).toEqual([{ id, author: 'afk-bot', body: 'afk is on it' }]);
    expect(fake.writes().map(sent)).toEqual([
      {
        method: 'POST',
        path: '/repos/acme/app/issues/5/comments',
        query: {},
        body: { body: 'afk is on it' },
      },
    ]);
  });

  it('never retries creating a comment: a retry could post it twice', async () => {
    fake.failNext({ method: 'POST' }, { status: 502 });

    const error = await failure(
      tracker({ retries: 2, maxRetryWaitSeconds: 0 }).createComment({ repo, number: 5 }, 'hi'),
    );

    expect(error).toMatchObject({ kind: 'transient', status: 502 });
    expect(fake.requests).toHaveLength(1);
  });

  it('updates a comment by id', async () => {
    const id = fake.addComment(repo, 5, { author: 'afk-bot', body: 'old' });

    await tracker().updateComment(repo, id, 'new');

    expect(fake.issue(repo, 5).comments).toEqual([{ id, author: 'afk-bot', body: 'new' }]);
    expect(fake.writes().map(sent)).toEqual([
      {
        method: 'PATCH',
        path: `/repos/acme/app/issues/comments/${id}`,
        query: {},
        body: { body: 'new' },
      },
    ]);
  });

  it('adds labels, which GitHub records as labeled by the token', async () => {
    await tracker().addLabels({ repo, number: 5 }, ['agent-in-progress', 'P1']);

    expect(fake.issue(repo, 5).labels).toEqual(['ready-for-agent', 'agent-in-progress', 'P1']);
    expect(fake.issue(repo, 5).events).toEqual([
      { event: 'labeled', label: 'agent-in-progress', actor: 'afk-bot' },
      { event: 'labeled', label: 'P1', actor: 'afk-bot' },
    ]);
    expect(fake.writes().map(sent)).toEqual([
      {
        method: 'POST',
        path: '/repos/acme/app/issues/5/labels',
        query: {},
        body: { labels: ['agent-in-progress', 'P1'] },
      },
    ]);
  });

  it('sends nothing when there are no labels to add', async () => {
    await tracker().addLabels({ repo, number: 5 }, []);

    expect(fake.requests).toEqual([]);
  });

  it.each([
    ['ready-for-agent', '/repos/acme/app/issues/5/labels/ready-for-agent'],
    ['area/ui', '/repos/acme/app/issues/5/labels/area%2Fui'],
    ['needs triage', '/repos/acme/app/issues/5/labels/needs%20triage'],
  ])('removes the label %s with its name encoded into the path', async (label, path) => {
    fake.labelIssue(repo, 5, label, 'maintainer');

    await tracker().removeLabel({ repo, number: 5 }, label);

    expect(fake.issue(repo, 5).labels).not.toContain(label);
    expect(fake.writes().map(sent)).toEqual([
      { method: 'DELETE', path, query: {}, body: undefined },
    ]);
  });

  it('treats removing a label the issue does not carry as done', async () => {
    await expect(
      tracker().removeLabel({ repo, number: 5 }, 'agent-in-progress'),
    ).resolves.toBeUndefined();

    expect(fake.requests).toHaveLength(1);
    expect(fake.issue(repo, 5).labels).toEqual(['ready-for-agent']);
  });

  it('closes an issue as completed', async () => {
    await tracker().closeIssue({ repo, number: 5 });

    expect(fake.issue(repo, 5)).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(fake.writes().map(sent)).toEqual([
      {
        method: 'PATCH',
        path: '/repos/acme/app/issues/5',
        query: {},
        body: { state: 'closed', state_reason: 'completed' },
      },
    ]);
  });
});

describe('authentication', () => {
  it('asks for the token before every request and sends the rotated one', async () => {
    const tokens = ['gh-test-token', 'gh-rotated-token'];
    let asked = 0;
    const github = tracker({ token: () => Promise.resolve(tokens[asked++] ?? 'exhausted') });
    fake.addIssue(repo, { number: 1, title: 'x' });

    await github.listComments({ repo, number: 1 });
    fake.setToken('gh-rotated-token');
    await github.listComments({ repo, number: 1 });

    expect(asked).toBe(2);
    expect(fake.requests.map((r) => r.headers['authorization'])).toEqual([
      'Bearer gh-test-token',
      'Bearer gh-rotated-token',
    ]);
  });

  it('asks for the token again on each retry', async () => {
    let asked = 0;
    const github = tracker({
      retries: 1,
      maxRetryWaitSeconds: 0,
      token: () => Promise.resolve((asked++, token)),
    });
    fake.addIssue(repo, { number: 1, title: 'x' });
    fake.failNext({ method: 'GET' }, { status: 500 });

    await github.listComments({ repo, number: 1 });

    expect(asked).toBe(2);
    expect(fake.requests).toHaveLength(2);
  });

  it('lets a missing token surface as the configuration error it is', async () => {
    const missing = new ConfigError(['tracker.tokenFile: no tracker token configured']);

    await expect(tracker({ token: () => Promise.reject(missing) }).getSelfLogin()).rejects.toBe(
      missing,
    );
    expect(fake.requests).toEqual([]);
  });
});

describe('failures', () => {
  const listRequest = 'GET /repos/acme/app/issues';

  it.each<[string, FakeFailure, { kind: string; status?: number }]>([
    ['a 401', { status: 401, body: { message: 'Bad credentials' } }, { kind: 'auth', status: 401 }],
    [
      'a plain 403',
      { status: 403, body: { message: 'Resource not accessible by integration' } },
      { kind: 'forbidden', status: 403 },
    ],
    [
      'a 403 secondary rate limit',
      {
        status: 403,
        body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes.' },
        headers: { 'retry-after': '120' },
      },
      { kind: 'rate-limited', status: 403 },
    ],
    [
      'a 403 with the primary rate limit spent',
      {
        status: 403,
        body: { message: 'API rate limit exceeded for user ID 1.' },
        headers: { 'x-ratelimit-remaining': '0' },
      },
      { kind: 'rate-limited', status: 403 },
    ],
    [
      'a 429',
      { status: 429, body: { message: 'Too many requests' } },
      { kind: 'rate-limited', status: 429 },
    ],
    ['a 404', { status: 404, body: { message: 'Not Found' } }, { kind: 'not-found', status: 404 }],
    ['a 409', { status: 409, body: { message: 'Conflict' } }, { kind: 'rejected', status: 409 }],
    [
      'a 410',
      { status: 410, body: { message: 'Issues are disabled' } },
      { kind: 'rejected', status: 410 },
    ],
    [
      'a 422',
      { status: 422, body: { message: 'Validation Failed' } },
      { kind: 'rejected', status: 422 },
    ],
    [
      'a 400',
      { status: 400, body: { message: 'Problems parsing JSON' } },
      { kind: 'contract', status: 400 },
    ],
    ['a 500', { status: 500 }, { kind: 'transient', status: 500 }],
    ['a 503', { status: 503 }, { kind: 'transient', status: 503 }],
    ['a network error', 'network-error', { kind: 'transient' }],
    ['a malformed 200', 'malformed', { kind: 'malformed', status: 200 }],
  ])('maps %s to its kind', async (_name, answer, expected) => {
    fake.failNext({ path: '/repos/acme/app/issues' }, answer);

    const error = await failure(tracker().listLabelledIssues(repo, 'ready-for-agent', 'open'));

    expect(error).toMatchObject({ ...expected, request: listRequest, upstream: 'tracker' });
    expect(error.status).toBe(expected.status);
    expect(fake.requests).toHaveLength(1);
  });

  it('maps a request that outlives timeoutMs to transient', async () => {
    fake.failNext({ path: '/repos/acme/app/issues' }, 'timeout');

    const error = await failure(tracker({ timeoutMs: 20 }).listLabelledIssues(repo, 'afk', 'open'));

    expect(error).toMatchObject({
      kind: 'transient',
      request: listRequest,
      network: { address: 'api.github.test:443', cause: 'timeout after 20 ms' },
    });
    expect(error.message).toBe(
      `tracker: ${listRequest}: network error: timeout after 20 ms (api.github.test:443)`,
    );
  });

  it('times out even when the fetch it was given ignores the abort signal', async () => {
    let calls = 0;
    const deaf: typeof fetch = () => {
      calls += 1;
      return new Promise<Response>(() => undefined);
    };

    const error = await failure(
      tracker({ fetch: deaf, timeoutMs: 20 }).listLabelledIssues(repo, 'afk', 'open'),
    );

    expect(error).toMatchObject({
      kind: 'transient',
      network: { address: 'api.github.test:443', cause: 'timeout after 20 ms' },
    });
    expect(calls).toBe(1);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort();

    const error = await failure(
      tracker({ signal: controller.signal, retries: 2 }).listLabelledIssues(repo, 'afk', 'open'),
    );

    expect(error).toMatchObject({ kind: 'transient', reason: 'aborted' });
  });

  it('reports the field and code of a validation failure, not the value', async () => {
    fake.addIssue(repo, { number: 5, title: 'x' });

    const error = await failure(tracker().createComment({ repo, number: 5 }, '   '));

    expect(error).toMatchObject({
      kind: 'rejected',
      status: 422,
      request: 'POST /repos/acme/app/issues/5/comments',
      reason: 'Validation Failed: body missing_field',
    });
  });

  it('names the request a write failed on, by method and path', async () => {
    fake.addIssue(repo, { number: 5, title: 'x', labels: ['area/ui'] });
    fake.failNext({ method: 'DELETE' }, { status: 500 });

    const error = await failure(tracker().removeLabel({ repo, number: 5 }, 'area/ui'));

    expect(error.request).toBe('DELETE /repos/acme/app/issues/5/labels/area%2Fui');
    expect(error.message).toBe(
      'tracker: DELETE /repos/acme/app/issues/5/labels/area%2Fui: 500 transient (fake failure 500)',
    );
  });

  it.each<[string, FakeFailure]>([
    ['a 401', { status: 401, body: { message: 'Bad credentials' } }],
    ['a 500', { status: 500 }],
    ['a network error', 'network-error'],
    [
      'a 422 that echoes input',
      { status: 422, body: { message: 'Validation Failed', errors: [{ value: token }] } },
    ],
  ])('never lets the token or the query into %s', async (_name, answer) => {
    fake.failNext({}, answer);

    const error = await failure(tracker().listLabelledIssues(repo, 'ready-for-agent', 'open'));

    for (const text of [error.message, String(error), inspect(error, { depth: 10 })]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain('labels=');
    }
  });

  it('reports a wrong token as auth', async () => {
    const error = await failure(
      tracker({ token: () => Promise.resolve('stale-token') }).getSelfLogin(),
    );

    expect(error).toMatchObject({
      kind: 'auth',
      status: 401,
      reason: 'Bad credentials',
      request: 'GET /user',
    });
    expect(inspect(error, { depth: 10 })).not.toContain('stale-token');
  });
});

describe('retries and rate limits', () => {
  beforeEach(() => {
    fake.addIssue(repo, { number: 1, title: 'x', labels: ['afk'] });
  });

  it('retries a secondary rate limit once when retry-after fits the tick', async () => {
    fake.failNext(
      { path: '/repos/acme/app/issues' },
      {
        status: 403,
        body: { message: 'You have exceeded a secondary rate limit.' },
        headers: { 'retry-after': '1' },
      },
    );

    const issues = await tracker({ throttle: true, maxRetryWaitSeconds: 10 }).listLabelledIssues(
      repo,
      'afk',
      'open',
    );

    expect(issues).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
  });

  it.each([403, 429])(
    'fails fast on a %i secondary rate limit whose retry-after exceeds the tick',
    async (status) => {
      fake.failNext(
        { path: '/repos/acme/app/issues' },
        {
          status,
          body: { message: 'You have exceeded a secondary rate limit.' },
          headers: { 'retry-after': '120' },
        },
      );

      const error = await failure(
        tracker({ throttle: true, retries: 2, maxRetryWaitSeconds: 10 }).listLabelledIssues(
          repo,
          'afk',
          'open',
        ),
      );

      expect(error).toMatchObject({ kind: 'rate-limited', status });
      expect(fake.requests).toHaveLength(1);
    },
  );

  it('retries a spent primary rate limit once when the reset has passed', async () => {
    const reset = String(Math.floor(Date.now() / 1000) - 5);
    fake.failNext(
      { path: '/repos/acme/app/issues' },
      {
        status: 403,
        body: { message: 'API rate limit exceeded for user ID 1.' },
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
      },
    );

    const issues = await tracker({ throttle: true }).listLabelledIssues(repo, 'afk', 'open');

    expect(issues).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
  });

  it('retries a rate limit only once', async () => {
    const reset = String(Math.floor(Date.now() / 1000) - 5);
    fake.failNext(
      { path: '/repos/acme/app/issues' },
      {
        status: 429,
        body: { message: 'API rate limit exceeded' },
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
      },
      2,
    );

    const error = await failure(
      tracker({ throttle: true, retries: 2 }).listLabelledIssues(repo, 'afk', 'open'),
    );

    expect(error).toMatchObject({ kind: 'rate-limited', status: 429 });
    expect(fake.requests).toHaveLength(2);
  });

  it('fails fast when the primary rate limit resets after the tick', async () => {
    const reset = String(Math.floor(Date.now() / 1000) + 3600);
    fake.failNext(
      { path: '/repos/acme/app/issues' },
      {
        status: 403,
        body: { message: 'API rate limit exceeded for user ID 1.' },
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
      },
    );

    const error = await failure(
      tracker({ throttle: true, retries: 2 }).listLabelledIssues(repo, 'afk', 'open'),
    );

    expect(error).toMatchObject({ kind: 'rate-limited', status: 403 });
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    [2, 10, [1000, 4000]],
    [3, 10, [714, 2856, 6426]],
    [2, 1, [200, 800]],
    [2, 0, [0, 0]],
    [0, 10, []],
  ])('waits %i retries within %ss: %j ms', (retries, seconds, waits) => {
    expect(retryWaits(retries, seconds)).toEqual(waits);
    expect(waits.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(seconds * 1000);
  });
});

describe('the GitHub fake', () => {
  const call = async (method: string, path: string, body?: unknown, auth = `token ${token}`) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    };
  };

  beforeEach(() => {
    fake.addIssue(repo, { number: 1, title: 'a', labels: ['x', 'y'] });
    fake.addIssue(repo, { number: 2, title: 'b', labels: ['x'] });
    fake.addIssue(repo, { number: 3, title: 'c', labels: ['y'] });
  });

  it('requires every label of a comma-separated filter', async () => {
    const { body } = await call('GET', '/repos/acme/app/issues?labels=x,y');

    expect((body as Array<{ number: number }>).map((i) => i.number)).toEqual([1]);
  });

  it('paginates with a Link header that names prev, next, last and first', async () => {
    const { headers, body } = await call('GET', '/repos/acme/app/issues?per_page=1&page=2');

    expect((body as Array<{ number: number }>).map((i) => i.number)).toEqual([2]);
    const links = (headers.get('link') ?? '').split(', ').map((l) => /rel="(\w+)"/.exec(l)?.[1]);
    expect(links).toEqual(['prev', 'next', 'last', 'first']);
    expect(headers.get('link')).toMatch(
      /\/repositories\/\d+\/issues\?per_page=1&page=3>; rel="next"/,
    );
  });

  it('sends rate-limit headers with every answer, refusals included', async () => {
    for (const { headers } of [
      await call('GET', '/user'),
      await call('GET', '/user', undefined, 'token wrong'),
    ]) {
      expect(headers.get('x-ratelimit-limit')).toBe('5000');
      expect(headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
      expect(headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
      expect(headers.get('x-ratelimit-used')).toMatch(/^\d+$/);
    }
  });

  it('refuses a wrong token with 401 Bad credentials', async () => {
    const answer = await call('GET', '/user', undefined, 'Bearer wrong');

    expect(answer).toMatchObject({ status: 401, body: { message: 'Bad credentials' } });
  });

  it.each<[string, string, unknown, number, unknown]>([
    ['an unknown repository', 'GET /repos/acme/nope/issues', undefined, 404, 'Not Found'],
    [
      'an unknown state',
      'GET /repos/acme/app/issues?state=done',
      undefined,
      422,
      'Validation Failed',
    ],
    [
      'an unimplemented filter',
      'GET /repos/acme/app/issues?assignee=alice',
      undefined,
      501,
      expect.stringContaining('assignee'),
    ],
    [
      'a comment without a body',
      'POST /repos/acme/app/issues/1/comments',
      {},
      422,
      expect.stringContaining('"body"'),
    ],
    [
      'a blank comment',
      'POST /repos/acme/app/issues/1/comments',
      { body: ' ' },
      422,
      'Validation Failed',
    ],
    [
      'labels that are not a list',
      'POST /repos/acme/app/issues/1/labels',
      { labels: 'x' },
      422,
      expect.stringContaining('array'),
    ],
    [
      'a body that is not JSON',
      'POST /repos/acme/app/issues/1/labels',
      '{',
      400,
      'Problems parsing JSON',
    ],
    [
      'an unknown issue state',
      'PATCH /repos/acme/app/issues/1',
      { state: 'done' },
      422,
      'Validation Failed',
    ],
    [
      'an unknown state reason',
      'PATCH /repos/acme/app/issues/1',
      { state: 'closed', state_reason: 'fixed' },
      422,
      'Validation Failed',
    ],
    [
      'an unknown comment',
      'PATCH /repos/acme/app/issues/comments/999',
      { body: 'x' },
      404,
      'Not Found',
    ],
    [
      'removing a label the issue lacks',
      'DELETE /repos/acme/app/issues/2/labels/y',
      undefined,
      404,
      'Label does not exist',
    ],
  ])('refuses %s', async (_name, request, body, status, message) => {
    const [method = '', path = ''] = request.split(' ');

    const answer = await call(method, path, body);

    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ message });
    expect(fake.requests).toHaveLength(1);
  });

  it('accepts a bare array of labels and creates unknown ones', async () => {
    const { status, body } = await call('POST', '/repos/acme/app/issues/2/labels', ['new-label']);

    expect(status).toBe(200);
    expect((body as Array<{ name: string }>).map((l) => l.name)).toEqual(['x', 'new-label']);
  });

  it('reopens a closed issue with state_reason reopened', async () => {
    await call('PATCH', '/repos/acme/app/issues/1', {
      state: 'closed',
      state_reason: 'not_planned',
    });
    expect(fake.issue(repo, 1)).toMatchObject({ state: 'closed', stateReason: 'not_planned' });

    const { body } = await call('PATCH', '/repos/acme/app/issues/1', { state: 'open' });

    expect(body).toMatchObject({ state: 'open', state_reason: 'reopened', closed_at: null });
    expect(fake.issue(repo, 1).events.map((e) => e.event)).toEqual(['closed', 'reopened']);
  });

  it('answers an injected failure only as many times as asked', async () => {
    fake.failNext({ method: 'GET', path: /^\/user$/ }, { status: 502 }, 2);

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('GET', '/user')).status);

    expect(statuses).toEqual([502, 502, 200]);
  });

  it('forgets injected failures when cleared', async () => {
    fake.failNext({ path: '/user' }, { status: 502 }, 5);
    fake.clearFailures();

    expect((await call('GET', '/user')).status).toBe(200);
  });
});

// --- evidence for watch: pull requests, commits, CI and deployments ---------------------------

/** A stable full sha per name. */
const sha = (name: string): string => createHash('sha1').update(name).digest('hex');

describe('findPullRequest', () => {
  const branch = 'afk/issue-7';

  it('finds the newest pull request of the branch, asking for owner:branch in one request', async () => {
    fake.addPullRequest(repo, {
      number: 10,
      head: branch,
      headSha: sha('first'),
      state: 'closed',
      createdAt: '2024-05-01T10:00:00Z',
    });
    fake.addPullRequest(repo, {
      number: 11,
      head: 'afk/issue-8',
      headSha: sha('other'),
      createdAt: '2024-05-03T10:00:00Z',
    });
    fake.addPullRequest(repo, {
      number: 12,
      head: branch,
      headSha: sha('second'),
      createdAt: '2024-05-02T10:00:00Z',
    });

    const pull = await tracker().findPullRequest(repo, branch);

    expect(pull).toEqual({
      number: 12,
      url: 'https://github.test/acme/app/pull/12',
      state: 'open',
      merged: false,
      headSha: sha('second'),
      mergeCommitSha: null,
      mergedAt: null,
      createdAt: '2024-05-02T10:00:00Z',
    });
    // A bare branch name in `head` would make GitHub list every pull request.
    expect(fake.requests.map(sent)).toEqual([
      {
        method: 'GET',
        path: '/repos/acme/app/pulls',
        query: {
          head: `acme:${branch}`,
          state: 'all',
          sort: 'created',
          direction: 'desc',
          per_page: '10',
        },
        body: undefined,
      },
    ]);
  });

  it('does not report the test merge commit of an open pull request', async () => {
    fake.addPullRequest(repo, { head: branch, headSha: sha('head') });

    const pull = await tracker().findPullRequest(repo, branch);

    expect(pull).toMatchObject({ state: 'open', merged: false, mergeCommitSha: null });
  });

  it('reports a merged pull request with the merge commit on the base branch', async () => {
    fake.pushCommit(repo, 'main', sha('base'));
    const number = fake.addPullRequest(repo, { head: branch, headSha: sha('head') });
    fake.mergePullRequest(repo, number, sha('merge'));

    const pull = await tracker().findPullRequest(repo, branch);

    expect(pull).toMatchObject({
      number,
      state: 'closed',
      merged: true,
      headSha: sha('head'),
      mergeCommitSha: sha('merge'),
      mergedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
    });
  });

  it('reports a pull request closed without merging as closed and unmerged', async () => {
    fake.addPullRequest(repo, { head: branch, headSha: sha('head'), state: 'closed' });

    const pull = await tracker().findPullRequest(repo, branch);

    expect(pull).toMatchObject({ state: 'closed', merged: false, mergeCommitSha: null });
  });

  it('follows the branch of an open pull request, and keeps the last head once closed', async () => {
    const number = fake.addPullRequest(repo, { head: branch, headSha: sha('first') });
    fake.pushCommit(repo, branch, sha('second'));
    const open = await tracker().findPullRequest(repo, branch);
    fake.closePullRequest(repo, number);
    fake.pushCommit(repo, branch, sha('third'));

    const closed = await tracker().findPullRequest(repo, branch);

    expect(open?.headSha).toBe(sha('second'));
    expect(closed).toMatchObject({ state: 'closed', merged: false, headSha: sha('second') });
  });

  it('answers null when the branch has no pull request', async () => {
    fake.addPullRequest(repo, { head: 'afk/issue-8', headSha: sha('other') });

    expect(await tracker().findPullRequest(repo, branch)).toBeNull();
    expect(fake.requests).toHaveLength(1);
  });

  it('ignores pull requests of other branches when GitHub lists them anyway', async () => {
    fake.addPullRequest(repo, { head: 'afk/issue-8', headSha: sha('other') });
    // What GitHub answers to a bare branch name: every pull request of the repository.
    server.use(
      http.get(`${baseUrl}/repos/${repo}/pulls`, () =>
        HttpResponse.json([
          {
            number: 3,
            html_url: 'https://github.test/acme/app/pull/3',
            state: 'open',
            merged_at: null,
            merge_commit_sha: sha('test merge'),
            created_at: '2024-05-01T10:00:00Z',
            head: { ref: 'afk/issue-8', sha: sha('other'), label: 'acme:afk/issue-8' },
          },
        ]),
      ),
    );

    expect(await tracker().findPullRequest(repo, branch)).toBeNull();
  });
});

describe('placeCommit', () => {
  // main: c1 - c2 (tip); feature branches from c1; next is ahead of main; orphan has no parent.
  beforeEach(() => {
    fake.pushCommit(repo, 'main', sha('c1'));
    fake.pushCommit(repo, 'main', sha('c2'));
    fake.pushCommit(repo, 'feature', sha('f1'), { parents: [sha('c1')] });
    fake.pushCommit(repo, 'next', sha('n1'));
    fake.pushCommit(repo, 'orphan', sha('o1'), { parents: [] });
  });

  it.each([
    ['the tip of the default branch', sha('c2'), 'on-default-branch'],
    ['an older commit of the default branch', sha('c1'), 'on-default-branch'],
    ['an abbreviated sha of the default branch', sha('c1').slice(0, 7), 'on-default-branch'],
    ['a commit on a branch that forked off', sha('f1'), 'not-on-default-branch'],
    ['a commit on a branch ahead of the default branch', sha('n1'), 'not-on-default-branch'],
    ['a commit with no history in common', sha('o1'), 'not-on-default-branch'],
    ['a commit GitHub does not know', sha('never pushed'), 'unknown-commit'],
  ])('places %s', async (_name, commit, placement) => {
    expect(await tracker().placeCommit(repo, commit)).toBe(placement);
  });

  it('reads the default branch, then compares the commit with it', async () => {
    fake.addRepo('acme/trunk', { defaultBranch: 'trunk' });
    fake.pushCommit('acme/trunk', 'trunk', sha('t1'));

    expect(await tracker().placeCommit('acme/trunk', sha('t1'))).toBe('on-default-branch');
    expect(fake.requests.map(sent)).toEqual([
      { method: 'GET', path: '/repos/acme/trunk', query: {}, body: undefined },
      {
        method: 'GET',
        path: `/repos/acme/trunk/compare/${sha('t1')}...trunk`,
        query: { per_page: '1' },
        body: undefined,
      },
    ]);
  });

  it('reads the default branch once per tracker, and again after a failed read', async () => {
    const github = tracker();
    fake.failNext({ path: '/repos/acme/app' }, { status: 502 });

    await expect(github.placeCommit(repo, sha('c1'))).rejects.toMatchObject({ kind: 'transient' });
    await github.placeCommit(repo, sha('c1'));
    await github.placeCommit(repo, sha('c2'));

    expect(fake.requests.map((r) => r.path)).toEqual([
      '/repos/acme/app',
      '/repos/acme/app',
      `/repos/acme/app/compare/${sha('c1')}...main`,
      `/repos/acme/app/compare/${sha('c2')}...main`,
    ]);
  });

  it.each(['not-a-sha', 'abc', `${sha('c1')}...main`, 'HEAD'])(
    'answers unknown-commit for %j without asking GitHub',
    async (reported) => {
      expect(await tracker().placeCommit(repo, reported)).toBe('unknown-commit');
      expect(fake.requests).toEqual([]);
    },
  );

  it('answers unknown-commit when GitHub refuses the comparison with 422', async () => {
    fake.failNext(
      { path: /\/compare\// },
      { status: 422, body: { message: 'No commit found for SHA: x' } },
    );

    expect(await tracker().placeCommit(repo, sha('c1'))).toBe('unknown-commit');
  });

  it.each<[string, FakeFailure, string]>([
    ['a 401', { status: 401, body: { message: 'Bad credentials' } }, 'auth'],
    ['a 502', { status: 502 }, 'transient'],
    ['a malformed 200', 'malformed', 'malformed'],
  ])('fails on %s from the comparison', async (_name, answer, kind) => {
    fake.failNext({ path: /\/compare\// }, answer);

    const error = await failure(tracker().placeCommit(repo, sha('c1')));

    expect(error).toMatchObject({
      kind,
      request: `GET /repos/acme/app/compare/${sha('c1')}...main`,
    });
  });
});

describe('readCi', () => {
  const commit = sha('head');

  it('reads the check runs and the commit statuses of the commit, concurrently', async () => {
    fake.addCheckRun(repo, commit, {
      name: 'test',
      status: 'completed',
      conclusion: 'failure',
      url: 'https://github.test/acme/app/actions/runs/1/job/2',
      title: '2 tests failed',
      summary: 'parse.test.ts: expected 1, got 2',
    });
    fake.addCheckRun(repo, commit, { name: 'lint', status: 'in_progress' });
    fake.addStatus(repo, commit, {
      context: 'ci/circleci',
      state: 'success',
      targetUrl: 'https://circleci.test/1',
      description: 'Your tests passed',
    });
    let inFlight = 0;
    let most = 0;
    const counting: typeof fetch = async (input, init) => {
      most = Math.max(most, ++inFlight);
      try {
        return await fetch(input, init);
      } finally {
        inFlight -= 1;
      }
    };

    const ci = await tracker({ fetch: counting }).readCi(repo, commit);

    expect(ci).toEqual({
      sha: commit,
      checkRuns: [
        {
          name: 'lint',
          status: 'in_progress',
          conclusion: null,
          url: expect.stringMatching(/^https:\/\/github\.test\/acme\/app\/runs\/\d+$/) as unknown,
          summary: null,
        },
        {
          name: 'test',
          status: 'completed',
          conclusion: 'failure',
          url: 'https://github.test/acme/app/actions/runs/1/job/2',
          summary: '2 tests failed\nparse.test.ts: expected 1, got 2',
        },
      ],
      statuses: [
        {
          context: 'ci/circleci',
          state: 'success',
          url: 'https://circleci.test/1',
          description: 'Your tests passed',
        },
      ],
    });
    expect(most).toBe(2);
    expect(fake.requests.map(sent).sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      {
        method: 'GET',
        path: `/repos/acme/app/commits/${commit}/check-runs`,
        query: { filter: 'latest', per_page: '100' },
        body: undefined,
      },
      {
        method: 'GET',
        path: `/repos/acme/app/commits/${commit}/status`,
        query: { per_page: '100' },
        body: undefined,
      },
    ]);
  });

  it('returns no statuses for a commit that has none, though GitHub calls that pending', async () => {
    fake.addCheckRun(repo, commit, { name: 'test', status: 'completed', conclusion: 'success' });

    const ci = await tracker().readCi(repo, commit);

    expect(ci.statuses).toEqual([]);
    expect(ci.checkRuns.map((run) => run.conclusion)).toEqual(['success']);
  });

  it('keeps the newest run of each name: a re-run replaces the failed one', async () => {
    fake.addCheckRun(repo, commit, { name: 'test', status: 'completed', conclusion: 'failure' });
    const rerun = fake.addCheckRun(repo, commit, { name: 'test', status: 'queued' });
    fake.updateCheckRun(repo, rerun, { conclusion: 'success' });

    const ci = await tracker().readCi(repo, commit);

    expect(ci.checkRuns.map(({ name, status, conclusion }) => [name, status, conclusion])).toEqual([
      ['test', 'completed', 'success'],
    ]);
  });

  it('keeps the latest status of each context', async () => {
    fake.addStatus(repo, commit, { context: 'ci/build', state: 'pending' });
    fake.addStatus(repo, commit, { context: 'deploy', state: 'error' });
    fake.addStatus(repo, commit, { context: 'ci/build', state: 'success' });

    const ci = await tracker().readCi(repo, commit);

    expect(ci.statuses.map(({ context, state }) => [context, state])).toEqual([
      ['ci/build', 'success'],
      ['deploy', 'error'],
    ]);
    expect(ci.statuses[0]).toMatchObject({ url: null, description: null });
  });

  it.each([
    [100, 1],
    [101, 2],
    [250, 3],
  ])('reads all %i check runs in %i request(s)', async (count, pages) => {
    for (let n = 0; n < count; n++) {
      fake.addCheckRun(repo, commit, { name: `job ${n}`, status: 'queued' });
    }

    const ci = await tracker().readCi(repo, commit);

    expect(new Set(ci.checkRuns.map((run) => run.name)).size).toBe(count);
    const runRequests = fake.requests.filter((r) => r.path.endsWith('/check-runs'));
    expect(runRequests.map((r) => r.query['page'])).toEqual(
      Array.from({ length: pages }, (_, i) => (i === 0 ? undefined : String(i + 1))),
    );
  });

  it('trims a long output to 300 characters', async () => {
    fake.addCheckRun(repo, commit, {
      name: 'test',
      status: 'completed',
      conclusion: 'failure',
      title: 'Failed',
      summary: 'x'.repeat(1000),
    });

    const [run] = (await tracker().readCi(repo, commit)).checkRuns;

    expect(run?.summary).toHaveLength(300);
    expect(run?.summary).toMatch(/^Failed\nx+…$/);
  });

  it.each([
    ['a check run status', { check_runs: [{ ...runBody, status: 'exploded' }] }, 'check_runs'],
    ['a conclusion', { check_runs: [{ ...runBody, conclusion: 'meh' }] }, 'check_runs'],
    ['a status state', { statuses: [{ ...statusBody, state: 'warning' }] }, 'statuses'],
  ])('reports %s GitHub does not document as malformed', async (_name, body, list) => {
    const empty = { total_count: 0, check_runs: [], state: 'pending', statuses: [] };
    server.use(
      http.get(`${baseUrl}/repos/${repo}/commits/${commit}/check-runs`, () =>
        HttpResponse.json(list === 'check_runs' ? { ...empty, ...body, total_count: 1 } : empty),
      ),
      http.get(`${baseUrl}/repos/${repo}/commits/${commit}/status`, () =>
        HttpResponse.json(list === 'statuses' ? { ...empty, ...body, total_count: 1 } : empty),
      ),
    );

    const error = await failure(tracker().readCi(repo, commit));

    expect(error).toMatchObject({ kind: 'malformed', status: 200 });
    expect(error.reason).toMatch(/^(status|conclusion|state): /);
  });

  it('answers rejected for a commit GitHub does not know (422)', async () => {
    const error = await failure(tracker().readCi(repo, sha('unknown')));

    expect(error).toMatchObject({ kind: 'rejected', status: 422 });
  });
});

const runBody = {
  id: 1,
  name: 'test',
  status: 'completed',
  conclusion: 'success',
  html_url: 'https://github.test/acme/app/runs/1',
  details_url: 'https://github.test/acme/app/runs/1',
  output: { title: null, summary: null },
};

const statusBody = {
  id: 1,
  context: 'ci',
  state: 'success',
  target_url: null,
  description: null,
};

describe('readDeployment', () => {
  const commit = sha('deployed');

  it('reads the latest status of the newest deployment of the commit to the environment', async () => {
    const older = fake.addDeployment(repo, { sha: commit, environment: 'production' });
    fake.addDeploymentStatus(repo, older, { state: 'failure' });
    const newer = fake.addDeployment(repo, { sha: commit, environment: 'production' });
    fake.addDeploymentStatus(repo, newer, { state: 'in_progress' });
    fake.addDeploymentStatus(repo, newer, {
      state: 'success',
      environmentUrl: 'https://app.example.test',
      logUrl: 'https://github.test/acme/app/actions/runs/9',
      createdAt: '2024-05-02T12:00:00Z',
    });
    fake.addDeployment(repo, { sha: commit, environment: 'staging' });

    const facts = await tracker().readDeployment(repo, commit, 'production');

    expect(facts).toEqual({
      sha: commit,
      environment: 'production',
      state: 'success',
      url: 'https://app.example.test',
      updatedAt: '2024-05-02T12:00:00Z',
    });
    expect(fake.requests.map(sent)).toEqual([
      {
        method: 'GET',
        path: '/repos/acme/app/deployments',
        query: { sha: commit, environment: 'production', per_page: '1' },
        body: undefined,
      },
      {
        method: 'GET',
        path: `/repos/acme/app/deployments/${newer}/statuses`,
        query: { per_page: '1' },
        body: undefined,
      },
    ]);
  });

  it('answers no state when the commit was never deployed to the environment', async () => {
    fake.addDeployment(repo, { sha: commit, environment: 'staging' });
    fake.addDeployment(repo, { sha: sha('other'), environment: 'production' });

    const facts = await tracker().readDeployment(repo, commit, 'production');

    expect(facts).toEqual({
      sha: commit,
      environment: 'production',
      state: null,
      url: null,
      updatedAt: null,
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('reads a deployment that has no status yet as pending', async () => {
    fake.addDeployment(repo, {
      sha: commit,
      environment: 'production',
      createdAt: '2024-05-02T11:00:00Z',
    });

    const facts = await tracker().readDeployment(repo, commit, 'production');

    expect(facts).toMatchObject({ state: 'pending', url: null, updatedAt: '2024-05-02T11:00:00Z' });
    expect(fake.requests).toHaveLength(2);
  });

  it.each([
    [
      'the environment URL',
      { environmentUrl: 'https://env.test', logUrl: 'https://log.test' },
      'https://env.test',
    ],
    [
      'the log URL when there is no environment URL',
      { logUrl: 'https://log.test' },
      'https://log.test',
    ],
    ['no URL when GitHub sends empty strings', {}, null],
  ])('links %s', async (_name, urls, url) => {
    const id = fake.addDeployment(repo, { sha: commit, environment: 'production' });
    fake.addDeploymentStatus(repo, id, { state: 'failure', ...urls });

    expect((await tracker().readDeployment(repo, commit, 'production')).url).toBe(url);
  });

  it('reports a deployment state GitHub does not document as malformed', async () => {
    const id = fake.addDeployment(repo, { sha: commit, environment: 'production' });
    server.use(
      http.get(`${baseUrl}/repos/${repo}/deployments/${id}/statuses`, () =>
        HttpResponse.json([{ id: 1, state: 'exploded', updated_at: '2024-05-02T11:00:00Z' }]),
      ),
    );

    const error = await failure(tracker().readDeployment(repo, commit, 'production'));

    expect(error).toMatchObject({
      kind: 'malformed',
      request: `GET /repos/acme/app/deployments/${id}/statuses`,
    });
    expect(error.reason).toMatch(/^0\.state: /);
  });
});

describe('evidence failures', () => {
  const commit = sha('c1');

  beforeEach(() => {
    fake.pushCommit(repo, 'main', commit);
    fake.addCheckRun(repo, commit, { name: 'test', status: 'queued' });
    fake.addDeploymentStatus(
      repo,
      fake.addDeployment(repo, { sha: commit, environment: 'production' }),
      { state: 'success' },
    );
  });

  const calls: Array<[string, RegExp, (github: Tracker) => Promise<unknown>]> = [
    ['findPullRequest', /\/pulls$/, (github) => github.findPullRequest(repo, 'afk/issue-1')],
    [
      'placeCommit (default branch)',
      /^\/repos\/acme\/app$/,
      (github) => github.placeCommit(repo, commit),
    ],
    ['readCi (check runs)', /\/check-runs$/, (github) => github.readCi(repo, commit)],
    ['readCi (statuses)', /\/status$/, (github) => github.readCi(repo, commit)],
    [
      'readDeployment (list)',
      /\/deployments$/,
      (github) => github.readDeployment(repo, commit, 'production'),
    ],
    [
      'readDeployment (status)',
      /\/statuses$/,
      (github) => github.readDeployment(repo, commit, 'production'),
    ],
  ];
  const answers: Array<[string, FakeFailure, string]> = [
    ['a 401', { status: 401, body: { message: 'Bad credentials' } }, 'auth'],
    ['a 404', { status: 404, body: { message: 'Not Found' } }, 'not-found'],
    ['a 503', { status: 503 }, 'transient'],
    ['a malformed 200', 'malformed', 'malformed'],
  ];

  it.each(
    calls.flatMap(([name, path, call]) =>
      answers.map(([what, answer, kind]) => ({ name, path, call, what, answer, kind })),
    ),
  )('$name maps $what to $kind', async ({ path, call, answer, kind }) => {
    fake.failNext({ path }, answer);

    const error = await failure(call(tracker()));

    expect(error.kind).toBe(kind);
    expect(error.request).toMatch(/^GET \/repos\/acme\/app/);
  });

  it('names an unknown repository as not-found on every read', async () => {
    const results = await Promise.allSettled([
      tracker().findPullRequest('acme/gone', 'afk/issue-1'),
      tracker().placeCommit('acme/gone', commit),
      tracker().readCi('acme/gone', commit),
      tracker().readDeployment('acme/gone', commit, 'production'),
    ]);

    expect(results.map((r) => r.status === 'rejected' && (r.reason as TrackerError).kind)).toEqual([
      'not-found',
      'not-found',
      'not-found',
      'not-found',
    ]);
  });
});

describe('the GitHub fake: evidence for watch', () => {
  const get = async (path: string) => {
    const response = await fetch(`${baseUrl}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('lists every pull request when head is a bare branch name, as GitHub does', async () => {
    fake.addPullRequest(repo, { head: 'afk/issue-1', headSha: sha('a') });
    fake.addPullRequest(repo, { head: 'afk/issue-2', headSha: sha('b') });

    const bare = await get('/repos/acme/app/pulls?head=afk/issue-1');
    const owned = await get('/repos/acme/app/pulls?head=acme:afk/issue-1');

    expect((bare.body as unknown[]).length).toBe(2);
    expect((owned.body as Array<{ head: { label: string } }>).map((p) => p.head.label)).toEqual([
      'acme:afk/issue-1',
    ]);
  });

  it('fills merge_commit_sha with a test merge while a pull request is open', async () => {
    const number = fake.addPullRequest(repo, { head: 'afk/issue-1', headSha: sha('a') });

    const { body } = await get(`/repos/acme/app/pulls?state=all`);

    expect(body).toMatchObject([
      { number, merged_at: null, merge_commit_sha: expect.stringMatching(/^[0-9a-f]{40}$/) },
    ]);
  });

  it('numbers pull requests with the issues and lists them among the issues', async () => {
    fake.addIssue(repo, { number: 1, title: 'x' });
    const number = fake.addPullRequest(repo, { head: 'afk/issue-1', headSha: sha('a') });

    const { body } = await get('/repos/acme/app/issues');

    expect(number).toBe(2);
    expect(
      (body as Array<{ number: number; pull_request?: unknown }>).map((i) => [
        i.number,
        'pull_request' in i,
      ]),
    ).toEqual([
      [2, true],
      [1, false],
    ]);
  });

  it.each<[string, Array<'pending' | 'success' | 'failure' | 'error'>, string]>([
    ['no statuses at all', [], 'pending'],
    ['all successful', ['success', 'success'], 'success'],
    ['one pending', ['success', 'pending'], 'pending'],
    ['one error', ['success', 'error'], 'failure'],
    ['a failure beside a pending', ['failure', 'pending'], 'failure'],
  ])('computes the combined state of %s as GitHub does', async (_name, states, state) => {
    states.forEach((s, i) => fake.addStatus(repo, sha('c'), { context: `ctx-${i}`, state: s }));
    if (states.length === 0) fake.addCheckRun(repo, sha('c'), { name: 'test', status: 'queued' });

    const { body } = await get(`/repos/acme/app/commits/${sha('c')}/status`);

    expect(body).toMatchObject({ state, total_count: states.length });
  });

  it('keeps re-runs in the list with filter=all', async () => {
    fake.addCheckRun(repo, sha('c'), { name: 'test', status: 'completed', conclusion: 'failure' });
    fake.addCheckRun(repo, sha('c'), { name: 'test', status: 'queued' });

    const all = await get(`/repos/acme/app/commits/${sha('c')}/check-runs?filter=all`);
    const latest = await get(`/repos/acme/app/commits/${sha('c')}/check-runs`);

    expect(all.body).toMatchObject({ total_count: 2 });
    expect(latest.body).toMatchObject({ total_count: 1, check_runs: [{ status: 'queued' }] });
  });

  it('compares along the history and names no common ancestor with 404', async () => {
    fake.pushCommit(repo, 'main', sha('c1'));
    fake.pushCommit(repo, 'main', sha('c2'));
    fake.pushCommit(repo, 'orphan', sha('o1'), { parents: [] });

    const ahead = await get(`/repos/acme/app/compare/${sha('c1')}...main`);
    const unrelated = await get(`/repos/acme/app/compare/${sha('o1')}...main`);

    expect(ahead.body).toMatchObject({
      status: 'ahead',
      ahead_by: 1,
      behind_by: 0,
      total_commits: 1,
      merge_base_commit: { sha: sha('c1') },
      commits: [{ sha: sha('c2') }],
    });
    expect(unrelated).toMatchObject({
      status: 404,
      body: { message: `No common ancestor between ${sha('o1')} and main.` },
    });
  });

  it('puts the merge commit of a merged pull request on the default branch', async () => {
    fake.pushCommit(repo, 'main', sha('base'));
    const number = fake.addPullRequest(repo, { head: 'afk/issue-1', headSha: sha('head') });
    fake.mergePullRequest(repo, number, sha('merge'));

    const { body } = await get(`/repos/acme/app/compare/${sha('head')}...main`);

    expect(body).toMatchObject({ status: 'ahead', commits: [{ sha: sha('merge') }] });
  });

  it('sends empty strings for the deployment status URLs it was not given', async () => {
    const id = fake.addDeployment(repo, { sha: sha('c'), environment: 'production' });
    fake.addDeploymentStatus(repo, id, { state: 'success' });

    const { body } = await get(`/repos/acme/app/deployments/${id}/statuses`);

    expect(body).toMatchObject([{ environment_url: '', log_url: '', target_url: '' }]);
  });

  it.each([
    [
      'check runs of a commit it does not know',
      `/repos/acme/app/commits/${sha('x')}/check-runs`,
      422,
    ],
    [
      'the statuses of a deployment it does not know',
      '/repos/acme/app/deployments/1/statuses',
      404,
    ],
    ['an unimplemented pulls filter', '/repos/acme/app/pulls?milestone=1', 501],
    ['an unimplemented check runs filter', `/repos/acme/app/commits/main/check-runs?app_id=1`, 501],
    ['an unknown pull request state', '/repos/acme/app/pulls?state=merged', 422],
  ])('refuses %s', async (_name, path, status) => {
    fake.pushCommit(repo, 'main', sha('c1'));

    expect((await get(path)).status).toBe(status);
  });

  it('requires a conclusion to complete a check run, as GitHub does', () => {
    expect(() => fake.addCheckRun(repo, sha('c'), { name: 'test', status: 'completed' })).toThrow(
      /conclusion/,
    );
  });
});

describe('getRepoAccess', () => {
  it.each([
    ['write', { admin: false, maintain: false, push: true, triage: true, pull: true }],
    ['maintain', { admin: false, maintain: true, push: true, triage: true, pull: true }],
    ['triage', { admin: false, maintain: false, push: false, triage: true, pull: true }],
  ] as const)('reads the token’s %s role from GET /repos/{o}/{r}', async (role, permissions) => {
    fake.addRepo('acme/role', { collaborators: { 'afk-bot': role } });

    expect(await tracker().getRepoAccess('acme/role')).toEqual(permissions);
    expect(fake.requests.map(sent)).toEqual([
      { method: 'GET', path: '/repos/acme/role', query: {}, body: undefined },
    ]);
  });

  it('says nothing when the answer carries no permissions (an App installation token)', async () => {
    server.use(
      http.get(`${baseUrl}/repos/acme/app`, () =>
        HttpResponse.json({ id: 1, full_name: 'acme/app', default_branch: 'main' }),
      ),
    );

    expect(await tracker().getRepoAccess(repo)).toBeNull();
  });

  it('wraps a 404 into a TrackerError without the token', async () => {
    const error = await failure(tracker().getRepoAccess('acme/gone'));

    expect(error).toMatchObject({
      kind: 'not-found',
      status: 404,
      request: 'GET /repos/acme/gone',
    });
    expect(inspect(error)).not.toContain(token);
  });
});

describe('listRepoLabels', () => {
  it('lists every label of the repository across pages', async () => {
    const names = Array.from({ length: 130 }, (_, i) => `label-${i}`);
    fake.addRepo('acme/many', { labels: names });

    expect(await tracker().listRepoLabels('acme/many')).toEqual(names);
    expect(fake.requests.map((r) => `${r.path}${r.search}`)).toEqual([
      '/repos/acme/many/labels?per_page=100',
      expect.stringMatching(/^\/repositories\/\d+\/labels\?per_page=100&page=2$/),
    ]);
  });
});

describe('createLabel', () => {
  const label = { name: 'agent-in-progress', color: '1d76db', description: 'An afk run owns it' };

  it('sends name, colour and description, and GitHub answers 201', async () => {
    await tracker().createLabel(repo, label);

    expect(fake.writes().map(sent)).toEqual([
      { method: 'POST', path: '/repos/acme/app/labels', query: {}, body: label },
    ]);
    expect(await tracker().listRepoLabels(repo)).toEqual(['agent-in-progress']);
  });

  it('treats 422 already_exists (any case) as done', async () => {
    fake.addRepo('acme/has', { labels: ['Agent-In-Progress'] });

    await expect(tracker().createLabel('acme/has', label)).resolves.toBeUndefined();
    expect(await tracker().listRepoLabels('acme/has')).toEqual(['Agent-In-Progress']);
  });

  it('surfaces other refusals: an invalid colour, a token without push', async () => {
    const invalid = await failure(tracker().createLabel(repo, { ...label, color: '#1d76db' }));
    expect(invalid).toMatchObject({
      kind: 'rejected',
      status: 422,
      reason: 'Validation Failed: color invalid',
    });

    fake.addRepo('acme/ro', { collaborators: { 'afk-bot': 'read' } });
    const forbidden = await failure(tracker().createLabel('acme/ro', label));
    expect(forbidden).toMatchObject({ kind: 'forbidden', status: 403 });
  });
});

// Claims for overlapping ticks: a reaction is the forges' one atomic test-and-set.
// https://docs.github.com/en/rest/reactions/reactions#create-reaction-for-an-issue-comment
describe('comment claims', () => {
  let id: number;
  beforeEach(() => {
    fake.addIssue(repo, { number: 6, title: 'claimed' });
    id = fake.addComment(repo, 6, { author: 'afk-bot', body: 'the record' });
  });

  it('reads one comment by id, and null for one that is gone', async () => {
    await expect(tracker().getComment(repo, id)).resolves.toEqual({
      id,
      author: 'afk-bot',
      body: 'the record',
      createdAt: expect.any(String),
    });
    fake.deleteComment(repo, id);
    await expect(tracker().getComment(repo, id)).resolves.toBeNull();
    expect(fake.requests.map(sent)).toEqual([
      { method: 'GET', path: `/repos/acme/app/issues/comments/${id}`, query: {}, body: undefined },
      { method: 'GET', path: `/repos/acme/app/issues/comments/${id}`, query: {}, body: undefined },
    ]);
  });

  it('deletes a comment by id, and treats one already gone as deleted', async () => {
    await tracker().deleteComment(repo, id);
    expect(fake.issue(repo, 6).comments).toEqual([]);
    await expect(tracker().deleteComment(repo, id)).resolves.toBeUndefined();
    expect(fake.writes().map(sent)).toEqual([
      {
        method: 'DELETE',
        path: `/repos/acme/app/issues/comments/${id}`,
        query: {},
        body: undefined,
      },
      {
        method: 'DELETE',
        path: `/repos/acme/app/issues/comments/${id}`,
        query: {},
        body: undefined,
      },
    ]);
  });

  it('acquires with 201, and reports the holder’s claim on the 200 that follows', async () => {
    const first = await tracker().claimComment(repo, id);
    const second = await tracker().claimComment(repo, id);

    expect(first).toEqual({
      acquired: true,
      reactionId: expect.any(Number),
      claimedAt: expect.any(String),
    });
    expect(second).toEqual({ ...first, acquired: false });
    expect(fake.reactions(repo, id)).toEqual({ eyes: ['afk-bot'] });
    const claim = {
      method: 'POST',
      path: `/repos/acme/app/issues/comments/${id}/reactions`,
      query: {},
      body: { content: 'eyes' },
    };
    expect(fake.writes().map(sent)).toEqual([claim, claim]);
  });

  it('lets exactly one of many concurrent claims acquire', async () => {
    const claims = await Promise.all(
      Array.from({ length: 6 }, () => tracker().claimComment(repo, id)),
    );
    expect(claims.filter((c) => c.acquired)).toHaveLength(1);
    expect(new Set(claims.map((c) => c.reactionId)).size).toBe(1);
  });

  it('releases by the reaction’s id, so that the claim can be taken again', async () => {
    const held = await tracker().claimComment(repo, id);
    await tracker().releaseClaim(repo, id, held);
    expect(fake.reactions(repo, id)).toEqual({});
    const again = await tracker().claimComment(repo, id);
    expect(again.acquired).toBe(true);
    expect(again.reactionId).not.toBe(held.reactionId);
    expect(fake.writes().map(sent)[1]).toEqual({
      method: 'DELETE',
      path: `/repos/acme/app/issues/comments/${id}/reactions/${held.reactionId}`,
      query: {},
      body: undefined,
    });
  });

  it('never removes a newer claim when releasing one already gone', async () => {
    const stale = await tracker().claimComment(repo, id);
    await tracker().releaseClaim(repo, id, stale);
    const newer = await tracker().claimComment(repo, id);

    await expect(tracker().releaseClaim(repo, id, stale)).resolves.toBeUndefined();

    expect(fake.reactions(repo, id)).toEqual({ eyes: ['afk-bot'] });
    expect((await tracker().claimComment(repo, id)).reactionId).toBe(newer.reactionId);
  });

  it('never retries a claim: a retry could take its own claim for another tick’s', async () => {
    fake.failNext({ method: 'POST' }, { status: 502 });

    const error = await failure(
      tracker({ retries: 2, maxRetryWaitSeconds: 0 }).claimComment(repo, id),
    );

    expect(error).toMatchObject({ kind: 'transient', status: 502 });
    expect(fake.requests).toHaveLength(1);
  });

  it('reports a claim on a comment that is gone as not found', async () => {
    fake.deleteComment(repo, id);
    const error = await failure(tracker().claimComment(repo, id));
    expect(error).toMatchObject({
      kind: 'not-found',
      status: 404,
      request: `POST /repos/acme/app/issues/comments/${id}/reactions`,
    });
  });

  it('reports a claim answered with something other than a reaction as malformed', async () => {
    fake.failNext({ method: 'POST' }, 'malformed');
    const error = await failure(tracker().claimComment(repo, id));
    expect(error).toMatchObject({ kind: 'malformed', status: 200 });
  });
});

describe('conversations', () => {
  const head = sha('h1');
  let pr: number;
  beforeEach(() => {
    fake.pushCommit(repo, 'main', sha('m1'));
    pr = fake.addPullRequest(repo, { head: 'afk/issue-1', headSha: head });
  });

  describe('readMergeability', () => {
    it('answers null on the first read after a move, then the computed state', async () => {
      fake.setConflict(repo, pr, true);
      const first = await tracker().readMergeability(repo, pr);
      const second = await tracker().readMergeability(repo, pr);

      expect(first).toEqual({
        mergeable: null,
        state: 'unknown',
        headSha: head,
        baseSha: sha('m1'),
      });
      expect(second).toEqual({
        mergeable: false,
        state: 'dirty',
        headSha: head,
        baseSha: sha('m1'),
      });
      expect(fake.requests.map(sent)).toEqual([
        { method: 'GET', path: `/repos/acme/app/pulls/${pr}`, query: {}, body: undefined },
        { method: 'GET', path: `/repos/acme/app/pulls/${pr}`, query: {}, body: undefined },
      ]);
    });

    it('reads the moved base sha, and clean once computed', async () => {
      const base = fake.advanceBase(repo, pr);
      await tracker().readMergeability(repo, pr);

      await expect(tracker().readMergeability(repo, pr)).resolves.toEqual({
        mergeable: true,
        state: 'clean',
        headSha: head,
        baseSha: base,
      });
    });

    it.each<[string, FakeFailure, string]>([
      ['a 404', { status: 404, body: { message: 'Not Found' } }, 'not-found'],
      ['a 502', { status: 502 }, 'transient'],
      ['a malformed 200', 'malformed', 'malformed'],
    ])('maps %s to %s', async (_what, answer, kind) => {
      fake.failNext({ path: `/repos/acme/app/pulls/${pr}` }, answer);
      const error = await failure(tracker().readMergeability(repo, pr));
      expect(error.kind).toBe(kind);
      expect(error.request).toBe(`GET /repos/acme/app/pulls/${pr}`);
    });

    it('reports a pull request GitHub does not know as not-found', async () => {
      expect((await failure(tracker().readMergeability(repo, 99))).kind).toBe('not-found');
    });
  });

  describe('readReviewFeedback', () => {
    it('reads reviews, review comments and the conversation, in that order', async () => {
      const review = fake.addReview(repo, pr, {
        author: 'maintainer',
        state: 'changes-requested',
        body: 'Please rename.',
        comments: [{ path: 'src/a.ts', line: 12, body: 'Call it `total`.' }],
      });
      const approval = fake.addReview(repo, pr, { author: 'alice', state: 'approved' });
      const comment = fake.addPullComment(repo, pr, 'bob', 'Also the README.');

      const feedback = await tracker().readReviewFeedback(repo, pr);

      expect(feedback).toEqual({
        reviews: [
          {
            id: review.id,
            author: 'maintainer',
            state: 'changes-requested',
            body: 'Please rename.',
            commitSha: head,
            submittedAt: expect.any(String),
          },
          {
            id: approval.id,
            author: 'alice',
            state: 'approved',
            body: '',
            commitSha: head,
            submittedAt: expect.any(String),
          },
        ],
        reviewComments: [
          {
            id: expect.any(Number),
            reviewId: review.id,
            author: 'maintainer',
            path: 'src/a.ts',
            line: 12,
            body: 'Call it `total`.',
            createdAt: expect.any(String),
          },
        ],
        comments: [
          {
            id: comment.id,
            author: 'bob',
            body: 'Also the README.',
            createdAt: expect.any(String),
          },
        ],
      });
      const q = { per_page: '100' };
      expect(fake.requests.map(sent)).toEqual([
        { method: 'GET', path: `/repos/acme/app/pulls/${pr}/reviews`, query: q, body: undefined },
        { method: 'GET', path: `/repos/acme/app/pulls/${pr}/comments`, query: q, body: undefined },
        { method: 'GET', path: `/repos/acme/app/issues/${pr}/comments`, query: q, body: undefined },
      ]);
    });

    it.each([
      ['commented', 'commented'],
      ['dismissed', 'dismissed'],
    ] as const)('maps a %s review', async (state, expected) => {
      fake.addReview(repo, pr, { author: 'alice', state, body: 'text' });
      const { reviews } = await tracker().readReviewFeedback(repo, pr);
      expect(reviews.map((r) => r.state)).toEqual([expected]);
    });

    it('never sees another reviewer’s pending review or its comments', async () => {
      fake.addReview(repo, pr, {
        author: 'alice',
        state: 'pending',
        comments: [{ path: 'a.ts', line: 1, body: 'draft' }],
      });
      await expect(tracker().readReviewFeedback(repo, pr)).resolves.toEqual({
        reviews: [],
        reviewComments: [],
        comments: [],
      });
    });

    it('reads 150 reviews and 150 review comments across pages', async () => {
      for (let n = 0; n < 150; n++) {
        fake.addReview(repo, pr, {
          author: 'alice',
          state: 'commented',
          comments: [{ path: 'a.ts', line: n + 1, body: `#${n}` }],
        });
      }
      const feedback = await tracker().readReviewFeedback(repo, pr);
      expect(feedback.reviews).toHaveLength(150);
      expect(feedback.reviewComments.map((c) => c.line)).toEqual(
        Array.from({ length: 150 }, (_, n) => n + 1),
      );
      expect(fake.requests).toHaveLength(5);
    });

    it('maps a comment whose line left the diff to line null, and a ghost to author null', async () => {
      server.use(
        http.get(`${baseUrl}/repos/${repo}/pulls/${pr}/comments`, () =>
          HttpResponse.json([
            {
              id: 7,
              pull_request_review_id: null,
              user: null,
              path: 'a.ts',
              line: null,
              body: 'outdated',
              created_at: '2024-05-01T10:00:00Z',
            },
          ]),
        ),
      );
      const { reviewComments } = await tracker().readReviewFeedback(repo, pr);
      expect(reviewComments).toEqual([
        {
          id: 7,
          reviewId: null,
          author: null,
          path: 'a.ts',
          line: null,
          body: 'outdated',
          createdAt: '2024-05-01T10:00:00Z',
        },
      ]);
    });

    it('reports a review state GitHub does not document as malformed', async () => {
      server.use(
        http.get(`${baseUrl}/repos/${repo}/pulls/${pr}/reviews`, () =>
          HttpResponse.json([
            { id: 1, user: null, body: '', state: 'SHRUGGED', commit_id: null, submitted_at: null },
          ]),
        ),
      );
      const error = await failure(tracker().readReviewFeedback(repo, pr));
      expect(error.kind).toBe('malformed');
      expect(error.reason).toMatch(/^state:/);
    });

    it.each<[RegExp, FakeFailure, string]>([
      [/\/pulls\/\d+\/reviews$/, { status: 404 }, 'not-found'],
      [/\/pulls\/\d+\/comments$/, { status: 500 }, 'transient'],
      [/\/issues\/\d+\/comments$/, 'malformed', 'malformed'],
    ])('maps a failure of %s to %s', async (path, answer, kind) => {
      fake.failNext({ path }, answer);
      expect((await failure(tracker().readReviewFeedback(repo, pr))).kind).toBe(kind);
    });
  });

  describe('reactToComment', () => {
    it('reacts with 201, and takes the 200 for a reaction already there as done', async () => {
      const { id } = fake.addPullComment(repo, pr, 'maintainer', '/afk answer yes');

      await tracker().reactToComment(repo, id, '+1');
      await tracker().reactToComment(repo, id, '+1');
      await tracker().reactToComment(repo, id, 'confused');

      expect(fake.reactions(repo, id)).toEqual({ '+1': ['afk-bot'], confused: ['afk-bot'] });
      const path = `/repos/acme/app/issues/comments/${id}/reactions`;
      expect(fake.writes().map(sent)).toEqual([
        { method: 'POST', path, query: {}, body: { content: '+1' } },
        { method: 'POST', path, query: {}, body: { content: '+1' } },
        { method: 'POST', path, query: {}, body: { content: 'confused' } },
      ]);
    });

    it('retries a 5xx: a reaction is idempotent', async () => {
      const { id } = fake.addPullComment(repo, pr, 'maintainer', '/afk stop');
      fake.failNext({ method: 'POST' }, { status: 502 });

      await tracker({ retries: 1, maxRetryWaitSeconds: 0 }).reactToComment(repo, id, '+1');

      expect(fake.reactions(repo, id)).toEqual({ '+1': ['afk-bot'] });
      expect(fake.writes()).toHaveLength(2);
    });

    it('reports a comment that is gone as not-found, and a foreign answer as malformed', async () => {
      expect((await failure(tracker().reactToComment(repo, 424242, '+1'))).kind).toBe('not-found');
      const { id } = fake.addPullComment(repo, pr, 'maintainer', '/afk stop');
      fake.failNext({ method: 'POST' }, { status: 200, body: { id: 1, content: 'eyes' } });
      expect((await failure(tracker().reactToComment(repo, id, '+1'))).kind).toBe('malformed');
    });
  });
});
