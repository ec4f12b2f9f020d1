// The Forgejo fake answers as Forgejo does, traps included: each test here is a fact read from
// Forgejo's swagger or its Go handlers, asserted over plain fetch so that no adapter can hide it.
import { createHash } from 'node:crypto';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createForgejoFake, type ForgejoFake } from '../../emulators/forgejo.js';

const baseUrl = 'https://forgejo.test/api/v1';
const token = 'forgejo-test-token';
const repo = 'acme/app';
const sha = (seed: string) => createHash('sha1').update(seed).digest('hex');

const server = setupServer();
let fake: ForgejoFake;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  fake = createForgejoFake({ now: () => new Date('2024-06-01T12:00:00.123Z') });
  server.use(...fake.handlers);
  fake.addRepo(repo);
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `token ${token}` },
): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
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

describe('authentication', () => {
  it.each([`token ${token}`, `Bearer ${token}`, `bearer ${token}`])('accepts %s', async (auth) => {
    expect((await call('GET', '/user', undefined, { authorization: auth })).status).toBe(200);
  });

  it.each<[string, Record<string, string>, string]>([
    ['no header', {}, 'token is required'],
    ['an unknown scheme', { authorization: `Token ${token}` }, 'token is required'],
    ['a wrong token', { authorization: 'token nope' }, 'user does not exist [uid: 0, name: ]'],
  ])('answers 401 for %s', async (_name, headers, message) => {
    const answer = await call('GET', `/repos/${repo}`, undefined, headers);

    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ message, url: 'https://forgejo.test/api/swagger' });
  });

  it('answers 401 to the old token once rotated', async () => {
    fake.setToken('rotated');

    expect((await call('GET', '/user')).status).toBe(401);
    expect((await call('GET', '/user', undefined, { authorization: 'token rotated' })).status).toBe(
      200,
    );
  });

  it('records refused requests too, with their headers', async () => {
    await call('GET', '/user', undefined, { authorization: 'token nope' });

    expect(fake.requests).toMatchObject([
      { method: 'GET', path: '/user', headers: { authorization: 'token nope' } },
    ]);
  });
});

