import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ForgeFake } from '../../emulators/forge.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { useMswServer } from '../support/msw.js';
import { armedConfig, runCli, T3_TOKEN, TRACKER_TOKEN, writeConfig } from '../support/cli.js';
import { AFK_LABELS, forgejo } from '../support/forges.js';

const { server, seen } = useMswServer();

let gh: GitHubFake;
let t3: T3Fake;
beforeEach(() => {
  seen.length = 0;
  gh = createGitHubFake();
  t3 = createT3Fake();
  server.use(...gh.handlers, ...t3.handlers);
  gh.addRepo('acme/api', { labels: AFK_LABELS });
  gh.addRepo('acme/web', { labels: AFK_LABELS });
});

const lines = (stdout: string) => stdout.trimEnd().split('\n');
const slack = { AFK_SLACK_WEBHOOK_URL: 'https://hooks.slack.test/services/T/B/secret' };

describe('afk doctor', () => {
  it('passes every check of a healthy, armed deployment, and writes nothing', async () => {
    const config = writeConfig(armedConfig());

    const result = await runCli(['doctor', '--config', config], { env: slack });

    expect(result.code, result.stdout).toBe(0);
    expect(lines(result.stdout)).toEqual([
      `pass  config: loaded from ${config}`,
      'info  gates: armed: kill switch off; 2 repo(s) allow-listed: acme/api, acme/web',
      'pass  tracker token: present (env AFK_TRACKER_TOKEN)',
      'pass  T3 token: present (env AFK_T3_TOKEN)',
      'pass  Slack webhook: present (env AFK_SLACK_WEBHOOK_URL)',
      'pass  tracker: token works, acting as afk-bot',
      'pass  acme/api access: token has push permission',
      'pass  acme/api labels: all 7 present',
      'pass  acme/web access: token has push permission',
      'pass  acme/web labels: all 7 present',
      'pass  T3: reachable at http://t3.test, server 0.0.32',
      'pass  T3 scopes: authenticated, scopes orchestration:read, orchestration:operate',
      'pass  T3 orchestration: snapshot readable: 0 project(s), 0 thread(s)',
      'doctor: healthy; 12 passed, 0 warning(s)',
    ]);
    // The doorbell is checked for presence only: it is never rung.
    expect(seen).toEqual([
      'GET https://api.github.test/user',
      'GET https://api.github.test/repos/acme/api',
      'GET https://api.github.test/repos/acme/api/labels?per_page=100',
      'GET https://api.github.test/repos/acme/web',
      'GET https://api.github.test/repos/acme/web/labels?per_page=100',
      'GET http://t3.test/.well-known/t3/environment',
      'GET http://t3.test/api/auth/session',
      'GET http://t3.test/api/orchestration/snapshot',
    ]);
    expect(result.stdout).not.toContain(TRACKER_TOKEN);
    expect(result.stdout).not.toContain(T3_TOKEN);
    expect(result.stdout).not.toContain('secret');
  });

  it('gives a T3 that does not answer 5 s, not a tick’s 15', async () => {
    t3.failNext({ path: '/.well-known/t3/environment' }, 'timeout');
    const started = Date.now();
    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], {
      env: slack,
    });
    const elapsed = Date.now() - started;

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^fail {2}T3: .*timeout/m);
    expect(elapsed).toBeGreaterThanOrEqual(4_900);
    expect(elapsed).toBeLessThan(12_000);
  }, 20_000);

  it('reports the kill switch as information, not a failure, and a missing doorbell as a warning', async () => {
    const config = writeConfig(armedConfig({ killSwitch: true, repos: ['acme/api'] }));

    const result = await runCli(['doctor', '--config', config]);

    expect(result.code, result.stdout).toBe(0);
    expect(lines(result.stdout)).toContain(
      'info  gates: disarmed: kill switch on; 1 repo(s) allow-listed: acme/api',
    );
    expect(lines(result.stdout)).toContain(
      'warn  Slack webhook: absent: no doorbell, escalations page nobody (set notify.slackWebhookUrlFile or AFK_SLACK_WEBHOOK_URL)',
    );
    expect(lines(result.stdout).at(-1)).toBe('doctor: healthy; 9 passed, 1 warning(s)');
  });

  it('fails on a refused tracker token and skips the repo checks', async () => {
    gh.setToken('another-token');

    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain(
      'fail  tracker: token refused: GET /user: 401 auth (Bad credentials)',
    );
    expect(lines(result.stdout)).toContain(
      'skip  repos: not checked: the tracker token is refused',
    );
    expect(seen.filter((r) => r.includes('/repos/'))).toEqual([]);
    expect(lines(result.stdout).at(-1)).toBe('doctor: 1 failed; 7 passed, 0 warning(s)');
  });

  it('says the tracker is unreachable, not that the token is refused, on a network failure', async () => {
    gh.failNext({ path: '/user' }, 'network-error');

    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain(
      'fail  tracker: unreachable at api.github.test:443: connection failed',
    );
    expect(lines(result.stdout)).toContain('skip  repos: not checked: the tracker is unreachable');
    expect(result.stdout).not.toContain('token refused');
    expect(seen.filter((r) => r.includes('/repos/'))).toEqual([]);
  });

  it('says a tracker failure that is not a refusal is not the token’s', async () => {
    gh.failNext({ path: '/user' }, { status: 503 });

    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain(
      'fail  tracker: cannot check the token: GET /user: 503 transient (fake failure 503)',
    );
  });

  it('fails runtimeMode auto on a T3 version that lacks it, and passes it on one that has it', async () => {
    const config = writeConfig(armedConfig({ t3: { url: 'http://t3.test', runtimeMode: 'auto' } }));
    t3 = createT3Fake({ serverVersion: '0.0.29' });
    server.use(...t3.handlers);

    const old = await runCli(['doctor', '--config', config], { env: slack });

    expect(old.code).toBe(1);
    expect(lines(old.stdout)).toContain(
      'fail  T3 runtime mode: runtimeMode auto needs T3 0.0.30 or later; this server is 0.0.29: set t3.runtimeMode to another mode or upgrade T3',
    );

    t3 = createT3Fake({ serverVersion: '0.0.32' });
    server.use(...t3.handlers);
    const current = await runCli(['doctor', '--config', config], { env: slack });

    expect(current.code, current.stdout).toBe(0);
    expect(lines(current.stdout)).toContain('pass  T3 runtime mode: auto: T3 0.0.32 knows it');
  });

  it('fails a T3 server that does not serve the HTTP orchestration API', async () => {
    t3.failNext({ path: '/api/orchestration/snapshot' }, { status: 404 });

    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain(
      `fail  T3 orchestration: GET /api/orchestration/snapshot: 404 this server does not serve the HTTP orchestration API (T3's "orchestration v2" moves it)`,
    );
  });

  it('names the missing permission of a read-only token', async () => {
    gh.addRepo('acme/ro', { labels: AFK_LABELS, collaborators: { 'afk-bot': 'triage' } });
    const config = writeConfig(armedConfig({ repos: ['acme/ro'] }));

    const result = await runCli(['doctor', '--config', config], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain(
      'fail  acme/ro access: token lacks push permission (has triage)',
    );
  });

  it('fails on missing labels and says how to create them, without writing', async () => {
    gh.addRepo('acme/new', { labels: ['ready-for-agent', 'P0', 'bug'] });
    const config = writeConfig(armedConfig({ repos: ['acme/new'] }));

    const result = await runCli(['doctor', '--config', config], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain(
      'fail  acme/new labels: missing agent-in-progress, ready-for-human, P1, P2, P3 (run afk doctor --fix-labels to create)',
    );
    expect(gh.writes()).toEqual([]);
  });

  it('prints the labels it would create as a plan, in text and JSON, without writing', async () => {
    gh.addRepo('acme/new', { labels: ['ready-for-agent', 'P0', 'P1', 'P2', 'P3'] });
    const config = writeConfig(armedConfig({ repos: ['acme/new'] }));

    const text = await runCli(['doctor', '--config', config], { env: slack });
    const json = await runCli(['doctor', '--config', config, '--output', 'json'], { env: slack });

    expect(text.code).toBe(1);
    expect(lines(text.stdout).slice(-3)).toEqual([
      'plan (afk doctor --fix-labels carries it out):',
      '  1. acme/new: create label agent-in-progress (#1d76db)',
      '  2. acme/new: create label ready-for-human (#d93f0b)',
    ]);
    expect(json.json?.['plan']).toEqual([
      { kind: 'createLabel', description: 'acme/new: create label agent-in-progress (#1d76db)' },
      { kind: 'createLabel', description: 'acme/new: create label ready-for-human (#d93f0b)' },
    ]);
    expect(gh.writes()).toEqual([]);
  });

  it('stops creating a repo’s labels at the first that fails, and says why', async () => {
    gh.addRepo('acme/new', { labels: ['ready-for-agent', 'P0', 'P1', 'P2', 'P3'] });
    gh.failNext({ method: 'POST', path: '/repos/acme/new/labels' }, { status: 403 });
    const config = writeConfig(armedConfig({ repos: ['acme/new'] }));

    const result = await runCli(['doctor', '--config', config, '--fix-labels'], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContainEqual(
      expect.stringMatching(
        /^fail {2}acme\/new labels: cannot create agent-in-progress, ready-for-human: POST \/repos\/acme\/new\/labels: 403 /,
      ),
    );
    expect(seen.filter((r) => r.startsWith('POST'))).toEqual([
      'POST https://api.github.test/repos/acme/new/labels',
    ]);
  });

  it('creates the missing labels with --fix-labels, and then passes', async () => {
    gh.addRepo('acme/new', { labels: ['ready-for-agent', 'p0'] });
    const config = writeConfig(armedConfig({ repos: ['acme/new'] }));

    const result = await runCli(['doctor', '--config', config, '--fix-labels'], { env: slack });

    expect(result.code, result.stdout).toBe(0);
    expect(lines(result.stdout)).toContain(
      'pass  acme/new labels: created agent-in-progress, ready-for-human, P1, P2, P3',
    );
    expect(gh.writes().map((r) => [r.method, r.path, r.body])).toEqual([
      [
        'POST',
        '/repos/acme/new/labels',
        {
          name: 'agent-in-progress',
          color: '1d76db',
          description: 'An afk run owns this issue; do not remove by hand',
        },
      ],
      [
        'POST',
        '/repos/acme/new/labels',
        { name: 'ready-for-human', color: 'd93f0b', description: 'afk gave up: a human must act' },
      ],
      [
        'POST',
        '/repos/acme/new/labels',
        { name: 'P1', color: 'd93f0b', description: 'afk priority 2 of 4: lower numbers go first' },
      ],
      [
        'POST',
        '/repos/acme/new/labels',
        { name: 'P2', color: 'fbca04', description: 'afk priority 3 of 4: lower numbers go first' },
      ],
      [
        'POST',
        '/repos/acme/new/labels',
        { name: 'P3', color: 'c2e0c6', description: 'afk priority 4 of 4: lower numbers go first' },
      ],
    ]);

    const again = await runCli(['doctor', '--config', config], { env: slack });
    expect(again.code).toBe(0);
    expect(lines(again.stdout)).toContain('pass  acme/new labels: all 7 present');
  });

  it('fails when T3 is down and does not ask for the session', async () => {
    t3.failNext({ path: '/.well-known/t3/environment' }, 'network-error');

    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout).slice(-3)).toEqual([
      'fail  T3: unreachable at t3.test:80: connection failed',
      'skip  T3 scopes: not checked: T3 is unreachable',
      'doctor: 1 failed; 9 passed, 0 warning(s)',
    ]);
    expect(seen).not.toContain('GET http://t3.test/api/auth/session');
  });

  it('says T3 answered, not that it is unreachable, on an HTTP error from its environment', async () => {
    t3.failNext({ path: '/.well-known/t3/environment' }, { status: 404 });

    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout).slice(-3)).toEqual([
      'fail  T3: answered at http://t3.test, but not with its environment: GET /.well-known/t3/environment: 404 not-found',
      'skip  T3 scopes: not checked: T3 did not answer as T3',
      'doctor: 1 failed; 9 passed, 0 warning(s)',
    ]);
    expect(result.stdout).not.toContain('unreachable');
  });

  it('fails on a T3 token without orchestration:operate', async () => {
    t3 = createT3Fake({ tokens: { [T3_TOKEN]: ['orchestration:read'] } });
    server.use(...t3.handlers);

    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain('fail  T3 scopes: missing scope orchestration:operate');
  });

  it('fails on a T3 token the server does not accept', async () => {
    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], {
      env: { ...slack, AFK_T3_TOKEN: 'stale-token' },
    });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain(
      'fail  T3 scopes: not authenticated: T3 does not accept the token',
    );
  });

  it('fails on a missing T3 token, still checks reachability, and never prints a value', async () => {
    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], {
      env: { ...slack, AFK_T3_TOKEN: '' },
    });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain(
      'fail  T3 token: absent (set t3.tokenFile or AFK_T3_TOKEN)',
    );
    expect(lines(result.stdout)).toContain('pass  T3: reachable at http://t3.test, server 0.0.32');
    expect(lines(result.stdout)).toContain('skip  T3 scopes: not checked without a T3 token');
    expect(seen).not.toContain('GET http://t3.test/api/auth/session');
  });

  it('names a token file as the source, and an empty one as a failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'afk-doctor-'));
    const tokenFile = join(dir, 'tracker-token');
    const emptyFile = join(dir, 't3-token');
    writeFileSync(tokenFile, `${TRACKER_TOKEN}\n`);
    writeFileSync(emptyFile, '');
    const config = writeConfig(
      armedConfig({
        tracker: { apiUrl: 'https://api.github.test', tokenFile },
        t3: { url: 'http://t3.test', tokenFile: emptyFile },
      }),
    );

    const result = await runCli(['doctor', '--config', config], {
      env: { ...slack, AFK_TRACKER_TOKEN: '' },
    });

    expect(lines(result.stdout)).toContain(`pass  tracker token: present (file ${tokenFile})`);
    expect(lines(result.stdout)).toContain(
      `fail  T3 token: t3.tokenFile: the T3 token file ${emptyFile} is empty`,
    );
  });

  it.each([
    [
      'missing',
      (_file: string) => undefined,
      (file: string) => `cannot read the Slack webhook file ${file} (ENOENT)`,
    ],
    [
      'empty',
      (file: string) => writeFileSync(file, '\n'),
      (file: string) => `the Slack webhook file ${file} is empty`,
    ],
  ])(
    'fails on a configured webhook file that is %s, naming it and what it costs',
    async (_name, make, problem) => {
      const file = join(mkdtempSync(join(tmpdir(), 'afk-doctor-')), 'slack-webhook');
      make(file);
      const config = writeConfig(armedConfig({ notify: { slackWebhookUrlFile: file } }));

      const result = await runCli(['doctor', '--config', config], { env: slack });

      expect(result.code, result.stdout).toBe(1);
      expect(lines(result.stdout)).toContain(
        `fail  Slack webhook: notify.slackWebhookUrlFile: ${problem(file)}: every escalation fails its doorbell and keeps its lock until the file can be read`,
      );
      expect(lines(result.stdout).at(-1)).toBe('doctor: 1 failed; 11 passed, 0 warning(s)');
    },
  );

  it.each([
    ['plain http to a remote host', 'http://hooks.slack.test/services/T/B/secret'],
    ['not a URL', 'secret-not-a-url'],
  ])('fails a webhook the doorbell would refuse (%s), without showing it', async (_name, url) => {
    const result = await runCli(['doctor', '--config', writeConfig(armedConfig())], {
      env: { AFK_SLACK_WEBHOOK_URL: url },
    });

    expect(result.code, result.stdout).toBe(1);
    expect(lines(result.stdout)).toContain(
      'fail  Slack webhook: the Slack webhook URL is not an https:// URL (its value is not shown): every escalation fails its doorbell and keeps its lock until it is fixed',
    );
    expect(result.stdout).not.toContain('secret');
    expect(lines(result.stdout).at(-1)).toBe('doctor: 1 failed; 11 passed, 0 warning(s)');
  });

  it('exits 2 on an invalid config, with the problem on one line', async () => {
    const result = await runCli(['doctor', '--config', writeConfig({ killSwitch: 'maybe' })]);

    expect(result.code).toBe(2);
    expect(lines(result.stdout)[0]).toMatch(
      /^fail {2}config: invalid configuration in .*killSwitch/,
    );
    expect(seen).toEqual([]);
  });

  it('prints the JSON error object of every command on an invalid config, beside the check', async () => {
    const config = writeConfig({ killSwich: true });

    const result = await runCli(['doctor', '--config', config, '--output', 'json']);

    expect(result.code).toBe(2);
    expect(result.json).toMatchObject({
      command: 'doctor',
      exitCode: 2,
      error: {
        kind: 'config',
        message: `invalid configuration in ${config}:\n  killSwich: unknown key (did you mean killSwitch?)`,
        problems: ['killSwich: unknown key (did you mean killSwitch?)'],
      },
      checks: [{ status: 'fail', name: 'config' }],
    });
    expect(seen).toEqual([]);
  });

  it('answers JSON for machines', async () => {
    const result = await runCli(
      ['doctor', '--config', writeConfig(armedConfig({ repos: [] })), '--output', 'json'],
      { env: slack },
    );

    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ command: 'doctor', exitCode: 0 });
    expect(result.json?.['checks']).toContainEqual({
      status: 'skip',
      name: 'repos',
      message: 'none allow-listed: nothing to check',
    });
  });
});

