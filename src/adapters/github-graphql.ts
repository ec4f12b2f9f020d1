// GitHub's batched reads: every query afk sends to `POST /graphql`, and how their answers
// become domain values. Poll and watch read the queue and the live runs of every repo, and
// each live run's comments, pull request, CI and deployments, in a few queries instead of a
// few REST requests per repo and run. Writes, trust checks and doctor stay REST.
//
// Costs follow GitHub's formula: each connection costs one request per node of its parent
// connections (1 at the top), the sum over a query divided by 100 is its points (at least 1);
// `first`/`last` must be 1..100 and a query may ask for at most 500,000 nodes.
// https://docs.github.com/en/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api
// Every query here is validated against GitHub's published schema in
// test/adapters/github-graphql.test.ts. Values (repo names, labels, branches) travel only as
// variables, never in the query text.
import * as z from 'zod';
import {
  checkRunConclusions,
  checkRunStatuses,
  TrackerError,
  type CheckRun,
  type CiFacts,
  type CommitStatus,
  type DeploymentFacts,
  type FailureKind,
  type Issue,
  type IssueComment,
  type Mergeability,
  type PrefetchedEvidence,
  type PullRequest,
  type QueueLabels,
  type RepoAnswer,
  type RepoName,
  type RepoQueue,
  type Review,
  type ReviewComment,
  type ReviewFeedback,
  type ReviewState,
  type RunAnswer,
  type RunPrefetch,
} from '../core/index.js';
import { splitRepo } from './tracker-wire.js';

export interface GraphqlCall {
  operationName: string;
  query: string;
  variables: Record<string, unknown>;
}

/** A 2xx answer to `POST /graphql`: its body is still unread. */
export interface GraphqlReply {
  /** `POST /graphql (AfkQueues)`: how errors name the request. */
  request: string;
  status: number;
  headers: Record<string, string | number | undefined>;
  body: unknown;
}

export type SendGraphql = (call: GraphqlCall) => Promise<GraphqlReply>;

/** A page: GitHub's most per connection. */
const PAGE = 100;
/** Repositories per query: the query text and its answer stay small. */
const REPOS_PER_QUERY = 100;
/** Issues per query, each with up to 100 labels: far under GitHub's 500,000 nodes. */
const ISSUES_PER_QUERY = 2000;
/** Live runs per watch query: each asks for up to ~300 nodes. */
export const RUNS_PER_QUERY = 50;
/** Deployments to the environment read per repo, newest first. */
const DEPLOYMENTS = 20;
/** A label's queue or a run's comments that keep saying "next page" past this are broken. */
const MAX_ROUNDS = 100;

export const requestOf = (call: Pick<GraphqlCall, 'operationName'>): string =>
  `POST /graphql (${call.operationName})`;

// --- the queries ------------------------------------------------------------------------------

const issueFields = `fragment AfkIssues on IssueConnection {
  totalCount
  pageInfo { hasNextPage endCursor }
  nodes {
    number
    title
    body
    state
    createdAt
    url
    author { __typename login }
    labels(first: 100) { pageInfo { hasNextPage } nodes { name } }
  }
}`;

const commentFields = `fragment AfkComments on IssueCommentConnection {
  totalCount
  pageInfo { hasNextPage endCursor }
  nodes { databaseId body createdAt author { __typename login } }
}`;

const ciFields = `fragment AfkCi on Commit {
  oid
  statusCheckRollup {
    contexts(first: 100) {
      pageInfo { hasNextPage }
      nodes {
        __typename
        ... on CheckRun { name status conclusion detailsUrl permalink title summary }
        ... on StatusContext { context state targetUrl description }
      }
    }
  }
}`;

const actorFields = 'author { __typename login }';

// The PR of afk's branch, with what the review loop asks of an open one: its mergeability
// and its conversation. A connection under the PR costs one request per run whatever its
// size, so the lists ask for a full page; a review's line comments would cost one request per
// review asked for, so they come in a second query, only for the PRs that have reviews.
const pullFields = `fragment AfkPull on PullRequest {
  number
  url
  state
  merged
  mergedAt
  createdAt
  headRefName
  headRefOid
  baseRefOid
  isCrossRepository
  mergeable
  mergeStateStatus
  commits(last: 1) { nodes { commit { ...AfkCi } } }
  mergeCommit { ...AfkCi }
  reviews(first: ${PAGE}) {
    pageInfo { hasNextPage }
    nodes { databaseId state body submittedAt commit { oid } ${actorFields} }
  }
  comments(first: ${PAGE}) { ...AfkComments }
}`;

const reviewCommentFields = `fragment AfkReviewComments on PullRequestReviewCommentConnection {
  pageInfo { hasNextPage }
  nodes { databaseId path line body createdAt ${actorFields} }
}`;

const deploymentFields = `fragment AfkDeployments on DeploymentConnection {
  pageInfo { hasNextPage }
  nodes {
    commitOid
    updatedAt
    latestStatus { state environmentUrl logUrl updatedAt }
  }
}`;

const rateLimitField = 'rateLimit { cost remaining resetAt }';

type ListName = 'ready' | 'live' | 'human';

/** The lists a queue read asks for: the ready and human ones only when named. */
const listsOf = (labels: QueueLabels): ListName[] => [
  ...(labels.ready === undefined ? [] : (['ready'] as const)),
  'live',
  ...(labels.human === undefined ? [] : (['human'] as const)),
];

const labelOf = (labels: QueueLabels, list: ListName): string | undefined =>
  list === 'ready' ? labels.ready : list === 'human' ? labels.human : labels.inProgress;

