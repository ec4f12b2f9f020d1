import { delay, http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXPOSITION_CONTENT_TYPE, pushMetrics } from '../../src/adapters/metrics.js';
import { renderTickMetrics } from '../../src/core/index.js';
import { useMswServer } from '../support/msw.js';

const BASE = 'https://pushgateway.test';

interface Push {
  method: string;
  path: string;
  contentType: string | null;
  authorization: string | null;
  body: string;
}

/**
 * A Pushgateway as v1.x answers a text-format push: 200 and an empty body once stored; 400
 * with a message for a body its parser refuses or a sample whose labels clash with the
 * grouping key. https://github.com/prometheus/pushgateway#api
 */
function createPushgatewayFake(base = BASE) {
  const pushes: Push[] = [];
  let answer: (() => Promise<Response> | Response) | null = null;
  const handler = http.all(`${base}/*`, async ({ request }) => {
    const url = new URL(request.url);
    const body = await request.text();
    pushes.push({
      method: request.method,
      path: url.pathname,
      contentType: request.headers.get('content-type'),
      authorization: request.headers.get('authorization'),
      body,
    });
    if (answer !== null) return answer();
    const group = /^\/(?:.+\/)?metrics\/job\/([^/]+)((?:\/[^/]+\/[^/]+)*)$/.exec(url.pathname);
    if (group === null) return new HttpResponse('404 page not found\n', { status: 404 });
    if (request.method !== 'PUT' && request.method !== 'POST') {
      return new HttpResponse('Method Not Allowed\n', { status: 405 });
    }
    const grouping = ['job', ...(group[2] ?? '').split('/').filter((_, i) => i % 2 === 1)];
    const problem = exposition(body, grouping);
    if (problem !== null) return new HttpResponse(problem, { status: 400 });
    return new HttpResponse(null, { status: 200 });
  });
  return {
    handler,
    pushes,
    answerWith(fn: () => Promise<Response> | Response) {
      answer = fn;
    },
  };
}

/** What the Pushgateway's text parser refuses, as its 400 message; null if it accepts. */
function exposition(body: string, grouping: string[]): string | null {
  if (body !== '' && !body.endsWith('\n'))
    return 'text format parsing error: unexpected end of input';
  const typed = new Set<string>();
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)$/;
  for (const line of body.split('\n').slice(0, -1)) {
    const type =
      /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|untyped|summary|histogram)$/.exec(line);
    if (type !== null) {
      if (typed.has(type[1] as string)) return `second TYPE line for metric name ${type[1]}`;
      typed.add(type[1] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = sample.exec(line);
    if (match === null) return `text format parsing error: invalid line ${JSON.stringify(line)}`;
    if (!typed.has(match[1] as string)) return `no TYPE line before ${match[1]}`;
    if (Number.isNaN(Number(match[3])) && !['NaN', '+Inf', '-Inf'].includes(match[3] as string)) {
      return `expected float as value, got ${JSON.stringify(match[3])}`;
    }
    const names = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)].map((m) => m[1]);
    const clash = names.find((n) => n !== undefined && grouping.includes(n));
    if (clash !== undefined)
      return `pushed metrics are invalid: label ${clash} clashes with the grouping key`;
  }
  return null;
}

const { server, seen } = useMswServer();
let gateway: ReturnType<typeof createPushgatewayFake>;
beforeEach(() => {
  seen.length = 0;
  gateway = createPushgatewayFake();
  server.use(gateway.handler);
});

const body = renderTickMetrics({
  startedAt: new Date('2026-11-21T08:00:00.000Z'),
  endedAt: new Date('2026-11-21T08:00:01.250Z'),
  exitCode: 0,
  requests: [{ upstream: 'tracker', method: 'GET', count: 4 }],
  actions: [{ kind: 'addLabels', status: 'done' }],
  failures: 0,
  liveRuns: 1,
  queueDepth: 0,
  escalations: null,
});

