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
  renderStatus,
  summarizeStatus,
  type AfkComment,
  type Config,
  type Issue,
  type RepoName,
  type StatusView,
  type T3Snapshot,
} from '../core/index.js';
import { selectWithTrust } from './poll.js';
import type { Failure } from './report.js';
import { readEachRepo } from './repos.js';
import { buildPorts, EXIT, loadScope, mapLimit, type Runtime } from './tick.js';

export interface StatusFlags {
  config?: string;
  output: 'text' | 'json';
  repo?: string;
  /** Rows per table in text; 0 shows all. */
  limit?: number;
}

/** Rows per table by default: a screenful, whatever the queue's length. */
export const DEFAULT_STATUS_LIMIT = 20;

const READ_CONCURRENCY = 8;

export async function status(flags: StatusFlags, runtime: Runtime, log: Logger): Promise<number> {
  // No gates: a view may look at a disarmed deployment.
  const { config, repos } = await loadScope(flags, runtime);
  const gates = { killSwitch: config.killSwitch, repos };
  const write = (exitCode: number, view: StatusView | null, summary: string) => {
    if (flags.output === 'json') {
      runtime.stdout.write(
        `${JSON.stringify({ command: 'status', exitCode, summary, gates, ...(view ?? {}) })}\n`,
      );
    } else {
      const limit = flags.limit ?? DEFAULT_STATUS_LIMIT;
      runtime.stdout.write(view === null ? `${summary}\n` : renderStatus(view, { limit }));
    }
    return exitCode;
  };

  if (repos.length === 0) {
    const summary = 'status: nothing to show: no repos are allow-listed (repos / AFK_REPOS)';
    log.info({ command: 'status' }, summary);
    return write(EXIT.ok, null, summary);
  }

  // Read-only adapters: a status can never write, whatever a bug would call.
  const { tracker, t3 } = await buildPorts(config, runtime, 'dry-run', { log });
  const unreadable = (what: string, error: unknown) => {
    if (error instanceof ConfigError) throw error;
    const summary = `status: stopped, ${what}: ${describeError(error)}`;
    log.error({ command: 'status' }, summary);
    return write(EXIT.upstreamUnreadable, null, summary);
  };

  const lists = await readEachRepo(repos, READ_CONCURRENCY / 2, (repo) =>
    listRepo(tracker, config, repo),
  );
  const failures = lists.unreadable.map(
    ({ repo, error }) => `${repo}: cannot list its issues: ${error}`,
  );
  for (const failure of failures) log.error({ command: 'status' }, failure);
  if (lists.read.length === 0) {
    return write(EXIT.upstreamUnreadable, null, `status: stopped, ${failures.join('; ')}`);
  }
  const ready = lists.read.flatMap(({ value: [r] }) => r);
  const inProgress = lists.read.flatMap(({ value: [, p] }) => p);
  const escalated = newestEscalations(lists.read.flatMap(({ value: [, , h] }) => h));

  // T3 knows only the turn and session of each run: without it the rest is still shown.
  const t3Read = inProgress.length > 0 ? readT3(t3) : Promise.resolve(noRuns);
  let selfLogin = '';
  try {
    const needSelf = inProgress.length > 0 || escalated.length > 0;
    selfLogin = needSelf ? await tracker.getSelfLogin() : '';
  } catch (error) {
    await t3Read;
    return unreadable('cannot tell which comments are afk’s', error);
  }
  const { snapshot, t3Unreadable } = await t3Read;
  if (t3Unreadable !== null) {
    log.error({ command: 'status' }, `status: T3 could not be read: ${t3Unreadable}`);
  }

  // The labelers of the issues poll would take next, looked up as poll does: an untrusted one
  // is shown with the reason poll will never start it.
  const trustFailures: Failure[] = [];
  const unreadableRepos = lists.unreadable.map((u) => u.repo);
  const { trust } = await selectWithTrust(
    tracker,
    config,
    { ready, inProgress, unreadableRepos: lists.unreadable },
    trustFailures,
  );
  for (const { issue, error } of trustFailures) {
    failures.push(`${issue === null ? 'status' : issueKey(issue)}: ${error}`);
  }
  const commentsOf = async (issue: Issue): Promise<AfkComment | null> => {
    try {
      return findAfkComment(await tracker.listComments(issue), selfLogin);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      failures.push(`${issueKey(issue)}: cannot read its comments: ${describeError(error)}`);
      return null;
    }
  };
  const [runComments, escalationComments] = await Promise.all([
    mapLimit(inProgress, READ_CONCURRENCY / 2, commentsOf),
    mapLimit(escalated, READ_CONCURRENCY / 2, commentsOf),
  ]);

  const now = runtime.now();
  const view: StatusView = {
    gates,
    runs: inProgress.map((issue, i) =>
      describeLiveRun({
        issue,
        afkComment: runComments[i] ?? null,
        snapshot,
        maxFixForwards: config.watch.maxFixForwards,
        now,
      }),
    ),
    queue: describeQueue({ config, ready, inProgress, trust, unreadableRepos }),
    escalations: escalated.map((issue, i) =>
      describeEscalation(issue, escalationComments[i] ?? null),
    ),
    failures,
    t3Unreadable,
  };
  const summary = summarizeStatus(view);
  log.info({ command: 'status', failures: failures.length }, summary);
  const exitCode =
    t3Unreadable !== null
      ? EXIT.upstreamUnreadable
      : failures.length > 0
        ? EXIT.actionFailed
        : EXIT.ok;
  return write(exitCode, view, summary);
}

/** No live run: nothing to ask T3. */
const emptySnapshot: T3Snapshot = { sequence: 0, detail: 'slim', projects: [], threads: [] };
const noRuns = { snapshot: emptySnapshot, t3Unreadable: null };

/** The snapshot, or why T3 could not be read (a configuration error still goes up). */
async function readT3(
  t3: Awaited<ReturnType<typeof buildPorts>>['t3'],
): Promise<{ snapshot: T3Snapshot | null; t3Unreadable: string | null }> {
  try {
    return { snapshot: await t3.readSnapshot(), t3Unreadable: null };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    return { snapshot: null, t3Unreadable: describeError(error) };
  }
}

function listRepo(
  tracker: Awaited<ReturnType<typeof buildPorts>>['tracker'],
  config: Config,
  repo: RepoName,
): Promise<[Issue[], Issue[], Issue[]]> {
  return Promise.all([
    tracker.listLabelledIssues(repo, config.labels.ready, 'open'),
    // Open or closed: a closed issue still holding the lock is a run watch winds down.
    tracker.listLabelledIssues(repo, config.labels.inProgress, 'all'),
    tracker.listLabelledIssues(repo, config.labels.human, 'open'),
  ]);
}
