// The GitHub fake's `POST /graphql`: queries are parsed, validated against GitHub's published
// schema (@octokit/graphql-schema) and executed by `graphql` over the same state the REST
// routes serve. Only the fields afk queries have resolvers; any other field resolves to null,
// which GraphQL reports as an error where the schema says it cannot be null.
//
// It refuses what GitHub refuses: a query that does not parse or validate (200 with `errors`,
// no data), a connection without `first`/`last` or with more than 100, more than 500,000
// nodes, an exhausted points budget (200, an error of type RATE_LIMITED), and it counts the
// points of each query the way GitHub documents: one request per connection per node of its
// parent connections, the sum divided by 100, rounded, at least 1.
// https://docs.github.com/en/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api
import { schema as published } from '@octokit/graphql-schema';
import {
  buildSchema,
  execute,
  getNamedType,
  GraphQLError,
  isAbstractType,
  isObjectType,
  isInterfaceType,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { isObject } from '../forge-core.js';
import {
  installationCovers,
  readMergeable,
  visibleReviews,
  type GitHubState,
  type IssueRecord,
  type PullRecord,
  type RepoRecord,
  type ReviewRecord,
} from './state.js';

/** Points an hour, as for a personal access token. */
export const GRAPHQL_POINTS = 5000;
const MAX_NODES = 500_000;
const docsUrl = 'https://docs.github.com/graphql';

let built: GraphQLSchema | undefined;
/** GitHub's schema, built once per process (it takes a second). */
export function githubSchema(): GraphQLSchema {
  // The published SDL defines two fields twice (GitHub's own quirk); it is GitHub's schema all
  // the same, so its SDL is not re-validated.
  built ??= buildSchema(published.idl, { assumeValidSDL: true });
  return built;
}

export interface GraphqlAccount {
  /** Points spent so far (GitHub's `rateLimit.used`). */
  points: number;
  /** Queries answered with data (not refused). */
  queries: number;
}

export interface GraphqlAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** Answers one `POST /graphql` body (auth and injected failures are the caller's). */
export function answerGraphql(
  state: GitHubState,
  account: GraphqlAccount,
  body: unknown,
): GraphqlAnswer {
  const schema = githubSchema();
  const headers = () => rateLimitHeaders(state, account);
  const refuse = (errors: unknown[]) => ({ status: 200, body: { errors }, headers: headers() });
  if (!isObject(body) || typeof body['query'] !== 'string') {
    return {
      status: 400,
      body: { message: 'Problems parsing JSON', documentation_url: docsUrl },
      headers: headers(),
    };
  }
  const variables = isObject(body['variables']) ? body['variables'] : {};
  const operationName = typeof body['operationName'] === 'string' ? body['operationName'] : null;
  let document: DocumentNode;
  try {
    document = parse(body['query']);
  } catch (error) {
    return refuse([{ message: error instanceof Error ? error.message : String(error) }]);
  }
  const invalid = validate(schema, document);
  if (invalid.length > 0) return refuse(invalid.map(validationError));
  const operation = operationOf(document, operationName);
  if (operation === undefined) return refuse([{ message: 'No operation named in the document' }]);
  const measured = measure(schema, document, operation, variables);
  if (measured.errors.length > 0) return refuse(measured.errors);
  const cost = Math.max(1, Math.round(measured.requests / 100));
  if (account.points + cost > GRAPHQL_POINTS) {
    return refuse([
      { type: 'RATE_LIMITED', message: 'API rate limit already exceeded for user ID 1.' },
    ]);
  }
  account.points += cost;
  account.queries += 1;
  const result = execute({
    schema,
    document,
    operationName,
    variableValues: variables,
    rootValue: rootOf(state, account, cost, measured.nodes),
  });
  if (result instanceof Promise) throw new Error('github fake: a GraphQL resolver was async');
  const errors = result.errors?.map(executionError);
  return {
    status: 200,
    body: { data: result.data ?? null, ...(errors === undefined ? {} : { errors }) },
    headers: headers(),
  };
}

function rateLimitHeaders(state: GitHubState, account: GraphqlAccount): Record<string, string> {
  return {
    'x-ratelimit-limit': String(GRAPHQL_POINTS),
    'x-ratelimit-remaining': String(Math.max(0, GRAPHQL_POINTS - account.points)),
    'x-ratelimit-used': String(account.points),
    'x-ratelimit-reset': String(resetOf(state)),
    'x-ratelimit-resource': 'graphql',
  };
}

const resetOf = (state: GitHubState) => Math.floor(state.now().getTime() / 1000) + 3600;

// GitHub names a validation error's kind in `extensions.code`, and its path starts at the
// operation (`["query", "repository", "foo"]`), never at an alias of the answer.
function validationError(error: GraphQLError) {
  const code = /Cannot query field/.test(error.message)
    ? 'undefinedField'
    : /Unknown argument/.test(error.message)
      ? 'argumentNotAccepted'
      : /Variable/.test(error.message)
        ? 'variableMismatch'
        : 'validationError';
  return {
    message: error.message,
    locations: error.locations,
    path: ['query'],
    extensions: { code },
  };
}

// A resolver's refusal carries GitHub's error `type` (NOT_FOUND, FORBIDDEN) at the top level.
function executionError(error: GraphQLError) {
  const type = error.extensions['type'];
  return {
    ...(typeof type === 'string' ? { type } : {}),
    path: error.path,
    locations: error.locations,
    message: error.message,
  };
}

const githubError = (type: string, message: string) =>
  new GraphQLError(message, { extensions: { type } });

function operationOf(document: DocumentNode, name: string | null) {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (name === null) return operations.length === 1 ? operations[0] : undefined;
  return operations.find((o) => o.name?.value === name);
}

// --- cost and node limits ---------------------------------------------------------------------

interface Measured {
  requests: number;
  nodes: number;
  errors: unknown[];
}

function measure(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): Measured {
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const measured: Measured = { requests: 0, nodes: 0, errors: [] };
  const valueOf = (node: ValueNode): unknown =>
    node.kind === Kind.VARIABLE
      ? variables[node.name.value]
      : node.kind === Kind.INT
        ? Number(node.value)
        : undefined;
  const walk = (set: SelectionSetNode, type: GraphQLNamedType, multiplier: number) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        const on = fragment && schema.getType(fragment.typeCondition.name.value);
        if (fragment !== undefined && on !== undefined && on !== null)
          walk(fragment.selectionSet, on, multiplier);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : type;
        if (on !== undefined && on !== null) walk(selection.selectionSet, on, multiplier);
      } else {
        walkField(selection, type, multiplier);
      }
    }
  };
  const walkField = (field: FieldNode, parent: GraphQLNamedType, multiplier: number) => {
    if (!(isObjectType(parent) || isInterfaceType(parent)) || field.selectionSet === undefined)
      return;
    const definition = parent.getFields()[field.name.value];
    if (definition === undefined) return;
    const type = getNamedType(definition.type);
    if (!isConnection(type)) {
      walk(field.selectionSet, type, multiplier);
      return;
    }
    const arg = (name: string) => {
      const node = field.arguments?.find((a) => a.name.value === name);
      return node === undefined ? undefined : valueOf(node.value);
    };
    const size = arg('first') ?? arg('last');
    const name = field.name.value;
    if (typeof size !== 'number') {
      measured.errors.push({
        type: 'MISSING_PAGINATION_BOUNDARIES',
        path: ['query', name],
        message: `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`,
      });
      return;
    }
    if (size < 0 || size > 100) {
      const which = arg('first') === undefined ? 'last' : 'first';
      measured.errors.push({
        type: 'EXCESSIVE_PAGINATION',
        path: ['query', name],
        message: `Requesting ${size} records on the \`${name}\` connection exceeds the \`${which}\` limit of 100 records.`,
      });
      return;
    }
    measured.requests += multiplier;
    measured.nodes += multiplier * size;
    walk(field.selectionSet, type, multiplier * size);
  };
  const root = schema.getQueryType();
  if (root !== null && root !== undefined) walk(operation.selectionSet, root, 1);
  if (measured.nodes > MAX_NODES) {
    measured.errors.push({
      type: 'MAX_NODE_LIMIT_EXCEEDED',
      message: `This query requests up to ${measured.nodes} possible nodes which exceeds the maximum limit of ${MAX_NODES}.`,
    });
  }
  return measured;
}

