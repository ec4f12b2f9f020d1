// The demo: afk's real poll and watch ticks, run as the built CLI in child processes, against
// loopback emulators of the tracker (GitHub, or Forgejo with `--forge forgejo`), T3 and Slack,
// with a scripted agent and a scripted human.
// On one issue a reviewer requests a change on the PR, the agent addresses it on the same
// thread, and the PR is merged, deployed and the issue closed. On the other the agent asks a
// question, a maintainer answers it on the issue with `/afk answer …`, the agent goes on on
// the same thread, and later exhausts its fix-forwards and goes to a human.
// No credentials, no network beyond 127.0.0.1.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { threadIdFor } from '../../src/core/index.js';
import type { ForgeFake, ForgeKind } from '../../emulators/forge.js';
import { createForgejoFake } from '../../emulators/forgejo.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { startEmulator, type Emulator } from '../../emulators/server.js';
import { createSlackFake, type SlackFake } from '../../emulators/slack.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { repoRoot } from '../root.js';

const run = promisify(execFile);
const BIN = join(repoRoot, 'bin/afk.js');
/** `AFK_DEMO_SNAPSHOT=dist/afk.blob`: run the ticks from the image's startup snapshot instead. */
const cli = (args: string[]): string[] => {
  const blob = process.env['AFK_DEMO_SNAPSHOT'];
  return blob === undefined || blob === ''
    ? [BIN, ...args]
    : ['--snapshot-blob', blob, '--', ...args];
};

const API = { repo: 'acme/api', number: 1 };
const WEB = { repo: 'acme/web', number: 1 };
const sha = (digit: string) => digit.repeat(40);
const TRACKER_TOKEN = 'demo-tracker-token';
/** A human with write access: trusted, so their review reaches the agent. */
const REVIEWER = 'reviewer';
const reviewBody = 'One change before this merges.';
const lineComment = 'Trim only the end: a leading space is part of the password.';

export interface DemoResult {
  ticks: number;
  /** Final labels and state of each issue, by `repo#number`. */
  issues: Record<string, { state: string; labels: string[] }>;
  doorbells: string[];
  exitCodes: number[];
  /** The T3 thread of each issue's run, by `repo#number`. */
  threads: Record<string, string>;
  /** Every `thread.user-input.respond` T3 accepted: the thread and the answers. */
  answers: Array<{ threadId: unknown; answers: unknown }>;
  /** Every review turn T3 accepted: its thread and its text. */
  reviewTurns: Array<{ threadId: unknown; text: string }>;
}

interface World {
  gh: ForgeFake;
  t3: T3Fake;
  slack: SlackFake;
  servers: Emulator[];
  configFile: string;
  env: NodeJS.ProcessEnv;
}

