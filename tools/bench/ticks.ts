// One tick of the shipped bundle in a child process, against a world's emulators (which run in
// this process): its wall time from spawn to exit, its peak RSS (reported by the preloaded
// probe), the CPU the emulators spent answering it, and every request it made.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { countGitHub, countSlack, countT3, type Counted, type RunIndex } from './requests.js';
import type { World } from './world.js';

export interface TickResult {
  command: 'poll' | 'watch';
  exitCode: number;
  wallMs: number;
  peakRssMb: number;
  /** CPU time (user + system) the tick's process used. */
  tickCpuMs: number;
  /** CPU time this process (the emulators) spent while the tick ran. */
  emulatorCpuMs: number;
  requests: Counted[];
  /** GitHub GraphQL points the tick spent, by the emulator's account (GitHub's formula). */
  graphqlPoints: number;
  /** The tick's `--output json` report. */
  report: TickReport;
  stderr: string;
}

/** The parts of a tick's `--output json` report the benchmark checks. */
export interface TickReport {
  summary?: string;
  exitCode?: number;
  failures?: unknown[];
  /** poll: the issues it dispatched. */
  dispatched?: string[];
  /** watch: each live run's decision. */
  runs?: Array<{ issue: string; decision: { kind: string } | null }>;
}

export interface Binary {
  /** The bundle, `dist/afk.mjs`. */
  bundle: string;
  /** The compiled usage-probe.js. */
  probe: string;
}

const TICK_TIMEOUT_MS = 120_000;

interface Spawned {
  exitCode: number;
  wallMs: number;
  /** What the usage probe reported, when it was preloaded. */
  usage: { maxRssKb: number; cpuUs: number } | null;
  stdout: string;
  stderr: string;
}

/** Runs `node [--import probe] bundle args…` and times it from spawn to exit. */
export function spawnTimed(
  args: string[],
  options: { env: NodeJS.ProcessEnv; probe?: string; cwd?: string; nodeFlags?: string[] },
): Promise<Spawned> {
  const preload = [
    ...(options.nodeFlags ?? []),
    ...(options.probe === undefined ? [] : ['--import', pathToFileURL(options.probe).href]),
  ];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...preload, ...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe', options.probe === undefined ? 'ignore' : 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const usage: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    (child.stdio[3] as NodeJS.ReadableStream | null)?.on('data', (chunk: Buffer) =>
      usage.push(chunk),
    );
    let wallMs = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), TICK_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', () => {
      wallMs = performance.now() - started;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code ?? (signal === null ? 1 : 128),
        wallMs,
        usage: parseUsage(Buffer.concat(usage).toString('utf8')),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

function parseUsage(text: string): Spawned['usage'] {
  try {
    const parsed = JSON.parse(text) as { maxRssKb?: unknown; cpuUs?: unknown };
    const { maxRssKb, cpuUs } = parsed;
    return typeof maxRssKb === 'number' && typeof cpuUs === 'number' ? { maxRssKb, cpuUs } : null;
  } catch {
    return null;
  }
}

export function runIndexOf(world: World): RunIndex {
  const key = (run: { repo: string; number: number }) => `${run.repo}#${run.number}`;
  const map = <K>(m: ReadonlyMap<K, { repo: string; number: number }>) =>
    new Map([...m].map(([k, run]) => [k, key(run)] as const));
  const comment = new Map<number, string>();
  for (const run of world.live) {
    for (const c of world.gh.issue(run.repo, run.number).comments) comment.set(c.id, key(run));
  }
  return {
    runs: new Set(world.live.map(key)),
    sha: map(world.owners.sha),
    deployment: map(world.owners.deployment),
    thread: map(world.owners.thread),
    comment,
  };
}

/** One measured tick: `afk <command> --config <world's config> --output json`. */
export async function runTick(
  world: World,
  command: 'poll' | 'watch',
  binary: Binary,
  nodeFlags: string[] = [],
): Promise<TickResult> {
  const marks = {
    github: world.gh.requests.length,
    t3: world.t3.map((server) => server.requests.length),
    slack: world.slack.requests.length,
  };
  const points = world.gh.graphql.points;
  const cpu = process.cpuUsage();
  const spawned = await spawnTimed(
    [binary.bundle, command, '--config', world.configFile, '--output', 'json'],
    { env: world.env, probe: binary.probe, nodeFlags },
  );
  const used = process.cpuUsage(cpu);
  const index = runIndexOf(world);
  const requests = [
    ...world.gh.requests.slice(marks.github).map((r) => countGitHub(r, index)),
    ...world.t3.flatMap((server, i) =>
      server.requests.slice(marks.t3[i]).map((r) => countT3(r, index)),
    ),
    ...world.slack.requests.slice(marks.slack).map((r) => countSlack(r, index)),
  ];
  let report: TickReport;
  try {
    report = JSON.parse(spawned.stdout) as TickReport;
  } catch {
    throw new Error(
      `bench: afk ${command} printed no JSON report (exit ${spawned.exitCode}): ${spawned.stderr.trim().slice(0, 500)}`,
    );
  }
  if (spawned.usage === null) throw new Error(`bench: afk ${command} reported no peak RSS`);
  return {
    command,
    exitCode: spawned.exitCode,
    wallMs: spawned.wallMs,
    peakRssMb: spawned.usage.maxRssKb / 1024,
    tickCpuMs: spawned.usage.cpuUs / 1000,
    emulatorCpuMs: (used.user + used.system) / 1000,
    requests,
    graphqlPoints: world.gh.graphql.points - points,
    report,
    stderr: spawned.stderr,
  };
}
