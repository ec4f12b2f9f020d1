// A tick on GitHub authenticated as a GitHub App: the installation token on every REST request,
// minted once per tick, and afk's own comment and claim recognised as `<slug>[bot]`'s.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseChecklist, threadIdFor } from '../../src/core/index.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { useMswServer } from '../support/msw.js';
import {
  armedConfig,
  GITHUB_URL,
  runCli,
  TRACKER_TOKEN,
  writeConfig,
  type CliResult,
} from '../support/cli.js';
import { loginIssue } from '../support/forges.js';

const { server } = useMswServer();
const THREAD = threadIdFor({ repo: 'acme/api', number: 1 }, 1);
const BOT = 'afk-app[bot]';
// Test keys only, made afresh for this file; GitHub hands out PKCS#1 PEM.
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

let clock: Date;
let gh: GitHubFake;
let t3: T3Fake;
let configFile: string;
let installation: number;

beforeEach(() => {
  clock = new Date('2026-11-21T08:00:00.000Z');
  gh = createGitHubFake({ now: () => clock });
  t3 = createT3Fake({ clock: () => clock });
  server.resetHandlers(...gh.handlers, ...t3.handlers);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write' } });
  gh.addRepo('acme/web');
  gh.pushCommit('acme/api', 'main', '0'.repeat(40));
  gh.addIssue('acme/api', loginIssue());
  installation = gh.installApp({
    appId: 4242,
    slug: 'afk-app',
    publicKey: keys.publicKey,
    owner: 'acme',
  });
  const keyFile = join(mkdtempSync(join(tmpdir(), 'afk-app-')), 'app.pem');
  writeFileSync(keyFile, keys.privateKey);
  configFile = writeConfig(
    armedConfig({
      tracker: {
        kind: 'github',
        apiUrl: GITHUB_URL,
        auth: { kind: 'app', appId: 4242, privateKeyFile: keyFile },
      },
    }),
  );
});

const tick = async (command: 'poll' | 'watch'): Promise<CliResult> => {
  clock = new Date(clock.getTime() + 60_000);
  gh.requests.length = 0;
  return runCli([command, '--config', configFile, '--output', 'json'], { now: clock });
};
/** Method and path of each request, and whether the installation's token authenticated it. */
const sent = () =>
  gh.requests.map(({ method, path, headers }) => {
    const auth = headers['authorization'] ?? '';
    const how = /^bearer ghs_/i.test(auth) ? 'token' : /^bearer ey/i.test(auth) ? 'jwt' : auth;
    return `${how} ${method} ${path}`;
  });
const comments = () => gh.issue('acme/api', 1).comments;
const phases = () => {
  const [comment] = comments();
  const parsed = comment === undefined ? null : parseChecklist(comment.body);
  if (parsed === null || !parsed.ok) throw new Error('no afk record');
  return Object.keys(parsed.record.phases);
};

describe('a tick on GitHub as a GitHub App', () => {
  it('dispatches with the installation token, as <slug>[bot], minting one token', async () => {
    const polled = await tick('poll');

    expect(polled.code, polled.stdout).toBe(0);
    expect(gh.issue('acme/api', 1).labels).toEqual(['agent-in-progress']);
    expect(comments().map((c) => c.author)).toEqual([BOT]);
    const auth = sent().filter((line) => !line.startsWith('token '));
    expect(auth).toEqual([
      'jwt GET /repos/acme/api/installation',
      `jwt POST /app/installations/${installation}/access_tokens`,
      'jwt GET /app',
    ]);
    expect(sent()).not.toContain('token GET /user');
    expect(JSON.stringify(gh.requests)).not.toContain(TRACKER_TOKEN);
  });

  it('watch recognises its own comment and claim as <slug>[bot]’s, and writes no second one', async () => {
    await tick('poll');
    t3.startProvider(THREAD);
    t3.say(THREAD, 'Wrote a failing test.\nAFK-PHASE: tests-red');

    const watched = await tick('watch');

    expect(watched.code, watched.stdout).toBe(0);
    expect(phases()).toEqual(['dispatched', 'testsRed']);
    expect(comments().map((c) => c.author)).toEqual([BOT]);
    const [comment] = comments();
    // The claim was taken and released by the bot: no reaction is left behind.
    expect(gh.reactions('acme/api', comment!.id)).toEqual({});
    expect(sent().filter((line) => line.includes('/reactions'))).toEqual([
      `token POST /repos/acme/api/issues/comments/${comment!.id}/reactions`,
      expect.stringMatching(
        new RegExp(`^token DELETE /repos/acme/api/issues/comments/${comment!.id}/reactions/\\d+$`),
      ),
    ]);
    expect(sent().filter((line) => line.startsWith('jwt POST'))).toHaveLength(1);
  });

  it('exits 2 before any request when the key file cannot be read, naming the file', async () => {
    configFile = writeConfig(
      armedConfig({
        tracker: {
          apiUrl: GITHUB_URL,
          auth: { kind: 'app', appId: 4242, privateKeyFile: '/nonexistent/app.pem' },
        },
      }),
    );

    const polled = await tick('poll');

    expect(polled.code).toBe(2);
    expect(polled.json?.['error']).toMatchObject({
      problems: [
        'tracker.auth.privateKeyFile: cannot read the GitHub App private key file /nonexistent/app.pem (ENOENT)',
      ],
    });
    expect(gh.requests).toEqual([]);
  });
});
