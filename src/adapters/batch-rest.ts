// The batched reads of the `Tracker` port (`readQueues`, `prefetchRuns`) for a forge without
// GraphQL (Forgejo): the same REST reads the ticks made before there was a batch, one repo or
// run at a time, so that the requests such a forge sees do not change.
import {
  ConfigError,
  type Issue,
  type IssueComment,
  type IssueRef,
  type QueueLabels,
  type RepoAnswer,
  type RepoName,
  type RepoQueue,
  type RunAnswer,
  type RunPrefetch,
} from '../core/index.js';
import { mapLimit } from './map-limit.js';

/** Listings at once: as many as the ticks ran when they listed repo by repo. */
const REPO_CONCURRENCY = 4;
const RUN_CONCURRENCY = 4;

interface RestReads {
  listLabelledIssues(repo: RepoName, label: string, state: 'open' | 'all'): Promise<Issue[]>;
  listComments(issue: IssueRef): Promise<IssueComment[]>;
}

export function readQueuesByRepo(
  reads: RestReads,
  repos: readonly RepoName[],
  labels: QueueLabels,
): Promise<Array<RepoAnswer<RepoQueue>>> {
  return mapLimit(repos, REPO_CONCURRENCY, async (repo) => {
    try {
      const open = (label: string | undefined) =>
        label === undefined ? Promise.resolve([]) : reads.listLabelledIssues(repo, label, 'open');
      const [ready, inProgress, human] = await Promise.all([
        open(labels.ready),
        reads.listLabelledIssues(repo, labels.inProgress, 'all'),
        open(labels.human),
      ]);
      return { repo, ok: true as const, value: { ready, inProgress, human } };
    } catch (error) {
      // A configuration error is nobody's repo: it goes up as exit 2.
      if (error instanceof ConfigError) throw error;
      return { repo, ok: false as const, error };
    }
  });
}

/** Only the comments: the evidence is read as each decision asks for it, as it always was. */
export function prefetchComments(
  reads: RestReads,
  runs: readonly RunPrefetch[],
): Promise<RunAnswer[]> {
  return mapLimit(runs, RUN_CONCURRENCY, async ({ issue }): Promise<RunAnswer> => {
    try {
      return { ok: true, comments: await reads.listComments(issue), evidence: {} };
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      return { ok: false, error };
    }
  });
}
