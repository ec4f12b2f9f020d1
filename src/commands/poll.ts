// `afk poll`: start agents on ready issues. Read the queue and the live runs (the tracker reads
// every repo at once: a few GraphQL queries on GitHub, a listing per repo and label on
// Forgejo), decide which issues to start, read what only those need (trust, afk's comment,
// the T3 snapshot), plan, act, report.
import type { Logger } from '../adapters/log.js';
import {
  ConfigError,
  describeError,
  findAfkComment,
  issueKey,
  planDispatch,
  planLabelRepairs,
  type Action,
  type Issue,
  type T3Snapshot,
} from '../core/index.js';
import type { ActionResult } from '../tick/executor.js';
import {
  concludeTick,
  executeTick,
  finishTick,
  openTick,
  readTickQueues,
  recordFailures,
  stopNote,
  stopNothingRead,
  stopUnreadable,
  type Ending,
  type TickContext,
} from '../tick/lifecycle.js';
import type { Failure, Waiting } from '../tick/report.js';
import type { Runtime, TickFlags } from '../tick/runtime.js';
import {
  noServerRead,
  readFleetSnapshots,
  recordServersDown,
  serverGauges,
  serverSlots,
  type FleetSnapshots,
} from '../tick/t3-fleet.js';
import { selectWithTrust, type TrustQueue } from '../tick/trust.js';

export async function poll(flags: TickFlags, runtime: Runtime, log: Logger): Promise<number> {
  const opened = await openTick('poll', flags, runtime, log);
  if (!opened.open) return opened.exitCode;
  const { tick } = opened;

  const queue = await readQueue(tick);
  if (queue === null) return reportPoll(tick, stopNothingRead(tick, 'cannot list issues'));
  const servers = await readServers(tick, queue);
  if (servers !== null && servers.snapshots.size === 0) {
    const ending = stopUnreadable(tick, 'cannot read what a dispatch needs', noServerRead(servers));
    return reportPoll(tick, ending, { queue, servers });
  }
  const selection = await selectWithTrust(tick.ports.tracker, tick.config, queue);
  recordFailures(tick, selection.failures);
  const dispatches = await planDispatches(tick, selection.selected, servers);
  if (!dispatches.ok) {
    const ending = stopUnreadable(tick, 'cannot read what a dispatch needs', dispatches.error);
    return reportPoll(tick, ending, { queue, servers });
  }
  recordFailures(tick, dispatches.failures);
  const plan = [...planLabelRepairs(tick.config, queue.inProgress), ...dispatches.actions];

  const { results, notStarted, failed } = await executeTick(tick, plan);
  const undone = new Set(
    results.filter((r) => r.status !== 'done').map((r) => issueKey(r.action.issue)),
  );
  const dispatched = dispatches.issues.map(issueKey).filter((key) => !undone.has(key));
  const waiting = selection.skipped;
  const verb = tick.mode === 'live' ? 'dispatched' : 'would dispatch';
  const summary = `poll: ${verb} ${dispatched.length}${dispatched.length > 0 ? ` (${dispatched.join(', ')})` : ''}; ${waiting.length} waiting; ${failed} failed${stopNote(tick, notStarted)}`;
  const fields = { dispatched, waiting: waiting.length, failed, notStarted };
  const ending = concludeTick(tick, summary, fields, failed + notStarted);
  return reportPoll(tick, ending, { queue, servers, plan, results, waiting, dispatched });
}

interface PollFacts {
  queue?: TrustQueue;
  servers?: FleetSnapshots | null;
  plan?: Action[];
  results?: ActionResult[];
  waiting?: Waiting[];
  dispatched?: string[];
}

function reportPoll(tick: TickContext, ending: Ending, facts: PollFacts = {}): Promise<number> {
  const { queue, plan = [], results = [], waiting = [], dispatched = [] } = facts;
  const servers = serverGauges(
    tick.ports.t3Fleet,
    queue?.inProgress ?? null,
    facts.servers ?? null,
  );
  return finishTick(tick, ending, {
    servers,
    plan,
    results,
    waiting,
    details: { dispatched },
    liveRuns: queue === undefined ? null : queue.inProgress.length,
    queueDepth: queue === undefined ? null : stillWaiting(queue, dispatched),
    escalations: null,
  });
}

