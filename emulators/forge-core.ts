// The logic the GitHub and Forgejo fakes share, where the two forges behave alike: the request
// log with its injected failures, and the git history (commits, branches, pull requests' heads
// and merges). Wire shapes, error bodies, headers and status codes stay in each fake: they
// pass in what differs.
import { createHash } from 'node:crypto';
import { delay, HttpResponse } from 'msw';
import type {
  FakeFailure,
  FakePullRequestInput,
  FakeReviewInput,
  RecordedRequest,
  RequestMatch,
} from './forge.js';

// --- the request log and injected failures ------------------------------------------------

interface PendingFailure {
  match: RequestMatch;
  answer: FakeFailure;
  remaining: number;
}

/**
 * Every request a fake receives, in order, and the failures a test has asked for. `basePath`
 * is the API base's path (`/api/v3`, `/api/v1`), cut from the recorded paths.
 */
export function createRequestLog(basePath: string) {
  const requests: RecordedRequest[] = [];
  const failures: PendingFailure[] = [];

  /**
   * Records the request before anything can refuse it. The body is parsed JSON, or the raw
   * text (and `parseError`) when it is not JSON.
   */
  const record = async (request: Request) => {
    const url = new URL(request.url);
    const rawBody =
      request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
    let body: unknown;
    let parseError: string | undefined;
    if (rawBody !== '') {
      try {
        body = JSON.parse(rawBody);
      } catch (error) {
        body = rawBody;
        parseError = error instanceof Error ? error.message : String(error);
      }
    }
    const recorded: RecordedRequest = {
      method: request.method,
      path: url.pathname.slice(basePath.length),
      search: url.search,
      query: Object.fromEntries(url.searchParams),
      body,
      headers: Object.fromEntries(request.headers),
    };
    requests.push(recorded);
    return { recorded, url, rawBody, parseError };
  };

  /** The injected failure this request takes, if any; each takes one of its `times`. */
  const takeFailure = (recorded: RecordedRequest): FakeFailure | undefined => {
    const index = failures.findIndex(({ match }) => matches(match, recorded));
    const pending = failures[index];
    if (pending === undefined) return undefined;
    pending.remaining -= 1;
    if (pending.remaining <= 0) failures.splice(index, 1);
    return pending.answer;
  };

  return {
    requests,
    record,
    takeFailure,
    writes: () => requests.filter((r) => r.method !== 'GET'),
    failNext(match: RequestMatch, answer: FakeFailure, times = 1) {
      failures.push({ match, answer, remaining: times });
    },
    clearFailures() {
      failures.length = 0;
    },
  };
}

/**
 * The answer to an injected failure. `answer` is the fake's own (with its headers);
 * `errorBody` is the forge's error body for a status given without one.
 */
export async function failureAnswer(
  failure: FakeFailure,
  answer: (status: number, body: unknown, headers?: Record<string, string>) => Response,
  errorBody: (status: number) => unknown,
): Promise<Response> {
  if (failure === 'network-error') return HttpResponse.error();
  if (failure === 'timeout') {
    await delay('infinite');
    return HttpResponse.error();
  }
  if (failure === 'malformed') return answer(200, { unexpected: 'shape' });
  const body =
    failure.body === undefined && failure.status >= 400 ? errorBody(failure.status) : failure.body;
  return answer(failure.status, body, failure.headers);
}

function matches(match: RequestMatch, request: RecordedRequest): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== request.method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string'
    ? match.path === request.path
    : match.path.test(request.path);
}

/** msw's route parameters, keeping the single-valued ones. */
export function flatten(
  params: Record<string, string | readonly string[] | undefined>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === 'string') flat[key] = value;
  }
  return flat;
}

// --- commits, branches and pull requests ------------------------------------------------

export interface CommitRecord {
  sha: string;
  parents: string[];
  /** Push order: the compare endpoints list commits by it. */
  order: number;
  createdAt: string;
}

/** What the git history needs of a fake's repository record. */
export interface GraphRepo {
  defaultBranch: string;
  commits: Map<string, CommitRecord>;
  branches: Map<string, string>;
  pulls: Map<number, GraphPull & { head: string }>;
  issues: Map<number, { state: 'open' | 'closed'; closedAt: string | null; updatedAt: string }>;
}

export interface GraphPull {
  number: number;
  headSha: string;
  mergedAt: string | null;
  mergeCommitSha: string | null;
}

/**
 * Commits, branches and merges, alike on both forges. `fake` names the fake in the errors a
 * test's mistake raises (`github fake`); `stamp` is its clock; `notOpenNote` ends the error for
 * merging or closing a pull request that is not open (what the real forge would answer).
 */
