// End to end: the built binary as a child process against the loopback emulators, for the
// commands the demo does not run (status, doctor) and the binary's own edges.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createGitHubFake, type GitHubFake } from '../../src/emulators/github.js';
import { startEmulator, type Emulator } from '../../src/emulators/server.js';
import { createT3Fake } from '../../src/emulators/t3.js';

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