async function startWorld(forge: ForgeKind): Promise<World> {
  const servers = await Promise.all([startEmulator(), startEmulator(), startEmulator()]);
  const [ghServer, t3Server, slackServer] = servers as [Emulator, Emulator, Emulator];
  const gh =
    forge === 'github'
      ? createGitHubFake({ baseUrl: ghServer.url, token: TRACKER_TOKEN })
      : createForgejoFake({ baseUrl: `${ghServer.url}/api/v1`, token: TRACKER_TOKEN });
  const t3 = createT3Fake({ baseUrl: t3Server.url });
  const slackUrl = `${slackServer.url}/services/T000/B000/DEMO`;
  const slack = createSlackFake({ url: slackUrl });
  ghServer.use(gh.handlers);
  t3Server.use(t3.handlers);
  slackServer.use(slack.handlers);

  for (const repo of [API.repo, WEB.repo]) {
    gh.addRepo(
      repo,
      forge === 'github'
        ? { collaborators: { maintainer: 'maintain', [REVIEWER]: 'write' } }
        : // A Forgejo repo as the README sets it up: afk's account an admin (to read who
          // labelled), afk's labels created (Forgejo adds labels by id only).
          {
            collaborators: { maintainer: 'write', [REVIEWER]: 'write', [gh.selfLogin]: 'admin' },
            labels: ['ready-for-agent', 'agent-in-progress', 'ready-for-human', 'P1', 'P2'],
          },
    );
    gh.pushCommit(repo, 'main', sha('0'));
  }
  gh.addIssue(API.repo, {
    number: 1,
    title: 'Login rejects valid passwords with a trailing space',
    body: 'Steps: sign up with "hunter2 ", log in with "hunter2 ". Expected: logged in.',
    labels: ['ready-for-agent', 'P1'],
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });
  gh.addIssue(WEB.repo, {
    number: 1,
    title: 'Add a dark mode toggle',
    body: 'A toggle in the header that switches the theme and remembers the choice.',
    labels: ['ready-for-agent', 'P2'],
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });

  const dir = mkdtempSync(join(tmpdir(), 'afk-demo-'));
  const configFile = join(dir, 'afk.yaml');
  writeFileSync(
    configFile,
    stringify({
      killSwitch: false,
      repos: [API.repo, WEB.repo],
      tracker: { kind: forge, apiUrl: gh.apiUrl },
      t3: { url: t3Server.url },
      dispatch: { maxConcurrentRuns: 2, maxRunsPerRepo: 1, maxDispatchesPerTick: 2 },
      watch: { maxFixForwards: 1 },
      // Forgejo has no Deployments API: there the deploy pipeline sets a commit status.
      deploy:
        forge === 'github'
          ? { kind: 'github-deployment', environment: 'production' }
          : { kind: 'commit-status', context: 'deploy/production' },
    }),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AFK_TRACKER_TOKEN: TRACKER_TOKEN,
    AFK_T3_TOKEN: 't3-test-token',
    AFK_SLACK_WEBHOOK_URL: slackUrl,
    AFK_LOG_LEVEL: 'warn',
  };
  delete env['AFK_CONFIG'];
  delete env['AFK_KILL_SWITCH'];
  delete env['AFK_REPOS'];
  return { gh, t3, slack, servers, configFile, env };
}

const reactionGlyphs: Record<string, string> = { '+1': '👍', eyes: '👀' };

/** Waits for the wall clock's next whole second. */
const untilNextSecond = () =>
  new Promise<void>((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 5));

/** The checklist a human sees on the issue, without the hidden record. */
function checklistOf(gh: ForgeFake, issue: { repo: string; number: number }): string | null {
  const comment = gh.issue(issue.repo, issue.number).comments.find((c) => c.author === 'afk-bot');
  if (comment === undefined) return null;
  return comment.body.replace(/\n*<!-- afk:run .* -->\s*$/s, '').trim();
}

