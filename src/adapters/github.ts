// GitHub as afk's tracker: the `Tracker` port over @octokit/rest, with the throttling and
// retry plugins tuned for a CronJob tick. Every answer is validated before it becomes a
// domain value, and every failure leaves this file as a `TrackerError` whose message is
// built from method, path, status and GitHub's own `message`: never a token, never a query.
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling, type ThrottlingOptions } from '@octokit/plugin-throttling';
import * as z from 'zod';
import {
  checkRunConclusions,
  checkRunStatuses,
  ConfigError,
  deploymentStates,
  TrackerError,
  type CheckRun,
  type CiFacts,
  type CommitPlacement,
  type CommitStatus,
  type DeploymentFacts,
  type Issue,
  type IssueComment,
  type LabelEvent,
  type Mergeability,
  type Permission,
  type PullRequest,
  type RepoName,
  type Review,
  type ReviewComment,
  type ReviewFeedback,
  type ReviewState,
  type Tracker,
} from '../core/index.js';
import {
  prefetchRuns,
  readQueues,
  requestOf,
  resetNote,
  type GraphqlCall,
  type GraphqlReply,
  type SendGraphql,
} from './github-graphql.js';
import { networkFailureOf } from './network.js';
import {
  failureKind,
  read,
  splitRepo,
  type Origin,
  type TokenScope,
  type TrackerOptions,
} from './tracker-wire.js';

export type GitHubTrackerOptions = TrackerOptions;

// https://docs.github.com/en/rest/about-the-rest-api/api-versions
const apiVersion = '2022-11-28';
const perPage = 100;
// A label holds a few dozen issues; a server that keeps saying rel="next" past this is broken.
const maxPages = 100;

const GitHubOctokit = Octokit.plugin(throttling, retry);
type Client = InstanceType<typeof GitHubOctokit>;
type RequestFn = Client['request'];
/** What Octokit hands a request hook: the endpoint's route and parameters, merged. */
type HookOptions = { method: string; url: string } & Record<string, unknown>;

