// The Forgejo tracker against the strict Forgejo fake, through msw: every method, the exact
// requests it sends (method, path, query, body), and every failure class.
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createForgejoTracker, type ForgejoTrackerOptions } from '../../src/adapters/forgejo.js';
import { ConfigError, TrackerError } from '../../src/core/errors.js';
import type { Tracker } from '../../src/core/ports.js';
import { createForgejoFake, type FakeFailure, type ForgejoFake } from '../../emulators/forgejo.js';
import { rejectionOf } from '../support/rejection.js';

const baseUrl = 'https://forgejo.test/api/v1';
const token = 'forgejo-test-token';
const repo = 'acme/app';
const sha = (seed: string) => createHash('sha1').update(seed).digest('hex');

const server = setupServer();
let fake: ForgejoFake;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  fake = createForgejoFake({ baseUrl, token });
  server.use(...fake.handlers);
  fake.addRepo(repo, { collaborators: { maintainer: 'maintain' } });
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const tracker = (overrides: Partial<ForgejoTrackerOptions> = {}): Tracker =>
  createForgejoTracker({
    apiUrl: baseUrl,
    token: () => Promise.resolve(token),
    throttle: false,
    retries: 0,
    ...overrides,
  });

/** The request as the assertions compare it. */
const sent = ({ method, path, query, body }: ForgejoFake['requests'][number]) => ({
  method,
  path,
  query,
  body,
});

const get = (path: string, query: Record<string, string> = {}) => ({
  method: 'GET',
  path,
  query,
  body: undefined,
});

const page = (n: number) => ({ limit: '50', page: String(n) });

