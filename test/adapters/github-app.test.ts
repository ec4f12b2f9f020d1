import { createSign, generateKeyPairSync } from 'node:crypto';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubApp, type GitHubAppOptions } from '../../src/adapters/github-app.js';
import { createGitHubTracker } from '../../src/adapters/github.js';
import { ConfigError, TrackerError } from '../../src/core/errors.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { rejectionOf } from '../support/rejection.js';

const baseUrl = 'https://api.github.test';
const appId = 4242;
const slug = 'afk-app';
// Test keys only, made afresh for this file; GitHub hands out PKCS#1 PEM.
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const other = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

const server = setupServer();
let fake: GitHubFake;
let clock: Date;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  clock = new Date('2026-11-21T08:00:00Z');
  fake = createGitHubFake({ baseUrl, now: () => clock });
  server.use(...fake.handlers);
  fake.addRepo('acme/api');
  fake.addRepo('acme/web');
  fake.addRepo('globex/site');
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const install = (owner = 'acme', extra: Partial<Parameters<GitHubFake['installApp']>[0]> = {}) =>
  fake.installApp({ appId, slug, publicKey: keys.publicKey, owner, ...extra });

const app = (overrides: Partial<GitHubAppOptions> = {}) =>
  createGitHubApp({
    apiUrl: baseUrl,
    appId,
    privateKey: () => Promise.resolve(keys.privateKey),
    privateKeySource: { key: 'tracker.auth.privateKeyFile', file: '/keys/app.pem' },
    repos: ['acme/api', 'acme/web'],
    now: () => clock,
    ...overrides,
  });

const trackerOf = (github: ReturnType<typeof createGitHubApp>) =>
  createGitHubTracker({ apiUrl: baseUrl, token: github.token, throttle: false, retries: 0 });

/** Method, path and what authenticated it: the app's JWT, an installation token, or other. */
const sent = () =>
  fake.requests.map(({ method, path, headers }) => {
    const auth = headers['authorization'] ?? '';
    const kind = /^bearer ey[\w-]+\.[\w-]+\.[\w-]+$/i.test(auth)
      ? 'jwt'
      : /^(bearer|token) ghs_/i.test(auth)
        ? 'installation'
        : auth;
    return `${method} ${path} (${kind})`;
  });
const tokenOf = (index: number) =>
  (fake.requests[index]?.headers['authorization'] ?? '').replace(/^\w+ /, '');

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    number
  >;

