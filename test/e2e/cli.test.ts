// End to end: the built binary as a child process against the loopback emulators, for the
// commands the demo does not run (status, doctor) and the binary's own edges.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { http } from 'msw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { startEmulator, type Emulator } from '../../emulators/server.js';
import { createT3Fake } from '../../emulators/t3.js';
import { threadIdFor } from '../../src/core/index.js';

const BIN = fileURLToPath(new URL('../../bin/afk.js', import.meta.url));
const exec = promisify(execFile);

let servers: Emulator[] = [];
let gh: GitHubFake;
let configFile: string;

beforeAll(async () => {
  servers = await Promise.all([startEmulator(), startEmulator()]);
  const [ghServer, t3Server] = servers as [Emulator, Emulator];
  gh = createGitHubFake({ baseUrl: ghServer.url });
  const t3 = createT3Fake({ baseUrl: t3Server.url });
  ghServer.use(gh.handlers);
  t3Server.use(t3.handlers);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write' } });
  gh.addIssue('acme/api', {
    number: 1,
    title: 'Queued',
    labels: ['ready-for-agent'],
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });
  configFile = join(mkdtempSync(join(tmpdir(), 'afk-e2e-')), 'afk.yaml');
  writeFileSync(
    configFile,
    stringify({
      killSwitch: true,
      repos: ['acme/api'],
      tracker: { apiUrl: ghServer.url },
      t3: { url: t3Server.url },
    }),
  );
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function afk(args: string[], env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    AFK_TRACKER_TOKEN: 'gh-test-token',
    AFK_T3_TOKEN: 't3-test-token',
    ...env,
  };
  return exec(process.execPath, [BIN, ...args], { env: childEnv, timeout: 20_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

describe('the built binary', () => {
  it('prints its version and help', async () => {
    expect((await afk(['--version'])).stdout.trim()).toBe('0.1.0');
    const help = await afk(['--help']);
    for (const command of ['poll', 'watch', 'status', 'doctor'])
      expect(help.stdout).toContain(command);
  });

  it('shows the queue with status while the kill switch is on', async () => {
    const result = await afk(['status', '--config', configFile]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('acme/api#1');
    expect(result.stdout).toContain('would dispatch next');
  });

  it('checks a setup with doctor, and fixes the missing labels', async () => {
    const before = await afk(['doctor', '--config', configFile]);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain('fail  acme/api labels: missing');
    expect(gh.writes()).toEqual([]);
    const fixed = await afk(['doctor', '--config', configFile, '--fix-labels']);
    expect(fixed.code, fixed.stdout).toBe(0);
    expect(fixed.stdout).toContain('pass  acme/api labels: created');
  });

  it('stays disarmed under the kill switch: poll exits 0 with one log line', async () => {
    const result = await afk(['poll', '--config', configFile]);
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('kill switch is on');
  });
});

describe('the built binary under SIGTERM', () => {
  it('finishes the step in flight, reports, exits 143, and the next tick completes with no duplicate', async () => {
    const [ghServer, t3Server] = (servers = [
      ...servers,
      ...(await Promise.all([startEmulator(), startEmulator()])),
    ]).slice(-2) as [Emulator, Emulator];
    const forge = createGitHubFake({ baseUrl: ghServer.url });
    const t3 = createT3Fake({ baseUrl: t3Server.url });
    forge.addRepo('acme/api', { collaborators: { maintainer: 'write' } });
    forge.addIssue('acme/api', {
      number: 1,
      title: 'Queued',
      labels: ['ready-for-agent'],
      labeledBy: { 'ready-for-agent': 'maintainer' },
    });
    const config = join(mkdtempSync(join(tmpdir(), 'afk-e2e-')), 'afk.yaml');
    writeFileSync(
      config,
      stringify({
        killSwitch: false,
        repos: ['acme/api'],
        tracker: { apiUrl: ghServer.url },
        t3: { url: t3Server.url },
      }),
    );
    const running: { child?: ReturnType<typeof spawn> } = {};
    // The real signal arrives while the thread is being created; T3 answers 300 ms later.
    const hold = http.post(`${t3Server.url}/api/orchestration/dispatch`, async ({ request }) => {
      const body = (await request.clone().json()) as { type: string };
      if (body.type !== 'thread.create') return undefined;
      running.child?.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      return undefined;
    });
    ghServer.use(forge.handlers);
    t3Server.use([hold, ...t3.handlers]);

    const child = (running.child = spawn(process.execPath, [BIN, 'poll', '--config', config], {
      env: {
        PATH: process.env['PATH'],
        AFK_TRACKER_TOKEN: 'gh-test-token',
        AFK_T3_TOKEN: 't3-test-token',
      },
    }));
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );

    expect(signal, stderr).toBe(null);
    expect(code, stderr).toBe(143);
    expect(stdout).toMatch(/^done +acme\/api#1: create thread/m);
    expect(stdout).toMatch(/^skipped acme\/api#1: write the afk comment: stopped by SIGTERM$/m);
    expect(stdout).toContain('4 not started (stopped by SIGTERM)');
    expect(forge.writes()).toEqual([]);

    t3Server.use(t3.handlers);
    const next = await afk(['poll', '--config', config]);
    expect(next.code, next.stderr).toBe(0);
    const thread = threadIdFor({ repo: 'acme/api', number: 1 }, 1);
    expect([...t3.state.threads.keys()]).toEqual([thread]);
    expect(t3.commands.filter((c) => c.command['type'] === 'thread.turn.start')).toHaveLength(1);
    expect(forge.issue('acme/api', 1).comments).toHaveLength(1);
    expect(forge.issue('acme/api', 1).labels).toEqual(['agent-in-progress']);
  });
});