/** Only the live runs are read in every state: a closed issue may still hold the lock. */
const statesOf = (list: ListName): string => (list === 'live' ? '' : ' states: [OPEN],');

/** How many ready and live issues each repo holds: one cheap request per connection. */
export function queueCountsQuery(repos: readonly RepoName[], labels: QueueLabels): GraphqlCall {
  const lists = listsOf(labels);
  const variables: Record<string, unknown> = {};
  const params: string[] = [];
  for (const list of lists) {
    variables[list] = [labelOf(labels, list)];
    params.push(`$${list}: [String!]`);
  }
  const aliases = repos.map((repo, i) => {
    const { owner, name } = splitRepo(repo);
    variables[`o${i}`] = owner;
    variables[`n${i}`] = name;
    params.push(`$o${i}: String!`, `$n${i}: String!`);
    const counts = lists.map(
      (list) => ` ${list}: issues(labels: $${list},${statesOf(list)} first: 1) { totalCount }`,
    );
    return `  r${i}: repository(owner: $o${i}, name: $n${i}) {${counts.join('')} }`;
  });
  const query = `query AfkQueueCounts(${params.join(', ')}) {\n${aliases.join('\n')}\n  ${rateLimitField}\n}`;
  return { operationName: 'AfkQueueCounts', query, variables };
}

export interface QueuePage {
  repo: RepoName;
  list: ListName;
  first: number;
  after: string | null;
}

/** Pages of the queues, each sized to what its repo holds: a query costs what it reads. */
export function queuesQuery(pages: readonly QueuePage[], labels: QueueLabels): GraphqlCall {
  const variables: Record<string, unknown> = {};
  const params: string[] = [];
  const byRepo = groupBy(pages, (page) => page.repo);
  const uses = new Set<ListName>();
  const aliases = [...byRepo].map(([repo, repoPages], i) => {
    const { owner, name } = splitRepo(repo);
    variables[`o${i}`] = owner;
    variables[`n${i}`] = name;
    params.push(`$o${i}: String!`, `$n${i}: String!`);
    const lists = repoPages.map((page) => {
      uses.add(page.list);
      const first = `${page.list}First${i}`;
      const after = `${page.list}After${i}`;
      variables[first] = page.first;
      variables[after] = page.after;
      params.push(`$${first}: Int!`, `$${after}: String`);
      const states = statesOf(page.list);
      return `${page.list}: issues(labels: $${page.list},${states} first: $${first}, after: $${after}, orderBy: {field: CREATED_AT, direction: DESC}) { ...AfkIssues }`;
    });
    return `  r${i}: repository(owner: $o${i}, name: $n${i}) { ${lists.join(' ')} }`;
  });
  for (const list of uses) {
    variables[list] = [labelOf(labels, list)];
    params.unshift(`$${list}: [String!]`);
  }
  const query = `query AfkQueues(${params.join(', ')}) {\n${aliases.join('\n')}\n  ${rateLimitField}\n}\n${issueFields}`;
  return { operationName: 'AfkQueues', query, variables };
}

/**
 * Watch's reads of live runs: per run its comments and the PR of its branch with the CI of its
 * head and merge commit; per repo the newest deployments to the environment.
 */
export function runsQuery(runs: readonly RunPrefetch[]): GraphqlCall {
  const variables: Record<string, unknown> = {};
  const params: string[] = [];
  const byRepo = groupBy(
    runs.map((run, index) => ({ run, index })),
    ({ run }) => run.issue.repo,
  );
  const aliases = [...byRepo].map(([repo, repoRuns], i) => {
    const { owner, name } = splitRepo(repo);
    variables[`o${i}`] = owner;
    variables[`n${i}`] = name;
    params.push(`$o${i}: String!`, `$n${i}: String!`);
    const fields = repoRuns.map(({ run, index }) => {
      variables[`i${index}`] = run.issue.number;
      params.push(`$i${index}: Int!`);
      const comments = `i${index}: issue(number: $i${index}) { comments(first: 100) { ...AfkComments } }`;
      if (run.branch === null) return comments;
      variables[`b${index}`] = run.branch;
      params.push(`$b${index}: String!`);
      return `${comments} p${index}: pullRequests(headRefName: $b${index}, first: 1, orderBy: {field: CREATED_AT, direction: DESC}) { nodes { ...AfkPull } }`;
    });
    // Deployments serve the runs with a PR: the commits they judge come from it.
    const environment = repoRuns.find(({ run }) => run.branch !== null && run.environment !== null)
      ?.run.environment;
    if (environment !== undefined && environment !== null) {
      variables[`e${i}`] = [environment];
      params.push(`$e${i}: [String!]`);
      fields.push(
        `deployments(environments: $e${i}, first: ${DEPLOYMENTS}, orderBy: {field: CREATED_AT, direction: DESC}) { ...AfkDeployments }`,
      );
    }
    return `  r${i}: repository(owner: $o${i}, name: $n${i}) { ${fields.join(' ')} }`;
  });
  const usesPull = runs.some((run) => run.branch !== null);
  const usesDeployments = runs.some((run) => run.branch !== null && run.environment !== null);
  const fragments = [
    commentFields,
    ...(usesPull ? [pullFields, ciFields] : []),
    ...(usesDeployments ? [deploymentFields] : []),
  ];
  const query = `query AfkRuns(${params.join(', ')}) {\n${aliases.join('\n')}\n  ${rateLimitField}\n}\n${fragments.join('\n')}`;
  return { operationName: 'AfkRuns', query, variables };
}

