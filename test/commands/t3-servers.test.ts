// Several T3 servers (`t3.servers`): each repo is pinned to one, its capacity caps the live
// runs there, and one server that is down stops only its repos. Three T3 emulators on their
// own base URLs: a hosts acme/api and acme/web, b hosts acme/ops, c (doctor only) is empty.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { projectIdFor, threadIdFor } from '../../src/core/index.js';
import type { ForgeFake } from '../../emulators/forge.js';
import { createPushgatewayFake, type PushgatewayFake } from '../../emulators/pushgateway.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { useMswServer } from '../support/msw.js';
import { armedConfig as baseConfig, runCli, writeConfig } from '../support/cli.js';
import { AFK_LABELS, forges, github, type ForgeUnderTest } from '../support/forges.js';

const { server } = useMswServer();

const T3_A = 'http://t3-a.test';
const T3_B = 'http://t3-b.test:3773';
const PUSHGATEWAY = 'https://pushgateway.test';
const SCOPES = ['orchestration:read', 'orchestration:operate'];
const tokenDir = mkdtempSync(join(tmpdir(), 'afk-t3-tokens-'));
const tokenFile = (name: string) => {
  const file = join(tokenDir, `${name}-token`);
  writeFileSync(file, `t3-token-${name}\n`);
  return file;
};

let under: ForgeUnderTest = github;
let gh: ForgeFake;
let a: T3Fake;
let b: T3Fake;
let gateway: PushgatewayFake;
const useForge = (forge: ForgeUnderTest) => {
  under = forge;
  gh = forge.create();
  a = createT3Fake({ baseUrl: T3_A, tokens: { 't3-token-a': SCOPES } });
  b = createT3Fake({ baseUrl: T3_B, tokens: { 't3-token-b': SCOPES } });
  gateway = createPushgatewayFake(PUSHGATEWAY);
  server.resetHandlers(...gh.handlers, ...a.handlers, ...b.handlers, gateway.handler);
  for (const repo of ['acme/api', 'acme/web', 'acme/ops']) {
    gh.addRepo(repo, { collaborators: { maintainer: 'write' }, labels: AFK_LABELS });
  }
};
beforeEach(() => useForge(github));

const servers = (capacity = 1) => [
  {
    name: 'a',
    url: T3_A,
    tokenFile: tokenFile('a'),
    capacity,
    repos: ['acme/api', 'acme/web'],
  },
  { name: 'b', url: T3_B, tokenFile: tokenFile('b'), capacity, repos: ['acme/ops'] },
];
const fleetConfig = (overrides: Record<string, unknown> = {}) =>
  writeConfig(
    baseConfig({
      tracker: under.tracker,
      repos: ['acme/api', 'acme/web', 'acme/ops'],
      t3: { servers: servers() },
      dispatch: { maxConcurrentRuns: 10, maxRunsPerRepo: 1, maxDispatchesPerTick: 10 },
      ...overrides,
    }),
  );

const ready = (repo: string, number: number, createdAt: string) =>
  gh.addIssue(repo, {
    number,
    title: `Issue ${number}`,
    body: `Please fix thing ${number}.`,
    labels: ['ready-for-agent'],
    createdAt,
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });

const commandTypes = (fake: T3Fake) =>
  fake.commands.map(
    (c) =>
      `${String(c.command['type'])} ${String(c.command['threadId'] ?? c.command['projectId'])}`,
  );
/** Each request to a server, with the token it carried (none for the public descriptor). */
const requestsTo = (fake: T3Fake) =>
  fake.requests.map((r) => `${r.method} ${r.path} ${r.headers['authorization'] ?? '-'}`);
const snapshotDown = (fake: T3Fake) =>
  fake.failNext({ path: '/api/orchestration/snapshot' }, { status: 503 }, 10);

const api1 = threadIdFor({ repo: 'acme/api', number: 1 }, 1);
const ops3 = threadIdFor({ repo: 'acme/ops', number: 3 }, 1);
const DOWN_B = 't3: GET /api/orchestration/snapshot: 503 transient';

/** acme/api#1 live on a and acme/ops#3 live on b, both turns running. */
async function dispatchBoth(): Promise<void> {
  ready('acme/api', 1, '2026-11-01T00:00:00Z');
  ready('acme/ops', 3, '2026-11-03T00:00:00Z');
  const poll = await runCli(['poll', '--config', fleetConfig()]);
  expect(poll.code, poll.stdout).toBe(0);
  a.startProvider(api1);
  b.startProvider(ops3);
  a.requests.length = 0;
  b.requests.length = 0;
}

