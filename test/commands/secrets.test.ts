// Every command, run with sentinel secrets (the tracker token, the T3 token, the Slack webhook
// URL), from the environment and from files, in text and JSON, live and dry, healthy and
// failing: no sentinel appears in stdout, stderr, the plans, what afk writes to the tracker
// (comments, labels, any body, path or query), what it sends T3, or what it posts to Slack.
//
// stdout and stderr pass through the CLI's redaction (the last line of defence). So that the
// first line is tested too, a run that needs no redaction must show no `[redacted]` either:
// only the cases where an upstream echoes a secret back are allowed to lean on it.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { REDACTED, redactOutput, redactSecrets, secretSource } from '../../src/adapters/secrets.js';
import { threadIdFor } from '../../src/core/index.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { createSlackFake, type SlackFake } from '../../emulators/slack.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { armedConfig, runCli, T3_URL, writeConfig, type CliResult } from '../support/cli.js';
import { useMswServer } from '../support/msw.js';
import { AFK_LABELS, loginIssue } from '../support/forges.js';

const SENTINEL = 'SnTnL';
const TRACKER = `ghp_${SENTINEL}tracker0a1b2c3d4e5f`;
const T3 = `t3_${SENTINEL}t3token9z8y7x6w`;
const WEBHOOK_PATH = `/services/T${SENTINEL}/B${SENTINEL}/${SENTINEL}hook42`;
const WEBHOOK = `https://hooks.slack.test${WEBHOOK_PATH}`;
const THREAD = threadIdFor({ repo: 'acme/api', number: 1 }, 1);

const { server } = useMswServer();

let clock: Date;
let gh: GitHubFake;
let t3: T3Fake;
let slack: SlackFake;
let outputs: string[];

function world(options: { t3Tokens?: Record<string, string[]> } = {}) {
  clock = new Date('2026-11-21T08:00:00.000Z');
  gh = createGitHubFake({ now: () => clock, token: TRACKER });
  t3 = createT3Fake({
    clock: () => clock,
    tokens: options.t3Tokens ?? { [T3]: ['orchestration:read', 'orchestration:operate'] },
  });
  slack = createSlackFake({ url: WEBHOOK });
  server.resetHandlers(...gh.handlers, ...t3.handlers, ...slack.handlers);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write' }, labels: AFK_LABELS });
  gh.addRepo('acme/web', { collaborators: { maintainer: 'write' }, labels: AFK_LABELS });
  gh.addIssue('acme/api', loginIssue());
  outputs = [];
}

type Source = 'env' | 'files';

/** The config and environment that hand afk the sentinels, from the environment or files. */
function wiring(source: Source, overrides: Record<string, unknown> = {}) {
  if (source === 'env') {
    return {
      config: writeConfig(armedConfig(overrides)),
      env: { AFK_TRACKER_TOKEN: TRACKER, AFK_T3_TOKEN: T3, AFK_SLACK_WEBHOOK_URL: WEBHOOK },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'afk-secret-files-'));
  const file = (name: string, value: string) => {
    writeFileSync(join(dir, name), `${value}\n`);
    return join(dir, name);
  };
  const base = armedConfig(overrides);
  return {
    config: writeConfig({
      ...base,
      tracker: { ...(base['tracker'] as object), tokenFile: file('tracker-token', TRACKER) },
      t3: { ...(base['t3'] as object), tokenFile: file('t3-token', T3) },
      notify: { slackWebhookUrlFile: file('slack-webhook', WEBHOOK) },
    }),
    // Blank the runner's own test tokens: the files are the only source.
    env: { AFK_TRACKER_TOKEN: '', AFK_T3_TOKEN: '' },
  };
}

async function run(
  args: string[],
  wired: { config: string; env: Record<string, string> },
): Promise<CliResult> {
  clock = new Date(clock.getTime() + 60_000);
  const result = await runCli([...args, '--config', wired.config], { now: clock, env: wired.env });
  outputs.push(result.stdout, result.stderr);
  return result;
}

/** Everything afk sent anywhere, headers aside (the credentials belong there). */
function sent(): string {
  const issues = (
    [
      ['acme/api', 1],
      ['acme/web', 2],
    ] as const
  ).flatMap(([repo, number]) => {
    try {
      return [gh.issue(repo, number)];
    } catch {
      return []; // not created in this test
    }
  });
  return JSON.stringify([
    gh.requests.map((r) => [r.method, r.path, r.search, r.body]),
    issues,
    t3.requests.map((r) => [r.method, r.path, r.search, r.body]),
    t3.commands,
    slack.requests.map((r) => r.body),
  ]);
}

/** No sentinel anywhere; and no redaction either, unless an upstream echoed a secret. */
function expectNoSecret(options: { echoed?: boolean } = {}) {
  const out = outputs.join('\n');
  expect(out).not.toContain(SENTINEL);
  expect(sent()).not.toContain(SENTINEL);
  if (options.echoed === true) expect(out).toContain(REDACTED);
  else expect(out, 'a secret reached the output and had to be redacted').not.toContain(REDACTED);
}

