// Ticks at scale: for each size, poll ticks (each on a freshly built world, since a poll tick
// dispatches and so changes the world) and watch ticks (on one world brought to a steady state,
// where a watch tick writes nothing and so leaves the world as it found it).
import { attribute, profilerFlags, type TimeShare } from './profile.js';
import { quartiles } from './stats.js';
import { isRead, tally, type Counted } from './requests.js';
import { runTick, spawnTimed, type Binary, type TickResult } from './ticks.js';
import {
  activate,
  buildWorld,
  copyWorld,
  measuredSettings,
  phases,
  type Emulators,
  type Phase,
  type SeedTick,
  type Size,
  type World,
} from './world.js';

export interface Spread {
  median: number;
  q1: number;
  q3: number;
}

export interface RequestSummary {
  /** Requests by upstream, split into reads (GET, and GraphQL queries) and writes. */
  github: { reads: number; writes: number };
  /** GitHub GraphQL queries (among the reads) and their points (a budget beside REST's). */
  graphqlQueries: number;
  graphqlPoints: number;
  t3: { reads: number; writes: number };
  slack: number;
  /** `[kind, count]`, most frequent first. */
  byKind: Array<[string, number]>;
  /** GitHub issue-listing pages (`GET /repos/:owner/:repo/issues`). */
  listingPages: number;
}

export interface TickSample {
  command: 'poll' | 'watch';
  reps: number;
  /** The same in every repetition (checked). */
  requests: RequestSummary;
  wallMs: Spread;
  peakRssMb: Spread;
  tickCpuMs: Spread;
  emulatorCpuMs: Spread;
  /** Decisions (watch) or dispatches (poll) of the first repetition. */
  outcome: string;
}

export interface PerRun {
  phase: Phase;
  runs: number;
  /** GETs made for one run of this phase: the most and the mean over its runs. */
  maxGets: number;
  meanGets: number;
}

export interface SizeResult {
  size: Size;
  /** Listing pages a tick needs if it reads every list at 100 a page, per repo. */
  expectedPages: { poll: number; watch: number };
  poll: TickSample;
  watch: TickSample;
  /** The first watch tick after every run moved (it rewrites checklists, sends turns). */
  watchFirst: RequestSummary;
  perRun: { steady: PerRun[]; first: PerRun[] };
  /** Where the time of one more (profiled) tick went, when asked for. */
  profile: { poll: TimeShare[]; watch: TimeShare[] } | null;
}

export function summarize(requests: readonly Counted[], graphqlPoints = 0): RequestSummary {
  const count = (upstream: Counted['upstream'], reads: boolean) =>
    requests.filter((c) => c.upstream === upstream && isRead(c) === reads).length;
  return {
    github: { reads: count('github', true), writes: count('github', false) },
    graphqlQueries: requests.filter((c) => c.kind.startsWith('POST /graphql ')).length,
    graphqlPoints,
    t3: { reads: count('t3', true), writes: count('t3', false) },
    slack: requests.filter((c) => c.upstream === 'slack').length,
    byKind: tally(requests, (c) => `${c.upstream} ${c.kind}`),
    listingPages: requests.filter((c) => c.kind === 'GET /repos/:owner/:repo/issues').length,
  };
}

const spread = (values: number[]): Spread => {
  const [q1, m, q3] = quartiles(values);
  return { median: m, q1, q3 };
};

function sample(command: 'poll' | 'watch', results: TickResult[], outcome: string): TickSample {
  const first = results[0];
  if (first === undefined) throw new Error('bench: no repetitions');
  // Every repetition runs on the same world: a different request means a different world.
  const key = (r: TickResult) => JSON.stringify(summarize(r.requests).byKind);
  const differs = results.find((r) => key(r) !== key(first));
  failIf(differs !== undefined, () => `${command} made different requests in two repetitions`);
  return {
    command,
    reps: results.length,
    requests: summarize(first.requests, first.graphqlPoints),
    wallMs: spread(results.map((r) => r.wallMs)),
    peakRssMb: spread(results.map((r) => r.peakRssMb)),
    tickCpuMs: spread(results.map((r) => r.tickCpuMs)),
    emulatorCpuMs: spread(results.map((r) => r.emulatorCpuMs)),
    outcome,
  };
}

/** GETs per live run, by phase, from the requests a tick attributed to runs. */
export function perRunGets(world: Pick<World, 'live'>, requests: readonly Counted[]): PerRun[] {
  const gets = new Map<string, number>();
  for (const c of requests) {
    if (c.run !== null && isRead(c)) gets.set(c.run, (gets.get(c.run) ?? 0) + 1);
  }
  return phases.flatMap((phase) => {
    const runs = world.live.filter((r) => r.phase === phase);
    if (runs.length === 0) return [];
    const counts = runs.map((r) => gets.get(`${r.repo}#${r.number}`) ?? 0);
    return [
      {
        phase,
        runs: runs.length,
        maxGets: Math.max(...counts),
        meanGets: counts.reduce((a, b) => a + b, 0) / counts.length,
      },
    ];
  });
}

