// `afk watch`: follow every live run (an issue holding the in-progress label, open or closed)
// from its first turn to deployed. The tracker reads what most runs need for all of them at
// once (comments; on GitHub also the PR, CI and deployments); per run, the core then asks for
// the evidence its decision still lacks, one read at a time, and returns the plan; the
// executor carries out all plans.
import type { Logger } from '../adapters/log.js';
import {
  branchFor,
  ConfigError,
  describeError,
  findAfkComment,
  hasLabel,
  issueKey,
  pendingCommands,
  permissionKey,
  watchRun,
  type Action,
  type Decision,
  type Evidence,
  type Issue,
  type IssueComment,
  type PrefetchedEvidence,
  type ReadRequest,
  type RepoName,
  type RunPrefetch,
  type Tracker,
} from '../core/index.js';
import type { ActionResult, Ports } from '../tick/executor.js';
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
const MAX_READS_PER_RUN = 12;

interface RunOutcome {
  issue: Issue;
  decision: Decision | null;
  actions: Action[];
}

export async function watch(flags: TickFlags, runtime: Runtime, log: Logger): Promise<number> {
  const opened = await openTick('watch', flags, runtime, log);
  if (!opened.open) return opened.exitCode;
  const { tick } = opened;

  const { labels } = tick.config;
  // Escalated runs too (open, `ready-for-human`): a human's `/afk` command may resume them.
  const queues = { inProgress: labels.inProgress, human: labels.human };
  const lists = await readTickQueues(tick, queues, 'list its live runs');
  if (lists === null) return reportWatch(tick, stopNothingRead(tick, 'cannot list live runs'));
  const live = lists.read.flatMap(({ value }) => value.inProgress);
  const liveKeys = new Set(live.map(issueKey));
  const escalated = lists.read
    .flatMap(({ value }) => value.human)
    .filter((issue) => !liveKeys.has(issueKey(issue)));
  if (live.length === 0 && escalated.length === 0) {
    const failed = tick.failures.length;
    const summary = `watch: no live runs${failed > 0 ? `; ${failed} failed` : ''}`;
    return reportWatch(tick, concludeTick(tick, summary, {}, failed), { live });
  }
  let seen: Seen;
  try {
    seen = await readSeen(tick, live, escalated);
  } catch (error) {
    return reportWatch(tick, stopUnreadable(tick, 'cannot read the runs', error), { live });
  }
  const decided = await decideRuns(tick, [...live, ...escalated], seen);
  const { unread, failures } = decided;
  // An escalated run with no command to act on is not reported: it is the humans'.
  const runs = decided.runs.filter((r) => liveKeys.has(issueKey(r.issue)) || r.actions.length > 0);
  recordFailures(tick, failures);
  if (live.length === 0 && runs.length === 0 && tick.failures.length === 0) {
    return reportWatch(tick, concludeTick(tick, 'watch: no live runs', {}, 0), { live });
  }

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
  return reportWatch(tick, ending, { live, runs, results, waiting: unread, servers: seen.servers });
}

interface Seen {
  /**
   * A run's T3 (its repo's server and snapshot). The servers hosting live runs are read up
   * front; an escalated run's server only when a command for it needs T3, once per tick.
   */
  t3Of: (repo: RepoName) => Promise<RunT3>;
  selfLogin: string;
  /** With several servers, what the up-front read found (the gauges); null with one. */
  servers: FleetSnapshots | null;
}