export interface CommentPage {
  issue: { repo: RepoName; number: number };
  after: string;
}

/** The next page of comments of each run that has more than a page. */
export function commentsQuery(pages: readonly CommentPage[]): GraphqlCall {
  const variables: Record<string, unknown> = {};
  const params: string[] = [];
  const aliases = pages.map(({ issue, after }, i) => {
    const { owner, name } = splitRepo(issue.repo);
    Object.assign(variables, { [`o${i}`]: owner, [`n${i}`]: name, [`i${i}`]: issue.number });
    variables[`c${i}`] = after;
    params.push(`$o${i}: String!`, `$n${i}: String!`, `$i${i}: Int!`, `$c${i}: String!`);
    return `  r${i}: repository(owner: $o${i}, name: $n${i}) { issue(number: $i${i}) { comments(first: 100, after: $c${i}) { ...AfkComments } } }`;
  });
  const query = `query AfkComments(${params.join(', ')}) {\n${aliases.join('\n')}\n  ${rateLimitField}\n}\n${commentFields}`;
  return { operationName: 'AfkComments', query, variables };
}

export interface ReviewCommentsAsk {
  repo: RepoName;
  pull: number;
  /** How many reviews the PR has: each costs one request, so exactly those are asked for. */
  reviews: number;
}

/** The line comments of every review of the PRs that have reviews, a page per review. */
export function reviewCommentsQuery(asks: readonly ReviewCommentsAsk[]): GraphqlCall {
  const variables: Record<string, unknown> = {};
  const params: string[] = [];
  const aliases = asks.map(({ repo, pull, reviews }, i) => {
    const { owner, name } = splitRepo(repo);
    Object.assign(variables, { [`o${i}`]: owner, [`n${i}`]: name, [`p${i}`]: pull });
    variables[`v${i}`] = reviews;
    params.push(`$o${i}: String!`, `$n${i}: String!`, `$p${i}: Int!`, `$v${i}: Int!`);
    return `  r${i}: repository(owner: $o${i}, name: $n${i}) { pullRequest(number: $p${i}) { reviews(first: $v${i}) { pageInfo { hasNextPage } nodes { databaseId comments(first: ${PAGE}) { ...AfkReviewComments } } } } }`;
  });
  const query = `query AfkReviewComments(${params.join(', ')}) {\n${aliases.join('\n')}\n  ${rateLimitField}\n}\n${reviewCommentFields}`;
  return { operationName: 'AfkReviewComments', query, variables };
}

// --- answers: data per alias, errors per alias, or one error for the whole query --------------

const errorSchema = z.object({
  message: z.string().catch(''),
  type: z.string().optional().catch(undefined),
  path: z
    .array(z.union([z.string(), z.number()]))
    .optional()
    .catch(undefined),
  extensions: z.object({ code: z.string().optional() }).passthrough().optional().catch(undefined),
});
type GraphqlError = z.infer<typeof errorSchema>;

const bodySchema = z.object({
  data: z.record(z.string(), z.unknown()).nullish(),
  errors: z.array(errorSchema).optional(),
});

interface Split {
  data: Record<string, unknown>;
  /** Errors by the alias (and the field under it) that they name. */
  errors: GraphqlError[];
}

/**
 * The answer's data, or a TrackerError for the whole query: a body that is no GraphQL answer,
 * or errors that name no alias (a rate limit, a query GitHub refused) with no data at all.
 */
function splitAnswer(reply: GraphqlReply, aliases: ReadonlySet<string>): Split {
  const parsed = bodySchema.safeParse(reply.body);
  if (!parsed.success || (parsed.data.data == null && parsed.data.errors === undefined)) {
    throw new TrackerError({
      kind: 'malformed',
      request: reply.request,
      status: reply.status,
      reason: 'body: not a GraphQL answer (no data, no errors)',
    });
  }
  const errors = parsed.data.errors ?? [];
  const whole = errors.find((e) => !aliases.has(String(e.path?.[0])));
  if (whole !== undefined) throw errorOf(reply, whole);
  return { data: parsed.data.data ?? {}, errors };
}

// GitHub's error types and GraphQL's validation codes, as afk's failure kinds.
// https://docs.github.com/en/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api
const kindOfType: Record<string, FailureKind> = {
  NOT_FOUND: 'not-found',
  FORBIDDEN: 'forbidden',
  RATE_LIMITED: 'rate-limited',
  INTERNAL: 'transient',
  SERVICE_UNAVAILABLE: 'transient',
  TIMEOUT: 'transient',
  MAX_NODE_LIMIT_EXCEEDED: 'contract',
  EXCESSIVE_PAGINATION: 'contract',
  MISSING_PAGINATION_BOUNDARIES: 'contract',
};

function errorOf(reply: GraphqlReply, error: GraphqlError): TrackerError {
  const code = error.type ?? error.extensions?.code;
  // A code without a type is a validation error: afk sent a query GitHub's schema refuses.
  // Neither is GitHub failing on its side ("Something went wrong while executing your
  // query"): worth another try on a later tick.
  const kind: FailureKind =
    error.type === undefined
      ? code === undefined
        ? 'transient'
        : 'contract'
      : (kindOfType[error.type] ?? 'rejected');
  const line = error.message.split('\n')[0] ?? '';
  let reason = [code, line.length > 160 ? `${line.slice(0, 157)}...` : line]
    .filter((part) => part !== undefined && part !== '')
    .join(': ');
  if (kind === 'rate-limited') reason = `${reason}${resetNote(reply.headers)}`;
  return new TrackerError({ kind, request: reply.request, status: reply.status, reason });
}