/** The two reads that resolve label names: the repository's labels and its organisation's. */
const labelReads = [get('/repos/acme/app/labels', page(1)), get('/orgs/acme/labels', page(1))];

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
    fake.addIssue(repo, { number: 2, title: 'Unlabelled' });
    fake.addIssue(repo, { number: 3, title: 'Done', labels: ['ready-for-agent'], state: 'closed' });

    const issues = await tracker().listLabelledIssues(repo, 'ready-for-agent', 'open');

    expect(issues).toEqual([
      {
        repo,
        number: 1,
        title: 'Fix the build',
        body: 'It is red.',
        labels: ['P1', 'ready-for-agent'],
        state: 'open',
        author: 'alice',
        createdAt: '2024-05-01T10:00:00Z',
        url: 'https://forgejo.test/acme/app/issues/1',
      },
    ]);
    expect(fake.requests.map(sent)).toEqual([
      get('/repos/acme/app/issues', {
        state: 'open',
        type: 'issues',
        labels: 'ready-for-agent',
        ...page(1),
      }),
    ]);
  });

  it('includes closed issues when asked for all', async () => {
    fake.addIssue(repo, { number: 1, title: 'Open', labels: ['afk'] });
    fake.addIssue(repo, { number: 2, title: 'Closed', labels: ['afk'], state: 'closed' });

    const issues = await tracker().listLabelledIssues(repo, 'afk', 'all');

    expect(issues.map((i) => [i.number, i.state])).toEqual([
      [2, 'closed'],
      [1, 'open'],
    ]);
    expect(fake.requests[0]?.query).toMatchObject({ state: 'all', type: 'issues' });
  });

  it('drops a pull request the server lists anyway', async () => {
    fake.addPullRequest(repo, { head: 'feature', headSha: sha('f1') });
    fake.addIssue(repo, { number: 2, title: 'x', labels: ['afk'] });
    server.use(
      http.get(`${baseUrl}/repos/${repo}/issues`, () =>
        HttpResponse.json(
          [
            { number: 1, title: 'PR', body: '', labels: [{ id: 1, name: 'afk' }], state: 'open' },
            { number: 2, title: 'x', body: '', labels: [{ id: 1, name: 'afk' }], state: 'open' },
          ].map((item, i) => ({
            ...item,
            user: { login: 'a' },
            created_at: '2024-05-01T10:00:00Z',
            html_url: `https://forgejo.test/acme/app/issues/${i + 1}`,
            pull_request: i === 0 ? { merged: false } : null,
          })),
          { headers: { 'x-total-count': '2' } },
        ),
      ),
    );

    const issues = await tracker().listLabelledIssues(repo, 'afk', 'open');

    expect(issues.map((i) => i.number)).toEqual([2]);
  });

  it.each([
    [1, 1],
    [50, 1],
    [51, 2],
    [120, 3],
  ])('reads all %i issues in %i request(s), following X-Total-Count', async (count, requests) => {
    for (let n = 1; n <= count; n++) fake.addIssue(repo, { title: `#${n}`, labels: ['afk'] });

    const issues = await tracker().listLabelledIssues(repo, 'afk', 'open');

    expect(issues).toHaveLength(count);
    expect(new Set(issues.map((i) => i.number)).size).toBe(count);
    expect(fake.requests.map((r) => r.query['page'])).toEqual(
      Array.from({ length: requests }, (_, i) => String(i + 1)),
    );
  });

  it('keeps only the labelled issues when Forgejo drops the filter (an organisation label)', async () => {
    fake.addOrgLabel('acme', 'ready-for-agent');
    fake.addIssue(repo, { number: 1, title: 'ready', labels: ['ready-for-agent'] });
    fake.addIssue(repo, { number: 2, title: 'not ready' });

    const issues = await tracker().listLabelledIssues(repo, 'ready-for-agent', 'open');

    expect(issues.map((i) => i.number)).toEqual([1]);
  });

  it('lists nothing for a label no issue carries, though Forgejo then lists every issue', async () => {
    fake.addIssue(repo, { number: 1, title: 'x', labels: ['other'] });

    expect(await tracker().listLabelledIssues(repo, 'ready-for-agent', 'open')).toEqual([]);
  });

  it('reports an item without a number as malformed', async () => {
    server.use(
      http.get(`${baseUrl}/repos/${repo}/issues`, () =>
        HttpResponse.json([{ title: 'no number' }], { headers: { 'x-total-count': '1' } }),
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

  it('reports an X-Total-Count that is not a count as malformed', async () => {
    server.use(
      http.get(`${baseUrl}/repos/${repo}/issues`, () =>
        HttpResponse.json([], { headers: { 'x-total-count': 'many' } }),
      ),
    );

    const error = await failure(tracker().listLabelledIssues(repo, 'afk', 'open'));

    expect(error).toMatchObject({ kind: 'malformed', reason: 'X-Total-Count is not a count' });
  });

  it('stops after 100 pages of a list that never ends', async () => {
    let pages = 0;
    // Full pages whose count is never reached: only the page limit ends them.
    server.use(
      http.get(`${baseUrl}/repos/${repo}/issues`, () => {
        pages += 1;
        return HttpResponse.json(
          Array.from({ length: 50 }, (_, i) => ({
            number: i + 1,
            title: 'x',
            body: '',
            labels: [],
            state: 'open',
            user: null,
            created_at: '2024-05-01T10:00:00Z',
            html_url: 'https://forgejo.test/acme/app/issues/1',
            pull_request: null,
          })),
          { headers: { 'x-total-count': '1000000' } },
        );
      }),
    );

    const error = await failure(tracker().listLabelledIssues(repo, 'afk', 'open'));

    expect(error).toMatchObject({ kind: 'malformed', reason: 'more than 100 pages' });
    expect(pages).toBe(100);
  });

  it('ends a list at a short page when the server sends no X-Total-Count', async () => {
    server.use(http.get(`${baseUrl}/repos/${repo}/issues`, () => HttpResponse.json([])));

    expect(await tracker().listLabelledIssues(repo, 'afk', 'open')).toEqual([]);
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
    expect(fake.requests.map(sent)).toEqual([get('/repos/acme/app/issues/7/comments')]);
  });

  it('reads 120 comments in one request with no paging parameters: the route has none', async () => {
    fake.addIssue(repo, { number: 7, title: 'x' });
    for (let n = 0; n < 120; n++) fake.addComment(repo, 7, { author: 'alice', body: `#${n}` });

    expect(await tracker().listComments({ repo, number: 7 })).toHaveLength(120);
    expect(fake.requests.map(sent)).toEqual([get('/repos/acme/app/issues/7/comments')]);
  });
});

describe('listLabelEvents', () => {
  it('keeps label rows of the timeline: added ("1") and removed (""), with actor', async () => {
    fake.addIssue(repo, {
      number: 3,
      title: 'x',
      labeledBy: { 'ready-for-agent': 'maintainer' },
      createdAt: '2024-05-01T10:00:00Z',
    });
    fake.addComment(repo, 3, { author: 'alice', body: 'a comment is a timeline row too' });
    fake.unlabelIssue(repo, 3, 'ready-for-agent', 'alice');
    fake.setIssueState(repo, 3, 'closed', 'alice');

    const events = await tracker().listLabelEvents({ repo, number: 3 });

    expect(events).toEqual([
      {
        action: 'labeled',
        label: 'ready-for-agent',
        actor: 'maintainer',
        createdAt: '2024-05-01T10:00:00Z',
      },
      {
        action: 'unlabeled',
        label: 'ready-for-agent',
        actor: 'alice',
        createdAt: expect.any(String),
      },
    ]);
    // The whole timeline in one request: paged, its X-Total-Count would count one page only.
    expect(fake.requests.map(sent)).toEqual([get('/repos/acme/app/issues/3/timeline')]);
  });

  it('skips a row whose label was deleted since (label: null)', async () => {
    server.use(
      http.get(`${baseUrl}/repos/${repo}/issues/3/timeline`, () =>
        HttpResponse.json([
          { type: 'label', body: '1', user: { login: 'a' }, label: null, created_at: 't1' },
          {
            type: 'label',
            body: '1',
            user: { login: 'b' },
            label: { name: 'x' },
            created_at: 't2',
          },
        ]),
      ),
    );

    const events = await tracker().listLabelEvents({ repo, number: 3 });

    expect(events).toEqual([{ action: 'labeled', label: 'x', actor: 'b', createdAt: 't2' }]);
  });

  it('reports a label row without its fields as malformed', async () => {
    server.use(
      http.get(`${baseUrl}/repos/${repo}/issues/3/timeline`, () =>
        HttpResponse.json([{ type: 'label', user: { login: 'a' } }]),
      ),
    );

    const error = await failure(tracker().listLabelEvents({ repo, number: 3 }));

    expect(error).toMatchObject({
      kind: 'malformed',
      request: 'GET /repos/acme/app/issues/3/timeline',
    });
  });
});

describe('getPermission', () => {
  beforeEach(() => {
    fake.addUser('owner');
    fake.addRepo('owner/home', {
      collaborators: { 'afk-bot': 'admin', maintainer: 'maintain', reader: 'read' },
    });
    fake.addIssue('owner/home', { number: 1, title: 'x', author: 'stranger' });
  });

  it.each([
    ['owner', 'admin'],
    ['afk-bot', 'admin'],
    ['maintainer', 'write'],
    ['reader', 'read'],
    ['stranger', 'none'],
  ])('reads %s as %s', async (login, permission) => {
    expect(await tracker().getPermission('owner/home', login)).toBe(permission);
    expect(fake.requests.map(sent)).toEqual([
      get(`/repos/owner/home/collaborators/${login}/permission`),
    ]);
  });

  it('answers none for a login Forgejo does not know (404)', async () => {
    expect(await tracker().getPermission('owner/home', 'ghost')).toBe('none');
  });

  it('reads a 404 by its status, whatever its body', async () => {
    server.use(
      http.get(`${baseUrl}/repos/owner/home/collaborators/ghost/permission`, () =>
        HttpResponse.text('<html>Not Found</html>', { status: 404 }),
      ),
    );

    expect(await tracker().getPermission('owner/home', 'ghost')).toBe('none');
  });

  it('reports forbidden when the token is not a repository admin', async () => {
    const error = await failure(tracker().getPermission(repo, 'maintainer'));

    expect(error).toMatchObject({
      kind: 'forbidden',
      status: 403,
      request: 'GET /repos/acme/app/collaborators/maintainer/permission',
    });
    expect(error.reason).toMatch(/^Only admins can query all permissions/);
  });
});

describe('getSelfLogin', () => {
  it('asks GET /user once per tracker', async () => {
    const forgejo = tracker();

    expect(await forgejo.getSelfLogin()).toBe('afk-bot');
    expect(await forgejo.getSelfLogin()).toBe('afk-bot');
    expect(fake.requests.map(sent)).toEqual([get('/user')]);
  });

  it('answers the configured login without a request', async () => {
    expect(await tracker({ login: 'robot' }).getSelfLogin()).toBe('robot');
    expect(fake.requests).toEqual([]);
  });

  it('asks again after a failed lookup', async () => {
    const forgejo = tracker();
    fake.failNext({ path: '/user' }, { status: 502 });

    await expect(forgejo.getSelfLogin()).rejects.toMatchObject({ kind: 'transient' });
    expect(await forgejo.getSelfLogin()).toBe('afk-bot');
    expect(fake.requests).toHaveLength(2);
  });
});

describe('comments', () => {
  beforeEach(() => {
    fake.addIssue(repo, { number: 5, title: 'x' });
  });

  it('creates a comment and returns its id', async () => {
    const { id } = await tracker().createComment({ repo, number: 5 }, 'hello');

    expect(fake.issue(repo, 5).comments).toEqual([{ id, author: 'afk-bot', body: 'hello' }]);
    expect(fake.requests.map(sent)).toEqual([
      {
        method: 'POST',
        path: '/repos/acme/app/issues/5/comments',
        query: {},
        body: { body: 'hello' },
      },
    ]);
    expect(fake.requests[0]?.headers['content-type']).toMatch(/^application\/json/);
  });

  it('never retries creating a comment: a retry could post it twice', async () => {
    fake.failNext({ method: 'POST' }, { status: 502 });

    const error = await failure(
      tracker({ retries: 2, maxRetryWaitSeconds: 0 }).createComment({ repo, number: 5 }, 'x'),
    );

    expect(error).toMatchObject({ kind: 'transient', status: 502 });
    expect(fake.requests).toHaveLength(1);
  });

  it('updates a comment by id', async () => {
    const id = fake.addComment(repo, 5, { author: 'afk-bot', body: 'old' });

    await tracker().updateComment(repo, id, 'new');

    expect(fake.issue(repo, 5).comments).toEqual([{ id, author: 'afk-bot', body: 'new' }]);
    expect(fake.requests.map(sent)).toEqual([
      {
        method: 'PATCH',
        path: `/repos/acme/app/issues/comments/${id}`,
        query: {},
        body: { body: 'new' },
      },
    ]);
  });

  it('gets one comment by id, and null once it is gone', async () => {
    const id = fake.addComment(repo, 5, {
      author: 'afk-bot',
      body: 'record',
      createdAt: '2024-05-01T10:00:00Z',
    });
    const forgejo = tracker();

    expect(await forgejo.getComment(repo, id)).toEqual({
      id,
      author: 'afk-bot',
      body: 'record',
      createdAt: '2024-05-01T10:00:00Z',
    });
    fake.deleteComment(repo, id);
    expect(await forgejo.getComment(repo, id)).toBeNull();
    expect(fake.requests.map(sent)).toEqual([
      get(`/repos/acme/app/issues/comments/${id}`),
      get(`/repos/acme/app/issues/comments/${id}`),
    ]);
  });

  it('deletes a comment, and treats one already gone as deleted', async () => {
    const id = fake.addComment(repo, 5, { author: 'afk-bot', body: 'extra' });
    const forgejo = tracker();

    await forgejo.deleteComment(repo, id);
    await forgejo.deleteComment(repo, id);

    expect(fake.issue(repo, 5).comments).toEqual([]);
    expect(fake.requests.map((r) => [r.method, r.path])).toEqual([
      ['DELETE', `/repos/acme/app/issues/comments/${id}`],
      ['DELETE', `/repos/acme/app/issues/comments/${id}`],
    ]);
  });
});

describe('claims', () => {
  let id: number;
  beforeEach(() => {
    fake.addIssue(repo, { number: 5, title: 'x' });
    id = fake.addComment(repo, 5, { author: 'afk-bot', body: 'record' });
  });

  it('acquires a claim with the eyes reaction (201), and reads the holder after (200)', async () => {
    const forgejo = tracker();

    const first = await forgejo.claimComment(repo, id);
    const second = await forgejo.claimComment(repo, id);

    expect(first).toEqual({ acquired: true, reactionId: 0, claimedAt: expect.any(String) });
    expect(second).toEqual({ ...first, acquired: false });
    expect(fake.reactions(repo, id)).toEqual({ eyes: ['afk-bot'] });
    expect(fake.requests.map(sent)).toEqual(
      Array.from({ length: 2 }, () => ({
        method: 'POST',
        path: `/repos/acme/app/issues/comments/${id}/reactions`,
        query: {},
        body: { content: 'eyes' },
      })),
    );
  });

  it('retries a claim after a 5xx: the retry answers 201 or 200, never a second claim', async () => {
    fake.failNext({ method: 'POST' }, { status: 500 });

    const claim = await tracker({ retries: 1, maxRetryWaitSeconds: 0 }).claimComment(repo, id);

    expect(claim.acquired).toBe(true);
    expect(fake.requests).toHaveLength(2);
  });

  it('releases a claim by content, and treats a released one as released', async () => {
    const forgejo = tracker();
    const claim = await forgejo.claimComment(repo, id);

    await forgejo.releaseClaim(repo, id, claim);
    await forgejo.releaseClaim(repo, id, claim);

    expect(fake.reactions(repo, id)).toEqual({});
    expect(fake.requests.slice(1).map(sent)).toEqual(
      Array.from({ length: 2 }, () => ({
        method: 'DELETE',
        path: `/repos/acme/app/issues/comments/${id}/reactions`,
        query: {},
        body: { content: 'eyes' },
      })),
    );
  });

  it('releases a claim on a deleted comment as done, and cannot claim one', async () => {
    const forgejo = tracker();
    const claim = await forgejo.claimComment(repo, id);
    fake.deleteComment(repo, id);

    await forgejo.releaseClaim(repo, id, claim);
    const error = await failure(forgejo.claimComment(repo, id));

    expect(error).toMatchObject({ kind: 'not-found', status: 404 });
  });
});

describe('labels', () => {
  beforeEach(() => {
    fake.addRepo(repo, { labels: ['ready-for-agent', 'agent-in-progress'] });
    fake.addIssue(repo, { number: 5, title: 'x', labels: ['ready-for-agent'] });
  });

  it('adds labels by id, resolving names from the repository and its organisation', async () => {
    const orgWide = fake.addOrgLabel('acme', 'org-wide');
    const inProgress = Number(fake.labelRef(repo, 'agent-in-progress'));

    await tracker().addLabels({ repo, number: 5 }, ['agent-in-progress', 'org-wide']);

    expect(fake.issue(repo, 5).labels).toEqual([
      'ready-for-agent',
      'agent-in-progress',
      'org-wide',
    ]);
    expect(fake.issue(repo, 5).events.map((e) => [e.event, e.label, e.actor])).toEqual([
      ['labeled', 'agent-in-progress', 'afk-bot'],
      ['labeled', 'org-wide', 'afk-bot'],
    ]);
    expect(fake.requests.map(sent)).toEqual([
      ...labelReads,
      {
        method: 'POST',
        path: '/repos/acme/app/issues/5/labels',
        query: {},
        body: { labels: [inProgress, orgWide] },
      },
    ]);
  });

  it('reads the labels once per tracker', async () => {
    fake.addIssue(repo, { number: 6, title: 'y' });
    const forgejo = tracker();

    await forgejo.addLabels({ repo, number: 5 }, ['agent-in-progress']);
    await forgejo.addLabels({ repo, number: 6 }, ['agent-in-progress']);
    await forgejo.removeLabel({ repo, number: 5 }, 'ready-for-agent');

    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/acme/app/labels',
      'GET /orgs/acme/labels',
      'POST /repos/acme/app/issues/5/labels',
      'POST /repos/acme/app/issues/6/labels',
      `DELETE /repos/acme/app/issues/5/labels/${fake.labelRef(repo, 'ready-for-agent')}`,
    ]);
  });

  it('reads the labels of an organisation once for all its repositories', async () => {
    fake.addRepo('acme/web', { labels: ['agent-in-progress'] });
    fake.addIssue('acme/web', { number: 1, title: 'x' });
    const forgejo = tracker();

    await forgejo.addLabels({ repo, number: 5 }, ['agent-in-progress']);
    await forgejo.addLabels({ repo: 'acme/web', number: 1 }, ['agent-in-progress']);

    expect(fake.requests.filter((r) => r.method === 'GET').map((r) => r.path)).toEqual([
      '/repos/acme/app/labels',
      '/orgs/acme/labels',
      '/repos/acme/web/labels',
    ]);
  });

  it('reads every page of the labels, and no organisation labels for a user account', async () => {
    fake.addUser('alice');
    fake.addRepo('alice/home', { labels: Array.from({ length: 60 }, (_, i) => `l${i}`) });
    fake.addIssue('alice/home', { number: 1, title: 'x' });

    await tracker().addLabels({ repo: 'alice/home', number: 1 }, ['l59']);

    expect(fake.issue('alice/home', 1).labels).toEqual(['l59']);
    expect(fake.requests.map((r) => `${r.method} ${r.path}${r.search}`)).toEqual([
      'GET /repos/alice/home/labels?limit=50&page=1',
      'GET /orgs/alice/labels?limit=50&page=1',
      'GET /repos/alice/home/labels?limit=50&page=2',
      'POST /repos/alice/home/issues/1/labels',
    ]);
  });

  it('names an unknown label clearly, after reading the labels once more, and adds nothing', async () => {
    const error = await failure(tracker().addLabels({ repo, number: 5 }, ['nope']));

    expect(error).toMatchObject({
      kind: 'not-found',
      request: 'POST /repos/acme/app/issues/5/labels',
      reason: 'no label "nope" in acme/app or its organisation',
    });
    expect(fake.requests.map(sent)).toEqual([...labelReads, ...labelReads]);
  });

  it('reports a label Forgejo silently did not apply as rejected', async () => {
    server.use(http.post(`${baseUrl}/repos/${repo}/issues/5/labels`, () => HttpResponse.json([])));

    const error = await failure(tracker().addLabels({ repo, number: 5 }, ['agent-in-progress']));

    expect(error).toMatchObject({
      kind: 'rejected',
      status: 200,
      reason: 'label "agent-in-progress" was not applied',
    });
  });

  it('sends nothing when there are no labels to add', async () => {
    await tracker().addLabels({ repo, number: 5 }, []);

    expect(fake.requests).toEqual([]);
  });

  it('removes a label by id', async () => {
    const id = fake.labelRef(repo, 'ready-for-agent');

    await tracker().removeLabel({ repo, number: 5 }, 'ready-for-agent');

    expect(fake.issue(repo, 5).labels).toEqual([]);
    expect(fake.requests.map(sent).slice(2)).toEqual([
      {
        method: 'DELETE',
        path: `/repos/acme/app/issues/5/labels/${id}`,
        query: {},
        body: undefined,
      },
    ]);
  });

  it('treats removing a label the issue does not carry as done (Forgejo answers 204)', async () => {
    await tracker().removeLabel({ repo, number: 5 }, 'agent-in-progress');

    expect(fake.issue(repo, 5).labels).toEqual(['ready-for-agent']);
    expect(fake.writes()).toHaveLength(1);
  });

  it('treats a label deleted since it was read (422) as removed', async () => {
    server.use(
      http.delete(`${baseUrl}/repos/${repo}/issues/5/labels/:id`, () =>
        HttpResponse.json({ message: 'label does not exist [label_id: 0]' }, { status: 422 }),
      ),
    );

    await tracker().removeLabel({ repo, number: 5 }, 'ready-for-agent');
  });

  it('sends no removal for a label name no label has', async () => {
    await tracker().removeLabel({ repo, number: 5 }, 'never-defined');

    expect(fake.writes()).toEqual([]);
  });

  it('lists the names of the repository labels and the organisation labels', async () => {
    fake.addOrgLabel('acme', 'org-wide');

    expect((await tracker().listRepoLabels(repo)).sort()).toEqual([
      'agent-in-progress',
      'org-wide',
      'ready-for-agent',
    ]);
  });

  it('creates a label with name, colour and description, and Forgejo answers 201', async () => {
    await tracker().createLabel(repo, {
      name: 'agent-failed',
      color: 'd73a4a',
      description: 'The agent gave up',
    });

    expect(fake.requests.map(sent).slice(2)).toEqual([
      {
        method: 'POST',
        path: '/repos/acme/app/labels',
        query: {},
        body: { name: 'agent-failed', color: 'd73a4a', description: 'The agent gave up' },
      },
    ]);
    expect(await tracker().listRepoLabels(repo)).toContain('agent-failed');
  });

  it.each(['ready-for-agent', 'org-wide'])(
    'creates no duplicate of %s: Forgejo would make a second label of that name',
    async (name) => {
      fake.addOrgLabel('acme', 'org-wide');

      await tracker().createLabel(repo, { name, color: 'ededed', description: '' });

      expect(fake.writes()).toEqual([]);
    },
  );

  it('never retries creating a label, and surfaces a refused colour', async () => {
    fake.failNext({ method: 'POST', path: '/repos/acme/app/labels' }, { status: 503 });
    const forgejo = tracker({ retries: 2, maxRetryWaitSeconds: 0 });

    await expect(
      forgejo.createLabel(repo, { name: 'x', color: 'ffffff', description: '' }),
    ).rejects.toMatchObject({ kind: 'transient', status: 503 });
    expect(fake.writes()).toHaveLength(1);
    await expect(
      forgejo.createLabel(repo, { name: 'y', color: 'not-a-colour', description: '' }),
    ).rejects.toMatchObject({
      kind: 'rejected',
      status: 422,
      reason: 'bad color code: not-a-colour',
    });
  });
});

