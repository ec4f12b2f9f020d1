// Overlapping ticks (docs/concurrency.md): two `poll`s, two `watch`es, a poll beside a watch,
// a dry run beside a live run, all started at the same moment against the same fakes, make no
// duplicate thread, turn, comment, label flip-flop or doorbell, and neither says it failed.
// Each scenario runs ROUNDS times; a seeded random delay in front of every fake varies the
// interleaving per round, and a failing round names the seed that replays its delays
// (AFK_RACE_SEED=<seed> AFK_RACE_ROUNDS=1).
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from 'msw';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  parseChecklist,
  projectIdFor,
  threadIdFor,
  type IssueRef,
  type RunRecord,
} from '../../src/core/index.js';
import type { ForgeFake } from '../../emulators/forge.js';
import { createSlackFake, defaultWebhookUrl, type SlackFake } from '../../emulators/slack.js';
import {
  createT3Fake,
  type FakeProject,
  type FakeThread,
  type T3Fake,
} from '../../emulators/t3.js';
import {
  armedConfig,
  GITHUB_URL,
  runCli,
  TRACKER_TOKEN,
  writeConfig,
  type CliResult,
} from '../support/cli.js';
import { forges, type ForgeUnderTest } from '../support/forges.js';
import { useMswServer } from '../support/msw.js';

const ROUNDS = Number(process.env['AFK_RACE_ROUNDS'] ?? 50);
const BASE_SEED = Number(process.env['AFK_RACE_SEED'] ?? 1);
const HEAD = '1'.repeat(40);
const MERGE = '4'.repeat(40);
const DISPATCHED_AT = new Date('2026-11-21T08:00:00.000Z');
/** The racing ticks run five minutes after the dispatch: no timer of watch's has run out. */
const NOW = new Date('2026-11-21T08:05:00.000Z');

const { server } = useMswServer();

/** The tick a request belongs to: each of the concurrent CLIs runs inside its own context. */
interface TickContext {
  name: string;
  random: () => number;
  requests: string[];
}
const ticks = new AsyncLocalStorage<TickContext>();

// In front of every fake: note the request under its tick, wait 0 to 5 turns of the event
// loop (as the tick's seeded generator says), then fall through to the fakes.
const jitter = http.all('*', async ({ request }) => {
  const tick = ticks.getStore();
  if (tick === undefined) return undefined;
  tick.requests.push(`${request.method} ${request.url}`);
  const turns = Math.floor(tick.random() * 6);
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
  return undefined;
});

/** mulberry32: small, seedable, good enough to shuffle delays. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface World {
  forge: ForgeUnderTest;
  configFile: string;
  gh: ForgeFake;
  t3: T3Fake;
  slack: SlackFake;
}

/** A config per forge and repo list, written once: every round reads the same file. */
const configs = new Map<string, string>();
function configFor(forge: ForgeUnderTest, repos: string[]): string {
  const key = `${forge.kind} ${repos.join(',')}`;
  let file = configs.get(key);
  if (file === undefined) {
    file = writeConfig(
      armedConfig({
        // The fakes' login, so a tick does not ask GET /user: fewer requests per round.
        tracker: { ...forge.tracker, login: forge.create().selfLogin },
        repos,
        dispatch: { maxConcurrentRuns: 4, maxDispatchesPerTick: 2 },
      }),
    );
    configs.set(key, file);
  }
  return file;
}
const cwd = mkdtempSync(join(tmpdir(), 'afk-race-'));

function newWorld(forge: ForgeUnderTest, repos: string[], clock: Date): World {
  const gh = forge.create({ now: () => clock });
  const t3 = createT3Fake({ clock: () => clock });
  const slack = createSlackFake();
  // msw tries handlers in order: the few T3 and Slack routes go before GitHub's many.
  server.resetHandlers(jitter, ...slack.handlers, ...t3.handlers, ...gh.handlers);
  for (const repo of repos) {
    gh.addRepo(repo, { collaborators: { maintainer: 'write' } });
    gh.pushCommit(repo, 'main', '0'.repeat(40));
  }
  return { forge, configFile: configFor(forge, repos), gh, t3, slack };
}

interface Launch {
  name: string;
  command: 'poll' | 'watch';
  dryRun?: boolean;
}

interface Ran {
  launch: Launch;
  result: CliResult;
  requests: string[];
}

