import { inspect } from 'node:util';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackDoorbell, type SlackDoorbellOptions } from '../../src/adapters/slack.js';
import { ConfigError, SlackError } from '../../src/core/errors.js';
import type { DoorbellMessage } from '../../src/core/ports.js';
import {
  createSlackFake,
  defaultWebhookUrl,
  type SlackFailure,
  type SlackFake,
} from '../../emulators/slack.js';
import { rejectionOf } from '../support/rejection.js';

const webhook = defaultWebhookUrl;
const secretPath = new URL(webhook).pathname;

const server = setupServer();
let fake: SlackFake;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  fake = createSlackFake();
  server.use(...fake.handlers);
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const doorbell = (overrides: Partial<SlackDoorbellOptions> = {}) =>
  createSlackDoorbell({
    webhookUrl: () => Promise.resolve(webhook),
    retryDelayMs: 0,
    ...overrides,
  });

const message: DoorbellMessage = {
  text: 'acme/app#7 "Fix login": needs-input',
  fields: [
    { label: 'Repo', value: 'acme/app' },
    { label: 'Reason', value: 'needs-input' },
  ],
  url: 'https://github.test/acme/app/issues/7',
};

const failure = (promise: Promise<unknown>) => rejectionOf(promise, SlackError);

describe('ring', () => {
  it('posts the message as fallback text and blocks, as JSON', async () => {
    await doorbell().ring(message);

    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      url: webhook,
      headers: { 'content-type': 'application/json' },
    });
    expect(fake.requests[0]?.body).toEqual({
      text: 'acme/app#7 "Fix login": needs-input',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: 'acme/app#7 "Fix login": needs-input\n<https://github.test/acme/app/issues/7>',
          },
        },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Repo*\nacme/app' },
            { type: 'mrkdwn', text: '*Reason*\nneeds-input' },
          ],
        },
      ],
    });
    expect(fake.messages).toHaveLength(1);
  });

  it('sends no fields section when there are no fields', async () => {
    await doorbell().ring({ ...message, fields: [] });

    expect(fake.messages[0]?.blocks).toHaveLength(1);
  });

  it('fails the ring, sending nothing, when its webhook cannot be read', async () => {
    const unreadable = new ConfigError([
      'notify.slackWebhookUrlFile: cannot read the Slack webhook URL file /x (ENOENT)',
    ]);
    const bell = doorbell({ webhookUrl: () => Promise.reject(unreadable) });

    expect(bell.configured).toBe(true);
    await expect(bell.ring(message)).rejects.toBe(unreadable);
    expect(fake.requests).toEqual([]);
  });

  it('reads the webhook URL before every ring', async () => {
    const urls = ['https://hooks.slack.test/services/T000/B000/OLD', webhook];
    let asked = 0;
    const bell = doorbell({ webhookUrl: () => Promise.resolve(urls[asked++] as string) });

    await expect(bell.ring(message)).rejects.toMatchObject({ kind: 'not-found' });
    await bell.ring(message);

    expect(asked).toBe(2);
    expect(fake.messages).toHaveLength(1);
  });

  it('escapes &, < and > in the text, the fields and the link, and nothing else', async () => {
    await doorbell().ring({
      text: '<!channel> "a" & b > c',
      fields: [{ label: 'Title <b>', value: 'x & y' }],
      url: 'https://github.test/acme/app/issues/7?a=1&b=<2>|x',
    });

    expect(fake.messages[0]).toEqual({
      text: '&lt;!channel&gt; "a" &amp; b &gt; c',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text:
              '&lt;!channel&gt; "a" &amp; b &gt; c\n' +
              '<https://github.test/acme/app/issues/7?a=1&amp;b=%3C2%3E%7Cx>',
          },
        },
        { type: 'section', fields: [{ type: 'mrkdwn', text: '*Title &lt;b&gt;*\nx &amp; y' }] },
      ],
    });
  });

  it('keeps within Block Kit limits: long text is cut, more than ten fields span sections', async () => {
    const fields = Array.from({ length: 12 }, (_, i) => ({
      label: `Field ${i}`,
      value: '&'.repeat(2500),
    }));

    await doorbell().ring({ ...message, text: '<'.repeat(5000), fields });

    const blocks = fake.messages[0]?.blocks as Array<{
      text?: { text: string };
      fields?: Array<{ text: string }>;
    }>;
    expect(blocks.map((block) => block.fields?.length ?? 0)).toEqual([0, 10, 2]);
    expect(blocks[0]?.text?.text.length).toBeLessThanOrEqual(3000);
    // No entity is cut in half.
    expect(blocks[0]?.text?.text).toMatch(/^(&lt;)+…\n<https:/);
    expect(blocks[1]?.fields?.[0]?.text).toMatch(/^\*Field 0\*\n(&amp;)+…$/);
    expect(blocks[1]?.fields?.[0]?.text.length).toBeLessThanOrEqual(2000);
  });
});