export function createGitHubTracker(options: GitHubTrackerOptions): Tracker {
  const http = createHttp(options);
  const { rest } = http.client;
  let selfLogin: Promise<string> | undefined;
  const defaultBranches = new Map<RepoName, Promise<string>>();

  // One lookup per repo per tracker (a tracker lives for one tick): several runs in the same
  // repo share it. A failed lookup is not remembered.
  const defaultBranch = (repo: RepoName): Promise<string> => {
    let branch = defaultBranches.get(repo);
    if (branch === undefined) {
      branch = http
        .send(rest.repos.get, repoParams(repo))
        .then((answer) => read(repoSchema, answer.data, answer).default_branch);
      defaultBranches.set(repo, branch);
      branch.catch(() => defaultBranches.delete(repo));
    }
    return branch;
  };

  return {
    // Batched reads through GraphQL (github-graphql.ts); the rest of this port stays REST.
    // A query names no repository owner, and a GitHub App's token serves one owner's
    // installation: the batches go owner by owner, each with that owner's token.
    readQueues: (repos, labels) =>
      perOwner(
        http,
        repos,
        (repo) => repo,
        (send, group) => readQueues(send, group, labels),
      ),
    prefetchRuns: (runs) =>
      perOwner(
        http,
        runs,
        (run) => run.issue.repo,
        (send, group) => prefetchRuns(send, group),
      ),

    async listLabelledIssues(repo, label, state) {
      const params = { ...repoParams(repo), labels: label, state, per_page: perPage };
      const list = await http.sendAll(rest.issues.listForRepo, params);
      // The issues endpoint lists pull requests too; they carry a `pull_request` key.
      // https://docs.github.com/en/rest/issues/issues#list-repository-issues
      return list.items
        .filter((item) => !isPullRequest(item))
        .map((item) => toIssue(repo, read(issueSchema, item, list)));
    },

    async listComments(issue) {
      const params = { ...repoParams(issue.repo), issue_number: issue.number, per_page: perPage };
      const list = await http.sendAll(rest.issues.listComments, params);
      return list.items.map((item) => toComment(read(commentSchema, item, list)));
    },

    async listLabelEvents(issue) {
      const params = { ...repoParams(issue.repo), issue_number: issue.number, per_page: perPage };
      const list = await http.sendAll(rest.issues.listEvents, params);
      // The list holds every kind of event (closed, assigned, renamed, ...).
      // https://docs.github.com/en/rest/using-the-rest-api/issue-event-types
      return list.items
        .filter((item) => labelActions.has(read(eventSchema, item, list).event))
        .map((item) => toLabelEvent(read(labelEventSchema, item, list)));
    },

    async getPermission(repo, login) {
      const params = { ...repoParams(repo), username: login };
      try {
        const answer = await http.send(rest.repos.getCollaboratorPermissionLevel, params);
        return toPermission(read(permissionSchema, answer.data, answer));
      } catch (error) {
        // A login GitHub does not know as a user (an app's bot, `Copilot`) answers 404
        // "<login> is not a user": it holds no permission. Failing closed is the safe side.
        // https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user
        if (error instanceof TrackerError && error.kind === 'not-found') return 'none';
        throw error;
      }
    },

    getSelfLogin() {
      if (options.login !== undefined) return Promise.resolve(options.login);
      if (selfLogin === undefined) {
        // GitHub App installation tokens cannot read /user (403): such deployments set `login`.
        // https://docs.github.com/en/rest/users/users#get-the-authenticated-user
        selfLogin = http
          .send(rest.users.getAuthenticated, {})
          .then((answer) => read(selfSchema, answer.data, answer).login);
        // A failed lookup is not remembered: the next call asks again.
        selfLogin.catch(() => (selfLogin = undefined));
      }
      return selfLogin;
    },

    async createComment(issue, body) {
      const params = {
        ...repoParams(issue.repo),
        issue_number: issue.number,
        body,
        // Not idempotent: a 502 may hide a comment GitHub did create, and a retry would post a
        // second one. The next tick finds the comment or writes it.
        request: { retries: 0 },
      };
      const answer = await http.send(rest.issues.createComment, params);
      return { id: read(createdSchema, answer.data, answer).id };
    },

    async updateComment(repo, commentId, body) {
      await http.send(rest.issues.updateComment, {
        ...repoParams(repo),
        comment_id: commentId,
        body,
      });
    },

    async getComment(repo, commentId) {
      // https://docs.github.com/en/rest/issues/comments#get-an-issue-comment
      const params = { ...repoParams(repo), comment_id: commentId };
      try {
        const answer = await http.send(rest.issues.getComment, params);
        return toComment(read(commentSchema, answer.data, answer));
      } catch (error) {
        if (error instanceof TrackerError && error.kind === 'not-found') return null;
        throw error;
      }
    },

    async deleteComment(repo, commentId) {
      // 204; a comment that is already gone answers 404, which is what we want.
      // https://docs.github.com/en/rest/issues/comments#delete-an-issue-comment
      const params = { ...repoParams(repo), comment_id: commentId };
      try {
        await http.send(rest.issues.deleteComment, params);
      } catch (error) {
        if (error instanceof TrackerError && error.kind === 'not-found') return;
        throw error;
      }
    },

    async claimComment(repo, commentId) {
      // The forge's one atomic test-and-set: creating a reaction answers 201, and 200 with the
      // existing reaction when the account already has it.
      // https://docs.github.com/en/rest/reactions/reactions#create-reaction-for-an-issue-comment
      const params = {
        ...repoParams(repo),
        comment_id: commentId,
        content: 'eyes' as const,
        // Not retried: a retry after a 5xx that did create the reaction would get 200 and
        // read its own claim as another tick's. Failing is honest; the claim lapses.
        request: { retries: 0 },
      };
      const answer = await http.send(rest.reactions.createForIssueComment, params);
      if (answer.status !== 200 && answer.status !== 201) {
        throw new TrackerError({
          kind: 'malformed',
          request: answer.request,
          status: answer.status,
          reason: 'expected 201 (created) or 200 (already there)',
        });
      }
      const reaction = read(reactionSchema, answer.data, answer);
      return {
        acquired: answer.status === 201,
        reactionId: reaction.id,
        claimedAt: reaction.created_at,
      };
    },

    async releaseClaim(repo, commentId, claim) {
      // By the reaction's id, so a tick can only ever remove the claim it saw, never a newer
      // one taken after it. 204; one already gone answers 404.
      // https://docs.github.com/en/rest/reactions/reactions#delete-an-issue-comment-reaction
      const params = { ...repoParams(repo), comment_id: commentId, reaction_id: claim.reactionId };
      try {
        await http.send(rest.reactions.deleteForIssueComment, params);
      } catch (error) {
        if (error instanceof TrackerError && error.kind === 'not-found') return;
        throw error;
      }
    },

    async addLabels(issue, labels) {
      if (labels.length === 0) return;
      await http.send(rest.issues.addLabels, {
        ...repoParams(issue.repo),
        issue_number: issue.number,
        labels,
      });
    },

    async removeLabel(issue, label) {
      const params = { ...repoParams(issue.repo), issue_number: issue.number, name: label };
      try {
        // Octokit URL-encodes `name` into the path ("area/ui" → "area%2Fui").
        await http.send(rest.issues.removeLabel, params);
      } catch (error) {
        // 404 "Label does not exist": the issue does not carry it, which is what we want.
        // https://docs.github.com/en/rest/issues/labels#remove-a-label-from-an-issue
        if (error instanceof TrackerError && error.kind === 'not-found') return;
        throw error;
      }
    },

    async closeIssue(issue) {
      // https://docs.github.com/en/rest/issues/issues#update-an-issue
      await http.send(rest.issues.update, {
        ...repoParams(issue.repo),
        issue_number: issue.number,
        state: 'closed' as const,
        state_reason: 'completed' as const,
      });
    },

    async findPullRequest(repo, branch) {
      const params = repoParams(repo);
      // `head` must be `owner:branch`: GitHub silently ignores a bare branch name and lists
      // every pull request of the repository.
      // https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
      const answer = await http.send(rest.pulls.list, {
        ...params,
        head: `${params.owner}:${branch}`,
        state: 'all' as const,
        sort: 'created' as const,
        direction: 'desc' as const,
        per_page: 10,
      });
      const pulls = read(z.array(pullSchema), answer.data, answer);
      // Checked again here, so that a filter GitHub ignored can never hand back another PR.
      const newest = pulls.find((pull) => pull.head.ref === branch);
      return newest === undefined ? null : toPullRequest(newest);
    },

    async placeCommit(repo, sha) {
      // Compared with the default branch by name: the docs name refs and shas for compare,
      // never a symbolic `HEAD`, so that is not relied on (one more request per repo and
      // tracker). "BASE...HEAD" with status `ahead` or `identical` means HEAD contains BASE.
      // per_page=1 keeps the commit list short; the changed files still come along.
      // https://docs.github.com/en/rest/commits/commits#compare-two-commits
      if (!shaPattern.test(sha)) return 'unknown-commit';
      const params = {
        ...repoParams(repo),
        basehead: `${sha}...${await defaultBranch(repo)}`,
        per_page: 1,
      };
      try {
        const answer = await http.send(rest.repos.compareCommitsWithBasehead, params);
        return placement[read(compareSchema, answer.data, answer).status];
      } catch (error) {
        return placementOfRefusal(error);
      }
    },

    async readCi(repo, sha) {
      const params = { ...repoParams(repo), ref: sha };
      // `filter=latest` keeps the newest run of each name: a re-run replaces the failed one.
      // https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference
      const [runs, statuses] = await Promise.all([
        http.sendAll(
          rest.checks.listForRef,
          { ...params, filter: 'latest' as const, per_page: perPage },
          (data, origin) => read(checkRunPageSchema, data, origin).check_runs,
        ),
        // The combined status holds the latest status of each context. With no statuses at
        // all it still says `state: "pending"` (total_count 0): only the list is kept, so an
        // Actions-only repository reads as "no statuses", never as "pending".
        // https://docs.github.com/en/rest/commits/statuses#get-the-combined-status-for-a-specific-reference
        http.sendAll(
          rest.repos.getCombinedStatusForRef,
          { ...params, per_page: perPage },
          (data, origin) => read(combinedStatusPageSchema, data, origin).statuses,
        ),
      ]);
      return {
        sha,
        checkRuns: runs.items.map((item) => toCheckRun(read(checkRunSchema, item, runs))),
        statuses: statuses.items.map((item) =>
          toCommitStatus(read(commitStatusSchema, item, statuses)),
        ),
      } satisfies CiFacts;
    },

    async readDeployment(repo, sha, environment) {
      const base = repoParams(repo);
      // Both lists come newest first, so one item of each is the latest.
      // https://docs.github.com/en/rest/deployments/deployments#list-deployments
      const list = await http.send(rest.repos.listDeployments, {
        ...base,
        sha,
        environment,
        per_page: 1,
      });
      const deployment = read(z.array(deploymentSchema), list.data, list)[0];
      const facts: DeploymentFacts = { sha, environment, state: null, url: null, updatedAt: null };
      if (deployment === undefined) return facts;
      // https://docs.github.com/en/rest/deployments/statuses#list-deployment-statuses
      const answer = await http.send(rest.repos.listDeploymentStatuses, {
        ...base,
        deployment_id: deployment.id,
        per_page: 1,
      });
      const status = read(z.array(deploymentStatusSchema), answer.data, answer)[0];
      // A deployment is created without a status; until its deployer reports, it waits to
      // start, which is what `pending` means.
      if (status === undefined) {
        return { ...facts, state: 'pending', updatedAt: deployment.updated_at };
      }
      return {
        ...facts,
        state: status.state,
        // GitHub sends "" for the URLs it was not given; `target_url` is the old `log_url`.
        url: status.environment_url || status.log_url || status.target_url || null,
        updatedAt: status.updated_at,
      };
    },

    async readMergeability(repo, pullNumber) {
      // `mergeable` is null until GitHub's background job has computed it: the read that finds
      // it stale starts the job. Only this endpoint carries it; the list does not.
      // https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
      const params = { ...repoParams(repo), pull_number: pullNumber };
      const answer = await http.send(rest.pulls.get, params);
      const pull = read(mergeabilitySchema, answer.data, answer);
      return {
        mergeable: pull.mergeable,
        state: pull.mergeable_state,
        headSha: pull.head.sha,
        baseSha: pull.base.sha,
      } satisfies Mergeability;
    },

    async readReviewFeedback(repo, pullNumber) {
      // One after the other, not concurrently: the three lists are read in a fixed order, so a
      // tick's requests are the same on every run. Each list comes oldest first.
      // https://docs.github.com/en/rest/pulls/reviews#list-reviews-for-a-pull-request
      // https://docs.github.com/en/rest/pulls/comments#list-review-comments-on-a-pull-request
      const pull = { ...repoParams(repo), pull_number: pullNumber, per_page: perPage };
      const reviews = await http.sendAll(rest.pulls.listReviews, pull);
      const reviewComments = await http.sendAll(rest.pulls.listReviewComments, pull);
      // The conversation is the issue comments on the pull request's number.
      const comments = await http.sendAll(rest.issues.listComments, {
        ...repoParams(repo),
        issue_number: pullNumber,
        per_page: perPage,
      });
      return {
        reviews: reviews.items.map((item) => toReview(read(reviewSchema, item, reviews))),
        reviewComments: reviewComments.items.map((item) =>
          toReviewComment(read(reviewCommentSchema, item, reviewComments)),
        ),
        comments: comments.items.map((item) => toComment(read(commentSchema, item, comments))),
      } satisfies ReviewFeedback;
    },

    async reactToComment(repo, commentId, content) {
      // 201 when created, 200 with the existing reaction when afk already reacted so: either
      // way the reaction is there. That also makes a retry after a 5xx harmless.
      // https://docs.github.com/en/rest/reactions/reactions#create-reaction-for-an-issue-comment
      const params = { ...repoParams(repo), comment_id: commentId, content };
      const answer = await http.send(rest.reactions.createForIssueComment, params);
      const reaction = read(commentReactionSchema, answer.data, answer);
      if (reaction.content !== content) {
        throw new TrackerError({
          kind: 'malformed',
          request: answer.request,
          status: answer.status,
          reason: `content: expected "${content}"`,
        });
      }
    },

    async getRepoAccess(repo) {
      // `permissions` is the authenticated user's role on the repository; GitHub leaves it out
      // for tokens that are not a user's (an App installation's), which then say nothing.
      // https://docs.github.com/en/rest/repos/repos#get-a-repository
      const answer = await http.send(rest.repos.get, repoParams(repo));
      const permissions = read(repoAccessSchema, answer.data, answer).permissions;
      if (permissions === undefined) return null;
      // Older GHES versions know no maintain or triage role: fold them as GitHub does.
      return {
        admin: permissions.admin,
        maintain: permissions.maintain ?? permissions.admin,
        push: permissions.push,
        triage: permissions.triage ?? permissions.push,
        pull: permissions.pull,
      };
    },

    async listRepoLabels(repo) {
      // https://docs.github.com/en/rest/issues/labels#list-labels-for-a-repository
      const params = { ...repoParams(repo), per_page: perPage };
      const list = await http.sendAll(rest.issues.listLabelsForRepo, params);
      return list.items.map((item) => read(repoLabelSchema, item, list).name);
    },

    async createLabel(repo, label) {
      // https://docs.github.com/en/rest/issues/labels#create-a-label
      const params = {
        ...repoParams(repo),
        name: label.name,
        color: label.color,
        description: label.description,
      };
      try {
        await http.send(rest.issues.createLabel, params);
      } catch (error) {
        // 422 "Validation Failed" with code `already_exists`: a retried or raced create, or a
        // label that differs only in case. The label is there, which is what we want.
        if (
          error instanceof TrackerError &&
          error.status === 422 &&
          /\balready_exists\b/.test(error.reason ?? '')
        ) {
          return;
        }
        throw error;
      }
    },
  };
}

