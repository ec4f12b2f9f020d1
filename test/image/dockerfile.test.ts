// There is no Docker engine in CI, so the image is checked in two halves: the Dockerfile's
// essentials are read from the file, and the artefact it ships is built and run the way the
// image lays it out (the final stage's COPY destinations, then its RUN that builds the startup
// snapshot and the `afk` launcher, with the image's absolute paths moved into a temporary
// directory), without node_modules, which is all the image has.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

interface Instruction {
  keyword: string;
  args: string;
}

/** Joins continuation lines, drops comments, splits `KEYWORD args`. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  return logical
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [keyword = '', ...rest] = l.trim().split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

function splitStages(instructions: Instruction[]): Instruction[][] {
  const stages: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

const instructions = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const stages = splitStages(instructions);
const build = stages[0] ?? [];
const final = stages.at(-1) ?? [];
const runs = (stage: Instruction[]) => stage.filter((i) => i.keyword === 'RUN').map((i) => i.args);

/** `COPY --from=build /src/a /app/b` → { from: 'build', source: '/src/a', dest: '/app/b' } */
const finalCopies = final
  .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
  .map((i) => {
    const words = i.args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    return { keyword: i.keyword, from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
  });

/** The final stage's `node --snapshot-blob BLOB --build-snapshot ENTRY`. */
const snapshotBuild = runs(final)
  .map((r) => /\bnode --snapshot-blob (\S+) --build-snapshot (\S+)/.exec(r))
  .find((m) => m !== null)
  ?.slice(1);
const blob = snapshotBuild?.[0] ?? '';
const entryDest = finalCopies.find((c) => c.sources[0] === '/src/dist/afk-snapshot.cjs')?.dest;
const entrypoint = final
  .filter((i) => i.keyword === 'ENTRYPOINT')
  .map((i) => JSON.parse(i.args) as string[])
  .at(-1);

describe('Dockerfile', () => {
  it('is multi-stage: a named Node 20 build stage and a Node 20 runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build[0]?.args).toMatch(/^node:20[\w.-]*\s+AS\s+build$/i);
    expect(final[0]?.args).toMatch(/^node:20[\w.-]*$/);
  });

  it('installs from the lock file in the build stage', () => {
    expect(runs(build).some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(build.some((i) => i.keyword === 'COPY' && i.args.includes('package-lock.json'))).toBe(
      true,
    );
  });

  it('builds and checks the ESM bundle, and bundles the snapshot entry, in the build stage', () => {
    expect(runs(build).some((r) => /\bnpm run bundle\b/.test(r))).toBe(true);
    expect(runs(build).some((r) => /\bnpm run snapshot:entry\b/.test(r))).toBe(true);
  });

  it('copies only the snapshot entry and package.json from the build stage', () => {
    expect(finalCopies.length).toBeGreaterThan(0);
    for (const copy of finalCopies) {
      expect(copy.keyword).toBe('COPY');
      expect(copy.from).toBe('build');
    }
    expect(finalCopies.flatMap((c) => c.sources).sort()).toEqual([
      '/src/dist/afk-snapshot.cjs',
      '/src/package.json',
    ]);
  });

  it('builds the blob in the runtime stage, with the node that runs it, from the entry', () => {
    // A blob only starts on the Node binary that built it: the build stage's is another image.
    expect(snapshotBuild).toBeDefined();
    expect(snapshotBuild?.[1]).toBe(entryDest);
  });

  it('keeps package.json one directory above the blob (cli.ts reads ../package.json)', () => {
    const manifest = finalCopies.find((c) => c.sources[0] === '/src/package.json')?.dest ?? '';
    expect(manifest).toBe(join(dirname(dirname(blob)), 'package.json'));
  });

  it('installs /usr/local/bin/afk as a launcher of the snapshot (the CronJobs run `afk`)', () => {
    const launcher = runs(final).find((r) => r.includes('> /usr/local/bin/afk'));
    expect(launcher).toContain(`exec node --snapshot-blob ${blob} -- "$@"`);
    expect(runs(final).some((r) => /chmod\s+0?755\s+\/usr\/local\/bin\/afk/.test(r))).toBe(true);
  });

  it('runs as a numeric non-root user', () => {
    const users = final.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    const last = users.at(-1) ?? '';
    expect(last).toMatch(/^\d+(:\d+)?$/);
    expect(Number(last.split(':')[0])).toBeGreaterThan(0);
  });

  it('starts node on the blob, with `--` so that --help and --version reach afk', () => {
    expect(entrypoint).toEqual(['node', '--snapshot-blob', blob, '--']);
  });

  it('sets NODE_ENV=production in the runtime', () => {
    expect(final.some((i) => i.keyword === 'ENV' && /\bNODE_ENV=production\b/.test(i.args))).toBe(
      true,
    );
  });

  it('bakes in no secret: no token, key, password or webhook in ENV or ARG', () => {
    const settings = instructions.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG');
    for (const setting of settings) {
      expect(setting.args).not.toMatch(/TOKEN|SECRET|PASSWORD|PASSWD|KEY|WEBHOOK|CREDENTIAL/i);
    }
    expect(instructions.some((i) => /--secret|\.npmrc|\.env\b/.test(i.args))).toBe(false);
  });

  it('has an allow-list .dockerignore that keeps node_modules, dist and dotfiles out', () => {
    const lines = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    expect(allowed.sort()).toEqual(['package-lock.json', 'package.json', 'src/', 'tsconfig.json']);
  });
});

describe('the snapshot, laid out as in the image (no node_modules)', () => {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AFK_') && k !== 'NODE_PATH'),
  );
  let image: string;
  /** An absolute path of the image, inside the temporary directory. */
  const at = (path: string) => join(image, path);
  /** The ENTRYPOINT as it runs in the temporary layout. */
  const entry = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const [command = '', ...rest] = entrypoint ?? [];
    return spawnSync(
      command === 'node' ? process.execPath : command,
      [...rest.map((a) => (a.startsWith('/') ? at(a) : a)), ...args],
      {
        cwd: at('/app'),
        env: { ...env, NODE_ENV: 'production', ...extra },
        timeout: 15_000,
        encoding: 'utf8',
      },
    );
  };

  beforeAll(() => {
    execFileSync('npm', ['run', 'snapshot:entry', '--silent'], {
      cwd: root,
      stdio: 'pipe',
      timeout: 60_000,
    });
    image = mkdtempSync(join(tmpdir(), 'afk-image-'));
    for (const copy of finalCopies) {
      const source = join(root, (copy.sources[0] ?? '').replace(/^\/src\//, ''));
      const dest = at(copy.dest);
      mkdirSync(dirname(dest), { recursive: true });
      cpSync(source, dest, { recursive: true });
    }
    mkdirSync(at('/usr/local/bin'), { recursive: true });
    // The final stage's RUN that builds the blob and the launcher, and runs them, as written,
    // with the image's paths moved into the temporary directory and this node on the PATH.
    const build = runs(final).find((r) => r.includes('--build-snapshot')) ?? '';
    const script = build.replaceAll(/(^|[\s'"])\/(app|usr\/local\/bin)\//g, `$1${image}/$2/`);
    execFileSync('sh', ['-c', script], {
      cwd: image,
      env: { ...env, PATH: `${at('/usr/local/bin')}:${dirname(process.execPath)}:/usr/bin:/bin` },
      stdio: 'pipe',
      timeout: 60_000,
    });
  }, 90_000);

  afterAll(() => {
    rmSync(image, { recursive: true, force: true });
  });

  it('has no node_modules anywhere Node would look for one', () => {
    let dir = dirname(at(blob));
    while (true) {
      expect(existsSync(join(dir, 'node_modules')), join(dir, 'node_modules')).toBe(false);
      if (dir === parse(dir).root) break;
      dir = dirname(dir);
    }
  });

  it('keeps the blob and package.json only: the entry is removed once snapshotted', () => {
    expect(existsSync(at(blob))).toBe(true);
    expect(existsSync(at(entryDest ?? ''))).toBe(false);
    expect(readdirSync(at('/app')).sort()).toEqual(['dist', 'package.json']);
  });

  it('bundles everything into the entry: it requires Node built-ins only (msw stays out)', () => {
    const text = readFileSync(join(root, 'dist/afk-snapshot.cjs'), 'utf8');
    const required = [...text.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((m) => m[1] ?? '');
    expect(required.length).toBeGreaterThan(0);
    for (const specifier of required) {
      expect(builtinModules, specifier).toContain(specifier.replace(/^node:/, ''));
    }
    expect(text).not.toMatch(/^\/\/ node_modules\/msw\//m);
  });

  it('prints the version from package.json through the afk launcher', () => {
    const out = execFileSync(at('/usr/local/bin/afk'), ['--version'], {
      cwd: at('/app'),
      env,
      timeout: 15_000,
    });
    expect(out.toString().trim()).toBe(pkg.version);
  });

  it("prints afk's help, not node's, through the ENTRYPOINT", () => {
    const result = entry(['--help']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Usage: afk /);
  });

  it('runs a disarmed poll through the ENTRYPOINT: exit 0, one log line, nothing on stdout', () => {
    const before = Date.now();
    const result = entry(['poll']);
    const after = Date.now();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '') as { time: string; gate: string };
    expect(line).toMatchObject({ level: 'info', command: 'poll' });
    expect(lines[0]).toContain('disabled');
    // The clock is read when afk runs, not when the blob was built.
    expect(Date.parse(line.time)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(line.time)).toBeLessThanOrEqual(after + 1000);
  });

  it('reads the environment when it runs, not when the blob was built', () => {
    const config = at('/app/armed.yaml');
    writeFileSync(config, 'killSwitch: false\nrepos: []\n');
    const gate = (extra: NodeJS.ProcessEnv) => {
      const result = entry(['poll', '--config', config], extra);
      expect(result.status, result.stderr).toBe(0);
      return result.stderr;
    };
    expect(gate({})).toContain('no repos are allow-listed');
    expect(gate({ AFK_KILL_SWITCH: 'true' })).toContain('kill switch is on');
    expect(gate({ AFK_LOG_LEVEL: 'warn' })).toBe('');
  });

  it('still rejects a bad config: exit 2', () => {
    const config = at('/app/bad.yaml');
    writeFileSync(config, 'killSwitch: maybe\n');
    expect(entry(['poll', '--config', config]).status).toBe(2);
  });
});

describe('the ESM bundle (npm run bundle), which the build stage checks', () => {
  let bundle: string;

  beforeAll(() => {
    execFileSync('npm', ['run', 'bundle', '--silent'], {
      cwd: root,
      stdio: 'pipe',
      timeout: 60_000,
    });
    bundle = join(root, 'dist/afk.mjs');
  }, 90_000);

  it('imports nothing but Node built-ins and its own chunks (msw stays out)', () => {
    const files = bundleFiles(bundle);
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('node:')) continue;
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\.?\//);
        expect(existsSync(join(dirname(file), specifier)), `${file} imports ${specifier}`).toBe(
          true,
        );
      }
    }
  });

  it('starts on commander alone: zod, yaml, pino, Octokit and ky load with a command', () => {
    // esbuild marks where each module starts (`// node_modules/zod/...`) in the unminified
    // bundle: what the entry reaches through static imports is what --help loads.
    const heavy = /^\/\/ node_modules\/(zod|yaml|pino|@octokit|ky)\//gm;
    const found = (text: string) => [...new Set([...text.matchAll(heavy)].map((m) => m[1]))];
    const all = bundleFiles(bundle).map((f) => readFileSync(f, 'utf8'));
    expect(found(all.join('\n')).sort()).toEqual(['@octokit', 'ky', 'pino', 'yaml', 'zod']);
    const startup = staticClosure(bundle)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    expect(found(startup)).toEqual([]);
    expect(startup).toMatch(/^\/\/ node_modules\/commander\//m);
  });
});

/** The bundle's entry and every chunk beside it. */
function bundleFiles(entry: string): string[] {
  const chunks = join(dirname(entry), 'chunks');
  return [entry, ...readdirSync(chunks).map((name) => join(chunks, name))];
}

/** Every module specifier a bundle file imports, statically or with import(). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const statics = [...text.matchAll(/^import\s*(?:[^'"]*?from\s*)?['"]([^'"]+)['"]/gm)];
  const dynamics = [...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return [...statics, ...dynamics].map((m) => m[1] ?? '');
}

/** The files Node loads before the entry's code runs: its static imports, transitively. */
function staticClosure(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^import\s*(?:[^'"]*?from\s*)?['"](\.[^'"]+)['"]/gm)) {
      stack.push(join(dirname(file), m[1] ?? ''));
    }
  }
  return [...seen];
}