describe('retries', () => {
  it.each<[string, SlackFailure]>([
    ['a 500', { status: 500, body: 'rollup_error' }],
    ['a 503', { status: 503 }],
    ['a network error', 'network-error'],
    ['a timeout', 'timeout'],
  ])('retries once after %s, then succeeds', async (_name, answer) => {
    fake.failNext(answer);

    await doorbell({ timeoutMs: 50 }).ring(message);

    expect(fake.requests).toHaveLength(2);
    expect(fake.messages).toHaveLength(1);
  });

  it.each<[string, SlackFailure, Record<string, unknown>]>([
    [
      'a 5xx',
      { status: 502, body: 'rollup_error' },
      { kind: 'transient', status: 502, reason: 'rollup_error' },
    ],
    [
      'a network error',
      'network-error',
      {
        kind: 'transient',
        network: { address: 'hooks.slack.test:443', cause: 'connection failed' },
      },
    ],
    [
      'a timeout',
      'timeout',
      {
        kind: 'transient',
        network: { address: 'hooks.slack.test:443', cause: 'timeout after 50 ms' },
      },
    ],
  ])('gives up after one retry of %s', async (_name, answer, expected) => {
    fake.failNext(answer, 2);

    const error = await failure(doorbell({ timeoutMs: 50 }).ring(message));

    expect(error).toMatchObject({
      ...expected,
      upstream: 'slack',
      request: 'POST <slack webhook>',
    });
    expect(fake.requests).toHaveLength(2);
  });

  it('waits retryDelayMs before the retry', async () => {
    fake.failNext({ status: 500 });
    const started = Date.now();

    await doorbell({ retryDelayMs: 60 }).ring(message);

    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it.each([
    [400, 'invalid_payload', 'contract'],
    [403, 'action_prohibited', 'forbidden'],
    [404, 'no_service', 'not-found'],
    [404, 'channel_not_found', 'not-found'],
    [410, 'channel_is_archived', 'rejected'],
    [429, 'rate_limited', 'rate-limited'],
  ])('never retries a %i %s, which is %s', async (status, body, kind) => {
    fake.failNext({ status, body });

    const error = await failure(doorbell().ring(message));

    expect(error).toMatchObject({ kind, status, reason: body });
    expect(error.message).toBe(`slack: POST <slack webhook>: ${status} ${kind} (${body})`);
    expect(fake.requests).toHaveLength(1);
  });

  it('reports a 200 whose body is not ok as malformed, without a retry', async () => {
    fake.failNext({ status: 200, body: '<html>maintenance</html>' });

    const error = await failure(doorbell().ring(message));

    expect(error).toMatchObject({ kind: 'malformed', status: 200, reason: undefined });
    expect(fake.requests).toHaveLength(1);
  });
});

describe('the webhook URL stays secret', () => {
  it.each<[string, SlackFailure]>([
    ['a 404', { status: 404, body: 'no_service' }],
    ['a 500 that echoes the URL', { status: 500, body: `bad ${webhook}` }],
    ['a 400 that echoes the path', { status: 400, body: secretPath }],
    ['a network error', 'network-error'],
    ['a timeout', 'timeout'],
    ['a malformed 200', { status: 200, body: webhook }],
  ])('keeps it out of the error for %s', async (_name, answer) => {
    fake.failNext(answer, 2);

    const error = await failure(doorbell({ timeoutMs: 50 }).ring(message));

    expect(error.cause).toBeUndefined();
    for (const text of [error.message, String(error), inspect(error, { depth: 10 })]) {
      expect(text).not.toContain(secretPath);
      // The host and port may be named (a network error says where it could not go), never
      // the URL around them.
      expect(text).not.toMatch(/https?:\/\/|hooks\.slack\.test\//);
    }
  });

  it.each(['http://hooks.slack.test/services/T000/B000/XXXX', 'hooks.slack.test/services/T000'])(
    'refuses %s as a configuration error that does not show it',
    async (url) => {
      const error: unknown = await doorbell({ webhookUrl: () => Promise.resolve(url) })
        .ring(message)
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ConfigError);
      expect(inspect(error, { depth: 10 })).not.toContain('/services/T000');
      expect(fake.requests).toEqual([]);
    },
  );
});

describe('the Slack fake', () => {
  const post = async (body: string, contentType = 'application/json', url = webhook) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  };
  const section = (text: unknown) => ({ type: 'section', text });

  it('answers ok as text/html, as Slack does', async () => {
    expect(await post(JSON.stringify({ text: 'hi' }))).toEqual({
      status: 200,
      type: 'text/html',
      text: 'ok',
    });
    expect(fake.messages).toEqual([{ text: 'hi', blocks: undefined }]);
  });

  it.each<[string, string, number, string]>([
    ['a body that is not JSON', '{', 400, 'invalid_payload'],
    ['neither text nor blocks', '{}', 400, 'invalid_payload'],
    ['blocks that are not a list', JSON.stringify({ blocks: {} }), 400, 'invalid_blocks_format'],
    ['a block without a type', JSON.stringify({ blocks: [{}] }), 400, 'invalid_blocks'],
    [
      'a section text without a type',
      JSON.stringify({ blocks: [section({ text: 'x' })] }),
      400,
      'invalid_blocks',
    ],
    [
      'a section text over 3000 characters',
      JSON.stringify({ blocks: [section({ type: 'mrkdwn', text: 'x'.repeat(3001) })] }),
      400,
      'invalid_blocks',
    ],
    [
      'eleven fields',
      JSON.stringify({
        blocks: [
          { type: 'section', fields: Array(11).fill({ type: 'mrkdwn', text: 'x' }) as unknown },
        ],
      }),
      400,
      'invalid_blocks',
    ],
    [
      'a field over 2000 characters',
      JSON.stringify({
        blocks: [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'x'.repeat(2001) }] }],
      }),
      400,
      'invalid_blocks',
    ],
    [
      'a block type it does not check',
      JSON.stringify({ blocks: [{ type: 'image' }] }),
      501,
      'slack fake: block type image is not implemented',
    ],
  ])('refuses %s', async (_name, body, status, code) => {
    expect(await post(body)).toMatchObject({ status, text: code });
    expect(fake.messages).toEqual([]);
  });

  it('refuses a form-encoded body, which afk never sends', async () => {
    expect(await post('payload={"text":"hi"}', 'application/x-www-form-urlencoded')).toMatchObject({
      status: 400,
      text: 'invalid_payload',
    });
  });

  it('answers no_service for a webhook that does not exist', async () => {
    expect(
      await post('{"text":"hi"}', 'application/json', 'https://hooks.slack.test/services/T0/B0/Z'),
    ).toMatchObject({ status: 404, text: 'no_service' });
  });

  it('takes POST only', async () => {
    const response = await fetch(webhook);

    expect(response.status).toBe(405);
  });
});
