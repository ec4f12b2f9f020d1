// Forgejo (and Gitea) as afk's tracker: the `Tracker` port over the `/api/v1` REST API with ky.
// The same domain semantics as the GitHub adapter, over a forge with its own traps: labels are
// added and removed by id, closing answers 201, a commit with no statuses has `state: ""`,
// most lists page with `page`/`limit` (50 at most) and `X-Total-Count`, and no Deployments API.
// Every answer is validated before it becomes a domain value, and every failure leaves this
// file as a `TrackerError` built from method, path, status and Forgejo's own `message`: never
// a token, never a query. The facts are Forgejo's swagger (templates/swagger/v1_json.tmpl) and
// its handlers (routers/api/v1/repo); the strict fake in emulators/forgejo.ts follows them.
// https://forgejo.org/docs/latest/user/api-usage/
import ky, { TimeoutError } from 'ky';
import * as z from 'zod';
import {
  ConfigError,
  isRetryAfter,
  TrackerError,
  type CiFacts,
  type CommentClaim,
  type CommitPlacement,
  type CommitStatus,
  type FailureKind,
  type Issue,
  type IssueComment,
  type LabelEvent,
  type Mergeability,
  type NetworkFailure,
  type Permission,
  type PullRequest,
  type RepoAccess,
  type RepoName,
  type Review,
  type ReviewComment,
  type ReviewFeedback,
  type Tracker,
} from '../core/index.js';
import { prefetchComments, readQueuesByRepo } from './batch-rest.js';
import { networkFailureOf } from './network.js';
import { read, splitRepo, type Origin, type TrackerOptions } from './tracker-wire.js';

export type ForgejoTrackerOptions = TrackerOptions;

// https://codeberg.org/forgejo/forgejo/src/branch/forgejo/modules/setting/api.go: MaxResponseItems
const pageSize = 50;
// A label holds a few dozen issues; a list that keeps going past this is a broken server.
const maxPages = 100;
const claimReaction = 'eyes';
const shaPattern = /^[0-9a-f]{7,64}$/i;

