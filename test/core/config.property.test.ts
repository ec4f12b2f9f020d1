// Property tests of the config loader, through the real CLI: a config file on disk and the
// environment, fed wrong types, unknown keys, huge values and bad overrides. Every case must
// end the same way: exit 2, nothing on stdout, and one error log line listing each problem as
// `path: message` where the path names the key or the environment variable. Never a crash,
// never a stack trace. The keys are read off the schema, so a key added later is covered.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema, logLevels, parseConfig } from '../../src/core/index.js';
import { runCli, type CliResult } from '../support/cli.js';

interface Leaf {
  /** `dispatch.maxConcurrentRuns` */
  path: string;
  schema: JsonSchema;
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  maxLength?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
  items?: JsonSchema;
}

const jsonSchema = z.toJSONSchema(configSchema, {
  io: 'input',
  unrepresentable: 'any',
}) as JsonSchema;

function leavesOf(schema: JsonSchema, prefix: string[] = []): Leaf[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, child]) =>
    child.type === 'object' && child.properties !== undefined
      ? leavesOf(child, [...prefix, key])
      : [{ path: [...prefix, key].join('.'), schema: child }],
  );
}

const leaves = leavesOf(jsonSchema);
const sections = Object.entries(jsonSchema.properties ?? {})
  .filter(([, s]) => s.type === 'object' && s.properties !== undefined)
  .map(([key, s]) => ({ key, names: Object.keys(s.properties ?? {}) }));

const allowedTypes = (schema: JsonSchema): Set<string> => {
  const types = new Set<string>();
  for (const option of schema.anyOf ?? [schema]) {
    if (option.type !== undefined) types.add(option.type);
  }
  return types;
};

/** A value of a JSON type the key does not take (and, for choices, a word it does not know). */
function wrongValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const allowed = allowedTypes(schema);
  const choices = (schema.anyOf ?? [schema]).flatMap((o) => [
    ...(o.enum ?? []),
    ...(o.const === undefined ? [] : [o.const]),
  ]);
  const options: Array<fc.Arbitrary<unknown>> = [];
  if (!allowed.has('boolean')) options.push(fc.boolean());
  if (!allowed.has('integer') && !allowed.has('number')) options.push(fc.integer());
  if (allowed.has('integer')) {
    options.push(
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
    );
  }
  if (!allowed.has('string')) options.push(fc.string({ maxLength: 20 }));
  else if (choices.length > 0 && [...allowed].every((t) => t === 'string')) {
    options.push(fc.string({ maxLength: 20 }).filter((s) => !choices.includes(s)));
  }
  if (!allowed.has('array')) options.push(fc.array(fc.integer(), { maxLength: 3 }));
  if (!allowed.has('object'))
    options.push(fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }));
  if (!allowed.has('null')) options.push(fc.constant(null));
  return fc.oneof(...options);
}

/** A value past the key's bound: too long, too many, too large. */
function hugeValue(schema: JsonSchema): fc.Arbitrary<unknown> | null {
  const options: Array<fc.Arbitrary<unknown>> = [];
  for (const option of schema.anyOf ?? [schema]) {
    if (option.type === 'string' && option.maxLength !== undefined) {
      const max = option.maxLength;
      const prefix = option.format === 'uri' ? 'https://example.test/' : '/';
      options.push(
        fc.integer({ min: max + 1, max: max * 4 + 1_000 }).map((n) => `${prefix}${'a'.repeat(n)}`),
      );
    }
    if (option.type === 'integer' && option.maximum !== undefined) {
      options.push(fc.integer({ min: option.maximum + 1, max: Number.MAX_SAFE_INTEGER }));
      options.push(fc.constantFrom(1e21, 2 ** 60, Number.MAX_VALUE));
    }
    if (option.type === 'array' && option.maxItems !== undefined) {
      const max = option.maxItems;
      options.push(
        fc
          .integer({ min: max + 1, max: max + 50 })
          .map((n) => Array.from({ length: n }, (_, i) => `o${i}/r${i}`)),
      );
    }
  }
  return options.length === 0 ? null : fc.oneof(...options);
}

/** `{a: {b: value}}` for `a.b`. */
const nest = (path: string, value: unknown): Record<string, unknown> =>
  path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;

const dir = mkdtempSync(join(tmpdir(), 'afk-config-property-'));
let files = 0;
function configFile(content: unknown): string {
  const file = join(dir, `afk-${(files += 1)}.yaml`);
  writeFileSync(file, typeof content === 'string' ? content : stringify(content));
  return file;
}

interface LogLine {
  level: string;
  msg: string;
  problems?: string[];
}