export async function runDemo(
  out: (line: string) => void = console.log,
  forge: ForgeKind = 'github',
): Promise<DemoResult> {
  const world = await startWorld(forge);
  const { gh, t3, slack } = world;
  const shown = new Map<string, string>();
  let rung = 0;
  const exitCodes: number[] = [];
  let ticks = 0;

  const tick = async (command: 'poll' | 'watch') => {
    ticks += 1;
    out(`\n━━ tick ${ticks}: afk ${command} ━━`);
    const result = await run(process.execPath, cli([command, '--config', world.configFile]), {
      env: world.env,
      timeout: 20_000,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: typeof e.code === 'number' ? e.code : 1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      }),
    );
    exitCodes.push(result.code);
    for (const line of result.stdout.trimEnd().split('\n')) out(`  ${line}`);
    if (result.stderr.trim() !== '') out(`  (stderr) ${result.stderr.trim()}`);
    for (const message of slack.messages.slice(rung)) out(`\n  🔔 (Slack) ${message.text}`);
    rung = slack.messages.length;
    for (const issue of [API, WEB]) {
      const key = `${issue.repo}#${issue.number}`;
      const checklist = checklistOf(gh, issue);
      if (checklist !== null && shown.get(key) !== checklist) {
        shown.set(key, checklist);
        out(`\n  ┌ ${key}, labels: ${gh.issue(issue.repo, issue.number).labels.join(', ')}`);
        for (const line of checklist.split('\n')) out(`  │ ${line}`);
      }
    }
  };
  const say = (what: string) => out(`\n» ${what}`);
  const apiThread = threadIdFor(API, 1);
  const webThread = threadIdFor(WEB, 1);
  const userInputResponses = () =>
    t3.commands.map((c) => c.command).filter((c) => c['type'] === 'thread.user-input.respond');
  /** The review turns the agent got: the thread, the first line and the fenced feedback. */
  const reviewTurns = () =>
    t3.commands
      .map((c) => c.command)
      .flatMap((command) => {
        const text = (command['message'] as { text?: unknown } | undefined)?.text;
        return typeof text === 'string' && text.startsWith('Review feedback')
          ? [{ threadId: command['threadId'], text }]
          : [];
      });
  const showReviewTurn = () => {
    for (const { threadId, text } of reviewTurns()) {
      const same = threadId === apiThread ? 'the same thread' : 'ANOTHER thread';
      out(`\n  (T3) a review turn on ${same} (${String(threadId)}):`);
      const lines = text.split('\n');
      const fenced = lines.slice(lines.findIndex((l) => l.startsWith('```')));
      for (const line of [lines[0] ?? '', '…', ...fenced]) out(`  (T3) │ ${line}`);
    }
  };
  /** What the maintainer sees of their command, and what reached the agent's thread. */
  const showDelivery = (commentId: number) => {
    const reactions = Object.entries(gh.reactions(WEB.repo, commentId))
      .map(([content, by]) => `${reactionGlyphs[content] ?? content} by ${by.join(', ')}`)
      .join('; ');
    out(`\n  on the maintainer's comment: ${reactions || 'no reaction'}`);
    for (const command of userInputResponses()) {
      const same = command['threadId'] === webThread ? 'the same thread' : 'ANOTHER thread';
      out(
        `  (T3) thread.user-input.respond on ${same} (${String(command['threadId'])}), answers: ${JSON.stringify(command['answers'])}`,
      );
    }
  };

  try {
    await tick('poll');

    say('the agents start: each writes a failing test first; the web agent then asks a question');
    t3.startProvider(apiThread);
    t3.say(apiThread, 'Reproduced it in a test.\nAFK-PHASE: tests-red');
    t3.startProvider(webThread);
    t3.say(webThread, 'Added a failing test for the toggle.\nAFK-PHASE: tests-red');
    const question =
      'Before anyone picks a theme, should the page follow the OS setting or start light?';
    t3.requestUserInput(webThread, [{ id: 'default-theme', header: 'Default theme', question }]);
    out(`  (T3) the web agent asks "${question}" and waits: a pending user-input request`);
    await tick('watch');

    // A human answers later than the escalation's second: both forges stamp comments in whole
    // seconds, and only comments newer than the escalation count as commands.
    await untilNextSecond();
    const answer = '/afk answer follow the OS setting until someone picks one, then remember it';
    say(`the maintainer answers on acme/web#1 from their phone, typing: ${answer}`);
    const answerId = gh.addComment(WEB.repo, WEB.number, { author: 'maintainer', body: answer });
    say('meanwhile the api agent makes its test pass, pushes its branch and opens a pull request');
    t3.say(apiThread, 'AFK-PHASE: green');
    const apiPull = gh.addPullRequest(API.repo, {
      head: 'afk/issue-1',
      headSha: sha('a'),
      title: 'Trim passwords consistently (Refs #1)',
    });
    t3.completeTurn(apiThread, `Opened the PR.\nAFK-PHASE: pushed ${sha('a')}`);
    await tick('watch');
    showDelivery(answerId);

    say('the web agent, answered, goes on in the same turn: green, pushed, pull request opened');
    t3.say(webThread, 'Follows the OS theme now.\nAFK-PHASE: green');
    gh.addPullRequest(WEB.repo, {
      head: 'afk/issue-1',
      headSha: sha('b'),
      title: 'Dark mode toggle (Refs #1)',
    });
    t3.completeTurn(webThread, `Opened the PR.\nAFK-PHASE: pushed ${sha('b')}`);
    say('CI: green on the api PR');
    gh.setCi(API.repo, sha('a'), 'test', 'success');
    await tick('watch');

    say('CI: red on the web PR');
    gh.setCi(WEB.repo, sha('b'), 'unit tests', 'failure', {
      summary: 'theme.test.ts: expected "dark", received "light"',
    });
    await tick('watch');

    say(
      `the reviewer requests a change on api PR #${apiPull}: "${reviewBody}", and on src/auth/login.ts line 12: "${lineComment}"`,
    );
    gh.addReview(API.repo, apiPull, {
      author: REVIEWER,
      state: 'changes-requested',
      body: reviewBody,
      comments: [{ path: 'src/auth/login.ts', line: 12, body: lineComment }],
    });
    say('the web agent starts on its fix-forward');
    t3.startProvider(webThread);
    await tick('watch');
    showReviewTurn();

    say('the api agent addresses the review on its thread, pushes; CI is green on the new head');
    t3.startProvider(apiThread);
    gh.pushCommit(API.repo, 'afk/issue-1', sha('e'));
    t3.completeTurn(
      apiThread,
      `Kept the leading space; added a test.\nAFK-PHASE: pushed ${sha('e')}`,
    );
    gh.setCi(API.repo, sha('e'), 'test', 'success');
    await tick('watch');

    say('the web agent pushes a fix that is still red');
    gh.pushCommit(WEB.repo, 'afk/issue-1', sha('d'));
    t3.completeTurn(webThread, `Fixed the default theme.\nAFK-PHASE: pushed ${sha('d')}`);
    gh.setCi(WEB.repo, sha('d'), 'unit tests', 'failure', { summary: 'still light' });
    await tick('watch');

    say('the reviewer approves the api PR and merges it');
    gh.addReview(API.repo, apiPull, { author: REVIEWER, state: 'approved' });
    gh.mergePullRequest(API.repo, apiPull, sha('c'));
    gh.setCi(API.repo, sha('c'), 'test', 'success');
    await tick('watch');

    say('the deploy pipeline ships the api merge commit to production');
    if (gh.kind === 'github') {
      const github = gh as GitHubFake;
      const deployment = github.addDeployment(API.repo, {
        sha: sha('c'),
        environment: 'production',
      });
      github.addDeploymentStatus(API.repo, deployment, {
        state: 'success',
        environmentUrl: 'https://api.acme.test',
      });
    } else {
      gh.addStatus(API.repo, sha('c'), {
        context: 'deploy/production',
        state: 'success',
        targetUrl: 'https://api.acme.test',
      });
    }
    await tick('watch');

    say('nothing is left to follow');
    await tick('watch');

    out('\n━━ the doorbell (Slack) ━━');
    for (const message of slack.messages) out(`  ${message.text}`);
    const issues = Object.fromEntries(
      [API, WEB].map((i) => {
        const state = gh.issue(i.repo, i.number);
        return [`${i.repo}#${i.number}`, { state: state.state, labels: [...state.labels].sort() }];
      }),
    );
    out('\n━━ where the issues ended ━━');
    for (const [key, value] of Object.entries(issues)) {
      out(`  ${key}: ${value.state}, labels: ${value.labels.join(', ') || '(none)'}`);
    }
    return {
      ticks,
      issues,
      doorbells: slack.messages.map((m) => m.text),
      exitCodes,
      threads: {
        [`${API.repo}#${API.number}`]: apiThread,
        [`${WEB.repo}#${WEB.number}`]: webThread,
      },
      answers: userInputResponses().map((c) => ({
        threadId: c['threadId'],
        answers: c['answers'],
      })),
      reviewTurns: reviewTurns(),
    };
  } finally {
    await Promise.all(world.servers.map((s) => s.close()));
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const forge = forgeArgument(process.argv.slice(2));
  runDemo(console.log, forge).then(
    (result) => {
      console.log(
        `\ndemo: ${result.ticks} ticks in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      process.exitCode = result.exitCodes.every((c) => c === 0) ? 0 : 1;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

/** `--forge github|forgejo` (default github); anything else is a usage error. */
function forgeArgument(args: string[]): ForgeKind {
  const [flag, value, ...rest] = args;
  if (flag === undefined) return 'github';
  if (flag === '--forge' && (value === 'github' || value === 'forgejo') && rest.length === 0) {
    return value;
  }
  console.error('usage: npm run demo [-- --forge github|forgejo]');
  process.exit(2);
}
