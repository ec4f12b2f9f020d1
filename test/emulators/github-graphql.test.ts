// The GitHub emulator's `POST /graphql`: it refuses what GitHub refuses, counts points the way
// GitHub documents, and answers from the state its REST routes serve.
// https://docs.github.com/en/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { GRAPHQL_POINTS } from '../../emulators/github/graphql.js';

const baseUrl = 'https://api.github.test';
const token = 'gh-test-token';
const server = setupServer();
let fake: GitHubFake;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  fake = createGitHubFake({ baseUrl, token });
  server.use(...fake.handlers);
  fake.addRepo('acme/api');
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function post(body: unknown, auth: string | null = `bearer ${token}`) {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(auth === null ? {} : { authorization: auth }),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const issues = (first: number, nested = '') =>
  `query Q { repository(owner: "acme", name: "api") { issues(first: ${first}) { nodes { number ${nested} } } } rateLimit { cost remaining used } }`;

describe('the GitHub emulator’s GraphQL endpoint', () => {
  it('refuses a request without a token (401)', async () => {
    const answer = await post({ query: issues(1) }, null);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ message: 'Requires authentication' });
  });

  it.each([
    [
      'a field GitHub does not have',
      'query { repository(owner: "acme", name: "api") { nope } }',
      { path: ['query'], extensions: { code: 'undefinedField' } },
    ],
    [
      'more than 100 on a connection',
      issues(101),
      {
        type: 'EXCESSIVE_PAGINATION',
        message:
          'Requesting 101 records on the `issues` connection exceeds the `first` limit of 100 records.',
      },
    ],
    [
      'a connection without first or last',
      'query { repository(owner: "acme", name: "api") { issues { totalCount } } }',
      { type: 'MISSING_PAGINATION_BOUNDARIES' },
    ],
    [
      'more than 500,000 nodes',
      'query { repository(owner: "acme", name: "api") { issues(first: 100) { nodes { comments(first: 100) { nodes { reactions(first: 100) { totalCount } } } } } } }',
      { type: 'MAX_NODE_LIMIT_EXCEEDED' },
    ],
    ['a query that does not parse', 'query {', { message: expect.stringMatching(/^Syntax Error/) }],
  ])(
    'answers 200 with errors and no data for %s, and spends nothing',
    async (_name, query, error) => {
      const answer = await post({ query });
      expect(answer.status).toBe(200);
      expect(answer.body).not.toHaveProperty('data');
      expect(answer.body['errors']).toEqual([expect.objectContaining(error)]);
      expect(fake.graphql.points).toBe(0);
    },
  );

  it.each([
    // One request per connection per node of its parent connections; the sum over 100, rounded.
    ['one connection', issues(100), 1],
    ['100 issues with their labels', issues(100, 'labels(first: 10) { nodes { name } }'), 1],
    [
      '100 issues with labels and comments',
      issues(100, 'labels(first: 10) { nodes { name } } comments(first: 1) { totalCount }'),
      2,
    ],
    [
      '50 issues with comments and their reactions',
      issues(50, 'comments(first: 20) { nodes { reactions(first: 5) { totalCount } } }'),
      11,
    ],
  ])('costs %s what GitHub documents', async (_name, query, cost) => {
    const answer = await post({ query });
    expect(answer.body['data']).toMatchObject({
      rateLimit: { cost, used: cost, remaining: GRAPHQL_POINTS - cost },
    });
    expect(answer.headers.get('x-ratelimit-resource')).toBe('graphql');
    expect(answer.headers.get('x-ratelimit-remaining')).toBe(String(GRAPHQL_POINTS - cost));
    expect(fake.graphql).toEqual({ points: cost, queries: 1 });
  });

  it('refuses with RATE_LIMITED once the points are spent', async () => {
    const query = issues(
      50,
      'comments(first: 100) { nodes { reactions(first: 10) { totalCount } } }',
    );
    let answer = await post({ query });
    const cost = (answer.body['data'] as { rateLimit: { cost: number } }).rateLimit.cost;
    while (fake.graphql.points + cost <= GRAPHQL_POINTS) answer = await post({ query });
    answer = await post({ query });
    expect(answer.status).toBe(200);
    expect(answer.body['errors']).toEqual([expect.objectContaining({ type: 'RATE_LIMITED' })]);
    expect(answer.headers.get('x-ratelimit-remaining')).toBe(
      String(GRAPHQL_POINTS - fake.graphql.points),
    );
  });

  it('answers from the state the REST routes change', async () => {
    fake.addIssue('acme/api', { number: 1, title: 'x' });
    const labelled = await fetch(`${baseUrl}/repos/acme/api/issues/1/labels`, {
      method: 'POST',
      headers: { authorization: `bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ labels: ['ready-for-agent'] }),
    });
    expect(labelled.status).toBe(200);
    const answer = await post({
      query:
        'query Q($l: [String!]) { repository(owner: "acme", name: "api") { issues(labels: $l, first: 10) { nodes { number labels(first: 5) { nodes { name } } } } } }',
      variables: { l: ['ready-for-agent'] },
    });
    expect(answer.body).toEqual({
      data: {
        repository: {
          issues: { nodes: [{ number: 1, labels: { nodes: [{ name: 'ready-for-agent' }] } }] },
        },
      },
    });
    // A query is not a write.
    expect(fake.writes().map((r) => r.path)).toEqual(['/repos/acme/api/issues/1/labels']);
  });

  it('names an unknown repository with GitHub’s NOT_FOUND, at its alias', async () => {
    const answer = await post({
      query:
        'query { a: repository(owner: "acme", name: "api") { name } b: repository(owner: "acme", name: "gone") { name } }',
    });
    expect(answer.body['data']).toEqual({ a: null, b: null });
    // `name` has no resolver in the fake: it answers null, which GraphQL reports where the
    // schema says it cannot be null.
    expect(answer.body['errors']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'NOT_FOUND',
          path: ['b'],
          message: "Could not resolve to a Repository with the name 'acme/gone'.",
        }),
      ]),
    );
  });
});