/** `; resets at 2026-11-21T09:00:00Z`, from GitHub's `x-ratelimit-reset` (epoch seconds). */
export function resetNote(headers: Record<string, string | number | undefined>): string {
  const reset = Number(headers['x-ratelimit-reset']);
  if (!Number.isFinite(reset) || reset <= 0) return '';
  return `; resets at ${new Date(reset * 1000).toISOString().replace(/\.000Z$/, 'Z')}`;
}

/** The first error under `path` (an alias, then maybe a field under it), as a TrackerError. */
function errorUnder(reply: GraphqlReply, split: Split, ...path: string[]): TrackerError | null {
  const found = split.errors.find((e) => path.every((part, i) => String(e.path?.[i]) === part));
  return found === undefined ? null : errorOf(reply, found);
}

function readPart<T>(schema: z.ZodType<T>, data: unknown, reply: GraphqlReply, where: string): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const at = [where, ...(issue?.path ?? []).map(String)].join('.');
  throw new TrackerError({
    kind: 'malformed',
    request: reply.request,
    status: reply.status,
    reason: `${at}: ${issue?.message ?? 'unexpected shape'}`,
  });
}

// --- wire shapes --------------------------------------------------------------------------------

// A GitHub App's bot is `afk` in GraphQL and `afk[bot]` in REST (and in afk's config): the
// REST form is kept, so that afk recognises its own comments either way.
// https://docs.github.com/en/graphql/reference/objects#bot
const actorSchema = z
  .object({ __typename: z.string(), login: z.string() })
  .nullable()
  .transform((actor) =>
    actor === null
      ? null
      : actor.__typename === 'Bot' && !actor.login.endsWith('[bot]')
        ? `${actor.login}[bot]`
        : actor.login,
  );

const pageInfoSchema = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() });

const issueSchema = z.object({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string(),
  state: z.enum(['OPEN', 'CLOSED']),
  createdAt: z.string(),
  url: z.string(),
  author: actorSchema,
  labels: z
    .object({
      pageInfo: z.object({ hasNextPage: z.boolean() }),
      nodes: z.array(z.object({ name: z.string() })),
    })
    .nullable(),
});

const issuesSchema = z.object({
  totalCount: z.number().int(),
  pageInfo: pageInfoSchema,
  nodes: z.array(issueSchema),
});

const countsSchema = z
  .object({
    ready: z.object({ totalCount: z.number().int().nonnegative() }).optional(),
    live: z.object({ totalCount: z.number().int().nonnegative() }),
    human: z.object({ totalCount: z.number().int().nonnegative() }).optional(),
  })
  .nullable();

const commentSchema = z.object({
  databaseId: z.number().int(),
  body: z.string(),
  createdAt: z.string(),
  author: actorSchema,
});

const commentsSchema = z.object({
  totalCount: z.number().int(),
  pageInfo: pageInfoSchema,
  nodes: z.array(commentSchema),
});

const contextSchema = z.discriminatedUnion('__typename', [
  z.object({
    __typename: z.literal('CheckRun'),
    name: z.string(),
    status: z.string(),
    conclusion: z.string().nullable(),
    detailsUrl: z.string().nullish(),
    permalink: z.string().nullish(),
    title: z.string().nullish(),
    summary: z.string().nullish(),
  }),
  z.object({
    __typename: z.literal('StatusContext'),
    context: z.string(),
    state: z.enum(['ERROR', 'EXPECTED', 'FAILURE', 'PENDING', 'SUCCESS']),
    targetUrl: z.string().nullish(),
    description: z.string().nullish(),
  }),
]);

const ciSchema = z
  .object({
    oid: z.string(),
    statusCheckRollup: z
      .object({
        contexts: z.object({
          pageInfo: z.object({ hasNextPage: z.boolean() }),
          nodes: z.array(contextSchema),
        }),
      })
      .nullable(),
  })
  .nullable();

// The same words as REST's review states.
// https://docs.github.com/en/graphql/reference/enums#pullrequestreviewstate
const reviewStateOf = {
  APPROVED: 'approved',
  CHANGES_REQUESTED: 'changes-requested',
  COMMENTED: 'commented',
  DISMISSED: 'dismissed',
  PENDING: 'pending',
} as const satisfies Record<string, ReviewState>;

// REST's `mergeable`: null while GitHub computes it.
// https://docs.github.com/en/graphql/reference/enums#mergeablestate
const mergeableOf: Record<string, boolean | null> = {
  MERGEABLE: true,
  CONFLICTING: false,
  UNKNOWN: null,
};

const pullSchema = z.object({
  number: z.number().int().positive(),
  url: z.string(),
  state: z.enum(['OPEN', 'CLOSED', 'MERGED']),
  merged: z.boolean(),
  mergedAt: z.string().nullable(),
  createdAt: z.string(),
  headRefName: z.string(),
  headRefOid: z.string(),
  baseRefOid: z.string(),
  isCrossRepository: z.boolean(),
  mergeable: z.string(),
  mergeStateStatus: z.string(),
  commits: z.object({ nodes: z.array(z.object({ commit: ciSchema })) }),
  mergeCommit: ciSchema,
  reviews: z
    .object({
      pageInfo: z.object({ hasNextPage: z.boolean() }),
      nodes: z.array(
        z.object({
          databaseId: z.number().int(),
          state: z.enum(Object.keys(reviewStateOf) as [keyof typeof reviewStateOf]),
          body: z.string(),
          submittedAt: z.string().nullable(),
          commit: z.object({ oid: z.string() }).nullable(),
          author: actorSchema,
        }),
      ),
    })
    .nullable(),
  comments: commentsSchema,
});