// --- wire shapes: only the fields afk maps, extra fields tolerated ---------------------------

const userSchema = z.object({ login: z.string() }).nullable();

// An issue's labels are objects; the schema also allows bare names.
// https://docs.github.com/en/rest/issues/issues#get-an-issue
const labelSchema = z.union([z.string(), z.object({ name: z.string() })]);

const issueSchema = z.object({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullish(),
  state: z.enum(['open', 'closed']),
  labels: z.array(labelSchema),
  user: userSchema,
  created_at: z.string(),
  html_url: z.string(),
});

const commentSchema = z.object({
  id: z.number().int(),
  user: userSchema,
  body: z.string(),
  created_at: z.string(),
});

// https://docs.github.com/en/rest/reactions/reactions#create-reaction-for-an-issue-comment
const reactionSchema = z.object({
  id: z.number().int(),
  content: z.literal('eyes'),
  created_at: z.string(),
});

const commentReactionSchema = z.object({ id: z.number().int(), content: z.string() });

// https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
const mergeabilitySchema = z.object({
  mergeable: z.boolean().nullable(),
  mergeable_state: z.string().min(1),
  head: z.object({ sha: z.string().min(1) }),
  base: z.object({ sha: z.string().min(1) }),
});

// https://docs.github.com/en/rest/pulls/reviews#list-reviews-for-a-pull-request
const githubReviewStates = {
  APPROVED: 'approved',
  CHANGES_REQUESTED: 'changes-requested',
  COMMENTED: 'commented',
  DISMISSED: 'dismissed',
  PENDING: 'pending',
} as const satisfies Record<string, ReviewState>;

