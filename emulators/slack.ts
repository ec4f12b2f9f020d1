// A strict Slack incoming webhook, as msw handlers. It answers as hooks.slack.com does: 200
// with the text body `ok` (served as text/html), and short text error codes with 400, 404,
// 405 otherwise. It refuses what Slack refuses: a body that is not JSON, a message with
// neither text nor blocks, and blocks that break Block Kit's rules. Block types it does not
// check answer 501, so that a test never passes on a block Slack might refuse.
// https://api.slack.com/messaging/webhooks
// https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
// https://api.slack.com/reference/block-kit/blocks
import { delay, http, HttpResponse, type HttpHandler } from 'msw';

export interface SlackFakeOptions {
  /** The one webhook that exists. Default `https://hooks.slack.test/services/T000/B000/XXXX`. */
  url?: string;
}

export interface SlackRequest {
  method: string;
  /** The full URL: a test may look, the adapter's errors may not. */
  url: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
}

export interface SlackMessage {
  text: string;
  blocks: unknown;
}

export type SlackFailure =
  | { status: number; body?: string }
  /** The connection fails: fetch rejects. */
  | 'network-error'
  /** No answer, ever: the client's timeout must fire. */
  | 'timeout';

export interface SlackFake {
  handlers: HttpHandler[];
  /** The messages Slack accepted, in order. */
  messages: SlackMessage[];
  /** Every request, refused ones included. */
  requests: SlackRequest[];
  /** The next `times` requests (default 1) get `answer` instead of being looked at. */
  failNext(answer: SlackFailure, times?: number): void;
}

export const defaultWebhookUrl = 'https://hooks.slack.test/services/T000/B000/XXXX';

/** Thrown while checking a request: becomes Slack's text answer. */
class Refusal {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {}
}

export function createSlackFake(options: SlackFakeOptions = {}): SlackFake {
  const webhook = new URL(options.url ?? defaultWebhookUrl);
  const messages: SlackMessage[] = [];
  const requests: SlackRequest[] = [];
  const failures: Array<{ answer: SlackFailure; remaining: number }> = [];

  const takeFailure = (): SlackFailure | undefined => {
    const pending = failures[0];
    if (pending === undefined) return undefined;
    pending.remaining -= 1;
    if (pending.remaining <= 0) failures.shift();
    return pending.answer;
  };

  const handler = http.all(`${webhook.origin}/*`, async ({ request }) => {
    const raw = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
    const headers = Object.fromEntries(request.headers);
    requests.push({ method: request.method, url: request.url, headers, body: parseJson(raw) });
    const failure = takeFailure();
    if (failure !== undefined) return failureAnswer(failure);
    try {
      if (new URL(request.url).pathname !== webhook.pathname) throw new Refusal(404, 'no_service');
      if (request.method !== 'POST') throw new Refusal(405, 'invalid_method');
      messages.push(acceptMessage(headers['content-type'], raw));
      return text(200, 'ok');
    } catch (error) {
      if (error instanceof Refusal) return text(error.status, error.code);
      throw error;
    }
  });

  return {
    handlers: [handler],
    messages,
    requests,
    failNext(answer, times = 1) {
      failures.push({ answer, remaining: times });
    },
  };
}

// Slack serves its answers as text/html, even the error codes.
const text = (status: number, body: string) =>
  new HttpResponse(body, { status, headers: { 'content-type': 'text/html' } });

async function failureAnswer(failure: SlackFailure): Promise<Response> {
  if (failure === 'network-error') return HttpResponse.error();
  if (failure === 'timeout') {
    await delay('infinite');
    return HttpResponse.error();
  }
  return text(failure.status, failure.body ?? (failure.status >= 500 ? 'rollup_error' : ''));
}

function parseJson(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

// --- what Slack accepts ---------------------------------------------------------------------

function acceptMessage(contentType: string | undefined, raw: string): SlackMessage {
  // The fake takes JSON only (Slack also takes a form-encoded `payload`, which afk never sends).
  if (!/^application\/json\b/i.test(contentType ?? '')) throw new Refusal(400, 'invalid_payload');
  const body = parseJson(raw);
  if (!isObject(body)) throw new Refusal(400, 'invalid_payload');
  const { text: fallback, blocks } = body;
  if (fallback !== undefined && typeof fallback !== 'string') {
    throw new Refusal(400, 'invalid_payload');
  }
  const hasText = typeof fallback === 'string' && fallback.trim() !== '';
  if (!hasText && blocks === undefined) throw new Refusal(400, 'invalid_payload');
  if (blocks !== undefined) checkBlocks(blocks);
  return { text: fallback ?? '', blocks };
}

// https://api.slack.com/reference/block-kit/blocks
const maxBlocks = 50;
const checkedTypes = new Set(['section', 'divider', 'context', 'header']);
const knownTypes = new Set([
  ...checkedTypes,
  'actions',
  'file',
  'image',
  'input',
  'markdown',
  'rich_text',
  'video',
]);

function checkBlocks(blocks: unknown): void {
  if (!Array.isArray(blocks)) throw new Refusal(400, 'invalid_blocks_format');
  if (blocks.length > maxBlocks) throw new Refusal(400, 'invalid_blocks');
  for (const block of blocks) checkBlock(block);
}

function checkBlock(block: unknown): void {
  if (!isObject(block) || typeof block['type'] !== 'string' || !knownTypes.has(block['type'])) {
    throw new Refusal(400, 'invalid_blocks');
  }
  if (!checkedTypes.has(block['type'])) {
    throw new Refusal(501, `slack fake: block type ${block['type']} is not implemented`);
  }
  if (block['block_id'] !== undefined) {
    const id = block['block_id'];
    if (typeof id !== 'string' || id.length === 0 || id.length > 255) invalid();
  }
  if (block['type'] === 'section') checkSection(block);
  if (block['type'] === 'context') checkContext(block);
  if (block['type'] === 'header') checkTextObject(block['text'], 150, ['plain_text']);
}

// A section needs `text` or `fields`: text up to 3000 characters, at most 10 fields of up to
// 2000 each. https://api.slack.com/reference/block-kit/blocks#section
function checkSection(block: Record<string, unknown>): void {
  const { text, fields } = block;
  if (text === undefined && fields === undefined) invalid();
  if (text !== undefined) checkTextObject(text, 3000);
  if (fields !== undefined) {
    if (!Array.isArray(fields) || fields.length === 0 || fields.length > 10) invalid();
    for (const field of fields as unknown[]) checkTextObject(field, 2000);
  }
}

// https://api.slack.com/reference/block-kit/blocks#context
function checkContext(block: Record<string, unknown>): void {
  const { elements } = block;
  if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10) invalid();
  for (const element of elements as unknown[]) checkTextObject(element, 3000);
}

// https://api.slack.com/reference/block-kit/composition-objects#text
function checkTextObject(
  value: unknown,
  maxLength: number,
  types: readonly string[] = ['mrkdwn', 'plain_text'],
): void {
  if (!isObject(value) || typeof value['type'] !== 'string' || !types.includes(value['type'])) {
    invalid();
  }
  const text = (value as Record<string, unknown>)['text'];
  if (typeof text !== 'string' || text.length === 0 || text.length > maxLength) invalid();
}

function invalid(): never {
  throw new Refusal(400, 'invalid_blocks');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