describe('closeIssue', () => {
  it('closes the issue, which Forgejo answers with 201', async () => {
    fake.addIssue(repo, { number: 5, title: 'x' });

    await tracker().closeIssue({ repo, number: 5 });

    expect(fake.issue(repo, 5).state).toBe('closed');
    expect(fake.requests.map(sent)).toEqual([
      { method: 'PATCH', path: '/repos/acme/app/issues/5', query: {}, body: { state: 'closed' } },
    ]);
  });

  it('reports a close blocked by open dependencies (412) as rejected', async () => {
    fake.addIssue(repo, { number: 5, title: 'x' });
    fake.failNext(
      { method: 'PATCH' },
      {
        status: 412,
        body: { message: 'cannot close this issue because it still has open dependencies' },
      },
    );

    const error = await failure(tracker().closeIssue({ repo, number: 5 }));

    expect(error).toMatchObject({
      kind: 'rejected',
      status: 412,
      reason: 'cannot close this issue because it still has open dependencies',
    });
  });
});

describe('findPullRequest', () => {
  const branch = 'afk/issue-7';

  beforeEach(() => {
    fake.pushCommit(repo, 'main', sha('base'));
  });

  it('finds the newest pull request of the branch', async () => {
    fake.addPullRequest(repo, {
      head: branch,
      headSha: sha('old'),
      state: 'closed',
      createdAt: '2024-05-01T10:00:00Z',
    });
    const newest = fake.addPullRequest(repo, {
      head: branch,
      headSha: sha('new'),
      createdAt: '2024-05-02T10:00:00Z',
    });
    fake.addPullRequest(repo, {
      head: 'someone-else',
      headSha: sha('other'),
      createdAt: '2024-05-03T10:00:00Z',
    });

    const pull = await tracker().findPullRequest(repo, branch);

    expect(pull).toEqual({
      number: newest,
      url: `https://forgejo.test/acme/app/pulls/${newest}`,
      state: 'open',
      merged: false,
      headSha: sha('new'),
      mergeCommitSha: null,
      mergedAt: null,
      createdAt: '2024-05-02T10:00:00Z',
    });
    expect(fake.requests.map(sent)).toEqual([
      get('/repos/acme/app/pulls', { state: 'all', ...page(1) }),
    ]);
  });

  it('reports a merged pull request with its merge commit, after its branch was deleted', async () => {
    const number = fake.addPullRequest(repo, {
      head: branch,
      headSha: sha('head'),
      merged: true,
      mergeCommitSha: sha('merge'),
      createdAt: '2024-05-02T10:00:00Z',
    });
    fake.deleteBranch(repo, branch);

    expect(await tracker().findPullRequest(repo, branch)).toMatchObject({
      number,
      state: 'closed',
      merged: true,
      headSha: sha('head'),
      mergeCommitSha: sha('merge'),
      mergedAt: '2024-05-02T10:00:00Z',
    });
  });

  it('reads pages until one holds the branch, and no further', async () => {
    fake.addPullRequest(repo, { head: branch, headSha: sha('mine') });
    for (let n = 0; n < 60; n++) fake.addPullRequest(repo, { head: `b${n}`, headSha: sha(`${n}`) });
    for (let n = 60; n < 120; n++) {
      fake.addPullRequest(repo, { head: `b${n}`, headSha: sha(`${n}`), state: 'closed' });
    }

    expect(await tracker().findPullRequest(repo, branch)).toMatchObject({ number: 1 });
    expect(fake.requests.map((r) => r.query['page'])).toEqual(['1', '2', '3']);
  });

  it('answers null after reading every page when the branch has no pull request', async () => {
    for (let n = 0; n < 51; n++) fake.addPullRequest(repo, { head: `b${n}`, headSha: sha(`${n}`) });

    expect(await tracker().findPullRequest(repo, branch)).toBeNull();
    expect(fake.requests).toHaveLength(2);
  });

  it('ignores a pull request from a fork with the same branch name', async () => {
    server.use(
      http.get(`${baseUrl}/repos/${repo}/pulls`, () =>
        HttpResponse.json(
          [
            {
              number: 9,
              html_url: 'https://forgejo.test/acme/app/pulls/9',
              state: 'open',
              merged: false,
              merged_at: null,
              merge_commit_sha: null,
              head: { label: branch, ref: branch, sha: sha('fork'), repo_id: 999 },
              base: { label: 'main', ref: 'main', sha: sha('base'), repo_id: 101 },
              created_at: '2024-05-01T10:00:00Z',
            },
          ],
          { headers: { 'x-total-count': '1' } },
        ),
      ),
    );

    expect(await tracker().findPullRequest(repo, branch)).toBeNull();
  });
});