/** Ready issues left waiting: neither dispatched now nor already a live run. */
function stillWaiting(queue: TrustQueue, dispatched: string[]) {
  const gone = new Set([...dispatched, ...queue.inProgress.map(issueKey)]);
  return queue.ready.filter((issue) => !gone.has(issueKey(issue))).length;
}

/**
 * The ready queue (open issues) and the live runs (open or closed: a closed issue still
 * holding the lock is a run watch has not wound down yet, and it still counts), per repo.
 * Null when no repo could be read.
 */
async function readQueue(tick: TickContext): Promise<TrustQueue | null> {
  const { ready, inProgress } = tick.config.labels;
  const lists = await readTickQueues(tick, { ready, inProgress }, 'list its issues');
  if (lists === null) return null;
  return {
    ready: lists.read.flatMap(({ value }) => value.ready),
    inProgress: lists.read.flatMap(({ value }) => value.inProgress),
    unreadableRepos: lists.unreadable.map((u) => u.repo),
  };
}

/**
 * With several T3 servers, every server's snapshot, read at once before selection: a server
 * that cannot be read starts nothing in its repos (each waits, naming it), and the others'
 * candidates take the slots. Null with one server: its snapshot is read only for a dispatch.
 */
async function readServers(tick: TickContext, queue: TrustQueue): Promise<FleetSnapshots | null> {
  const fleet = tick.ports.t3Fleet;
  if (!fleet.many || queue.ready.length === 0) return null;
  // A run narrowed by --repo reads only its servers.
  const read = await readFleetSnapshots(
    fleet.servers.filter((server) => tick.repos.some((repo) => fleet.of(repo) === server)),
  );
  if (read.snapshots.size > 0) recordServersDown(tick, read);
  queue.servers = serverSlots(fleet, read.down);
  return read;
}

type Dispatches =
  | { ok: true; actions: Action[]; issues: Issue[]; failures: Failure[] }
  | { ok: false; error: unknown };

/**
 * The dispatch of each selected issue, from the T3 snapshot and afk's comment on it. An issue
 * whose comments cannot be read, or that cannot be dispatched, is a failure of that issue; a
 * snapshot or a login that cannot be read stops the tick.
 */
async function planDispatches(
  tick: TickContext,
  selected: Issue[],
  servers: FleetSnapshots | null,
): Promise<Dispatches> {
  const planned = { ok: true as const, actions: [] as Action[], issues: [] as Issue[] };
  const failures: Failure[] = [];
  if (selected.length === 0) return { ...planned, failures };
  const { tracker, t3, t3Fleet } = tick.ports;
  let snapshotOf: (issue: Issue) => T3Snapshot | undefined, selfLogin;
  try {
    if (servers === null) {
      let snapshot: T3Snapshot;
      [snapshot, selfLogin] = await Promise.all([t3.readSnapshot(), tracker.getSelfLogin()]);
      snapshotOf = () => snapshot;
    } else {
      selfLogin = await tracker.getSelfLogin();
      snapshotOf = (issue) => servers.snapshots.get(t3Fleet.of(issue.repo).name);
    }
  } catch (error) {
    return { ok: false, error };
  }
  // Comments only: a dispatch needs afk's comment, none of watch's evidence.
  const comments = await tracker.prefetchRuns(
    selected.map((issue) => ({ issue, branch: null, environment: null })),
  );
  selected.forEach((issue, i) => {
    const read = comments[i];
    if (read === undefined || !read.ok) {
      if (read !== undefined && read.error instanceof ConfigError) throw read.error;
      const error = `cannot read its comments: ${read === undefined ? 'no answer' : describeError(read.error)}`;
      failures.push({ issue, error });
      return;
    }
    const afkComment = findAfkComment(read.comments, selfLogin);
    const snapshot = snapshotOf(issue);
    if (snapshot === undefined) {
      // Selection starts nothing on a server that could not be read: this is a bug's guard.
      failures.push({ issue, error: 'its T3 server could not be read' });
      return;
    }
    const now = tick.runtime.now();
    const decided = planDispatch({ config: tick.config, issue, afkComment, snapshot, now });
    if (!decided.ok) {
      failures.push({ issue, error: decided.reason });
      return;
    }
    planned.issues.push(issue);
    planned.actions.push(...decided.actions);
  });
  return { ...planned, failures };
}
