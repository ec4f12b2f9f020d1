// Reading the allow-listed repos one by one, so that one repo that cannot be read (404, 403,
// a timeout) is named and left out while every other repo's work goes on.
import { ConfigError, describeError, type RepoName } from '../core/index.js';
import { mapLimit } from './map-limit.js';

export interface UnreadableRepo {
  repo: RepoName;
  error: string;
}

export interface RepoReads<T> {
  /** The repos that were read, in the allowlist's order, with what was read. */
  read: Array<{ repo: RepoName; value: T }>;
  unreadable: UnreadableRepo[];
}

/**
 * Runs `read` for each repo, at most `limit` at once. A repo whose read fails is unreadable
 * as a whole: a half-read repo (its ready issues without its live runs) would be decided on
 * wrong facts. A configuration error is nobody's repo and goes up as exit 2.
 */
export async function readEachRepo<T>(
  repos: readonly RepoName[],
  limit: number,
  read: (repo: RepoName) => Promise<T>,
): Promise<RepoReads<T>> {
  const answers = await mapLimit(repos, limit, async (repo) => {
    try {
      return { ok: true as const, repo, value: await read(repo) };
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      return { ok: false as const, repo, error: describeError(error) };
    }
  });
  const reads: RepoReads<T> = { read: [], unreadable: [] };
  for (const answer of answers) {
    if (answer.ok) reads.read.push({ repo: answer.repo, value: answer.value });
    else reads.unreadable.push({ repo: answer.repo, error: answer.error });
  }
  return reads;
}