describe('placeCommit', () => {
  beforeEach(() => {
    fake.addRepo('acme/trunk', { defaultBranch: 'trunk' });
    fake.pushCommit('acme/trunk', 'trunk', sha('c1'));
    fake.pushCommit('acme/trunk', 'trunk', sha('c2'));
    fake.pushCommit('acme/trunk', 'feature', sha('f1'), { parents: [sha('c1')] });
    fake.pushCommit('acme/trunk', 'orphan', sha('o1'), { parents: [] });
  });

  it.each([
    ['the tip', sha('c2'), 'on-default-branch'],
    ['an older commit', sha('c1'), 'on-default-branch'],
    ['a commit on another branch', sha('f1'), 'not-on-default-branch'],
    ['an unknown commit', sha('nope'), 'unknown-commit'],
  ])('places %s', async (_name, commit, placement) => {
    expect(await tracker().placeCommit('acme/trunk', commit)).toBe(placement);
  });

  it('reads the default branch once per tracker, then compares the commit with it', async () => {
    const forgejo = tracker();

    await forgejo.placeCommit('acme/trunk', sha('c1'));
    await forgejo.placeCommit('acme/trunk', sha('f1'));

    expect(fake.requests.map(sent)).toEqual([
      get('/repos/acme/trunk'),
      get(`/repos/acme/trunk/compare/trunk...${sha('c1')}`, {
        files: 'false',
        verification: 'false',
      }),
      get(`/repos/acme/trunk/compare/trunk...${sha('f1')}`, {
        files: 'false',
        verification: 'false',
      }),
    ]);
  });

  it('reads the default branch again after a failed read', async () => {
    const forgejo = tracker();
    fake.failNext({ path: '/repos/acme/trunk' }, { status: 502 });

    await expect(forgejo.placeCommit('acme/trunk', sha('c1'))).rejects.toMatchObject({
      kind: 'transient',
    });
    expect(await forgejo.placeCommit('acme/trunk', sha('c1'))).toBe('on-default-branch');
  });

  it.each(['not-a-sha', 'abc', `${sha('c1')}...main`, 'HEAD'])(
    'answers unknown-commit for %s without a request',
    async (reported) => {
      expect(await tracker().placeCommit('acme/trunk', reported)).toBe('unknown-commit');
      expect(fake.requests).toEqual([]);
    },
  );

  it('reports a commit with no history in common (Forgejo fails with 500) as transient', async () => {
    const error = await failure(tracker().placeCommit('acme/trunk', sha('o1')));

    expect(error).toMatchObject({ kind: 'transient', status: 500 });
    expect(error.reason).toBeUndefined();
  });
});