describe('issues', () => {
  it('lists pull requests among issues unless type=issues', async () => {
    fake.addIssue(repo, { number: 1, title: 'Issue', labels: ['afk'] });
    fake.addPullRequest(repo, { head: 'feature', headSha: sha('f1') });

    const both = await call('GET', `/repos/${repo}/issues?state=open`);
    const issues = await call('GET', `/repos/${repo}/issues?state=open&type=issues`);

    expect(items(both).map((i) => [i['number'], i['pull_request'] === null])).toEqual([
      [2, false],
      [1, true],
    ]);
    expect(items(issues).map((i) => i['number'])).toEqual([1]);
    // The key is always there: null on an issue, an object on a pull request.
    expect(items(issues)[0]).toHaveProperty('pull_request', null);
  });

  it('caps limit at 50 and counts every match in X-Total-Count', async () => {
    for (let n = 1; n <= 120; n++) fake.addIssue(repo, { title: `#${n}` });

    const answer = await call('GET', `/repos/${repo}/issues?limit=100&page=2`);

    expect(items(answer)).toHaveLength(50);
    expect(answer.headers.get('x-total-count')).toBe('120');
    expect(answer.headers.get('link')).toBe(
      [
        `<${baseUrl}/repos/acme/app/issues?limit=100&page=3>; rel="next"`,
        `<${baseUrl}/repos/acme/app/issues?limit=100&page=3>; rel="last"`,
        `<${baseUrl}/repos/acme/app/issues?limit=100&page=1>; rel="first"`,
        `<${baseUrl}/repos/acme/app/issues?limit=100&page=1>; rel="prev"`,
      ].join(','),
    );
  });

  it('pages 30 at a time without a limit, and sends no Link when one page holds all', async () => {
    for (let n = 1; n <= 31; n++) fake.addIssue(repo, { title: `#${n}` });
    fake.addIssue(repo, { number: 99, title: 'x' });

    expect(items(await call('GET', `/repos/${repo}/issues`))).toHaveLength(30);
    const all = await call('GET', `/repos/${repo}/issues?limit=50`);
    expect(items(all)).toHaveLength(32);
    expect(all.headers.get('link')).toBeNull();
  });

  it('filters by repository label names only, and drops the names that match nothing', async () => {
    fake.addOrgLabel('acme', 'org-ready');
    fake.addIssue(repo, { number: 1, title: 'ready', labels: ['ready'] });
    fake.addIssue(repo, { number: 2, title: 'org', labels: ['org-ready'] });
    fake.addIssue(repo, { number: 3, title: 'none' });

    const numbers = async (labels: string) =>
      items(await call('GET', `/repos/${repo}/issues?labels=${labels}`)).map((i) => i['number']);

    expect(await numbers('ready')).toEqual([1]);
    expect(await numbers('ready,missing')).toEqual([1]);
    // An organisation label, or a name no label has, filters nothing: every issue comes back.
    expect(await numbers('org-ready')).toEqual([3, 2, 1]);
    expect(await numbers('missing')).toEqual([3, 2, 1]);
  });

  it('closes an issue with 201, not 200, and records the close on the timeline', async () => {
    fake.addIssue(repo, { number: 5, title: 'x' });

    const answer = await call('PATCH', `/repos/${repo}/issues/5`, { state: 'closed' });

    expect(answer.status).toBe(201);
    expect(record(answer)).toMatchObject({ state: 'closed', closed_at: '2024-06-01T12:00:00Z' });
    expect(fake.issue(repo, 5)).toMatchObject({
      state: 'closed',
      stateReason: null,
      events: [{ event: 'closed', label: '', actor: 'afk-bot' }],
    });
  });

  it.each([
    ['a GitHub-only field', { state: 'closed', state_reason: 'completed' }, 501],
    ['a state of the wrong type', { state: 1 }, 422],
  ])('refuses %s in an issue edit', async (_name, body, status) => {
    fake.addIssue(repo, { number: 5, title: 'x' });

    expect((await call('PATCH', `/repos/${repo}/issues/5`, body)).status).toBe(status);
    expect(fake.issue(repo, 5).state).toBe('open');
  });

  it('answers 404 for an issue that does not exist, and for a repository', async () => {
    expect((await call('GET', `/repos/${repo}/issues/9`)).status).toBe(404);
    expect(await call('GET', '/repos/acme/gone')).toMatchObject({
      status: 404,
      body: { message: "The target couldn't be found.", errors: [] },
    });
  });

  it('answers 501 for a query parameter it does not implement', async () => {
    const answer = await call('GET', `/repos/${repo}/issues?milestones=1`);

    expect(answer.status).toBe(501);
  });
});