describe.each<[Source]>([['env'], ['files']])('with the secrets in %s', (source) => {
  beforeEach(() => world());

  it('no command shows them: a dispatch, an escalation with the doorbell, status, doctor', async () => {
    const wired = wiring(source);
    for (const output of ['text', 'json']) {
      expect((await run(['poll', '--dry-run', '--output', output], wired)).code).toBe(0);
    }
    expect((await run(['poll', '--output', 'json'], wired)).code).toBe(0);
    expect(t3.state.threads.has(THREAD)).toBe(true);
    t3.startProvider(THREAD);
    t3.completeTurn(THREAD, 'AFK-BLOCKED: I need the deploy key');
    for (const output of ['text', 'json']) {
      expect((await run(['watch', '--dry-run', '--output', output], wired)).code).toBe(0);
    }
    const watched = await run(['watch', '--output', 'json'], wired);
    expect(watched.code, watched.stdout).toBe(0);
    expect(slack.messages).toHaveLength(1);
    for (const output of ['text', 'json']) {
      expect((await run(['status', '--output', output], wired)).code).toBe(0);
      expect((await run(['doctor', '--output', output], wired)).code).toBe(0);
    }
    expect(outputs.join('')).toContain(
      source === 'env' ? 'present (env AFK_TRACKER_TOKEN)' : 'present (file ',
    );
    expectNoSecret();
  });

  it('no request line shows them at debug: the webhook is `<slack webhook>`, no query, no header', async () => {
    const wired = wiring(source);
    const debug = { ...wired, env: { ...wired.env, AFK_LOG_LEVEL: 'debug' } };
    expect((await run(['poll'], debug)).code).toBe(0);
    t3.startProvider(THREAD);
    t3.completeTurn(THREAD, 'AFK-BLOCKED: I need the deploy key');
    const watched = await run(['watch'], debug);
    expect(watched.code, watched.stdout).toBe(0);
    expect(slack.messages).toHaveLength(1);
    const lines = outputs
      .join('\n')
      .split('\n')
      .filter((l) => l.includes('"http"'));
    expect(lines.length).toBe(gh.requests.length + t3.requests.length + slack.requests.length);
    expect(
      lines.filter((l) => l.includes('"msg":"POST hooks.slack.test <slack webhook> 200 ')),
    ).toHaveLength(1);
    expect(lines.join('\n')).not.toMatch(/\?|authorization|bearer|token /i);
    expectNoSecret();
  });

  it('no failure shows them: 401s, 5xx, a refused doorbell', async () => {
    const wired = wiring(source);
    expect((await run(['poll'], wired)).code).toBe(0);
    t3.startProvider(THREAD);
    t3.completeTurn(THREAD, 'AFK-BLOCKED: I need the deploy key');

    // The doorbell refused (5xx, then a removed webhook): the escalation still relabels.
    slack.failNext({ status: 500, body: 'internal_error' }, 2);
    expect((await run(['watch', '--output', 'json'], wired)).code).toBe(1);
    slack.failNext({ status: 404, body: 'no_service' });
    expect((await run(['watch'], wired)).code).toBe(1);

    // The tracker refuses the token; then answers 5xx.
    gh.setToken('ghp_another_token_entirely');
    for (const command of ['poll', 'watch', 'status']) {
      expect((await run([command, '--output', 'json'], wired)).code).toBe(3);
    }
    expect((await run(['doctor'], wired)).code).toBe(1);
    gh.setToken(TRACKER);
    gh.failNext({}, { status: 502 }, 100);
    for (const command of ['poll', 'watch', 'status']) {
      expect((await run([command], wired)).code).toBe(3);
    }
    gh.clearFailures();

    // T3 refuses the token; then answers 5xx.
    t3.failNext(
      {},
      {
        status: 401,
        body: {
          _tag: 'EnvironmentAuthInvalidError',
          code: 'auth_invalid',
          reason: 'invalid_credential',
          traceId: 't',
        },
      },
      100,
    );
    // Something for each command to read T3 for: a live run, and a ready issue.
    gh.labelIssue('acme/api', 1, 'agent-in-progress', 'maintainer');
    gh.addIssue('acme/web', {
      number: 2,
      title: 'Another',
      labels: ['ready-for-agent'],
      labeledBy: { 'ready-for-agent': 'maintainer' },
    });
    for (const command of ['poll', 'watch', 'status']) {
      expect((await run([command, '--output', 'json'], wired)).code).toBe(3);
    }
    expect((await run(['doctor', '--output', 'json'], wired)).code).toBe(1);
    world();
    t3.failNext({}, { status: 503 }, 100);
    expect((await run(['poll', '--dry-run'], wired)).code).toBe(3);

    expectNoSecret();
  });
});