const reviewSchema = z.object({
  id: z.number().int(),
  user: userSchema,
  body: z.string(),
  state: z.enum(Object.keys(githubReviewStates) as [keyof typeof githubReviewStates]),
  commit_id: z.string().nullable(),
  // Absent while the review is pending (not submitted).
  submitted_at: z.string().nullish(),
});

// `line` is absent or null for a comment whose line left the diff (outdated).
// https://docs.github.com/en/rest/pulls/comments#list-review-comments-on-a-pull-request
const reviewCommentSchema = z.object({
  id: z.number().int(),
  pull_request_review_id: z.number().int().nullable(),
  user: userSchema,
  path: z.string(),
  line: z.number().int().nullish(),
  body: z.string(),
  created_at: z.string(),
});

const eventSchema = z.object({ event: z.string() });
const labelActions = new Set(['labeled', 'unlabeled']);

const labelEventSchema = z.object({
  event: z.enum(['labeled', 'unlabeled']),
  actor: userSchema,
  label: z.object({ name: z.string() }),
  created_at: z.string(),
});

// `permission` is the legacy base role: maintain is already folded into write, triage into
// read. The two extra names are folded here too in case an older GHES sends them.
const permissionSchema = z.object({
  permission: z.enum(['admin', 'maintain', 'write', 'triage', 'read', 'none']),
});

const selfSchema = z.object({ login: z.string().min(1) });
const createdSchema = z.object({ id: z.number().int() });

// https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
const pullSchema = z.object({
  number: z.number().int().positive(),
  html_url: z.string(),
  state: z.enum(['open', 'closed']),
  merged_at: z.string().nullable(),
  merge_commit_sha: z.string().nullable(),
  created_at: z.string(),
  head: z.object({ ref: z.string(), sha: z.string() }),
});

const repoSchema = z.object({ default_branch: z.string().min(1) });

const repoAccessSchema = z.object({
  permissions: z
    .object({
      admin: z.boolean(),
      maintain: z.boolean().optional(),
      push: z.boolean(),
      triage: z.boolean().optional(),
      pull: z.boolean(),
    })
    .optional(),
});