export function createForgejoTracker(options: ForgejoTrackerOptions): Tracker {
  const http = createHttp(options);
  let selfLogin: Promise<string> | undefined;
  const repositories = new Map<RepoName, Promise<z.infer<typeof repoSchema>>>();
  const labelIndexes = new Map<RepoName, Promise<LabelIndex>>();
  /** By owner: every repository of an organisation shares its labels. */
  const orgLabelLists = new Map<string, Promise<List>>();

  // One lookup per key per tracker (a tracker lives for one tick), shared by the runs of a
  // repository. A failed lookup is not remembered: the next call asks again.
  const remember = <T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = load();
      cache.set(key, value);
      value.catch(() => cache.delete(key));
    }
    return value;
  };

  const repository = (repo: RepoName) =>
    remember(repositories, repo, async () => {
      const answer = await http.send({ method: 'GET', path: repoPath(repo) });
      return read(repoSchema, answer.data, answer);
    });

  // Labels are added and removed by numeric id; a repository may use its own labels and, when
  // an organisation owns it, the organisation's. `/orgs/{owner}/labels` is 404 for a user.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_label.go
  const labelIndex = (repo: RepoName) =>
    remember(labelIndexes, repo, async () => {
      const { owner } = splitRepo(repo);
      const [own, shared] = await Promise.all([
        http.sendAll({ method: 'GET', path: `${repoPath(repo)}/labels` }),
        remember(orgLabelLists, owner.toLowerCase(), () =>
          http.sendAll({ method: 'GET', path: `/orgs/${segment(owner)}/labels` }, { absent: 404 }),
        ),
      ]);
      const index: LabelIndex = new Map();
      // The repository's own labels first: the one `addLabels` picks when both define a name.
      for (const list of [own, shared]) {
        for (const item of list.items) {
          const label = read(labelSchema, item, list);
          index.set(label.name, [...(index.get(label.name) ?? []), label.id]);
        }
      }
      return index;
    });

  /** The ids of a label name; the index is read again once before a name counts as unknown. */
  const labelIds = async (repo: RepoName, name: string): Promise<number[]> => {
    const known = (await labelIndex(repo)).get(name);
    if (known !== undefined) return known;
    forgetLabels(repo);
    return (await labelIndex(repo)).get(name) ?? [];
  };

  const forgetLabels = (repo: RepoName) => {
    labelIndexes.delete(repo);
    orgLabelLists.delete(splitRepo(repo).owner.toLowerCase());
  };

  const tracker: Tracker = {
    readQueues(repos, labels) {
      return readQueuesByRepo(tracker, repos, labels);
    },

    prefetchRuns(runs) {
      return prefetchComments(tracker, runs);
    },

    async listLabelledIssues(repo, label, state) {
      const list = await http.sendAll({
        method: 'GET',
        path: `${repoPath(repo)}/issues`,
        // Without type=issues the list holds pull requests too.
        query: { state, type: 'issues', labels: label },
      });
      // The label filter is only a hint: Forgejo resolves the names among the repository's own
      // labels, and a name that resolves to nothing (an organisation label, a label not yet
      // created) drops the filter and lists every issue. So the label is checked here too.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue.go (ListIssues)
      return list.items
        .map((item) => read(issueSchema, item, list))
        .filter((item) => item.pull_request === null && item.labels.some((l) => l.name === label))
        .map((item) => toIssue(repo, item));
    },

    async listComments(issue) {
      // One request: this list has no paging (its only parameters are `since` and `before`)
      // and answers every comment, oldest first. `page` and `limit` would be ignored.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_comment.go (ListIssueComments)
      const answer = await http.send({
        method: 'GET',
        path: `${issuePath(issue.repo, issue.number)}/comments`,
      });
      return selectArray(answer.data, answer).map((item) =>
        toComment(read(commentSchema, item, answer)),
      );
    },

    async listLabelEvents(issue) {
      // The timeline, not paged: with `page` it would answer one page whose X-Total-Count
      // counts that page only, so nothing would tell there is more. Without `page` Forgejo
      // answers every row. A label row is `type: "label"`, with body "1" when the label was
      // added and "" when it was removed; a deleted label leaves `label: null`.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_comment.go (ListIssueCommentsAndTimeline)
      const answer = await http.send({
        method: 'GET',
        path: `${issuePath(issue.repo, issue.number)}/timeline`,
      });
      const rows = read(z.array(z.unknown()).nullable(), answer.data, answer) ?? [];
      return rows.flatMap((row): LabelEvent[] => {
        if (read(timelineRowSchema, row, answer).type !== 'label') return [];
        const event = read(labelEventSchema, row, answer);
        if (event.label === null) return [];
        const action = event.body === '1' ? 'labeled' : event.body === '' ? 'unlabeled' : null;
        if (action === null) return [];
        return [
          {
            action,
            label: event.label.name,
            actor: event.user?.login ?? null,
            createdAt: event.created_at,
          },
        ];
      });
    },

    async getPermission(repo, login) {
      // Only a repository admin (or a site admin) may read another user's permission: with
      // write access the token gets 403, which stays an error (kind forbidden).
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/collaborators.go
      const answer = await http.send({
        method: 'GET',
        path: `${repoPath(repo)}/collaborators/${segment(login)}/permission`,
        accept: [404],
      });
      // A login Forgejo does not know holds nothing: failing closed is the safe side.
      if (answer.status === 404) return 'none';
      return permissionOf[read(permissionSchema, answer.data, answer).permission];
    },

    getSelfLogin() {
      if (options.login !== undefined) return Promise.resolve(options.login);
      if (selfLogin === undefined) {
        selfLogin = http
          .send({ method: 'GET', path: '/user' })
          .then((answer) => read(userSchema, answer.data, answer).login);
        // A failed lookup is not remembered: the next call asks again.
        selfLogin.catch(() => (selfLogin = undefined));
      }
      return selfLogin;
    },

    async createComment(issue, body) {
      // Not idempotent: a 502 may hide a comment Forgejo did create, and a retry would post a
      // second one. The next tick finds the comment or writes it.
      const answer = await http.send({
        method: 'POST',
        path: `${issuePath(issue.repo, issue.number)}/comments`,
        body: { body },
        retry: false,
      });
      return { id: read(commentSchema, answer.data, answer).id };
    },

    async updateComment(repo, commentId, body) {
      const answer = await http.send({
        method: 'PATCH',
        path: `${repoPath(repo)}/issues/comments/${commentId}`,
        body: { body },
      });
      read(commentSchema, answer.data, answer);
    },

    async addLabels(issue, labels) {
      if (labels.length === 0) return;
      const path = `${issuePath(issue.repo, issue.number)}/labels`;
      const ids: number[] = [];
      for (const name of labels) {
        const [id] = await labelIds(issue.repo, name);
        if (id === undefined) {
          throw new TrackerError({
            kind: 'not-found',
            request: `POST ${path}`,
            reason: `no label "${name}" in ${issue.repo} or its organisation`,
          });
        }
        ids.push(id);
      }
      // By id: names would resolve too, but an unknown name is dropped without a word, and a
      // list mixing ids and names is a 400.
      const answer = await http.send({ method: 'POST', path, body: { labels: ids } });
      const applied = read(z.array(labelSchema), answer.data, answer).map((label) => label.id);
      // Forgejo also drops, silently, an id that no longer names a label this repository may
      // use (deleted since it was read): the answer, the issue's labels, must show each one.
      const missing = labels.filter((_, i) => !applied.includes(ids[i] ?? -1));
      if (missing.length > 0) {
        throw new TrackerError({
          kind: 'rejected',
          request: answer.request,
          status: answer.status,
          reason: `label ${missing.map((name) => `"${name}"`).join(', ')} was not applied`,
        });
      }
    },

    async removeLabel(issue, label) {
      // Removing a label the issue does not carry is a 204 like any other; an id that no
      // label has any more is a 422. Both leave the issue without it, which is what we want.
      // A name no label has cannot be on the issue: nothing to send.
      for (const id of await labelIds(issue.repo, label)) {
        await http.send({
          method: 'DELETE',
          path: `${issuePath(issue.repo, issue.number)}/labels/${id}`,
          accept: [422],
        });
      }
    },

    async closeIssue(issue) {
      // Answers 201 (not 200) with the issue; 412 when open dependencies block the close.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue.go (EditIssue)
      const answer = await http.send({
        method: 'PATCH',
        path: issuePath(issue.repo, issue.number),
        body: { state: 'closed' },
      });
      read(issueSchema, answer.data, answer);
    },

    async getComment(repo, commentId) {
      const answer = await http.send({
        method: 'GET',
        path: `${repoPath(repo)}/issues/comments/${commentId}`,
        accept: [404],
      });
      // 204 is Forgejo's answer for an id that names another kind of timeline row.
      if (answer.status === 404 || answer.status === 204) return null;
      return toComment(read(commentSchema, answer.data, answer));
    },

    async deleteComment(repo, commentId) {
      await http.send({
        method: 'DELETE',
        path: `${repoPath(repo)}/issues/comments/${commentId}`,
        accept: [404],
      });
    },

    async claimComment(repo, commentId) {
      // 201 when this call created the reaction, 200 with the existing one when afk's account
      // already had it. Reactions carry no id on Forgejo; they are deleted by content.
      // Retrying after a 5xx is safe: a second attempt answers 200 if the first created it,
      // which reads as "held", never as a second claim. A lost race on the database's unique
      // index also surfaces as a 5xx, and its retry answers 200 the same way.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_reaction.go
      const answer = await http.send({
        method: 'POST',
        path: `${repoPath(repo)}/issues/comments/${commentId}/reactions`,
        body: { content: claimReaction },
      });
      const reaction = read(reactionSchema, answer.data, answer);
      return {
        acquired: answer.status === 201,
        reactionId: 0,
        claimedAt: reaction.created_at,
      } satisfies CommentClaim;
    },

    async releaseClaim(repo, commentId) {
      // 200 whether or not the reaction was there; 404 when the comment itself is gone.
      await http.send({
        method: 'DELETE',
        path: `${repoPath(repo)}/issues/comments/${commentId}/reactions`,
        body: { content: claimReaction },
        accept: [404],
      });
    },

    async findPullRequest(repo, branch) {
      // Forgejo has no `head` filter: the list (newest first) is read until a page holds a
      // pull request of the branch. `head.label` is the branch; `head.ref` is only while the
      // branch exists (`refs/pull/N/head` once deleted after the merge). A pull request from
      // a fork has a head repository of its own.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/pull.go
      const ofBranch = (pull: z.infer<typeof pullSchema>) =>
        pull.head.label === branch && pull.head.repo_id === pull.base.repo_id;
      let found: z.infer<typeof pullSchema> | undefined;
      await http.sendAll(
        { method: 'GET', path: `${repoPath(repo)}/pulls`, query: { state: 'all' } },
        {
          stop: (items, origin) => {
            found = items.map((item) => read(pullSchema, item, origin)).find(ofBranch);
            return found !== undefined;
          },
        },
      );
      return found === undefined ? null : toPullRequest(found);
    },

    async placeCommit(repo, sha) {
      // `{default}...{sha}` lists the commits of sha since its merge base with the default
      // branch: none when sha is on it. Compare exists since Forgejo 7 (Gitea 1.22); an
      // unknown commit is 404. Two histories with nothing in common make git fail, which
      // Forgejo reports as a 500 (transient here).
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/compare.go
      if (!shaPattern.test(sha)) return 'unknown-commit';
      const { default_branch: defaultBranch } = await repository(repo);
      const answer = await http.send({
        method: 'GET',
        path: `${repoPath(repo)}/compare/${branchPath(defaultBranch)}...${sha}`,
        // The commits' files and signatures cost the server work and afk nothing.
        query: { files: 'false', verification: 'false' },
        accept: [404],
      });
      if (answer.status === 404) return 'unknown-commit';
      const { total_commits: ahead } = read(compareSchema, answer.data, answer);
      return (
        ahead === 0 ? 'on-default-branch' : 'not-on-default-branch'
      ) satisfies CommitPlacement;
    },

    async readCi(repo, sha) {
      // Forgejo has commit statuses only. The combined status holds the latest status of each
      // context, a page at a time; with no statuses it is Go's zero value, `state: ""` and
      // `statuses: null`, which reads as no statuses (never as pending).
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/status.go
      const list = await http.sendAll(
        { method: 'GET', path: `${repoPath(repo)}/commits/${segment(sha)}/status` },
        { select: (data, origin) => read(combinedStatusSchema, data, origin).statuses ?? [] },
      );
      return {
        sha,
        checkRuns: [],
        statuses: list.items.map((item) => toCommitStatus(read(commitStatusSchema, item, list))),
      } satisfies CiFacts;
    },

    readDeployment() {
      return Promise.reject(
        new ConfigError([
          'deploy.kind: Forgejo has no Deployments API; use deploy.kind: commit-status',
        ]),
      );
    },

    async readMergeability(repo, pullNumber) {
      // Forgejo's `mergeable` is false for a conflict, and also while its queue is checking a
      // fresh push and for a work-in-progress (draft) pull request. A draft's false says
      // nothing about conflicts: it reads as not known. There is no `mergeable_state`.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/pull.go
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/models/issues/pull.go (Mergeable)
      const answer = await http.send({ method: 'GET', path: pullPath(repo, pullNumber) });
      const pull = read(mergeabilitySchema, answer.data, answer);
      return {
        mergeable: pull.draft === true ? null : pull.mergeable,
        state: null,
        headSha: pull.head.sha,
        baseSha: pull.base.sha,
      } satisfies Mergeability;
    },

    async readReviewFeedback(repo, pullNumber) {
      // The reviews page with `page`/`limit` and X-Total-Count (no Link); a review's line
      // comments come from one more request per review that has any, unpaged.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/pull_review.go
      const list = await http.sendAll({
        method: 'GET',
        path: `${pullPath(repo, pullNumber)}/reviews`,
      });
      const reviews = list.items.flatMap((item) => {
        const raw = read(reviewSchema, item, list);
        const review = toReview(raw);
        return review === null ? [] : [{ review, commentCount: raw.comments_count }];
      });
      const reviewComments: ReviewComment[] = [];
      for (const { review, commentCount } of reviews) {
        if (commentCount === 0) continue;
        const answer = await http.send({
          method: 'GET',
          path: `${pullPath(repo, pullNumber)}/reviews/${review.id}/comments`,
        });
        for (const item of selectArray(answer.data, answer)) {
          reviewComments.push(toReviewComment(read(reviewCommentSchema, item, answer)));
        }
      }
      // Forgejo groups a review's comments by file and line in a Go map, in no stable order.
      reviewComments.sort((a, b) => compareTimes(a.createdAt, b.createdAt) || a.id - b.id);
      // The conversation: issue comments on the pull request's number, unpaged (listComments).
      const answer = await http.send({
        method: 'GET',
        path: `${issuePath(repo, pullNumber)}/comments`,
      });
      return {
        reviews: reviews.map(({ review }) => review),
        reviewComments,
        comments: selectArray(answer.data, answer).map((item) =>
          toComment(read(commentSchema, item, answer)),
        ),
      } satisfies ReviewFeedback;
    },

    async reactToComment(repo, commentId, content) {
      // 201 when created, 200 with the existing reaction when afk already reacted so: either
      // way the reaction is there, and a retry after a 5xx is harmless.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_reaction.go
      const answer = await http.send({
        method: 'POST',
        path: `${repoPath(repo)}/issues/comments/${commentId}/reactions`,
        body: { content },
      });
      const reaction = read(reactionSchema, answer.data, answer);
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
      // The authenticated user's access: admin, push and pull. Forgejo has no maintain or
      // triage role; they fold as GitHub folds them for servers that lack them.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/repository.go
      const { permissions } = await repository(repo);
      if (permissions === undefined || permissions === null) return null;
      return {
        admin: permissions.admin,
        maintain: permissions.admin,
        push: permissions.push,
        triage: permissions.push,
        pull: permissions.pull,
      } satisfies RepoAccess;
    },

    async listRepoLabels(repo) {
      // The organisation's labels count: the repository may use them as its own.
      return [...(await labelIndex(repo)).keys()];
    },

    async createLabel(repo, label) {
      // Forgejo does not refuse a duplicate name, it creates a second label: so the create
      // is sent only when no label of that name exists, and never retried.
      // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/label.go (CreateLabel)
      if ((await labelIndex(repo)).has(label.name)) return;
      const answer = await http.send({
        method: 'POST',
        path: `${repoPath(repo)}/labels`,
        body: { name: label.name, color: label.color, description: label.description },
        retry: false,
      });
      read(labelSchema, answer.data, answer);
      labelIndexes.delete(repo);
    },
  };
  return tracker;
}

