// The GitHub fake's CI and deployment endpoints: check runs and the combined status of a
// commit, deployments and their statuses.
import { docs, oneOf, Refusal, unsupported } from './errors.js';
import type { Server, Route } from './server.js';
import type { GitHubState, RepoRecord } from './state.js';
import type { Wire } from './wire.js';

export function createCiRoutes(state: GitHubState, wire: Wire, server: Server) {
  const { commitOf } = state;
  const { apiRepoUrl, repoJson, checkRunJson, statusJson, deploymentJson, deploymentStatusJson } =
    wire;
  const { answer, repoOf, page, paginate } = server;

  /** The commit a CI route names; GitHub answers 422 for a ref it cannot resolve. */
  const ciCommitOf = (repo: RepoRecord, ref: string, documentation: string): string => {
    const sha = commitOf(repo, ref)?.sha ?? (repo.ciShas.has(ref.toLowerCase()) ? ref : undefined);
    if (sha === undefined) throw new Refusal(422, `No commit found for SHA: ${ref}`, documentation);
    return sha.toLowerCase();
  };

  const checkRunsDocs = `${docs}/checks/runs#list-check-runs-for-a-git-reference`;
  const listCheckRuns: Route = ({ url, params }) => {
    const repo = repoOf(params, checkRunsDocs);
    const query = url.searchParams;
    unsupported(query, ['check_name', 'status', 'filter', 'per_page', 'page']);
    const sha = ciCommitOf(repo, params['ref'] ?? '', checkRunsDocs);
    const filter = oneOf(
      query.get('filter') ?? 'latest',
      ['latest', 'all'],
      'filter',
      checkRunsDocs,
    );
    const status = query.get('status');
    if (status !== null) {
      oneOf(status, ['queued', 'in_progress', 'completed'], 'status', checkRunsDocs);
    }
    const name = query.get('check_name');
    const onCommit = repo.checkRuns.filter((run) => run.headSha === sha);
    // `latest` keeps the newest run of each name: a re-run hides the run it repeats.
    const runs = onCommit
      .filter(
        (run) =>
          filter === 'all' ||
          !onCommit.some((other) => other.name === run.name && other.id > run.id),
      )
      .filter((run) => status === null || run.status === status)
      .filter((run) => name === null || run.name === name)
      .sort((a, b) => b.id - a.id);
    const { slice, headers } = paginate(
      url,
      repo,
      runs.map((run) => checkRunJson(repo, run)),
    );
    return answer(200, { total_count: runs.length, check_runs: slice }, headers);
  };

  const combinedStatusDocs = `${docs}/commits/statuses#get-the-combined-status-for-a-specific-reference`;
  const getCombinedStatus: Route = ({ url, params }) => {
    const repo = repoOf(params, combinedStatusDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    const sha = ciCommitOf(repo, params['ref'] ?? '', combinedStatusDocs);
    const all = repo.statuses.filter((status) => status.sha === sha);
    const latest = all
      .filter((status) => !all.some((o) => o.context === status.context && o.id > status.id))
      .sort((a, b) => b.id - a.id);
    // failure if any context failed or errored; pending if any is pending OR there are none
    // at all (the trap: an Actions-only repository reads "pending" here forever); else success.
    const state = latest.some((s) => s.state === 'failure' || s.state === 'error')
      ? 'failure'
      : latest.length === 0 || latest.some((s) => s.state === 'pending')
        ? 'pending'
        : 'success';
    const { slice, headers } = paginate(
      url,
      repo,
      latest.map((status) => statusJson(repo, status)),
    );
    return answer(
      200,
      {
        state,
        statuses: slice,
        sha,
        total_count: latest.length,
        repository: repoJson(repo),
        commit_url: `${apiRepoUrl(repo)}/commits/${sha}`,
        url: `${apiRepoUrl(repo)}/commits/${sha}/status`,
      },
      headers,
    );
  };

  const listDeploymentsDocs = `${docs}/deployments/deployments#list-deployments`;
  const listDeployments: Route = ({ url, params }) => {
    const repo = repoOf(params, listDeploymentsDocs);
    const query = url.searchParams;
    unsupported(query, ['sha', 'ref', 'task', 'environment', 'per_page', 'page']);
    const wanted = (name: string, value: string) => {
      const given = query.get(name);
      return given === null || given === value;
    };
    const matching = repo.deployments
      .filter((d) => wanted('sha', d.sha) && wanted('ref', d.ref) && wanted('task', 'deploy'))
      .filter((d) => wanted('environment', d.environment))
      .sort((a, b) => b.id - a.id);
    return page(
      url,
      repo,
      matching.map((deployment) => deploymentJson(repo, deployment)),
    );
  };

  const deploymentStatusesDocs = `${docs}/deployments/statuses#list-deployment-statuses`;
  const listDeploymentStatuses: Route = ({ url, params }) => {
    const repo = repoOf(params, deploymentStatusesDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    const id = Number(params['deployment_id']);
    const deployment = repo.deployments.find((d) => d.id === id);
    if (deployment === undefined) throw new Refusal(404, 'Not Found', deploymentStatusesDocs);
    return page(
      url,
      repo,
      [...deployment.statuses]
        .reverse()
        .map((status) => deploymentStatusJson(repo, deployment, status)),
    );
  };

  return { listCheckRuns, getCombinedStatus, listDeployments, listDeploymentStatuses };
}