const isConnection = (type: GraphQLNamedType): boolean =>
  !isAbstractType(type) && type.name.endsWith('Connection') && isObjectType(type);

// --- resolvers over the fake's state ----------------------------------------------------------

type Args = Record<string, unknown>;

function rootOf(state: GitHubState, account: GraphqlAccount, cost: number, nodes: number) {
  return {
    repository: ({ owner, name }: Args) => {
      const repo = state.findRepo(String(owner), String(name));
      // An installation token reaches only its installation's repositories; GitHub answers
      // any other as one that does not exist.
      const caller = state.caller();
      const hidden =
        repo !== undefined &&
        caller.kind === 'installation' &&
        !installationCovers(caller.installation, repo);
      if (repo === undefined || hidden) {
        throw githubError(
          'NOT_FOUND',
          `Could not resolve to a Repository with the name '${String(owner)}/${String(name)}'.`,
        );
      }
      return repositoryNode(state, repo);
    },
    rateLimit: () => ({
      cost,
      limit: GRAPHQL_POINTS,
      nodeCount: nodes,
      remaining: Math.max(0, GRAPHQL_POINTS - account.points),
      used: account.points,
      resetAt: new Date(resetOf(state) * 1000).toISOString(),
    }),
  };
}

function repositoryNode(state: GitHubState, repo: RepoRecord) {
  return {
    nameWithOwner: repo.fullName,
    issues: (args: Args) => {
      unsupported(args, ['first', 'last', 'after', 'before', 'labels', 'states', 'orderBy']);
      const labels = (args['labels'] as string[] | undefined)?.map((l) => l.toLowerCase());
      const states = args['states'] as string[] | undefined;
      const issues = [...repo.issues.values()]
        .filter((issue) => !issue.isPullRequest)
        .filter((issue) => states === undefined || states.includes(issue.state.toUpperCase()))
        // Several labels select issues carrying any of them.
        .filter(
          (i) =>
            labels === undefined || i.labels.some((l) => labels.includes(l.name.toLowerCase())),
        );
      return connection(
        ordered(issues, args['orderBy']).map((issue) => issueNode(state, repo, issue)),
        args,
      );
    },
    issue: ({ number }: Args) => {
      const issue = repo.issues.get(Number(number));
      if (issue === undefined || issue.isPullRequest) {
        throw githubError(
          'NOT_FOUND',
          `Could not resolve to an Issue with the number of ${String(number)}.`,
        );
      }
      return issueNode(state, repo, issue);
    },
    pullRequests: (args: Args) => {
      unsupported(args, ['first', 'last', 'after', 'before', 'headRefName', 'states', 'orderBy']);
      const states = args['states'] as string[] | undefined;
      const pulls = [...repo.pulls.values()]
        .map((pull) => ({ pull, issue: repo.issues.get(pull.number) }))
        .filter((e): e is { pull: PullRecord; issue: IssueRecord } => e.issue !== undefined)
        .filter(
          ({ pull }) => args['headRefName'] === undefined || pull.head === args['headRefName'],
        )
        .filter(
          ({ pull, issue }) => states === undefined || states.includes(pullState(pull, issue)),
        );
      const sorted = ordered(
        pulls.map(({ issue }) => issue),
        args['orderBy'],
      );
      return connection(
        sorted.map((issue) =>
          pullNode(state, repo, repo.pulls.get(issue.number) as PullRecord, issue),
        ),
        args,
      );
    },
    pullRequest: ({ number }: Args) => {
      const pull = repo.pulls.get(Number(number));
      const issue = repo.issues.get(Number(number));
      if (pull === undefined || issue === undefined) {
        throw githubError(
          'NOT_FOUND',
          `Could not resolve to a PullRequest with the number of ${String(number)}.`,
        );
      }
      return pullNode(state, repo, pull, issue);
    },
    deployments: (args: Args) => {
      unsupported(args, ['first', 'last', 'after', 'before', 'environments', 'orderBy']);
      const environments = args['environments'] as string[] | undefined;
      const order = args['orderBy'] as { direction?: string } | undefined;
      const deployments = repo.deployments
        .filter((d) => environments === undefined || environments.includes(d.environment))
        .sort((a, b) => a.id - b.id);
      // The schema's default order is CREATED_AT ascending.
      if (order?.direction === 'DESC') deployments.reverse();
      return connection(
        deployments.map((d) => {
          const latest = d.statuses.at(-1);
          return {
            commitOid: d.sha,
            environment: d.environment,
            createdAt: d.createdAt,
            updatedAt: d.updatedAt,
            latestStatus:
              latest === undefined
                ? null
                : {
                    state: latest.state.toUpperCase(),
                    environmentUrl: latest.environmentUrl === '' ? null : latest.environmentUrl,
                    logUrl: latest.logUrl === '' ? null : latest.logUrl,
                    description: latest.description,
                    createdAt: latest.createdAt,
                    updatedAt: latest.createdAt,
                  },
          };
        }),
        args,
      );
    },
  };
}

