// There is no Docker engine in CI, so the image is checked in two halves: the Dockerfile's
// essentials are read from the file, and the artefact it ships is built and run the way the
// image lays it out (the final stage's COPY destinations), in a directory without
// node_modules, which is all the image has.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
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

  it('builds the bundle in the build stage', () => {
    expect(runs(build).some((r) => /\bnpm run bundle\b/.test(r))).toBe(true);
  });

  it('copies only the bundle and package.json from the build stage into the runtime', () => {
    expect(finalCopies.length).toBeGreaterThan(0);
    for (const copy of finalCopies) {
      expect(copy.keyword).toBe('COPY');
      expect(copy.from).toBe('build');
    }
    expect(finalCopies.flatMap((c) => c.sources).sort()).toEqual([
      '/src/dist/afk.mjs',
      '/src/package.json',
    ]);
  });

  it('keeps package.json one directory above the bundle (cli.ts reads ../package.json)', () => {
    const bundle = finalCopies.find((c) => c.sources[0] === '/src/dist/afk.mjs')?.dest ?? '';
    const manifest = finalCopies.find((c) => c.sources[0] === '/src/package.json')?.dest ?? '';
    expect(manifest).toBe(join(dirname(dirname(bundle)), 'package.json'));
  });

  it('makes the bundle executable in the build stage', () => {
    expect(runs(build).some((r) => /chmod\s+0?755\s+dist\/afk\.mjs/.test(r))).toBe(true);
  });

  it('installs the bundle as /usr/local/bin/afk', () => {
    const bundle = finalCopies.find((c) => c.sources[0] === '/src/dist/afk.mjs')?.dest;
    expect(runs(final)).toContain(`ln -s ${bundle} /usr/local/bin/afk`);
  });

  it('runs as a numeric non-root user', () => {
    const users = final.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    const last = users.at(-1) ?? '';
    expect(last).toMatch(/^\d+(:\d+)?$/);
    expect(Number(last.split(':')[0])).toBeGreaterThan(0);
  });

  it('has ENTRYPOINT ["afk"]', () => {
    const entrypoints = final.filter((i) => i.keyword === 'ENTRYPOINT').map((i) => i.args);
    expect(entrypoints.map((e) => JSON.parse(e) as unknown)).toEqual([['afk']]);
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

describe('the bundle, laid out as in the image (no node_modules)', () => {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AFK_') && k !== 'NODE_PATH'),
  );
  let image: string;
  let bundle: string;
  let afk: string;

  beforeAll(() => {
    execFileSync('npm', ['run', 'bundle', '--silent'], {
      cwd: root,
      stdio: 'pipe',
      timeout: 60_000,
    });
    image = mkdtempSync(join(tmpdir(), 'afk-image-'));
    for (const copy of finalCopies) {
      const source = join(root, (copy.sources[0] ?? '').replace(/^\/src\//, ''));
      const dest = join(image, copy.dest);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(source, dest);
    }
    bundle = join(image, finalCopies.find((c) => c.sources[0] === '/src/dist/afk.mjs')?.dest ?? '');
    chmodSync(bundle, 0o755);
    afk = join(image, 'usr/local/bin/afk');
    mkdirSync(dirname(afk), { recursive: true });
    symlinkSync(bundle, afk);
  }, 90_000);

  afterAll(() => {
    rmSync(image, { recursive: true, force: true });
  });

  it('has no node_modules anywhere Node would look for one', () => {
    let dir = dirname(bundle);
    while (true) {
      expect(existsSync(join(dir, 'node_modules')), join(dir, 'node_modules')).toBe(false);
      if (dir === parse(dir).root) break;
      dir = dirname(dir);
    }
  });

  it('imports nothing but Node built-ins at load time (msw stays out)', () => {
    const text = readFileSync(bundle, 'utf8');
    const specifiers = [...text.matchAll(/^import\s*(?:[^'"]*?from\s*)?['"]([^'"]+)['"]/gm)].map(
      (m) => m[1],
    );
    expect(specifiers.length).toBeGreaterThan(0);
    for (const specifier of specifiers) expect(specifier).toMatch(/^node:/);
  });

  it('prints the version from package.json through the afk shim', () => {
    const out = execFileSync(afk, ['--version'], { cwd: image, env, timeout: 15_000 });
    expect(out.toString().trim()).toBe(pkg.version);
  });

  it('runs a disarmed poll: exit 0, one log line, nothing on stdout', () => {
    const result = spawnSync(process.execPath, [bundle, 'poll'], {
      cwd: image,
      env: { ...env, NODE_ENV: 'production' },
      timeout: 15_000,
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 'info', command: 'poll' });
    expect(lines[0]).toContain('disabled');
  });
});
