// The benchmark's world: loopback emulators of GitHub, T3 and Slack (the strict fakes the tests
// use), filled to a size: repos, ready issues, live runs. Live runs are made the way they are in
// production: the built afk dispatches them (a seeding poll tick), then a scripted agent and
// scripted CI move each one to a phase of its run. A world can be copied without another
// seeding tick, for ticks that change the world they run on. Nothing here is measured.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { threadIdFor } from '../../src/core/ids.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { startEmulator, type Emulator } from '../../emulators/server.js';
import { createSlackFake, type SlackFake } from '../../emulators/slack.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';

export interface Size {
  repos: number;
  /** Open issues labelled ready-for-agent, waiting to be dispatched. */
  ready: number;
  /** Issues holding agent-in-progress, each with a T3 thread. */
  live: number;
  /** T3 servers (`t3.servers`), the repos pinned to them in turn; one (`t3.url`) unless given. */
  servers?: number;
}

/**
 * Where a live run stands. Together they take watch through every read it makes: the thread,
 * the pull request, CI on its head, CI on the merge commit, and the deployment.
 */
export const phases = [
  /** The agent's turn runs; it has written its failing test. */
  'working',
  /** The PR is open and CI runs on its head. */
  'ci-running',
  /** CI failed on the PR head; watch sent a fix-forward turn the agent has not started. */
  'fix-forward-sent',
  /** CI green on the PR head; waiting for a human to merge (the doorbell rang once). */
  'awaiting-review',
  /** Merged, CI green on the merge commit, the deployment in progress. */
  'deploying',
] as const;
export type Phase = (typeof phases)[number];

export interface LiveRun {
  repo: string;
  number: number;
  phase: Phase;
  threadId: string;
}

export interface Emulators {
  github: Emulator;
  /** The T3 servers a world can name: the first is the one of a world with one server. */
  t3: [Emulator, ...Emulator[]];
  slack: Emulator;
  close(): Promise<void>;
}

/** As many T3 servers as the largest world names. */
const MAX_SERVERS = 3;

export async function startEmulators(): Promise<Emulators> {
  const [github, slack, ...t3] = await Promise.all(
    Array.from({ length: 2 + MAX_SERVERS }, () => startEmulator()),
  );
  const first = t3[0];
  if (github === undefined || slack === undefined || first === undefined) {
    throw new Error('bench: the emulators did not start');
  }
  const all = [github, slack, ...t3];
  return {
    github,
    t3: [first, ...t3.slice(1)],
    slack,
    close: () => Promise.all(all.map((e) => e.close())).then(() => undefined),
  };
}

export interface World {
  size: Size;
  gh: GitHubFake;
  /** One fake per T3 server, in the order of `t3.servers`. */
  t3: T3Fake[];
  slack: SlackFake;
  repos: string[];
  live: LiveRun[];
  /** The ready queue: open issues labelled ready-for-agent. */
  ready: Array<{ repo: string; number: number }>;
  /** Which live run a commit sha or a deployment id belongs to (for counting per run). */
  owners: {
    sha: Map<string, LiveRun>;
    deployment: Map<number, LiveRun>;
    thread: Map<string, LiveRun>;
  };
  /** When the oldest issue was opened (ms since the epoch); the rest follow it. */
  started: number;
  /** The armed config the measured ticks run with. */
  configFile: string;
  /** Writes a config of this world with other dispatch caps, or its servers at other URLs. */
  writeConfig(name: string, dispatch: Record<string, number>, t3Urls?: readonly string[]): string;
  env: NodeJS.ProcessEnv;
}

/** The settings the measured ticks run with, beside the fakes' URLs. */
export const measuredSettings = {
  // Room for every live run and then some, so that poll dispatches on every tick.
  dispatch: { maxConcurrentRuns: 1000, maxRunsPerRepo: 20, maxDispatchesPerTick: 5 },
  deploy: { kind: 'github-deployment', environment: 'production' },
} as const;