/** An argument afk's queries never send, refused so that a new one gets a resolver first. */
function unsupported(args: Args, known: string[]): void {
  const extra = Object.keys(args).filter(
    (name) => !known.includes(name) && args[name] !== undefined,
  );
  if (extra.length > 0)
    throw new GraphQLError(`github fake: argument(s) ${extra.join(', ')} not implemented`);
}

function ordered(issues: IssueRecord[], orderBy: unknown): IssueRecord[] {
  const order = (orderBy ?? { field: 'CREATED_AT', direction: 'ASC' }) as {
    field: string;
    direction: string;
  };
  const key = (i: IssueRecord) =>
    order.field === 'UPDATED_AT'
      ? i.updatedAt
      : order.field === 'COMMENTS'
        ? String(i.comments.length).padStart(9, '0')
        : i.createdAt;
  const sorted = [...issues].sort((a, b) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.number - b.number,
  );
  return order.direction === 'DESC' ? sorted.reverse() : sorted;
}

// GraphQL's actors: a GitHub App's bot is `Bot` with its slug as login (REST says `slug[bot]`).
function actor(login: string) {
  return login.endsWith('[bot]')
    ? { __typename: 'Bot', login: login.slice(0, -'[bot]'.length) }
    : { __typename: 'User', login };
}

