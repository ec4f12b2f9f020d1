// The GitHub fake's pull request and commit endpoints: listing pull requests by head, and
// comparing two commits.
import { compare, type CommitRecord } from '../forge-core.js';
import { docs, oneOf, Refusal, unsupported } from './errors.js';
import type { Server, Route } from './server.js';
import {
  readMergeable,
  visibleReviews,
  type GitHubState,
  type IssueRecord,
  type PullRecord,
  type RepoRecord,
} from './state.js';
import type { Wire } from './wire.js';

export function createPullRoutes(state: GitHubState, wire: Wire, server: Server) {
  const { baseUrl, webUrl, commitOf, historyOf } = state;
  const { commitJson, pullJson, fullPullJson, reviewJson, reviewCommentJson } = wire;
  const { answer, repoOf, page, paginate } = server;

  const listPullsDocs = `${docs}/pulls/pulls#list-pull-requests`;
  const listPulls: Route = ({ url, params }) => {
    const repo = repoOf(params, listPullsDocs);
    const query = url.searchParams;
    unsupported(query, ['state', 'head', 'base', 'sort', 'direction', 'per_page', 'page']);
    const state = oneOf(
      query.get('state') ?? 'open',
      ['open', 'closed', 'all'],
      'state',
      listPullsDocs,
    );
    const sort = query.get('sort') ?? 'created';
    if (sort === 'popularity' || sort === 'long-running') {
      throw new Refusal(501, `github fake: sort "${sort}" is not implemented`);
    }
    oneOf(sort, ['created', 'updated'], 'sort', listPullsDocs);
    // The default direction is desc for `created`, asc for the other sorts.
    const direction = oneOf(
      query.get('direction') ?? (sort === 'created' ? 'desc' : 'asc'),
      ['asc', 'desc'],
      'direction',
      listPullsDocs,
    );
    const head = headFilter(query.get('head'));
    const base = query.get('base');
    const key = (issue: IssueRecord) => (sort === 'updated' ? issue.updatedAt : issue.createdAt);
    const matching = [...repo.pulls.values()]
      .map((pull) => ({ pull, issue: repo.issues.get(pull.number) }))
      .filter(
        (entry): entry is { pull: PullRecord; issue: IssueRecord } => entry.issue !== undefined,
      )
      .filter(({ issue }) => state === 'all' || issue.state === state)
      .filter(
        ({ pull }) =>
          head === undefined ||
          (head.owner.toLowerCase() === repo.owner.toLowerCase() && head.ref === pull.head),
      )
      .filter(() => base === null || base === repo.defaultBranch)
      .sort((a, b) => compare(key(a.issue), key(b.issue)) || a.pull.number - b.pull.number);
    if (direction === 'desc') matching.reverse();
    return page(
      url,
      repo,
      matching.map(({ pull }) => pullJson(repo, pull)),
    );
  };

  const pullOf = (repo: RepoRecord, params: Record<string, string>, documentation: string) => {
    const pull = repo.pulls.get(Number(params['number']));
    if (pull === undefined) throw new Refusal(404, 'Not Found', documentation);
    return pull;
  };

  // `mergeable` is computed in the background (shared with GraphQL's `mergeable`).
  const getPullDocs = `${docs}/pulls/pulls#get-a-pull-request`;
  const getPull: Route = ({ url, params }) => {
    const repo = repoOf(params, getPullDocs);
    unsupported(url.searchParams, []);
    const pull = pullOf(repo, params, getPullDocs);
    const { mergeable, state: mergeableState } = readMergeable(repo, pull);
    return answer(200, fullPullJson(repo, pull, mergeable, mergeableState));
  };

  // Chronological; a pending review is listed to its author only, never to afk.
  const listReviewsDocs = `${docs}/pulls/reviews#list-reviews-for-a-pull-request`;
  const listReviews: Route = ({ url, params }) => {
    const repo = repoOf(params, listReviewsDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    const pull = pullOf(repo, params, listReviewsDocs);
    const visible = visibleReviews(pull, state.selfLogin);
    return page(
      url,
      repo,
      visible.map((review) => reviewJson(repo, pull, review)),
    );
  };

  // Oldest first; the comments of a pending review are not shown to anyone else.
  const listReviewCommentsDocs = `${docs}/pulls/comments#list-review-comments-on-a-pull-request`;
  const listReviewComments: Route = ({ url, params }) => {
    const repo = repoOf(params, listReviewCommentsDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    const pull = pullOf(repo, params, listReviewCommentsDocs);
    const shown = new Set(visibleReviews(pull, state.selfLogin).map((r) => r.id));
    const visible = pull.reviewComments.filter((comment) => shown.has(comment.reviewId));
    return page(
      url,
      repo,
      visible.map((comment) => reviewCommentJson(repo, pull, comment)),
    );
  };

  const compareDocs = `${docs}/commits/commits#compare-two-commits`;
  const compareCommits: Route = ({ url, params }) => {
    const repo = repoOf(params, compareDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    const basehead = params['basehead'] ?? '';
    const [baseRef, headRef, ...extra] = basehead.split('...');
    if (baseRef === undefined || headRef === undefined || extra.length > 0) {
      throw new Refusal(404, 'Not Found', compareDocs);
    }
    if (basehead.includes(':')) {
      throw new Refusal(501, 'github fake: comparing across forks is not implemented');
    }
    const base = commitOf(repo, baseRef);
    const head = commitOf(repo, headRef);
    if (base === undefined || head === undefined) throw new Refusal(404, 'Not Found', compareDocs);
    const inBase = historyOf(repo, base);
    const inHead = historyOf(repo, head);
    const common = [...inHead].filter((sha) => inBase.has(sha));
    if (common.length === 0) {
      throw new Refusal(404, `No common ancestor between ${baseRef} and ${headRef}.`, compareDocs);
    }
    const commits = (shas: Iterable<string>) =>
      [...shas]
        .map((sha) => repo.commits.get(sha))
        .filter((commit): commit is CommitRecord => commit !== undefined)
        .sort((a, b) => a.order - b.order);
    const ahead = commits([...inHead].filter((sha) => !inBase.has(sha)));
    const behind = [...inBase].filter((sha) => !inHead.has(sha)).length;
    const mergeBase = commits(common).at(-1) ?? base;
    const status =
      ahead.length === 0 && behind === 0
        ? 'identical'
        : behind === 0
          ? 'ahead'
          : ahead.length === 0
            ? 'behind'
            : 'diverged';
    // Without paging parameters the list stops at 250 commits.
    const { slice, headers } = paginate(
      url,
      repo,
      ahead.map((commit) => commitJson(repo, commit)),
      250,
    );
    const path = `${repo.fullName}/compare/${basehead}`;
    return answer(
      200,
      {
        url: `${baseUrl}/repos/${path}`,
        html_url: `${webUrl}/${path}`,
        permalink_url: `${webUrl}/${repo.fullName}/compare/${base.sha}...${head.sha}`,
        diff_url: `${webUrl}/${path}.diff`,
        patch_url: `${webUrl}/${path}.patch`,
        base_commit: commitJson(repo, base),
        merge_base_commit: commitJson(repo, mergeBase),
        status,
        ahead_by: ahead.length,
        behind_by: behind,
        total_commits: ahead.length,
        commits: slice,
        files: [],
      },
      headers,
    );
  };

  return { listPulls, getPull, listReviews, listReviewComments, compareCommits };
}

/** `owner:branch`, or undefined: GitHub ignores a `head` without an owner and lists them all. */
function headFilter(head: string | null): { owner: string; ref: string } | undefined {
  if (head === null) return undefined;
  const colon = head.indexOf(':');
  if (colon <= 0) return undefined;
  return { owner: head.slice(0, colon), ref: head.slice(colon + 1) };
}
