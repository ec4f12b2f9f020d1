// The Forgejo fake's commit status endpoints: the combined status and the list of statuses.
import type { FakeStatusInput } from '../forge.js';
import { Refusal, unsupported } from './errors.js';
import type { Route, Server } from './server.js';
import type { ForgejoState } from './state.js';
import type { Wire } from './wire.js';

// The combined status of a commit without statuses: Go's zero `CombinedStatus`, not GitHub's
// `pending`. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/status.go
const emptyCombinedStatus = {
  state: '',
  sha: '',
  total_count: 0,
  statuses: null,
  repository: null,
  commit_url: '',
  url: '',
};

// https://codeberg.org/forgejo/forgejo/src/branch/forgejo/modules/structs/commit_status.go
const statusRank: Record<FakeStatusInput['state'], number> = {
  error: 0,
  failure: 1,
  warning: 2,
  pending: 3,
  success: 4,
};

export function createStatusRoutes(state: ForgejoState, wire: Wire, server: Server) {
  const { statusSha, latestStatuses } = state;
  const { repoJson, statusJson } = wire;
  const { answer, repoOf, listOptions, pageOf, linkHeader, totalCount } = server;

  const getCombinedStatus: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, ['page', 'limit']);
    const sha = statusSha(repo, params['ref'] ?? '');
    const latest = latestStatuses(repo, sha).sort((a, b) => b.index - a.index);
    const rows = pageOf(latest, listOptions(url)).sort((a, b) => a.index - b.index);
    if (rows.length === 0) return answer(200, emptyCombinedStatus);
    const worst = rows.reduce<FakeStatusInput['state']>(
      (state, s) => (statusRank[s.state] <= statusRank[state] ? s.state : state),
      'success',
    );
    return answer(
      200,
      {
        state: worst === 'error' ? 'failure' : worst,
        sha,
        total_count: rows.length,
        statuses: rows.map((s) => statusJson(repo, s)),
        repository: repoJson(repo),
        commit_url: '',
        url: '',
      },
      totalCount(latest.length),
    );
  };

  const listStatuses: Route = ({ url, params }) => {
    const repo = repoOf(params);
    const query = url.searchParams;
    unsupported(query, ['sort', 'state', 'page', 'limit']);
    const sha = statusSha(repo, params['ref'] ?? '');
    const sort = query.get('sort') ?? '';
    if (!['', 'oldest', 'leastindex', 'highestindex'].includes(sort)) {
      throw new Refusal(501, `forgejo fake: sort "${sort}" is not implemented`);
    }
    const state = query.get('state') ?? '';
    const matching = repo.statuses
      .filter((s) => s.sha === sha)
      .filter((s) => !Object.hasOwn(statusRank, state) || s.state === state)
      .sort((a, b) => a.index - b.index);
    // created_unix DESC by default; `leastindex` is index DESC and `highestindex` index ASC,
    // as Forgejo (oddly) names them.
    if (sort === '' || sort === 'leastindex') matching.reverse();
    const options = listOptions(url);
    return answer(
      200,
      pageOf(matching, options).map((s) => statusJson(repo, s)),
      {
        ...linkHeader(url, matching.length, options.size, options.page),
        ...totalCount(matching.length),
      },
    );
  };

  // `{base}...{head}` (or `..`): the commits of head since the merge base, every one of them
  // (no pagination). An unknown ref is 404; two histories with no common ancestor make git
  // itself fail, which Forgejo reports as a 500 with an empty message.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/compare.go

  return { getCombinedStatus, listStatuses };
}
