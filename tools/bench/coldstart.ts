// Cold start: `afk --help` and a disabled `afk poll` (the disarmed config the Kubernetes base
// ships) as the image runs them, from the startup snapshot (`npm run snapshot`: dist/afk.blob),
// and from the ESM bundle for comparison, each as a ratio to a bare `node -e 0` timed in the
// same rounds.
// Probes, bundled the way `npm run bundle` bundles afk, split the disabled poll's cost into the
// libraries it cannot do without: that is the floor the ratio can reach with them.
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { median, quartiles } from './stats.js';
import { spawnTimed } from './ticks.js';

export interface ColdStartCase {
  name: string;
  /** What it is, for the report. */
  what: string;
  args: string[];
  /** A probe (part of the floor analysis) rather than a shipped command. */
  probe: boolean;
  /** Shown for comparison with what ships (the ESM bundle), not held to the target. */
  comparison?: boolean;
}

export interface ColdStartFigure {
  case: ColdStartCase;
  medianMs: number;
  q1Ms: number;
  q3Ms: number;
  /** Median over rounds of (this case's time / `node -e 0`'s time in the same round). */
  ratio: number;
}

export interface ColdStartResult {
  rounds: number;
  baseline: ColdStartFigure;
  figures: ColdStartFigure[];
  /** A disabled poll with a broken config still exits 2. */
  badConfigExit: number;
  /** Bytes of JavaScript each command loads from the ESM bundle (the entry and its chunks). */
  loaded: { help: number; disabledPoll: number; total: number };
  /** Bytes of the startup snapshot blob. */
  snapshotBytes: number;
}

export interface ColdStartOptions {
  root: string;
  bundle: string;
  /** The startup snapshot the image runs (dist/afk.blob). */
  snapshot: string;
  /** The config the Kubernetes base ships (disarmed: killSwitch true). */
  shippedConfig: string;
  rounds: number;
  onProgress?: (line: string) => void;
}

/** The environment of a cold start: no AFK_* variable, so only the config file decides. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AFK_') && k !== 'NODE_OPTIONS'),
  );
}

/** Cumulative: each probe does what the one before it does, and one thing more. */
export const PROBES = [
  ['esm', 'an empty ES module: the ESM loader'],
  ['yaml', '+ reading the config file and parsing it: yaml'],
  ['config', "+ validating it: zod and afk's schema"],
  ['logger', "+ the one log line: afk's logger (pino)"],
  ['floor', '+ parsing `poll --config FILE`: commander'],
] as const;

