// Several T3 servers (`t3.servers`): their snapshots read at once, each failure its own server's.
// A server that cannot be read stops only the repos pinned to it; the tick names it, leaves
// its repos out, serves the others and exits 1. Only when no server can be read is the tick
// without T3 (exit 3).
import {
  ConfigError,
  describeError,
  hostOf,
  issueKey,
  serverOfRepo,
  type Issue,
  type RepoName,
  type ServerMetricFacts,
  type ServerSlot,
  type T3,
  type T3Snapshot,
} from '../core/index.js';
import type { TickContext } from './lifecycle.js';
import type { T3Fleet, T3Route } from './wiring.js';

export interface FleetSnapshots {
  /** By server name, for the servers that answered. */
  snapshots: ReadonlyMap<string, T3Snapshot>;
  /** By server name: why it could not be read. */
  down: ReadonlyMap<string, string>;
}

/** Every server's snapshot at once; a configuration error (a token file gone) still goes up. */
export async function readFleetSnapshots(servers: readonly T3Route[]): Promise<FleetSnapshots> {
  const answers = await Promise.all(
    servers.map((server) =>
      server.client.readSnapshot().then(
        (snapshot) => ({ name: server.name, snapshot }),
        (error: unknown) => {
          if (error instanceof ConfigError) throw error;
          return { name: server.name, error: describeError(error) };
        },
      ),
    ),
  );
  const snapshots = new Map<string, T3Snapshot>();
  const down = new Map<string, string>();
  for (const answer of answers) {
    if ('snapshot' in answer) snapshots.set(answer.name, answer.snapshot);
    else down.set(answer.name, answer.error);
  }
  return { snapshots, down };
}

/** What an operator reads of a server that could not be read: which, where, whose repos. */
export function describeServerDown(server: T3Route, error: string, repos: readonly string[]) {
  const left = repos.length === 0 ? '' : `; left out of this tick: ${repos.join(', ')}`;
  return `T3 server ${server.name} (${hostOf(server.url)}) could not be read${left}: ${error}`;
}

/** Each server that could not be read, as a failure of the tick naming its repos. */
export function recordServersDown(
  tick: TickContext,
  read: FleetSnapshots,
  reposOf: (server: T3Route) => readonly string[] = (server) =>
    server.repos.filter((repo) => tick.repos.includes(repo)),
): void {
  for (const server of tick.ports.t3Fleet.servers) {
    const error = read.down.get(server.name);
    if (error === undefined) continue;
    const message = describeServerDown(server, error, reposOf(server));
    tick.log.error({ command: tick.command, server: server.name }, message);
    tick.failures.push({ issue: null, error: message });
  }
}

/** The servers as selection counts them: capacity, repos, and down ones marked. */
export function serverSlots(fleet: T3Fleet, down: ReadonlyMap<string, string>): ServerSlot[] {
  return fleet.servers.map((server) => ({
    name: server.name,
    capacity: server.capacity ?? Number.MAX_SAFE_INTEGER,
    repos: server.repos,
    down: down.get(server.name),
  }));
}

/** Why no server could be read: each one, by name. */
export const noServerRead = (read: FleetSnapshots): Error =>
  new Error(
    `no T3 server could be read: ${[...read.down].map(([name, error]) => `${name}: ${error}`).join('; ')}`,
  );

/** A repo's server, its snapshot and client; `down` when its server could not be read. */
export type RunT3 =
  { ok: true; snapshot: T3Snapshot; t3: T3 } | { ok: false; server: string; error: string };

/**
 * The T3 view of the live runs: each repo's server's snapshot. With one server it is read as
 * before, and its failure stops the tick (thrown). With several, only the servers that host a
 * live run are read; those that fail leave their runs unread, and the tick stops only when
 * none could be read.
 */
export async function readRunSnapshots(
  tick: TickContext,
  live: readonly Issue[],
): Promise<RunSnapshots> {
  const fleet = tick.ports.t3Fleet;
  if (!fleet.many) {
    const only = fleet.servers[0] as T3Route;
    const snapshot = await only.client.readSnapshot();
    return { of: () => ({ ok: true, snapshot, t3: only.client }), read: null };
  }
  const hosting = fleet.servers.filter((server) =>
    live.some((issue) => serverOfRepo(fleet.servers, issue.repo) === server),
  );
  const read = await readFleetSnapshots(hosting);
  if (read.snapshots.size === 0) throw noServerRead(read);
  recordServersDown(tick, read, (server) => [
    ...new Set(live.filter((i) => serverOfRepo(fleet.servers, i.repo) === server).map(issueKey)),
  ]);
  const of = (repo: RepoName): RunT3 => {
    const server = fleet.of(repo);
    const snapshot = read.snapshots.get(server.name);
    if (snapshot !== undefined) return { ok: true, snapshot, t3: server.client };
    return { ok: false, server: server.name, error: read.down.get(server.name) ?? 'not read' };
  };
  return { of, read };
}

export interface RunSnapshots {
  of(repo: RepoName): RunT3;
  /** With several servers, what each answered (the gauges); null with one. */
  read: FleetSnapshots | null;
}

/** Per server: its live runs (in-progress issues of its repos), capacity and whether it answered. */
export function serverGauges(
  fleet: T3Fleet,
  inProgress: readonly Issue[] | null,
  read: FleetSnapshots | null,
): ServerMetricFacts[] | undefined {
  if (!fleet.many) return undefined;
  const upOf = (name: string) =>
    read?.snapshots.has(name) === true ? true : read?.down.has(name) === true ? false : null;
  const liveOn = (server: T3Route) =>
    inProgress === null
      ? null
      : new Set(
          inProgress.filter((i) => serverOfRepo(fleet.servers, i.repo) === server).map(issueKey),
        ).size;
  return fleet.servers.map((server) => ({
    name: server.name,
    capacity: server.capacity,
    liveRuns: liveOn(server),
    up: upOf(server.name),
  }));
}