type LabelIndex = Map<string, number[]>;

// --- wire shapes: only the fields afk maps, extra fields tolerated ---------------------------

const userSchema = z.object({ login: z.string() });
const posterSchema = userSchema.nullable().optional();

const labelSchema = z.object({ id: z.number().int().positive(), name: z.string() });

// `pull_request` is on every issue: null unless it is a pull request.
// https://codeberg.org/forgejo/forgejo/src/branch/forgejo/modules/structs/issue.go
const issueSchema = z.object({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullable(),
  labels: z
    .array(labelSchema)
    .nullable()
    .transform((labels) => labels ?? []),
  state: z.enum(['open', 'closed']),
  user: posterSchema,
  created_at: z.string(),
  html_url: z.string(),
  pull_request: z
    .unknown()
    .optional()
    .transform((value) => value ?? null),
});

const commentSchema = z.object({
  id: z.number().int().positive(),
  user: posterSchema,
  body: z.string(),
  created_at: z.string(),
});

const timelineRowSchema = z.object({ type: z.string() });

const labelEventSchema = z.object({
  body: z.string(),
  user: posterSchema,
  label: z.object({ name: z.string() }).nullable(),
  created_at: z.string(),
});

// Forgejo's access modes; `owner` is the repository owner's.
const permissionSchema = z.object({
  permission: z.enum(['none', 'read', 'write', 'admin', 'owner']),
});

