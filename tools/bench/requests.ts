// What a tick asked of each upstream, read from the emulators' own request logs (the tick's
// process is not instrumented): each request becomes an upstream, a kind (method and route
// template, or the T3 command type) and, where the request names one, the live run it serves.
import type { RecordedRequest as GitHubRequest } from '../../emulators/forge.js';
import type { SlackRequest } from '../../emulators/slack.js';
import type { RecordedRequest as T3Request } from '../../emulators/t3.js';

export type Upstream = 'github' | 't3' | 'slack';

export interface Counted {
  upstream: Upstream;
  method: string;
  /** e.g. `GET /repos/:owner/:repo/issues` or `POST /api/orchestration/dispatch thread.create`. */
  kind: string;
  /** The live run the request is for (`owner/name#n`), or null for the tick's own reads. */
  run: string | null;
}

/** How to tell which live run a request serves. */
export interface RunIndex {
  /** `owner/name#n` of every live run. */
  runs: ReadonlySet<string>;
  /** Commit sha → run, for CI, compare and deployment lookups. */
  sha: ReadonlyMap<string, string>;
  /** Deployment id → run, for deployment statuses. */
  deployment: ReadonlyMap<number, string>;
  /** T3 thread id → run. */
  thread: ReadonlyMap<string, string>;
  /** Issue comment id → run (afk's own comment on it). */
  comment: ReadonlyMap<number, string>;
}

const emptyIndex: RunIndex = {
  runs: new Set(),
  sha: new Map(),
  deployment: new Map(),
  thread: new Map(),
  comment: new Map(),
};

/** The segment after each of these names a thing, not a route: it becomes a placeholder. */
const placeholders: Record<string, string> = {
  labels: ':name',
  collaborators: ':user',
  compare: ':basehead',
  commits: ':ref',
  branches: ':branch',
  threads: ':id',
};

/**
 * `/repos/acme/api/issues/12/labels/P1` → `/repos/:owner/:repo/issues/:n/labels/:name`.
 * GitHub's pagination links name the repository by id (`/repositories/123/issues?page=2`):
 * the same endpoint, so the same kind.
 */
export function routeOf(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  const byName = parts[0] === 'repos' && parts.length >= 3;
  const byId = parts[0] === 'repositories' && parts.length >= 2;
  const head = byName || byId ? ['repos', ':owner', ':repo'] : [];
  const rest = byName ? parts.slice(3) : byId ? parts.slice(2) : parts;
  const route = rest.map((segment, i) => {
    const named = placeholders[rest[i - 1] ?? ''];
    if (named !== undefined) return named;
    return /^\d+$/.test(segment) ? ':n' : segment;
  });
  return `/${[...head, ...route].join('/')}`;
}

export function countGitHub(request: GitHubRequest, index: RunIndex = emptyIndex): Counted {
  if (request.path === '/graphql') {
    // A batched read: it serves many runs at once, so it is no one run's.
    const body = isRecord(request.body) ? request.body : {};
    const operation = typeof body['operationName'] === 'string' ? body['operationName'] : '?';
    return { upstream: 'github', method: 'POST', kind: `POST /graphql ${operation}`, run: null };
  }
  return {
    upstream: 'github',
    method: request.method,
    kind: `${request.method} ${routeOf(request.path)}`,
    run: githubRun(request, index),
  };
}

function githubRun(request: GitHubRequest, index: RunIndex): string | null {
  const parts = request.path.split('/').filter((p) => p !== '');
  if (parts[0] !== 'repos' || parts.length < 4) return null;
  const repo = decodeURIComponent(`${parts[1]}/${parts[2]}`);
  const [what, id, more] = parts.slice(3);
  const known = (key: string | undefined) =>
    key !== undefined && index.runs.has(key) ? key : null;
  switch (what) {
    case 'issues':
      // `/issues/comments/:id` (a comment and its reactions) or `/issues/:n/...`.
      if (id === 'comments') return index.comment.get(Number(more)) ?? null;
      return id !== undefined && /^\d+$/.test(id) ? known(`${repo}#${id}`) : null;
    case 'pulls': {
      const branch = /^[^:]+:afk\/issue-(\d+)$/.exec(request.query['head'] ?? '');
      return branch === null ? null : known(`${repo}#${branch[1]}`);
    }
    case 'commits':
      return index.sha.get(id ?? '') ?? null;
    case 'compare':
      return index.sha.get((id ?? '').split('...')[0] ?? '') ?? null;
    case 'deployments':
      if (id === undefined) return index.sha.get(request.query['sha'] ?? '') ?? null;
      return more === 'statuses' ? (index.deployment.get(Number(id)) ?? null) : null;
    default:
      return null;
  }
}

export function countT3(request: T3Request, index: RunIndex = emptyIndex): Counted {
  const body = isRecord(request.body) ? request.body : {};
  const type = typeof body['type'] === 'string' ? ` ${body['type']}` : '';
  const threadId =
    typeof body['threadId'] === 'string'
      ? body['threadId']
      : /\/threads\/([^/]+)$/.exec(request.path)?.[1];
  return {
    upstream: 't3',
    method: request.method,
    kind: `${request.method} ${routeOf(request.path)}${type}`,
    run: threadId === undefined ? null : (index.thread.get(threadId) ?? null),
  };
}

export function countSlack(request: SlackRequest, index: RunIndex = emptyIndex): Counted {
  const text =
    isRecord(request.body) && typeof request.body['text'] === 'string' ? request.body['text'] : '';
  // The doorbell names its issue as `owner/name#n`.
  const named = [...text.matchAll(/([\w.-]+\/[\w.-]+#\d+)/g)].map((m) => m[1] ?? '');
  const run = named.find((key) => index.runs.has(key)) ?? null;
  return { upstream: 'slack', method: request.method, kind: `${request.method} webhook`, run };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A GET, or a GraphQL query: afk sends GitHub no mutation. */
export const isRead = (c: Pick<Counted, 'method' | 'kind'>) =>
  c.method === 'GET' || c.method === 'HEAD' || c.kind.startsWith('POST /graphql ');

/** Requests grouped by `key`, most frequent first. */
export function tally<T>(items: readonly T[], key: (item: T) => string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
