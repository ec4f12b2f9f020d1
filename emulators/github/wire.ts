// The GitHub fake's wire shapes: its records as api.github.com serialises them (URLs, node ids,
// author associations), so that afk's adapter reads what it would read from GitHub.
import type { FakeRole } from '../forge.js';
import { fakeSha, userId, type CommitRecord } from '../forge-core.js';
import {
  roleRank,
  type CheckRunRecord,
  type CommentRecord,
  type DeploymentRecord,
  type EventRecord,
  type GitHubState,
  type IssueRecord,
  type LabelRecord,
  type PullRecord,
  type ReactionRecord,
  type ReviewCommentRecord,
  type ReviewRecord,
  type RepoRecord,
  type StatusRecord,
} from './state.js';

export type Wire = ReturnType<typeof createWire>;

export function createWire(state: GitHubState) {
  const { baseUrl, webUrl, selfLogin, roleOf, caller } = state;

  const apiRepoUrl = (repo: RepoRecord) => `${baseUrl}/repos/${repo.fullName}`;

  const userJson = (login: string) => ({
    login,
    id: userId(login),
    node_id: `U_${userId(login)}`,
    avatar_url: `${webUrl}/avatars/${encodeURIComponent(login)}`,
    url: `${baseUrl}/users/${encodeURIComponent(login)}`,
    html_url: `${webUrl}/${encodeURIComponent(login)}`,
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
    site_admin: false,
  });

  const labelJson = (repo: RepoRecord, label: LabelRecord) => ({
    id: label.id,
    node_id: `LA_${label.id}`,
    url: `${apiRepoUrl(repo)}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: false,
    description: label.description,
  });

  const association = (repo: RepoRecord, login: string) =>
    login.toLowerCase() === repo.owner.toLowerCase()
      ? 'OWNER'
      : roleOf(repo, login) !== undefined
        ? 'COLLABORATOR'
        : 'NONE';

  const issueJson = (repo: RepoRecord, issue: IssueRecord) => {
    const url = `${apiRepoUrl(repo)}/issues/${issue.number}`;
    const htmlUrl = `${webUrl}/${repo.fullName}/${issue.isPullRequest ? 'pull' : 'issues'}/${issue.number}`;
    return {
      url,
      repository_url: apiRepoUrl(repo),
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: htmlUrl,
      id: issue.id,
      node_id: `I_${issue.id}`,
      number: issue.number,
      title: issue.title,
      user: userJson(issue.author),
      labels: issue.labels.map((label) => labelJson(repo, label)),
      state: issue.state,
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: issue.comments.length,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      author_association: association(repo, issue.author),
      active_lock_reason: null,
      body: issue.body,
      timeline_url: `${url}/timeline`,
      performed_via_github_app: null,
      state_reason: issue.stateReason,
      ...(issue.isPullRequest
        ? {
            draft: false,
            pull_request: {
              url: `${apiRepoUrl(repo)}/pulls/${issue.number}`,
              html_url: htmlUrl,
              diff_url: `${htmlUrl}.diff`,
              patch_url: `${htmlUrl}.patch`,
              merged_at: repo.pulls.get(issue.number)?.mergedAt ?? null,
            },
          }
        : {}),
    };
  };

  const commentJson = (repo: RepoRecord, issue: IssueRecord, comment: CommentRecord) => ({
    url: `${apiRepoUrl(repo)}/issues/comments/${comment.id}`,
    html_url: `${webUrl}/${repo.fullName}/issues/${issue.number}#issuecomment-${comment.id}`,
    issue_url: `${apiRepoUrl(repo)}/issues/${issue.number}`,
    id: comment.id,
    node_id: `IC_${comment.id}`,
    user: userJson(comment.author),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: association(repo, comment.author),
    body: comment.body,
    performed_via_github_app: null,
  });

  const reactionJson = (reaction: ReactionRecord) => ({
    id: reaction.id,
    node_id: `REA_${reaction.id}`,
    user: userJson(reaction.login),
    content: reaction.content,
    created_at: reaction.createdAt,
  });

  const eventJson = (repo: RepoRecord, event: EventRecord) => ({
    id: event.id,
    node_id: `LE_${event.id}`,
    url: `${apiRepoUrl(repo)}/issues/events/${event.id}`,
    actor: userJson(event.actor),
    event: event.event,
    commit_id: null,
    commit_url: null,
    created_at: event.createdAt,
    performed_via_github_app: null,
    ...(event.label === null
      ? {}
      : { label: { name: event.label.name, color: event.label.color } }),
    ...(event.event === 'closed' ? { state_reason: event.stateReason } : {}),
  });

  const repoJson = (repo: RepoRecord) => ({
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.fullName.split('/')[1] ?? '',
    full_name: repo.fullName,
    private: repo.visibility === 'private',
    owner: userJson(repo.owner),
    html_url: `${webUrl}/${repo.fullName}`,
    description: null,
    fork: false,
    url: apiRepoUrl(repo),
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    pushed_at: repo.createdAt,
    archived: false,
    disabled: false,
    visibility: repo.visibility,
    has_issues: true,
    default_branch: repo.defaultBranch,
    // The authenticated user's role; only the token's own login ever asks here. An app
    // installation is no user: GitHub leaves the key out for its token.
    ...(caller().kind === 'installation'
      ? {}
      : { permissions: rolePermissions(roleOf(repo, selfLogin)) }),
  });

  const commitJson = (repo: RepoRecord, commit: CommitRecord) => {
    const url = `${apiRepoUrl(repo)}/commits/${commit.sha}`;
    const person = { name: 'Agent', email: 'agent@example.test', date: commit.createdAt };
    return {
      sha: commit.sha,
      node_id: `C_${commit.sha}`,
      url,
      html_url: `${webUrl}/${repo.fullName}/commit/${commit.sha}`,
      comments_url: `${url}/comments`,
      commit: {
        author: person,
        committer: person,
        message: `Commit ${commit.sha.slice(0, 7)}`,
        tree: {
          sha: fakeSha(`tree:${commit.sha}`),
          url: `${apiRepoUrl(repo)}/git/trees/${fakeSha(`tree:${commit.sha}`)}`,
        },
        url: `${apiRepoUrl(repo)}/git/commits/${commit.sha}`,
        comment_count: 0,
        verification: {
          verified: false,
          reason: 'unsigned',
          signature: null,
          payload: null,
          verified_at: null,
        },
      },
      author: null,
      committer: null,
      parents: commit.parents.map((sha) => ({
        sha,
        url: `${apiRepoUrl(repo)}/commits/${sha}`,
        html_url: `${webUrl}/${repo.fullName}/commit/${sha}`,
      })),
    };
  };

  const branchRefJson = (repo: RepoRecord, ref: string, sha: string) => ({
    label: `${repo.owner}:${ref}`,
    ref,
    sha,
    user: userJson(repo.owner),
    repo: repoJson(repo),
  });

  const pullJson = (repo: RepoRecord, pull: PullRecord) => {
    const issue = repo.issues.get(pull.number);
    if (issue === undefined) throw new Error(`github fake: pull ${pull.number} lost its issue`);
    const url = `${apiRepoUrl(repo)}/pulls/${pull.number}`;
    const issueUrl = `${apiRepoUrl(repo)}/issues/${pull.number}`;
    const htmlUrl = `${webUrl}/${repo.fullName}/pull/${pull.number}`;
    const baseSha = repo.branches.get(repo.defaultBranch) ?? pull.headSha;
    return {
      url,
      id: pull.id,
      node_id: `PR_${pull.id}`,
      html_url: htmlUrl,
      diff_url: `${htmlUrl}.diff`,
      patch_url: `${htmlUrl}.patch`,
      issue_url: issueUrl,
      commits_url: `${url}/commits`,
      review_comments_url: `${url}/comments`,
      review_comment_url: `${apiRepoUrl(repo)}/pulls/comments{/number}`,
      comments_url: `${issueUrl}/comments`,
      statuses_url: `${apiRepoUrl(repo)}/statuses/${pull.headSha}`,
      number: pull.number,
      state: issue.state,
      locked: false,
      title: issue.title,
      user: userJson(issue.author),
      body: issue.body,
      labels: issue.labels.map((label) => labelJson(repo, label)),
      milestone: null,
      active_lock_reason: null,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: branchRefJson(repo, pull.head, pull.headSha),
      base: branchRefJson(repo, repo.defaultBranch, baseSha),
      author_association: association(repo, issue.author),
      auto_merge: null,
      draft: false,
    };
  };

  // The single pull request carries what the list leaves out: mergeability and counts.
  // https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
  const fullPullJson = (
    repo: RepoRecord,
    pull: PullRecord,
    mergeable: boolean | null,
    mergeableState: string,
  ) => ({
    ...pullJson(repo, pull),
    merged: pull.mergedAt !== null,
    mergeable,
    rebaseable: mergeable,
    mergeable_state: mergeableState,
    merged_by: pull.mergedAt === null ? null : userJson(selfLogin),
    comments: repo.issues.get(pull.number)?.comments.length ?? 0,
    review_comments: pull.reviewComments.length,
    maintainer_can_modify: false,
    commits: 1,
    additions: 0,
    deletions: 0,
    changed_files: 0,
  });

  // https://docs.github.com/en/rest/pulls/reviews#get-a-review-for-a-pull-request
  const reviewJson = (repo: RepoRecord, pull: PullRecord, review: ReviewRecord) => {
    const pullUrl = `${apiRepoUrl(repo)}/pulls/${pull.number}`;
    const htmlUrl = `${webUrl}/${repo.fullName}/pull/${pull.number}#pullrequestreview-${review.id}`;
    return {
      id: review.id,
      node_id: `PRR_${review.id}`,
      user: userJson(review.author),
      body: review.body,
      state: review.state,
      html_url: htmlUrl,
      pull_request_url: pullUrl,
      author_association: association(repo, review.author),
      _links: { html: { href: htmlUrl }, pull_request: { href: pullUrl } },
      // Left out while the review is pending.
      ...(review.submittedAt === null ? {} : { submitted_at: review.submittedAt }),
      commit_id: review.commitId,
    };
  };

  // https://docs.github.com/en/rest/pulls/comments#get-a-review-comment-for-a-pull-request
  const reviewCommentJson = (repo: RepoRecord, pull: PullRecord, comment: ReviewCommentRecord) => {
    const url = `${apiRepoUrl(repo)}/pulls/comments/${comment.id}`;
    const pullUrl = `${apiRepoUrl(repo)}/pulls/${pull.number}`;
    const htmlUrl = `${webUrl}/${repo.fullName}/pull/${pull.number}#discussion_r${comment.id}`;
    return {
      url,
      pull_request_review_id: comment.reviewId,
      id: comment.id,
      node_id: `PRRC_${comment.id}`,
      diff_hunk: `@@ -${comment.line},1 +${comment.line},1 @@`,
      path: comment.path,
      position: 1,
      original_position: 1,
      commit_id: comment.commitId,
      original_commit_id: comment.commitId,
      user: userJson(comment.author),
      body: comment.body,
      created_at: comment.createdAt,
      updated_at: comment.createdAt,
      html_url: htmlUrl,
      pull_request_url: pullUrl,
      author_association: association(repo, comment.author),
      _links: { self: { href: url }, html: { href: htmlUrl }, pull_request: { href: pullUrl } },
      start_line: null,
      original_start_line: null,
      start_side: null,
      line: comment.line,
      original_line: comment.line,
      side: 'RIGHT',
      subject_type: 'line',
    };
  };

  const githubActions = {
    id: 15368,
    slug: 'github-actions',
    node_id: 'MDM6QXBwMTUzNjg=',
    name: 'GitHub Actions',
    owner: userJson('github'),
    external_url: 'https://help.github.com/en/actions',
    html_url: 'https://github.com/apps/github-actions',
  };

  const checkRunJson = (repo: RepoRecord, run: CheckRunRecord) => {
    const htmlUrl = run.url ?? `${webUrl}/${repo.fullName}/runs/${run.id}`;
    return {
      id: run.id,
      name: run.name,
      node_id: `CR_${run.id}`,
      head_sha: run.headSha,
      external_id: '',
      url: `${apiRepoUrl(repo)}/check-runs/${run.id}`,
      html_url: htmlUrl,
      details_url: htmlUrl,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      output: {
        title: run.title,
        summary: run.summary,
        text: null,
        annotations_count: 0,
        annotations_url: `${apiRepoUrl(repo)}/check-runs/${run.id}/annotations`,
      },
      check_suite: { id: run.id + 500_000 },
      app: githubActions,
      pull_requests: [],
    };
  };

  const statusJson = (repo: RepoRecord, status: StatusRecord) => ({
    url: `${apiRepoUrl(repo)}/statuses/${status.sha}`,
    avatar_url: `${webUrl}/avatars/ci`,
    id: status.id,
    node_id: `SC_${status.id}`,
    state: status.state,
    description: status.description,
    target_url: status.targetUrl,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.createdAt,
  });

  const deploymentJson = (repo: RepoRecord, deployment: DeploymentRecord) => {
    const url = `${apiRepoUrl(repo)}/deployments/${deployment.id}`;
    return {
      url,
      id: deployment.id,
      node_id: `DE_${deployment.id}`,
      task: 'deploy',
      original_environment: deployment.environment,
      environment: deployment.environment,
      description: null,
      created_at: deployment.createdAt,
      updated_at: deployment.updatedAt,
      statuses_url: `${url}/statuses`,
      repository_url: apiRepoUrl(repo),
      creator: userJson('github-actions[bot]'),
      sha: deployment.sha,
      ref: deployment.ref,
      payload: {},
      transient_environment: false,
      production_environment: deployment.environment === 'production',
      performed_via_github_app: null,
    };
  };

  // GitHub sends "" for the URLs a status was not given, and `target_url` mirrors `log_url`.
  // https://docs.github.com/en/rest/deployments/statuses#create-a-deployment-status
  const deploymentStatusJson = (
    repo: RepoRecord,
    deployment: DeploymentRecord,
    status: DeploymentRecord['statuses'][number],
  ) => {
    const deploymentUrl = `${apiRepoUrl(repo)}/deployments/${deployment.id}`;
    return {
      url: `${deploymentUrl}/statuses/${status.id}`,
      id: status.id,
      node_id: `DES_${status.id}`,
      state: status.state,
      creator: userJson('github-actions[bot]'),
      description: status.description,
      environment: deployment.environment,
      target_url: status.logUrl,
      created_at: status.createdAt,
      updated_at: status.createdAt,
      deployment_url: deploymentUrl,
      repository_url: apiRepoUrl(repo),
      environment_url: status.environmentUrl,
      log_url: status.logUrl,
      performed_via_github_app: null,
    };
  };

  return {
    apiRepoUrl,
    userJson,
    labelJson,
    issueJson,
    commentJson,
    reactionJson,
    eventJson,
    repoJson,
    commitJson,
    pullJson,
    fullPullJson,
    reviewJson,
    reviewCommentJson,
    checkRunJson,
    statusJson,
    deploymentJson,
    deploymentStatusJson,
  };
}

function rolePermissions(role: FakeRole | undefined) {
  const at = (floor: FakeRole) => role !== undefined && roleRank[role] >= roleRank[floor];
  return {
    admin: at('admin'),
    maintain: at('maintain'),
    push: at('write'),
    triage: at('triage'),
    pull: at('read'),
  };
}
