// Requests that get no answer, over real sockets on loopback (no msw in this file): a port with
// nothing listening, a name that cannot resolve (.invalid, RFC 2606), a server that never
// answers, and TLS that fails. Every adapter must name the address and the cause, and nothing
// else: no URL path (a Slack webhook's path is a secret), no query, no token.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForgejoTracker } from '../../src/adapters/forgejo.js';
import { createGitHubTracker } from '../../src/adapters/github.js';
import { pushMetrics } from '../../src/adapters/metrics.js';
import { createSlackDoorbell } from '../../src/adapters/slack.js';
import { createT3Client } from '../../src/adapters/t3.js';
import { UpstreamError } from '../../src/core/index.js';
import { armedConfig, runCli, writeConfig } from '../support/cli.js';

const TOKEN = 'network-test-sentinel-token-0001';
const SECRET_PATH = '/services/TNET/BNET/networkTestWebhookSecret';
const TIMEOUT_MS = 300;

interface Outcome {
  /** The error's line, or the metrics push's failure rendered the same way. */
  line: string;
}

/** Each adapter's first request against `base`, and the request its errors name. */
const adapters: Array<{
  name: string;
  request: string;
  send: (base: string) => Promise<unknown>;
}> = [
  {
    name: 'GitHub',
    request: 'tracker: GET /user: ',
    send: (base) =>
      createGitHubTracker({
        apiUrl: base,
        token: () => Promise.resolve(TOKEN),
        retries: 0,
        throttle: false,
        timeoutMs: TIMEOUT_MS,
      }).getSelfLogin(),
  },
  {
    name: 'Forgejo',
    request: 'tracker: GET /user: ',
    send: (base) =>
      createForgejoTracker({
        apiUrl: `${base}/api/v1`,
        token: () => Promise.resolve(TOKEN),
        retries: 0,
        timeoutMs: TIMEOUT_MS,
      }).getSelfLogin(),
  },
  {
    name: 'T3',
    request: 't3: GET /api/auth/session: ',
    send: (base) =>
      createT3Client({
        baseUrl: base,
        token: () => Promise.resolve(TOKEN),
        retries: 0,
        timeoutMs: TIMEOUT_MS,
      }).readAuthSession(),
  },
  {
    name: 'Slack',
    request: 'slack: POST <slack webhook>: ',
    send: (base) =>
      createSlackDoorbell({
        webhookUrl: () => Promise.resolve(`${base}${SECRET_PATH}?token=${TOKEN}`),
        retryDelayMs: 0,
        timeoutMs: TIMEOUT_MS,
      }).ring({ text: 'afk: x', url: 'https://x.test', fields: [] }),
  },
];

async function outcomeOf(promise: Promise<unknown>): Promise<Outcome> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  expect((error as UpstreamError).kind).toBe('transient');
  return { line: (error as UpstreamError).message };
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });

const servers: Array<{ close(): unknown; closeAllConnections?: () => void }> = [];
let closedPort: number;
let silentPort: number;
let plainPort: number;
let selfSignedPort: number | undefined;

beforeAll(async () => {
  const probe = createServer();
  closedPort = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));

  // Accepts the connection and never says a word.
  const silent = createServer((socket) => socket.on('error', () => undefined));
  silentPort = await listen(silent);
  servers.push(silent);

  // Plain HTTP where the client expects TLS: OpenSSL reads the answer as a bad record.
  const plain = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
  });
  plainPort = await listen(plain);
  servers.push(plain);

  const dir = mkdtempSync(join(tmpdir(), 'afk-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const tls = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (_request, response) => response.end('{}'),
    );
    tls.on('tlsClientError', () => undefined);
    selfSignedPort = await listen(tls as unknown as Server);
    servers.push(tls);
  } catch {
    selfSignedPort = undefined;
  }
});

afterAll(() => {
  for (const server of servers) {
    server.closeAllConnections?.();
    server.close();
  }
});

describe.each(adapters)('$name without an answer', ({ request, send }) => {
  const check = (line: string, cause: string | RegExp, address: string) => {
    expect(line.startsWith(request), line).toBe(true);
    const rest = line.slice(request.length);
    const match = /^network error: (.+) \(([^()]+)\)$/.exec(rest);
    expect(match, line).not.toBeNull();
    if (typeof cause === 'string') expect(match?.[1]).toBe(cause);
    else expect(match?.[1]).toMatch(cause);
    expect(match?.[2]).toBe(address);
    expect(line).not.toContain(TOKEN);
    expect(line).not.toContain('/services/');
    expect(line).not.toMatch(/token|refused: GET/i);
  };

  it('names a refused connection and the address', async () => {
    const { line } = await outcomeOf(send(`http://127.0.0.1:${closedPort}`));
    check(line, 'connection refused', `127.0.0.1:${closedPort}`);
  });

  it('names a port that fetch itself refuses (a Fetch standard "bad port")', async () => {
    const { line } = await outcomeOf(send('http://127.0.0.1:9'));
    check(line, 'port blocked by fetch (a "bad port": use another port)', '127.0.0.1:9');
  });

  it('names a name that does not resolve, with the default port', async () => {
    const { line } = await outcomeOf(send('https://afk-network-test.invalid'));
    check(line, /^DNS failure \((ENOTFOUND|EAI_AGAIN)\)$/, 'afk-network-test.invalid:443');
  });

  it('names a server that never answers as a timeout', async () => {
    const { line } = await outcomeOf(send(`http://127.0.0.1:${silentPort}`));
    check(line, `timeout after ${TIMEOUT_MS} ms`, `127.0.0.1:${silentPort}`);
  });

  it('names TLS spoken to a plain HTTP port', async () => {
    const { line } = await outcomeOf(send(`https://127.0.0.1:${plainPort}`));
    check(line, /^TLS failure \(ERR_SSL_[A-Z_]+\)$/, `127.0.0.1:${plainPort}`);
  });

  it('names a self-signed certificate', async (context) => {
    if (selfSignedPort === undefined)
      context.skip('openssl is not available to make a certificate');
    const { line } = await outcomeOf(send(`https://localhost:${selfSignedPort}`));
    check(line, 'TLS failure (DEPTH_ZERO_SELF_SIGNED_CERT)', `localhost:${selfSignedPort}`);
  });
});

describe('the metrics push without an answer', () => {
  it('returns the address and the cause, never the URL or its credentials', async () => {
    const url = `http://user:pass@127.0.0.1:${closedPort}/prefix`;
    const result = await pushMetrics({ url, job: 'afk', command: 'poll' }, '', {
      timeoutMs: TIMEOUT_MS,
    });

    expect(result).toEqual({
      ok: false,
      kind: 'transient',
      status: null,
      network: { address: `127.0.0.1:${closedPort}`, cause: 'connection refused' },
    });
  });
});

describe('afk doctor with nothing listening', () => {
  it('says the tracker and T3 are unreachable, where and why, and blames no token', async () => {
    const config = writeConfig(
      armedConfig({
        tracker: { apiUrl: `http://127.0.0.1:${closedPort}` },
        t3: { url: `http://127.0.0.1:${closedPort}` },
      }),
    );

    const result = await runCli(['doctor', '--config', config]);

    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toContain(
      `fail  tracker: unreachable at 127.0.0.1:${closedPort}: connection refused`,
    );
    expect(lines).toContain('skip  repos: not checked: the tracker is unreachable');
    expect(lines).toContain(`fail  T3: unreachable at 127.0.0.1:${closedPort}: connection refused`);
    expect(result.stdout).not.toMatch(/token refused/);
  });
});
