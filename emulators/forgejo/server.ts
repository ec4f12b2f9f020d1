// The Forgejo fake's request pipeline, as msw handlers: record the request, answer an injected
// failure, check the token, then run the route; and the answers' common parts (paging with
// `X-Total-Count` and `Link`, the 404 for an unknown repository, issue or comment).
import { http, HttpResponse, type HttpHandler } from 'msw';
import type { FakeFailure } from '../forge.js';
import { failureAnswer as answerFailure, flatten } from '../forge-core.js';
import { notFound, Refusal } from './errors.js';
import type { ForgejoState, IssueRecord, RepoRecord } from './state.js';

// https://codeberg.org/forgejo/forgejo/src/branch/forgejo/modules/setting/api.go
const defaultPageSize = 30;
const maxPageSize = 50;

// --- the request pipeline: record, injected failures, auth, then the route ----------------

export interface Incoming {
  url: URL;
  params: Record<string, string>;
  /** The JSON body; `{}` when the request did not send JSON (Forgejo binds a form then). */
  body: unknown;
}
export type Route = (incoming: Incoming) => Response | Promise<Response>;

export type Server = ReturnType<typeof createServer>;

export function createServer(state: ForgejoState) {
  const { baseUrl, swaggerUrl, repos, log, commentIn, selfMode, selfCan } = state;

  // --- answers ----------------------------------------------------------------------------

  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (body === undefined) return new HttpResponse(null, { status, headers });
    return HttpResponse.json(body, { status, headers });
  };

  const refusalAnswer = (refusal: Refusal) => {
    if (refusal.message === null) return answer(refusal.status, undefined);
    return answer(refusal.status, {
      message: refusal.message,
      url: swaggerUrl,
      ...(refusal.errors === undefined ? {} : { errors: refusal.errors }),
    });
  };

  const failureAnswer = (failure: FakeFailure) =>
    answerFailure(failure, answer, (status) => ({
      message: `fake failure ${status}`,
      url: swaggerUrl,
    }));

  // `Authorization: token <t>` (lower-case `token`) or `Bearer <t>` (any case). A token Forgejo
  // does not know answers 401 with the user lookup's error; no token at all answers 401 "token
  // is required" here, where the real server would serve a public repository anonymously.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/auth/oauth2.go
  const authRefusal = (headers: Record<string, string>): Refusal | undefined => {
    const fields = (headers['authorization'] ?? '').trim().split(/\s+/);
    const [scheme, given] = fields;
    const isToken =
      fields.length === 2 && (scheme === 'token' || scheme?.toLowerCase() === 'bearer');
    if (!isToken) return new Refusal(401, 'token is required');
    return given === state.token
      ? undefined
      : new Refusal(401, 'user does not exist [uid: 0, name: ]');
  };

  const route = (
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    handle: Route,
  ): HttpHandler =>
    http[method](`${baseUrl}${path}`, async ({ request, params }) => {
      const flat = flatten(params);
      // `/issues/comments` is another endpoint, not issue number "comments": fall through.
      if (flat['index'] !== undefined && !/^\d+$/.test(flat['index'])) return undefined;
      if (flat['id'] !== undefined && !/^\d+$/.test(flat['id'])) return undefined;
      const { recorded, url, parseError } = await log.record(request);
      const failure = log.takeFailure(recorded);
      if (failure !== undefined) return failureAnswer(failure);
      const refused = authRefusal(recorded.headers);
      if (refused !== undefined) return refusalAnswer(refused);
      try {
        let body: unknown = recorded.body;
        if (method !== 'get') {
          // Forgejo binds JSON only for a JSON content type; anything else is read as a form,
          // which leaves every field empty. Undecodable JSON is a 422 from the binding.
          // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/api.go (bind)
          const json = /^application\/json\b/i.test(recorded.headers['content-type'] ?? '');
          if (!json) body = {};
          else if (parseError !== undefined) throw new Refusal(422, `[]: ${parseError}`);
          else if (body === undefined) body = {};
        }
        return await handle({ url, params: flat, body });
      } catch (error) {
        if (error instanceof Refusal) return refusalAnswer(error);
        throw error;
      }
    });

  const repoOf = (params: Record<string, string>): RepoRecord => {
    const repo = repos.get(`${params['owner'] ?? ''}/${params['repo'] ?? ''}`.toLowerCase());
    // A private repository the token's user cannot see does not exist, as far as it knows.
    if (repo === undefined || selfMode(repo) === 'none') throw notFound();
    return repo;
  };

  const issueOf = (repo: RepoRecord, params: Record<string, string>): IssueRecord => {
    const index = Number(params['index']);
    const issue = repo.issues.get(index);
    if (issue === undefined) {
      throw notFound(`issue does not exist [id: 0, repo_id: ${repo.id}, index: ${index}]`);
    }
    return issue;
  };

  // commentAssignment: an unknown id, or a comment of another repository, is a 404.
  const commentOf = (repo: RepoRecord, params: Record<string, string>) => {
    const id = Number(params['id']);
    const found = commentIn(repo, id);
    if (found === undefined) throw notFound(`comment does not exist [id: ${id}, issue_id: 0]`);
    return found;
  };

  // Writes to issues need write access; Forgejo answers a bare 403 (empty body).
  const requireIssueWriter = (repo: RepoRecord) => {
    if (!selfCan(repo, 'write')) throw new Refusal(403, null);
  };

  /**
   * Forgejo's `page` and `limit`: `limit` defaults to 30 and is capped at 50; `page` starts at
   * 1. `explicitPage` is whether the caller sent a page at all: some lists return everything
   * without one. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/utils/page.go
   */
  const listOptions = (url: URL) => {
    const page = formInt(url.searchParams.get('page'));
    const limit = formInt(url.searchParams.get('limit'));
    const size = limit <= 0 ? defaultPageSize : Math.min(limit, maxPageSize);
    return { page: Math.max(page, 1), size, explicitPage: page > 0 };
  };

  const pageOf = <T>(items: T[], { page, size }: { page: number; size: number }): T[] =>
    items.slice((page - 1) * size, page * size);

  /**
   * Forgejo's `Link` header: next, last, first, prev, joined by `,`, each the request's own URL
   * with `page` replaced and the query re-encoded in key order, as Go's url.Values does.
   * https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/context/api.go (genAPILinks)
   */
  const linkHeader = (url: URL, total: number, size: number, page: number) => {
    const pages = Math.ceil(total / size);
    const link = (n: number, rel: string) => {
      const query = new URLSearchParams(url.searchParams);
      query.set('page', String(n));
      query.sort();
      return `<${url.origin}${url.pathname}?${query.toString()}>; rel="${rel}"`;
    };
    const links = [
      ...(page < pages ? [link(page + 1, 'next')] : []),
      ...(total > 0 && page !== pages ? [link(pages, 'last')] : []),
      ...(page !== 1 ? [link(1, 'first')] : []),
      ...(page > 1 ? [link(page - 1, 'prev')] : []),
    ];
    return links.length === 0 ? {} : { link: links.join(',') };
  };

  const totalCount = (total: number) => ({ 'x-total-count': String(total) });

  return {
    answer,
    route,
    repoOf,
    issueOf,
    commentOf,
    requireIssueWriter,
    listOptions,
    pageOf,
    linkHeader,
    totalCount,
  };
}

/** Go's `ctx.FormInt`: a value that is not an integer reads as 0. */
function formInt(value: string | null): number {
  if (value === null || !/^[+-]?\d+$/.test(value.trim())) return 0;
  return Number.parseInt(value, 10);
}