/** Starts every tick at once, each under its own seeded delays, in a seeded order. */
async function race(world: World, seed: number, launches: Launch[]): Promise<Ran[]> {
  const order = generator(seed);
  const started = launches
    .map((launch, i) => ({ launch, key: order(), random: generator(seed * 31 + i + 1) }))
    .sort((a, b) => a.key - b.key);
  const ran = await Promise.all(
    started.map(async ({ launch, random }) => {
      const context: TickContext = { name: launch.name, random, requests: [] };
      const args = [launch.command, '--config', world.configFile, '--output', 'json'];
      if (launch.dryRun === true) args.push('--dry-run');
      const result = await ticks.run(context, () =>
        runCli(args, { now: NOW, cwd, env: { AFK_SLACK_WEBHOOK_URL: defaultWebhookUrl } }),
      );
      return { launch, result, requests: context.requests };
    }),
  );
  if (ran.some(({ result }) => yieldedSteps(result) > 0)) collisions += 1;
  return launches.map((launch) => ran.find((r) => r.launch === launch) as Ran);
}

/** Rounds of the current scenario in which a tick left a step to another one. */
let collisions = 0;
const yieldedSteps = (result: CliResult): number =>
  (
    (result.json?.['results'] as Array<{ status: string; error?: string }> | undefined) ?? []
  ).filter(
    (r) => r.status === 'skipped' && /another tick|already rung|changed since/.test(r.error ?? ''),
  ).length;

/**
 * Runs `round` ROUNDS times. The seed picks the round's delays and its forge (the forges take
 * turns, which keeps the file near 20 s), so a failure names the one seed that replays it.
 */
async function rounds(
  round: (world: Start, seed: number) => Promise<void>,
  { collide = true } = {},
): Promise<void> {
  collisions = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const seed = BASE_SEED + r;
    const forge = forges[seed % forges.length] as ForgeUnderTest;
    try {
      await round((repos) => newWorld(forge, repos, NOW), seed);
    } catch (error) {
      if (error instanceof Error) {
        error.message = `round ${r + 1} of ${ROUNDS} on ${forge.kind}, seed ${seed} (AFK_RACE_SEED=${seed} AFK_RACE_ROUNDS=1 replays it): ${error.message}`;
      }
      throw error;
    }
  }
  // The delays must make the ticks meet: a scenario whose ticks never got in each other's way
  // would pass without testing anything.
  if (collide && ROUNDS >= 10) {
    expect(collisions, 'rounds in which the ticks collided').toBeGreaterThan(0);
  }
}

/** A round's fresh fakes, on the round's forge. */
type Start = (repos: string[]) => World;

// --- what every race must leave -------------------------------------------------------------

const afkComments = (world: World, { repo, number }: IssueRef) =>
  world.gh.issue(repo, number).comments.filter((c) => c.author === world.gh.selfLogin);

function recordOf(world: World, issue: IssueRef): RunRecord {
  const comments = afkComments(world, issue);
  expect(comments, `afk comments on ${issue.repo}#${issue.number}`).toHaveLength(1);
  const parsed = parseChecklist(comments[0]?.body ?? '');
  if (!parsed.ok) throw new Error(`unreadable record on ${issue.repo}#${issue.number}`);
  return parsed.record;
}

/** One afk comment, its claim released, and the label events afk made, by label. */
function assertSettled(world: World, issue: IssueRef, labelEvents: Record<string, string[]>) {
  const comments = afkComments(world, issue);
  expect(comments, `afk comments on ${issue.repo}#${issue.number}`).toHaveLength(1);
  expect(world.gh.reactions(issue.repo, comments[0]?.id ?? 0), 'claims left behind').toEqual({});
  const events: Record<string, string[]> = {};
  for (const e of world.gh.issue(issue.repo, issue.number).events) {
    if (e.actor === world.gh.selfLogin && e.label !== '') (events[e.label] ??= []).push(e.event);
  }
  expect(events, `afk's label events on ${issue.repo}#${issue.number}`).toEqual(labelEvents);
}

/** No tick says it failed for losing a race, and no dry run tried to write. */
function assertClean(ran: Ran[]) {
  for (const { launch, result, requests } of ran) {
    expect(result.code, `${launch.name}: ${result.stdout}${result.stderr}`).toBe(0);
    if (launch.dryRun === true) {
      expect(
        // A GraphQL query is a read sent as a POST (a dry run's fetch refuses a mutation).
        requests.filter((r) => !r.startsWith('GET ') && !/^POST \S+\/graphql$/.test(r)),
        `${launch.name} wrote`,
      ).toEqual([]);
      expect(result.stdout + result.stderr).not.toContain('refused');
    }
  }
}

