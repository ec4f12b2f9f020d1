// The GitHub fake's request pipeline, as msw handlers: record the request, answer an injected
// failure, check the token, then run the route; and the answers' common parts (rate-limit
// headers, pagination with GitHub's Link header, the 404 for an unknown repository or issue).
import { http, HttpResponse, type HttpHandler } from 'msw';
import type { FakeFailure } from '../forge.js';
import { failureAnswer as answerFailure, flatten } from '../forge-core.js';
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
  const { baseUrl, basePath, now, repos, log, requests, findRepo } = state;

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

  const authRefusal = (headers: Record<string, string>): Refusal | undefined => {
    const header = headers['authorization'];
    if (header === undefined) return new Refusal(401, 'Requires authentication');
    const [, given] = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim()) ?? [];
    return given === state.token ? undefined : new Refusal(401, 'Bad credentials');
  };

  const route = (
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    handle: Route,
  ): HttpHandler =>
    http[method](`${baseUrl}${path}`, async ({ request, params }) => {
      const flat = flatten(params);
      // `/issues/comments` is another endpoint, not issue number "comments": fall through.
      if (flat['number'] !== undefined && !/^\d+$/.test(flat['number'])) return undefined;
      if (flat['id'] !== undefined && !/^\d+$/.test(flat['id'])) return undefined;
      const { recorded, rawBody } = await log.record(request);
      const failure = log.takeFailure(recorded);
      if (failure !== undefined) return failureAnswer(failure);
      const refused = authRefusal(recorded.headers);
      if (refused !== undefined) return refusalAnswer(refused);
      try {
        return await handle({
          url: new URL(request.url),
          params: flat,
          body: recorded.body,
          rawBody,
        });
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

  return { answer, route, repoOf, issueOf, page, paginate };
}

function clamp(value: number, min: number, max: number, fallback: number): number {
  if (!Number.isFinite(value) || value < 1) return fallback;
  return Math.min(Math.max(Math.floor(value), min), max);
}