const permissionOf: Record<z.infer<typeof permissionSchema>['permission'], Permission> = {
  none: 'none',
  read: 'read',
  write: 'write',
  admin: 'admin',
  owner: 'admin',
};

const reactionSchema = z.object({ content: z.string(), created_at: z.string() });

const repoSchema = z.object({
  default_branch: z.string().min(1),
  permissions: z
    .object({ admin: z.boolean(), push: z.boolean(), pull: z.boolean() })
    .nullable()
    .optional(),
});

const branchInfoSchema = z.object({
  label: z.string(),
  sha: z.string(),
  repo_id: z.number().int(),
});

const pullSchema = z.object({
  number: z.number().int().positive(),
  html_url: z.string(),
  state: z.enum(['open', 'closed']),
  merged: z.boolean(),
  merged_at: z.string().nullable().optional(),
  merge_commit_sha: z.string().nullable().optional(),
  head: branchInfoSchema,
  base: branchInfoSchema.pick({ repo_id: true }),
  created_at: z.string(),
});

const mergeabilitySchema = z.object({
  mergeable: z.boolean(),
  draft: z.boolean().optional(),
  head: z.object({ sha: z.string().min(1) }),
  base: z.object({ sha: z.string().min(1) }),
});

// REQUEST_REVIEW is a request for a review, not one; "" is a review type the API has no name
// for. `dismissed` keeps the state the review had. Pending reviews are listed to their author
// only. https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/convert/pull_review.go
const reviewSchema = z.object({
  id: z.number().int().positive(),
  user: posterSchema,
  state: z.enum(['APPROVED', 'PENDING', 'COMMENT', 'REQUEST_CHANGES', 'REQUEST_REVIEW', '']),
  body: z.string(),
  commit_id: z.string(),
  dismissed: z.boolean(),
  comments_count: z.number().int().nonnegative(),
  submitted_at: z.string(),
});