const repoLabelSchema = z.object({ name: z.string().min(1) });

const compareSchema = z.object({ status: z.enum(['identical', 'ahead', 'behind', 'diverged']) });

// Abbreviated or full, SHA-1 or SHA-256: anything else is not a commit GitHub could know, and
// must not reach the compare path, where `...` and `/` have a meaning.
const shaPattern = /^[0-9a-f]{7,64}$/i;

const placement: Record<z.infer<typeof compareSchema>['status'], CommitPlacement> = {
  identical: 'on-default-branch',
  ahead: 'on-default-branch',
  behind: 'not-on-default-branch',
  diverged: 'not-on-default-branch',
};

const checkRunPageSchema = z.object({ check_runs: z.array(z.unknown()) });
const combinedStatusPageSchema = z.object({ statuses: z.array(z.unknown()) });

// https://docs.github.com/en/rest/checks/runs#get-a-check-run
const checkRunSchema = z.object({
  name: z.string(),
  status: z.enum(checkRunStatuses),
  conclusion: z.enum(checkRunConclusions).nullable(),
  html_url: z.string().nullish(),
  details_url: z.string().nullish(),
  output: z.object({ title: z.string().nullish(), summary: z.string().nullish() }).nullish(),
});

// https://docs.github.com/en/rest/commits/statuses#get-the-combined-status-for-a-specific-reference
const commitStatusSchema = z.object({
  context: z.string(),
  state: z.enum(['pending', 'success', 'failure', 'error']),
  target_url: z.string().nullish(),
  description: z.string().nullish(),
});

const deploymentSchema = z.object({ id: z.number().int(), updated_at: z.string() });

// https://docs.github.com/en/rest/deployments/statuses#list-deployment-statuses
const deploymentStatusSchema = z.object({
  state: z.enum(deploymentStates),
  environment_url: z.string().nullish(),
  log_url: z.string().nullish(),
  target_url: z.string().nullish(),
  updated_at: z.string(),
});

const isPullRequest = (item: unknown): boolean =>
  typeof item === 'object' && item !== null && 'pull_request' in item;

const toIssue = (repo: RepoName, raw: z.infer<typeof issueSchema>): Issue => ({
  repo,
  number: raw.number,
  title: raw.title,
  body: raw.body ?? '',
  labels: raw.labels.map((label) => (typeof label === 'string' ? label : label.name)),
  state: raw.state,
  author: raw.user?.login ?? null,
  createdAt: raw.created_at,
  url: raw.html_url,
});

const toComment = (raw: z.infer<typeof commentSchema>): IssueComment => ({
  id: raw.id,
  author: raw.user?.login ?? null,
  body: raw.body,
  createdAt: raw.created_at,
});

const toReview = (raw: z.infer<typeof reviewSchema>): Review => ({
  id: raw.id,
  author: raw.user?.login ?? null,
  state: githubReviewStates[raw.state],
  body: raw.body,
  commitSha: raw.commit_id,
  submittedAt: raw.submitted_at ?? null,
});

const toReviewComment = (raw: z.infer<typeof reviewCommentSchema>): ReviewComment => ({
  id: raw.id,
  reviewId: raw.pull_request_review_id,
  author: raw.user?.login ?? null,
  path: raw.path,
  line: raw.line ?? null,
  body: raw.body,
  createdAt: raw.created_at,
});

const toLabelEvent = (raw: z.infer<typeof labelEventSchema>): LabelEvent => ({
  action: raw.event,
  label: raw.label.name,
  actor: raw.actor?.login ?? null,
  createdAt: raw.created_at,
});

const foldedPermission: Record<z.infer<typeof permissionSchema>['permission'], Permission> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
  none: 'none',
};

const toPermission = (raw: z.infer<typeof permissionSchema>): Permission =>
  foldedPermission[raw.permission];

const toPullRequest = (raw: z.infer<typeof pullSchema>): PullRequest => {
  const merged = raw.merged_at !== null;
  return {
    number: raw.number,
    url: raw.html_url,
    state: raw.state,
    merged,
    headSha: raw.head.sha,
    // While a PR is open GitHub fills merge_commit_sha with its test merge, a commit on no
    // branch: only a merged PR's is the commit on the base branch.
    // https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
    mergeCommitSha: merged ? raw.merge_commit_sha : null,
    mergedAt: raw.merged_at,
    createdAt: raw.created_at,
  };
};

// A 404 is an unknown commit, or a known one with no history in common with the default
// branch ("No common ancestor between ..."), which is certainly not on it. The repository
// itself is known: its default branch was just read.
function placementOfRefusal(error: unknown): CommitPlacement {
  if (!(error instanceof TrackerError)) throw error;
  if (error.status === 404) {
    return /^No common ancestor/i.test(error.reason ?? '')
      ? 'not-on-default-branch'
      : 'unknown-commit';
  }
  if (error.status === 422) return 'unknown-commit';
  throw error;
}

const maxSummary = 300;

const toCheckRun = (raw: z.infer<typeof checkRunSchema>): CheckRun => ({
  name: raw.name,
  status: raw.status,
  conclusion: raw.conclusion,
  url: raw.html_url || raw.details_url || null,
  summary: runSummary(raw.output?.title, raw.output?.summary),
});

