// `afk watch`: follow every live run (an issue holding the in-progress label, open or closed)
// from its first turn to deployed. Per run, the core asks for the evidence its decision
// reaches, one read at a time, then returns the plan; the executor carries out all plans.
import type { Logger } from '../adapters/log.js';
import {
  ConfigError,
  describeError,
  findAfkComment,
  issueKey,
  permissionKey,
  watchRun,
  type Action,
  type Decision,
  type Evidence,
  type Issue,
  type ReadRequest,
  type RepoName,
  type T3Snapshot,
  type Tracker,
} from '../core/index.js';
import type { ActionResult, Ports } from '../tick/executor.js';
import {
  concludeTick,
  executeTick,
  finishTick,
  openTick,
  readTickRepos,
  recordFailures,
  stopNote,
  stopNothingRead,
  stopUnreadable,
  type Ending,
  type TickContext,
} from '../tick/lifecycle.js';
import { mapLimit } from '../tick/map-limit.js';
import type { Failure, Waiting } from '../tick/report.js';
import type { Runtime, TickFlags } from '../tick/runtime.js';
import {
  readRunSnapshots,
  serverGauges,
  type FleetSnapshots,
  type RunSnapshots,
  type RunT3,
} from '../tick/t3-fleet.js';

const RUN_CONCURRENCY = 4;
const SERVER_DOWN = 'server-down';
/** More reads than any decision needs: a guard against a loop, not a budget. */
const MAX_READS_PER_RUN = 8;

interface RunOutcome {
  issue: Issue;
  decision: Decision | null;
  actions: Action[];
}

export async function watch(flags: TickFlags, runtime: Runtime, log: Logger): Promise<number> {
  const opened = await openTick('watch', flags, runtime, log);
  if (!opened.open) return opened.exitCode;
  const { tick } = opened;

  const { tracker } = tick.ports;
  const lists = await readTickRepos(tick, 4, 'list its live runs', (repo) =>
    tracker.listLabelledIssues(repo, tick.config.labels.inProgress, 'all'),
  );
  if (lists === null) return reportWatch(tick, stopNothingRead(tick, 'cannot list live runs'));
  const live = lists.read.flatMap(({ value }) => value);
  if (live.length === 0) {
    const failed = tick.failures.length;
    const summary = `watch: no live runs${failed > 0 ? `; ${failed} failed` : ''}`;
    return reportWatch(tick, concludeTick(tick, summary, {}, failed), { live });
  }
  let t3: RunSnapshots;
  let selfLogin: string;
  try {
    [t3, selfLogin] = await Promise.all([readRunSnapshots(tick, live), tracker.getSelfLogin()]);
  } catch (error) {
    return reportWatch(tick, stopUnreadable(tick, 'cannot read the runs', error), { live });
  }
  const { runs, unread, failures } = await decideRuns(tick, live, { t3Of: t3.of, selfLogin });
  recordFailures(tick, failures);

  const executed = await executeTick(
    tick,
    runs.flatMap((r) => r.actions),
  );
  const { results, failed } = executed;
  // A run whose T3 server is down waits for it; its server is the failure already counted.
  const offline = unread.filter((u) => u.reason === SERVER_DOWN).length;
  const notStarted = executed.notStarted + unread.length - offline;
  const summary = `watch: ${live.length} live run(s)${tally(runs)}${offline > 0 ? `, ${offline} not read (T3 server down)` : ''}; ${failed} failed${stopNote(tick, notStarted)}`;
  const fields = { runs: live.length, failed, notStarted };
  const ending = concludeTick(tick, summary, fields, failed + notStarted);
  return reportWatch(tick, ending, { live, runs, results, waiting: unread, servers: t3.read });
}

interface WatchFacts {
  live?: Issue[];
  servers?: FleetSnapshots | null;
  runs?: RunOutcome[];
  results?: ActionResult[];
  waiting?: Waiting[];
}

function reportWatch(tick: TickContext, ending: Ending, facts: WatchFacts = {}): Promise<number> {
  const { live, runs = [], results = [], waiting = [] } = facts;
  const escalations = runs.flatMap((r) =>
    r.decision?.kind === 'escalate' ? [r.decision.reason] : [],
  );
  return finishTick(tick, ending, {
    servers: serverGauges(tick.ports.t3Fleet, live ?? null, facts.servers ?? null),
    plan: runs.flatMap((r) => r.actions),
    results,
    waiting,
    details: { runs: runs.map((r) => ({ issue: issueKey(r.issue), decision: r.decision })) },
    liveRuns: live === undefined ? null : live.length,
    queueDepth: null,
    escalations: live === undefined ? null : escalations,
  });
}

