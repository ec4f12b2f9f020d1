// `npm run bench`: cold start of what the image ships (the startup snapshot, with the ESM bundle
// for comparison) and ticks at scale of the bundle, written to docs/benchmarks.md. `npm run
// bench` builds first (tsc for this file, esbuild for the bundle, `npm run snapshot`).
//
//   node dist/dev/tools/bench/run.js [--reps N] [--rounds N] [--quick] [--out FILE]
//
// --reps: measured ticks per size (median), --rounds: cold-start rounds, --quick: a small
// smoke run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { repoRoot as root } from '../root.js';
import { measureColdStart } from './coldstart.js';
import { renderReport, ticksPerHour, type BenchResult } from './report.js';
import { measureSize, type SizeResult } from './scale.js';
import { measureServerDown, type ServerDownResult } from './servers.js';
import { measuredSettings, startEmulators, type Size } from './world.js';

/**
 * The size issue 13's targets are judged at first (its ticks are also profiled), then the
 * repos and the live runs varied one at a time around it.
 */
const SIZES: Size[] = [
  { repos: 100, ready: 2000, live: 100 },
  { repos: 10, ready: 2000, live: 100 },
  { repos: 300, ready: 2000, live: 100 },
  { repos: 100, ready: 2000, live: 10 },
  { repos: 100, ready: 2000, live: 300 },
];
const QUICK: Size[] = [
  { repos: 3, ready: 12, live: 5 },
  { repos: 6, ready: 12, live: 5 },
  { repos: 3, ready: 12, live: 10 },
];

function scheduleOf(file: string): number {
  const line = /^\s*schedule:\s*['"]?([^'"\n]+)['"]?\s*$/m.exec(readFileSync(file, 'utf8'));
  if (line === null) throw new Error(`bench: no schedule in ${file}`);
  return ticksPerHour(line[1] ?? '');
}

function count(flag: string, given: string | undefined, fallback: number): number {
  if (given === undefined) return fallback;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`bench: ${flag} wants a whole number ≥ 1, not "${given}"`);
  return n;
}

function commitOf(): string {
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
    return `${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const reps = count('--reps', values.reps, values.quick ? 2 : 5);
  const rounds = count('--rounds', values.rounds, values.quick ? 3 : 31);
  const out = values.out ?? join(root, 'docs/benchmarks.md');
  const sizes = values.quick ? QUICK : SIZES;
  const binary = {
    bundle: join(root, 'dist/afk.mjs'),
    snapshot: join(root, 'dist/afk.blob'),
    probe: fileURLToPath(new URL('./usage-probe.js', import.meta.url)),
  };
  if (!existsSync(binary.bundle)) throw new Error(`bench: no ${binary.bundle}; run npm run bundle`);
  if (!existsSync(binary.snapshot)) {
    throw new Error(`bench: no ${binary.snapshot}; run npm run snapshot`);
  }
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  const loadBefore = loadavg()[0] ?? 0;

  const coldStart = await measureColdStart({
    root,
    bundle: binary.bundle,
    snapshot: binary.snapshot,
    shippedConfig: join(root, 'k8s/base/afk.yaml'),
    rounds,
    onProgress: progress,
  });
  const emulators = await startEmulators();
  const results: SizeResult[] = [];
  let servers: ServerDownResult;
  try {
    for (const [i, size] of sizes.entries()) {
      // At the targets' size (the first), one more tick of each runs under the profiler.
      const profile = i === 0;
      results.push(await measureSize(emulators, size, binary, reps, progress, { profile }));
    }
    servers = await measureServerDown(emulators, binary, progress);
  } finally {
    await emulators.close();
  }

  const cpu = cpus();
  const argv = process.argv.slice(2).join(' ');
  const result: BenchResult = {
    machine: {
      cpu: cpu[0]?.model.trim() ?? 'unknown',
      cores: cpu.length,
      memoryGb: Math.round(totalmem() / 1024 ** 3),
      os: `${type()} ${release()}`,
      node: process.version,
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      commit: commitOf(),
      load: [loadBefore, loadavg()[0] ?? 0],
      durationS: (Date.now() - started) / 1000,
    },
    settings: {
      command: `npm run bench${argv === '' ? '' : ` -- ${argv}`}`,
      reps,
      rounds,
      dispatch: { ...measuredSettings.dispatch },
      deploy: measuredSettings.deploy.kind,
      schedule: {
        poll: scheduleOf(join(root, 'k8s/base/cronjob-poll.yaml')),
        watch: scheduleOf(join(root, 'k8s/base/cronjob-watch.yaml')),
      },
    },
    coldStart,
    sizes: results,
    servers,
  };
  // Formatted as `npm run lint` expects every Markdown file in the repository to be.
  const options = (await resolveConfig(out)) ?? {};
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, await format(renderReport(result), { ...options, filepath: out }));
  progress(
    `bench: wrote ${relative(process.cwd(), out) || out} in ${Math.round(result.machine.durationS)} s`,
  );
}

main().catch((error: unknown) => {
  // The benchmark's own findings ("bench: ...") are one line; anything else keeps its stack.
  const own = error instanceof Error && error.message.startsWith('bench: ');
  const text =
    error instanceof Error ? (own ? error.message : (error.stack ?? error.message)) : String(error);
  process.stderr.write(`${text}\n`);
  process.exitCode = 1;
});
