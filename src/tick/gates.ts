// The config a command runs with, the repos it covers, and the gates a tick passes first.
import { loadConfig } from '../adapters/config-file.js';
import type { Logger } from '../adapters/log.js';
import { ConfigError, tickGate, type Config, type RepoName } from '../core/index.js';
import { EXIT, type Runtime, type TickFlags } from './runtime.js';

export type Prepared =
  | { open: false; reason: string }
  | { open: true; config: Config; repos: RepoName[]; killSwitch: boolean };

/**
 * The config and the repos a command covers: the allowlist, or the one `--repo` names, which
 * must be on it (a way to narrow a run, never around the allowlist).
 */
export async function loadScope(
  flags: { config?: string; repo?: string },
  runtime: Runtime,
): Promise<{ config: Config; repos: RepoName[] }> {
  const { config } = await loadConfig({ flag: flags.config, env: runtime.env, cwd: runtime.cwd });
  if (flags.repo === undefined) return { config, repos: config.repos };
  const wanted = flags.repo.toLowerCase();
  const match = config.repos.find((r) => r.toLowerCase() === wanted);
  if (match === undefined) {
    throw new ConfigError([`--repo: ${flags.repo} is not in the allowlist (repos / AFK_REPOS)`]);
  }
  return { config, repos: [match] };
}

/**
 * Loads the config and checks the gates; a closed gate means zero network requests. A dry run
 * passes the kill switch (it writes nothing) and carries it on to say so.
 */
export async function prepareTick(flags: TickFlags, runtime: Runtime): Promise<Prepared> {
  const { config, repos } = await loadScope(flags, runtime);
  const gate = tickGate(config, flags.mode);
  if (!gate.open) return gate;
  return { open: true, config, repos, killSwitch: gate.killSwitch };
}

/** A closed gate: one log line, no request, exit 0 (and a JSON object for machines). */
export function reportDisabled(
  command: string,
  reason: string,
  flags: TickFlags,
  runtime: Runtime,
  log: Logger,
): number {
  log.info({ command, gate: reason }, `${command}: disabled: ${reason}`);
  if (flags.output === 'json') {
    runtime.stdout.write(`${JSON.stringify({ command, disabled: reason, exitCode: 0 })}\n`);
  }
  return EXIT.ok;
}
