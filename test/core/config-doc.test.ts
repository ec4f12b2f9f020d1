import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../../src/core/index.js';

const BEGIN = '<!-- config-reference:begin (generated from src/core/config.ts; npm run docs) -->';
const END = '<!-- config-reference:end -->';

describe('the README config reference', () => {
  it('matches the schema afk enforces', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf(BEGIN);
    const end = readme.indexOf(END);
    expect(start, 'README.md lacks the config reference markers').toBeGreaterThanOrEqual(0);
    expect(readme.slice(start + BEGIN.length, end).trim()).toBe(renderConfigReference());
  });

  it('lists every key with its default', () => {
    const table = renderConfigReference();
    expect(table).toContain('| `killSwitch` | boolean | `true` |');
    expect(table).toContain('| `repos` | list of string | `[]` |');
    expect(table).toContain('| `tracker.tokenFile` | string | (none) |');
    expect(table).toContain(
      '| `trust.labelers` | write-access \\| any \\| list of string | `"write-access"` |',
    );
    expect(table).toContain('| `t3.modelLabels` | map | `{}` |');
  });
});
