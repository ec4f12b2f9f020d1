// GitHub's batched reads: every query checked against GitHub's published schema, and the
// adapter's answers (paging, partial data, failures) against the emulator, which executes the
// queries over the same state its REST routes serve.
import { schema as published } from '@octokit/graphql-schema';
import {
  buildSchema,
  getVariableValues,
  Kind,
  parse,
  validate,
  type OperationDefinitionNode,
} from 'graphql';
import { getResponse, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubTracker, type GitHubTrackerOptions } from '../../src/adapters/github.js';
import {
  commentsQuery,
  queueCountsQuery,
  queuesQuery,
  reviewCommentsQuery,
  runsQuery,
  type GraphqlCall,
} from '../../src/adapters/github-graphql.js';
import { TrackerError, type Issue, type Tracker } from '../../src/core/index.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { githubSchema } from '../../emulators/github/graphql.js';

// The published SDL defines two fields twice (GitHub's own quirk): it is built as it is.
const schema = buildSchema(published.idl, { assumeValidSDL: true });

const baseUrl = 'https://api.github.test';
const token = 'gh-test-token';
const labels = { ready: 'ready-for-agent', inProgress: 'agent-in-progress' };

const issue = (repo: string, number: number): Issue => ({
  repo,
  number,
  title: 't',
  body: '',
  labels: [],
  state: 'open',
  author: null,
  createdAt: '2026-11-01T00:00:00Z',
  url: '',
});

/** One of each query afk sends, with every optional part present. */
const calls: Array<[string, GraphqlCall]> = [
  ['AfkQueueCounts (poll)', queueCountsQuery(['acme/api', 'acme/web'], labels)],
  ['AfkQueueCounts (watch)', queueCountsQuery(['acme/api'], { inProgress: 'agent-in-progress' })],
  [
    'AfkQueues',
    queuesQuery(
      [
        { repo: 'acme/api', list: 'ready', first: 100, after: null },
        { repo: 'acme/api', list: 'live', first: 3, after: 'Y3Vyc29yOjE=' },
        { repo: 'acme/web', list: 'live', first: 1, after: null },
      ],
      labels,
    ),
  ],
  [
    'AfkRuns (pull requests, deployments)',
    runsQuery([
      { issue: issue('acme/api', 1), branch: 'afk/issue-1', environment: 'production' },
      { issue: issue('acme/api', 2), branch: 'afk/issue-2', environment: 'production' },
      { issue: issue('acme/web', 3), branch: 'afk/issue-3', environment: null },
    ]),
  ],
  [
    'AfkRuns (comments only)',
    runsQuery([{ issue: issue('acme/api', 1), branch: null, environment: null }]),
  ],
  [
    'AfkComments',
    commentsQuery([{ issue: { repo: 'acme/api', number: 1 }, after: 'Y3Vyc29yOjEwMA==' }]),
  ],
  [
    'AfkReviewComments',
    reviewCommentsQuery([
      { repo: 'acme/api', pull: 12, reviews: 3 },
      { repo: 'acme/web', pull: 4, reviews: 1 },
    ]),
  ],
];

describe("afk's GraphQL queries", () => {
  it.each(calls)('%s validates against GitHub’s published schema', (_name, call) => {
    const document = parse(call.query);
    expect(validate(schema, document).map((e) => e.message)).toEqual([]);
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    expect(operation?.name?.value).toBe(call.operationName);
    // The variables sent fit the types the query declares.
    const coerced = getVariableValues(schema, operation?.variableDefinitions ?? [], call.variables);
    expect(coerced.errors?.map((e) => e.message)).toBeUndefined();
  });

  it('a query that asks for a field GitHub does not have fails the check', () => {
    const [, call] = calls[2] ?? [];
    const renamed = parse(call?.query.replace('totalCount', 'total') ?? '');
    expect(validate(schema, renamed).map((e) => e.message)).toContain(
      'Cannot query field "total" on type "IssueConnection".',
    );
  });

  it('carries values only as variables, never in the query text', () => {
    const call = runsQuery([
      { issue: issue('acme/api', 7), branch: 'afk/"evil"}', environment: 'prod"uction' },
    ]);
    expect(call.query).not.toContain('evil');
    expect(call.query).not.toContain('prod');
    expect(call.query).not.toContain('acme');
    expect(call.variables).toMatchObject({ b0: 'afk/"evil"}', e0: ['prod"uction'], i0: 7 });
  });
});

