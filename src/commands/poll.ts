// `afk poll`: start agents on ready issues. Read the queue and the live runs (one listing per
// repo and label, whatever the queue's length), decide which issues to start, read what only
// those need (trust, afk's comment, the T3 snapshot), plan, act, report.
import {
  describeError,
  findAfkComment,
  findLabeler,
  issueKey,
  planDispatch,
  planLabelRepairs,
  selectDispatchable,
  trustNeedsPermission,
  type Action,
  type Config,
  type Issue,
  type Permission,
  type RepoName,
  type Tracker,
  type TrustFact,
} from '../core/index.js';
import type { ActionResult } from './executor.js';
import { writeReport, type Failure, type Waiting } from './report.js';
import { readEachRepo, type UnreadableRepo } from './repos.js';
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
import type { Logger } from '../adapters/log.js';

/** Concurrent reads per tick: well under GitHub's 100-concurrent secondary limit. */
const READ_CONCURRENCY = 8;

export async function poll(flags: TickFlags, runtime: Runtime, log: Logger): Promise<number> {
  const opened = await openTick('poll', flags, runtime, log);
  if (!opened.open) return opened.exitCode;
  const { tick } = opened;
  const { config, repos, ports, failures } = tick;
  const { tracker, t3 } = ports;
  let queue: Queue | undefined = undefined;
  const report = async (exitCode: number, summary: string, parts: Partial<ReportParts> = {}) => {
    const results = parts.results ?? [];
    const dispatched = parts.dispatched ?? [];
    writeReport(
      runtime.stdout,
      flags.output,
      {
        command: 'poll',
        mode: flags.mode,
        killSwitch: tick.killSwitch,
        exitCode,
        summary,
        plan: parts.plan ?? [],
        results,
        waiting: parts.waiting ?? [],
        failures,
        details: { dispatched },
        progressShown: progressShown(tick),
      },
      { verbose: flags.verbose === true },
    );
    await pushTickMetrics(tick, {
      exitCode,
      results,
      failures,
      liveRuns: queue === undefined ? null : queue.inProgress.length,
      queueDepth: queue === undefined ? null : stillWaiting(queue, dispatched),
      escalations: null,
    });
    return exitCode;
  };
  const unreadable = (what: string, error: unknown) =>
    report(EXIT.upstreamUnreadable, recordUnreadable(tick, what, error));

  const read = await readQueue(tracker, config, repos);
  for (const { repo, error } of read.unreadableRepos) {
    recordRepoUnreadable(tick, repo, `cannot list its issues, left out of this tick: ${error}`);
  }
  if (read.unreadableRepos.length === repos.length) {
    const summary = `poll: stopped, cannot list issues in any repo (${repos.length} unreadable)`;
    logSummary(tick, {}, summary, 'error');
    return report(EXIT.upstreamUnreadable, summary);
  }
  queue = read;

  const { selected, skipped } = await selectWithTrust(tracker, config, queue, failures);
  const plan: Action[] = planLabelRepairs(config, queue.inProgress);
  const dispatching: string[] = [];

  if (selected.length > 0) {
    let snapshot, selfLogin;
    try {
      [snapshot, selfLogin] = await Promise.all([t3.readSnapshot(), tracker.getSelfLogin()]);
    } catch (error) {
      return unreadable('cannot read what a dispatch needs', error);
    }
    const comments = await mapLimit(selected, READ_CONCURRENCY, (issue) =>
      tracker.listComments(issue).then(
        (list) => ({ ok: true as const, list }),
        (error: unknown) => ({ ok: false as const, error: describeError(error) }),
      ),
    );
    selected.forEach((issue, i) => {
      const read = comments[i];
      if (read === undefined || !read.ok) {
        failures.push({ issue, error: `cannot read its comments: ${read?.error ?? 'no answer'}` });
        return;
      }
      const decided = planDispatch({
        config,
        issue,
        afkComment: findAfkComment(read.list, selfLogin),
        snapshot,
        now: runtime.now(),
      });
      if (!decided.ok) {
        failures.push({ issue, error: decided.reason });
        return;
      }
      dispatching.push(issueKey(issue));
      plan.push(...decided.actions);
    });
  }

  const waiting: Waiting[] = skipped;
  const { results, notStarted } = await executeTick(tick, plan);
  const failedIssues = new Set(
    results.filter((r) => r.status !== 'done').map((r) => issueKey(r.action.issue)),
  );
  const dispatched = dispatching.filter((key) => !failedIssues.has(key));
  const failed = failures.length + results.filter((r) => r.status === 'failed').length;
  const verb = flags.mode === 'live' ? 'dispatched' : 'would dispatch';
  const summary = `poll: ${verb} ${dispatched.length}${dispatched.length > 0 ? ` (${dispatched.join(', ')})` : ''}; ${waiting.length} waiting; ${failed} failed${stopNote(tick, notStarted)}`;
  logSummary(tick, { dispatched, waiting: waiting.length, failed, notStarted }, summary);
  return report(failed + notStarted > 0 ? EXIT.actionFailed : EXIT.ok, summary, {
    plan,
    results,
    waiting,
    dispatched,
  });
}

