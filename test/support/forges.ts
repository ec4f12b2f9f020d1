// The forges every tick suite runs against: each builds a fresh strict fake and the `tracker`
// config section that points afk at it. A suite written with `describe.each(forges)` and the
// `ForgeFake` vocabulary runs unchanged on GitHub and on Forgejo.
import type { ForgeFake, ForgeKind, RecordedRequest, RequestMatch } from '../../emulators/forge.js';
import { createForgejoFake } from '../../emulators/forgejo.js';
import { createGitHubFake } from '../../emulators/github.js';
import { GITHUB_URL, TRACKER_TOKEN } from './cli.js';

export const FORGEJO_URL = 'https://forgejo.test/api/v1';
/** Every label afk uses, by their default names. */
export const AFK_LABELS = [
  'ready-for-agent',
  'agent-in-progress',
  'ready-for-human',
  'P0',
  'P1',
  'P2',
  'P3',
];

/** The issue the tick suites start from: acme/api#1, queued by a maintainer with write access. */
export const loginIssue = () => ({
  number: 1,
  title: 'Fix login',
  body: 'The login form rejects valid passwords.',
  labels: ['ready-for-agent'],
  labeledBy: { 'ready-for-agent': 'maintainer' },
});

export interface ForgeUnderTest {
  kind: ForgeKind;
  create(options?: { now?: () => Date }): ForgeFake;
  /** The `tracker` config section that points afk at the fake. */
  tracker: { kind: ForgeKind; apiUrl: string };
  /**
   * The request that lists a repo's queue (GitHub: one GraphQL query for every repo), to fail
   * it with `failNext`, and as errors name it; `unknownRepo` is how it answers for a repo the
   * forge does not know.
   */
  listing: {
    match(repo: string): RequestMatch;
    request(repo: string): string;
    unknownRepo: string;
  };
}

/**
 * A read as the tick suites assert it: `path?query` for REST, the operation and its
 * variables (keys sorted) for a GraphQL query.
 */
export function readLine(request: RecordedRequest): string {
  if (request.path !== '/graphql') return `${request.path}${request.search}`;
  const body = request.body as { operationName?: string; variables?: Record<string, unknown> };
  return graphqlRead(body.operationName ?? '?', body.variables ?? {});
}

/** A GraphQL read as `readLine` shows it. */
export function graphqlRead(operation: string, variables: Record<string, unknown>): string {
  const sorted = Object.entries(variables).sort(([a], [b]) => a.localeCompare(b));
  return `graphql ${operation} ${JSON.stringify(Object.fromEntries(sorted))}`;
}

/** The variables naming repos `r0`, `r1`, … in a batched query. */
export const repoVariables = (...repos: string[]): Record<string, string> =>
  Object.fromEntries(
    repos.flatMap((repo, i) => {
      const [owner = '', name = ''] = repo.split('/');
      return [
        [`o${i}`, owner],
        [`n${i}`, name],
      ];
    }),
  );

/** The reads of a tick: GETs and GraphQL queries. */
export const readsOf = (fake: ForgeFake): string[] =>
  fake.requests.filter((r) => r.method === 'GET' || r.path === '/graphql').map(readLine);

export const github: ForgeUnderTest = {
  kind: 'github',
  create: (options = {}) => createGitHubFake(options),
  tracker: { kind: 'github', apiUrl: GITHUB_URL },
  listing: {
    match: () => ({ method: 'POST', path: '/graphql' }),
    request: () => 'POST /graphql (AfkQueueCounts)',
    unknownRepo: '200 not-found',
  },
};

export const forgejo: ForgeUnderTest = {
  kind: 'forgejo',
  create: (options = {}) => {
    const fake = createForgejoFake({ baseUrl: FORGEJO_URL, token: TRACKER_TOKEN, ...options });
    // Forgejo lets only a repo admin read another user's permission (the labeler check), so
    // afk's account is an admin of every repo there, as the README's Forgejo section requires.
    // Forgejo adds labels by id and never creates one on the fly (GitHub does): afk's labels
    // exist in a set-up repo, as `afk doctor --fix-labels` leaves it.
    const addRepo = fake.addRepo.bind(fake);
    fake.addRepo = (repo, opts = {}) =>
      addRepo(repo, {
        ...opts,
        collaborators: { [fake.selfLogin]: 'admin', ...opts.collaborators },
        labels: opts.labels ?? AFK_LABELS,
      });
    return fake;
  },
  tracker: { kind: 'forgejo', apiUrl: FORGEJO_URL },
  listing: {
    match: (repo) => ({ method: 'GET', path: `/repos/${repo}/issues` }),
    request: (repo) => `GET /repos/${repo}/issues`,
    unknownRepo: '404 not-found',
  },
};

export const forges: ForgeUnderTest[] = [github, forgejo];