// `position` is the line in the new version; 0 when the comment is on an old line
// (`original_position`). https://codeberg.org/forgejo/forgejo/src/branch/forgejo/modules/structs/pull_review.go
const reviewCommentSchema = z.object({
  id: z.number().int().positive(),
  user: posterSchema,
  pull_request_review_id: z.number().int(),
  path: z.string(),
  position: z.number().int().nonnegative(),
  body: z.string(),
  created_at: z.string(),
});

const compareSchema = z.object({ total_commits: z.number().int().nonnegative() });

// The field is `status`, not `state`; Forgejo also knows `warning`.
// https://codeberg.org/forgejo/forgejo/src/branch/forgejo/modules/structs/status.go
const commitStatusSchema = z.object({
  context: z.string(),
  status: z.enum(['pending', 'success', 'error', 'failure', 'warning']),
  target_url: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
});

const combinedStatusSchema = z.object({
  state: z.enum(['', 'pending', 'success', 'error', 'failure', 'warning']),
  statuses: z.array(z.unknown()).nullable(),
});

const toIssue = (repo: RepoName, raw: z.infer<typeof issueSchema>): Issue => ({
  repo,
  number: raw.number,
  title: raw.title,
  body: raw.body ?? '',
  labels: raw.labels.map((label) => label.name),
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

const toPullRequest = (raw: z.infer<typeof pullSchema>): PullRequest => ({
  number: raw.number,
  url: raw.html_url,
  state: raw.state,
  merged: raw.merged,
  headSha: raw.head.sha,
  mergeCommitSha: raw.merged ? (raw.merge_commit_sha ?? null) : null,
  mergedAt: raw.merged_at ?? null,
  createdAt: raw.created_at,
});

const forgejoReviewStates = {
  APPROVED: 'approved',
  PENDING: 'pending',
  COMMENT: 'commented',
  REQUEST_CHANGES: 'changes-requested',
} as const;

const toReview = (raw: z.infer<typeof reviewSchema>): Review | null => {
  if (raw.state === 'REQUEST_REVIEW' || raw.state === '') return null;
  const state = raw.dismissed ? 'dismissed' : forgejoReviewStates[raw.state];
  return {
    id: raw.id,
    author: raw.user?.login ?? null,
    state,
    body: raw.body,
    commitSha: raw.commit_id || null,
    // A pending review's time is when it was started, not submitted.
    submittedAt: state === 'pending' ? null : raw.submitted_at,
  };
};

const toReviewComment = (raw: z.infer<typeof reviewCommentSchema>): ReviewComment => ({
  id: raw.id,
  reviewId: raw.pull_request_review_id || null,
  author: raw.user?.login ?? null,
  path: raw.path,
  line: raw.position > 0 ? raw.position : null,
  body: raw.body,
  createdAt: raw.created_at,
});

const compareTimes = (a: string, b: string) => Date.parse(a) - Date.parse(b);

// `warning` is not success (branch protection does not pass it) and not pending (it is
// final): the nearest domain state is failure.
// https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/pull/commit_status.go
const toCommitStatus = (raw: z.infer<typeof commitStatusSchema>): CommitStatus => ({
  context: raw.context,
  state: raw.status === 'warning' ? 'failure' : raw.status,
  url: raw.target_url || null,
  description: raw.description || null,
});

const segment = (value: string) => encodeURIComponent(value);
/** A branch in a path: Forgejo routes these with a wildcard, so `/` stays a `/`. */
const branchPath = (branch: string) => branch.split('/').map(segment).join('/');

function repoPath(repo: RepoName): string {
  const { owner, name } = splitRepo(repo);
  return `/repos/${segment(owner)}/${segment(name)}`;
}

const issuePath = (repo: RepoName, number: number) => `${repoPath(repo)}/issues/${number}`;
const pullPath = (repo: RepoName, number: number) => `${repoPath(repo)}/pulls/${number}`;

// --- HTTP: one client, one boundary ---------------------------------------------------------

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Below the API base, already encoded: `/repos/acme/app/issues/5/labels/7`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Whether a 5xx or a network failure may be answered by sending it again. Default true. */
  retry?: boolean;
  /** Statuses that are answers here, not failures (e.g. 404 for "already gone"). */
  accept?: number[];
}

interface Answer extends Origin {
  data: unknown;
  headers: Headers;
}

type List = Origin & { items: unknown[] };

interface ListOptions {
  /** The items of a page whose body is an object (`{state, statuses}`). */
  select?: (data: unknown, origin: Origin) => unknown[];
  /** A status meaning "no such list": an empty one (the org labels of a user's repository). */
  absent?: number;
  /** Stops after the page for which it answers true (the page's items are kept). */
  stop?: (items: unknown[], origin: Origin) => boolean;
}

interface Http {
  send(call: Call): Promise<Answer>;
  /**
   * Every page of a list: `limit=50`, `page` from 1, until `X-Total-Count` items are read (or,
   * without the header, a short page).
   */
  sendAll(call: Call, list?: ListOptions): Promise<List>;
}

function createHttp(options: ForgejoTrackerOptions): Http {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const retries = options.retries ?? 2;
  const maxWaitSeconds = options.maxRetryWaitSeconds ?? 10;
  const waits = retryWaits(retries, maxWaitSeconds);
  // Retries and statuses are handled here, not by ky, so that every answer is classified by
  // one rule and a write that must not repeat is never repeated.
  const client = ky.create({
    retry: 0,
    throwHttpErrors: false,
    timeout: timeoutMs,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });

  const attempt = async (call: Call, request: string) => {
    const token = await options.token();
    const url = new URL(apiUrl + call.path);
    for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
    try {
      const response = await client(url, {
        method: call.method,
        headers: {
          // Forgejo's documented form; it also takes `Bearer`.
          authorization: `token ${token}`,
          accept: 'application/json',
          'user-agent': options.userAgent ?? 'afk',
        },
        ...(call.body === undefined ? {} : { json: call.body }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      return { response, text: await response.text(), token };
    } catch (error) {
      if (options.signal?.aborted === true) {
        throw new TrackerError({ kind: 'transient', request, reason: 'aborted' });
      }
      // ky's TimeoutError holds the Request, headers and token included: not kept as cause.
      if (error instanceof TimeoutError) {
        throw new TrackerError({
          kind: 'transient',
          request,
          network: networkFailureOf(error, url, timeoutMs),
        });
      }
      throw new Unanswered(networkFailureOf(error, url), error);
    }
  };

  const send = async (call: Call): Promise<Answer> => {
    const request = `${call.method} ${call.path}`;
    let rateLimitRetried = false;
    for (let retry = 0; ; retry += 1) {
      let failure: TrackerError;
      let wait: number | undefined;
      try {
        const { response, text, token } = await attempt(call, request);
        const { status } = response;
        const ok = status >= 200 && status < 300;
        if (ok || call.accept?.includes(status) === true) {
          const data = parseJson(text);
          // An accepted refusal (a 404 for "gone") is read by its status alone, whatever its
          // body; a 2xx must be JSON.
          if (data === invalidJson && ok) {
            throw new TrackerError({ kind: 'malformed', request, status, reason: 'invalid JSON' });
          }
          return {
            status,
            data: data === invalidJson ? undefined : data,
            headers: response.headers,
            request,
          };
        }
        failure = new TrackerError({
          kind: failureKind(status, response.headers.get('retry-after')),
          request,
          status,
          reason: forgejoMessage(text, token),
        });
        if (status === 429 && options.throttle !== false && !rateLimitRetried) {
          const after = retryAfterSeconds(response.headers.get('retry-after'));
          if (after !== undefined && after <= maxWaitSeconds) {
            rateLimitRetried = true;
            await sleep(after * 1000);
            // The wait was asked for: it does not spend one of the 5xx retries.
            retry -= 1;
            continue;
          }
        }
        if (failure.kind === 'transient') wait = waits[retry];
      } catch (error) {
        if (!(error instanceof Unanswered)) throw error;
        failure = new TrackerError({
          kind: 'transient',
          request,
          network: error.failure,
          cause: error.cause,
        });
        wait = waits[retry];
      }
      if (wait === undefined || call.retry === false) throw failure;
      await sleep(wait);
    }
  };

  const sendAll = async (call: Call, list: ListOptions = {}): Promise<List> => {
    const select = list.select ?? selectArray;
    const items: unknown[] = [];
    let first: Origin | undefined;
    for (let page = 1; page <= maxPages; page++) {
      const answer = await send({
        ...call,
        query: { ...call.query, limit: String(pageSize), page: String(page) },
        ...(list.absent === undefined ? {} : { accept: [list.absent] }),
      });
      first ??= answer;
      if (answer.status === list.absent)
        return { items, request: first.request, status: first.status };
      const pageItems = select(answer.data, answer);
      items.push(...pageItems);
      const total = totalCount(answer);
      const done =
        list.stop?.(pageItems, answer) === true ||
        pageItems.length === 0 ||
        (total === undefined ? pageItems.length < pageSize : items.length >= total);
      if (done) return { items, request: first.request, status: first.status };
    }
    throw new TrackerError({
      kind: 'malformed',
      request: `${call.method} ${call.path}`,
      reason: `more than ${maxPages} pages`,
    });
  };

  return { send, sendAll };
}

/** A request without an answer, retried like a 5xx before it becomes a TrackerError. */
class Unanswered extends Error {
  constructor(
    readonly failure: NetworkFailure,
    cause: unknown,
  ) {
    super(`network error: ${failure.cause} (${failure.address})`, { cause });
    this.name = 'Unanswered';
  }
}

const selectArray = (data: unknown, origin: Origin): unknown[] =>
  read(z.array(z.unknown()).nullable(), data, origin) ?? [];

function totalCount(answer: Answer): number | undefined {
  const header = answer.headers.get('x-total-count');
  if (header === null) return undefined;
  if (!/^\d+$/.test(header.trim())) {
    throw new TrackerError({
      kind: 'malformed',
      request: answer.request,
      status: answer.status,
      reason: 'X-Total-Count is not a count',
    });
  }
  return Number(header);
}

const invalidJson = Symbol('invalid JSON');

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return invalidJson;
  }
}

// Forgejo's statuses, by the same rule as the GitHub adapter's.
// https://forgejo.org/docs/latest/user/api-usage/
function failureKind(status: number, retryAfter: string | null): FailureKind {
  if (status === 401) return 'auth';
  // A 403 that says when to come back is a rate limit (a proxy's), as on GitHub.
  if (status === 403) return isRetryAfter(retryAfter) ? 'rate-limited' : 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'transient';
  // 400 "labels should be an array of strings or integers" and friends: afk sent something
  // Forgejo cannot read.
  if (status === 400) return 'contract';
  // 409, 412 (open dependencies block a close), 422 (validation) and the rest.
  return 'rejected';
}

/**
 * Forgejo's own `message`, first line, at most 200 characters, with the token cut out should a
 * server ever echo it. Production servers send an empty message for a 500.
 * https://codeberg.org/forgejo/forgejo/src/branch/forgejo/services/context/api.go (APIError)
 */
function forgejoMessage(text: string, token: string): string | undefined {
  const data = parseJson(text);
  const parsed = z.object({ message: z.string() }).safeParse(data);
  if (!parsed.success) return undefined;
  const line = (parsed.data.message.split('\n')[0] ?? '').replaceAll(token, '').trim();
  if (line === '') return undefined;
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** `retry-after` in seconds (a number, or an HTTP date); undefined when absent or unreadable. */
function retryAfterSeconds(header: string | null): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

// Backoff n waits base × n² (1 s, 4 s, 9 s by default, as the GitHub adapter's retry plugin);
// the base shrinks so that all the waits together fit the tick's budget.
function retryWaits(retries: number, maxWaitSeconds: number): number[] {
  let squares = 0;
  for (let n = 1; n <= retries; n++) squares += n * n;
  const base = squares === 0 ? 1000 : Math.min(1000, Math.floor((maxWaitSeconds * 1000) / squares));
  return Array.from({ length: retries }, (_, i) => base * (i + 1) ** 2);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