/**
 * Exit 2, nothing on stdout, one error line on stderr; its problems are one line each,
 * `path: message`, and one names `where` (a key path, an environment variable, or `(yaml)`
 * for the file's syntax, where the path is a line and column). `null`: any path.
 */
function expectUsageError(result: CliResult, where: string | null): string[] {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/\n\s+at\s/);
  expect(result.stderr).not.toContain('unexpected error');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0] ?? '') as LogLine;
  expect(line.level).toBe('error');
  expect(line.msg).toMatch(/^invalid configuration/);
  const problems = line.problems ?? [];
  expect(problems.length).toBeGreaterThan(0);
  for (const problem of problems) {
    expect(problem).not.toContain('\n');
    expect(problem).toMatch(/^\S[^\n]*?: \S/);
    // Bounded, however large the value was.
    expect(problem.length).toBeLessThan(400);
  }
  if (where === null) return problems;
  const named = problems.some(
    (p) =>
      p.startsWith(`${where}: `) ||
      p.startsWith(`${where}.`) ||
      (where === '(yaml)' && p.startsWith('(yaml) line ')),
  );
  expect(named, `no problem names ${where}: ${problems.join(' | ')}`).toBe(true);
  return problems;
}

const poll = (file: string, env: Record<string, string> = {}) =>
  runCli(['poll', '--config', file], { env });

const leafArb = fc.constantFrom(...leaves);

/** An environment value as a problem quotes it: JSON, cut at 40 characters. */
const shown = (value: string): string => {
  const chars = Array.from(value);
  return JSON.stringify(chars.length > 40 ? `${chars.slice(0, 39).join('')}…` : value);
};
const RUNS = { numRuns: 120 };