const commandsOf = (world: World, type: string, threadId: string) =>
  world.t3.commands.filter((c) => c.command['type'] === type && c.command['threadId'] === threadId);

// --- the worlds the races start from ---------------------------------------------------------

type LiveState = 'escalation' | 'review' | 'ci-failure' | 'close';

/** A live run as real ticks and a scripted agent left it: what a round seeds its fakes with. */
const captures = new Map<string, CapturedRun>();

interface CapturedRun {
  project: FakeProject;
  thread: FakeThread;
  comment: string;
}

/**
 * Dispatches acme/api#1 with a real poll tick, plays the agent up to `state`, and keeps the
 * T3 project and thread and afk's comment, so each round starts from what afk really wrote
 * without paying for the ticks that wrote it.
 */
async function capture(forge: ForgeUnderTest, state: LiveState): Promise<CapturedRun> {
  const world = newWorld(forge, ['acme/api'], DISPATCHED_AT);
  world.gh.addIssue('acme/api', {
    number: 1,
    title: 'Fix login',
    labels: ['ready-for-agent'],
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });
  const polled = await runCli(['poll', '--config', world.configFile], { now: DISPATCHED_AT, cwd });
  expect(polled.code, polled.stdout).toBe(0);
  const threadId = threadIdFor({ repo: 'acme/api', number: 1 }, 1);
  if (state === 'escalation') {
    world.t3.failProviderStart(threadId, 'claude binary not found');
  } else {
    world.t3.startProvider(threadId);
    world.t3.say(threadId, 'Wrote a failing test.\nAFK-PHASE: tests-red');
    world.t3.say(threadId, 'All tests pass.\nAFK-PHASE: green');
    world.t3.completeTurn(threadId, `Pushed.\nAFK-PHASE: pushed ${HEAD}`);
  }
  const [comment] = afkComments(world, { repo: 'acme/api', number: 1 });
  const project = world.t3.state.projects.get(projectIdFor('acme/api'));
  const thread = world.t3.state.threads.get(threadId);
  if (comment === undefined || project === undefined || thread === undefined) {
    throw new Error('the dispatch left no comment, project or thread');
  }
  return structuredClone({ project, thread, comment: comment.body });
}

/** Seeds `repo`#1 as a live run in `state`, from a captured dispatch of acme/api#1. */
function seedRun(
  world: World,
  repo: string,
  state: LiveState,
  extraLabels: string[] = [],
): { issue: IssueRef; threadId: string } {
  const captured = captures.get(`${world.forge.kind} ${state}`);
  if (captured === undefined) throw new Error(`no captured ${state} run on ${world.forge.kind}`);
  const issue = { repo, number: 1 };
  const threadId = threadIdFor(issue, 1);
  const rename = (text: string) =>
    text
      .replaceAll(threadIdFor({ repo: 'acme/api', number: 1 }, 1), threadId)
      .replaceAll(projectIdFor('acme/api'), projectIdFor(repo));
  const project = JSON.parse(rename(JSON.stringify(captured.project))) as FakeProject;
  const thread = JSON.parse(rename(JSON.stringify(captured.thread))) as FakeThread;
  if (!world.t3.state.projects.has(project.id)) {
    world.t3.addProject({ ...project, workspaceRoot: `/data/${repo.replace('/', '__')}` });
  }
  world.t3.addThread(thread);
  world.gh.addIssue(repo, {
    number: 1,
    title: 'Fix login',
    labels: ['agent-in-progress', ...extraLabels],
  });
  world.gh.addComment(repo, 1, {
    author: world.gh.selfLogin,
    body: rename(captured.comment),
    createdAt: DISPATCHED_AT.toISOString(),
  });
  if (state !== 'escalation') {
    const merged = state === 'close';
    world.gh.addPullRequest(repo, {
      number: 12,
      head: 'afk/issue-1',
      headSha: HEAD,
      ...(merged ? { merged: true, mergeCommitSha: MERGE } : {}),
    });
    world.gh.setCi(
      repo,
      merged ? MERGE : HEAD,
      'test',
      state === 'ci-failure' ? 'failure' : 'success',
    );
  }
  return { issue, threadId };
}

/**
 * GitHub computes a pull request's mergeability in the background after a push, so by the
 * time CI has reported it is known. The fake computes it at the first read, which answers
 * null: this read stands for GitHub's job, so that the racing ticks meet a green PR as GitHub
 * shows it then.
 */