async function readSeen(tick: TickContext, live: Issue[], escalated: Issue[]): Promise<Seen> {
  const { tracker, t3Fleet } = tick.ports;
  const [eager, selfLogin] = await Promise.all([
    live.length > 0 ? readRunSnapshots(tick, live) : null,
    tracker.getSelfLogin(),
  ]);
  const covered = (repo: RepoName) =>
    eager !== null && (!t3Fleet.many || live.some((i) => t3Fleet.of(i.repo) === t3Fleet.of(repo)));
  let lazy: Promise<RunSnapshots> | undefined;
  const t3Of = async (repo: RepoName): Promise<RunT3> => {
    if (eager !== null && covered(repo)) return eager.of(repo);
    lazy ??= readRunSnapshots(tick, escalated);
    return (await lazy).of(repo);
  };
  return { t3Of, selfLogin, servers: eager?.read ?? null };
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
  seen: Seen,
): Promise<{ runs: RunOutcome[]; unread: Waiting[]; failures: Failure[] }> {
  const base = { selfLogin: seen.selfLogin, runtime: tick.runtime, config: tick.config };
  // A stopped tick reads no run at all.
  const prefetched = tick.stop.aborted
    ? []
    : await tick.ports.tracker.prefetchRuns(live.map((issue) => prefetchOf(tick.config, issue)));
  const reads = live.map((issue, i) => ({ issue, read: prefetched[i] }));
  const decided = await mapLimit(reads, RUN_CONCURRENCY, async ({ issue, read }) => {
    if (tick.stop.aborted) return { issue, unread: `stopped by ${String(tick.stop.reason)}` };
    const ctx: RunContext = { ...base, ports: tick.ports, t3: () => seen.t3Of(issue.repo) };
    try {
      if (read === undefined || !read.ok) throw read?.error ?? new Error('no answer');
      const run = await decideRun(issue, read, ctx);
      return 'offline' in run ? { issue, offline: run.offline } : { issue, run };
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
  /** The run's T3: its repo's server and that server's snapshot. */
  t3: () => Promise<RunT3>;
  selfLogin: string;
  runtime: Runtime;
  config: Parameters<typeof watchRun>[0]['config'];
}

/**
 * What the tracker reads for every run up front: what the core would ask of most runs. An
 * escalated run needs only its comments (a `/afk` command), unless one resumes it.
 */
function prefetchOf(config: RunContext['config'], issue: Issue): RunPrefetch {
  const { delivery, deploy } = config;
  const live = hasLabel(issue, config.labels.inProgress);
  return {
    issue,
    branch: live && delivery.mode === 'pull-request' ? branchFor(config, issue.number) : null,
    environment: live && deploy.kind === 'github-deployment' ? deploy.environment : null,
  };
}

/** The run's decision, or why it is not read: its T3 server is down. */
async function decideRun(
  issue: Issue,
  prefetched: { comments: IssueComment[]; evidence: PrefetchedEvidence },
  ctx: RunContext,
): Promise<RunOutcome | { offline: string }> {
  const { comments } = prefetched;
  const afkComment = findAfkComment(comments, ctx.selfLogin);
  if (!hasLabel(issue, ctx.config.labels.inProgress) && !awaitsCommand(afkComment, comments, ctx)) {
    return { issue, decision: null, actions: [] };
  }
  // Each run is read from its repo's T3 server; one that is down leaves its runs unread.
  const t3 = await ctx.t3();
  if (!t3.ok) return { offline: `T3 server ${t3.server} could not be read: ${t3.error}` };
  const ports = { ...ctx.ports, t3: t3.t3 };
  // The core asks only for what the prefetch left out.
  let evidence: Evidence = prefetched.evidence;
  for (let reads = 0; reads <= MAX_READS_PER_RUN; reads += 1) {
    const step = watchRun({
      config: ctx.config,
      issue,
      afkComment,
      snapshot: t3.snapshot,
      evidence,
      now: ctx.runtime.now(),
      doorbell: ports.doorbell.configured,
      comments,
      selfLogin: ctx.selfLogin,
    });
    if (step.kind === 'plan') return { issue, decision: step.decision, actions: step.actions };
    evidence = await readEvidence(step.read, issue, ports, evidence);
  }
  throw new Error(`watch asked for more than ${MAX_READS_PER_RUN} reads for one run`);
}

/**
 * An escalated run is looked at further only when its record can be resumed or stopped and a
 * comment newer than its escalation starts with the command prefix: a quiet escalated issue
 * costs its comment list and nothing else.
 */
function awaitsCommand(
  afkComment: ReturnType<typeof findAfkComment>,
  comments: IssueComment[],
  ctx: RunContext,
): boolean {
  const parsed = afkComment?.parsed;
  if (parsed?.ok !== true || parsed.record.outcome !== 'escalated') return false;
  const options = { prefix: ctx.config.commands.prefix, selfLogin: ctx.selfLogin };
  return pendingCommands(comments, parsed.record, options).length > 0;
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
    case 'mergeability':
      return { ...evidence, mergeability: await tracker.readMergeability(issue.repo, read.number) };
    case 'reviewFeedback':
      return {
        ...evidence,
        reviewFeedback: await tracker.readReviewFeedback(issue.repo, read.number),
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
