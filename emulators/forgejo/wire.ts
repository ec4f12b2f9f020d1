// The Forgejo fake's wire shapes: its records as Forgejo's services/convert serialises them
// (URLs, Go's zero time and `null` for empty lists), so that afk's adapter reads what it
// would read from Forgejo.
import { createHash } from 'node:crypto';
import { compare, fakeSha, userId, type CommitRecord } from '../forge-core.js';
import {
  modeRank,
  type ForgejoState,
  type LabelRecord,
  type ReactionRecord,
  type TimelineRecord,
  type IssueRecord,
  type PullRecord,
  type ReviewRecord,
  type StatusRecord,
  type RepoRecord,
} from './state.js';

// Go's zero time, which Forgejo prints for times it never set.
const zeroTime = '0001-01-01T00:00:00Z';

export type Wire = ReturnType<typeof createWire>;

export function createWire(state: ForgejoState) {
  const { baseUrl, base, appUrl, selfLogin, selfMode } = state;

  const apiRepoUrl = (repo: RepoRecord) => `${baseUrl}/repos/${repo.fullName}`;
  const htmlRepoUrl = (repo: RepoRecord) => `${appUrl}${repo.fullName}`;

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/modules/structs/user.go
  // (`username` is a copy of `login` kept for compatibility).
  const userJson = (login: string) => ({
    id: userId(login),
    login,
    login_name: '',
    source_id: 0,
    full_name: '',
    email: `${login.toLowerCase()}@noreply.forgejo.test`,
    avatar_url: `${appUrl}avatars/${md5(login.toLowerCase())}`,
    html_url: `${appUrl}${encodeURIComponent(login)}`,
    language: '',
    is_admin: false,
    last_login: zeroTime,
    created: '2020-01-01T00:00:00Z',
    restricted: false,
    active: true,
    prohibit_login: false,
    location: '',
    pronouns: '',
    website: '',
    description: '',
    visibility: 'public',
    followers_count: 0,
    following_count: 0,
    starred_repos_count: 0,
    username: login,
  });

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/issue.go (ToLabel)
  const labelJson = (label: LabelRecord) => ({
    id: label.id,
    name: label.name,
    exclusive: false,
    is_archived: false,
    color: label.color,
    description: label.description,
    url:
      label.scope.kind === 'repo'
        ? `${baseUrl}/repos/${label.scope.repo}/labels/${label.id}`
        : `${appUrl}api/v1/orgs/${encodeURIComponent(label.scope.org)}/labels/${label.id}`,
  });

  /** Labels come back sorted by name (GetLabelsByIssueID orders by `label.name`). */
  const labelsJson = (labels: LabelRecord[]) =>
    [...labels].sort((a, b) => compare(a.name, b.name) || a.id - b.id).map(labelJson);

  const repoJson = (repo: RepoRecord) => {
    const mode = selfMode(repo);
    const open = (pulls: boolean) =>
      [...repo.issues.values()].filter((i) => i.isPullRequest === pulls && i.state === 'open')
        .length;
    return {
      id: repo.id,
      owner: userJson(repo.owner),
      name: repo.name,
      full_name: repo.fullName,
      description: '',
      empty: repo.commits.size === 0,
      private: repo.visibility === 'private',
      fork: false,
      template: false,
      parent: null,
      mirror: false,
      size: 0,
      language: '',
      languages_url: `${apiRepoUrl(repo)}/languages`,
      html_url: htmlRepoUrl(repo),
      url: apiRepoUrl(repo),
      link: '',
      ssh_url: `git@${base.host}:${repo.fullName}.git`,
      clone_url: `${htmlRepoUrl(repo)}.git`,
      original_url: '',
      website: '',
      stars_count: 0,
      forks_count: 0,
      watchers_count: 1,
      open_issues_count: open(false),
      open_pr_counter: open(true),
      release_counter: 0,
      default_branch: repo.defaultBranch,
      archived: false,
      created_at: repo.createdAt,
      updated_at: repo.createdAt,
      archived_at: '1970-01-01T00:00:00Z',
      // The authenticated user's access: admin from the repository access mode, push and pull
      // from the code unit. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/repository.go
      permissions: {
        admin: modeRank[mode] >= modeRank.admin,
        push: modeRank[mode] >= modeRank.write,
        pull: modeRank[mode] >= modeRank.read,
      },
      has_issues: true,
      internal_tracker: {
        enable_time_tracker: true,
        allow_only_contributors_to_track_time: true,
        enable_issue_dependencies: true,
      },
      has_wiki: true,
      wiki_branch: 'main',
      globally_editable_wiki: false,
      has_pull_requests: true,
      has_projects: true,
      has_releases: true,
      has_packages: true,
      has_actions: true,
      ignore_whitespace_conflicts: false,
      allow_merge_commits: true,
      allow_rebase: true,
      allow_rebase_explicit: true,
      allow_squash_merge: true,
      allow_fast_forward_only_merge: true,
      allow_rebase_update: true,
      default_delete_branch_after_merge: false,
      default_merge_style: 'merge',
      default_allow_maintainer_edit: false,
      default_update_style: 'merge',
      avatar_url: '',
      internal: false,
      mirror_interval: '',
      object_format_name: 'sha1',
      mirror_updated: zeroTime,
      repo_transfer: null,
      topics: [],
    };
  };

  const issueHtmlUrl = (repo: RepoRecord, issue: IssueRecord) =>
    `${htmlRepoUrl(repo)}/${issue.isPullRequest ? 'pulls' : 'issues'}/${issue.number}`;

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/issue.go (ToAPIIssue)
  const issueJson = (repo: RepoRecord, issue: IssueRecord) => {
    const pull = repo.pulls.get(issue.number);
    return {
      id: issue.id,
      url: `${apiRepoUrl(repo)}/issues/${issue.number}`,
      html_url: issueHtmlUrl(repo, issue),
      number: issue.number,
      user: userJson(issue.author),
      original_author: '',
      original_author_id: 0,
      title: issue.title,
      body: issue.body,
      ref: '',
      assets: [],
      labels: labelsJson(issue.labels),
      milestone: null,
      assignee: null,
      assignees: null,
      state: issue.state,
      is_locked: false,
      comments: issue.timeline.filter((row) => row.type === 'comment').length,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      due_date: null,
      // Present on every issue: null unless it is a pull request (GitHub omits the key).
      pull_request: issue.isPullRequest
        ? {
            merged: pull?.mergedAt != null,
            merged_at: pull?.mergedAt ?? null,
            draft: false,
            html_url: issueHtmlUrl(repo, issue),
          }
        : null,
      repository: {
        id: repo.id,
        name: repo.name,
        owner: repo.owner,
        full_name: repo.fullName,
      },
      pin_order: 0,
    };
  };

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/issue_comment.go
  const commentJson = (repo: RepoRecord, issue: IssueRecord, comment: TimelineRecord) => ({
    id: comment.id,
    html_url: `${issueHtmlUrl(repo, issue)}#issuecomment-${comment.id}`,
    pull_request_url: issue.isPullRequest ? issueHtmlUrl(repo, issue) : '',
    issue_url: issue.isPullRequest ? '' : issueHtmlUrl(repo, issue),
    user: userJson(comment.actor),
    original_author: '',
    original_author_id: 0,
    body: comment.body,
    assets: [],
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
  });

  // A label event is `type: "label"` with `body: "1"` when the label was added and `""` when
  // it was removed. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/issue_comment.go
  const timelineJson = (repo: RepoRecord, issue: IssueRecord, row: TimelineRecord) => ({
    id: row.id,
    type: row.type,
    html_url: `${issueHtmlUrl(repo, issue)}#issuecomment-${row.id}`,
    pull_request_url: issue.isPullRequest ? issueHtmlUrl(repo, issue) : '',
    issue_url: issue.isPullRequest ? '' : issueHtmlUrl(repo, issue),
    user: userJson(row.actor),
    body: row.body,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    old_project_id: 0,
    project_id: 0,
    old_milestone: null,
    milestone: null,
    tracked_time: null,
    old_title: '',
    new_title: '',
    old_ref: '',
    new_ref: '',
    ref_issue: null,
    ref_comment: null,
    ref_action: '',
    ref_commit_sha: '',
    review_id: 0,
    label: row.label === null ? null : labelJson(row.label),
    assignee: null,
    assignee_team: null,
    removed_assignee: false,
    resolve_doer: null,
    dependent_issue: null,
  });

  const reactionJson = (reaction: ReactionRecord) => ({
    user: userJson(reaction.login),
    content: reaction.content,
    created_at: reaction.createdAt,
  });

  const payloadCommitJson = (repo: RepoRecord, commit: CommitRecord) => {
    const person = { name: 'Agent', email: 'agent@example.test', username: '' };
    return {
      id: commit.sha,
      message: `Commit ${commit.sha.slice(0, 7)}\n`,
      url: `${htmlRepoUrl(repo)}/commit/${commit.sha}`,
      author: person,
      committer: person,
      verification: null,
      timestamp: commit.createdAt,
      added: null,
      removed: null,
      modified: null,
    };
  };

  const commitJson = (repo: RepoRecord, commit: CommitRecord) => {
    const person = { name: 'Agent', email: 'agent@example.test', date: commit.createdAt };
    return {
      url: `${apiRepoUrl(repo)}/git/commits/${commit.sha}`,
      sha: commit.sha,
      created: commit.createdAt,
      html_url: `${htmlRepoUrl(repo)}/commit/${commit.sha}`,
      commit: {
        url: `${apiRepoUrl(repo)}/git/commits/${commit.sha}`,
        author: person,
        committer: person,
        message: `Commit ${commit.sha.slice(0, 7)}\n`,
        tree: {
          url: `${apiRepoUrl(repo)}/git/trees/${fakeSha(`tree:${commit.sha}`)}`,
          sha: fakeSha(`tree:${commit.sha}`),
          created: commit.createdAt,
        },
        verification: null,
      },
      author: null,
      committer: null,
      parents: commit.parents.map((sha) => ({
        url: `${apiRepoUrl(repo)}/git/commits/${sha}`,
        sha,
        created: repo.commits.get(sha)?.createdAt ?? commit.createdAt,
      })),
      files: null,
      stats: null,
    };
  };

  // head.label is always the branch; head.ref is the branch while it exists, else the pull
  // request's own ref. merge_commit_sha and merged_at are null until merged.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/pull.go
  const pullJson = (repo: RepoRecord, pull: PullRecord) => {
    const issue = repo.issues.get(pull.number);
    if (issue === undefined) throw new Error(`forgejo fake: pull ${pull.number} lost its issue`);
    const branchExists = repo.branches.has(pull.head);
    const merged = pull.mergedAt !== null;
    return {
      id: pull.id,
      url: issueHtmlUrl(repo, issue),
      number: pull.number,
      user: userJson(issue.author),
      title: issue.title,
      body: issue.body,
      labels: labelsJson(issue.labels),
      milestone: null,
      assignee: null,
      assignees: null,
      requested_reviewers: [],
      requested_reviewers_teams: [],
      state: issue.state,
      draft: false,
      is_locked: false,
      comments: issue.timeline.filter((row) => row.type === 'comment').length,
      review_comments: pull.reviews.reduce((n, review) => n + review.comments.length, 0),
      additions: 0,
      deletions: 0,
      changed_files: 0,
      html_url: issueHtmlUrl(repo, issue),
      diff_url: `${issueHtmlUrl(repo, issue)}.diff`,
      patch_url: `${issueHtmlUrl(repo, issue)}.patch`,
      // False for a conflict; the fake's conflict check is instant, so never "checking".
      mergeable: issue.state === 'open' && !pull.conflicting,
      merged,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha,
      merged_by: merged ? userJson(selfLogin) : null,
      allow_maintainer_edit: false,
      base: {
        label: repo.defaultBranch,
        ref: repo.defaultBranch,
        sha: repo.branches.get(repo.defaultBranch) ?? '',
        repo_id: repo.id,
        repo: repoJson(repo),
      },
      head: {
        label: pull.head,
        ref: branchExists ? pull.head : `refs/pull/${pull.number}/head`,
        sha: pull.headSha,
        repo_id: repo.id,
        repo: repoJson(repo),
      },
      merge_base: pull.mergeBase,
      due_date: null,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      closed_at: issue.closedAt,
      pin_order: 0,
      flow: 0,
    };
  };

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/pull_review.go
  const reviewJson = (repo: RepoRecord, pull: PullRecord, review: ReviewRecord) => {
    const issue = repo.issues.get(pull.number);
    if (issue === undefined) throw new Error(`forgejo fake: pull ${pull.number} lost its issue`);
    return {
      id: review.id,
      user: userJson(review.author),
      team: null,
      state: review.state,
      body: review.body,
      commit_id: review.commitId,
      stale: false,
      official: false,
      dismissed: review.dismissed,
      comments_count: review.comments.length,
      submitted_at: review.createdAt,
      updated_at: review.createdAt,
      html_url: `${issueHtmlUrl(repo, issue)}#issuecomment-${review.id}`,
      pull_request_url: issueHtmlUrl(repo, issue),
    };
  };

  // `position` is the new line (`original_position` the old one, 0 here).
  const reviewCommentJson = (
    repo: RepoRecord,
    pull: PullRecord,
    review: ReviewRecord,
    comment: ReviewRecord['comments'][number],
  ) => {
    const issue = repo.issues.get(pull.number);
    if (issue === undefined) throw new Error(`forgejo fake: pull ${pull.number} lost its issue`);
    return {
      id: comment.id,
      body: comment.body,
      user: userJson(comment.author),
      resolver: null,
      pull_request_review_id: review.id,
      created_at: comment.createdAt,
      updated_at: comment.createdAt,
      path: comment.path,
      commit_id: review.commitId,
      original_commit_id: '',
      diff_hunk: `@@ -${comment.line},1 +${comment.line},1 @@`,
      position: comment.line,
      original_position: 0,
      html_url: `${issueHtmlUrl(repo, issue)}#issuecomment-${comment.id}`,
      pull_request_url: issueHtmlUrl(repo, issue),
    };
  };

  // `status` (not `state`) is the field's name; `id` is the per-commit index.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/status.go
  const statusJson = (repo: RepoRecord, status: StatusRecord) => ({
    id: status.index,
    status: status.state,
    target_url: status.targetUrl,
    description: status.description,
    url: `${apiRepoUrl(repo)}/statuses/${status.sha}`,
    context: status.context,
    creator: userJson('forgejo-actions'),
    created_at: status.createdAt,
    updated_at: status.createdAt,
  });

  return {
    apiRepoUrl,
    htmlRepoUrl,
    userJson,
    labelJson,
    labelsJson,
    repoJson,
    issueHtmlUrl,
    issueJson,
    commentJson,
    timelineJson,
    reactionJson,
    payloadCommitJson,
    commitJson,
    pullJson,
    reviewJson,
    reviewCommentJson,
    statusJson,
  };
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}