describe('GitHub App authentication', () => {
  it('finds the installation with the JWT, mints its token, then sends REST with the token', async () => {
    const id = install();
    const tracker = trackerOf(app());

    await tracker.listLabelledIssues('acme/api', 'ready-for-agent', 'open');

    expect(sent()).toEqual([
      'GET /repos/acme/api/installation (jwt)',
      `POST /app/installations/${id}/access_tokens (jwt)`,
      'GET /repos/acme/api/issues (installation)',
    ]);
    const claims = claimsOf(tokenOf(0));
    expect(claims['iss']).toBe(appId);
    expect(claims['exp']! - claims['iat']!).toBeLessThanOrEqual(600);
  });

  it('mints one token per installation for a whole tick, whatever the repos and requests', async () => {
    install();
    const tracker = trackerOf(app());

    await Promise.all([
      tracker.listLabelledIssues('acme/api', 'ready-for-agent', 'open'),
      tracker.listLabelledIssues('acme/web', 'ready-for-agent', 'open'),
    ]);
    await tracker.listRepoLabels('acme/web');

    const auth = sent().filter((line) => line.endsWith('(jwt)'));
    expect(auth).toEqual([
      'GET /repos/acme/api/installation (jwt)',
      expect.stringMatching(/^POST \/app\/installations\/\d+\/access_tokens \(jwt\)$/),
    ]);
    const tokens = new Set(fake.requests.slice(2).map((_, i) => tokenOf(i + 2)));
    expect(tokens.size).toBe(1);
  });

  it('uses each owner’s own installation and token', async () => {
    const acme = install('acme');
    const globex = install('globex');
    const tracker = trackerOf(app({ repos: ['acme/api', 'globex/site'] }));

    await tracker.listRepoLabels('acme/api');
    await tracker.listRepoLabels('globex/site');

    expect(sent()).toEqual([
      'GET /repos/acme/api/installation (jwt)',
      `POST /app/installations/${acme}/access_tokens (jwt)`,
      'GET /repos/acme/api/labels (installation)',
      'GET /repos/globex/site/installation (jwt)',
      `POST /app/installations/${globex}/access_tokens (jwt)`,
      'GET /repos/globex/site/labels (installation)',
    ]);
    expect(tokenOf(2)).not.toBe(tokenOf(5));
  });

  it('reads a batch owner by owner through GraphQL, each with its owner’s token', async () => {
    const acme = install('acme');
    const globex = install('globex');
    fake.addIssue('globex/site', { number: 1, title: 'Queued', labels: ['ready-for-agent'] });
    fake.addIssue('acme/api', { number: 2, title: 'Queued too', labels: ['ready-for-agent'] });
    const github = app({ repos: ['globex/site', 'acme/api'] });
    const tracker = createGitHubTracker({
      apiUrl: baseUrl,
      token: github.token,
      tokenPerOwner: true,
      throttle: false,
      retries: 0,
    });

    const answers = await tracker.readQueues(['globex/site', 'acme/api'], {
      ready: 'ready-for-agent',
      inProgress: 'agent-in-progress',
    });

    expect(answers.map((a) => a.ok && [a.repo, a.value.ready.map((i) => i.number)])).toEqual([
      ['globex/site', [1]],
      ['acme/api', [2]],
    ]);
    const queries = fake.requests.filter((r) => r.path === '/graphql');
    const owners = queries.map((r) => (r.body as { variables: { o0: string } }).variables.o0);
    expect(owners).toEqual(['globex', 'globex', 'acme', 'acme']);
    expect(sent().filter((line) => line.includes('access_tokens'))).toEqual([
      `POST /app/installations/${globex}/access_tokens (jwt)`,
      `POST /app/installations/${acme}/access_tokens (jwt)`,
    ]);
    const tokens = queries.map((r) => r.headers['authorization']);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).toBe(tokens[3]);
    expect(tokens[0]).not.toBe(tokens[2]);
  });

  it('mints a new token before the old one expires, in a long tick', async () => {
    const id = install();
    const tracker = trackerOf(app());
    await tracker.listRepoLabels('acme/api');
    const first = tokenOf(2);

    clock = new Date(clock.getTime() + 50 * 60_000);
    await tracker.listRepoLabels('acme/api');
    expect(tokenOf(3)).toBe(first);

    // 56 minutes in: the token has 4 minutes left, under the 5-minute margin.
    clock = new Date(clock.getTime() + 6 * 60_000);
    await tracker.listRepoLabels('acme/api');
    clock = new Date(clock.getTime() + 10 * 60_000);
    await tracker.listRepoLabels('acme/api');

    expect(sent().slice(4)).toEqual([
      `POST /app/installations/${id}/access_tokens (jwt)`,
      'GET /repos/acme/api/labels (installation)',
      'GET /repos/acme/api/labels (installation)',
    ]);
    expect(tokenOf(5)).not.toBe(first);
    expect(tokenOf(6)).toBe(tokenOf(5));
  });

  it('names the app as <slug>[bot] from GET /app, and never asks GET /user', async () => {
    install();
    const github = app();

    expect(await github.selfLogin()).toBe('afk-app[bot]');
    expect(await github.selfLogin()).toBe('afk-app[bot]');
    expect(sent()).toEqual(['GET /app (jwt)']);
  });

  it('says a refused JWT is the app’s key, naming the app and the key’s config key, not the key', async () => {
    fake.installApp({ appId, slug, publicKey: other.publicKey, owner: 'acme' });

    const error = await rejectionOf(app().selfLogin(), TrackerError);

    expect(error.kind).toBe('auth');
    expect(error.message).toBe(
      "tracker: GET /app: 401 the GitHub App 4242 JWT was refused (is tracker.auth.privateKeyFile this app's private key, and the clock right?): A JSON web token could not be decoded",
    );
    expect(error.message).not.toContain('PRIVATE KEY');
  });

  it('says which repo the app is not installed on', async () => {
    install('acme', { repos: ['acme/web'] });

    const error = await rejectionOf(trackerOf(app()).listRepoLabels('acme/api'), TrackerError);

    expect(error.message).toBe(
      "tracker: GET /repos/acme/api/installation: 404 the GitHub App 4242 is not installed on acme/api: install it on acme's repositories",
    );
  });

  it('refuses a key file that holds no RSA private key, naming the file and not its content', async () => {
    install();
    const github = app({
      privateKey: () => Promise.resolve('not a key, but a secret-looking text'),
    });

    const error = await rejectionOf(github.selfLogin(), ConfigError);

    expect(error.problems).toEqual([
      'tracker.auth.privateKeyFile: the file /keys/app.pem holds no RSA private key (expected the .pem GitHub generates for the app)',
    ]);
    expect(fake.requests).toEqual([]);
  });
});