export function createCommitGraph(fake: string, stamp: () => string, notOpenNote = '') {
  /** A full, lower-case sha; the fake refuses anything else as a commit id. */
  const fullSha = (sha: string): string => {
    const key = sha.toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(key)) throw new Error(`${fake}: "${sha}" is not a full sha`);
    return key;
  };

  const pushTo = (repo: GraphRepo, branch: string, sha: string, parents?: string[]): string => {
    const key = fullSha(sha);
    if (!repo.commits.has(key)) {
      const tip = repo.branches.get(branch) ?? repo.branches.get(repo.defaultBranch);
      const given = (parents ?? (tip === undefined ? [] : [tip])).map(fullSha);
      const missing = given.find((parent) => !repo.commits.has(parent));
      if (missing !== undefined) throw new Error(`${fake}: parent ${missing} was never pushed`);
      repo.commits.set(key, {
        sha: key,
        parents: given,
        order: repo.commits.size,
        createdAt: stamp(),
      });
    }
    // An existing commit just moves the branch, like a reset or a fast-forward.
    repo.branches.set(branch, key);
    // An open pull request follows its head branch; a closed one keeps its last head.
    for (const pull of repo.pulls.values()) {
      if (pull.head === branch && repo.issues.get(pull.number)?.state === 'open') {
        pull.headSha = key;
      }
    }
    return key;
  };

  /** A ref as git resolves it: a branch name, a full sha, or an unambiguous abbreviation. */
  const commitOf = (repo: GraphRepo, ref: string): CommitRecord | undefined => {
    const tip = repo.branches.get(ref);
    if (tip !== undefined) return repo.commits.get(tip);
    const key = ref.toLowerCase();
    if (!/^[0-9a-f]{7,40}$/.test(key)) return undefined;
    const found = [...repo.commits.values()].filter((commit) => commit.sha.startsWith(key));
    return found.length === 1 ? found[0] : undefined;
  };

  /** The commit and all it descends from. */
  const historyOf = (repo: GraphRepo, commit: CommitRecord): Set<string> => {
    const seen = new Set<string>();
    const stack = [commit.sha];
    for (let sha = stack.pop(); sha !== undefined; sha = stack.pop()) {
      if (seen.has(sha)) continue;
      seen.add(sha);
      stack.push(...(repo.commits.get(sha)?.parents ?? []));
    }
    return seen;
  };

  /** The merge commit lands on the default branch and closes the pull request's issue. */
  const mergeInto = (repo: GraphRepo, pull: GraphPull, sha: string, at: string) => {
    const tip = repo.branches.get(repo.defaultBranch);
    const parents = [...(tip === undefined ? [] : [tip]), pull.headSha];
    pull.mergeCommitSha = pushTo(repo, repo.defaultBranch, sha, parents);
    pull.mergedAt = at;
    const issue = repo.issues.get(pull.number);
    if (issue !== undefined && issue.state === 'open') {
      issue.state = 'closed';
      issue.closedAt = at;
      issue.updatedAt = at;
    }
  };

  /**
   * The first steps of the test-facing `addPullRequest`: the pull request's number (the next
   * issue number unless given, as both forges number them), and its head branch pushed to
   * `headSha` when it does not end there yet.
   */
  const startPull = (repo: GraphRepo, name: string, input: FakePullRequestInput) => {
    const number = input.number ?? Math.max(0, ...repo.issues.keys()) + 1;
    if (repo.issues.has(number)) throw new Error(`${fake}: ${name}#${number} exists`);
    if (input.merged === true && input.mergeCommitSha === undefined) {
      throw new Error(`${fake}: a merged pull request needs its mergeCommitSha`);
    }
    const headSha = fullSha(input.headSha);
    if (repo.branches.get(input.head) !== headSha) pushTo(repo, input.head, headSha);
    return { number, headSha };
  };

  /** An open pull request and its issue; merging or closing anything else is an error. */
  const openPull = (repo: GraphRepo, name: string, number: number) => {
    const pull = repo.pulls.get(number);
    const issue = repo.issues.get(number);
    if (pull === undefined || issue === undefined) {
      throw new Error(`${fake}: no pull request ${name}#${number}`);
    }
    if (issue.state !== 'open') {
      throw new Error(`${fake}: ${name}#${number} is not open${notOpenNote}`);
    }
    return { pull, issue };
  };

  /** The test-facing `mergePullRequest`: the merge commit lands on the default branch. */
  const mergePull = (repo: GraphRepo, name: string, number: number, sha: string) => {
    mergeInto(repo, openPull(repo, name, number).pull, sha, stamp());
  };

  /** The test-facing `closePullRequest`: closed without merging. */
  const closePull = (repo: GraphRepo, name: string, number: number) => {
    const { issue } = openPull(repo, name, number);
    const at = stamp();
    issue.state = 'closed';
    issue.closedAt = at;
    issue.updatedAt = at;
  };

  /** The test-facing `advanceBase`: a new commit on the default branch, the base of every pull. */
  const advanceBase = (repo: GraphRepo, name: string, number: number): string => {
    if (!repo.pulls.has(number)) throw new Error(`${fake}: no pull request ${name}#${number}`);
    const sha = fakeSha(`base:${name}#${number}:${repo.commits.size}`);
    return pushTo(repo, repo.defaultBranch, sha);
  };

  return {
    fullSha,
    pushTo,
    commitOf,
    historyOf,
    mergeInto,
    startPull,
    mergePull,
    closePull,
    advanceBase,
  };
}

/**
 * What both forges refuse in a review: a change request without a body, a comment review with
 * neither body nor line comments (GitHub answers 422, Forgejo 422 "requires a body").
 */
export function checkReview(fake: string, review: FakeReviewInput): void {
  const hasBody = (review.body ?? '').trim() !== '';
  if (review.state === 'changes-requested' && !hasBody) {
    throw new Error(`${fake}: a change request needs a body (the forge answers 422)`);
  }
  if (review.state === 'commented' && !hasBody && (review.comments ?? []).length === 0) {
    throw new Error(`${fake}: a comment review needs a body or comments (the forge answers 422)`);
  }
  for (const comment of review.comments ?? []) {
    if (!Number.isInteger(comment.line) || comment.line < 1) {
      throw new Error(`${fake}: a line comment needs a line from 1`);
    }
  }
}

// --- small helpers ---------------------------------------------------------------------------

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A stable id per login, as GitHub's and Forgejo's are. */
export function userId(login: string): number {
  let hash = 7;
  for (const char of login.toLowerCase()) hash = (hash * 31 + char.charCodeAt(0)) % 100_000_000;
  return hash;
}

/** A stable sha-shaped id for objects the fake invents (test merges, trees). */
export function fakeSha(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}