/** Title and summary on two lines, at most 300 characters: enough to name what broke. */
function runSummary(title: string | null | undefined, summary: string | null | undefined) {
  const parts = [title?.trim() ?? '', summary?.trim() ?? ''].filter((part) => part !== '');
  const text = [...new Set(parts)].join('\n');
  if (text === '') return null;
  return text.length > maxSummary ? `${text.slice(0, maxSummary - 1)}…` : text;
}

const toCommitStatus = (raw: z.infer<typeof commitStatusSchema>): CommitStatus => ({
  context: raw.context,
  state: raw.state,
  url: raw.target_url || null,
  description: raw.description || null,
});

/** Octokit's route parameters for a repo. */
function repoParams(repo: RepoName): { owner: string; repo: string } {
  const { owner, name } = splitRepo(repo);
  return { owner, repo: name };
}

// --- HTTP: one client, one boundary ---------------------------------------------------------

interface Answer {
  status: number;
  data: unknown;
  headers: Record<string, string | number | undefined>;
  /** `GET /repos/o/r/issues`: method and path, no host, no query. */
  request: string;
}

interface RestMethod<P> {
  (params: P): Promise<{ status: number; data: unknown; headers: Answer['headers'] }>;
  endpoint: (params: P) => { method: string; url: string };
}

interface Http {
  client: Client;
  send<P>(method: RestMethod<P>, params: P): Promise<Answer>;
  /**
   * Every page of a list: follows rel="next" while it stays on the API's own origin. `select`
   * finds the items in a page whose body is an object (`{total_count, check_runs}`).
   */
  sendAll<P>(method: RestMethod<P>, params: P, select?: SelectItems): Promise<List>;
  /**
   * `POST /graphql` through the same client: token, timeout, throttling and retries. `scope`:
   * the owner whose token it takes (a GitHub App's installation token serves one owner).
   */
  graphql(call: GraphqlCall, scope?: TokenScope): Promise<GraphqlReply>;
  /** The token depends on the owner (a GitHub App): batches go owner by owner. */
  tokenPerOwner: boolean;
}

/**
 * `read` per owner of `items`, each owner's batch with that owner's token (a query names no
 * repository owner, and a GitHub App's installation token serves one); answers in `items`'
 * order. A personal token serves every owner: one batch for all (a query per owner would cost
 * a point per owner).
 */
async function perOwner<T, R>(
  http: Http,
  items: readonly T[],
  repoOf: (item: T) => string,
  read: (send: SendGraphql, group: T[]) => Promise<R[]>,
): Promise<R[]> {
  if (!http.tokenPerOwner) return read(http.graphql, [...items]);
  const groups = new Map<string, { owner: string; indexes: number[] }>();
  items.forEach((item, index) => {
    const { owner } = splitRepo(repoOf(item));
    const group = groups.get(owner.toLowerCase()) ?? { owner, indexes: [] };
    group.indexes.push(index);
    groups.set(owner.toLowerCase(), group);
  });
  const results = new Array<R>(items.length);
  for (const { owner, indexes } of groups.values()) {
    const send: SendGraphql = (call) => http.graphql(call, { owner });
    const answers = await read(
      send,
      indexes.map((index) => items[index] as T),
    );
    indexes.forEach((index, i) => {
      results[index] = answers[i] as R;
    });
  }
  return results;
}

type List = Origin & { items: unknown[] };
type SelectItems = (data: unknown, origin: Origin) => unknown[];
const selectArray: SelectItems = (data, origin) => read(z.array(z.unknown()), data, origin);

function createHttp(options: GitHubTrackerOptions): Http {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const api = new URL(apiUrl);
  const basePath = api.pathname.replace(/\/+$/, '');
  const requestLine = (method: string, url: string): string => {
    const { pathname } = new URL(url, api);
    const path =
      basePath !== '' && pathname.startsWith(basePath) ? pathname.slice(basePath.length) : pathname;
    return `${method.toUpperCase()} ${path}`;
  };
  const client = createClient(apiUrl, options);

  const exchange = async (
    request: string,
    url: string,
    run: () => Promise<{ status: number; data: unknown; headers: Answer['headers'] }>,
  ): Promise<Answer> => {
    try {
      const { status, data, headers } = await run();
      return { status, data, headers, request };
    } catch (error) {
      throw toTrackerError(error, request, requestLine, new URL(url, api));
    }
  };

  const send = <P>(method: RestMethod<P>, params: P): Promise<Answer> => {
    const { method: verb, url } = method.endpoint(params);
    return exchange(requestLine(verb, url), url, () => method(params));
  };

  const sendAll = async <P>(
    method: RestMethod<P>,
    params: P,
    select: SelectItems = selectArray,
  ): Promise<List> => {
    let answer = await send(method, params);
    const first = answer.request;
    const items: unknown[] = [];
    for (let page = 1; ; page++) {
      items.push(...select(answer.data, answer));
      const next = nextPage(answer.headers['link']);
      if (next === undefined) return { items, request: first, status: answer.status };
      const url = new URL(next, api);
      // The token goes wherever the request goes: never follow a link off the API's host.
      if (url.origin !== api.origin || page >= maxPages) {
        throw new TrackerError({
          kind: 'malformed',
          request: answer.request,
          status: answer.status,
          reason:
            page >= maxPages
              ? `more than ${maxPages} pages`
              : 'pagination link leaves the API host',
        });
      }
      // The next page's URL (`/repositories/{id}/…`) no longer names the owner its token is for.
      const scope = tokenScopeOf(params);
      answer = await exchange(requestLine('GET', url.href), url.href, () =>
        client.request({ method: 'GET', url: url.href, request: { tokenScope: scope } }),
      );
    }
  };

  // GHES serves GraphQL beside its REST base: https://ghe.example/api/v3 → /api/graphql.
  // https://docs.github.com/en/enterprise-server@latest/graphql/guides/forming-calls-with-graphql
  const graphqlUrl = /\/api\/v3$/.test(apiUrl)
    ? apiUrl.replace(/\/api\/v3$/, '/api/graphql')
    : `${apiUrl}/graphql`;
  // The throttling plugin paces every GraphQL request like a write (a second apart): right
  // for mutations, a needless second per query for afk, which sends only queries. This client
  // is the same (token, timeouts, retries, rate-limit answers) without that pacing.
  const reader = createClient(apiUrl, { ...options, pace: false });
  const graphql = async (call: GraphqlCall, scope?: TokenScope): Promise<GraphqlReply> => {
    const request = requestOf(call);
    try {
      const answer = await exchange(request, graphqlUrl, () =>
        reader
          .request({
            method: 'POST',
            url: graphqlUrl,
            ...call,
            ...(scope === undefined ? {} : { request: { tokenScope: scope } }),
          })
          .catch((error: unknown) => Promise.reject(graphqlRateLimit(error, request) ?? error)),
      );
      return { request, status: answer.status, headers: answer.headers, body: answer.data };
    } catch (error) {
      // Every query is `POST /graphql`: the error names the operation too.
      if (!(error instanceof TrackerError) || error.request === request) throw error;
      const { kind, status, reason, network } = error;
      throw new TrackerError({ kind, request, status, reason, network, cause: error.cause });
    }
  };

  return { client, send, sendAll, graphql, tokenPerOwner: options.tokenPerOwner === true };
}

