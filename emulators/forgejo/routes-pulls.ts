// The Forgejo fake's pull request, branch and compare endpoints.
import { compare, type CommitRecord } from '../forge-core.js';
import { notFound, Refusal, unsupported } from './errors.js';
import type { Route, Server } from './server.js';
import type { ForgejoState, IssueRecord, PullRecord, RepoRecord, ReviewRecord } from './state.js';
import type { Wire } from './wire.js';

export function createPullRoutes(state: ForgejoState, wire: Wire, server: Server) {
  const { selfCan, commitOf, historyOf } = state;
  const { payloadCommitJson, commitJson, pullJson, reviewJson, reviewCommentJson } = wire;
  const { answer, repoOf, listOptions, pageOf, linkHeader, totalCount } = server;

  const listPulls: Route = ({ url, params }) => {
    const repo = repoOf(params);
    const query = url.searchParams;
    unsupported(query, ['state', 'sort', 'page', 'limit']);
    const state = (query.get('state') ?? '').trim();
    const sort = (query.get('sort') ?? '').trim();
    if (!['', 'oldest', 'recentupdate', 'leastupdate'].includes(sort)) {
      throw new Refusal(501, `forgejo fake: sort "${sort}" is not implemented`);
    }
    const key = (issue: IssueRecord) =>
      sort === 'recentupdate' || sort === 'leastupdate' ? issue.updatedAt : issue.createdAt;
    const matching = [...repo.pulls.values()]
      .map((pull) => ({ pull, issue: repo.issues.get(pull.number) }))
      .filter((e): e is { pull: PullRecord; issue: IssueRecord } => e.issue !== undefined)
      .filter(({ issue }) =>
        state === 'open' || state === 'closed' ? issue.state === state : true,
      )
      .sort((a, b) => compare(key(a.issue), key(b.issue)) || a.issue.id - b.issue.id);
    if (sort !== 'oldest' && sort !== 'leastupdate') matching.reverse();
    const options = listOptions(url);
    return answer(
      200,
      pageOf(matching, options).map(({ pull }) => pullJson(repo, pull)),
      {
        ...linkHeader(url, matching.length, options.size, options.page),
        ...totalCount(matching.length),
      },
    );
  };

  const pullOf = (repo: RepoRecord, params: Record<string, string>): PullRecord => {
    const pull = repo.pulls.get(Number(params['index']));
    if (pull === undefined) {
      throw notFound(
        `pull request does not exist [id: 0, issue_id: 0, head_repo_id: 0, base_repo_id: ${repo.id}, head_branch: , base_branch: ]`,
      );
    }
    return pull;
  };

  const getPull: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    return answer(200, pullJson(repo, pullOf(repo, params)));
  };

  // A pending review is listed to its author (or a site admin) only. Paged with X-Total-Count
  // and no Link header. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/pull_review.go
  const isVisible = (review: ReviewRecord) =>
    review.state !== 'PENDING' || review.author.toLowerCase() === state.selfLogin.toLowerCase();

  const listReviews: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, ['page', 'limit']);
    const pull = pullOf(repo, params);
    const options = listOptions(url);
    const visible = pull.reviews.filter(isVisible);
    return answer(
      200,
      pageOf(visible, options).map((review) => reviewJson(repo, pull, review)),
      totalCount(visible.length),
    );
  };

  // Not paged; a review of another pull request, or someone else's pending one, is a 404.
  const listReviewComments: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const pull = pullOf(repo, params);
    const id = Number(params['id']);
    const review = pull.reviews.find((r) => r.id === id);
    if (review === undefined || !isVisible(review)) {
      throw notFound(`review does not exist [id: ${id}]`);
    }
    return answer(
      200,
      review.comments.map((comment) => reviewCommentJson(repo, pull, review, comment)),
    );
  };

  const getBranch: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const name = params['0'] ?? '';
    const tip = repo.branches.get(name);
    const commit = tip === undefined ? undefined : repo.commits.get(tip);
    if (commit === undefined) {
      throw notFound(`branch does not exist [name: ${name}]`);
    }
    return answer(200, {
      name,
      commit: payloadCommitJson(repo, commit),
      protected: false,
      required_approvals: 0,
      enable_status_check: false,
      status_check_contexts: [],
      user_can_push: selfCan(repo, 'write'),
      user_can_merge: selfCan(repo, 'write'),
      effective_branch_protection_name: '',
    });
  };

  // The latest status of each context, a page of contexts at a time (newest first). With no
  // statuses at all: Go's zero CombinedStatus, `state: ""`, and no X-Total-Count. The combined
  // state is the worst by error < failure < warning < pending < success, error shown as
  // failure. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/status.go
  const compareCommits: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, ['files', 'verification']);
    const spec = params['0'] ?? '';
    const parts = spec.includes('...') ? spec.split('...') : spec.split('..');
    const [baseRef, headRef] = parts.length === 2 ? parts : [repo.defaultBranch, spec];
    if (baseRef === undefined || headRef === undefined) throw notFound();
    if (headRef.includes(':')) {
      throw new Refusal(501, 'forgejo fake: comparing across forks is not implemented');
    }
    // parseCompareInfo names the side it could not resolve in the 404's message.
    const baseCommit = commitOf(repo, baseRef);
    if (baseCommit === undefined) throw new Refusal(404, 'BaseNotExist', []);
    const headCommit = commitOf(repo, headRef);
    if (headCommit === undefined) throw new Refusal(404, 'IsRefExist', []);
    const inBase = historyOf(repo, baseCommit);
    const inHead = historyOf(repo, headCommit);
    if (![...inHead].some((sha) => inBase.has(sha))) throw new Refusal(500, '');
    const commits = [...inHead]
      .filter((sha) => !inBase.has(sha))
      .map((sha) => repo.commits.get(sha))
      .filter((commit): commit is CommitRecord => commit !== undefined)
      .sort((a, b) => b.order - a.order);
    return answer(200, {
      total_commits: commits.length,
      commits: commits.map((commit) => commitJson(repo, commit)),
      files: [],
    });
  };

  return { listPulls, getPull, listReviews, listReviewComments, getBranch, compareCommits };
}
