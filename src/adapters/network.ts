// What every adapter says about a request that got no HTTP answer: the address it was going
// to and the cause (connection refused, DNS, timeout, TLS), read off the error chain that
// fetch (undici) and Octokit build. Never the URL: its path or query may carry a secret.
import { BAD_PORT, describeNetworkCause, type NetworkFailure } from '../core/index.js';

/** `host:port`, the scheme's default port filled in. */
export function addressOf(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return 'an unreadable URL';
  }
  const port =
    parsed.port !== ''
      ? parsed.port
      : parsed.protocol === 'https:'
        ? '443'
        : parsed.protocol === 'http:'
          ? '80'
          : '?';
  return `${parsed.hostname}:${port}`;
}

/** The failure a thrown fetch error means; `timedOutAfterMs` when the request's own timer fired. */
export function networkFailureOf(
  error: unknown,
  url: string | URL,
  timedOutAfterMs?: number,
): NetworkFailure {
  return {
    address: addressOf(url),
    cause: describeNetworkCause({ codes: errorCodes(error), timedOutAfterMs }),
  };
}

/**
 * Every string `code` along the chain, outermost first: fetch rejects with a TypeError whose
 * `cause` holds the system error, Octokit wraps that once more, and a connection tried on
 * several addresses fails with an AggregateError listing each.
 */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 8) return;
    seen.add(value);
    const { code, cause, errors, message } = value as {
      code?: unknown;
      cause?: unknown;
      errors?: unknown;
      message?: unknown;
    };
    if (typeof code === 'string' && !codes.includes(code)) codes.push(code);
    // fetch refuses the Fetch standard's "bad ports" (1, 9, 6000, …) itself, with no code.
    // https://fetch.spec.whatwg.org/#port-blocking
    if (message === 'bad port' && !codes.includes(BAD_PORT)) codes.push(BAD_PORT);
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
    visit(cause, depth + 1);
  };
  visit(error, 0);
  return codes;
}