describe.each(forges)('afk poll with several T3 servers on $kind', (forge) => {
  beforeEach(() => useForge(forge));

  it('sends each repo to its server with its own token, and keeps each server within its capacity', async () => {
    ready('acme/api', 1, '2026-11-01T00:00:00Z');
    ready('acme/web', 2, '2026-11-02T00:00:00Z');
    ready('acme/ops', 3, '2026-11-03T00:00:00Z');
    ready('acme/ops', 4, '2026-11-04T00:00:00Z');

    const result = await runCli(['poll', '--config', fleetConfig(), '--output', 'json']);

    expect(result.code, result.stdout).toBe(0);
    expect(commandTypes(a)).toEqual([
      `project.create ${projectIdFor('acme/api')}`,
      `thread.create ${api1}`,
      `thread.turn.start ${api1}`,
    ]);
    expect(commandTypes(b)).toEqual([
      `project.create ${projectIdFor('acme/ops')}`,
      `thread.create ${ops3}`,
      `thread.turn.start ${ops3}`,
    ]);
    // Both snapshots before selection, then each server's own commands, each with its token.
    const dispatch = (token: string) => `POST /api/orchestration/dispatch Bearer ${token}`;
    expect(requestsTo(a)).toEqual([
      'GET /.well-known/t3/environment -',
      'GET /api/orchestration/snapshot Bearer t3-token-a',
      ...Array.from({ length: 3 }, () => dispatch('t3-token-a')),
    ]);
    expect(requestsTo(b)).toEqual([
      'GET /.well-known/t3/environment -',
      'GET /api/orchestration/snapshot Bearer t3-token-b',
      ...Array.from({ length: 3 }, () => dispatch('t3-token-b')),
    ]);
    expect(result.json).toMatchObject({
      dispatched: ['acme/api#1', 'acme/ops#3'],
      waiting: [
        {
          issue: 'acme/web#2',
          reason: 'server-full',
          detail: '1 of 1 runs live on T3 server a',
        },
        {
          issue: 'acme/ops#4',
          reason: 'server-full',
          detail: '1 of 1 runs live on T3 server b',
        },
      ],
      failures: [],
    });
  });

  it('serves the other server’s repos when one is down, names it, and exits 1', async () => {
    ready('acme/api', 1, '2026-11-01T00:00:00Z');
    ready('acme/ops', 3, '2026-11-03T00:00:00Z');
    snapshotDown(b);
    const config = fleetConfig({ metrics: { pushgatewayUrl: PUSHGATEWAY } });

    const result = await runCli(['poll', '--config', config, '--output', 'json']);

    expect(result.code, result.stdout).toBe(1);
    expect(commandTypes(a)).toEqual([
      `project.create ${projectIdFor('acme/api')}`,
      `thread.create ${api1}`,
      `thread.turn.start ${api1}`,
    ]);
    expect(requestsTo(b)).toEqual([
      'GET /.well-known/t3/environment -',
      'GET /api/orchestration/snapshot Bearer t3-token-b',
    ]);
    expect(gh.issue('acme/ops', 3).labels).toEqual(['ready-for-agent']);
    expect(gh.issue('acme/ops', 3).comments).toEqual([]);
    expect(result.json).toMatchObject({
      summary: 'poll: dispatched 1 (acme/api#1); 1 waiting; 1 failed',
      dispatched: ['acme/api#1'],
      waiting: [
        {
          issue: 'acme/ops#3',
          reason: 'server-down',
          detail: `T3 server b could not be read: ${DOWN_B}`,
        },
      ],
      failures: [
        {
          issue: null,
          error: `T3 server b (t3-b.test:3773) could not be read; left out of this tick: acme/ops: ${DOWN_B}`,
        },
      ],
    });
    const body = gateway.pushes[0]?.body ?? '';
    const lines = body.split('\n').filter((l) => l.startsWith('afk_t3_server'));
    expect(lines).toEqual([
      'afk_t3_server_live_runs{server="a"} 0',
      'afk_t3_server_live_runs{server="b"} 0',
      'afk_t3_server_capacity{server="a"} 1',
      'afk_t3_server_capacity{server="b"} 1',
      'afk_t3_server_up{server="a"} 1',
      'afk_t3_server_up{server="b"} 0',
    ]);
  });

  it('reads only the servers of the repo a run is narrowed to', async () => {
    ready('acme/api', 1, '2026-11-01T00:00:00Z');
    ready('acme/ops', 3, '2026-11-03T00:00:00Z');
    snapshotDown(b);

    const result = await runCli(['poll', '--config', fleetConfig(), '--repo', 'acme/api']);

    expect(result.code, result.stdout).toBe(0);
    expect(commandTypes(a)).toHaveLength(3);
    expect(b.requests).toEqual([]);
  });

  it('stops with exit 3 when no server can be read, and writes nothing', async () => {
    ready('acme/api', 1, '2026-11-01T00:00:00Z');
    ready('acme/ops', 3, '2026-11-03T00:00:00Z');
    snapshotDown(a);
    snapshotDown(b);

    const result = await runCli(['poll', '--config', fleetConfig()]);

    expect(result.code, result.stdout).toBe(3);
    expect(result.stdout).toContain(
      `poll: stopped, cannot read what a dispatch needs: no T3 server could be read: a: ${DOWN_B}; b: ${DOWN_B}\n`,
    );
    expect(a.writes()).toEqual([]);
    expect(b.writes()).toEqual([]);
    expect(gh.writes()).toEqual([]);
  });
});

