import { delay, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXPOSITION_CONTENT_TYPE, pushMetrics } from '../../src/adapters/metrics.js';
import { renderTickMetrics } from '../../src/core/index.js';
import { createPushgatewayFake, type PushgatewayFake } from '../../emulators/pushgateway.js';
import { useMswServer } from '../support/msw.js';

const BASE = 'https://pushgateway.test';

const { server, seen } = useMswServer();
let gateway: PushgatewayFake;
beforeEach(() => {
  seen.length = 0;
  gateway = createPushgatewayFake(BASE);
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
    expect(result).toEqual({
      ok: false,
      kind: 'transient',
      status: null,
      network: { address: 'pushgateway.test:443', cause: 'timeout after 50 ms' },
    });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(gateway.pushes).toHaveLength(1);
  });

  it('returns a network failure as a value', async () => {
    gateway.answerWith(() => HttpResponse.error());
    const result = await pushMetrics({ url: BASE, job: 'afk', command: 'poll' }, body);
    expect(result).toEqual({
      ok: false,
      kind: 'transient',
      status: null,
      network: { address: 'pushgateway.test:443', cause: 'connection failed' },
    });
  });
});