const TRACKER_TOKEN = 'bench-tracker-token';
/** The most `dispatch.maxDispatchesPerTick` may be. */
const MAX_DISPATCHES_PER_TICK = 100;
const T3_TOKEN = 't3-test-token';
const MAINTAINER = 'maintainer';
const PRIORITIES = ['P0', 'P1', 'P2', 'P3', null] as const;

export const repoName = (i: number) => `bench/repo-${String(i).padStart(3, '0')}`;

/** A commit id derived from what it stands for, so every world is the same. */
const shaOf = (what: string) => createHash('sha1').update(what).digest('hex');

/** An issue body of a realistic length (GitHub returns it in every listing). */
const bodyFor = (n: number) =>
  [
    `Steps to reproduce #${n}:`,
    '1. Open the settings page and change the display name to one with a trailing space.',
    '2. Save, reload, and sign in again from another browser.',
    '',
    'Expected: the name is saved trimmed and the session survives.',
    'Actual: the save fails with a 422 and the session is dropped.',
    '',
    'Logs, stack traces and the HAR file are attached to the support ticket.',
  ].join('\n');

export type SeedTick = (
  world: Pick<World, 'env'>,
  command: 'poll' | 'watch',
  configFile: string,
) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

/** The fakes of one world, behind the running emulators. */
function createFakes(emulators: Emulators, servers: number) {
  const gh = createGitHubFake({ baseUrl: emulators.github.url, token: TRACKER_TOKEN });
  const t3 = serverEmulators(emulators, servers).map((e) => createT3Fake({ baseUrl: e.url }));
  const slack = createSlackFake({ url: slackUrlOf(emulators) });
  return { gh, t3, slack };
}

function serverEmulators(emulators: Emulators, servers: number): Emulator[] {
  if (servers < 1 || servers > emulators.t3.length) {
    throw new Error(`bench: a world names 1 to ${emulators.t3.length} T3 servers, not ${servers}`);
  }
  return emulators.t3.slice(0, servers);
}

/** The T3 server (its index) a repo is pinned to: the repos in turn. */
export const serverOf = (world: Pick<World, 'repos' | 't3'>, repo: string): number =>
  world.repos.indexOf(repo) % world.t3.length;

export const serverName = (i: number) => `t3-${String.fromCharCode(97 + i)}`;

const slackUrlOf = (emulators: Emulators) => `${emulators.slack.url}/services/T000/B000/BENCH`;

/** Points the emulators at this world's fakes (one world answers at a time). */
export function activate(emulators: Emulators, world: Pick<World, 'gh' | 't3' | 'slack'>): void {
  emulators.github.use(world.gh.handlers);
  world.t3.forEach((fake, i) => emulators.t3[i]?.use(fake.handlers));
  emulators.slack.use(world.slack.handlers);
}

function addRepos(gh: GitHubFake, repos: string[]): void {
  for (const repo of repos) {
    gh.addRepo(repo, { collaborators: { [MAINTAINER]: 'maintain' } });
    gh.pushCommit(repo, 'main', shaOf(`${repo}:main`));
  }
}

const liveTitle = (i: number) => `Live run ${i}: trailing spaces break the display name`;
const liveCreatedAt = (started: number, i: number) => new Date(started + i * 1000).toISOString();

/** The ready queue, behind the live runs, with every priority and none. */
function addReadyQueue(gh: GitHubFake, repos: string[], size: Size, started: number) {
  const ready: World['ready'] = [];
  for (let i = 0; i < size.ready; i += 1) {
    const repo = repos[i % repos.length] as string;
    const priority = PRIORITIES[i % PRIORITIES.length] ?? null;
    const number = gh.addIssue(repo, {
      title: `Ready issue ${i}: the export button ignores the date filter`,
      body: bodyFor(size.live + i),
      labels: priority === null ? ['ready-for-agent'] : ['ready-for-agent', priority],
      labeledBy: { 'ready-for-agent': MAINTAINER },
      author: MAINTAINER,
      createdAt: new Date(started + 3600_000 + i * 1000).toISOString(),
    });
    ready.push({ repo, number });
  }
  return ready;
}