describe('afk doctor on Forgejo', () => {
  let fj: ForgeFake;
  const forgejoConfig = (overrides: Record<string, unknown> = {}) =>
    writeConfig(armedConfig({ tracker: forgejo.tracker, ...overrides }));
  beforeEach(() => {
    seen.length = 0;
    fj = forgejo.create();
    t3 = createT3Fake();
    server.resetHandlers(...fj.handlers, ...t3.handlers);
    fj.addRepo('acme/api');
    fj.addRepo('acme/web');
  });

  it('passes a healthy setup: the token, admin access and the labels (repo and org)', async () => {
    const result = await runCli(['doctor', '--config', forgejoConfig()], { env: slack });

    expect(result.code, result.stdout).toBe(0);
    expect(lines(result.stdout).slice(5, 10)).toEqual([
      'pass  tracker: token works, acting as afk-bot',
      'pass  acme/api access: token has admin permission',
      'pass  acme/api labels: all 7 present',
      'pass  acme/web access: token has admin permission',
      'pass  acme/web labels: all 7 present',
    ]);
    expect(seen.filter((r) => r.startsWith('GET https://forgejo.test'))).toEqual([
      'GET https://forgejo.test/api/v1/user',
      'GET https://forgejo.test/api/v1/repos/acme/api',
      'GET https://forgejo.test/api/v1/repos/acme/api/labels?limit=50&page=1',
      'GET https://forgejo.test/api/v1/orgs/acme/labels?limit=50&page=1',
      'GET https://forgejo.test/api/v1/repos/acme/web',
      'GET https://forgejo.test/api/v1/repos/acme/web/labels?limit=50&page=1',
    ]);
    expect(fj.writes()).toEqual([]);
  });

  it('fails a token with write but not admin access, and says why admin is needed', async () => {
    fj.addRepo('acme/rw', { collaborators: { 'afk-bot': 'write' } });

    const result = await runCli(['doctor', '--config', forgejoConfig({ repos: ['acme/rw'] })], {
      env: slack,
    });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain(
      "fail  acme/rw access: token lacks admin permission (has push): Forgejo shows other users' permissions only to repo admins, and afk checks who applied the ready label",
    );
  });

  it('fails on a refused token', async () => {
    fj.setToken('another-token');

    const result = await runCli(['doctor', '--config', forgejoConfig()], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContainEqual(
      expect.stringMatching(/^fail {2}tracker: token refused: GET \/user: 401 auth/),
    );
    expect(lines(result.stdout)).toContain(
      'skip  repos: not checked: the tracker token is refused',
    );
  });

  it('creates the missing labels with --fix-labels, by name with a colour, and then passes', async () => {
    fj.addRepo('acme/new', { labels: ['ready-for-agent', 'P0'] });
    const config = forgejoConfig({ repos: ['acme/new'] });

    const before = await runCli(['doctor', '--config', config], { env: slack });
    expect(before.code).toBe(1);
    expect(lines(before.stdout)).toContain(
      'fail  acme/new labels: missing agent-in-progress, ready-for-human, P1, P2, P3 (run afk doctor --fix-labels to create)',
    );
    expect(fj.writes()).toEqual([]);

    const fixed = await runCli(['doctor', '--config', config, '--fix-labels'], { env: slack });
    expect(fixed.code, fixed.stdout).toBe(0);
    expect(fj.writes().map((r) => `${r.method} ${r.path} ${JSON.stringify(r.body)}`)).toEqual([
      'POST /repos/acme/new/labels {"name":"agent-in-progress","color":"1d76db","description":"An afk run owns this issue; do not remove by hand"}',
      'POST /repos/acme/new/labels {"name":"ready-for-human","color":"d93f0b","description":"afk gave up: a human must act"}',
      'POST /repos/acme/new/labels {"name":"P1","color":"d93f0b","description":"afk priority 2 of 4: lower numbers go first"}',
      'POST /repos/acme/new/labels {"name":"P2","color":"fbca04","description":"afk priority 3 of 4: lower numbers go first"}',
      'POST /repos/acme/new/labels {"name":"P3","color":"c2e0c6","description":"afk priority 4 of 4: lower numbers go first"}',
    ]);
    const again = await runCli(['doctor', '--config', config], { env: slack });
    expect(lines(again.stdout)).toContain('pass  acme/new labels: all 7 present');
  });

  it.each([
    [
      { deploy: { kind: 'github-deployment' } },
      'deploy.kind: github-deployment needs tracker.kind github',
    ],
    [
      { tracker: { kind: 'forgejo', apiUrl: 'https://forgejo.test' } },
      'tracker.apiUrl: a Forgejo API base ends in /api/v1',
    ],
  ])('exits 2 on a config Forgejo cannot serve: %j', async (overrides, problem) => {
    const result = await runCli(['doctor', '--config', forgejoConfig(overrides)]);

    expect(result.code).toBe(2);
    expect(lines(result.stdout)[0]).toContain(problem);
    expect(seen).toEqual([]);
  });
});

describe('afk doctor with a GitHub App', () => {
  // Test keys only, made afresh for this file.
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const keyFile = join(mkdtempSync(join(tmpdir(), 'afk-app-')), 'app.pem');
  writeFileSync(keyFile, keys.privateKey);
  const appConfig = (overrides: Record<string, unknown> = {}) =>
    writeConfig(
      armedConfig({
        tracker: {
          apiUrl: 'https://api.github.test',
          auth: { kind: 'app', appId: 4242, privateKeyFile: keyFile },
        },
        ...overrides,
      }),
    );
  const install = (permissions?: Record<string, 'read' | 'write'>, repos?: string[]) =>
    gh.installApp({
      appId: 4242,
      slug: 'afk-app',
      publicKey: keys.publicKey,
      owner: 'acme',
      ...(permissions === undefined ? {} : { permissions }),
      ...(repos === undefined ? {} : { repos }),
    });

  it('passes with the app installed on every repo with what afk needs, and never asks /user', async () => {
    const id = install();
    const config = appConfig();

    const result = await runCli(['doctor', '--config', config], { env: slack });

    expect(result.code, result.stdout).toBe(0);
    const granted =
      'issues: write, metadata: read, pull_requests: read, checks: read, statuses: read';
    expect(lines(result.stdout).slice(2, 10)).toEqual([
      `pass  GitHub App private key: present (file ${keyFile})`,
      'pass  T3 token: present (env AFK_T3_TOKEN)',
      'pass  Slack webhook: present (env AFK_SLACK_WEBHOOK_URL)',
      'pass  tracker: GitHub App afk-app (id 4242) works, acting as afk-app[bot]',
      `pass  acme/api access: GitHub App installation ${id} grants ${granted}`,
      'pass  acme/api labels: all 7 present',
      `pass  acme/web access: GitHub App installation ${id} grants ${granted}`,
      'pass  acme/web labels: all 7 present',
    ]);
    expect(seen.filter((line) => line.includes('api.github.test'))).toEqual([
      'GET https://api.github.test/app',
      'GET https://api.github.test/repos/acme/api/installation',
      // The labels are read with the installation's token, minted once.
      `POST https://api.github.test/app/installations/${id}/access_tokens`,
      'GET https://api.github.test/repos/acme/api/labels?per_page=100',
      'GET https://api.github.test/repos/acme/web/installation',
      'GET https://api.github.test/repos/acme/web/labels?per_page=100',
    ]);
    expect(result.stdout).not.toContain('PRIVATE KEY');
  });

  it('names each missing permission, and each repo the app is not installed on', async () => {
    install({ issues: 'read', pull_requests: 'read', statuses: 'read' }, ['acme/api']);
    const config = appConfig({ deploy: { kind: 'github-deployment' } });

    const result = await runCli(['doctor', '--config', config], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^fail {2}acme\/api access: the GitHub App's installation \d+ lacks issues: write \(has read\), checks: read, deployments: read: grant it in the app's settings, then approve it on the installation$/,
        ),
        'fail  acme/web access: the GitHub App is not installed on this repository (install it, or add the repository to its installation)',
      ]),
    );
  });

  it('fails a key the app does not know, and checks no repo', async () => {
    gh.installApp({
      appId: 4242,
      slug: 'afk-app',
      publicKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
      owner: 'acme',
    });

    const result = await runCli(['doctor', '--config', appConfig()], { env: slack });

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toEqual(
      expect.arrayContaining([
        "fail  tracker: token refused: GET /app: 401 the GitHub App 4242 JWT was refused (is tracker.auth.privateKeyFile this app's private key, and the clock right?): A JSON web token could not be decoded",
        'skip  repos: not checked: the GitHub App is refused',
      ]),
    );
  });

  it('fails a missing key file, naming it', async () => {
    const result = await runCli(
      [
        'doctor',
        '--config',
        writeConfig(
          armedConfig({
            tracker: {
              apiUrl: 'https://api.github.test',
              auth: { kind: 'app', appId: 4242, privateKeyFile: '/nonexistent/app.pem' },
            },
          }),
        ),
      ],
      { env: slack },
    );

    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toContain(
      'fail  GitHub App private key: tracker.auth.privateKeyFile: cannot read the GitHub App private key file /nonexistent/app.pem (ENOENT)',
    );
  });
});
