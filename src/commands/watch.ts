// `afk watch`: follow every live run (an issue holding the in-progress label, open or closed)
// from its first turn to deployed. Per run, the core asks for the evidence its decision
// reaches, one read at a time, then returns the plan; the executor carries out all plans.
import {
  ConfigError,
  describeError,
  findAfkComment,
  issueKey,
  watchRun,
  type Action,
  type Decision,
  type Evidence,
  type Issue,
  type ReadRequest,
  type T3Snapshot,
  type Tracker,
} from '../core/index.js';
import type { Logger } from '../adapters/log.js';
import type { ActionResult, Ports } from './executor.js';
import { writeReport, type Waiting } from './report.js';
import { readEachRepo } from './repos.js';
import {
  EXIT,
  executeTick,
  logSummary,
  mapLimit,
  openTick,
  progressShown,
  pushTickMetrics,
  recordRepoUnreadable,
  recordUnreadable,
  stopNote,
  type Runtime,
  type TickFlags,
} from './tick.js';

const RUN_CONCURRENCY = 4;
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
  const { config, repos, ports, failures } = tick;
  let live: Issue[] | undefined = undefined;
  const report = async (
    exitCode: number,
    summary: string,
    runs: RunOutcome[],
    results: ActionResult[],
    waiting: Waiting[] = [],
  ) => {
    writeReport(
      runtime.stdout,
      flags.output,
      {
        command: 'watch',
        mode: flags.mode,
        killSwitch: tick.killSwitch,
        exitCode,
        summary,
        plan: runs.flatMap((r) => r.actions),
        results,
        waiting,
        failures,
        details: {
          runs: runs.map((r) => ({ issue: issueKey(r.issue), decision: r.decision })),
        },
        progressShown: progressShown(tick),
      },
      { verbose: flags.verbose === true },
    );
    await pushTickMetrics(tick, {
      exitCode,
      results,
      failures,
      liveRuns: live === undefined ? null : live.length,
      queueDepth: null,
      escalations:
        live === undefined
          ? null
          : runs.flatMap((r) => (r.decision?.kind === 'escalate' ? [r.decision.reason] : [])),
    });
    return exitCode;
  };
  const unreadable = (what: string, error: unknown) =>
    report(EXIT.upstreamUnreadable, recordUnreadable(tick, what, error), [], []);

  const lists = await readEachRepo(repos, 4, (repo) =>
    ports.tracker.listLabelledIssues(repo, config.labels.inProgress, 'all'),
  );
  for (const { repo, error } of lists.unreadable) {
    recordRepoUnreadable(tick, repo, `cannot list its live runs, left out of this tick: ${error}`);
  }
  if (lists.read.length === 0) {
    const summary = `watch: stopped, cannot list live runs in any repo (${repos.length} unreadable)`;
    logSummary(tick, {}, summary, 'error');
    return report(EXIT.upstreamUnreadable, summary, [], []);
  }
  live = lists.read.flatMap(({ value }) => value);
  if (live.length === 0) {
    const summary = `watch: no live runs${failures.length > 0 ? `; ${failures.length} failed` : ''}`;
    logSummary(tick, {}, summary);
    return report(failures.length > 0 ? EXIT.actionFailed : EXIT.ok, summary, [], []);
  }

  let snapshot: T3Snapshot;
  let selfLogin: string;
  try {
    [snapshot, selfLogin] = await Promise.all([
      ports.t3.readSnapshot(),
      ports.tracker.getSelfLogin(),
    ]);
  } catch (error) {
    return unreadable('cannot read the runs', error);
  }

  // A stopped tick reads no further run: what it would decide, the next tick decides.
  const unread: Waiting[] = [];
  const decided = await mapLimit(live, RUN_CONCURRENCY, async (issue) => {
    if (tick.stop.aborted) {
      const detail = `stopped by ${String(tick.stop.reason)}`;
      unread.push({ issue, reason: 'not read', detail });
      return null;
    }
    try {
      return await decideRun(issue, { ports, snapshot, selfLogin, flags, runtime, config });
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      failures.push({ issue, error: describeError(error) });
      return null;
    }
  });
  const runs = decided.filter((r): r is RunOutcome => r !== null);
  const plan = runs.flatMap((r) => r.actions);
  const executed = await executeTick(tick, plan);
  const { results } = executed;
  const notStarted = executed.notStarted + unread.length;
  const failed = failures.length + results.filter((r) => r.status === 'failed').length;
  const counts = new Map<string, number>();
  for (const run of runs) {
    const kind = run.decision?.kind ?? 'none';
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const tally = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
  const summary = `watch: ${live.length} live run(s)${tally === '' ? '' : `: ${tally}`}; ${failed} failed${stopNote(tick, notStarted)}`;
  logSummary(tick, { runs: live.length, failed, notStarted }, summary);
  const exitCode = failed + notStarted > 0 ? EXIT.actionFailed : EXIT.ok;
  return report(exitCode, summary, runs, results, unread);
}

interface RunContext {
  ports: Ports;
  snapshot: T3Snapshot;
  selfLogin: string;
  flags: TickFlags;
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
  }
}
