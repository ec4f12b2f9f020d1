// `afk status`: what afk is doing right now, for the human on call. Read-only, so it works
// with the kill switch on: the three label listings per repo, afk's comment on each live run
// and recent escalation, and the T3 snapshot. It never reads CI: the run records say enough.
// It degrades rather than going blank: a repo that cannot be read is named and left out, and
// with T3 down the tracker's view is shown with T3's columns unknown.
import type { Logger } from '../adapters/log.js';
import {
  ConfigError,
  describeError,
  describeEscalation,
  describeLiveRun,
  describeQueue,
  findAfkComment,
  issueKey,
  newestEscalations,
  hostOf,
  renderStatus,
  summarizeStatus,
  type AfkComment,
  type Config,
  type Issue,
  type RepoName,
  type ServerSlot,
  type ServerView,
  type StatusView,
  type T3,
  type T3Snapshot,
  type Tracker,
} from '../core/index.js';
import { loadScope } from '../tick/gates.js';
import { mapLimit, READ_CONCURRENCY } from '../tick/map-limit.js';
import { readEachRepo } from '../tick/repos.js';
import { EXIT, type Runtime } from '../tick/runtime.js';
import {
  describeServerDown,
  noServerRead,
  readFleetSnapshots,
  serverGauges,
  serverSlots,
} from '../tick/t3-fleet.js';
import { selectWithTrust } from '../tick/trust.js';
import { buildPorts, type T3Fleet } from '../tick/wiring.js';

export interface StatusFlags {
  config?: string;
  output: 'text' | 'json';
  repo?: string;
  /** Rows per table in text; 0 shows all. */
  limit?: number;
}

/** Rows per table by default: a screenful, whatever the queue's length. */
export const DEFAULT_STATUS_LIMIT = 20;

type Gates = StatusView['gates'];

export async function status(flags: StatusFlags, runtime: Runtime, log: Logger): Promise<number> {
  // No gates: a view may look at a disarmed deployment.
  const { config, repos } = await loadScope(flags, runtime);
  const gates = { killSwitch: config.killSwitch, repos };
  const write = (exitCode: number, view: StatusView | null, summary: string) =>
    writeStatus(flags, runtime, gates, { exitCode, view, summary });
  if (repos.length === 0) {
    const summary = 'status: nothing to show: no repos are allow-listed (repos / AFK_REPOS)';
    log.info({ command: 'status' }, summary);
    return write(EXIT.ok, null, summary);
  }

  // Read-only adapters: a status can never write, whatever a bug would call.
  const { tracker, t3, t3Fleet } = await buildPorts(config, runtime, 'dry-run', { log });
  const sources = { tracker, t3, t3Fleet, config, repos, gates, now: runtime.now, log };
  const read = await readView(sources);
  if (!read.ok) return write(EXIT.upstreamUnreadable, null, read.summary);
  const { view } = read;
  const summary = summarizeStatus(view);
  log.info({ command: 'status', failures: view.failures.length }, summary);
  const exitCode =
    view.t3Unreadable !== null
      ? EXIT.upstreamUnreadable
      : view.failures.length > 0
        ? EXIT.actionFailed
        : EXIT.ok;
  return write(exitCode, view, summary);
}

function writeStatus(
  flags: StatusFlags,
  runtime: Runtime,
  gates: Gates,
  { exitCode, view, summary }: { exitCode: number; view: StatusView | null; summary: string },
): number {
  if (flags.output === 'json') {
    runtime.stdout.write(
      `${JSON.stringify({ command: 'status', exitCode, summary, gates, ...(view ?? {}) })}\n`,
    );
  } else {
    const limit = flags.limit ?? DEFAULT_STATUS_LIMIT;
    runtime.stdout.write(view === null ? `${summary}\n` : renderStatus(view, { limit }));
  }
  return exitCode;
}

