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
  /** The request never got an answer: where it was going and why it did not arrive. */
  network?: NetworkFailure | undefined;
  /** Says what happened in afk's words, in place of the kind and reason. */
  detail?: string | undefined;
  cause?: unknown;
}

/**
 * A request that got no HTTP answer. `address` is `host:port` only: a URL's path or query
 * may carry a secret (a Slack webhook's path is one), its host never does.
 */
export interface NetworkFailure {
  /** `api.github.com:443` */
  address: string;
  /** `connection refused`, `DNS failure (ENOTFOUND)`, `timeout after 15000 ms`, `TLS failure (CERT_HAS_EXPIRED)` */
  cause: string;
}

export class UpstreamError extends Error {
  readonly upstream: Upstream;
  readonly kind: FailureKind;
  readonly request: string;
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly network: NetworkFailure | undefined;

  constructor(init: UpstreamErrorInit) {
    const status = init.status === undefined ? '' : ` ${init.status}`;
    const reason = init.reason === undefined ? '' : ` (${init.reason})`;
    const what =
      init.network !== undefined
        ? ` network error: ${init.network.cause} (${init.network.address})`
        : init.detail !== undefined
          ? `${status} ${init.detail}`
          : `${status} ${init.kind}${reason}`;
    super(`${init.upstream}: ${init.request}:${what}`, { cause: init.cause });
    this.name = new.target.name;
    this.upstream = init.upstream;
    this.kind = init.kind;
    this.request = init.request;
    this.status = init.status;
    this.reason = init.reason;
    this.network = init.network;
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
 * What an error chain says about a request that got no answer, from the error codes found
 * along it (Node's `code`: `ECONNREFUSED`, `ENOTFOUND`, `CERT_HAS_EXPIRED`, undici's
 * `UND_ERR_*`) and whether the request ran out of time. The first code that names a cause
 * wins; a chain without one is a failed connection, as fetch reports it.
 * https://nodejs.org/api/errors.html#common-system-errors
 * https://nodejs.org/api/tls.html#x509-certificate-error-codes
 */
export function describeNetworkCause(failure: {
  codes: readonly string[];
  /** The request's own timer fired (ky's TimeoutError, an AbortSignal.timeout). */
  timedOutAfterMs?: number | undefined;
}): string {
  if (failure.timedOutAfterMs !== undefined) return `timeout after ${failure.timedOutAfterMs} ms`;
  for (const code of failure.codes) {
    const cause = causeOfCode(code);
    if (cause !== undefined) return cause;
  }
  const [code] = failure.codes;
  return code === undefined ? 'connection failed' : `connection failed (${code})`;
}

const dnsCodes = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const timeoutCodes = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
// OpenSSL's verification errors that do not say CERT in their name.
const tlsCodes = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'HOSTNAME_MISMATCH', 'EPROTO']);

/** Not a system code: fetch's own refusal of a port the Fetch standard blocks. */
export const BAD_PORT = 'FETCH_BAD_PORT';

function causeOfCode(code: string): string | undefined {
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === BAD_PORT) return 'port blocked by fetch (a "bad port": use another port)';
  if (dnsCodes.has(code)) return `DNS failure (${code})`;
  if (timeoutCodes.has(code)) return `timeout (${code})`;
  if (tlsCodes.has(code) || /^ERR_(TLS|SSL)_|CERT/.test(code)) return `TLS failure (${code})`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `connection reset (${code})`;
  if (code === 'UND_ERR_SOCKET') return 'connection closed by the server';
  if (code === 'EHOSTUNREACH') return 'host unreachable';
  if (code === 'ENETUNREACH') return 'network unreachable';
  return undefined;
}

/**
 * A one-line description of any thrown value, safe to log (messages carry no secrets). A
 * configuration error met by one step (a secret file gone) is its problems, each naming its key.
 */
export const describeError = (error: unknown): string => {
  if (error instanceof ConfigError) return error.problems.join('; ');
  return error instanceof Error ? error.message : String(error);
};
