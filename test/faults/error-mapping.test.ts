// The error mapping the fault matrix relies on, one adapter at a time: a 403 that says when
// to come back is a rate limit on every upstream, and GitHub's rate-limit handling (the
// throttling plugin) gives up at once on a wait the tick cannot afford, with or without its
// write pacing.
import { http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { createForgejoTracker } from '../../src/adapters/forgejo.js';
import { createGitHubTracker } from '../../src/adapters/github.js';
import { createSlackDoorbell } from '../../src/adapters/slack.js';
import { createT3Client } from '../../src/adapters/t3.js';
import { failureKindOf, UpstreamError } from '../../src/core/errors.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { createSlackFake, defaultWebhookUrl } from '../../emulators/slack.js';
import { createT3Fake } from '../../emulators/t3.js';
import { FORGEJO_URL, forgejo } from '../support/forges.js';
import { GITHUB_URL, T3_TOKEN, T3_URL, TRACKER_TOKEN } from '../support/cli.js';
import { useMswServer } from '../support/msw.js';
import { rejectionOf } from '../support/rejection.js';

const { server } = useMswServer();

const failure = (promise: Promise<unknown>) => rejectionOf(promise, UpstreamError);

describe('failureKindOf', () => {
  it.each([
    [403, undefined, 'forbidden'],
    [403, null, 'forbidden'],
    [403, '120', 'rate-limited'],
    [403, 'Sat, 21 Nov 2026 10:00:00 GMT', 'rate-limited'],
    [403, 'later', 'forbidden'],
    [429, undefined, 'rate-limited'],
    [401, '120', 'auth'],
    [503, '120', 'transient'],
  ] as const)('maps %i with retry-after %j to %s', (status, retryAfter, kind) => {
    expect(failureKindOf(status, retryAfter)).toBe(kind);
  });
});

describe('a 403 with retry-after', () => {
  it('is rate-limited on T3, where a bare 403 is a missing scope', async () => {
    const t3 = createT3Fake();
    server.use(...t3.handlers);
    const client = createT3Client({
      baseUrl: T3_URL,
      token: () => Promise.resolve(T3_TOKEN),
      retries: 0,
    });
    t3.failNext(
      { path: '/api/orchestration/snapshot' },
      { status: 403, headers: { 'retry-after': '120' } },
    );

    const error = await failure(client.readSnapshot());

    expect(error.message).toBe('t3: GET /api/orchestration/snapshot: 403 rate-limited');
  });

  it('is rate-limited on Slack, and not retried within the ring', async () => {
    const slack = createSlackFake();
    server.use(
      http.post(
        defaultWebhookUrl,
        () =>
          new HttpResponse('rate_limited', {
            status: 403,
            headers: { 'content-type': 'text/html', 'retry-after': '30' },
          }),
      ),
      ...slack.handlers,
    );
    const doorbell = createSlackDoorbell({
      webhookUrl: () => Promise.resolve(defaultWebhookUrl),
      retryDelayMs: 0,
    });

    const error = await failure(
      doorbell.ring({ text: 'afk: x', url: 'https://x.test', fields: [] }),
    );

    expect(error.message).toBe('slack: POST <slack webhook>: 403 rate-limited (rate_limited)');
    expect(slack.requests).toHaveLength(0);
  });

  it('is rate-limited on Forgejo', async () => {
    const fake = forgejo.create();
    server.use(...fake.handlers);
    fake.addRepo('acme/api');
    const tracker = createForgejoTracker({
      apiUrl: FORGEJO_URL,
      token: () => Promise.resolve(TRACKER_TOKEN),
      retries: 0,
    });
    fake.failNext(
      { path: '/repos/acme/api/issues' },
      { status: 403, body: { message: 'slow down' }, headers: { 'retry-after': '120' } },
    );

    const error = await failure(tracker.listLabelledIssues('acme/api', 'ready-for-agent', 'open'));

    expect(error).toMatchObject({ kind: 'rate-limited', status: 403 });
  });
});

describe('GitHub with its rate-limit handling but no write pacing', () => {
  let fake: GitHubFake;
  beforeEach(() => {
    fake = createGitHubFake();
    server.use(...fake.handlers);
    fake.addRepo('acme/api');
    fake.addIssue('acme/api', { number: 1, title: 'x' });
  });
  const tracker = () =>
    createGitHubTracker({
      apiUrl: GITHUB_URL,
      token: () => Promise.resolve(TRACKER_TOKEN),
      retries: 0,
      throttle: true,
      pace: false,
    });

  it('gives up at once on a secondary rate limit whose retry-after outlasts the tick', async () => {
    fake.failNext(
      { method: 'POST' },
      {
        status: 403,
        body: { message: 'You have exceeded a secondary rate limit.' },
        headers: { 'retry-after': '120' },
      },
    );
    const started = performance.now();

    const error = await failure(tracker().createComment({ repo: 'acme/api', number: 1 }, 'hi'));

    expect(performance.now() - started).toBeLessThan(2000);
    expect(error).toMatchObject({ kind: 'rate-limited', status: 403 });
    expect(fake.requests).toHaveLength(1);
  });

  it('sends writes without the second between them that pacing puts there', async () => {
    const github = tracker();
    const started = performance.now();

    for (const label of ['a', 'b', 'c']) {
      await github.addLabels({ repo: 'acme/api', number: 1 }, [label]);
    }

    // Paced, the three writes would take two seconds at least.
    expect(performance.now() - started).toBeLessThan(1500);
    expect(fake.issue('acme/api', 1).labels.sort()).toEqual(['a', 'b', 'c']);
  });
});