interface ViewSources {
  tracker: Tracker;
  t3: T3;
  t3Fleet: T3Fleet;
  config: Config;
  repos: RepoName[];
  gates: Gates;
  now: () => Date;
  log: Logger;
}

/**
 * Everything the view shows. Each failed read is logged as it is known and listed in the
 * view; only a tracker that cannot be read at all (no repo, or not who afk is) stops it.
 */
async function readView(
  from: ViewSources,
): Promise<{ ok: true; view: StatusView } | { ok: false; summary: string }> {
  const { tracker, config, log } = from;
  const logError = (message: string) => log.error({ command: 'status' }, message);
  const board = await readBoard(tracker, config, from.repos);
  board.failures.forEach(logError);
  if (board.read === 0)
    return { ok: false, summary: `status: stopped, ${board.failures.join('; ')}` };
  const { inProgress, escalated } = board;

  // T3 knows only the turn and session of each run: without it the rest is still shown.
  const t3Read = readStatusT3(from, inProgress, logError);
  let selfLogin = '';
  try {
    const needSelf = inProgress.length > 0 || escalated.length > 0;
    selfLogin = needSelf ? await tracker.getSelfLogin() : '';
  } catch (error) {
    await t3Read;
    if (error instanceof ConfigError) throw error;
    const summary = `status: stopped, cannot tell which comments are afk’s: ${describeError(error)}`;
    logError(summary);
    return { ok: false, summary };
  }
  const { snapshotOf, t3Unreadable, servers, slots, serverFailures } = await t3Read;
  const queued = slots === undefined ? board : { ...board, servers: slots };
  // The labelers of the issues poll would take next, looked up as poll does: an untrusted one
  // is shown with the reason poll will never start it.
  const { trust, failures: trustFailures } = await selectWithTrust(tracker, config, queued);
  const comments = await readComments(tracker, selfLogin, [inProgress, escalated]);
  const [runComments = [], escalationComments = []] = comments.found;
  const view: StatusView = {
    gates: from.gates,
    runs: describeRuns(config, inProgress, { runComments, snapshotOf, now: from.now() }),
    queue: describeQueue({ config, ...queued, trust }),
    escalations: escalated.map((issue, i) =>
      describeEscalation(issue, escalationComments[i] ?? null),
    ),
    failures: [
      ...board.failures,
      ...serverFailures,
      ...trustFailures.map(
        ({ issue, error }) => `${issue === null ? 'status' : issueKey(issue)}: ${error}`,
      ),
      ...comments.failures,
    ],
    t3Unreadable,
    ...(servers === undefined ? {} : { servers }),
  };
  return { ok: true, view };
}

/** Each live run as its record, and T3, show it. */
function describeRuns(
  config: Config,
  issues: Issue[],
  seen: {
    runComments: Array<AfkComment | null>;
    snapshotOf: (issue: Issue) => T3Snapshot | null;
    now: Date;
  },
) {
  return issues.map((issue, i) =>
    describeLiveRun({
      issue,
      afkComment: seen.runComments[i] ?? null,
      snapshot: seen.snapshotOf(issue),
      maxFixForwards: config.watch.maxFixForwards,
      now: seen.now,
      conversationLimits: config.watch,
    }),
  );
}

/** The three listings per repo; a repo that cannot be read is a failure, and left out. */
async function readBoard(tracker: Tracker, config: Config, repos: RepoName[]) {
  const lists = await readEachRepo(repos, READ_CONCURRENCY / 2, (repo) =>
    Promise.all([
      tracker.listLabelledIssues(repo, config.labels.ready, 'open'),
      // Open or closed: a closed issue still holding the lock is a run watch winds down.
      tracker.listLabelledIssues(repo, config.labels.inProgress, 'all'),
      tracker.listLabelledIssues(repo, config.labels.human, 'open'),
    ]),
  );
  return {
    read: lists.read.length,
    ready: lists.read.flatMap(({ value: [r] }) => r),
    inProgress: lists.read.flatMap(({ value: [, p] }) => p),
    escalated: newestEscalations(lists.read.flatMap(({ value: [, , h] }) => h)),
    unreadableRepos: lists.unreadable.map((u) => u.repo),
    failures: lists.unreadable.map(
      ({ repo, error }) => `${repo}: cannot list its issues: ${error}`,
    ),
  };
}