function issueNode(state: GitHubState, repo: RepoRecord, issue: IssueRecord) {
  return {
    number: issue.number,
    title: issue.title,
    body: issue.body ?? '',
    state: issue.state.toUpperCase(),
    createdAt: issue.createdAt,
    updatedAt: issue.updatedAt,
    url: `${state.webUrl}/${repo.fullName}/issues/${issue.number}`,
    author: actor(issue.author),
    labels: (args: Args) =>
      connection(
        issue.labels.map((label) => ({ name: label.name, color: label.color })),
        args,
      ),
    comments: (args: Args) => commentsOf(issue, args),
  };
}

function commentsOf(issue: IssueRecord, args: Args) {
  unsupported(args, ['first', 'last', 'after', 'before']);
  return connection(
    issue.comments.map((comment) => ({
      databaseId: comment.id,
      body: comment.body,
      createdAt: comment.createdAt,
      updatedAt: comment.updatedAt,
      author: actor(comment.author),
    })),
    args,
  );
}

const pullState = (pull: PullRecord, issue: IssueRecord) =>
  pull.mergedAt !== null ? 'MERGED' : issue.state.toUpperCase();

function pullNode(state: GitHubState, repo: RepoRecord, pull: PullRecord, issue: IssueRecord) {
  const merged = pull.mergedAt !== null;
  // Read once per node, and only when asked: the read is what starts GitHub's computation.
  let mergeability: ReturnType<typeof readMergeable> | undefined;
  const mergeable = () => (mergeability ??= readMergeable(repo, pull));
  return {
    number: pull.number,
    url: `${state.webUrl}/${repo.fullName}/pull/${pull.number}`,
    state: pullState(pull, issue),
    merged,
    mergedAt: pull.mergedAt,
    createdAt: issue.createdAt,
    headRefName: pull.head,
    headRefOid: pull.headSha,
    baseRefOid: repo.branches.get(repo.defaultBranch) ?? pull.headSha,
    isCrossRepository: false,
    mergeable: () => {
      const { mergeable: value } = mergeable();
      return value === null ? 'UNKNOWN' : value ? 'MERGEABLE' : 'CONFLICTING';
    },
    mergeStateStatus: () => mergeable().state.toUpperCase(),
    // Chronological, as REST lists them; a pending review only to its author.
    reviews: (args: Args) => {
      unsupported(args, ['first', 'last', 'after', 'before']);
      return connection(
        visibleReviews(pull, state.selfLogin).map((review) => reviewNode(pull, review)),
        args,
      );
    },
    comments: (args: Args) => commentsOf(issue, args),
    // The head commit stands for the PR's commits: afk reads only the last.
    commits: (args: Args) => connection([{ commit: commitNode(state, repo, pull.headSha) }], args),
    // Only a merged PR has one; the test merge of an open PR is not it.
    mergeCommit: merged ? commitNode(state, repo, pull.mergeCommitSha) : null,
  };
}

