// `afk status`: what afk is doing right now, for the human on call. Read-only, so it works
// with the kill switch on: the three label listings per repo, afk's comment on each live run
// and recent escalation, and the T3 snapshot. It never reads CI: the run records say enough.
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
import { buildPorts, EXIT, loadScope, mapLimit, type Runtime } from './tick.js';

export interface StatusFlags {
  config?: string;
  output: 'text' | 'json';
  repo?: string;
}

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
      runtime.stdout.write(view === null ? `${summary}\n` : renderStatus(view));
    }
    return exitCode;
  };

  if (repos.length === 0) {
    const summary = 'status: nothing to show: no repos are allow-listed (repos / AFK_REPOS)';
    log.info({ command: 'status' }, summary);
    return write(EXIT.ok, null, summary);
  }

  // Read-only adapters: a status can never write, whatever a bug would call.
  const { tracker, t3 } = await buildPorts(config, runtime, 'dry-run');
  const unreadable = (what: string, error: unknown) => {
    if (error instanceof ConfigError) throw error;
    const summary = `status: stopped, ${what}: ${describeError(error)}`;
    log.error({ command: 'status' }, summary);
    return write(EXIT.upstreamUnreadable, null, summary);
  };

  let lists: Array<[Issue[], Issue[], Issue[]]>;
  try {
    lists = await mapLimit(repos, READ_CONCURRENCY / 2, (repo) => listRepo(tracker, config, repo));
  } catch (error) {
    return unreadable('cannot list issues', error);
  }
  const ready = lists.flatMap(([r]) => r);
  const inProgress = lists.flatMap(([, p]) => p);
  const escalated = newestEscalations(lists.flatMap(([, , h]) => h));

  let snapshot: T3Snapshot = { sequence: 0, detail: 'slim', projects: [], threads: [] };
  let selfLogin = '';
  try {
    const needSelf = inProgress.length > 0 || escalated.length > 0;
    [snapshot, selfLogin] = await Promise.all([
      inProgress.length > 0 ? t3.readSnapshot() : Promise.resolve(snapshot),
      needSelf ? tracker.getSelfLogin() : Promise.resolve(''),
    ]);
  } catch (error) {
    return unreadable('cannot read the runs', error);
  }

  const failures: string[] = [];
  // The labelers of the issues poll would take next, looked up as poll does: an untrusted one
  // is shown with the reason poll will never start it.
  const trustFailures: Failure[] = [];
  const { trust } = await selectWithTrust(tracker, config, { ready, inProgress }, trustFailures);
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
    queue: describeQueue({ config, ready, inProgress, trust }),
    escalations: escalated.map((issue, i) =>
      describeEscalation(issue, escalationComments[i] ?? null),
    ),
    failures,
  };
  const summary = summarizeStatus(view);
  log.info({ command: 'status', failures: failures.length }, summary);
  return write(failures.length > 0 ? EXIT.upstreamUnreadable : EXIT.ok, view, summary);
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