/** afk's comment on each issue of each list; one that cannot be read is a failure, and null. */
async function readComments(tracker: Tracker, selfLogin: string, lists: Issue[][]) {
  const failures: string[] = [];
  const commentsOf = async (issue: Issue): Promise<AfkComment | null> => {
    try {
      return findAfkComment(await tracker.listComments(issue), selfLogin);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      failures.push(`${issueKey(issue)}: cannot read its comments: ${describeError(error)}`);
      return null;
    }
  };
  const found = await Promise.all(
    lists.map((list) => mapLimit(list, READ_CONCURRENCY / 2, commentsOf)),
  );
  return { found, failures };
}

/** No live run: nothing to ask T3. */
const emptySnapshot: T3Snapshot = { sequence: 0, detail: 'slim', projects: [], threads: [] };
const noRuns = { snapshot: emptySnapshot, t3Unreadable: null };

interface StatusT3 {
  /** null: the run's T3 server could not be read. */
  snapshotOf(issue: Issue): T3Snapshot | null;
  /** Why no T3 could be read at all (status exits 3). */
  t3Unreadable: string | null;
  /** With several servers: each one's row, and the slots selection counts. */
  servers?: ServerView[];
  slots?: ServerSlot[];
  /** Servers that could not be read while others could (status exits 1). */
  serverFailures: string[];
}

/**
 * What T3 knows of the runs. One server is read only when there is a live run; several are
 * all read at once, since the view shows each one's state.
 */
async function readStatusT3(
  from: ViewSources,
  inProgress: Issue[],
  logError: (message: string) => void,
): Promise<StatusT3> {
  const read = await readStatusSnapshots(from, inProgress);
  if (read.t3Unreadable !== null) logError(`status: T3 could not be read: ${read.t3Unreadable}`);
  read.serverFailures.forEach(logError);
  return read;
}

async function readStatusSnapshots(from: ViewSources, inProgress: Issue[]): Promise<StatusT3> {
  const fleet = from.t3Fleet;
  if (!fleet.many) {
    const { snapshot, t3Unreadable } = inProgress.length > 0 ? await readT3(from.t3) : noRuns;
    return { snapshotOf: () => snapshot, t3Unreadable, serverFailures: [] };
  }
  const read = await readFleetSnapshots(fleet.servers);
  const gauges = serverGauges(fleet, inProgress, read) ?? [];
  const servers = fleet.servers.map((server, i) => ({
    name: server.name,
    host: hostOf(server.url),
    liveRuns: gauges[i]?.liveRuns ?? 0,
    capacity: server.capacity ?? 0,
    error: read.down.get(server.name) ?? null,
  }));
  const none = read.snapshots.size === 0;
  const serverFailures = none
    ? []
    : fleet.servers.flatMap((server) => {
        const error = read.down.get(server.name);
        return error === undefined ? [] : [describeServerDown(server, error, [])];
      });
  return {
    snapshotOf: (issue) => read.snapshots.get(fleet.of(issue.repo).name) ?? null,
    t3Unreadable: none ? noServerRead(read).message : null,
    servers,
    slots: serverSlots(fleet, read.down),
    serverFailures,
  };
}

/** The snapshot, or why T3 could not be read (a configuration error still goes up). */
async function readT3(
  t3: T3,
): Promise<{ snapshot: T3Snapshot | null; t3Unreadable: string | null }> {
  try {
    return { snapshot: await t3.readSnapshot(), t3Unreadable: null };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    return { snapshot: null, t3Unreadable: describeError(error) };
  }
}
