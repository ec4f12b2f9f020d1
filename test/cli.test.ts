// The program's own surface: what `--help` tells a newcomer, and how a config or usage error
// reaches a machine reading `--output json`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

const VARIABLE = /\b(?:AFK_[A-Z0-9_]+|GITHUB_TOKEN)\b/g;

/** The lines of a `Heading:` section of the help, up to the next blank line. */
function helpSection(help: string, heading: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${heading}:`);
  expect(start, `the help has a "${heading}:" section`).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.trim() === '');
  return end < 0 ? rest : rest.slice(0, end);
}

/** The variables README's `### Environment` table names, in its order. */
function readmeVariables(): string[] {
  const section = readme.slice(readme.indexOf('### Environment'));
  const rows = section
    .split('\n')
    .slice(1)
    .filter((line) => line.startsWith('|'));
  const names = rows.slice(2).flatMap((row) => row.split('|')[1]?.match(VARIABLE) ?? []);
  expect(names.length).toBeGreaterThan(5);
  return names;
}

describe('afk --help', () => {
  it('lists the environment variables of README’s Environment table, in its order', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    const names = helpSection(help.stdout, 'Environment').flatMap(
      (line) => line.match(VARIABLE) ?? [],
    );
    expect(names).toEqual(readmeVariables());
  });

  it('lists the exit codes, the signals included', async () => {
    const help = await runCli(['--help']);
    const codes = helpSection(help.stdout, 'Exit codes').map((line) => line.trim().split(/\s+/)[0]);
    expect(codes).toEqual(['0', '1', '2', '3', '130/143']);
    expect(help.stdout).toContain('interrupted by SIGINT (130) / SIGTERM (143)');
  });
});