describe('pushMetrics', () => {
  it('replaces the command’s group with one PUT of the exposition text', async () => {
    const result = await pushMetrics({ url: BASE, job: 'afk', command: 'poll' }, body);

    expect(result).toEqual({ ok: true });
    expect(gateway.pushes).toEqual([
      {
        method: 'PUT',
        path: '/metrics/job/afk/command/poll',
        contentType: 'text/plain; version=0.0.4',
        authorization: null,
        body,
      },
    ]);
    expect(EXPOSITION_CONTENT_TYPE).toBe('text/plain; version=0.0.4');
  });

  it('keeps a path prefix of the base URL, with or without a trailing slash', async () => {
    server.use(createPushgatewayFake(`${BASE}/prom`).handler);
    await pushMetrics({ url: `${BASE}/prom/`, job: 'afk-prod', command: 'watch' }, body);
    await pushMetrics({ url: `${BASE}/prom`, job: 'afk-prod', command: 'watch' }, body);
    expect(seen).toEqual([
      `PUT ${BASE}/prom/metrics/job/afk-prod/command/watch`,
      `PUT ${BASE}/prom/metrics/job/afk-prod/command/watch`,
    ]);
  });

  it('sends the URL’s credentials as basic auth, not in the URL', async () => {
    const result = await pushMetrics(
      { url: 'https://afk:s3cr%40t@pushgateway.test', job: 'afk', command: 'poll' },
      body,
    );
    expect(result).toEqual({ ok: true });
    expect(seen).toEqual([`PUT ${BASE}/metrics/job/afk/command/poll`]);
    expect(gateway.pushes[0]?.authorization).toBe(
      `Basic ${Buffer.from('afk:s3cr@t').toString('base64')}`,
    );
  });

  it.each([
    [500, 'transient'],
    [503, 'transient'],
    [401, 'auth'],
    [403, 'forbidden'],
    [404, 'not-found'],
  ] as const)(
    'returns a %i as a failure of kind %s, once, without throwing',
    async (status, kind) => {
      gateway.answerWith(() => new HttpResponse('no', { status }));
      const result = await pushMetrics(
        { url: 'https://afk:s3cret@pushgateway.test', job: 'afk', command: 'poll' },
        body,
      );
      expect(result).toEqual({ ok: false, kind, status });
      expect(JSON.stringify(result)).not.toContain('s3cret');
      expect(gateway.pushes).toHaveLength(1);
    },
  );

  it('returns the Pushgateway’s refusal of a malformed body as a contract failure', async () => {
    const result = await pushMetrics(
      { url: BASE, job: 'afk', command: 'poll' },
      'afk_tick_exit_code{command="poll"} 0\n',
    );
    expect(result).toEqual({ ok: false, kind: 'contract', status: 400 });
  });

  it('accepts only what the fake Pushgateway accepts: a label clashing with the group is a 400', async () => {
    const clash = '# TYPE afk_x gauge\nafk_x{command="watch"} 1\n';
    expect(await pushMetrics({ url: BASE, job: 'afk', command: 'poll' }, clash)).toEqual({
      ok: false,
      kind: 'contract',
      status: 400,
    });
  });

  it('gives up after the timeout, once, and says so as a value', async () => {
    gateway.answerWith(async () => {
      await delay(2_000);
      return new HttpResponse(null, { status: 200 });
    });
    const started = Date.now();
    const result = await pushMetrics({ url: BASE, job: 'afk', command: 'poll' }, body, {
      timeoutMs: 50,
    });
    expect(result).toEqual({ ok: false, kind: 'transient', status: null });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(gateway.pushes).toHaveLength(1);
  });

  it('returns a network failure as a value', async () => {
    gateway.answerWith(() => HttpResponse.error());
    const result = await pushMetrics({ url: BASE, job: 'afk', command: 'poll' }, body);
    expect(result).toEqual({ ok: false, kind: 'transient', status: null });
  });
});