async function mergeabilityComputed(world: World, repo: string): Promise<void> {
  if (world.forge.kind !== 'github') return;
  const answer = await fetch(`${GITHUB_URL}/repos/${repo}/pulls/12`, {
    headers: { authorization: `token ${TRACKER_TOKEN}` },
  });
  if (!answer.ok) throw new Error(`priming mergeability: ${answer.status}`);
}

function readyIssue(world: World, repo: string, extraLabels: string[] = []): IssueRef {
  world.gh.addIssue(repo, {
    number: 1,
    title: 'Fix login',
    labels: ['ready-for-agent', ...extraLabels],
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });
  return { repo, number: 1 };
}

/** One dispatch, whoever made it: one thread, one first turn, one comment, one label swap. */
function assertDispatchedOnce(world: World, issue: IssueRef) {
  const threadId = threadIdFor(issue, 1);
  expect(commandsOf(world, 'thread.create', threadId)).toHaveLength(1);
  expect(commandsOf(world, 'thread.turn.start', threadId)).toHaveLength(1);
  expect(recordOf(world, issue)).toMatchObject({ attempt: 1, threadId, outcome: null });
  expect(world.gh.issue(issue.repo, issue.number).labels).toEqual(['agent-in-progress']);
  assertSettled(world, issue, {
    'agent-in-progress': ['labeled'],
    'ready-for-agent': ['unlabeled'],
  });
}

/** The one escalation: one doorbell, the human label on, the lock off, each once. */
function assertEscalatedOnce(world: World, issue: IssueRef, threadId: string) {
  expect(world.slack.messages.filter((m) => m.text.includes(`${issue.repo}#1`))).toHaveLength(1);
  expect(recordOf(world, issue)).toMatchObject({
    outcome: 'escalated',
    doorbell: { rungAt: NOW.toISOString() },
  });
  expect(commandsOf(world, 'thread.session.stop', threadId)).toHaveLength(1);
  expect(world.gh.issue(issue.repo, 1).labels).toEqual(['ready-for-human']);
}

/** Several minutes on a loaded machine; the whole file aims at about 20 s on an idle one. */
const TIMEOUT = 120_000;

