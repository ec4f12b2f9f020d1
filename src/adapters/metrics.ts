// The push of a tick's metrics to a Prometheus Pushgateway. The push is a by-product of the
// tick: it gets one short try, and its failure is a value the caller logs, never a throw
// that would change the tick's exit code. The URL may carry basic-auth credentials, so it
// appears in no result, message or cause.
// https://github.com/prometheus/pushgateway#api
import { Buffer } from 'node:buffer';
import ky, { TimeoutError } from 'ky';
import { failureKindOf, type FailureKind, type NetworkFailure } from '../core/index.js';
import { networkFailureOf } from './network.js';

export interface PushTarget {
  /** The Pushgateway base URL, perhaps with a path prefix and user:password. */
  url: string;
  job: string;
  /** The rest of the grouping key; every push replaces this group (PUT). */
  command: string;
}

export type PushResult =
  | { ok: true }
  | { ok: false; kind: FailureKind; status: number }
  /** No answer: the Pushgateway's host and port (never its URL) and the cause. */
  | { ok: false; kind: 'transient'; status: null; network: NetworkFailure };

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4';

export async function pushMetrics(
  target: PushTarget,
  body: string,
  options: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<PushResult> {
  let status: number;
  const timeoutMs = options.timeoutMs ?? 3000;
  try {
    const { url, headers } = groupUrl(target);
    const response = await ky.put(url, {
      body,
      headers: { ...headers, 'content-type': EXPOSITION_CONTENT_TYPE },
      timeout: timeoutMs,
      retry: 0,
      throwHttpErrors: false,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    status = response.status;
    // Read to the end (a short text at most), so the connection does not hold the exit.
    await response.text();
  } catch (error) {
    // Timeout, refused, reset, DNS: the next tick pushes again. Only the address and the
    // cause are kept: ky's and fetch's errors carry the URL.
    const timedOut = error instanceof TimeoutError ? timeoutMs : undefined;
    const network = networkFailureOf(error, target.url, timedOut);
    return { ok: false, kind: 'transient', status: null, network };
  }
  // The Pushgateway answers 200 (202 before v1.0) to a push it stored.
  if (status >= 200 && status < 300) return { ok: true };
  return { ok: false, kind: failureKindOf(status), status };
}

/**
 * `…/metrics/job/<job>/command/<command>`, below any path prefix of the base URL. fetch
 * refuses a URL with credentials, so they move to a basic Authorization header.
 */
function groupUrl(target: PushTarget): { url: string; headers: Record<string, string> } {
  const url = new URL(target.url);
  const headers: Record<string, string> = {};
  if (url.username !== '' || url.password !== '') {
    const userinfo = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers['authorization'] = `Basic ${Buffer.from(userinfo).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const segment = encodeURIComponent;
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/metrics/job/${segment(target.job)}/command/${segment(target.command)}`;
  return { url: url.href, headers };
}