const reviewCommentsSchema = z.object({
  pageInfo: z.object({ hasNextPage: z.boolean() }),
  nodes: z.array(
    z.object({
      databaseId: z.number().int(),
      path: z.string(),
      // null when the line left the diff (outdated), as REST says it.
      line: z.number().int().nullable(),
      body: z.string(),
      createdAt: z.string(),
      author: actorSchema,
    }),
  ),
});

const pullReviewsSchema = z.object({
  pullRequest: z
    .object({
      reviews: z
        .object({
          pageInfo: z.object({ hasNextPage: z.boolean() }),
          nodes: z.array(
            z.object({ databaseId: z.number().int(), comments: reviewCommentsSchema }),
          ),
        })
        .nullable(),
    })
    .nullable(),
});

const deploymentsSchema = z.object({
  pageInfo: z.object({ hasNextPage: z.boolean() }),
  nodes: z.array(
    z.object({
      commitOid: z.string(),
      updatedAt: z.string(),
      latestStatus: z
        .object({
          state: z.enum([
            'ERROR',
            'FAILURE',
            'INACTIVE',
            'IN_PROGRESS',
            'PENDING',
            'QUEUED',
            'SUCCESS',
            'WAITING',
          ]),
          environmentUrl: z.string().nullish(),
          logUrl: z.string().nullish(),
          updatedAt: z.string(),
        })
        .nullable(),
    }),
  ),
});

const toIssue = (repo: RepoName, raw: z.infer<typeof issueSchema>): Issue => ({
  repo,
  number: raw.number,
  title: raw.title,
  body: raw.body,
  labels: raw.labels?.nodes.map((label) => label.name) ?? [],
  state: raw.state === 'OPEN' ? 'open' : 'closed',
  author: raw.author,
  createdAt: raw.createdAt,
  url: raw.url,
});

const toComment = (raw: z.infer<typeof commentSchema>): IssueComment => ({
  id: raw.databaseId,
  author: raw.author,
  body: raw.body,
  createdAt: raw.createdAt,
});

type ReviewNode = NonNullable<z.infer<typeof pullSchema>['reviews']>['nodes'][number];

const toReview = (raw: ReviewNode): Review => ({
  id: raw.databaseId,
  author: raw.author,
  state: reviewStateOf[raw.state],
  body: raw.body,
  commitSha: raw.commit?.oid ?? null,
  submittedAt: raw.submittedAt,
});

const toReviewComment = (
  reviewId: number,
  raw: z.infer<typeof reviewCommentsSchema>['nodes'][number],
): ReviewComment => ({
  id: raw.databaseId,
  reviewId,
  author: raw.author,
  path: raw.path,
  line: raw.line,
  body: raw.body,
  createdAt: raw.createdAt,
});

// --- poll and watch: the queues -----------------------------------------------------------------

interface QueueState {
  repo: RepoName;
  error: unknown;
  lists: Record<ListName, { issues: Issue[]; total: number; after: string | null; more: boolean }>;
}

/**
 * The queues of every repo: how many issues each list holds (one cheap query per 100 repos),
 * then the issues, each list asked for exactly its size, paged only past 100.
 */
export async function readQueues(
  send: SendGraphql,
  repos: readonly RepoName[],
  labels: QueueLabels,
): Promise<Array<RepoAnswer<RepoQueue>>> {
  const states: QueueState[] = repos.map((repo) => ({
    repo,
    error: undefined,
    lists: {
      ready: { issues: [], total: 0, after: null, more: false },
      live: { issues: [], total: 0, after: null, more: false },
      human: { issues: [], total: 0, after: null, more: false },
    },
  }));
  for (const chunk of chunksOf(states, REPOS_PER_QUERY)) await countQueues(send, chunk, labels);
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const pages = states.flatMap((state) =>
      state.error !== undefined
        ? []
        : (['ready', 'live', 'human'] as const)
            .filter((list) => state.lists[list].more)
            .map((list) => ({ state, list })),
    );
    if (pages.length === 0) break;
    for (const batch of batchBySize(pages, ({ state, list }) => pageSize(state.lists[list]))) {
      await readQueuePages(send, batch, labels);
    }
  }
  return states.map((state) => {
    if (state.error !== undefined) return { repo: state.repo, ok: false, error: state.error };
    if (state.lists.ready.more || state.lists.live.more || state.lists.human.more) {
      const error = new TrackerError({
        kind: 'malformed',
        request: requestOf({ operationName: 'AfkQueues' }),
        reason: `more than ${MAX_ROUNDS} pages`,
      });
      return { repo: state.repo, ok: false, error };
    }
    const { ready, live, human } = state.lists;
    const value = { ready: ready.issues, inProgress: live.issues, human: human.issues };
    return { repo: state.repo, ok: true, value };
  });
}

const pageSize = (list: { total: number; issues: Issue[] }): number =>
  Math.min(PAGE, Math.max(1, list.total - list.issues.length));

async function countQueues(send: SendGraphql, chunk: QueueState[], labels: QueueLabels) {
  const call = queueCountsQuery(
    chunk.map((s) => s.repo),
    labels,
  );
  const answer = await answerOf(send, call, aliasesOf(chunk.length));
  chunk.forEach((state, i) => {
    const alias = `r${i}`;
    try {
      if (!answer.ok) throw answer.error;
      const split = answer.split;
      const failed = errorUnder(answer.reply, split, alias);
      if (failed !== null) throw failed;
      const counts = readPart(countsSchema, split.data[alias], answer.reply, alias);
      if (counts === null) throw notFound(answer.reply, state.repo);
      for (const list of ['ready', 'live', 'human'] as const) {
        const total = counts[list]?.totalCount ?? 0;
        state.lists[list] = { issues: [], total, after: null, more: total > 0 };
      }
    } catch (error) {
      state.error = error;
    }
  });
}