describe('comments and reactions', () => {
  beforeEach(() => {
    fake.addIssue(repo, { number: 5, title: 'x' });
  });

  it('creates a comment with 201 and refuses an empty body with 422', async () => {
    const created = await call('POST', `/repos/${repo}/issues/5/comments`, { body: 'hi' });
    const empty = await call('POST', `/repos/${repo}/issues/5/comments`, { body: '' });

    expect(created.status).toBe(201);
    expect(record(created)).toMatchObject({ body: 'hi', user: { login: 'afk-bot' } });
    expect(empty).toMatchObject({ status: 422, body: { message: '[Body]: Required' } });
  });

  it('reads a body sent without a JSON content type as empty, as Forgejo binds a form', async () => {
    const response = await fetch(`${baseUrl}/repos/${repo}/issues/5/comments`, {
      method: 'POST',
      headers: { authorization: `token ${token}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ body: 'hi' }),
    });

    expect(response.status).toBe(422);
  });

  it('refuses undecodable JSON with 422', async () => {
    const answer = await call('POST', `/repos/${repo}/issues/5/comments`, '{"body":');

    expect(answer.status).toBe(422);
    expect(record(answer)['message']).toMatch(/^\[\]: /);
  });

  it('lists every comment at once with X-Total-Count: the route has no paging', async () => {
    for (let n = 1; n <= 60; n++) fake.addComment(repo, 5, { author: 'alice', body: `#${n}` });

    const answer = await call('GET', `/repos/${repo}/issues/5/comments`);

    expect(items(answer).map((c) => c['body'])).toEqual(
      Array.from({ length: 60 }, (_, i) => `#${i + 1}`),
    );
    expect(answer.headers.get('x-total-count')).toBe('60');
    expect(answer.headers.get('link')).toBeNull();
  });

  it.each(['limit=50&page=1', 'page=2', 'limit=10'])(
    'refuses ?%s on the comment list, which Forgejo would ignore',
    async (query) => {
      fake.addComment(repo, 5, { author: 'alice', body: 'one' });

      const answer = await call('GET', `/repos/${repo}/issues/5/comments?${query}`);

      expect(answer.status).toBe(501);
    },
  );

  it('gets, edits and deletes a comment by id; a deleted one is 404', async () => {
    const id = fake.addComment(repo, 5, { author: 'afk-bot', body: 'one' });

    expect(record(await call('GET', `/repos/${repo}/issues/comments/${id}`))['body']).toBe('one');
    expect(
      (await call('PATCH', `/repos/${repo}/issues/comments/${id}`, { body: 'two' })).status,
    ).toBe(200);
    expect(fake.issue(repo, 5).comments).toEqual([{ id, author: 'afk-bot', body: 'two' }]);
    expect((await call('DELETE', `/repos/${repo}/issues/comments/${id}`)).status).toBe(204);
    expect(await call('GET', `/repos/${repo}/issues/comments/${id}`)).toMatchObject({
      status: 404,
      body: { errors: [`comment does not exist [id: ${id}, issue_id: 0]`] },
    });
  });

  it('answers reactions with null when there are none', async () => {
    const id = fake.addComment(repo, 5, { author: 'afk-bot', body: 'record' });

    const answer = await call('GET', `/repos/${repo}/issues/comments/${id}/reactions`);

    expect(answer).toMatchObject({ status: 200, body: null });
  });

  it('creates a reaction with 201, answers 200 with the existing one after, deletes by content', async () => {
    const id = fake.addComment(repo, 5, { author: 'afk-bot', body: 'record' });
    const path = `/repos/${repo}/issues/comments/${id}/reactions`;

    const first = await call('POST', path, { content: 'eyes' });
    const second = await call('POST', path, { content: 'eyes' });

    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(record(first)).toMatchObject({
      content: 'eyes',
      user: { login: 'afk-bot' },
      created_at: '2024-06-01T12:00:00Z',
    });
    expect(fake.reactions(repo, id)).toEqual({ eyes: ['afk-bot'] });

    expect((await call('DELETE', path, { content: 'eyes' })).status).toBe(200);
    expect(fake.reactions(repo, id)).toEqual({});
    // Deleting a reaction that is gone is still 200.
    expect((await call('DELETE', path, { content: 'eyes' })).status).toBe(200);
  });

  it('refuses a reaction Forgejo does not allow with 403', async () => {
    const id = fake.addComment(repo, 5, { author: 'afk-bot', body: 'record' });

    const answer = await call('POST', `/repos/${repo}/issues/comments/${id}/reactions`, {
      content: 'thumbsup',
    });

    expect(answer).toMatchObject({
      status: 403,
      body: { message: "'thumbsup' is not an allowed reaction" },
    });
  });
});

describe('labels', () => {
  it('adds labels by id, and answers the issue labels sorted by name', async () => {
    fake.addRepo('acme/app2', { labels: ['b-label', 'a-label'] });
    fake.addIssue('acme/app2', { number: 1, title: 'x' });
    const b = Number(fake.labelRef('acme/app2', 'b-label'));
    const a = Number(fake.labelRef('acme/app2', 'a-label'));

    const answer = await call('POST', '/repos/acme/app2/issues/1/labels', { labels: [b, a] });

    expect(answer.status).toBe(200);
    expect(items(answer).map((l) => [l['id'], l['name']])).toEqual([
      [a, 'a-label'],
      [b, 'b-label'],
    ]);
    expect(fake.issue('acme/app2', 1).events.map((e) => [e.event, e.label])).toEqual([
      ['labeled', 'b-label'],
      ['labeled', 'a-label'],
    ]);
  });

  it('resolves names among repository and organisation labels, and drops unknown ones', async () => {
    fake.addRepo(repo, { labels: ['ready'] });
    fake.addOrgLabel('acme', 'org-wide');
    fake.addIssue(repo, { number: 1, title: 'x' });

    await call('POST', `/repos/${repo}/issues/1/labels`, {
      labels: ['ready', 'org-wide', 'nope'],
    });

    expect(fake.issue(repo, 1).labels.sort()).toEqual(['org-wide', 'ready']);
  });

  it('drops unknown ids and labels of another repository without a word', async () => {
    fake.addRepo('acme/other', { labels: ['theirs'] });
    fake.addIssue(repo, { number: 1, title: 'x' });

    const answer = await call('POST', `/repos/${repo}/issues/1/labels`, {
      labels: [Number(fake.labelRef('acme/other', 'theirs')), 999_999],
    });

    expect(answer).toMatchObject({ status: 200, body: [] });
    expect(fake.issue(repo, 1).labels).toEqual([]);
  });

  it.each([
    [['ready', 1], 'labels should be an array of strings or integers'],
    [[{ name: 'ready' }], 'a label must be an integer or a string'],
  ])('refuses %j with 400', async (labels, message) => {
    fake.addIssue(repo, { number: 1, title: 'x', labels: ['ready'] });

    const answer = await call('POST', `/repos/${repo}/issues/1/labels`, { labels });

    expect(answer).toMatchObject({ status: 400, body: { message } });
  });

  it('removes a label by id with 204, silently when the issue does not carry it', async () => {
    fake.addIssue(repo, { number: 1, title: 'x', labels: ['ready'] });
    const id = fake.labelRef(repo, 'ready');

    expect((await call('DELETE', `/repos/${repo}/issues/1/labels/${id}`)).status).toBe(204);
    expect((await call('DELETE', `/repos/${repo}/issues/1/labels/${id}`)).status).toBe(204);
    expect(fake.issue(repo, 1).events.map((e) => e.event)).toEqual(['unlabeled']);
  });

  it('answers 422 for a label id that no label has', async () => {
    fake.addIssue(repo, { number: 1, title: 'x' });

    expect(await call('DELETE', `/repos/${repo}/issues/1/labels/424242`)).toMatchObject({
      status: 422,
      body: { message: 'label does not exist [label_id: 0]' },
    });
  });

  it('refuses label writes with a bare 403 to a token with read access', async () => {
    fake.addRepo('acme/ro', { collaborators: { 'afk-bot': 'read' }, labels: ['ready'] });
    fake.addIssue('acme/ro', { number: 1, title: 'x' });
    const id = Number(fake.labelRef('acme/ro', 'ready'));

    const answer = await call('POST', '/repos/acme/ro/issues/1/labels', { labels: [id] });

    expect(answer).toEqual(expect.objectContaining({ status: 403, body: undefined }));
  });

  it('lists repository labels with X-Total-Count and no Link; all of them without page', async () => {
    fake.addRepo(repo, { labels: Array.from({ length: 60 }, (_, i) => `l${i}`) });

    const first = await call('GET', `/repos/${repo}/labels?limit=50&page=1`);
    const all = await call('GET', `/repos/${repo}/labels`);

    expect(items(first)).toHaveLength(50);
    expect(first.headers.get('x-total-count')).toBe('60');
    expect(first.headers.get('link')).toBeNull();
    expect(items(all)).toHaveLength(60);
  });

  it('serves organisation labels, and 404 for a user account', async () => {
    fake.addOrgLabel('acme', 'org-wide');
    fake.addUser('alice');
    fake.addRepo('alice/home');

    expect(items(await call('GET', '/orgs/acme/labels')).map((l) => l['name'])).toEqual([
      'org-wide',
    ]);
    expect((await call('GET', '/orgs/alice/labels')).status).toBe(404);
  });

  it('creates a duplicate label when asked, as Forgejo does, and normalises the colour', async () => {
    fake.addRepo(repo, { labels: ['ready'] });

    const answer = await call('POST', `/repos/${repo}/labels`, { name: 'ready', color: '#ABC' });

    expect(answer.status).toBe(201);
    expect(record(answer)).toMatchObject({ name: 'ready', color: 'aabbcc' });
    expect(
      items(await call('GET', `/repos/${repo}/labels`)).filter((l) => l['name'] === 'ready'),
    ).toHaveLength(2);
  });

  it.each([
    [{ name: 'x' }, '[Color]: Required'],
    [{ color: 'ffffff' }, '[Name]: Required'],
    [{ name: 'x', color: 'zzzzzz' }, 'bad color code: zzzzzz'],
  ])('refuses a label %j with 422', async (body, message) => {
    expect(await call('POST', `/repos/${repo}/labels`, body)).toMatchObject({
      status: 422,
      body: { message },
    });
  });
});

describe('the timeline', () => {
  it('encodes a label added as body "1" and removed as body ""', async () => {
    fake.addIssue(repo, { number: 1, title: 'x', labeledBy: { ready: 'maintainer' } });
    fake.addComment(repo, 1, { author: 'alice', body: 'hello' });
    fake.unlabelIssue(repo, 1, 'ready', 'alice');

    const answer = await call('GET', `/repos/${repo}/issues/1/timeline`);

    expect(
      items(answer).map((row) => [
        row['type'],
        row['body'],
        (row['user'] as { login: string }).login,
        (row['label'] as { name: string } | null)?.name ?? null,
      ]),
    ).toEqual([
      ['label', '1', 'maintainer', 'ready'],
      ['comment', 'hello', 'alice', null],
      ['label', '', 'alice', 'ready'],
    ]);
  });

  it('counts only the rows of the answer in X-Total-Count, and pages only when asked', async () => {
    fake.addIssue(repo, { number: 1, title: 'x' });
    for (let n = 0; n < 55; n++) fake.addComment(repo, 1, { author: 'alice', body: `#${n}` });

    const page = await call('GET', `/repos/${repo}/issues/1/timeline?page=1&limit=50`);
    const all = await call('GET', `/repos/${repo}/issues/1/timeline`);

    expect(items(page)).toHaveLength(50);
    expect(page.headers.get('x-total-count')).toBe('50');
    expect(items(all)).toHaveLength(55);
  });
});

describe('permissions', () => {
  beforeEach(() => {
    fake.addUser('alice');
    fake.addRepo('alice/admin', { collaborators: { 'afk-bot': 'admin', maintainer: 'maintain' } });
    fake.addIssue(repo, { number: 1, title: 'x', author: 'mallory' });
  });

  it.each<[string, string]>([
    ['maintainer', 'write'],
    ['afk-bot', 'admin'],
    ['alice', 'owner'],
    ['mallory', 'none'],
  ])('tells a repository admin what %s holds: %s', async (login, permission) => {
    const answer = await call('GET', `/repos/alice/admin/collaborators/${login}/permission`);

    expect(answer.status).toBe(200);
    expect(record(answer)).toMatchObject({ permission, role_name: permission, user: { login } });
  });

  it('refuses a token with write access the permission of others with 403, not its own', async () => {
    fake.addRepo('acme/app', { collaborators: { maintainer: 'write' } });

    const other = await call('GET', `/repos/${repo}/collaborators/maintainer/permission`);
    const own = await call('GET', `/repos/${repo}/collaborators/afk-bot/permission`);

    expect(other.status).toBe(403);
    expect(record(own)).toMatchObject({ permission: 'write' });
  });

  it('answers 404 for a user that does not exist', async () => {
    const answer = await call('GET', '/repos/alice/admin/collaborators/nobody/permission');

    expect(answer).toMatchObject({
      status: 404,
      body: { message: 'user does not exist [uid: 0, name: nobody]' },
    });
  });

  it('shows the token user permissions on the repository: admin, push, pull', async () => {
    expect(record(await call('GET', '/repos/alice/admin'))['permissions']).toEqual({
      admin: true,
      push: true,
      pull: true,
    });
    expect(record(await call('GET', `/repos/${repo}`))).toMatchObject({
      default_branch: 'main',
      permissions: { admin: false, push: true, pull: true },
    });
  });
});

describe('pull requests, branches and compare', () => {
  beforeEach(() => {
    fake.pushCommit(repo, 'main', sha('c1'));
  });

  it('lists every pull request when no state is given, newest first', async () => {
    fake.addPullRequest(repo, { head: 'a', headSha: sha('a1'), state: 'closed' });
    fake.addPullRequest(repo, { head: 'b', headSha: sha('b1') });

    const all = await call('GET', `/repos/${repo}/pulls`);
    const open = await call('GET', `/repos/${repo}/pulls?state=open`);

    expect(items(all).map((p) => p['number'])).toEqual([2, 1]);
    expect(items(open).map((p) => p['number'])).toEqual([2]);
    expect(all.headers.get('x-total-count')).toBe('2');
  });

  it('refuses a head filter, which Forgejo does not have', async () => {
    expect((await call('GET', `/repos/${repo}/pulls?head=acme:a`)).status).toBe(501);
  });

  it('keeps the branch in head.label and shows refs/pull/N/head once the branch is deleted', async () => {
    const number = fake.addPullRequest(repo, {
      head: 'afk/issue-1',
      headSha: sha('f1'),
      merged: true,
      mergeCommitSha: sha('m1'),
    });
    fake.deleteBranch(repo, 'afk/issue-1');

    const pull = record(await call('GET', `/repos/${repo}/pulls/${number}`));

    expect(pull).toMatchObject({
      merged: true,
      merge_commit_sha: sha('m1'),
      head: { label: 'afk/issue-1', ref: `refs/pull/${number}/head`, sha: sha('f1') },
    });
  });

  it('sends merge_commit_sha null until merged', async () => {
    const number = fake.addPullRequest(repo, { head: 'b', headSha: sha('b1') });

    expect(record(await call('GET', `/repos/${repo}/pulls/${number}`))).toMatchObject({
      merged: false,
      merged_at: null,
      merge_commit_sha: null,
    });
  });

  it('serves a branch with a slash in its name, and 404 for an unknown one', async () => {
    fake.pushCommit(repo, 'afk/issue-1', sha('f1'));

    expect(record(await call('GET', `/repos/${repo}/branches/afk/issue-1`))).toMatchObject({
      name: 'afk/issue-1',
      commit: { id: sha('f1') },
    });
    expect((await call('GET', `/repos/${repo}/branches/nope`)).status).toBe(404);
  });

  it('compares along the history: no commits when head is already on base', async () => {
    fake.pushCommit(repo, 'main', sha('c2'));
    fake.pushCommit(repo, 'feature', sha('f1'), { parents: [sha('c1')] });

    const onMain = await call('GET', `/repos/${repo}/compare/main...${sha('c1')}`);
    const aside = await call('GET', `/repos/${repo}/compare/main...${sha('f1')}`);

    expect(record(onMain)['total_commits']).toBe(0);
    expect(record(aside)['total_commits']).toBe(1);
  });

  it('answers 404 for an unknown commit and 500 for histories with nothing in common', async () => {
    fake.pushCommit(repo, 'orphan', sha('o1'), { parents: [] });

    expect(await call('GET', `/repos/${repo}/compare/main...${sha('dead')}`)).toMatchObject({
      status: 404,
      body: { message: 'IsRefExist' },
    });
    expect((await call('GET', `/repos/${repo}/compare/main...${sha('o1')}`)).status).toBe(500);
  });
});

describe('commit statuses', () => {
  it('answers a commit with no statuses with state "" and no statuses, not pending', async () => {
    const answer = await call('GET', `/repos/${repo}/commits/${sha('c1')}/status`);

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      state: '',
      sha: '',
      total_count: 0,
      statuses: null,
      repository: null,
      commit_url: '',
      url: '',
    });
  });

  it.each<[Array<'pending' | 'success' | 'failure' | 'error' | 'warning'>, string]>([
    [['success', 'success'], 'success'],
    [['success', 'pending'], 'pending'],
    [['pending', 'warning'], 'warning'],
    [['warning', 'failure'], 'failure'],
    [['success', 'error'], 'failure'],
  ])('combines %j into %s', async (states, combined) => {
    states.forEach((state, i) => fake.addStatus(repo, sha('c1'), { context: `ci/${i}`, state }));

    const answer = await call('GET', `/repos/${repo}/commits/${sha('c1')}/status`);

    expect(record(answer)['state']).toBe(combined);
  });

  it('keeps the newest status per context, names the state `status`, numbers them per commit', async () => {
    fake.setCi(repo, sha('c1'), 'ci/test', 'running');
    fake.setCi(repo, sha('c1'), 'ci/test', 'success');
    fake.addStatus(repo, sha('c2'), { context: 'ci/test', state: 'failure' });

    const answer = await call('GET', `/repos/${repo}/commits/${sha('c1')}/status`);
    const statuses = record(answer)['statuses'] as Array<Record<string, unknown>>;

    expect(statuses).toEqual([
      expect.objectContaining({ id: 2, status: 'success', context: 'ci/test' }),
    ]);
    expect(statuses[0]).not.toHaveProperty('state');
    expect(answer.headers.get('x-total-count')).toBe('1');
    const list = await call('GET', `/repos/${repo}/commits/${sha('c1')}/statuses`);
    expect(items(list).map((s) => [s['id'], s['status']])).toEqual([
      [2, 'success'],
      [1, 'pending'],
    ]);
  });

  it('resolves a branch name to its tip', async () => {
    fake.pushCommit(repo, 'main', sha('c1'));
    fake.addStatus(repo, sha('c1'), { context: 'deploy', state: 'success' });

    const answer = await call('GET', `/repos/${repo}/commits/main/status`);

    expect(record(answer)).toMatchObject({ state: 'success', sha: sha('c1') });
  });
});

describe('failure injection', () => {
  it('answers an injected failure only as many times as asked, before the auth check', async () => {
    fake.failNext({ method: 'GET', path: '/user' }, { status: 503 }, 2);

    const statuses = [];
    for (let n = 0; n < 3; n++) {
      statuses.push(
        (await call('GET', '/user', undefined, { authorization: 'token nope' })).status,
      );
    }

    expect(statuses).toEqual([503, 503, 401]);
  });

  it('answers malformed with a 200 of the wrong shape, and forgets cleared failures', async () => {
    fake.failNext({ path: /^\/user$/ }, 'malformed');
    fake.failNext({ path: '/user' }, { status: 500 });

    expect(await call('GET', '/user')).toMatchObject({
      status: 200,
      body: { unexpected: 'shape' },
    });
    fake.clearFailures();
    expect((await call('GET', '/user')).status).toBe(200);
  });

  it('fails the connection for a network error', async () => {
    fake.failNext({}, 'network-error');

    await expect(call('GET', '/user')).rejects.toThrow();
  });

  it('lists the writes, refused or not', async () => {
    fake.addIssue(repo, { number: 1, title: 'x' });
    await call('GET', `/repos/${repo}/issues/1`);
    await call('POST', `/repos/${repo}/issues/1/comments`, { body: '' });

    expect(fake.writes().map((w) => [w.method, w.path, w.body])).toEqual([
      ['POST', '/repos/acme/app/issues/1/comments', { body: '' }],
    ]);
  });
});

describe('reviews, mergeability and reactions on a pull request', () => {
  let pr: number;
  beforeEach(() => {
    fake.pushCommit(repo, 'main', sha('m1'));
    pr = fake.addPullRequest(repo, { head: 'feature', headSha: sha('f1') });
  });

  it('answers mergeable as a boolean: false once the pull request conflicts', async () => {
    expect(record(await call('GET', `/repos/${repo}/pulls/${pr}`))).toMatchObject({
      mergeable: true,
      head: { sha: sha('f1') },
      base: { sha: sha('m1') },
    });
    fake.setConflict(repo, pr, true);
    const base = fake.advanceBase(repo, pr);
    expect(record(await call('GET', `/repos/${repo}/pulls/${pr}`))).toMatchObject({
      mergeable: false,
      base: { sha: base },
    });
    expect(record(await call('GET', `/repos/${repo}/pulls/${pr}`))).not.toHaveProperty(
      'mergeable_state',
    );
  });

  it('lists reviews with X-Total-Count and no Link, states in Forgejo’s words', async () => {
    const changes = fake.addReview(repo, pr, {
      author: 'maintainer',
      state: 'changes-requested',
      body: 'Rename it.',
      comments: [{ path: 'a.ts', line: 3, body: 'here' }],
    });
    fake.addReview(repo, pr, { author: 'alice', state: 'commented', body: 'Nice.' });
    fake.addReview(repo, pr, { author: 'bob', state: 'dismissed', body: 'No.' });
    fake.addReview(repo, pr, { author: 'carol', state: 'approved' });

    const answer = await call('GET', `/repos/${repo}/pulls/${pr}/reviews?limit=2&page=1`);

    expect(answer.headers.get('x-total-count')).toBe('4');
    expect(answer.headers.get('link')).toBeNull();
    expect(items(answer)).toEqual([
      expect.objectContaining({
        id: changes.id,
        user: expect.objectContaining({ login: 'maintainer' }),
        state: 'REQUEST_CHANGES',
        body: 'Rename it.',
        commit_id: sha('f1'),
        dismissed: false,
        comments_count: 1,
        submitted_at: '2024-06-01T12:00:00Z',
      }),
      expect.objectContaining({ state: 'COMMENT', comments_count: 0 }),
    ]);
    const rest = items(await call('GET', `/repos/${repo}/pulls/${pr}/reviews?limit=2&page=2`));
    expect(rest.map((r) => [r['state'], r['dismissed']])).toEqual([
      ['REQUEST_CHANGES', true],
      ['APPROVED', false],
    ]);
  });

  it('serves a review’s comments unpaged, with the new line as position', async () => {
    const review = fake.addReview(repo, pr, {
      author: 'maintainer',
      state: 'commented',
      comments: [{ path: 'src/a.ts', line: 12, body: 'Call it total.' }],
    });

    const answer = await call('GET', `/repos/${repo}/pulls/${pr}/reviews/${review.id}/comments`);

    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-total-count')).toBeNull();
    expect(items(answer)).toEqual([
      expect.objectContaining({
        pull_request_review_id: review.id,
        path: 'src/a.ts',
        position: 12,
        original_position: 0,
        body: 'Call it total.',
        user: expect.objectContaining({ login: 'maintainer' }),
      }),
    ]);
  });

  it('hides another user’s pending review: not listed, its comments 404', async () => {
    const pending = fake.addReview(repo, pr, {
      author: 'alice',
      state: 'pending',
      comments: [{ path: 'a.ts', line: 1, body: 'draft' }],
    });

    expect(items(await call('GET', `/repos/${repo}/pulls/${pr}/reviews`))).toEqual([]);
    expect(
      (await call('GET', `/repos/${repo}/pulls/${pr}/reviews/${pending.id}/comments`)).status,
    ).toBe(404);
  });

  it('answers 404 for a review of another pull request and for an unknown pull request', async () => {
    const other = fake.addPullRequest(repo, { head: 'other', headSha: sha('o1') });
    const review = fake.addReview(repo, other, { author: 'alice', state: 'approved' });

    expect(
      (await call('GET', `/repos/${repo}/pulls/${pr}/reviews/${review.id}/comments`)).status,
    ).toBe(404);
    expect((await call('GET', `/repos/${repo}/pulls/99/reviews`)).status).toBe(404);
  });

  it('answers 501 for query parameters it does not implement', async () => {
    expect((await call('GET', `/repos/${repo}/pulls/${pr}?style=full`)).status).toBe(501);
    expect((await call('GET', `/repos/${repo}/pulls/${pr}/reviews?state=APPROVED`)).status).toBe(
      501,
    );
  });

  it('reacts to a pull request comment: 201, then 200 with the same reaction', async () => {
    const { id } = fake.addPullComment(repo, pr, 'maintainer', '/afk answer yes');
    const path = `/repos/${repo}/issues/comments/${id}/reactions`;

    const first = await call('POST', path, { content: '+1' });
    const second = await call('POST', path, { content: '+1' });

    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body).toEqual(first.body);
    expect(items(await call('GET', `/repos/${repo}/issues/${pr}/comments`))).toEqual([
      expect.objectContaining({ id, body: '/afk answer yes' }),
    ]);
  });

  it('refuses, as the forge would, a change request without a body', () => {
    expect(() => fake.addReview(repo, pr, { author: 'alice', state: 'changes-requested' })).toThrow(
      /needs a body/,
    );
  });
});