/** `: 2 wait, 1 escalate`: the runs by the kind of their decision. */
function tally(runs: RunOutcome[]): string {
  const counts = new Map<string, number>();
  for (const run of runs) {
    const kind = run.decision?.kind ?? 'none';
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const tally = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
  return tally === '' ? '' : `: ${tally}`;
}

/**
 * Each live run's decision. A run whose reads fail is a failure of that run; a stopped tick
 * reads no further run: what it would decide, the next tick decides.
 */
async function decideRuns(
  tick: TickContext,
  live: Issue[],
  seen: { t3Of: (repo: RepoName) => RunT3; selfLogin: string },
): Promise<{ runs: RunOutcome[]; unread: Waiting[]; failures: Failure[] }> {
  const base = { selfLogin: seen.selfLogin, runtime: tick.runtime, config: tick.config };
  const decided = await mapLimit(live, RUN_CONCURRENCY, async (issue) => {
    if (tick.stop.aborted) return { issue, unread: `stopped by ${String(tick.stop.reason)}` };
    // Each run is read from its repo's T3 server; one that is down leaves its runs unread.
    const t3 = seen.t3Of(issue.repo);
    if (!t3.ok) return { issue, offline: `T3 server ${t3.server} could not be read: ${t3.error}` };
    const ctx: RunContext = {
      ...base,
      snapshot: t3.snapshot,
      ports: { ...tick.ports, t3: t3.t3 },
    };
    try {
      return { issue, run: await decideRun(issue, ctx) };
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      return { issue, error: describeError(error) };
    }
  });
  const runs: RunOutcome[] = [];
  const unread: Waiting[] = [];
  const failures: Failure[] = [];
  for (const d of decided) {
    if ('run' in d) runs.push(d.run);
    else if ('unread' in d) unread.push({ issue: d.issue, reason: 'not read', detail: d.unread });
    else if ('offline' in d)
      unread.push({ issue: d.issue, reason: SERVER_DOWN, detail: d.offline });
    else failures.push({ issue: d.issue, error: d.error });
  }
  return { runs, unread, failures };
}

interface RunContext {
  ports: Ports;
  snapshot: T3Snapshot;
  selfLogin: string;
  runtime: Runtime;
  config: Parameters<typeof watchRun>[0]['config'];
}

async function decideRun(issue: Issue, ctx: RunContext): Promise<RunOutcome> {
  const comments = await ctx.ports.tracker.listComments(issue);
  const afkComment = findAfkComment(comments, ctx.selfLogin);
  let evidence: Evidence = {};
  for (let reads = 0; reads <= MAX_READS_PER_RUN; reads += 1) {
    const step = watchRun({
      config: ctx.config,
      issue,
      afkComment,
      snapshot: ctx.snapshot,
      evidence,
      now: ctx.runtime.now(),
      doorbell: ctx.ports.doorbell.configured,
    });
    if (step.kind === 'plan') return { issue, decision: step.decision, actions: step.actions };
    evidence = await readEvidence(step.read, issue, ctx.ports, evidence);
  }
  throw new Error(`watch asked for more than ${MAX_READS_PER_RUN} reads for one run`);
}

async function readEvidence(
  read: ReadRequest,
  issue: Issue,
  { t3, tracker }: { t3: Ports['t3']; tracker: Tracker },
  evidence: Evidence,
): Promise<Evidence> {
  switch (read.kind) {
    case 'thread':
      return { ...evidence, thread: await t3.readThread(read.threadId) };
    case 'pullRequest':
      return { ...evidence, pullRequest: await tracker.findPullRequest(issue.repo, read.branch) };
    case 'placement':
      return {
        ...evidence,
        placement: {
          ...evidence.placement,
          [read.sha]: await tracker.placeCommit(issue.repo, read.sha),
        },
      };
    case 'ci':
      return {
        ...evidence,
        ci: { ...evidence.ci, [read.sha]: await tracker.readCi(issue.repo, read.sha) },
      };
    case 'deployment':
      return {
        ...evidence,
        deployment: {
          ...evidence.deployment,
          [read.sha]: await tracker.readDeployment(issue.repo, read.sha, read.environment),
        },
      };
    case 'permission':
      return {
        ...evidence,
        permissions: {
          ...evidence.permissions,
          [permissionKey(read.login)]: await tracker.getPermission(issue.repo, read.login),
        },
      };
  }
}