describe('the config loader under hostile input', () => {
  it('reads the keys off the schema', () => {
    expect(leaves.map((l) => l.path)).toEqual(
      expect.arrayContaining(['killSwitch', 'repos', 'dispatch.maxConcurrentRuns', 't3.url']),
    );
    expect(leaves.length).toBeGreaterThan(30);
  });

  it('refuses a value of the wrong type at any key, naming the key', async () => {
    await fc.assert(
      fc.asyncProperty(
        leafArb.chain((leaf) => fc.tuple(fc.constant(leaf), wrongValue(leaf.schema))),
        async ([leaf, value]) => {
          expectUsageError(await poll(configFile(nest(leaf.path, value))), leaf.path);
        },
      ),
      RUNS,
    );
  });

  it('refuses a huge value at any bounded key, naming the key, without echoing it', async () => {
    const bounded = leaves.filter((leaf) => hugeValue(leaf.schema) !== null);
    expect(bounded.length).toBeGreaterThan(20);
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...bounded)
          .chain((leaf) =>
            fc.tuple(fc.constant(leaf), hugeValue(leaf.schema) as fc.Arbitrary<unknown>),
          ),
        async ([leaf, value]) => {
          expectUsageError(await poll(configFile(nest(leaf.path, value))), leaf.path);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses unknown keys at the top and in every section, each at its own path', async () => {
    const known = new Set([
      ...Object.keys(jsonSchema.properties ?? {}),
      ...sections.flatMap((s) => s.names),
      '__proto__',
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(null, ...sections.map((s) => s.key)),
        fc
          .oneof(
            fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,20}$/),
            fc.string({ minLength: 1, maxLength: 30 }),
            fc.string({ minLength: 61, maxLength: 3_000 }),
          )
          .filter((k) => !known.has(k)),
        async (section, key) => {
          const content = section === null ? { [key]: 1 } : { [section]: { [key]: 1 } };
          const problems = expectUsageError(await poll(configFile(content)), section);
          expect(
            problems.filter((p) => /: unknown key( \(did you mean \S+\?\))?$/.test(p)),
          ).toHaveLength(1);
        },
      ),
      RUNS,
    );
  });

  it('names a key that is not a plain word in quotes, cut short', async () => {
    const long = 'k'.repeat(5_000);
    const problems = expectUsageError(
      await poll(configFile({ t3: { 'a\nb': 1, [long]: 2, 'model:x': 3 } })),
      't3',
    );
    expect(problems).toEqual([
      't3."a\\nb": unknown key',
      `t3."${'k'.repeat(59)}…": unknown key`,
      't3.model:x: unknown key',
    ]);
  });

  it('refuses a bad AFK_KILL_SWITCH, naming it, whatever the file says', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ maxLength: 80 })
          .filter((s) => !['', 'true', 'false'].includes(s.trim().toLowerCase())),
        async (value) => {
          const problems = expectUsageError(
            await poll(configFile({ killSwitch: true }), { AFK_KILL_SWITCH: value }),
            'AFK_KILL_SWITCH',
          );
          expect(problems[0]?.length).toBeLessThan(120);
        },
      ),
      RUNS,
    );
  });

  it('refuses a bad AFK_LOG_LEVEL without the logger falling over', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ minLength: 1, maxLength: 30 })
          .filter((s) => !(logLevels as readonly string[]).includes(s)),
        async (value) => {
          expectUsageError(await poll(configFile({}), { AFK_LOG_LEVEL: value }), 'AFK_LOG_LEVEL');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a bad repo in AFK_REPOS, naming the entry and the variable', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.stringMatching(/^[a-z]{1,8}\/[a-z]{1,8}$/), { maxLength: 3 }),
        fc
          .string({ minLength: 1, maxLength: 40 })
          .filter(
            (s) =>
              !s.includes(',') &&
              s.trim() !== '' &&
              !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(s.trim()),
          ),
        async (good, bad) => {
          const repos = [...new Set(good)];
          const problems = expectUsageError(
            await poll(configFile({}), { AFK_REPOS: [...repos, bad].join(',') }),
            'AFK_REPOS',
          );
          expect(problems).toContain(
            `AFK_REPOS: entry ${repos.length + 1} (${shown(bad.trim())}): expected "owner/name"`,
          );
        },
      ),
      RUNS,
    );
  });

  it('refuses an AFK_T3_URL that is not an http(s) URL, naming the variable', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .string({ minLength: 1, maxLength: 40 })
            .filter((s) => s.trim() !== '' && !s.includes('://')),
          fc.constantFrom('ftp://t3.test', 'file:///etc/passwd', 'javascript:alert(1)'),
          fc.integer({ min: 2_100, max: 10_000 }).map((n) => `https://t3.test/${'p'.repeat(n)}`),
        ),
        async (value) => {
          const problems = expectUsageError(
            await poll(configFile({}), { AFK_T3_URL: value }),
            'AFK_T3_URL',
          );
          // Never the value: a URL may carry credentials.
          const named = problems.filter((p) => p.startsWith('AFK_T3_URL: '));
          expect(named.length).toBeGreaterThan(0);
          for (const problem of named) {
            expect(problem).toMatch(
              /^AFK_T3_URL: (expected an http\(s\) URL|at most 2048 characters)$/,
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a missing AFK_CONFIG file, naming the variable', async () => {
    const result = await runCli(['poll'], { env: { AFK_CONFIG: join(dir, 'nope.yaml') } });
    expectUsageError(result, 'AFK_CONFIG');
  });

  it.each([
    [
      'an alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
    ],
    ['nesting ten thousand deep', `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
    ['binary junk', '\u0000\u0001\uFFFD\u00FFkillSwitch: [\u0007'],
    ['a list at the top level', '- killSwitch: false\n'],
    ['two documents', 'killSwitch: true\n---\nkillSwitch: false\n'],
    ['a duplicate key', 'killSwitch: true\nkillSwitch: false\n'],
  ])('refuses %s as a YAML problem, exit 2', async (_name, text) => {
    const result = await poll(configFile(text));
    expectUsageError(result, result.stderr.includes('(top level)') ? '(top level)' : '(yaml)');
  });

  it('refuses a file over a megabyte without reading it into the config', async () => {
    const result = await poll(configFile(`# ${'x'.repeat(1024 * 1024)}\nkillSwitch: true\n`));
    expectUsageError(result, '--config');
  });

  it('ends any YAML text in exit 0 (disarmed) or 2, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (text) => {
        const result = await poll(configFile(text), { AFK_KILL_SWITCH: 'true' });
        expect([0, 2]).toContain(result.code);
        expect(result.stderr).not.toMatch(/\n\s+at\s/);
        expect(result.stderr).not.toContain('unexpected error');
      }),
      RUNS,
    );
  });
});

describe('parseConfig', () => {
  it('never throws, and lists every problem as a one-line `path: message`', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue(), fc.object()),
        fc.record(
          {
            AFK_KILL_SWITCH: fc.string({ maxLength: 10 }),
            AFK_REPOS: fc.string({ maxLength: 30 }),
            AFK_T3_URL: fc.string({ maxLength: 30 }),
            AFK_LOG_LEVEL: fc.string({ maxLength: 10 }),
          },
          { requiredKeys: [] },
        ),
        (raw, env) => {
          const parsed = parseConfig(raw, env);
          if (parsed.ok) return;
          expect(parsed.problems.length).toBeGreaterThan(0);
          for (const problem of parsed.problems) {
            expect(problem).not.toContain('\n');
            expect(problem).toMatch(/^\S[^\n]*?: \S/);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
