// The doorbell: one Slack message through an incoming webhook. The webhook URL is a secret
// (whoever holds it can post to the channel), so it appears in no message, log, error or
// cause: every failure leaves this file as a `SlackError` naming `POST <slack webhook>` and
// Slack's own short error code, or for a request without an answer its host and port and the
// cause, nothing more.
// https://api.slack.com/messaging/webhooks
import ky, { TimeoutError } from 'ky';
import {
  failureKindOf,
  SlackError,
  type Doorbell,
  type DoorbellMessage,
  type FailureKind,
} from '../core/index.js';
import { networkFailureOf } from './network.js';
import { checkWebhookUrl } from './webhook-url.js';

export interface SlackDoorbellOptions {
  /**
   * Read before every ring, never cached: the secret may rotate. A webhook that cannot be read
   * (its file missing) rejects, and so fails the ring: no message is ever taken as sent.
   */
  webhookUrl: () => Promise<string>;
  /** Per attempt, in milliseconds. Default 10000. */
  timeoutMs?: number | undefined;
  /** The wait before the one retry of a 5xx, timeout or network failure. Default 1000. */
  retryDelayMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  /** Aborts the ring, and its retry: the tick is stopping. */
  signal?: AbortSignal | undefined;
}

const request = 'POST <slack webhook>';

export function createSlackDoorbell(options: SlackDoorbellOptions): Doorbell {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  // Retries and statuses are handled here, so that a 4xx is never repeated and no ky error
  // (which holds the Request, URL included) escapes.
  const client = ky.create({
    retry: 0,
    throwHttpErrors: false,
    timeout: timeoutMs,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });

  const attempt = async (url: string, payload: SlackPayload): Promise<void> => {
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await client.post(url, {
        json: payload,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      text = await response.text();
    } catch (error) {
      // No cause: ky's TimeoutError and fetch's TypeError both carry the URL. The address is
      // the webhook's host and port (hooks.slack.com:443), never its path, which is the secret.
      if (options.signal?.aborted === true) {
        throw new SlackError({ kind: 'transient', request, reason: 'aborted' });
      }
      const timedOut = error instanceof TimeoutError ? timeoutMs : undefined;
      throw new SlackError({
        kind: 'transient',
        request,
        network: networkFailureOf(error, url, timedOut),
      });
    }
    if (status === 200 && text.trim() === 'ok') return;
    throw failure(status, text, retryAfter);
  };

  return {
    configured: true,
    async ring(message) {
      const url = checkWebhookUrl(await options.webhookUrl());
      const payload = renderPayload(message);
      try {
        await attempt(url, payload);
      } catch (error) {
        // Exactly one retry, and only when the failure may pass: a 5xx, a timeout, a reset.
        // Slack's 4xx answers say what is wrong with the request or the webhook; repeating
        // the request changes nothing.
        if (!(error instanceof SlackError) || error.kind !== 'transient') throw error;
        if (options.signal?.aborted === true) throw error;
        await sleep(retryDelayMs);
        await attempt(url, payload);
      }
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Slack answers errors as a short code in a text body.
// https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
function failure(status: number, text: string, retryAfter: string | null): SlackError {
  const code = /^[a-z0-9_]{1,80}$/.test(text.trim()) ? text.trim() : undefined;
  const kind = failureKind(status, retryAfter);
  return new SlackError({ kind, request, status, reason: code });
}

// 400 invalid_payload/invalid_blocks: afk built a message Slack refuses (contract); 403
// action_prohibited: the workspace refuses the webhook; 404 no_service: the webhook was
// removed; 410 channel_is_archived (rejected); 429 (or a 403 with retry-after) rate-limited:
// the next tick rings again. A 2xx that is not `ok` is malformed.
// https://api.slack.com/apis/rate-limits
const failureKind = (status: number, retryAfter: string | null): FailureKind =>
  status >= 200 && status < 300 ? 'malformed' : failureKindOf(status, retryAfter);

// --- the message ----------------------------------------------------------------------------

interface TextObject {
  type: 'mrkdwn';
  text: string;
}

type Block = { type: 'section'; text: TextObject } | { type: 'section'; fields: TextObject[] };

export interface SlackPayload {
  text: string;
  blocks: Block[];
}

// Block Kit limits: a section's text 3000 characters; at most 10 fields of 2000 each.
// https://api.slack.com/reference/block-kit/blocks#section
const maxSectionText = 3000;
const maxFieldText = 2000;
const maxFields = 10;
// Slack truncates a message's top-level text past 40,000 characters; 4000 reads fine.
const maxFallbackText = 4000;

/**
 * The message as Slack receives it. Every piece of text is escaped, the fallback `text` too:
 * Slack parses both as mrkdwn, and an issue title that says `<!channel>` must not page anyone.
 */
export function renderPayload(message: DoorbellMessage): SlackPayload {
  const link = `<${escapeUrl(message.url)}>`;
  const blocks: Block[] = [
    section(`${truncate(escapeText(message.text), maxSectionText - link.length - 1)}\n${link}`),
  ];
  const fields = message.fields.map(({ label, value }) => ({
    type: 'mrkdwn' as const,
    text: truncate(`*${escapeText(label)}*\n${escapeText(value)}`, maxFieldText),
  }));
  for (let i = 0; i < fields.length; i += maxFields) {
    blocks.push({ type: 'section', fields: fields.slice(i, i + maxFields) });
  }
  return { text: truncate(escapeText(message.text), maxFallbackText), blocks };
}

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });

/**
 * Slack's escaping: exactly `&`, `<` and `>` become entities; nothing else is encoded.
 * https://api.slack.com/reference/surfaces/formatting#escaping
 */
export const escapeText = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

// A parsed URL percent-encodes `<`, `>` and spaces; inside `<...>` a `|` would start the
// link's label, so it is percent-encoded too.
function escapeUrl(url: string): string {
  let href = url;
  try {
    href = new URL(url).href;
  } catch {
    // Not a URL afk could normalise: escaped as text, Slack shows it as it is.
  }
  return escapeText(href).replaceAll('|', '%7C');
}

/** Cuts at `max` characters without leaving half an entity (`&am`) behind. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1).replace(/&[a-z]{0,3}$/, '');
  return `${cut}…`;
}
