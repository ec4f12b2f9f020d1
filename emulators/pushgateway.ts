// A Prometheus Pushgateway for the tests, as msw handlers: it records every push and refuses
// what the real one refuses, so the metrics afk pushes are proven to be accepted.
import { http, HttpResponse } from 'msw';

export interface Push {
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
export function createPushgatewayFake(base = 'https://pushgateway.test') {
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
    /** Every later push gets this answer instead (an outage, a timeout, a refusal). */
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

export type PushgatewayFake = ReturnType<typeof createPushgatewayFake>;