describe('readCi', () => {
  const commit = sha('c1');

  it('reads the latest status of each context, and no check runs', async () => {
    fake.setCi(repo, commit, 'ci/test', 'running');
    fake.setCi(repo, commit, 'ci/test', 'success');
    fake.addStatus(repo, commit, {
      context: 'ci/lint',
      state: 'failure',
      targetUrl: 'https://ci.test/1',
      description: 'lint failed',
    });
    fake.addStatus(repo, sha('other'), { context: 'ci/test', state: 'failure' });

    const ci = await tracker().readCi(repo, commit);

    expect(ci).toEqual({
      sha: commit,
      checkRuns: [],
      statuses: [
        { context: 'ci/test', state: 'success', url: null, description: 'Successful' },
        {
          context: 'ci/lint',
          state: 'failure',
          url: 'https://ci.test/1',
          description: 'lint failed',
        },
      ],
    });
    expect(fake.requests.map(sent)).toEqual([
      get(`/repos/acme/app/commits/${commit}/status`, page(1)),
    ]);
  });

  it('reads a commit with no statuses (state "") as none, never as pending', async () => {
    expect(await tracker().readCi(repo, commit)).toEqual({
      sha: commit,
      checkRuns: [],
      statuses: [],
    });
  });

  it('reads warning, which does not pass branch protection, as failure', async () => {
    fake.addStatus(repo, commit, { context: 'ci/flaky', state: 'warning' });

    const ci = await tracker().readCi(repo, commit);

    expect(ci.statuses.map((s) => s.state)).toEqual(['failure']);
  });

  it('reads 60 contexts in two pages', async () => {
    for (let n = 0; n < 60; n++)
      fake.addStatus(repo, commit, { context: `c${n}`, state: 'success' });

    const ci = await tracker().readCi(repo, commit);

    expect(new Set(ci.statuses.map((s) => s.context)).size).toBe(60);
    expect(fake.requests.map((r) => r.query['page'])).toEqual(['1', '2']);
  });

  it('reports a status state Forgejo does not have as malformed', async () => {
    server.use(
      http.get(`${baseUrl}/repos/${repo}/commits/${commit}/status`, () =>
        HttpResponse.json({
          state: 'success',
          statuses: [{ context: 'x', status: 'neutral' }],
        }),
      ),
    );

    const error = await failure(tracker().readCi(repo, commit));

    expect(error).toMatchObject({
      kind: 'malformed',
      request: `GET /repos/acme/app/commits/${commit}/status`,
    });
    expect(error.reason).toMatch(/^status: /);
  });
});