/**
 * GitHub answers an exhausted GraphQL budget with 200 and an error of type RATE_LIMITED; the
 * throttling plugin turns that answer into an Error (after asking whether to wait it out),
 * which carries the answer but no status.
 * https://docs.github.com/en/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api#exceeding-the-rate-limit
 */
function graphqlRateLimit(error: unknown, request: string): TrackerError | undefined {
  const failure = error as {
    response?: { status?: number; headers?: Record<string, string | number | undefined> };
    data?: { errors?: Array<{ type?: unknown; message?: unknown }> };
  };
  const limited = failure.data?.errors?.find((e) => e.type === 'RATE_LIMITED');
  if (!(error instanceof Error) || limited === undefined) return undefined;
  const message = typeof limited.message === 'string' ? limited.message.split('\n')[0] : '';
  return new TrackerError({
    kind: 'rate-limited',
    request,
    status: failure.response?.status ?? 200,
    reason: `RATE_LIMITED: ${message}${resetNote(failure.response?.headers ?? {})}`,
  });
}

// https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
function nextPage(link: string | number | undefined): string | undefined {
  if (typeof link !== 'string') return undefined;
  return /<([^<>]+)>;\s*rel="next"/.exec(link)?.[1];
}

function createClient(apiUrl: string, options: GitHubTrackerOptions): Client {
  const maxWait = options.maxRetryWaitSeconds ?? 10;
  const retries = options.retries ?? 2;
  // The throttling plugin asks before each rate-limit retry. Retry once, and only when the
  // wait fits the tick; otherwise the error surfaces as `rate-limited` and the next tick
  // picks up. Its limiter groups (1 write/s, 10 concurrent) are shared by every client in
  // the process, which is right: they all spend the same token's budget.
  // https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#handle-rate-limit-errors-appropriately
  const fitsTick = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
    retryCount === 0 && retryAfter <= maxWait;

  return new GitHubOctokit({
    baseUrl: apiUrl,
    userAgent: options.userAgent ?? 'afk',
    authStrategy: perAttempt,
    auth: {
      token: options.token,
      timeoutMs: options.timeoutMs ?? 15_000,
      signal: options.signal,
    } satisfies AttemptSettings,
    request: options.fetch === undefined ? {} : { fetch: options.fetch },
    // afk logs through its own logger; Octokit's request log would print to the console.
    log: { debug: ignore, info: ignore, warn: ignore, error: ignore },
    throttle:
      options.throttle === false
        ? { enabled: false }
        : {
            onRateLimit: fitsTick,
            onSecondaryRateLimit: fitsTick,
            ...(options.pace === false ? unpaced : {}),
          },
    retry: {
      enabled: retries > 0,
      retries,
      retryAfterBaseValue: retryBase(retries, maxWait),
      // Only 5xx and network failures. A 429 belongs to the throttling plugin, which honours
      // retry-after; a fixed backoff would hammer a rate limit GitHub asked us to wait out.
      doNotRetry: clientErrors,
    },
  });
}

const ignore = (): void => undefined;

// The plugin paces through limiter groups (writes a second apart, notifying writes three).
// Unpaced, the same plugin still sees every rate-limit answer: these stand-ins run each job at
// once. They implement the one call the plugin makes, `group.key(id).schedule(opts, job, ...)`.
type LimiterGroup = NonNullable<Extract<ThrottlingOptions, { onRateLimit: unknown }>['write']>;
const atOnce = {
  key: () => ({
    schedule: (_options: unknown, job: (...args: unknown[]) => unknown, ...args: unknown[]) =>
      Promise.resolve().then(() => job(...args)),
  }),
} as unknown as LimiterGroup;
const unpaced = { write: atOnce, notifications: atOnce, search: atOnce };

const clientErrors = Array.from({ length: 100 }, (_, i) => 400 + i);

