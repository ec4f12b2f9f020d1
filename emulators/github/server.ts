// The GitHub fake's request pipeline, as msw handlers: record the request, answer an injected
// failure, check the token, then run the route; and the answers' common parts (rate-limit
// headers, pagination with GitHub's Link header, the 404 for an unknown repository or issue).
import { http, HttpResponse, type HttpHandler } from 'msw';
import type { FakeFailure } from '../forge.js';
import { failureAnswer as answerFailure, flatten } from '../forge-core.js';
import { createApps, type Access } from './apps.js';
import { docs, Refusal } from './errors.js';
import type { GitHubState, RepoRecord } from './state.js';

const rateLimit = 5000;

export interface Incoming {
  url: URL;
  params: Record<string, string>;
  body: unknown;
  rawBody: string;
}
export type Route = (incoming: Incoming) => Response | Promise<Response>;

export type Server = ReturnType<typeof createServer>;

export function createServer(state: GitHubState) {
  const { baseUrl, basePath, now, repos, log, requests, findRepo, callers } = state;
  const apps = createApps(state);

  // --- answers ----------------------------------------------------------------------------

  const rateLimitHeaders = (): Record<string, string> => {
    const used = Math.min(requests.length, rateLimit);
    return {
      'x-ratelimit-limit': String(rateLimit),
      'x-ratelimit-remaining': String(rateLimit - used),
      'x-ratelimit-reset': String(Math.floor(now().getTime() / 1000) + 3600),
      'x-ratelimit-used': String(used),
      'x-ratelimit-resource': 'core',
      'x-github-request-id': `FAKE:${requests.length}`,
      'x-github-api-version-selected': '2022-11-28',
    };
  };

  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const all = { ...rateLimitHeaders(), ...headers };
    if (body === undefined) return new HttpResponse(null, { status, headers: all });
    return HttpResponse.json(body, { status, headers: all });
  };

  const refusalAnswer = (refusal: Refusal) =>
    answer(refusal.status, {
      message: refusal.message,
      ...(refusal.errors === undefined ? {} : { errors: refusal.errors }),
      documentation_url: refusal.documentation,
      status: String(refusal.status),
    });

  const failureAnswer = (failure: FakeFailure) =>
    answerFailure(failure, answer, (status) => ({
      message: `fake failure ${status}`,
      documentation_url: docs,
      status: String(status),
    }));

  /** The repository a route names, if it exists: an installation must cover it. */
  const namedRepo = (params: Record<string, string>): RepoRecord | undefined =>
    params['id'] !== undefined && params['owner'] === undefined
      ? [...repos.values()].find((r) => String(r.id) === params['id'])
      : params['owner'] !== undefined
        ? findRepo(params['owner'], params['repo'] ?? '')
        : undefined;

  /**
   * `access`: what an app's installation token needs here (a user's token passes; its role is
   * the routes' to check), or that only the app's JWT is taken.
   */
  const route = (
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    handle: Route,
    access?: Access,
  ): HttpHandler =>
    http[method](`${baseUrl}${path}`, async ({ request, params }) => {
      const flat = flatten(params);
      // `/issues/comments` is another endpoint, not issue number "comments": fall through.
      if (flat['number'] !== undefined && !/^\d+$/.test(flat['number'])) return undefined;
      if (flat['id'] !== undefined && !/^\d+$/.test(flat['id'])) return undefined;
      const { recorded, rawBody } = await log.record(request);
      const failure = log.takeFailure(recorded);
      if (failure !== undefined) return failureAnswer(failure);
      try {
        const caller = apps.authenticate(recorded.headers, access);
        apps.checkAccess(caller, namedRepo(flat), access);
        const incoming = { url: new URL(request.url), params: flat, body: recorded.body, rawBody };
        return await callers.run(caller, () => handle(incoming));
      } catch (error) {
        if (error instanceof Refusal) return refusalAnswer(error);
        throw error;
      }
    });

  // Routes under /repos/{owner}/{repo} are also served as /repositories/{id}: the form
  // GitHub puts in its Link headers.
  const repoOf = (params: Record<string, string>, documentation: string): RepoRecord => {
    const repo =
      params['id'] !== undefined && params['owner'] === undefined
        ? [...repos.values()].find((r) => String(r.id) === params['id'])
        : findRepo(params['owner'] ?? '', params['repo'] ?? '');
    if (repo === undefined) throw new Refusal(404, 'Not Found', documentation);
    return repo;
  };

  const issueOf = (repo: RepoRecord, params: Record<string, string>, documentation: string) => {
    const issue = repo.issues.get(Number(params['number']));
    if (issue === undefined) throw new Refusal(404, 'Not Found', documentation);
    return issue;
  };

  /** One page of `items` plus GitHub's Link header. */
  const page = (url: URL, repo: RepoRecord, items: unknown[]) => {
    const { slice, headers } = paginate(url, repo, items);
    return answer(200, slice, headers);
  };

  /** One page of `items` and GitHub's Link header for it, for bodies that wrap the list. */
  const paginate = (url: URL, repo: RepoRecord, items: unknown[], defaultPerPage = 30) => {
    const asked = url.searchParams.get('per_page');
    const perPage = asked === null ? defaultPerPage : clamp(Number(asked), 1, 100, 30);
    const current = clamp(Number(url.searchParams.get('page') ?? 1), 1, Number.MAX_SAFE_INTEGER, 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((current - 1) * perPage, current * perPage);
    const rest = url.pathname
      .slice(basePath.length)
      .replace(/^\/repos\/[^/]+\/[^/]+|^\/repositories\/\d+/, '');
    const link = (n: number, rel: string) => {
      const target = new URL(`${baseUrl}/repositories/${repo.id}${rest}`);
      target.search = url.search;
      target.searchParams.set('page', String(n));
      return `<${target.href}>; rel="${rel}"`;
    };
    const links = [
      ...(current > 1 ? [link(Math.min(current - 1, last), 'prev')] : []),
      ...(current < last ? [link(current + 1, 'next'), link(last, 'last')] : []),
      ...(current > 1 ? [link(1, 'first')] : []),
    ];
    const headers: Record<string, string> = links.length === 0 ? {} : { link: links.join(', ') };
    return { slice, headers };
  };

  return { answer, route, repoOf, issueOf, page, paginate, apps };
}

function clamp(value: number, min: number, max: number, fallback: number): number {
  if (!Number.isFinite(value) || value < 1) return fallback;
  return Math.min(Math.max(Math.floor(value), min), max);
}