async function readQueuePages(
  send: SendGraphql,
  batch: Array<{ state: QueueState; list: ListName }>,
  labels: QueueLabels,
) {
  const pages = batch.map(({ state, list }) => ({
    repo: state.repo,
    list,
    first: pageSize(state.lists[list]),
    after: state.lists[list].after,
  }));
  const call = queuesQuery(pages, labels);
  const repos = [...new Set(batch.map(({ state }) => state))];
  const answer = await answerOf(send, call, aliasesOf(repos.length));
  repos.forEach((state, i) => {
    const alias = `r${i}`;
    try {
      if (!answer.ok) throw answer.error;
      const failed = errorUnder(answer.reply, answer.split, alias);
      if (failed !== null) throw failed;
      const data = answer.split.data[alias];
      if (data === null) throw notFound(answer.reply, state.repo);
      for (const { list } of batch.filter((entry) => entry.state === state)) {
        const where = `${alias}.${list}`;
        const page = readPart(
          issuesSchema,
          (data as Record<string, unknown>)[list],
          answer.reply,
          where,
        );
        const known = state.lists[list];
        known.issues.push(...page.nodes.map((node) => toIssue(state.repo, node)));
        // A list that grew since it was counted is paged on; one that shrank ends early.
        known.total = Math.max(page.totalCount, known.issues.length);
        known.after = page.pageInfo.endCursor ?? null;
        known.more = page.pageInfo.hasNextPage && page.nodes.length > 0;
      }
    } catch (error) {
      state.error = error;
    }
  });
}

const notFound = (reply: GraphqlReply, repo: RepoName) =>
  new TrackerError({
    kind: 'not-found',
    request: reply.request,
    status: reply.status,
    reason: `no repository ${repo}`,
  });

type Answer = { ok: true; reply: GraphqlReply; split: Split } | { ok: false; error: unknown };

/** Sends `call`; a failure of the whole query is an answer too, for each alias to carry. */
async function answerOf(
  send: SendGraphql,
  call: GraphqlCall,
  aliases: ReadonlySet<string>,
): Promise<Answer> {
  try {
    const reply = await send(call);
    return { ok: true, reply, split: splitAnswer(reply, aliases) };
  } catch (error) {
    if (!(error instanceof TrackerError)) throw error;
    return { ok: false, error };
  }
}

const aliasesOf = (count: number): Set<string> =>
  new Set(Array.from({ length: count }, (_, i) => `r${i}`));

// --- watch: the runs ----------------------------------------------------------------------------

interface RunState {
  run: RunPrefetch;
  error: unknown;
  comments: IssueComment[];
  after: string | null;
  evidence: PrefetchedEvidence;
  /** An open PR's reviews and conversation, waiting for the reviews' line comments. */
  feedback?: { pull: number; reviews: Review[]; comments: IssueComment[] };
}

/** Every run's comments, PR, CI and deployments, `RUNS_PER_QUERY` runs a query. */
export async function prefetchRuns(
  send: SendGraphql,
  runs: readonly RunPrefetch[],
): Promise<RunAnswer[]> {
  const states: RunState[] = runs.map((run) => ({
    run,
    error: undefined,
    comments: [],
    after: null,
    evidence: {},
  }));
  for (const chunk of chunksOf(states, RUNS_PER_QUERY)) await readRuns(send, chunk);
  const reviewed = states.filter((s) => s.error === undefined && s.feedback !== undefined);
  for (const batch of batchBySize(reviewed, (s) => s.feedback?.reviews.length ?? 0)) {
    await readReviewComments(send, batch);
  }
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const more = states.filter((s) => s.error === undefined && s.after !== null);
    if (more.length === 0) break;
    for (const chunk of chunksOf(more, RUNS_PER_QUERY)) await readMoreComments(send, chunk);
  }
  return states.map((state): RunAnswer => {
    if (state.error !== undefined) return { ok: false, error: state.error };
    if (state.after !== null) {
      const reason = `more than ${MAX_ROUNDS} pages of comments`;
      const request = requestOf({ operationName: 'AfkComments' });
      return { ok: false, error: new TrackerError({ kind: 'malformed', request, reason }) };
    }
    return { ok: true, comments: state.comments, evidence: state.evidence };
  });
}

async function readRuns(send: SendGraphql, chunk: RunState[]) {
  const call = runsQuery(chunk.map((s) => s.run));
  const repoIndex = new Map<RepoName, number>();
  for (const { run } of chunk) {
    if (!repoIndex.has(run.issue.repo)) repoIndex.set(run.issue.repo, repoIndex.size);
  }
  const answer = await answerOf(send, call, aliasesOf(repoIndex.size));
  chunk.forEach((state, index) => {
    const alias = `r${repoIndex.get(state.run.issue.repo) ?? -1}`;
    try {
      if (!answer.ok) throw answer.error;
      const { reply, split } = answer;
      const failed =
        errorUnder(reply, split, alias, `i${index}`) ??
        errorUnder(reply, split, alias, `p${index}`);
      if (failed !== null) throw failed;
      const repoData = split.data[alias];
      if (repoData == null)
        throw errorUnder(reply, split, alias) ?? notFound(reply, state.run.issue.repo);
      readRun(state, repoData as Record<string, unknown>, { alias, index }, answer);
    } catch (error) {
      state.error = error;
    }
  });
}