// --- the adapter against the emulator -----------------------------------------------------------

const server = setupServer();
let fake: GitHubFake;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  fake = createGitHubFake({ baseUrl, token });
  server.use(...fake.handlers);
  fake.addRepo('acme/api');
  fake.addRepo('acme/web');
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

const operations = () =>
  fake.requests.map((r) => {
    const body = r.body as { operationName?: string; variables?: Record<string, unknown> };
    return r.path === '/graphql' ? `${body.operationName}` : `${r.method} ${r.path}`;
  });
const variablesOf = (n: number) =>
  (fake.requests[n]?.body as { variables: Record<string, unknown> }).variables;

describe('readQueues on GitHub', () => {
  it('reads every repo in two queries, each list asked for its size, newest first', async () => {
    fake.addIssue('acme/api', {
      number: 1,
      title: 'Old',
      body: 'old body',
      labels: ['ready-for-agent', 'P1'],
      author: 'alice',
      createdAt: '2026-11-01T00:00:00Z',
    });
    fake.addIssue('acme/api', {
      number: 2,
      title: 'New',
      labels: ['ready-for-agent'],
      author: 'renovate[bot]',
      createdAt: '2026-11-02T00:00:00Z',
    });
    fake.addIssue('acme/web', {
      number: 5,
      title: 'Live',
      labels: ['agent-in-progress'],
      state: 'closed',
    });
    fake.addIssue('acme/web', { number: 6, title: 'Not queued', labels: ['P0'] });
    fake.addPullRequest('acme/api', { head: 'feature', headSha: '1'.repeat(40), number: 9 });

    const answers = await tracker().readQueues(['acme/api', 'acme/web'], labels);

    expect(answers).toEqual([
      {
        repo: 'acme/api',
        ok: true,
        value: {
          ready: [
            expect.objectContaining({
              number: 2,
              author: 'renovate[bot]',
              labels: ['ready-for-agent'],
              body: '',
            }),
            {
              repo: 'acme/api',
              number: 1,
              title: 'Old',
              body: 'old body',
              labels: ['ready-for-agent', 'P1'],
              state: 'open',
              author: 'alice',
              createdAt: '2026-11-01T00:00:00Z',
              url: 'https://github.test/acme/api/issues/1',
            },
          ],
          inProgress: [],
          human: [],
        },
      },
      {
        repo: 'acme/web',
        ok: true,
        value: {
          ready: [],
          inProgress: [expect.objectContaining({ number: 5, state: 'closed' })],
          human: [],
        },
      },
    ]);
    expect(operations()).toEqual(['AfkQueueCounts', 'AfkQueues']);
    expect(variablesOf(1)).toMatchObject({ readyFirst0: 2, liveFirst1: 1 });
    expect(variablesOf(1)).not.toHaveProperty('liveFirst0');
    // Two `issues` connections with labels under 3 issues: 5 requests, 1 point.
    expect(fake.graphql).toEqual({ points: 2, queries: 2 });
  });

  it('reads the open escalated runs when asked, in the same two queries', async () => {
    fake.addIssue('acme/api', { number: 1, title: 'Escalated', labels: ['ready-for-human'] });
    fake.addIssue('acme/api', {
      number: 2,
      title: 'Closed escalation',
      labels: ['ready-for-human'],
      state: 'closed',
    });
    fake.addIssue('acme/api', { number: 3, title: 'Live', labels: ['agent-in-progress'] });

    const [answer] = await tracker().readQueues(['acme/api'], {
      inProgress: 'agent-in-progress',
      human: 'ready-for-human',
    });

    expect(answer).toMatchObject({
      ok: true,
      value: { ready: [], inProgress: [{ number: 3 }], human: [{ number: 1, state: 'open' }] },
    });
    expect(operations()).toEqual(['AfkQueueCounts', 'AfkQueues']);
    expect(variablesOf(0)).toMatchObject({ human: ['ready-for-human'] });
    expect(variablesOf(0)).not.toHaveProperty('ready');
    expect(variablesOf(1)).toMatchObject({ humanFirst0: 1, liveFirst0: 1 });
  });

  it('pages a list only past 100, asking the last page for what is left', async () => {
    for (let n = 1; n <= 130; n += 1) {
      fake.addIssue('acme/api', { number: n, title: `#${n}`, labels: ['ready-for-agent'] });
    }

    const [answer] = await tracker().readQueues(['acme/api'], labels);

    expect(answer?.ok && answer.value.ready.map((i) => i.number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 130 }, (_, i) => i + 1),
    );
    expect(operations()).toEqual(['AfkQueueCounts', 'AfkQueues', 'AfkQueues']);
    expect(variablesOf(1)).toMatchObject({ readyFirst0: 100, readyAfter0: null });
    expect(variablesOf(2)).toMatchObject({ readyFirst0: 30, readyAfter0: expect.any(String) });
  });

  it('names an unknown repo and serves the others from the same query', async () => {
    fake.addIssue('acme/web', { number: 1, title: 'x', labels: ['ready-for-agent'] });

    const answers = await tracker().readQueues(['acme/gone', 'acme/web'], labels);

    expect(answers[0]).toMatchObject({ repo: 'acme/gone', ok: false });
    expect(String((answers[0] as { error: unknown }).error)).toBe(
      "TrackerError: tracker: POST /graphql (AfkQueueCounts): 200 not-found (NOT_FOUND: Could not resolve to a Repository with the name 'acme/gone'.)",
    );
    expect(answers[1]).toMatchObject({
      repo: 'acme/web',
      ok: true,
      value: { ready: [{ number: 1 }] },
    });
  });

  it('keeps the repos a partial answer served and names the one it did not', async () => {
    fake.addIssue('acme/api', { number: 1, title: 'x', labels: ['ready-for-agent'] });
    fake.addIssue('acme/web', { number: 2, title: 'y', labels: ['ready-for-agent'] });
    // GitHub answers 200 with the data it could read and an error naming the alias it could not.
    server.use(
      http.post(`${baseUrl}/graphql`, async ({ request }) => {
        const body = (await request.clone().json()) as { operationName: string };
        if (body.operationName !== 'AfkQueues') return undefined;
        const real = await getResponse(fake.handlers, request.clone());
        if (real === undefined) throw new Error('the fake did not answer');
        const answer = (await real.json()) as { data: Record<string, unknown> };
        return HttpResponse.json({
          data: { ...answer.data, r0: null },
          errors: [
            { type: 'FORBIDDEN', path: ['r0'], message: 'Resource not accessible by integration' },
          ],
        });
      }),
    );

    const answers = await tracker().readQueues(['acme/api', 'acme/web'], labels);

    expect(String((answers[0] as { error: unknown }).error)).toBe(
      'TrackerError: tracker: POST /graphql (AfkQueues): 200 forbidden (FORBIDDEN: Resource not accessible by integration)',
    );
    expect(answers[1]).toMatchObject({ ok: true, value: { ready: [{ number: 2 }] } });
  });

  it.each([
    [
      'a spent budget (RATE_LIMITED), with its reset time',
      { errors: [{ type: 'RATE_LIMITED', message: 'API rate limit exceeded for user ID 1.' }] },
      /^tracker: POST \/graphql \(AfkQueueCounts\): 200 rate-limited \(RATE_LIMITED: API rate limit exceeded for user ID 1\.; resets at 2030-01-01T00:00:00Z\)$/,
    ],
    [
      'a query GitHub refused (a validation error)',
      {
        errors: [
          {
            path: ['query', 'repository', 'foo'],
            extensions: { code: 'undefinedField' },
            message: "Field 'foo' doesn't exist on type 'Repository'",
          },
        ],
      },
      /^tracker: POST \/graphql \(AfkQueueCounts\): 200 contract \(undefinedField: Field 'foo'/,
    ],
    [
      'a body that is no GraphQL answer',
      { message: 'hello' },
      /200 malformed \(body: not a GraphQL answer/,
    ],
  ])('fails every repo of the query on %s', async (_name, body, message) => {
    fake.failNext(
      { path: '/graphql' },
      {
        status: 200,
        body,
        headers: { 'x-ratelimit-reset': String(Date.parse('2030-01-01T00:00:00Z') / 1000) },
      },
    );

    const answers = await tracker().readQueues(['acme/api', 'acme/web'], labels);

    for (const answer of answers) {
      expect(answer.ok).toBe(false);
      const error = (answer as { error: unknown }).error;
      expect(error).toBeInstanceOf(TrackerError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('names the rate limit when the throttling plugin meets RATE_LIMITED and cannot wait', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3600;
    fake.failNext(
      { path: '/graphql' },
      {
        status: 200,
        body: {
          errors: [{ type: 'RATE_LIMITED', message: 'API rate limit exceeded for user ID 1.' }],
        },
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      },
    );

    const [answer] = await tracker({ throttle: true, pace: false }).readQueues(
      ['acme/api'],
      labels,
    );

    expect((answer as { error: TrackerError }).error).toMatchObject({
      kind: 'rate-limited',
      request: 'POST /graphql (AfkQueueCounts)',
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('does not space its queries a second apart, as the throttling plugin spaces writes', async () => {
    fake.addIssue('acme/api', { number: 1, title: 'x', labels: ['ready-for-agent'] });
    githubSchema(); // built once per process: not part of the time measured
    const started = performance.now();

    const [answer] = await tracker({ throttle: true }).readQueues(['acme/api'], labels);

    expect(answer?.ok).toBe(true);
    expect(operations()).toEqual(['AfkQueueCounts', 'AfkQueues']);
    expect(performance.now() - started).toBeLessThan(900);
  });

  it('names the operation when the query gets no answer', async () => {
    fake.failNext({ path: '/graphql' }, { status: 503 });

    const [answer] = await tracker().readQueues(['acme/api'], labels);

    expect(String((answer as { error: unknown }).error)).toMatch(
      /^TrackerError: tracker: POST \/graphql \(AfkQueueCounts\): 503 transient/,
    );
  });
});

describe('prefetchRuns on GitHub', () => {
  const HEAD = '1'.repeat(40);
  const MERGE = '4'.repeat(40);

  it('reads comments, the PR, the CI of its head and merge commit, and deployments in one query', async () => {
    fake.addIssue('acme/api', { number: 1, title: 'x', labels: ['agent-in-progress'] });
    fake.addComment('acme/api', 1, {
      author: 'afk[bot]',
      body: 'record',
      createdAt: '2026-11-01T00:00:00Z',
    });
    fake.pushCommit('acme/api', 'main', '0'.repeat(40));
    fake.addPullRequest('acme/api', { head: 'afk/issue-1', headSha: HEAD, number: 12 });
    fake.setCi('acme/api', HEAD, 'test', 'success');
    fake.mergePullRequest('acme/api', 12, MERGE);
    fake.addStatus('acme/api', MERGE, {
      context: 'deploy/production',
      state: 'pending',
      description: 'rolling',
    });
    const deployment = fake.addDeployment('acme/api', { sha: MERGE, environment: 'production' });
    fake.addDeploymentStatus('acme/api', deployment, {
      state: 'success',
      environmentUrl: 'https://app.test',
    });
    fake.addIssue('acme/api', { number: 2, title: 'y', labels: ['agent-in-progress'] });

    const answers = await tracker().prefetchRuns([
      { issue: issue('acme/api', 1), branch: 'afk/issue-1', environment: 'production' },
      { issue: issue('acme/api', 2), branch: 'afk/issue-2', environment: 'production' },
    ]);

    expect(answers[0]).toEqual({
      ok: true,
      comments: [
        {
          id: expect.any(Number),
          author: 'afk[bot]',
          body: 'record',
          createdAt: '2026-11-01T00:00:00Z',
        },
      ],
      evidence: {
        pullRequest: expect.objectContaining({
          number: 12,
          state: 'closed',
          merged: true,
          headSha: HEAD,
          mergeCommitSha: MERGE,
        }),
        ci: {
          [HEAD]: {
            sha: HEAD,
            checkRuns: [
              expect.objectContaining({ name: 'test', status: 'completed', conclusion: 'success' }),
            ],
            statuses: [],
          },
          [MERGE]: {
            sha: MERGE,
            checkRuns: [],
            statuses: [
              { context: 'deploy/production', state: 'pending', url: null, description: 'rolling' },
            ],
          },
        },
        deployment: {
          [HEAD]: { sha: HEAD, environment: 'production', state: null, url: null, updatedAt: null },
          [MERGE]: expect.objectContaining({ state: 'success', url: 'https://app.test' }),
        },
      },
    });
    // No PR under afk's branch: certainly none, and nothing else to read.
    expect(answers[1]).toEqual({ ok: true, comments: [], evidence: { pullRequest: null } });
    expect(operations()).toEqual(['AfkRuns']);
  });

  it('pages the comments of a run that has more than 100', async () => {
    fake.addIssue('acme/api', { number: 1, title: 'x', labels: ['agent-in-progress'] });
    for (let n = 0; n < 150; n += 1)
      fake.addComment('acme/api', 1, { author: 'bob', body: `#${n}` });

    const [answer] = await tracker().prefetchRuns([
      { issue: issue('acme/api', 1), branch: null, environment: null },
    ]);

    expect(answer?.ok && answer.comments.map((c) => c.body)).toEqual(
      Array.from({ length: 150 }, (_, n) => `#${n}`),
    );
    expect(operations()).toEqual(['AfkRuns', 'AfkComments']);
  });

  it('fails the run an error names, and serves the others', async () => {
    fake.addIssue('acme/api', { number: 1, title: 'x', labels: ['agent-in-progress'] });
    fake.addComment('acme/api', 1, { author: 'bob', body: 'hi' });

    const answers = await tracker().prefetchRuns([
      { issue: issue('acme/api', 7), branch: null, environment: null },
      { issue: issue('acme/api', 1), branch: null, environment: null },
    ]);

    expect(String((answers[0] as { error: unknown }).error)).toBe(
      'TrackerError: tracker: POST /graphql (AfkRuns): 200 not-found (NOT_FOUND: Could not resolve to an Issue with the number of 7.)',
    );
    expect(answers[1]).toMatchObject({ ok: true, comments: [{ body: 'hi' }] });
  });

  describe('an open PR’s mergeability and review feedback', () => {
    const open = () => {
      fake.addIssue('acme/api', { number: 1, title: 'x', labels: ['agent-in-progress'] });
      fake.pushCommit('acme/api', 'main', '0'.repeat(40));
      fake.addPullRequest('acme/api', { head: 'afk/issue-1', headSha: HEAD, number: 12 });
    };
    const prefetch = async () => {
      const [answer] = await tracker().prefetchRuns([
        { issue: issue('acme/api', 1), branch: 'afk/issue-1', environment: null },
      ]);
      if (answer === undefined || !answer.ok) throw new Error(`not read: ${String(answer)}`);
      return answer.evidence;
    };
    const reviewed = () => {
      fake.addReview('acme/api', 12, {
        author: 'maintainer',
        state: 'changes-requested',
        body: 'Handle the empty password.',
        comments: [
          { path: 'src/login.ts', line: 42, body: 'This throws on "".' },
          { path: 'src/login.ts', line: 50, body: 'And here.' },
        ],
      });
      // A pending review is its author's alone: neither API shows it to afk.
      fake.addReview('acme/api', 12, {
        author: 'maintainer',
        state: 'pending',
        body: 'draft',
        comments: [{ path: 'src/a.ts', line: 1, body: 'unsent' }],
      });
      fake.addReview('acme/api', 12, {
        author: 'linter[bot]',
        state: 'commented',
        body: '',
        comments: [{ path: 'src/b.ts', line: 3, body: 'unused import' }],
      });
      fake.addReview('acme/api', 12, { author: 'lead', state: 'approved', body: 'ok' });
      fake.addPullComment('acme/api', 12, 'maintainer', 'Also log the failure.');
    };

    it('says what REST says, mergeability first unknown as GitHub computes it, in two queries', async () => {
      open();
      reviewed();

      const first = await prefetch();
      expect(first.mergeability).toEqual({
        mergeable: null,
        state: 'unknown',
        headSha: HEAD,
        baseSha: '0'.repeat(40),
      });
      // One computation behind both APIs: the GraphQL read started it, REST sees it done.
      const rest = tracker();
      const computed = await rest.readMergeability('acme/api', 12);
      expect(computed).toMatchObject({ mergeable: true, state: 'clean' });
      const second = await prefetch();
      expect(operations()).toEqual([
        'AfkRuns',
        'AfkReviewComments',
        'GET /repos/acme/api/pulls/12',
        'AfkRuns',
        'AfkReviewComments',
      ]);
      expect(second.mergeability).toEqual(computed);
      const feedback = await rest.readReviewFeedback('acme/api', 12);
      expect(second.reviewFeedback).toEqual(feedback);
      expect(feedback.reviews.map((r) => [r.author, r.state])).toEqual([
        ['maintainer', 'changes-requested'],
        ['linter[bot]', 'commented'],
        ['lead', 'approved'],
      ]);
      expect(feedback.reviewComments.map((c) => c.body)).toEqual([
        'This throws on "".',
        'And here.',
        'unused import',
      ]);
      expect(feedback.comments.map((c) => c.body)).toEqual(['Also log the failure.']);
    });

    it('says a conflict as REST does, and asks no second query for a PR without reviews', async () => {
      open();
      fake.setConflict('acme/api', 12, true);
      await prefetch();

      const evidence = await prefetch();
      expect(evidence.mergeability).toMatchObject({ mergeable: false, state: 'dirty' });
      expect(evidence.reviewFeedback).toEqual({ reviews: [], reviewComments: [], comments: [] });
      expect(operations()).toEqual(['AfkRuns', 'AfkRuns']);
    });

    it.each([
      [
        'more than 100 comments on the PR',
        () => {
          for (let n = 0; n < 101; n += 1) fake.addPullComment('acme/api', 12, 'bob', `#${n}`);
        },
        ['AfkRuns'],
      ],
      [
        'more than 100 reviews',
        () => {
          for (let n = 0; n < 101; n += 1)
            fake.addReview('acme/api', 12, { author: 'bob', state: 'approved', body: '' });
        },
        ['AfkRuns'],
      ],
      [
        'a review with more than 100 line comments',
        () => {
          const comments = Array.from({ length: 101 }, (_, n) => ({
            path: 'a.ts',
            line: n + 1,
            body: `#${n}`,
          }));
          fake.addReview('acme/api', 12, { author: 'bob', state: 'commented', comments });
        },
        ['AfkRuns', 'AfkReviewComments'],
      ],
    ])('leaves the feedback to REST when a list is full: %s', async (_name, fill, queries) => {
      open();
      fill();

      const evidence = await prefetch();

      expect(evidence.reviewFeedback).toBeUndefined();
      expect(evidence.mergeability).toMatchObject({ headSha: HEAD });
      expect(evidence.pullRequest).toMatchObject({ number: 12, state: 'open' });
      expect(operations()).toEqual(queries);
    });

    it('leaves the feedback to REST when the second query fails, and keeps the rest', async () => {
      open();
      reviewed();
      server.use(
        http.post(`${baseUrl}/graphql`, async ({ request }) => {
          const body = (await request.clone().json()) as { operationName: string };
          if (body.operationName === 'AfkReviewComments')
            return HttpResponse.json({ message: 'Server Error' }, { status: 502 });
          return getResponse(fake.handlers, request);
        }),
      );

      const evidence = await prefetch();

      expect(evidence.reviewFeedback).toBeUndefined();
      expect(evidence.mergeability).toMatchObject({ mergeable: null });
    });

    it('leaves out a closed PR’s: no decision asks for them', async () => {
      open();
      reviewed();
      fake.closePullRequest('acme/api', 12);

      const evidence = await prefetch();

      expect(evidence.pullRequest).toMatchObject({ state: 'closed', merged: false });
      expect(evidence).not.toHaveProperty('mergeability');
      expect(evidence).not.toHaveProperty('reviewFeedback');
      expect(operations()).toEqual(['AfkRuns']);
    });
  });

  it('leaves to REST a PR from a fork under afk’s branch name', async () => {
    fake.addIssue('acme/api', { number: 1, title: 'x', labels: ['agent-in-progress'] });
    fake.addPullRequest('acme/api', { head: 'afk/issue-1', headSha: HEAD, number: 12 });
    server.use(
      http.post(`${baseUrl}/graphql`, async ({ request }) => {
        const real = await getResponse(fake.handlers, request.clone());
        if (real === undefined) throw new Error('the fake did not answer');
        const answer = (await real.json()) as {
          data: { r0: { p0: { nodes: Array<Record<string, unknown>> } } };
        };
        for (const node of answer.data.r0.p0.nodes) node['isCrossRepository'] = true;
        return HttpResponse.json(answer);
      }),
    );

    const [answer] = await tracker().prefetchRuns([
      { issue: issue('acme/api', 1), branch: 'afk/issue-1', environment: null },
    ]);

    expect(answer).toMatchObject({ ok: true, evidence: {} });
    expect((answer as { evidence: object }).evidence).toEqual({});
  });
});