describe('bad configuration around the secrets', () => {
  beforeEach(() => world());

  it.each([
    ['the token pasted into the config', { tracker: { token: TRACKER } }, {}],
    ['the webhook pasted into the config', { notify: { slackWebhookUrl: WEBHOOK } }, {}],
    [
      'a token file that is missing',
      { t3: { url: T3_URL, tokenFile: `/nonexistent/${SENTINEL}` } },
      {},
    ],
  ])('exits 2 without showing a secret: %s', async (_name, overrides, env) => {
    const wired = wiring('env', overrides);
    for (const command of ['poll', 'watch', 'status']) {
      const result = await run([command], { ...wired, env: { ...wired.env, ...env } });
      expect(result.code, result.stderr).toBe(2);
    }
    const doctor = await run(['doctor'], wired);
    expect([1, 2]).toContain(doctor.code);
    // The missing file is named (its path is not a secret): only the sentinel in it is cut.
    expect(outputs.join('\n').replaceAll(`/nonexistent/${SENTINEL}`, '')).not.toContain(SENTINEL);
    expect(sent()).not.toContain(SENTINEL);
  });

  it('names a token file that is empty or a directory, never what is in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'afk-secret-bad-'));
    writeFileSync(join(dir, 'empty'), '\n');
    mkdirSync(join(dir, 'folder'));
    for (const tokenFile of [join(dir, 'empty'), join(dir, 'folder')]) {
      const wired = wiring('env', { tracker: { apiUrl: 'https://api.github.test', tokenFile } });
      const result = await run(['poll', '--output', 'json'], wired);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`tracker.tokenFile: `);
    }
    expectNoSecret();
  });

  it('refuses a plain-http webhook without showing it', async () => {
    const wired = wiring('env');
    const insecure = {
      ...wired.env,
      AFK_SLACK_WEBHOOK_URL: `http://hooks.slack.test${WEBHOOK_PATH}`,
    };
    expect((await run(['poll'], { ...wired, env: insecure })).code).toBe(0);
    t3.startProvider(THREAD);
    t3.completeTurn(THREAD, 'AFK-BLOCKED: I need the deploy key');
    const result = await run(['watch', '--output', 'json'], { ...wired, env: insecure });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('(its value is not shown)');
    expect(slack.requests).toEqual([]);
    expectNoSecret();
  });
});

describe('an upstream that echoes the secret it was sent', () => {
  beforeEach(() => world());

  it('has it taken out of stdout and stderr by the last line of defence', async () => {
    const wired = wiring('env');
    // A proxy in front of GitHub that quotes the credential in its error message.
    gh.failNext({}, { status: 401, body: { message: `Bad credentials: Bearer ${TRACKER}` } }, 10);
    expect((await run(['poll', '--output', 'json'], wired)).code).toBe(3);
    expect((await run(['doctor'], wired)).code).toBe(1);
    gh.clearFailures();
    // A T3 in front of which something answers with the token as its reason code.
    t3.failNext({}, { status: 401, body: { code: 'auth_invalid', reason: T3 } }, 10);
    expect((await run(['poll'], wired)).code).toBe(3);
    expect((await run(['doctor', '--output', 'json'], wired)).code).toBe(1);

    expectNoSecret({ echoed: true });
  });
});

describe('redactSecrets', () => {
  it('takes out the secret variables’ values and every secret read, longest first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'afk-redact-'));
    writeFileSync(join(dir, 't3'), `${T3}\n`);
    const env = { AFK_TRACKER_TOKEN: TRACKER, AFK_SLACK_WEBHOOK_URL: WEBHOOK };
    const spec = { name: 'T3 token', fileKey: 't3.tokenFile', envVars: ['AFK_T3_TOKEN'] };
    const t3Token = secretSource({ ...spec, file: join(dir, 't3') }, env);

    // Not read yet: the file's secret is unknown, the variables' are known.
    expect(redactSecrets(env, `a ${T3} b ${TRACKER}`)).toBe(`a ${T3} b ${REDACTED}`);
    await t3Token();
    expect(redactSecrets(env, `a ${T3} b ${TRACKER}x`)).toBe(`a ${REDACTED} b ${REDACTED}x`);
    // The webhook whole, normalised, or by its path.
    expect(redactSecrets(env, `${WEBHOOK} ${new URL(WEBHOOK).href} ${WEBHOOK_PATH}`)).toBe(
      `${REDACTED} ${REDACTED} ${REDACTED}`,
    );
    // Another runtime's environment knows none of them.
    expect(redactSecrets({}, `${T3} ${TRACKER}`)).toBe(`${T3} ${TRACKER}`);
  });

  it('leaves values too short to be credentials alone, so ordinary words survive', () => {
    expect(redactSecrets({ AFK_T3_TOKEN: 'poll' }, 'afk poll: done')).toBe('afk poll: done');
  });

  it('wraps a runtime’s streams, keeping whether they are terminals', () => {
    let out = '';
    const runtime = redactOutput({
      env: { AFK_T3_TOKEN: T3 },
      stdout: { write: (s: string) => (out += s), isTTY: true },
      stderr: { write: (s: string) => (out += s) },
    });
    runtime.stdout.write(`token ${T3}\n`);
    runtime.stderr.write('plain\n');
    expect(out).toBe(`token ${REDACTED}\nplain\n`);
    expect(runtime.stdout.isTTY).toBe(true);
    expect('isTTY' in runtime.stderr).toBe(false);
  });
});