describe.each(forges)('afk watch with several T3 servers on $kind', (forge) => {
  beforeEach(() => useForge(forge));

  it('reads each run’s thread from its repo’s server', async () => {
    await dispatchBoth();

    const result = await runCli(['watch', '--config', fleetConfig(), '--output', 'json']);

    expect(result.code, result.stdout).toBe(0);
    expect(requestsTo(a)).toEqual([
      'GET /.well-known/t3/environment -',
      'GET /api/orchestration/snapshot Bearer t3-token-a',
      `GET /api/orchestration/threads/${api1} Bearer t3-token-a`,
    ]);
    expect(requestsTo(b)).toEqual([
      'GET /.well-known/t3/environment -',
      'GET /api/orchestration/snapshot Bearer t3-token-b',
      `GET /api/orchestration/threads/${ops3} Bearer t3-token-b`,
    ]);
    expect(result.json).toMatchObject({
      runs: [
        { issue: 'acme/api#1', decision: { kind: 'wait' } },
        { issue: 'acme/ops#3', decision: { kind: 'wait' } },
      ],
    });
  });

  it('leaves a down server’s runs unread and named, decides the others, and exits 1', async () => {
    await dispatchBoth();
    snapshotDown(b);
    const config = fleetConfig({ metrics: { pushgatewayUrl: PUSHGATEWAY } });

    const result = await runCli(['watch', '--config', config, '--output', 'json']);

    expect(result.code, result.stdout).toBe(1);
    const body = gateway.pushes[0]?.body ?? '';
    expect(body.split('\n').filter((l) => l.startsWith('afk_t3_server'))).toEqual([
      'afk_t3_server_live_runs{server="a"} 1',
      'afk_t3_server_live_runs{server="b"} 1',
      'afk_t3_server_capacity{server="a"} 1',
      'afk_t3_server_capacity{server="b"} 1',
      'afk_t3_server_up{server="a"} 1',
      'afk_t3_server_up{server="b"} 0',
    ]);
    expect(requestsTo(a)).toEqual([
      'GET /.well-known/t3/environment -',
      'GET /api/orchestration/snapshot Bearer t3-token-a',
      `GET /api/orchestration/threads/${api1} Bearer t3-token-a`,
    ]);
    expect(requestsTo(b)).toEqual([
      'GET /.well-known/t3/environment -',
      'GET /api/orchestration/snapshot Bearer t3-token-b',
    ]);
    expect(result.json).toMatchObject({
      summary: 'watch: 2 live run(s): 1 wait, 1 not read (T3 server down); 1 failed',
      runs: [{ issue: 'acme/api#1', decision: { kind: 'wait' } }],
      waiting: [
        {
          issue: 'acme/ops#3',
          reason: 'server-down',
          detail: `T3 server b could not be read: ${DOWN_B}`,
        },
      ],
      failures: [
        {
          issue: null,
          error: `T3 server b (t3-b.test:3773) could not be read; left out of this tick: acme/ops#3: ${DOWN_B}`,
        },
      ],
    });
    expect(a.writes()).toEqual([]);
    expect(b.writes()).toEqual([]);
  });

  it('stops with exit 3 when no server hosting a live run can be read', async () => {
    await dispatchBoth();
    snapshotDown(a);
    snapshotDown(b);

    const result = await runCli(['watch', '--config', fleetConfig()]);

    expect(result.code, result.stdout).toBe(3);
    expect(result.stdout).toContain(
      `watch: stopped, cannot read the runs: no T3 server could be read: a: ${DOWN_B}; b: ${DOWN_B}\n`,
    );
  });
});

