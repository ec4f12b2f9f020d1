// A few named errors, each carrying what an operator needs to act: which upstream, which
// request, what kind of failure. Messages are built from method, path, status and the
// server's reason code only, so a token, a webhook URL or a request body never reaches them.

export type Upstream = 'tracker' | 't3' | 'slack';

export type FailureKind =
  /** Missing, wrong or expired credentials (401). */
  | 'auth'
  /** Authenticated but not allowed: a missing scope or permission (403). */
  | 'forbidden'
  | 'not-found'
  /** Primary or secondary rate limit that does not clear within the tick. */
  | 'rate-limited'
  /** The server understood the request and refused it (T3's dispatch 500, a 409 or 422). */
  | 'rejected'
  /** afk sent something the server's schema refuses: a bug in afk, not in the world. */
  | 'contract'
  /** 5xx, timeouts, resets: worth another try on a later tick. */
  | 'transient'
  /** The server answered 2xx with a body afk cannot read. */
  | 'malformed';

export interface UpstreamErrorInit {
  upstream: Upstream;
  kind: FailureKind;
  /** e.g. `POST /api/orchestration/dispatch (thread.create)` */
  request: string;
  status?: number | undefined;
  /** The server's own reason code, when it gave one. */
  reason?: string | undefined;
  cause?: unknown;
}

export class UpstreamError extends Error {
  readonly upstream: Upstream;
  readonly kind: FailureKind;
  readonly request: string;
  readonly status: number | undefined;
  readonly reason: string | undefined;

  constructor(init: UpstreamErrorInit) {
    const status = init.status === undefined ? '' : ` ${init.status}`;
    const reason = init.reason === undefined ? '' : ` (${init.reason})`;
    super(`${init.upstream}: ${init.request}:${status} ${init.kind}${reason}`, {
      cause: init.cause,
    });
    this.name = new.target.name;
    this.upstream = init.upstream;
    this.kind = init.kind;
    this.request = init.request;
    this.status = init.status;
    this.reason = init.reason;
  }
}

export class TrackerError extends UpstreamError {
  constructor(init: Omit<UpstreamErrorInit, 'upstream'>) {
    super({ ...init, upstream: 'tracker' });
  }
}

export class T3Error extends UpstreamError {
  constructor(init: Omit<UpstreamErrorInit, 'upstream'>) {
    super({ ...init, upstream: 't3' });
  }
}

export class SlackError extends UpstreamError {
  constructor(init: Omit<UpstreamErrorInit, 'upstream'>) {
    super({ ...init, upstream: 'slack' });
  }
}

/** Bad configuration or usage: exit code 2, every problem listed as `path.to.key: message`. */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[], source?: string) {
    const where = source === undefined ? '' : ` in ${source}`;
    super(`invalid configuration${where}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * The failure kind an HTTP error status means, for the upstreams without their own rules. A
 * 403 that says when to come back (`retry-after`) is a rate limit, not a refusal: GitHub's
 * secondary limits answer so, and so may a proxy in front of any upstream.
 * https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */
export function failureKindOf(status: number, retryAfter?: string | null): FailureKind {
  if (status === 400) return 'contract';
  if (status === 401) return 'auth';
  if (status === 403) return isRetryAfter(retryAfter) ? 'rate-limited' : 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'transient';
  return 'rejected';
}

/** A `retry-after` value: seconds, or an HTTP date. */
export const isRetryAfter = (value: string | null | undefined): boolean =>
  value !== undefined &&
  value !== null &&
  (/^\s*\d+\s*$/.test(value) || !Number.isNaN(Date.parse(value)));

/**
 * A one-line description of any thrown value, safe to log (messages carry no secrets). A
 * configuration error met by one step (a secret file gone) is its problems, each naming its key.
 */
export const describeError = (error: unknown): string => {
  if (error instanceof ConfigError) return error.problems.join('; ');
  return error instanceof Error ? error.message : String(error);
};
