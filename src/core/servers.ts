// Where each repo's agents run: one T3 server (`t3.url`), or several (`t3.servers`), each
// with the repos whose checkouts live on it. Placement is the config's alone, so every tick
// (and every overlapping one) sends a repo's commands to the same server.
import type { Config } from './config.js';
import type { RepoName } from './types.js';

export interface T3ServerPlace {
  /** `t3` for the single server of `t3.url`. */
  name: string;
  url: string;
  tokenFile: string | undefined;
  /** Live runs it may host; null: no cap of its own (the single server). */
  capacity: number | null;
  /** The repos pinned to it; the single server hosts every repo. */
  repos: readonly RepoName[];
}

/** Is this config's T3 one server (`t3.url`) or several (`t3.servers`)? */
export const hasT3Servers = (config: Pick<Config, 't3'>): boolean =>
  config.t3.servers !== undefined;

export function t3ServersOf(config: Pick<Config, 't3' | 'repos'>): T3ServerPlace[] {
  if (config.t3.servers === undefined) {
    const { url, tokenFile } = config.t3;
    return [{ name: 't3', url, tokenFile, capacity: null, repos: config.repos }];
  }
  return config.t3.servers.map((s) => ({
    name: s.name,
    url: s.url,
    tokenFile: s.tokenFile,
    capacity: s.capacity,
    repos: s.repos,
  }));
}

/** The server a repo is pinned to; undefined only for a repo outside the config. */
export function serverOfRepo<S extends Pick<T3ServerPlace, 'repos'>>(
  servers: readonly S[],
  repo: RepoName,
): S | undefined {
  if (servers.length === 1) return servers[0];
  const wanted = repo.toLowerCase();
  return servers.find((s) => s.repos.some((r) => r.toLowerCase() === wanted));
}

/** A URL's host (and port) for a view: the path and anything after it add nothing there. */
export const hostOf = (url: string): string => (URL.canParse(url) ? new URL(url).host : url);