describe.each(forges)('afk status with several T3 servers on $kind', (forge) => {
  beforeEach(() => useForge(forge));

  it('shows each server, and T3’s columns unknown only for the down server’s runs', async () => {
    await dispatchBoth();
    ready('acme/web', 2, '2026-11-02T00:00:00Z');
    snapshotDown(b);

    const result = await runCli(['status', '--config', fleetConfig()]);

    expect(result.code, result.stdout).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines.slice(1, 6)).toEqual([
      '',
      'T3 servers (2)',
      '  SERVER  HOST            RUNS  STATE',
      '  a       t3-a.test       1/1   reachable',
      `  b       t3-b.test:3773  1/1   unreachable: ${DOWN_B}`,
    ]);
    const row = (issue: string) => lines.find((l) => l.includes(` ${issue} `)) ?? '';
    expect(row('acme/api#1')).toContain(' running/running ');
    expect(row('acme/ops#3')).toContain(' unknown ');
    expect(row('acme/web#2')).toContain('server-full: 1 of 1 runs live on T3 server a');
    expect(lines).toContain(
      `unreadable: T3 server b (t3-b.test:3773) could not be read: ${DOWN_B}`,
    );
    expect(requestsTo(b)).toEqual([
      'GET /.well-known/t3/environment -',
      'GET /api/orchestration/snapshot Bearer t3-token-b',
    ]);
  });
});

describe('afk doctor with several T3 servers', () => {
  it('checks every server: its token, reachability, version gate, scopes and snapshot', async () => {
    const c = createT3Fake({
      baseUrl: 'http://t3-c.test',
      serverVersion: '0.0.29',
      tokens: { 't3-token-c': ['orchestration:read'] },
    });
    server.use(...c.handlers);
    snapshotDown(b);
    const config = fleetConfig({
      repos: ['acme/api'],
      t3: {
        runtimeMode: 'auto',
        servers: [
          { name: 'a', url: T3_A, tokenFile: tokenFile('a'), capacity: 2, repos: ['acme/api'] },
          { name: 'b', url: T3_B, tokenFile: tokenFile('b'), capacity: 2, repos: ['acme/ops'] },
          {
            name: 'c',
            url: 'http://t3-c.test',
            tokenFile: tokenFile('c'),
            capacity: 1,
            repos: ['acme/web'],
          },
        ],
      },
    });

    const result = await runCli(['doctor', '--config', config]);

    expect(result.code, result.stdout).toBe(1);
    const t3Lines = result.stdout.split('\n').filter((l) => / T3 /.test(` ${l.slice(6)}`));
    expect(t3Lines).toEqual([
      `pass  T3 token of a: present (file ${join(tokenDir, 'a-token')})`,
      `pass  T3 token of b: present (file ${join(tokenDir, 'b-token')})`,
      `pass  T3 token of c: present (file ${join(tokenDir, 'c-token')})`,
      'pass  T3 a: reachable at http://t3-a.test, server 0.0.32',
      'pass  T3 a runtime mode: auto: T3 0.0.32 knows it',
      'pass  T3 a scopes: authenticated, scopes orchestration:read, orchestration:operate',
      'pass  T3 a orchestration: snapshot readable: 0 project(s), 0 thread(s)',
      'pass  T3 b: reachable at http://t3-b.test:3773, server 0.0.32',
      'pass  T3 b runtime mode: auto: T3 0.0.32 knows it',
      'pass  T3 b scopes: authenticated, scopes orchestration:read, orchestration:operate',
      'fail  T3 b orchestration: GET /api/orchestration/snapshot: 503 transient',
      'pass  T3 c: reachable at http://t3-c.test, server 0.0.29',
      'fail  T3 c runtime mode: runtimeMode auto needs T3 0.0.30 or later; this server is 0.0.29: set t3.runtimeMode to another mode or upgrade T3',
      'fail  T3 c scopes: missing scope orchestration:operate',
    ]);
    // Each server is asked with its own token only.
    expect(requestsTo(c)).toEqual([
      'GET /.well-known/t3/environment -',
      'GET /api/auth/session Bearer t3-token-c',
    ]);
  });
});