// The retry plugin waits base × n² before retry n (1 s, 4 s, 9 s by default). The base
// shrinks so that all the waits together fit the tick's budget.
function retryBase(retries: number, maxWaitSeconds: number): number {
  let squares = 0;
  for (let n = 1; n <= retries; n++) squares += n * n;
  return squares === 0 ? 1000 : Math.min(1000, Math.floor((maxWaitSeconds * 1000) / squares));
}

/** The waits before each 5xx retry, in ms: their sum never exceeds `maxWaitSeconds`. */
export function retryWaits(retries: number, maxWaitSeconds: number): number[] {
  const base = retryBase(retries, maxWaitSeconds);
  return Array.from({ length: retries }, (_, i) => base * (i + 1) ** 2);
}

// --- per attempt: a fresh token and a fresh timeout ------------------------------------------

interface AttemptSettings {
  token: (scope?: TokenScope) => Promise<string>;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

class AttemptTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'AttemptTimeout';
  }
}

class AttemptAborted extends Error {
  constructor() {
    super('aborted');
    this.name = 'AttemptAborted';
  }
}

// Octokit's auth strategies wrap the innermost request hook, so this runs once per HTTP
// attempt, under both plugins: every retry reads the token again and gets its own timeout.
function perAttempt(settings: AttemptSettings) {
  const hook = async (request: RequestFn, options: HookOptions) => {
    const endpoint = request.endpoint.merge(options);
    endpoint.headers.authorization = `Bearer ${await settings.token(tokenScopeOf(options))}`;
    endpoint.headers['x-github-api-version'] = apiVersion;
    const timeout = AbortSignal.timeout(settings.timeoutMs);
    const signal = settings.signal ? AbortSignal.any([settings.signal, timeout]) : timeout;
    endpoint.request = { ...endpoint.request, signal };
    try {
      // Race the signal too: a fetch that ignores it must not hold the tick.
      return await Promise.race([request(endpoint), rejectOnAbort(signal)]);
    } catch (error) {
      // Neither is an HTTP error, so the retry plugin leaves both alone: an attempt that
      // spent its whole budget is not repeated within the tick.
      if (timeout.aborted) throw new AttemptTimeout(settings.timeoutMs);
      if (settings.signal?.aborted) throw new AttemptAborted();
      throw error;
    }
  };
  return Object.assign(() => Promise.resolve({ type: 'token', tokenType: 'rotating' }), { hook });
}

/** The repository a request touches: its route's `owner`, or the scope its page came with. */
function tokenScopeOf(params: unknown): TokenScope {
  const { owner, repo, request } = (params ?? {}) as Record<string, unknown>;
  const carried = (request as { tokenScope?: TokenScope } | undefined)?.tokenScope;
  if (carried !== undefined) return carried;
  return {
    ...(typeof owner === 'string' ? { owner } : {}),
    ...(typeof repo === 'string' ? { repo } : {}),
  };
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const abort = () => reject(new Error('aborted'));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

// --- the boundary ---------------------------------------------------------------------------

interface HttpFailure {
  status: number;
  request?: { method?: string; url?: string };
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  cause?: unknown;
}

const isHttpFailure = (error: unknown): error is HttpFailure & Error =>
  error instanceof Error &&
  error.name === 'HttpError' &&
  typeof (error as { status?: unknown }).status === 'number';

function toTrackerError(
  error: unknown,
  request: string,
  requestLine: (method: string, url: string) => string,
  url: URL,
): Error {
  if (error instanceof TrackerError || error instanceof ConfigError) return error;
  if (error instanceof AttemptTimeout) {
    return new TrackerError({
      kind: 'transient',
      request,
      network: networkFailureOf(error, url, error.timeoutMs),
    });
  }
  if (!isHttpFailure(error)) {
    const reason = error instanceof AttemptAborted ? 'aborted' : 'request failed';
    return new TrackerError({ kind: 'transient', request, reason });
  }
  // Octokit's error carries the request it sent (headers included): keep only method and path.
  const line =
    error.request?.method !== undefined && error.request.url !== undefined
      ? requestLine(error.request.method, error.request.url)
      : request;
  if (error.response === undefined) {
    // fetch itself failed (DNS, reset, refused, TLS); Octokit reports it as a 500 with no
    // response, the fetch error as its cause.
    return new TrackerError({
      kind: 'transient',
      request: line,
      network: networkFailureOf(error.cause, url),
      cause: error.cause,
    });
  }
  const headers = error.response.headers ?? {};
  const message = githubMessage(error.response.data);
  return new TrackerError({
    kind: failureKind(error.status, headers, message),
    request: line,
    status: error.status,
    reason: message,
  });
}

/**
 * GitHub's own `message`, trimmed to a line, plus the field and code of each validation
 * error (never their values, which may echo what afk sent).
 * https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
 */
function githubMessage(data: unknown): string | undefined {
  const parsed = errorBodySchema.safeParse(data);
  if (!parsed.success || parsed.data.message === '') return undefined;
  const line = parsed.data.message.split('\n')[0] ?? '';
  const details = (parsed.data.errors ?? [])
    .map((e) => [e.field, e.code].filter((part) => part !== undefined).join(' '))
    .filter((detail) => detail !== '');
  const text = details.length === 0 ? line : `${line}: ${details.join(', ')}`;
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

const errorBodySchema = z.object({
  message: z.string(),
  errors: z
    .array(z.object({ field: z.string().optional(), code: z.string().optional() }).catch({}))
    .optional()
    .catch(undefined),
});
