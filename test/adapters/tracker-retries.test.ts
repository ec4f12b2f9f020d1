// The retry rules both forge trackers share, run once per forge against its strict fake
// through msw. Their rate limits differ (GitHub's primary and secondary limits, Forgejo's
// 429 with retry-after) and stay in github.test.ts and forgejo.test.ts.
import { beforeEach, describe, expect, it } from 'vitest';
import { createForgejoTracker } from '../../src/adapters/forgejo.js';
import { createGitHubTracker, type GitHubTrackerOptions } from '../../src/adapters/github.js';
import { TrackerError } from '../../src/core/errors.js';
import type { Tracker } from '../../src/core/ports.js';
import type { ForgeFake } from '../../emulators/forge.js';
import { createForgejoFake } from '../../emulators/forgejo.js';
import { createGitHubFake } from '../../emulators/github.js';
import { useMswServer } from '../support/msw.js';
import { rejectionOf } from '../support/rejection.js';

interface ForgeCase {
  name: string;
  baseUrl: string;
  token: string;
  createFake(options: { baseUrl: string; token: string }): ForgeFake;
  createTracker(options: GitHubTrackerOptions): Tracker;
  /** The statuses that are never retried (a 429 is a rate limit on GitHub, not on Forgejo). */
  neverRetried: number[];
}

const cases: ForgeCase[] = [
  {
    name: 'GitHub',
    baseUrl: 'https://api.github.test',
    token: 'gh-test-token',
    createFake: createGitHubFake,
    createTracker: createGitHubTracker,
    neverRetried: [400, 401, 403, 404, 409, 422],
  },
  {
    name: 'Forgejo',
    baseUrl: 'https://forgejo.test/api/v1',
    token: 'forgejo-test-token',
    createFake: createForgejoFake,
    createTracker: createForgejoTracker,
    neverRetried: [400, 401, 403, 404, 409, 412, 422, 429],
  },
];

const repo = 'acme/app';
const { server } = useMswServer();

const failure = (promise: Promise<unknown>) => rejectionOf(promise, TrackerError);

describe.each(cases)('retries on $name', (forge) => {
  let fake: ForgeFake;
  beforeEach(() => {
    fake = forge.createFake({ baseUrl: forge.baseUrl, token: forge.token });
    server.use(...fake.handlers);
    fake.addRepo(repo, { collaborators: { maintainer: 'maintain' } });
    fake.addIssue(repo, { number: 1, title: 'x', labels: ['afk'] });
  });

  const tracker = (overrides: Partial<GitHubTrackerOptions> = {}): Tracker =>
    forge.createTracker({
      apiUrl: forge.baseUrl,
      token: () => Promise.resolve(forge.token),
      throttle: false,
      retries: 0,
      ...overrides,
    });

  it('retries a 5xx up to `retries` times, then succeeds', async () => {
    fake.failNext({ path: '/repos/acme/app/issues' }, { status: 502 }, 2);

    const issues = await tracker({ retries: 2, maxRetryWaitSeconds: 0 }).listLabelledIssues(
      repo,
      'afk',
      'open',
    );

    expect(issues).toHaveLength(1);
    expect(fake.requests).toHaveLength(3);
  });

  it('gives up after `retries` retries', async () => {
    fake.failNext({ path: '/repos/acme/app/issues' }, { status: 503 }, 3);

    const error = await failure(
      tracker({ retries: 2, maxRetryWaitSeconds: 0 }).listLabelledIssues(repo, 'afk', 'open'),
    );

    expect(error).toMatchObject({ kind: 'transient', status: 503 });
    expect(fake.requests).toHaveLength(3);
  });

  it('retries a network error', async () => {
    fake.failNext({ path: '/repos/acme/app/issues' }, 'network-error');

    const issues = await tracker({ retries: 1, maxRetryWaitSeconds: 0 }).listLabelledIssues(
      repo,
      'afk',
      'open',
    );

    expect(issues).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
  });

  it('does not repeat an attempt that timed out', async () => {
    fake.failNext({ path: '/repos/acme/app/issues' }, 'timeout');

    const error = await failure(
      tracker({ retries: 2, maxRetryWaitSeconds: 0, timeoutMs: 20 }).listLabelledIssues(
        repo,
        'afk',
        'open',
      ),
    );

    expect(error.kind).toBe('transient');
    expect(fake.requests).toHaveLength(1);
  });

  it.each(forge.neverRetried)('never retries a %i as a 5xx', async (status) => {
    fake.failNext({ path: '/repos/acme/app/issues' }, { status, body: { message: 'no' } });

    await failure(
      tracker({ retries: 2, maxRetryWaitSeconds: 0 }).listLabelledIssues(repo, 'afk', 'open'),
    );

    expect(fake.requests).toHaveLength(1);
  });
});