/** Ready issues left waiting: neither dispatched now nor already a live run. */
function stillWaiting(queue: Queue, dispatched: string[]) {
  const gone = new Set([...dispatched, ...queue.inProgress.map(issueKey)]);
  return queue.ready.filter((issue) => !gone.has(issueKey(issue))).length;
}

interface ReportParts {
  plan: Action[];
  results: ActionResult[];
  waiting: Waiting[];
  dispatched: string[];
}

export interface Queue {
  ready: Issue[];
  inProgress: Issue[];
  /** Repos left out of this tick: neither their queue nor their live runs are known. */
  unreadableRepos: UnreadableRepo[];
}

/**
 * The ready queue (open issues) and the live runs (open or closed: a closed issue still
 * holding the lock is a run watch has not wound down yet, and it still counts), per repo.
 */
async function readQueue(tracker: Tracker, config: Config, repos: RepoName[]): Promise<Queue> {
  const lists = await readEachRepo(repos, READ_CONCURRENCY / 2, (repo) =>
    Promise.all([
      tracker.listLabelledIssues(repo, config.labels.ready, 'open'),
      tracker.listLabelledIssues(repo, config.labels.inProgress, 'all'),
    ]),
  );
  return {
    ready: lists.read.flatMap(({ value: [r] }) => r),
    inProgress: lists.read.flatMap(({ value: [, p] }) => p),
    unreadableRepos: lists.unreadable,
  };
}

/**
 * Selection needs to know who applied each ready label, but only for issues that would be
 * dispatched: look those up, decide again, and repeat while an untrusted labeler freed a slot.
 */
export async function selectWithTrust(
  tracker: Tracker,
  config: Config,
  queue: Queue,
  failures: Failure[],
) {
  const trust = new Map<string, TrustFact>();
  const permissions = new Map<string, Promise<Permission>>();
  const permissionOf = (repo: string, login: string) => {
    const key = `${repo}\u0000${login.toLowerCase()}`;
    let known = permissions.get(key);
    if (known === undefined) {
      known = tracker.getPermission(repo, login);
      permissions.set(key, known);
    }
    return known;
  };
  const readTrust = async (issue: Issue): Promise<TrustFact> => {
    try {
      const labeler = findLabeler(await tracker.listLabelEvents(issue), config.labels.ready);
      const needs = labeler !== null && trustNeedsPermission(config.trust.labelers);
      const permission = needs ? await permissionOf(issue.repo, labeler) : null;
      return { ok: true, labeler, permission };
    } catch (error) {
      const message = `cannot tell who applied ${config.labels.ready}: ${describeError(error)}`;
      failures.push({ issue, error: message });
      return { ok: false, error: message };
    }
  };

  const { ready, inProgress } = queue;
  const unreadableRepos = queue.unreadableRepos.map((u) => u.repo);
  const select = () => selectDispatchable({ config, ready, inProgress, trust, unreadableRepos });
  let selection = select();
  while (selection.needTrust.length > 0) {
    const facts = await mapLimit(selection.needTrust, READ_CONCURRENCY, readTrust);
    selection.needTrust.forEach((issue, i) => trust.set(issueKey(issue), facts[i] as TrustFact));
    selection = select();
  }
  return { ...selection, trust };
}