describe('readDeployment', () => {
  it('is a configuration error on Forgejo, which has no Deployments API', async () => {
    const error: unknown = await tracker()
      .readDeployment(repo, sha('c1'), 'production')
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'deploy.kind: Forgejo has no Deployments API; use deploy.kind: commit-status',
    ]);
    expect(fake.requests).toEqual([]);
  });
});

describe('getRepoAccess', () => {
  it.each([
    [
      'write',
      { collaborators: {} },
      { admin: false, maintain: false, push: true, triage: true, pull: true },
    ],
    [
      'admin',
      { collaborators: { 'afk-bot': 'admin' as const } },
      { admin: true, maintain: true, push: true, triage: true, pull: true },
    ],
    [
      'read',
      { collaborators: { 'afk-bot': 'read' as const } },
      { admin: false, maintain: false, push: false, triage: false, pull: true },
    ],
  ])('folds Forgejo %s access into the five flags', async (_role, options, access) => {
    fake.addRepo('acme/other', options);

    expect(await tracker().getRepoAccess('acme/other')).toEqual(access);
    expect(fake.requests.map(sent)).toEqual([get('/repos/acme/other')]);
  });

  it('says nothing when the answer carries no permissions', async () => {
    server.use(
      http.get(`${baseUrl}/repos/${repo}`, () => HttpResponse.json({ default_branch: 'main' })),
    );

    expect(await tracker().getRepoAccess(repo)).toBeNull();
  });

  it('reports an unknown repository as not-found', async () => {
    const error = await failure(tracker().getRepoAccess('acme/gone'));

    expect(error).toMatchObject({
      kind: 'not-found',
      status: 404,
      request: 'GET /repos/acme/gone',
      reason: "The target couldn't be found.",
    });
  });
});