function reviewNode(pull: PullRecord, review: ReviewRecord) {
  return {
    databaseId: review.id,
    author: actor(review.author),
    state: review.state,
    body: review.body,
    commit: { oid: review.commitId },
    submittedAt: review.submittedAt,
    comments: (args: Args) => {
      unsupported(args, ['first', 'last', 'after', 'before']);
      return connection(
        pull.reviewComments
          .filter((comment) => comment.reviewId === review.id)
          .map((comment) => ({
            databaseId: comment.id,
            author: actor(comment.author),
            path: comment.path,
            line: comment.line,
            originalLine: comment.line,
            body: comment.body,
            createdAt: comment.createdAt,
          })),
        args,
      );
    },
  };
}

function commitNode(state: GitHubState, repo: RepoRecord, sha: string) {
  const runs = repo.checkRuns.filter((run) => run.headSha === sha);
  const latestRuns = runs.filter((run) => !runs.some((o) => o.name === run.name && o.id > run.id));
  const statuses = repo.statuses.filter((s) => s.sha === sha);
  const latestStatuses = statuses.filter(
    (s) => !statuses.some((o) => o.context === s.context && o.id > s.id),
  );
  const contexts = [
    ...latestRuns.map((run) => ({
      __typename: 'CheckRun',
      name: run.name,
      status: run.status.toUpperCase(),
      conclusion: run.conclusion?.toUpperCase() ?? null,
      detailsUrl: run.url ?? `${state.webUrl}/${repo.fullName}/runs/${run.id}`,
      permalink: run.url ?? `${state.webUrl}/${repo.fullName}/runs/${run.id}`,
      title: run.title,
      summary: run.summary,
    })),
    ...latestStatuses.map((status) => ({
      __typename: 'StatusContext',
      context: status.context,
      state: status.state.toUpperCase(),
      targetUrl: status.targetUrl,
      description: status.description,
    })),
  ];
  return {
    oid: sha,
    // GitHub has no rollup for a commit that no check or status reported on.
    statusCheckRollup:
      contexts.length === 0 ? null : { contexts: (args: Args) => connection(contexts, args) },
  };
}

/** A page of `items` by `first`/`after` (or `last`/`before`), with opaque cursors. */
function connection<T>(items: T[], args: Args) {
  const cursor = (i: number) => Buffer.from(`cursor:${i + 1}`).toString('base64');
  const indexOf = (given: unknown) => {
    const decoded = typeof given === 'string' ? Buffer.from(given, 'base64').toString() : '';
    const match = /^cursor:(\d+)$/.exec(decoded);
    if (given != null && match === null) throw new GraphQLError('`after` is not a valid cursor.');
    return match === null ? undefined : Number(match[1]) - 1;
  };
  const after = indexOf(args['after']);
  const before = indexOf(args['before']);
  let start = after === undefined ? 0 : after + 1;
  let end = before === undefined ? items.length : before;
  if (typeof args['first'] === 'number') end = Math.min(end, start + args['first']);
  else if (typeof args['last'] === 'number') start = Math.max(start, end - args['last']);
  const nodes = items.slice(start, end);
  return {
    totalCount: items.length,
    nodes,
    edges: nodes.map((node, i) => ({ node, cursor: cursor(start + i) })),
    pageInfo: {
      hasNextPage: end < items.length,
      hasPreviousPage: start > 0,
      startCursor: nodes.length === 0 ? null : cursor(start),
      endCursor: nodes.length === 0 ? null : cursor(end - 1),
    },
  };
}