describe(`overlapping ticks on ${forges.map((f) => f.kind).join(' and ')}`, () => {
  beforeAll(async () => {
    for (const forge of forges) {
      for (const state of ['escalation', 'review', 'ci-failure', 'close'] as const) {
        captures.set(`${forge.kind} ${state}`, await capture(forge, state));
      }
    }
  });
  const twoWatches: Launch[] = [
    { name: 'watch A', command: 'watch' },
    { name: 'watch B', command: 'watch' },
  ];

  it(`two polls dispatch the issue once (${ROUNDS} rounds)`, { timeout: TIMEOUT }, async () => {
    await rounds(async (start, seed) => {
      const world = start(['acme/api']);
      const issue = readyIssue(world, 'acme/api');
      const ran = await race(world, seed, [
        { name: 'poll A', command: 'poll' },
        { name: 'poll B', command: 'poll' },
      ]);
      assertClean(ran);
      assertDispatchedOnce(world, issue);
      const projects = world.t3.commands.filter((c) => c.command['type'] === 'project.create');
      expect(projects).toHaveLength(1);
    });
  });

  it(
    `two watches at an escalation ring one doorbell (${ROUNDS} rounds)`,
    { timeout: TIMEOUT },
    async () => {
      await rounds(async (start, seed) => {
        const world = start(['acme/api']);
        const { issue, threadId } = seedRun(world, 'acme/api', 'escalation');
        assertClean(await race(world, seed, twoWatches));
        assertEscalatedOnce(world, issue, threadId);
        assertSettled(world, issue, {
          'ready-for-human': ['labeled'],
          'agent-in-progress': ['unlabeled'],
        });
      });
    },
  );

  it(
    `two watches at a green pull request ring one review notice (${ROUNDS} rounds)`,
    { timeout: TIMEOUT },
    async () => {
      await rounds(async (start, seed) => {
        const world = start(['acme/api']);
        const { issue } = seedRun(world, 'acme/api', 'review');
        await mergeabilityComputed(world, 'acme/api');
        assertClean(await race(world, seed, twoWatches));
        expect(world.slack.messages).toHaveLength(1);
        expect(world.slack.messages[0]?.text).toContain('review requested');
        expect(recordOf(world, issue)).toMatchObject({
          outcome: null,
          reviewNotifiedAt: NOW.toISOString(),
          phases: { pushed: NOW.toISOString(), ci: NOW.toISOString() },
        });
        expect(world.gh.issue('acme/api', 1).labels).toEqual(['agent-in-progress']);
        assertSettled(world, issue, {});
      });
    },
  );

  it(
    `two watches at a trusted reviewer’s requested changes send one review turn (${ROUNDS} rounds)`,
    { timeout: TIMEOUT },
    async () => {
      await rounds(async (start, seed) => {
        const world = start(['acme/api']);
        const { issue, threadId } = seedRun(world, 'acme/api', 'review');
        await mergeabilityComputed(world, 'acme/api');
        world.gh.addReview('acme/api', 12, {
          author: 'maintainer',
          state: 'changes-requested',
          body: 'Handle the empty password.',
          comments: [{ path: 'src/login.ts', line: 42, body: 'This throws.' }],
        });
        assertClean(await race(world, seed, twoWatches));
        const turns = commandsOf(world, 'thread.turn.start', threadId);
        expect(turns).toHaveLength(1);
        expect(JSON.stringify(turns[0]?.command)).toContain('Review feedback, round 1 of 3');
        expect(recordOf(world, issue)).toMatchObject({
          reviewRounds: 1,
          lastTurn: { purpose: 'review' },
        });
        expect(world.slack.messages).toEqual([]);
        assertSettled(world, issue, {});
      });
    },
  );

  it(
    `two watches at a CI failure send one fix-forward turn (${ROUNDS} rounds)`,
    { timeout: TIMEOUT },
    async () => {
      await rounds(async (start, seed) => {
        const world = start(['acme/api']);
        const { issue, threadId } = seedRun(world, 'acme/api', 'ci-failure');
        assertClean(await race(world, seed, twoWatches));
        const turns = commandsOf(world, 'thread.turn.start', threadId);
        expect(turns).toHaveLength(1);
        expect(JSON.stringify(turns[0]?.command)).toContain(`CI failed on commit ${HEAD}`);
        expect(recordOf(world, issue)).toMatchObject({
          fixForwards: 1,
          fixForwardShas: [HEAD],
          lastTurn: { purpose: 'fix-forward' },
        });
        expect(world.slack.messages).toEqual([]);
        assertSettled(world, issue, {});
      });
    },
  );

  it(
    `two watches at a merged, green run close it once (${ROUNDS} rounds)`,
    { timeout: TIMEOUT },
    async () => {
      await rounds(async (start, seed) => {
        const world = start(['acme/api']);
        const { issue, threadId } = seedRun(world, 'acme/api', 'close');
        assertClean(await race(world, seed, twoWatches));
        const state = world.gh.issue('acme/api', 1);
        expect(state).toMatchObject({ state: 'closed', labels: [] });
        expect(state.events.filter((e) => e.event === 'closed')).toHaveLength(1);
        expect(commandsOf(world, 'thread.session.stop', threadId)).toHaveLength(1);
        expect(commandsOf(world, 'thread.archive', threadId)).toHaveLength(1);
        expect(recordOf(world, issue)).toMatchObject({ outcome: 'closed' });
        expect(world.slack.messages).toEqual([]);
        assertSettled(world, issue, { 'agent-in-progress': ['unlabeled'] });
      });
    },
  );

  it(
    `a poll beside a watch, each beside its dry run: one dispatch, one escalation, no write from a dry run (${ROUNDS} rounds)`,
    { timeout: TIMEOUT },
    async () => {
      await rounds(
        async (start, seed) => {
          const world = start(['acme/api', 'acme/web']);
          const ready = readyIssue(world, 'acme/api');
          // A ready label put back on a live run: poll repairs it while watch escalates the run.
          const live = seedRun(world, 'acme/web', 'escalation', ['ready-for-agent']);
          const ran = await race(world, seed, [
            { name: 'poll', command: 'poll' },
            { name: 'watch', command: 'watch' },
            { name: 'poll --dry-run', command: 'poll', dryRun: true },
            { name: 'watch --dry-run', command: 'watch', dryRun: true },
          ]);
          assertClean(ran);
          assertDispatchedOnce(world, ready);
          assertEscalatedOnce(world, live.issue, live.threadId);
          assertSettled(world, live.issue, {
            'ready-for-human': ['labeled'],
            'agent-in-progress': ['unlabeled'],
            'ready-for-agent': ['unlabeled'],
          });
          for (const { launch, result } of ran) {
            expect(result.json?.['dryRun'], launch.name).toBe(launch.dryRun === true);
          }
        },
        // Poll and watch work on different issues here and need not make each other yield;
        // what is tested is that they leave each other's issue alone.
        { collide: false },
      );
    },
  );
});
