// The fetch every adapter is given: read-only outside a live run, counted for the metrics, and
// logged per request at debug.
import type { Logger } from '../adapters/log.js';
import type { Upstream } from '../core/index.js';
import type { Mode } from './runtime.js';

/**
 * Outside a live run (a dry run, status, doctor without --fix-labels) the adapters' HTTP
 * refuses anything but reads: the executor is never called there, and this makes a write
 * impossible even if a bug called it.
 */
export function fetchFor(mode: Mode, send: typeof fetch): typeof fetch {
  const readOnly: typeof fetch = (input, init) => {
    const method = methodOf(input, init);
    if (method !== 'GET' && method !== 'HEAD' && !isGraphqlQuery(input, init)) {
      return Promise.reject(new Error(`read-only: refused to send a ${method} request`));
    }
    return send(input, init);
  };
  return { live: send, 'dry-run': readOnly }[mode];
}

/**
 * A GraphQL read: a POST to `…/graphql` whose body holds only `query` operations (afk's batched
 * reads on GitHub). Anything else (a mutation, a body it cannot see) is refused.
 */
function isGraphqlQuery(input: Parameters<typeof fetch>[0], init: RequestInit | undefined) {
  const url = input instanceof Request ? input.url : String(input);
  if (!new URL(url).pathname.endsWith('/graphql') || typeof init?.body !== 'string') return false;
  let query: unknown;
  try {
    query = (JSON.parse(init.body) as { query?: unknown }).query;
  } catch {
    return false;
  }
  return (
    typeof query === 'string' &&
    /^\s*query\b/.test(query) &&
    !/(^|\})\s*(mutation|subscription)\b/.test(query)
  );
}

const methodOf = (input: Parameters<typeof fetch>[0], init: RequestInit | undefined): string =>
  (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();

export interface RequestCount {
  upstream: Upstream;
  method: string;
  count: number;
}

/** Counts every request an adapter sends (retries too; not the ones a dry run refused). */
export function createRequestMeter(log: Logger | undefined) {
  const counts = new Map<string, RequestCount>();
  return {
    fetchFor(upstream: Upstream): typeof fetch {
      const send = logRequests(log, upstream);
      return (input, init) => {
        const method = methodOf(input, init);
        const key = `${upstream} ${method}`;
        const known = counts.get(key);
        if (known === undefined) counts.set(key, { upstream, method, count: 1 });
        else known.count += 1;
        return send(input, init);
      };
    },
    counts: (): RequestCount[] => [...counts.values()].map((c) => ({ ...c })),
  };
}

/**
 * At debug, one log line per request as it ends: method, host, path, status, milliseconds.
 * Never a header, a body or a query string; the Slack webhook's path is the secret itself, and
 * a Pushgateway URL may carry credentials: for those two, the host alone.
 */
export function logRequests(
  log: Logger | undefined,
  upstream: Upstream | 'metrics',
  send: typeof fetch = globalThis.fetch,
): typeof fetch {
  if (log === undefined || !log.isLevelEnabled('debug')) return send;
  return async (input, init) => {
    const method = methodOf(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const path = { slack: '<slack webhook>', metrics: '<pushgateway>' }[upstream as string];
    const started = performance.now();
    const line = (status: number | string) => {
      const ms = Math.round(performance.now() - started);
      const http = { method, host: url.host, path: path ?? url.pathname, status, ms };
      log.debug({ http }, `${method} ${http.host} ${http.path} ${status} ${ms} ms`);
    };
    try {
      const response = await send(input, init);
      line(response.status);
      return response;
    } catch (error) {
      line(failureOf(error));
      throw error;
    }
  };
}

/** Why a request got no answer, by the error's name alone: its message may carry the URL. */
function failureOf(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError') return 'timeout';
  if (name === 'AbortError') return 'aborted';
  return 'no answer';
}

export const isLoopback = (url: string): boolean =>
  ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