describe('the fake’s GitHub App routes', () => {
  const jwt = (claims: Record<string, number>, key = keys.privateKey) => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const body = `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}`;
    const signature = createSign('RSA-SHA256').update(body).sign(key).toString('base64url');
    return `${body}.${signature}`;
  };
  const now = () => Math.floor(Date.now() / 1000);
  const getApp = async (token: string) => {
    const response = await fetch(`${baseUrl}/app`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeEach(() => install());

  it('answers GET /app to a valid JWT', async () => {
    const { status, body } = await getApp(jwt({ iat: now() - 30, exp: now() + 540, iss: appId }));
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: appId, slug, installations_count: 1 });
  });

  it.each([
    [
      'an expired JWT',
      () => jwt({ iat: now() - 700, exp: now() - 60, iss: appId }),
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    ],
    [
      'a JWT issued in the future',
      () => jwt({ iat: now() + 120, exp: now() + 500, iss: appId }),
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
    ],
    [
      'a JWT living longer than 10 minutes',
      () => jwt({ iat: now() - 30, exp: now() + 900, iss: appId }),
      "'Expiration time' claim ('exp') is too far in the future",
    ],
    [
      'a JWT of another app',
      () => jwt({ iat: now() - 30, exp: now() + 540, iss: 7 }),
      'Integration not found',
    ],
    [
      'a JWT signed with another key',
      () => jwt({ iat: now() - 30, exp: now() + 540, iss: appId }, other.privateKey),
      'A JSON web token could not be decoded',
    ],
    ['a user token', () => 'gh-test-token', 'A JSON web token could not be decoded'],
  ])('refuses %s with 401', async (_name, token, message) => {
    const { status, body } = await getApp(token());
    expect(status).toBe(401);
    expect(body['message']).toBe(message);
  });

  it('holds an installation token to its repos and its permissions', async () => {
    fake.addIssue('acme/api', { number: 1, title: 'x' });
    fake.addIssue('globex/site', { number: 1, title: 'x' });
    const installation = fake.installApp({
      appId: 77,
      slug: 'reader',
      publicKey: keys.publicKey,
      owner: 'acme',
      permissions: { issues: 'read' },
    });
    const minted = await fetch(`${baseUrl}/app/installations/${installation}/access_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt({ iat: now() - 30, exp: now() + 540, iss: 77 })}` },
    });
    expect(minted.status).toBe(201);
    const { token, expires_at } = (await minted.json()) as { token: string; expires_at: string };
    expect(expires_at).toBe('2026-11-21T09:00:00Z');
    const call = async (method: string, path: string) =>
      (
        await fetch(`${baseUrl}${path}`, {
          method,
          headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: JSON.stringify({ body: 'hi' }) } : {}),
        })
      ).status;

    expect(await call('GET', '/repos/acme/api/issues/1')).toBe(200);
    expect(await call('POST', '/repos/acme/api/issues/1/comments')).toBe(403);
    expect(await call('GET', '/repos/acme/api/pulls')).toBe(403);
    expect(await call('GET', '/repos/globex/site/issues/1')).toBe(404);
    expect(await call('GET', '/user')).toBe(403);
    // GraphQL too: another owner's repository does not exist for this token.
    const query = async (owner: string) => {
      const answer = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            'query Q($o: String!, $n: String!) { repository(owner: $o, name: $n) { nameWithOwner } }',
          variables: { o: owner, n: owner === 'acme' ? 'api' : 'site' },
        }),
      });
      return (await answer.json()) as { data: unknown; errors?: Array<{ type: string }> };
    };
    expect((await query('acme')).errors).toBeUndefined();
    expect((await query('globex')).errors?.map((e) => e.type)).toEqual(['NOT_FOUND']);
    clock = new Date(clock.getTime() + 61 * 60_000);
    expect(await call('GET', '/repos/acme/api/issues/1')).toBe(401);
  });
});
