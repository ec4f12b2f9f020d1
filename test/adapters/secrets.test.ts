import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requiredSecret, secretConfigured, secretSource } from '../../src/adapters/secrets.js';
import { ConfigError } from '../../src/core/index.js';

const dir = mkdtempSync(join(tmpdir(), 'afk-secrets-'));
const spec = (file: string | undefined) => ({
  name: 'T3 token',
  fileKey: 't3.tokenFile',
  file,
  envVars: ['AFK_T3_TOKEN'],
});

describe('secretSource', () => {
  it('reads the file afresh on every call, so a rotated secret is used at once', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'first\n');
    const source = secretSource(spec(file), {});
    expect(await source()).toBe('first');
    writeFileSync(file, 'second');
    expect(await source()).toBe('second');
  });

  it('falls back to the environment when no file is configured', async () => {
    expect(await secretSource(spec(undefined), { AFK_T3_TOKEN: ' env-token ' })()).toBe(
      'env-token',
    );
    expect(await secretSource(spec(undefined), {})()).toBeUndefined();
  });

  it.each([
    [
      'a missing file',
      join(dir, 'absent'),
      /t3\.tokenFile: cannot read the T3 token file .*absent \(ENOENT\)/,
    ],
    [
      'an empty file',
      (() => {
        const f = join(dir, 'empty');
        writeFileSync(f, '  \n');
        return f;
      })(),
      /t3\.tokenFile: the T3 token file .*empty is empty/,
    ],
  ])(
    'reports %s as a configuration error naming the file, never a value',
    async (_name, file, message) => {
      const error = await secretSource(spec(file), {})().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
    },
  );

  it.each([
    ['a file, even one that is missing', spec(join(dir, 'absent')), {}, true],
    ['an environment variable', spec(undefined), { AFK_T3_TOKEN: 'env-token' }, true],
    ['a blank environment variable', spec(undefined), { AFK_T3_TOKEN: '  ' }, false],
    ['neither', spec(undefined), {}, false],
  ])('counts %s as configured: %s', (_name, given, env, configured) => {
    expect(secretConfigured(given, env)).toBe(configured);
  });

  it('requires a value where one is required', async () => {
    const error = await requiredSecret(spec(undefined), {})().catch((e: unknown) => e);
    expect((error as Error).message).toContain(
      't3.tokenFile: no T3 token configured (set one of t3.tokenFile, AFK_T3_TOKEN)',
    );
  });
});
