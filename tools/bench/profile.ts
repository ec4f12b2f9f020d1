// Where a tick's time goes: one extra run under V8's sampling profiler (`node --cpu-prof`),
// each sample attributed to what its code came from. The bundle is not minified, and esbuild
// marks where every module starts (`// node_modules/zod/...`, `// src/core/dispatch.ts`), so a
// sample's function in a bundle file names its package or afk's own module.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TimeShare {
  /** A package (`json-with-bigint`), afk's own code (`afk src/core`), or a runtime bucket. */
  what: string;
  ms: number;
  share: number;
}

interface CallFrame {
  url: string;
  lineNumber: number;
  functionName: string;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** `--cpu-prof` flags that write the profile into a fresh directory. */
export function profilerFlags(): { flags: string[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'afk-bench-prof-'));
  return { flags: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '200'], dir };
}

/** What the code at each line of a bundle file came from, from esbuild's module markers. */
function originsOf(file: string): Array<[line: number, origin: string]> {
  const marks: Array<[number, string]> = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, line) => {
      const mark = /^\/\/ (node_modules\/(?:@[^/\s]+\/)?[^/\s]+|src\/[^/\s]+)/.exec(text);
      if (mark !== null) marks.push([line, originName(mark[1] ?? '')]);
    });
  return marks;
}

const originName = (path: string) =>
  path.startsWith('node_modules/') ? path.slice('node_modules/'.length) : `afk ${path}`;

/** V8's own buckets, and Node's built-in modules by what they do (fetch is undici). */
function runtimeBucket(frame: CallFrame): string | null {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(idle)') return 'idle: waiting for answers';
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(program)') return 'V8: compiling and running';
    // A native function (a RegExp, a write): counted to its caller.
    return null;
  }
  if (url.includes('/deps/undici/')) return 'Node: fetch (undici)';
  if (/^node:(internal\/(webstreams|streams|stream_base|net|dns|http)|net$)/.test(url)) {
    return 'Node: streams and sockets';
  }
  if (/^node:internal\/(modules|bootstrap|main|process|vm)/.test(url)) {
    return 'Node: start-up and module loading';
  }
  return 'Node: other built-ins';
}

/** Self time by origin, largest first; the bundle files are read to map lines to modules. */
export function attribute(profileDir: string): TimeShare[] {
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`bench: no CPU profile in ${profileDir}`);
  const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parents.set(child, node.id);
  }
  const origins = new Map<string, Array<[number, string]>>();
  const bundleOrigin = (frame: CallFrame): string | null => {
    if (!frame.url.startsWith('file:') || !frame.url.endsWith('.mjs')) return null;
    let marks = origins.get(frame.url);
    if (marks === undefined) {
      marks = originsOf(fileURLToPath(frame.url));
      origins.set(frame.url, marks);
    }
    let found: string | null = null;
    for (const [at, origin] of marks) {
      if (at > frame.lineNumber) break;
      found = origin;
    }
    // Before the first marker: a chunk's own top level (its imports, esbuild's helpers).
    return found ?? 'module top level';
  };
  const originOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const frame = frames.get(at);
      if (frame === undefined) break;
      const named = bundleOrigin(frame) ?? runtimeBucket(frame);
      if (named !== null) return named;
    }
    return 'V8: compiling and running';
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const origin = originOf(id);
    totals.set(origin, (totals.get(origin) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  return [...totals]
    .map(([what, us]) => ({ what, ms: us / 1000, share: all === 0 ? 0 : us / all }))
    .sort((a, b) => b.ms - a.ms);
}