function readRun(
  state: RunState,
  data: Record<string, unknown>,
  at: { alias: string; index: number },
  answer: { reply: GraphqlReply; split: Split },
) {
  const { index } = at;
  const { reply, split } = answer;
  const issue = readPart(
    z.object({ comments: commentsSchema }).nullable(),
    data[`i${index}`],
    reply,
    `i${index}`,
  );
  if (issue === null) {
    throw new TrackerError({
      kind: 'not-found',
      request: reply.request,
      status: reply.status,
      reason: `no issue ${state.run.issue.repo}#${state.run.issue.number}`,
    });
  }
  state.comments.push(...issue.comments.nodes.map(toComment));
  state.after = issue.comments.pageInfo.hasNextPage
    ? (issue.comments.pageInfo.endCursor ?? null)
    : null;
  if (state.run.branch === null) return;
  const pulls = readPart(
    z.object({ nodes: z.array(pullSchema) }),
    data[`p${index}`],
    reply,
    `p${index}`,
  );
  const pull = pulls.nodes[0];
  const evidence = evidenceOf(state.run, pull, data['deployments'], reply);
  // Deployments an error left out are read one by one, when a decision asks.
  if (split.errors.some((e) => e.path?.[0] === at.alias && e.path[1] === 'deployments')) {
    delete evidence.deployment;
  }
  state.evidence = evidence;
  // Only an open PR of afk's own has a review loop: the others' are never asked for.
  if (pull !== undefined && evidence.pullRequest?.state === 'open') {
    const mergeability = mergeabilityOf(pull);
    if (mergeability !== undefined) evidence.mergeability = mergeability;
    const reviews = pull.reviews;
    // A list with more than a page is read over REST, whole, when the decision asks.
    if (reviews === null || reviews.pageInfo.hasNextPage || pull.comments.pageInfo.hasNextPage)
      return;
    const feedback = {
      pull: pull.number,
      reviews: reviews.nodes.map(toReview),
      comments: pull.comments.nodes.map(toComment),
    };
    // No review, no line comment: GitHub files every line comment under a review.
    if (feedback.reviews.length === 0) {
      evidence.reviewFeedback = { reviews: [], reviewComments: [], comments: feedback.comments };
    } else {
      state.feedback = feedback;
    }
  }
}

function mergeabilityOf(pull: z.infer<typeof pullSchema>): Mergeability | undefined {
  const mergeable = mergeableOf[pull.mergeable];
  // A state afk does not know is read over REST.
  if (mergeable === undefined) return undefined;
  return {
    mergeable,
    // REST's `mergeable_state` says the same in lower case (`has_hooks`).
    state: pull.mergeStateStatus.toLowerCase(),
    headSha: pull.headRefOid,
    baseSha: pull.baseRefOid,
  };
}

/**
 * The line comments of each open PR's reviews, completing its `reviewFeedback`. What does not
 * fit (a review with more than a page of them, a review gone or added since the first query,
 * a failed query) leaves the feedback to REST.
 */
async function readReviewComments(send: SendGraphql, batch: RunState[]) {
  const asks = batch.map((s) => ({
    repo: s.run.issue.repo,
    pull: s.feedback?.pull ?? 0,
    reviews: s.feedback?.reviews.length ?? 0,
  }));
  const answer = await answerOf(send, reviewCommentsQuery(asks), aliasesOf(batch.length));
  if (!answer.ok) return;
  batch.forEach((state, i) => {
    const alias = `r${i}`;
    const feedback = state.feedback;
    if (feedback === undefined || errorUnder(answer.reply, answer.split, alias) !== null) return;
    const parsed = pullReviewsSchema.safeParse(answer.split.data[alias]);
    const reviews = parsed.success ? parsed.data.pullRequest?.reviews : undefined;
    if (reviews == null || reviews.pageInfo.hasNextPage) return;
    const ids = reviews.nodes.map((r) => r.databaseId);
    const same =
      ids.length === feedback.reviews.length && feedback.reviews.every((r, n) => r.id === ids[n]);
    if (!same || reviews.nodes.some((r) => r.comments.pageInfo.hasNextPage)) return;
    // Oldest first across the PR, as REST lists them.
    const reviewComments = reviews.nodes
      .flatMap((review) => review.comments.nodes.map((c) => toReviewComment(review.databaseId, c)))
      .sort((a, b) => compareDates(a.createdAt, b.createdAt) || a.id - b.id);
    state.evidence.reviewFeedback = {
      reviews: feedback.reviews,
      reviewComments,
      comments: feedback.comments,
    } satisfies ReviewFeedback;
  });
}

const compareDates = (a: string, b: string): number => Date.parse(a) - Date.parse(b);

/**
 * The evidence one query settles for certain. What it leaves out (a PR from a fork under
 * afk's branch name, more than 100 checks, a deployment older than the newest 20) stays out,
 * and the decision reads it over REST as before.
 */