/**
 * Builds a world of `size` on the running emulators, and makes it the one they answer for:
 * repos, live runs (dispatched by a real poll tick, then moved to their phases), then the
 * ready queue.
 */
export async function buildWorld(
  emulators: Emulators,
  size: Size,
  seedTick: SeedTick,
): Promise<World> {
  const servers = size.servers ?? 1;
  const { gh, t3, slack } = createFakes(emulators, servers);
  activate(emulators, { gh, t3, slack });
  const repos = Array.from({ length: size.repos }, (_, i) => repoName(i));
  addRepos(gh, repos);

  const dir = mkdtempSync(join(tmpdir(), 'afk-bench-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    AFK_TRACKER_TOKEN: TRACKER_TOKEN,
    AFK_SLACK_WEBHOOK_URL: slackUrlOf(emulators),
    // One server takes its token from the environment; several each from their own file.
    ...(servers === 1 ? { AFK_T3_TOKEN: T3_TOKEN } : {}),
  };
  const tokenFile = join(dir, 't3-token');
  writeFileSync(tokenFile, T3_TOKEN);
  const urls = serverEmulators(emulators, servers).map((e) => e.url);
  const t3Config = (at: readonly string[]) =>
    servers === 1
      ? { url: at[0] }
      : {
          servers: at.map((url, i) => ({
            name: serverName(i),
            url,
            tokenFile,
            // Room for every run: capacity is not what the bench measures.
            capacity: 1000,
            repos: repos.filter((_, r) => r % servers === i),
          })),
        };
  const writeConfig: World['writeConfig'] = (name, dispatch, at = urls) => {
    const file = join(dir, name);
    writeFileSync(
      file,
      stringify({
        killSwitch: false,
        repos,
        tracker: { apiUrl: gh.apiUrl },
        t3: t3Config(at),
        ...measuredSettings,
        dispatch,
      }),
    );
    return file;
  };

  // The live runs: issues queued first (P0, oldest), dispatched by one seeding poll tick.
  const started = Date.now() - 3 * 3600_000;
  const live: LiveRun[] = [];
  for (let i = 0; i < size.live; i += 1) {
    const repo = repos[i % repos.length] as string;
    const number = gh.addIssue(repo, {
      title: liveTitle(i),
      body: bodyFor(i),
      labels: ['ready-for-agent', 'P0'],
      labeledBy: { 'ready-for-agent': MAINTAINER },
      author: MAINTAINER,
      createdAt: liveCreatedAt(started, i),
    });
    const phase = phases[i % phases.length] as Phase;
    live.push({ repo, number, phase, threadId: threadIdFor({ repo, number }, 1) });
  }
  // A tick dispatches at most 100 (the config's cap): more live runs take more seeding ticks.
  const perTick = Math.min(size.live, MAX_DISPATCHES_PER_TICK);
  const seedConfig = writeConfig('seed.yaml', {
    maxConcurrentRuns: 1000,
    maxRunsPerRepo: 100,
    maxDispatchesPerTick: Math.max(1, perTick),
  });
  const undispatched = () =>
    live.filter((run) => !gh.issue(run.repo, run.number).labels.includes('agent-in-progress'));
  for (let tick = 0; tick * perTick < size.live; tick += 1) {
    const seeded = await seedTick({ env }, 'poll', seedConfig);
    const missing = undispatched().length;
    if (seeded.exitCode !== 0 || missing > size.live - (tick + 1) * perTick) {
      throw new Error(
        `bench: seeding poll tick ${tick + 1} left ${missing} of ${size.live} live runs undispatched (exit ${seeded.exitCode}): ${seeded.stderr.trim().slice(0, 500)}`,
      );
    }
  }

  const owners: World['owners'] = { sha: new Map(), deployment: new Map(), thread: new Map() };
  for (const run of live) {
    owners.thread.set(run.threadId, run);
    agentToPhase(t3[repos.indexOf(run.repo) % servers] as T3Fake, run);
    forgeToPhase(gh, run, owners);
  }
  const ready = addReadyQueue(gh, repos, size, started);
  return {
    size,
    gh,
    t3,
    slack,
    repos,
    live,
    ready,
    owners,
    started,
    configFile: writeConfig('afk.yaml', { ...measuredSettings.dispatch }),
    writeConfig,
    env,
  };
}

/**
 * A fresh world in the state `template` was built in, without a seeding tick: the live issues
 * with their labels and afk's comments, the T3 projects and threads as the seeding dispatch
 * left them and the agent moved them, the same pull requests, CI and deployments, the same
 * ready queue. Poll ticks change the world they run on; each runs on a copy of its own.
 */
export function copyWorld(emulators: Emulators, template: World): World {
  const { gh, t3, slack } = createFakes(emulators, template.t3.length);
  activate(emulators, { gh, t3, slack });
  addRepos(gh, template.repos);
  template.live.forEach((run, i) => {
    const original = template.gh.issue(run.repo, run.number);
    const number = gh.addIssue(run.repo, {
      number: run.number,
      title: liveTitle(i),
      body: bodyFor(i),
      labels: original.labels,
      author: MAINTAINER,
      createdAt: liveCreatedAt(template.started, i),
    });
    // afk's comment as the dispatch wrote it. The label events are not copied: no tick reads
    // them for an issue that is already a live run.
    for (const comment of original.comments) {
      gh.addComment(run.repo, number, { author: comment.author, body: comment.body });
    }
  });
  // T3 as the seeding dispatch and the scripted agent left it.
  template.t3.forEach((server, i) => {
    const copy = t3[i] as T3Fake;
    for (const project of server.state.projects.values()) copy.addProject(structuredClone(project));
    for (const thread of server.state.threads.values()) copy.addThread(structuredClone(thread));
  });
  const owners: World['owners'] = { sha: new Map(), deployment: new Map(), thread: new Map() };
  for (const run of template.live) {
    owners.thread.set(run.threadId, run);
    forgeToPhase(gh, run, owners);
  }
  const ready = addReadyQueue(gh, template.repos, template.size, template.started);
  if (JSON.stringify(ready) !== JSON.stringify(template.ready)) {
    throw new Error('bench: a copied world numbered its ready queue differently');
  }
  return { ...template, gh, t3, slack, owners, ready };
}

const headOf = (run: LiveRun) => shaOf(`${run.repo}#${run.number}:head`);

/** The scripted agent takes a dispatched run's thread to its phase. */
function agentToPhase(t3: T3Fake, run: LiveRun): void {
  const thread = run.threadId;
  t3.startProvider(thread);
  t3.say(thread, 'Reproduced it in a failing test.\nAFK-PHASE: tests-red');
  if (run.phase === 'working') return;
  t3.say(thread, 'AFK-PHASE: green');
  t3.completeTurn(thread, `Opened the pull request.\nAFK-PHASE: pushed ${headOf(run)}`);
}

/** The agent's pull request, CI, the reviewer and the deploy pipeline, per phase. */
function forgeToPhase(gh: GitHubFake, run: LiveRun, owners: World['owners']): void {
  if (run.phase === 'working') return;
  const own = (sha: string) => {
    owners.sha.set(sha, run);
    return sha;
  };
  const head = own(headOf(run));
  const pull = gh.addPullRequest(run.repo, {
    head: `afk/issue-${run.number}`,
    headSha: head,
    title: `Trim display names (Refs #${run.number})`,
  });
  const ci = {
    'ci-running': 'running',
    'fix-forward-sent': 'failure',
    'awaiting-review': 'success',
    deploying: 'success',
  } as const;
  gh.setCi(run.repo, head, 'test', ci[run.phase]);
  if (run.phase !== 'deploying') return;

  const merge = own(shaOf(`${run.repo}#${run.number}:merge`));
  gh.mergePullRequest(run.repo, pull, merge);
  gh.setCi(run.repo, merge, 'test', 'success');
  const deployment = gh.addDeployment(run.repo, { sha: merge, environment: 'production' });
  owners.deployment.set(deployment, run);
  gh.addDeploymentStatus(run.repo, deployment, { state: 'in_progress' });
}
