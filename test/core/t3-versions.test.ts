import { describe, expect, it } from 'vitest';
import {
  checkRuntimeModeSupport,
  isT3VersionAtLeast,
  type RuntimeMode,
} from '../../src/core/index.js';

describe('isT3VersionAtLeast', () => {
  it.each([
    ['0.0.30', true],
    ['v0.0.30', true],
    ['0.0.31', true],
    ['0.1.0', true],
    ['0.0.29', false],
    ['0.0.30-nightly.20260720.1', false],
    ['0.0.31-nightly.20260801.3', true],
    ['0.0.30+build.5', true],
    ['dev', undefined],
    ['0.0', undefined],
  ])('compares %s with 0.0.30: %s', (version, atLeast) => {
    expect(isT3VersionAtLeast(version, [0, 0, 30])).toBe(atLeast);
  });
});

describe('checkRuntimeModeSupport', () => {
  it.each<[RuntimeMode, string, ReturnType<typeof checkRuntimeModeSupport>]>([
    ['full-access', '0.0.27', { ok: true }],
    ['approval-required', 'not-a-version', { ok: true }],
    ['auto', '0.0.30', { ok: true }],
    ['auto', '0.0.33', { ok: true }],
    [
      'auto',
      '0.0.29',
      { ok: false, reason: 'runtimeMode auto needs T3 0.0.30 or later; this server is 0.0.29' },
    ],
    [
      'auto',
      '0.0.30-nightly.20260720.1',
      {
        ok: false,
        reason:
          'runtimeMode auto needs T3 0.0.30 or later; this server is 0.0.30-nightly.20260720.1',
      },
    ],
    [
      'auto',
      'dev',
      {
        ok: false,
        reason:
          'runtimeMode auto needs T3 0.0.30 or later; this server is not a version afk can read',
      },
    ],
  ])('%s on T3 %s: %j', (mode, version, expected) => {
    expect(checkRuntimeModeSupport(mode, version)).toEqual(expected);
  });
});