const pages = (n: number) => Math.max(1, Math.ceil(n / 100));

function expectedPages(world: World): SizeResult['expectedPages'] {
  const ready = new Map<string, number>();
  const live = new Map<string, number>();
  for (const issue of world.ready) ready.set(issue.repo, (ready.get(issue.repo) ?? 0) + 1);
  for (const run of world.live) live.set(run.repo, (live.get(run.repo) ?? 0) + 1);
  const poll = world.repos.reduce(
    (n, r) => n + pages(ready.get(r) ?? 0) + pages(live.get(r) ?? 0),
    0,
  );
  const watch = world.repos.reduce((n, r) => n + pages(live.get(r) ?? 0), 0);
  return { poll, watch };
}

const writesOf = (requests: readonly Counted[]) => requests.filter((c) => !isRead(c)).length;

function failIf(condition: boolean, message: () => string): void {
  if (condition) throw new Error(`bench: ${message()}`);
}

export async function measureSize(
  emulators: Emulators,
  size: Size,
  binary: Binary,
  reps: number,
  progress: (line: string) => void,
  options: { profile?: boolean } = {},
): Promise<SizeResult> {
  const label = `${size.repos} repos, ${size.ready} ready, ${size.live} live`;
  const seed: SeedTick = (world, command, configFile) =>
    spawnTimed([binary.bundle, command, '--config', configFile], { env: world.env });

  // The world, with its live runs dispatched by a real poll tick. Poll ticks change the world
  // they run on, so each runs on a fresh copy of it; watch runs on the original afterwards.
  const world = await buildWorld(emulators, size, seed);
  const polls: TickResult[] = [];
  for (let rep = 0; rep < reps; rep += 1) {
    const copy = copyWorld(emulators, world);
    const result = await runTick(copy, 'poll', binary);
    const { dispatched } = result.report;
    const want = Math.min(measuredSettings.dispatch.maxDispatchesPerTick, size.ready);
    failIf(
      result.exitCode !== 0 || dispatched?.length !== want,
      () =>
        `poll at ${label} exited ${result.exitCode} and dispatched ${dispatched?.length ?? 'nothing'} of ${want}: ${result.report.summary ?? result.stderr.slice(0, 400)}`,
    );
    polls.push(result);
    progress(`${label}: poll ${rep + 1}/${reps}, ${Math.round(result.wallMs)} ms`);
  }

  const profiled = async (target: World, command: 'poll' | 'watch') => {
    const { flags, dir } = profilerFlags();
    const result = await runTick(target, command, binary, flags);
    failIf(
      result.exitCode !== 0,
      () => `profiled ${command} at ${label} exited ${result.exitCode}`,
    );
    return attribute(dir);
  };
  const pollProfile =
    options.profile === true ? await profiled(copyWorld(emulators, world), 'poll') : null;

  // Watch: warm-up ticks until one writes nothing, then the measured ticks.
  activate(emulators, world);
  let first: TickResult | undefined;
  let steady = false;
  for (let warm = 0; warm < 4 && !steady; warm += 1) {
    const result = await runTick(world, 'watch', binary);
    failIf(
      result.exitCode !== 0,
      () => `warm-up watch at ${label} exited ${result.exitCode}: ${result.report.summary ?? ''}`,
    );
    first ??= result;
    steady = writesOf(result.requests) === 0;
  }
  failIf(first === undefined || !steady, () => `watch at ${label} still writes after 4 ticks`);
  const watches: TickResult[] = [];
  for (let rep = 0; rep < reps; rep += 1) {
    const result = await runTick(world, 'watch', binary);
    failIf(
      result.exitCode !== 0 || writesOf(result.requests) > 0,
      () =>
        `watch at ${label} exited ${result.exitCode} with ${writesOf(result.requests)} writes: ${result.report.summary ?? ''}`,
    );
    watches.push(result);
    progress(`${label}: watch ${rep + 1}/${reps}, ${Math.round(result.wallMs)} ms`);
  }
  const watchProfile = pollProfile === null ? null : await profiled(world, 'watch');
  const decisions = tally(watches[0]?.report.runs ?? [], (r) => r.decision?.kind ?? 'none');
  failIf(
    decisions.reduce((n, [, c]) => n + c, 0) !== size.live,
    () => `watch at ${label} decided ${JSON.stringify(decisions)} for ${size.live} live runs`,
  );

  return {
    size,
    expectedPages: expectedPages(world),
    poll: sample(
      'poll',
      polls,
      `dispatched ${Math.min(measuredSettings.dispatch.maxDispatchesPerTick, size.ready)}`,
    ),
    watch: sample('watch', watches, decisions.map(([k, n]) => `${n} ${k}`).join(', ')),
    watchFirst: summarize((first as TickResult).requests, (first as TickResult).graphqlPoints),
    perRun: {
      steady: perRunGets(world, watches[0]?.requests ?? []),
      first: perRunGets(world, (first as TickResult).requests),
    },
    profile:
      pollProfile === null || watchProfile === null
        ? null
        : { poll: pollProfile, watch: watchProfile },
  };
}