function evidenceOf(
  run: RunPrefetch,
  pull: z.infer<typeof pullSchema> | undefined,
  deploymentData: unknown,
  reply: GraphqlReply,
): PrefetchedEvidence {
  if (pull === undefined) return { pullRequest: null };
  if (pull.isCrossRepository || pull.headRefName !== run.branch) return {};
  const merged = pull.merged;
  const pullRequest: PullRequest = {
    number: pull.number,
    url: pull.url,
    state: pull.state === 'OPEN' ? 'open' : 'closed',
    merged,
    headSha: pull.headRefOid,
    mergeCommitSha: merged ? (pull.mergeCommit?.oid ?? null) : null,
    mergedAt: pull.mergedAt,
    createdAt: pull.createdAt,
  };
  const commits = [pull.commits.nodes.at(-1)?.commit ?? null, merged ? pull.mergeCommit : null];
  const ci: Record<string, CiFacts> = {};
  for (const commit of commits) {
    const facts = commit === null ? null : ciOf(commit);
    if (facts !== null) ci[facts.sha] = facts;
  }
  const evidence: PrefetchedEvidence = { pullRequest, ci };
  if (run.environment === null || deploymentData === undefined) return evidence;
  const deployments = readPart(deploymentsSchema, deploymentData, reply, 'deployments');
  const shas = [
    pull.headRefOid,
    ...(pullRequest.mergeCommitSha === null ? [] : [pullRequest.mergeCommitSha]),
  ];
  const deployment: Record<string, DeploymentFacts> = {};
  for (const sha of shas) {
    const facts = deploymentOf(deployments, sha, run.environment);
    if (facts !== null) deployment[sha] = facts;
  }
  return { ...evidence, deployment };
}

function ciOf(commit: NonNullable<z.infer<typeof ciSchema>>): CiFacts | null {
  const contexts = commit.statusCheckRollup?.contexts;
  if (contexts?.pageInfo.hasNextPage === true) return null;
  const checkRuns: CheckRun[] = [];
  const statuses: CommitStatus[] = [];
  for (const context of contexts?.nodes ?? []) {
    if (context.__typename === 'CheckRun') {
      const run = toCheckRun(context);
      if (run === null) return null;
      checkRuns.push(run);
    } else {
      statuses.push({
        context: context.context,
        // EXPECTED: a required context that has not reported yet.
        state:
          context.state === 'EXPECTED'
            ? 'pending'
            : (context.state.toLowerCase() as CommitStatus['state']),
        url: context.targetUrl || null,
        description: context.description || null,
      });
    }
  }
  return { sha: commit.oid, checkRuns, statuses };
}

const maxSummary = 300;

function toCheckRun(
  raw: Extract<z.infer<typeof contextSchema>, { __typename: 'CheckRun' }>,
): CheckRun | null {
  const status = checkRunStatuses.find((s) => s === raw.status.toLowerCase());
  const conclusion =
    raw.conclusion === null
      ? null
      : checkRunConclusions.find((c) => c === raw.conclusion?.toLowerCase());
  // A state afk does not know is read over REST, where the adapter names it.
  if (status === undefined || conclusion === undefined) return null;
  const parts = [raw.title?.trim() ?? '', raw.summary?.trim() ?? ''].filter((p) => p !== '');
  const text = [...new Set(parts)].join('\n');
  return {
    name: raw.name,
    status,
    conclusion,
    url: raw.permalink || raw.detailsUrl || null,
    summary:
      text === '' ? null : text.length > maxSummary ? `${text.slice(0, maxSummary - 1)}…` : text,
  };
}

function deploymentOf(
  deployments: z.infer<typeof deploymentsSchema>,
  sha: string,
  environment: string,
): DeploymentFacts | null {
  const facts: DeploymentFacts = { sha, environment, state: null, url: null, updatedAt: null };
  const found = deployments.nodes.find((d) => d.commitOid.toLowerCase() === sha.toLowerCase());
  if (found === undefined) return deployments.pageInfo.hasNextPage ? null : facts;
  const status = found.latestStatus;
  // A deployment without a status waits to start, which is what `pending` means.
  if (status === null) return { ...facts, state: 'pending', updatedAt: found.updatedAt };
  return {
    ...facts,
    // WAITING (on a protection rule) is not in REST's words; it has not started.
    state:
      status.state === 'WAITING'
        ? 'pending'
        : (status.state.toLowerCase() as DeploymentFacts['state']),
    url: status.environmentUrl || status.logUrl || null,
    updatedAt: status.updatedAt,
  };
}

async function readMoreComments(send: SendGraphql, chunk: RunState[]) {
  const call = commentsQuery(chunk.map((s) => ({ issue: s.run.issue, after: s.after ?? '' })));
  const answer = await answerOf(send, call, aliasesOf(chunk.length));
  chunk.forEach((state, i) => {
    const alias = `r${i}`;
    try {
      if (!answer.ok) throw answer.error;
      const failed = errorUnder(answer.reply, answer.split, alias);
      if (failed !== null) throw failed;
      const page = readPart(
        z.object({ issue: z.object({ comments: commentsSchema }) }),
        answer.split.data[alias],
        answer.reply,
        alias,
      );
      const { comments } = page.issue;
      state.comments.push(...comments.nodes.map(toComment));
      state.after = comments.pageInfo.hasNextPage ? (comments.pageInfo.endCursor ?? null) : null;
    } catch (error) {
      state.error = error;
    }
  });
}

// --- helpers ------------------------------------------------------------------------------------

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}

function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Consecutive batches of at most `ISSUES_PER_QUERY` issues and `REPOS_PER_QUERY` entries. */
function batchBySize<T>(items: readonly T[], size: (item: T) => number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const item of items) {
    const n = size(item);
    if (current.length > 0 && (total + n > ISSUES_PER_QUERY || current.length >= REPOS_PER_QUERY)) {
      batches.push(current);
      current = [];
      total = 0;
    }
    current.push(item);
    total += n;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