async function bundleProbes(root: string, dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name] of PROBES) {
    const outfile = join(dir, `${name}.mjs`);
    await build({
      entryPoints: [join(root, 'tools/bench/probes', `${name}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      logLevel: 'error',
      // As `npm run bundle`: CommonJS dependencies (pino) call require for Node built-ins.
      banner: {
        js: "import{createRequire as __afkCreateRequire}from'node:module';const require=__afkCreateRequire(import.meta.url);",
      },
    });
    out[name] = outfile;
  }
  return out;
}

export async function measureColdStart(options: ColdStartOptions): Promise<ColdStartResult> {
  const { root, bundle, snapshot, shippedConfig, rounds } = options;
  // As the image runs it: `--` ends node's options, so that `--help` reaches afk.
  const fromSnapshot = ['--snapshot-blob', snapshot, '--'];
  const dir = mkdtempSync(join(tmpdir(), 'afk-bench-cold-'));
  const probes = await bundleProbes(root, dir);
  const badConfig = join(dir, 'bad.yaml');
  writeFileSync(badConfig, 'killSwitch: maybe\n');

  const baselineCase: ColdStartCase = {
    name: 'node -e 0',
    what: 'bare Node: the baseline',
    args: ['-e', '0'],
    probe: false,
  };
  const cases: ColdStartCase[] = [
    {
      name: 'afk --help',
      what: 'the startup snapshot (dist/afk.blob), as the image runs it',
      args: [...fromSnapshot, '--help'],
      probe: false,
    },
    {
      name: 'afk poll (disabled)',
      what: 'the snapshot, with the shipped k8s/base/afk.yaml (killSwitch: true)',
      args: [...fromSnapshot, 'poll', '--config', shippedConfig],
      probe: false,
    },
    {
      name: 'afk --help (ESM bundle)',
      what: 'the ESM bundle (dist/afk.mjs), as npm users run it',
      args: [bundle, '--help'],
      probe: false,
      comparison: true,
    },
    {
      name: 'afk poll (disabled) (ESM bundle)',
      what: 'the ESM bundle, with the shipped k8s/base/afk.yaml',
      args: [bundle, 'poll', '--config', shippedConfig],
      probe: false,
      comparison: true,
    },
    ...PROBES.map(([name, what]) => ({
      name: `probe: ${name}`,
      what,
      args: [probes[name] ?? '', shippedConfig],
      probe: true,
    })),
  ];
  const env = cleanEnv();
  const all = [baselineCase, ...cases];
  const times = all.map((): number[] => []);
  for (let round = 0; round < rounds; round += 1) {
    // Rotate the order each round, so that no case always runs right after another.
    for (let k = 0; k < all.length; k += 1) {
      const i = (k + round) % all.length;
      const c = all[i] as ColdStartCase;
      const run = await spawnTimed(c.args, { env, cwd: root });
      if (run.exitCode !== 0) {
        throw new Error(
          `bench: ${c.name} exited ${run.exitCode}: ${run.stderr.trim().slice(0, 400)}`,
        );
      }
      times[i]?.push(run.wallMs);
    }
    options.onProgress?.(`cold start: round ${round + 1}/${rounds}`);
  }
  const bad = await spawnTimed([...fromSnapshot, 'poll', '--config', badConfig], {
    env,
    cwd: root,
  });

  const base = times[0] ?? [];
  const figure = (c: ColdStartCase, ms: number[]): ColdStartFigure => {
    const [q1, , q3] = quartiles(ms);
    return {
      case: c,
      medianMs: median(ms),
      q1Ms: q1,
      q3Ms: q3,
      ratio: median(ms.map((t, r) => t / (base[r] ?? Number.NaN))),
    };
  };
  return {
    rounds,
    baseline: figure(baselineCase, base),
    figures: cases.map((c, i) => figure(c, times[i + 1] ?? [])),
    badConfigExit: bad.exitCode,
    loaded: loadedBytes(bundle),
    snapshotBytes: statSync(snapshot).size,
  };
}

/**
 * What each command loads: the entry, plus for a tick the chunks the entry's `poll` import
 * reaches through static imports. Read from the files, so it follows whatever esbuild split.
 */
function loadedBytes(bundle: string): ColdStartResult['loaded'] {
  const dir = dirname(bundle);
  const size = (file: string) => readFileSync(file).byteLength;
  const staticImports = (file: string) =>
    [
      ...readFileSync(file, 'utf8').matchAll(/^import\s*(?:[^'"]*?from\s*)?["'](\.\/[^"']+)["']/gm),
    ].map((m) => join(dirname(file), m[1] ?? ''));
  const closure = (start: string) => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length > 0) {
      const file = stack.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      stack.push(...staticImports(file));
    }
    return seen;
  };
  const entry = closure(bundle);
  const pollChunk = /import\("(\.\/chunks\/poll-[^"]+)"\)/.exec(readFileSync(bundle, 'utf8'))?.[1];
  const poll = pollChunk === undefined ? new Set<string>() : closure(join(dir, pollChunk));
  const sum = (files: Iterable<string>) => [...files].reduce((n, f) => n + size(f), 0);
  return {
    help: sum(entry),
    disabledPoll: sum(new Set([...entry, ...poll])),
    total: sum(allFiles(bundle)),
  };
}

function allFiles(bundle: string): string[] {
  const dir = join(dirname(bundle), 'chunks');
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.mjs')) : [];
  return [bundle, ...names.map((n) => join(dir, n))];
}
