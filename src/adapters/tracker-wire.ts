// What both tracker adapters do at their edge the same way: split `owner/name`, and turn an
// answer into a domain value only after it passed its schema, naming the first field that did
// not (never the body itself: it may quote an issue or a token).
import type * as z from 'zod';
import { TrackerError, type FailureKind, type RepoName } from '../core/index.js';

/** How either tracker adapter is built: the commands swap one for the other by `tracker.kind`. */
export interface TrackerOptions {
  /** REST base: `https://api.github.com`, `https://ghe.example/api/v3`, `https://forgejo.example/api/v1`. */
  apiUrl: string;
  /**
   * Asked before every request, never cached: tokens rotate. `scope` names the repository's
   * owner the request touches (a GitHub App holds one installation token per owner).
   */
  token: (scope?: TokenScope) => Promise<string>;
  /**
   * GitHub: the token depends on the owner (a GitHub App's installation tokens), so a batched
   * GraphQL read, which names no owner, goes owner by owner. Default false: one batch for all.
   */
  tokenPerOwner?: boolean | undefined;
  /** The login the token acts as; when set, `getSelfLogin` makes no request. */
  login?: string | undefined;
  /** Per request (each attempt), in milliseconds. Default 15000. */
  timeoutMs?: number | undefined;
  /**
   * The longest a tick may sleep before one retry: a rate limit that clears later fails at
   * once with kind `rate-limited`, and the 5xx backoff is scaled to fit. Default 10.
   */
  maxRetryWaitSeconds?: number | undefined;
  /** Retries of a 5xx or network failure. Default 2. */
  retries?: number | undefined;
  /**
   * Honour rate-limit answers: on GitHub @octokit/plugin-throttling (its limits and write
   * pacing); on Forgejo, which documents no secondary limits, a 429's `retry-after` once within
   * `maxRetryWaitSeconds`. Default true; tests pass false.
   */
  throttle?: boolean | undefined;
  /**
   * GitHub, with `throttle`: whether writes are spaced (a second apart). Default true. False
   * keeps the handling of rate-limit answers without the spacing: the fault matrix's ticks take
   * GitHub's real rate-limit path without sleeping between writes. Forgejo ignores it.
   */
  pace?: boolean | undefined;
  userAgent?: string | undefined;
  fetch?: typeof fetch | undefined;
  /** Aborts every request, e.g. at the tick's deadline. */
  signal?: AbortSignal | undefined;
}

/** The repository a request touches, as far as it names one. */
export interface TokenScope {
  owner?: string | undefined;
  repo?: string | undefined;
}

/** Where a body came from, for the error when it is not what afk expects. */
export interface Origin {
  request: string;
  status: number;
}

export function read<T>(schema: z.ZodType<T>, data: unknown, { request, status }: Origin): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.');
  throw new TrackerError({
    kind: 'malformed',
    request,
    status,
    reason: `${where}: ${issue?.message ?? 'unexpected shape'}`,
  });
}

export function splitRepo(repo: RepoName): { owner: string; name: string } {
  const [owner, name, ...rest] = repo.split('/');
  if (owner === undefined || owner === '' || name === undefined || name === '' || rest.length > 0) {
    throw new TrackerError({
      kind: 'contract',
      request: `(repo "${repo}")`,
      reason: 'expected owner/name',
    });
  }
  return { owner, name };
}

/** What a GitHub answer's status (and its rate-limit headers) means, for the REST reads and the App's token requests alike. */
export function failureKind(
  status: number,
  headers: Record<string, string | number | undefined>,
  message: string | undefined,
): FailureKind {
  if (status === 401) return 'auth';
  // GitHub answers both primary and secondary rate limits with 403 or 429; the headers or the
  // message tell them apart from a plain permission refusal.
  // https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-primary-rate-limit
  if (status === 429) return 'rate-limited';
  if (status === 403) {
    const limited =
      String(headers['x-ratelimit-remaining']) === '0' ||
      headers['retry-after'] !== undefined ||
      /\brate limit\b/i.test(message ?? '');
    return limited ? 'rate-limited' : 'forbidden';
  }
  if (status === 404) return 'not-found';
  if (status === 409 || status === 410 || status === 422) return 'rejected';
  if (status >= 500) return 'transient';
  // 400 "Problems parsing JSON" and friends: afk sent something GitHub cannot read.
  if (status === 400) return 'contract';
  return 'rejected';
}