describe('authentication', () => {
  it('asks for the token before every request and sends the rotated one', async () => {
    const tokens = [token, 'rotated-token'];
    let asked = 0;
    const forgejo = tracker({ token: () => Promise.resolve(tokens[asked++] ?? 'exhausted') });
    fake.addIssue(repo, { number: 1, title: 'x' });

    await forgejo.listComments({ repo, number: 1 });
    fake.setToken('rotated-token');
    await forgejo.listComments({ repo, number: 1 });

    expect(asked).toBe(2);
    expect(fake.requests.map((r) => r.headers['authorization'])).toEqual([
      `token ${token}`,
      'token rotated-token',
    ]);
    expect(fake.requests[0]?.headers['user-agent']).toBe('afk');
  });

  it('asks for the token again on each retry', async () => {
    let asked = 0;
    const forgejo = tracker({
      retries: 1,
      maxRetryWaitSeconds: 0,
      token: () => Promise.resolve((asked++, token)),
    });
    fake.addIssue(repo, { number: 1, title: 'x' });
    fake.failNext({ method: 'GET' }, { status: 500 });

    await forgejo.listComments({ repo, number: 1 });

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

  it('reports a wrong token as auth, without the token', async () => {
    const error = await failure(
      tracker({ token: () => Promise.resolve('stale-token') }).getSelfLogin(),
    );

    expect(error).toMatchObject({
      kind: 'auth',
      status: 401,
      request: 'GET /user',
      reason: 'user does not exist [uid: 0, name: ]',
    });
    expect(inspect(error, { depth: 10 })).not.toContain('stale-token');
  });

  it('sends the user agent it is given', async () => {
    await tracker({ userAgent: 'afk/1.2.3' }).getSelfLogin();

    expect(fake.requests[0]?.headers['user-agent']).toBe('afk/1.2.3');
  });
});

describe('failures', () => {
  const listRequest = 'GET /repos/acme/app/issues';

  it.each<
    [string, FakeFailure, { kind: string; status?: number; reason?: string; network?: unknown }]
  >([
    [
      'a 401',
      { status: 401, body: { message: 'token is required' } },
      { kind: 'auth', status: 401, reason: 'token is required' },
    ],
    ['a 403', { status: 403 }, { kind: 'forbidden', status: 403 }],
    [
      'a 404',
      { status: 404, body: { message: "The target couldn't be found.", errors: [] } },
      { kind: 'not-found', status: 404 },
    ],
    ['a 409', { status: 409, body: { message: 'Conflict' } }, { kind: 'rejected', status: 409 }],
    [
      'a 422',
      { status: 422, body: { message: '[Body]: Required' } },
      { kind: 'rejected', status: 422, reason: '[Body]: Required' },
    ],
    [
      'a 400',
      { status: 400, body: { message: 'a label must be an integer or a string' } },
      { kind: 'contract', status: 400 },
    ],
    ['a 429', { status: 429 }, { kind: 'rate-limited', status: 429 }],
    // Production servers send an empty message with a 500.
    ['a 500', { status: 500, body: { message: '', url: '' } }, { kind: 'transient', status: 500 }],
    [
      'a 503 from a proxy (HTML)',
      { status: 503, body: '<html>' },
      { kind: 'transient', status: 503 },
    ],
    [
      'a network error',
      'network-error',
      { kind: 'transient', network: { address: 'forgejo.test:443', cause: 'connection failed' } },
    ],
    ['a malformed 200', 'malformed', { kind: 'malformed', status: 200 }],
  ])('maps %s to its kind', async (_name, answer, expected) => {
    fake.failNext({ path: '/repos/acme/app/issues' }, answer);

    const error = await failure(tracker().listLabelledIssues(repo, 'ready-for-agent', 'open'));

    expect(error).toMatchObject({ ...expected, request: listRequest, upstream: 'tracker' });
    expect(error.status).toBe(expected.status);
    expect(error.reason).toBe(expected.reason ?? error.reason);
    expect(fake.requests).toHaveLength(1);
  });

  it('reports a 2xx that is not JSON as malformed', async () => {
    server.use(http.get(`${baseUrl}/user`, () => HttpResponse.text('<html>login</html>')));

    const error = await failure(tracker().getSelfLogin());

    expect(error).toMatchObject({ kind: 'malformed', status: 200, reason: 'invalid JSON' });
  });

  it('maps a request that outlives timeoutMs to transient', async () => {
    fake.failNext({ path: '/repos/acme/app/issues' }, 'timeout');

    const error = await failure(tracker({ timeoutMs: 20 }).listLabelledIssues(repo, 'afk', 'open'));

    expect(error).toMatchObject({
      kind: 'transient',
      request: listRequest,
      network: { address: 'forgejo.test:443', cause: 'timeout after 20 ms' },
    });
    expect(error.message).toBe(
      `tracker: ${listRequest}: network error: timeout after 20 ms (forgejo.test:443)`,
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
      network: { address: 'forgejo.test:443', cause: 'timeout after 20 ms' },
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

  it('names the request a write failed on, by method and path', async () => {
    fake.addRepo(repo, { labels: ['area/ui'] });
    fake.addIssue(repo, { number: 5, title: 'x', labels: ['area/ui'] });
    fake.failNext({ method: 'DELETE' }, { status: 500 });
    const id = fake.labelRef(repo, 'area/ui');

    const error = await failure(tracker().removeLabel({ repo, number: 5 }, 'area/ui'));

    expect(error.request).toBe(`DELETE /repos/acme/app/issues/5/labels/${id}`);
    expect(error.message).toBe(
      `tracker: DELETE /repos/acme/app/issues/5/labels/${id}: 500 transient (fake failure 500)`,
    );
  });

  it.each<[string, FakeFailure]>([
    ['a 401', { status: 401, body: { message: 'token is required' } }],
    ['a 500', { status: 500 }],
    ['a network error', 'network-error'],
    ['a 422 that echoes the token', { status: 422, body: { message: `bad token ${token}` } }],
  ])('never lets the token or the query into %s', async (_name, answer) => {
    fake.failNext({}, answer);

    const error = await failure(tracker().listLabelledIssues(repo, 'ready-for-agent', 'open'));

    for (const text of [error.message, String(error), inspect(error, { depth: 10 })]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain('labels=');
      expect(text).not.toContain('ready-for-agent');
    }
  });
});

describe('retries and rate limits', () => {
  beforeEach(() => {
    fake.addIssue(repo, { number: 1, title: 'x', labels: ['afk'] });
  });

  it('retries an idempotent write: adding labels by id', async () => {
    fake.failNext({ method: 'POST' }, { status: 502 });

    await tracker({ retries: 1, maxRetryWaitSeconds: 0 }).addLabels({ repo, number: 1 }, ['afk']);

    expect(fake.issue(repo, 1).labels).toEqual(['afk']);
    expect(fake.writes()).toHaveLength(2);
  });

  it('retries a 429 once when its retry-after fits the tick', async () => {
    fake.failNext(
      { path: '/repos/acme/app/issues' },
      { status: 429, headers: { 'retry-after': '0' } },
    );

    const issues = await tracker({ throttle: true, maxRetryWaitSeconds: 10 }).listLabelledIssues(
      repo,
      'afk',
      'open',
    );

    expect(issues).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
  });

  it('retries a rate limit only once', async () => {
    fake.failNext(
      { path: '/repos/acme/app/issues' },
      { status: 429, headers: { 'retry-after': '0' } },
      2,
    );

    const error = await failure(
      tracker({ throttle: true, retries: 2 }).listLabelledIssues(repo, 'afk', 'open'),
    );

    expect(error).toMatchObject({ kind: 'rate-limited', status: 429 });
    expect(fake.requests).toHaveLength(2);
  });

  it.each([
    ['a retry-after longer than the tick', { 'retry-after': '120' }, true],
    ['no retry-after', {}, true],
    ['throttling turned off', { 'retry-after': '0' }, false],
  ])('fails fast on a 429 with %s', async (_name, headers, throttle) => {
    fake.failNext({ path: '/repos/acme/app/issues' }, { status: 429, headers });

    const error = await failure(
      tracker({ throttle, retries: 2, maxRetryWaitSeconds: 10 }).listLabelledIssues(
        repo,
        'afk',
        'open',
      ),
    );

    expect(error).toMatchObject({ kind: 'rate-limited', status: 429 });
    expect(fake.requests).toHaveLength(1);
  });

  it('reads retry-after as an HTTP date too', async () => {
    fake.failNext(
      { path: '/repos/acme/app/issues' },
      { status: 429, headers: { 'retry-after': new Date(Date.now() - 1000).toUTCString() } },
    );

    await tracker({ throttle: true }).listLabelledIssues(repo, 'afk', 'open');

    expect(fake.requests).toHaveLength(2);
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
    it('reads mergeable, head and base in one request; Forgejo has no mergeable_state', async () => {
      await expect(tracker().readMergeability(repo, pr)).resolves.toEqual({
        mergeable: true,
        state: null,
        headSha: head,
        baseSha: sha('m1'),
      });
      fake.setConflict(repo, pr, true);
      const base = fake.advanceBase(repo, pr);
      await expect(tracker().readMergeability(repo, pr)).resolves.toEqual({
        mergeable: false,
        state: null,
        headSha: head,
        baseSha: base,
      });
      expect(fake.requests.map(sent)).toEqual([
        get(`/repos/acme/app/pulls/${pr}`),
        get(`/repos/acme/app/pulls/${pr}`),
      ]);
    });

    it('reads a draft’s mergeable false as not known: it says nothing about conflicts', async () => {
      server.use(
        http.get(`${baseUrl}/repos/${repo}/pulls/${pr}`, () =>
          HttpResponse.json({
            mergeable: false,
            draft: true,
            head: { sha: head },
            base: { sha: sha('m1') },
          }),
        ),
      );
      await expect(tracker().readMergeability(repo, pr)).resolves.toMatchObject({
        mergeable: null,
      });
    });

    it.each<[string, FakeFailure, string]>([
      ['a 404', { status: 404 }, 'not-found'],
      ['a 500', { status: 500 }, 'transient'],
      ['a malformed 200', 'malformed', 'malformed'],
    ])('maps %s to %s', async (_what, answer, kind) => {
      fake.failNext({ path: `/repos/acme/app/pulls/${pr}` }, answer);
      const error = await failure(tracker().readMergeability(repo, pr));
      expect(error.kind).toBe(kind);
      expect(error.request).toBe(`GET /repos/acme/app/pulls/${pr}`);
    });
  });

  describe('readReviewFeedback', () => {
    it('reads the reviews, the comments of each review that has any, and the conversation', async () => {
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
      expect(fake.requests.map(sent)).toEqual([
        get(`/repos/acme/app/pulls/${pr}/reviews`, { limit: '50', page: '1' }),
        get(`/repos/acme/app/pulls/${pr}/reviews/${review.id}/comments`),
        get(`/repos/acme/app/issues/${pr}/comments`),
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

    it('never sees another reviewer’s pending review', async () => {
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
      expect(fake.requests).toHaveLength(2);
    });

    it('reads 60 reviews in two pages', async () => {
      for (let n = 0; n < 60; n++) fake.addReview(repo, pr, { author: 'alice', state: 'approved' });
      const { reviews } = await tracker().readReviewFeedback(repo, pr);
      expect(reviews).toHaveLength(60);
      expect(fake.requests.map((r) => r.query)).toEqual([
        { limit: '50', page: '1' },
        { limit: '50', page: '2' },
        {},
      ]);
    });

    it('drops review requests, sorts comments by time, and reads an old-side line as null', async () => {
      const review = (id: number, state: string, count: number) => ({
        id,
        user: { login: 'alice' },
        state,
        body: '',
        commit_id: head,
        dismissed: false,
        comments_count: count,
        submitted_at: '2024-05-01T10:00:00Z',
      });
      const comment = (id: number, position: number, at: string) => ({
        id,
        user: { login: 'alice' },
        pull_request_review_id: 2,
        path: 'a.ts',
        position,
        body: `#${id}`,
        created_at: at,
      });
      server.use(
        http.get(`${baseUrl}/repos/${repo}/pulls/${pr}/reviews`, () =>
          HttpResponse.json([review(1, 'REQUEST_REVIEW', 0), review(2, 'COMMENT', 2)], {
            headers: { 'x-total-count': '2' },
          }),
        ),
        http.get(`${baseUrl}/repos/${repo}/pulls/${pr}/reviews/2/comments`, () =>
          HttpResponse.json([
            comment(11, 0, '2024-05-01T10:00:02Z'),
            comment(10, 4, '2024-05-01T10:00:01Z'),
          ]),
        ),
      );
      const feedback = await tracker().readReviewFeedback(repo, pr);
      expect(feedback.reviews.map((r) => [r.id, r.state])).toEqual([[2, 'commented']]);
      expect(feedback.reviewComments.map((c) => [c.id, c.line])).toEqual([
        [10, 4],
        [11, null],
      ]);
    });

    it.each<[RegExp, FakeFailure, string]>([
      [/\/reviews$/, { status: 404 }, 'not-found'],
      [/\/reviews\/\d+\/comments$/, { status: 500 }, 'transient'],
      [/\/issues\/\d+\/comments$/, 'malformed', 'malformed'],
    ])('maps a failure of %s to %s', async (path, answer, kind) => {
      fake.addReview(repo, pr, {
        author: 'alice',
        state: 'commented',
        comments: [{ path: 'a.ts', line: 1, body: 'x' }],
      });
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

    it('reports a comment that is gone as not-found, and a foreign answer as malformed', async () => {
      expect((await failure(tracker().reactToComment(repo, 424242, '+1'))).kind).toBe('not-found');
      const { id } = fake.addPullComment(repo, pr, 'maintainer', '/afk stop');
      fake.failNext(
        { method: 'POST' },
        { status: 200, body: { content: 'eyes', created_at: '2024-05-01T10:00:00Z' } },
      );
      expect((await failure(tracker().reactToComment(repo, id, '+1'))).kind).toBe('malformed');
    });
  });
});
