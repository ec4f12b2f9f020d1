// The program's own surface: what `--help` tells a newcomer, and how a config or usage error
// reaches a machine reading `--output json`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, writeConfig } from './support/cli.js';

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

describe('afk --output json on an error', () => {
  const badConfig = () => writeConfig({ killSwitch: true, kilSwitch: false });

  it.each([['poll'], ['watch'], ['status']])(
    'prints one JSON object for a config error of %s, and still logs it',
    async (command) => {
      const file = badConfig();
      const result = await runCli([command, '--config', file, '--output', 'json']);
      expect(result.code).toBe(2);
      expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
      expect(result.json).toEqual({
        command,
        exitCode: 2,
        error: {
          kind: 'config',
          message: `invalid configuration in ${file}:\n  kilSwitch: unknown key (did you mean killSwitch?)`,
          problems: ['kilSwitch: unknown key (did you mean killSwitch?)'],
        },
      });
      expect(result.stderr).toContain('kilSwitch: unknown key');
    },
  );

  it('names a bad environment variable in the JSON error', async () => {
    const result = await runCli(['poll', '--output', 'json'], {
      env: { AFK_KILL_SWITCH: 'maybe' },
    });
    expect(result.code).toBe(2);
    expect(result.json?.['error']).toMatchObject({
      kind: 'config',
      problems: ['AFK_KILL_SWITCH: expected "true" or "false", got "maybe"'],
    });
  });

  it('prints one JSON object for a usage error when --output json was asked for', async () => {
    const result = await runCli(['poll', '--output', 'json', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.json).toEqual({
      command: 'poll',
      exitCode: 2,
      error: { kind: 'usage', message: "error: unknown option '--frobnicate'" },
    });
    expect(result.stderr).toContain("unknown option '--frobnicate'");
  });
});
