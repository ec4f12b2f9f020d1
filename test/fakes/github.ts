// A strict in-memory GitHub REST API for the endpoints afk's tracker uses, as msw handlers.
// It answers the way api.github.com does (status codes, bodies, Link and rate-limit headers)
// and refuses what GitHub refuses; routes it does not implement fall through to msw's
// `onUnhandledRequest: 'error'`, and query parameters it does not implement answer 501.
// https://docs.github.com/en/rest/issues
import { delay, http, HttpResponse, type HttpHandler } from 'msw';

export interface GitHubFakeOptions {
  /** Default `https://api.github.test`; may carry a path, like GHES's `/api/v3`. */
  baseUrl?: string;
  /** The one token accepted (as `token X` or `Bearer X`). Default `gh-test-token`. */
  token?: string;
  /** The login the token acts as. Default `afk-bot`. */
  selfLogin?: string;
  /**
   * The token is a GitHub App installation token: `GET /user` answers 403 "Resource not
   * accessible by integration", as GitHub does. Default false.
   */
  appInstallation?: boolean;
  /** The fake's clock, for the timestamps of writes. Default the real clock. */
  now?: () => Date;
}

export interface RecordedRequest {
  method: string;
  /** The path below `baseUrl`, still URL-encoded: `/repos/o/r/issues/1/labels/area%2Fui`. */
  path: string;
  /** The raw query string with its `?`, or `''`. */
  search: string;
  /** The query, decoded. */
  query: Record<string, string>;
  /** Parsed JSON, the raw text when it is not JSON, or undefined without a body. */
  body: unknown;
  /** Lower-case names. */
  headers: Record<string, string>;
}

export type FakeRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read';

export interface FakeRepoOptions {
  /** Explicit roles. The token's own login holds `write` unless listed here. */
  collaborators?: Record<string, FakeRole>;
  /**
   * Decides what a user who is not a collaborator holds: `read` on a public repository
   * (anyone may read it), `none` on a private one. Default `private`.
   */
  visibility?: 'public' | 'private';
}

export interface FakeIssueInput {
  number?: number;
  title: string;
  body?: string;
  labels?: string[];
  state?: 'open' | 'closed';
  author?: string;
  createdAt?: string;
  isPullRequest?: boolean;
  /** label → login who applied it; recorded as `labeled` events (the label is applied too). */
  labeledBy?: Record<string, string>;
}

export interface FakeIssueState {
  labels: string[];
  state: string;
  stateReason: string | null;
  comments: Array<{ id: number; author: string; body: string }>;
  /** `label` is `''` for events that carry none (closed, reopened). */
  events: Array<{ event: string; label: string; actor: string }>;
}

export interface RequestMatch {
  method?: string;
  /** Exact path below `baseUrl` (no query), or a pattern tested against it. */
  path?: string | RegExp;
}

export type FakeFailure =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** The connection fails: fetch rejects. */
  | 'network-error'
  /** No answer, ever: the client's timeout must fire. */
  | 'timeout'
  /** 200 with a JSON body of the wrong shape. */
  | 'malformed';

export interface GitHubFake {
  handlers: HttpHandler[];
  /** Every request, in order, including the ones the fake refused. */
  requests: RecordedRequest[];
  /** The requests that are not GET. */
  writes(): RecordedRequest[];
  addRepo(repo: string, opts?: FakeRepoOptions): void;
  /** Returns the issue's number. */
  addIssue(repo: string, issue: FakeIssueInput): number;
  /** Returns the comment's id. */
  addComment(
    repo: string,
    number: number,
    comment: { author: string; body: string; createdAt?: string },
  ): number;
  /** A human applies a label between ticks (recorded as a `labeled` event). */
  labelIssue(repo: string, number: number, label: string, actor: string): void;
  /** A human removes a label between ticks (recorded as an `unlabeled` event). */
  unlabelIssue(repo: string, number: number, label: string, actor: string): void;
  issue(repo: string, number: number): FakeIssueState;
  /** The next `times` requests matching `match` get `answer` instead (before the auth check). */
  failNext(match: RequestMatch, answer: FakeFailure, times?: number): void;
  /** Drops the failures not yet answered (e.g. between a crashed tick and a clean one). */
  clearFailures(): void;
  /** Rotates the accepted token: the old one answers 401 from now on. */
  setToken(token: string): void;
}

interface LabelRecord {
  id: number;
  name: string;
  color: string;
}

interface CommentRecord {
  id: number;
  issueNumber: number;
  author: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

interface EventRecord {
  id: number;
  event: 'labeled' | 'unlabeled' | 'closed' | 'reopened';
  label: LabelRecord | null;
  actor: string;
  createdAt: string;
  stateReason: string | null;
}

interface IssueRecord {
  id: number;
  number: number;
  title: string;
  body: string | null;
  labels: LabelRecord[];
  state: 'open' | 'closed';
  stateReason: string | null;
  author: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  isPullRequest: boolean;
  comments: CommentRecord[];
  events: EventRecord[];
}

interface RepoRecord {
  id: number;
  fullName: string;
  owner: string;
  visibility: 'public' | 'private';
  collaborators: Map<string, { login: string; role: FakeRole }>;
  labels: Map<string, LabelRecord>;
  issues: Map<number, IssueRecord>;
}

interface PendingFailure {
  match: RequestMatch;
  answer: FakeFailure;
  remaining: number;
}

const docs = 'https://docs.github.com/rest';
const rateLimit = 5000;
// GitHub's label colours, cycled for labels the fake creates.
const colours = ['d73a4a', '0075ca', 'cfd3d7', 'a2eeef', '7057ff', '008672', 'e4e669', 'd876e3'];
const legacyPermission: Record<FakeRole, 'admin' | 'write' | 'read'> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
};
const roleRank: Record<FakeRole, number> = { read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

/** Thrown inside a route: becomes GitHub's error answer. */
class Refusal {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly documentation: string = docs,
    readonly errors?: unknown[],
  ) {}
}

export function createGitHubFake(options: GitHubFakeOptions = {}): GitHubFake {
  const baseUrl = (options.baseUrl ?? 'https://api.github.test').replace(/\/+$/, '');
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  // https://api.github.com → https://github.com; https://ghe.example/api/v3 → https://ghe.example
  const webUrl = `${base.protocol}//${base.host.replace(/^api\./, '')}`;
  const selfLogin = options.selfLogin ?? 'afk-bot';
  const now = options.now ?? (() => new Date());
  let token = options.token ?? 'gh-test-token';

  const repos = new Map<string, RepoRecord>();
  const requests: RecordedRequest[] = [];
  const failures: PendingFailure[] = [];
  let nextId = 1000;
  const newId = () => ++nextId;
  const stamp = () => now().toISOString();

  // --- lookups ----------------------------------------------------------------------------

  const findRepo = (owner: string, name: string): RepoRecord | undefined =>
    repos.get(`${owner}/${name}`.toLowerCase());

  const repoOrThrow = (repo: string): RepoRecord => {
    const record = repos.get(repo.toLowerCase());
    if (record === undefined) throw new Error(`github fake: unknown repo ${repo}; addRepo first`);
    return record;
  };

  const issueOrThrow = (repo: string, number: number): IssueRecord => {
    const record = repoOrThrow(repo).issues.get(number);
    if (record === undefined) throw new Error(`github fake: no issue ${repo}#${number}`);
    return record;
  };

  const ensureLabel = (repo: RepoRecord, name: string): LabelRecord => {
    const key = name.toLowerCase();
    let label = repo.labels.get(key);
    if (label === undefined) {
      label = { id: newId(), name, color: colours[repo.labels.size % colours.length] ?? 'ededed' };
      repo.labels.set(key, label);
    }
    return label;
  };

  const applyLabel = (
    repo: RepoRecord,
    issue: IssueRecord,
    name: string,
    actor: string,
    at: string,
  ) => {
    const label = ensureLabel(repo, name);
    // Applying a label the issue already carries changes nothing and records nothing.
    if (issue.labels.some((l) => l.id === label.id)) return;
    issue.labels.push(label);
    issue.events.push({
      id: newId(),
      event: 'labeled',
      label,
      actor,
      createdAt: at,
      stateReason: null,
    });
    issue.updatedAt = at;
  };

  const dropLabel = (issue: IssueRecord, name: string, actor: string, at: string): boolean => {
    const index = issue.labels.findIndex((l) => l.name.toLowerCase() === name.toLowerCase());
    const label = issue.labels[index];
    if (label === undefined) return false;
    issue.labels.splice(index, 1);
    issue.events.push({
      id: newId(),
      event: 'unlabeled',
      label,
      actor,
      createdAt: at,
      stateReason: null,
    });
    issue.updatedAt = at;
    return true;
  };

  const roleOf = (repo: RepoRecord, login: string): FakeRole | undefined => {
    const listed = repo.collaborators.get(login.toLowerCase());
    if (listed !== undefined) return listed.role;
    return login.toLowerCase() === selfLogin.toLowerCase() ? 'write' : undefined;
  };

  // --- wire shapes ------------------------------------------------------------------------

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
    description: null,
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
              merged_at: null,
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

  // --- answers ----------------------------------------------------------------------------

  const rateLimitHeaders = (): Record<string, string> => {
    const used = Math.min(requests.length, rateLimit);
    return {
      'x-ratelimit-limit': String(rateLimit),
      'x-ratelimit-remaining': String(rateLimit - used),
      'x-ratelimit-reset': String(Math.floor(now().getTime() / 1000) + 3600),
      'x-ratelimit-used': String(used),
      'x-ratelimit-resource': 'core',
      'x-github-request-id': `FAKE:${requests.length}`,
      'x-github-api-version-selected': '2022-11-28',
    };
  };

  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const all = { ...rateLimitHeaders(), ...headers };
    if (body === undefined) return new HttpResponse(null, { status, headers: all });
    return HttpResponse.json(body, { status, headers: all });
  };

  const refusalAnswer = (refusal: Refusal) =>
    answer(refusal.status, {
      message: refusal.message,
      ...(refusal.errors === undefined ? {} : { errors: refusal.errors }),
      documentation_url: refusal.documentation,
      status: String(refusal.status),
    });

  const failureAnswer = async (failure: FakeFailure) => {
    if (failure === 'network-error') return HttpResponse.error();
    if (failure === 'timeout') {
      await delay('infinite');
      return HttpResponse.error();
    }
    if (failure === 'malformed') return answer(200, { unexpected: 'shape' });
    const body =
      failure.body === undefined && failure.status >= 400
        ? {
            message: `fake failure ${failure.status}`,
            documentation_url: docs,
            status: String(failure.status),
          }
        : failure.body;
    return answer(failure.status, body, failure.headers);
  };

  // --- the request pipeline: record, injected failures, auth, then the route ----------------

  interface Incoming {
    url: URL;
    params: Record<string, string>;
    body: unknown;
    rawBody: string;
  }
  type Route = (incoming: Incoming) => Response | Promise<Response>;

  const record = async (
    request: Request,
  ): Promise<{ recorded: RecordedRequest; rawBody: string }> => {
    const url = new URL(request.url);
    const rawBody =
      request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
    let body: unknown;
    if (rawBody !== '') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = rawBody;
      }
    }
    const recorded: RecordedRequest = {
      method: request.method,
      path: url.pathname.slice(basePath.length),
      search: url.search,
      query: Object.fromEntries(url.searchParams),
      body,
      headers: Object.fromEntries(request.headers),
    };
    requests.push(recorded);
    return { recorded, rawBody };
  };

  const takeFailure = (recorded: RecordedRequest): FakeFailure | undefined => {
    const index = failures.findIndex(({ match }) => matches(match, recorded));
    const pending = failures[index];
    if (pending === undefined) return undefined;
    pending.remaining -= 1;
    if (pending.remaining <= 0) failures.splice(index, 1);
    return pending.answer;
  };

  const authRefusal = (headers: Record<string, string>): Refusal | undefined => {
    const header = headers['authorization'];
    if (header === undefined) return new Refusal(401, 'Requires authentication');
    const [, given] = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim()) ?? [];
    return given === token ? undefined : new Refusal(401, 'Bad credentials');
  };

  const route = (
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    handle: Route,
  ): HttpHandler =>
    http[method](`${baseUrl}${path}`, async ({ request, params }) => {
      const flat = flatten(params);
      // `/issues/comments` is another endpoint, not issue number "comments": fall through.
      if (flat['number'] !== undefined && !/^\d+$/.test(flat['number'])) return undefined;
      if (flat['id'] !== undefined && !/^\d+$/.test(flat['id'])) return undefined;
      const { recorded, rawBody } = await record(request);
      const failure = takeFailure(recorded);
      if (failure !== undefined) return failureAnswer(failure);
      const refused = authRefusal(recorded.headers);
      if (refused !== undefined) return refusalAnswer(refused);
      try {
        return await handle({
          url: new URL(request.url),
          params: flat,
          body: recorded.body,
          rawBody,
        });
      } catch (error) {
        if (error instanceof Refusal) return refusalAnswer(error);
        throw error;
      }
    });

  // Routes under /repos/{owner}/{repo} are also served as /repositories/{id}: the form
  // GitHub puts in its Link headers.
  const repoOf = (params: Record<string, string>, documentation: string): RepoRecord => {
    const repo =
      params['id'] !== undefined && params['owner'] === undefined
        ? [...repos.values()].find((r) => String(r.id) === params['id'])
        : findRepo(params['owner'] ?? '', params['repo'] ?? '');
    if (repo === undefined) throw new Refusal(404, 'Not Found', documentation);
    return repo;
  };

  const issueOf = (repo: RepoRecord, params: Record<string, string>, documentation: string) => {
    const issue = repo.issues.get(Number(params['number']));
    if (issue === undefined) throw new Refusal(404, 'Not Found', documentation);
    return issue;
  };

  /** One page of `items` plus GitHub's Link header. */
  const page = (url: URL, repo: RepoRecord, items: unknown[]) => {
    const perPage = clamp(Number(url.searchParams.get('per_page') ?? 30), 1, 100, 30);
    const current = clamp(Number(url.searchParams.get('page') ?? 1), 1, Number.MAX_SAFE_INTEGER, 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((current - 1) * perPage, current * perPage);
    const rest = url.pathname
      .slice(basePath.length)
      .replace(/^\/repos\/[^/]+\/[^/]+|^\/repositories\/\d+/, '');
    const link = (n: number, rel: string) => {
      const target = new URL(`${baseUrl}/repositories/${repo.id}${rest}`);
      target.search = url.search;
      target.searchParams.set('page', String(n));
      return `<${target.href}>; rel="${rel}"`;
    };
    const links = [
      ...(current > 1 ? [link(Math.min(current - 1, last), 'prev')] : []),
      ...(current < last ? [link(current + 1, 'next'), link(last, 'last')] : []),
      ...(current > 1 ? [link(1, 'first')] : []),
    ];
    return answer(200, slice, links.length === 0 ? {} : { link: links.join(', ') });
  };

  // --- endpoints --------------------------------------------------------------------------

  const listIssuesDocs = `${docs}/issues/issues#list-repository-issues`;
  const listIssues: Route = ({ url, params }) => {
    const repo = repoOf(params, listIssuesDocs);
    const query = url.searchParams;
    unsupported(query, ['labels', 'state', 'sort', 'direction', 'since', 'per_page', 'page']);
    const state = oneOf(
      query.get('state') ?? 'open',
      ['open', 'closed', 'all'],
      'state',
      listIssuesDocs,
    );
    const sort = oneOf(
      query.get('sort') ?? 'created',
      ['created', 'updated', 'comments'],
      'sort',
      listIssuesDocs,
    );
    const direction = oneOf(
      query.get('direction') ?? 'desc',
      ['asc', 'desc'],
      'direction',
      listIssuesDocs,
    );
    // `labels` is a comma-separated list of names; an issue must carry every one of them.
    const wanted = (query.get('labels') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== '');
    const since = query.get('since');
    const key = (issue: IssueRecord): string | number =>
      sort === 'comments'
        ? issue.comments.length
        : sort === 'updated'
          ? issue.updatedAt
          : issue.createdAt;
    const items = [...repo.issues.values()]
      .filter((issue) => state === 'all' || issue.state === state)
      .filter((issue) =>
        wanted.every((name) => issue.labels.some((l) => l.name.toLowerCase() === name)),
      )
      .filter((issue) => since === null || issue.updatedAt >= since)
      .sort((a, b) => compare(key(a), key(b)) || a.number - b.number)
      .map((issue) => issueJson(repo, issue));
    if (direction === 'desc') items.reverse();
    return page(url, repo, items);
  };

  const getIssue: Route = ({ params }) => {
    const documentation = `${docs}/issues/issues#get-an-issue`;
    const repo = repoOf(params, documentation);
    return answer(200, issueJson(repo, issueOf(repo, params, documentation)));
  };

  const updateIssueDocs = `${docs}/issues/issues#update-an-issue`;
  const updateIssue: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, updateIssueDocs);
    const issue = issueOf(repo, params, updateIssueDocs);
    const fields = jsonObject(body, rawBody, updateIssueDocs);
    const implemented = ['state', 'state_reason', 'title', 'body', 'labels'];
    const other = Object.keys(fields).find((name) => !implemented.includes(name));
    if (other !== undefined) throw new Refusal(501, `github fake: "${other}" is not implemented`);
    const at = stamp();
    const { state, state_reason: reason, title, body: text, labels } = fields;
    if (state !== undefined && state !== 'open' && state !== 'closed') {
      throw invalidField('Issue', 'state', updateIssueDocs);
    }
    if (
      reason !== undefined &&
      reason !== null &&
      !['completed', 'not_planned', 'reopened'].includes(String(reason))
    ) {
      throw invalidField('Issue', 'state_reason', updateIssueDocs);
    }
    if (title !== undefined && (typeof title !== 'string' || title.trim() === '')) {
      throw invalidField('Issue', 'title', updateIssueDocs);
    }
    if (text !== undefined && text !== null && typeof text !== 'string') {
      throw invalidField('Issue', 'body', updateIssueDocs);
    }
    const names = labels === undefined ? undefined : labelNames(labels, updateIssueDocs);
    if (typeof title === 'string') issue.title = title;
    if (text !== undefined) issue.body = text as string | null;
    if (names !== undefined) {
      for (const label of [...issue.labels]) {
        if (!names.some((n) => n.toLowerCase() === label.name.toLowerCase())) {
          dropLabel(issue, label.name, selfLogin, at);
        }
      }
      for (const name of names) applyLabel(repo, issue, name, selfLogin, at);
    }
    if (state === 'closed' && issue.state === 'open') {
      issue.state = 'closed';
      issue.stateReason =
        typeof reason === 'string' && reason !== 'reopened' ? reason : 'completed';
      issue.closedAt = at;
      issue.events.push({
        id: newId(),
        event: 'closed',
        label: null,
        actor: selfLogin,
        createdAt: at,
        stateReason: issue.stateReason,
      });
    } else if (state === 'open' && issue.state === 'closed') {
      issue.state = 'open';
      issue.stateReason = 'reopened';
      issue.closedAt = null;
      issue.events.push({
        id: newId(),
        event: 'reopened',
        label: null,
        actor: selfLogin,
        createdAt: at,
        stateReason: null,
      });
    } else if (issue.state === 'closed' && typeof reason === 'string') {
      issue.stateReason = reason;
    }
    issue.updatedAt = at;
    return answer(200, issueJson(repo, issue));
  };

  const listCommentsDocs = `${docs}/issues/comments#list-issue-comments`;
  const listComments: Route = ({ url, params }) => {
    const repo = repoOf(params, listCommentsDocs);
    const issue = issueOf(repo, params, listCommentsDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    return page(
      url,
      repo,
      issue.comments.map((comment) => commentJson(repo, issue, comment)),
    );
  };

  const createCommentDocs = `${docs}/issues/comments#create-an-issue-comment`;
  const createComment: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, createCommentDocs);
    const issue = issueOf(repo, params, createCommentDocs);
    const text = commentBody(jsonObject(body, rawBody, createCommentDocs), createCommentDocs);
    const at = stamp();
    const comment = {
      id: newId(),
      issueNumber: issue.number,
      author: selfLogin,
      body: text,
      createdAt: at,
      updatedAt: at,
    };
    issue.comments.push(comment);
    issue.updatedAt = at;
    return answer(201, commentJson(repo, issue, comment), {
      location: `${apiRepoUrl(repo)}/issues/comments/${comment.id}`,
    });
  };

  const updateCommentDocs = `${docs}/issues/comments#update-an-issue-comment`;
  const updateComment: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, updateCommentDocs);
    const id = Number(params['id']);
    const issue = [...repo.issues.values()].find((i) => i.comments.some((c) => c.id === id));
    const comment = issue?.comments.find((c) => c.id === id);
    if (issue === undefined || comment === undefined)
      throw new Refusal(404, 'Not Found', updateCommentDocs);
    comment.body = commentBody(jsonObject(body, rawBody, updateCommentDocs), updateCommentDocs);
    comment.updatedAt = stamp();
    return answer(200, commentJson(repo, issue, comment));
  };

  const listEventsDocs = `${docs}/issues/events#list-issue-events`;
  const listEvents: Route = ({ url, params }) => {
    const repo = repoOf(params, listEventsDocs);
    const issue = issueOf(repo, params, listEventsDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    return page(
      url,
      repo,
      issue.events.map((event) => eventJson(repo, event)),
    );
  };

  const addLabelsDocs = `${docs}/issues/labels#add-labels-to-an-issue`;
  const addLabels: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, addLabelsDocs);
    const issue = issueOf(repo, params, addLabelsDocs);
    if (rawBody !== '' && body === rawBody)
      throw new Refusal(400, 'Problems parsing JSON', addLabelsDocs);
    // GitHub takes `{"labels": [...]}` or a bare array, of names or of `{name}` objects.
    const given = Array.isArray(body) ? body : isObject(body) ? body['labels'] : undefined;
    if (given === undefined) {
      throw new Refusal(422, 'Invalid request.\n\n"labels" wasn\'t supplied.', addLabelsDocs);
    }
    const names = labelNames(given, addLabelsDocs);
    const at = stamp();
    // Names the repository lacks are created on the fly, as GitHub does.
    for (const name of names) applyLabel(repo, issue, name, selfLogin, at);
    return answer(
      200,
      issue.labels.map((label) => labelJson(repo, label)),
    );
  };

  const removeLabelDocs = `${docs}/issues/labels#remove-a-label-from-an-issue`;
  const removeLabel: Route = ({ params }) => {
    const repo = repoOf(params, removeLabelDocs);
    const issue = issueOf(repo, params, removeLabelDocs);
    if (!dropLabel(issue, params['name'] ?? '', selfLogin, stamp())) {
      throw new Refusal(404, 'Label does not exist', removeLabelDocs);
    }
    return answer(
      200,
      issue.labels.map((label) => labelJson(repo, label)),
    );
  };

  const permissionDocs = `${docs}/collaborators/collaborators#get-repository-permissions-for-a-user`;
  const getPermission: Route = ({ params }) => {
    const repo = repoOf(params, permissionDocs);
    const self = roleOf(repo, selfLogin);
    if (self === undefined || roleRank[self] < roleRank.write) {
      throw new Refusal(
        403,
        'Must have push access to view collaborator permission.',
        permissionDocs,
      );
    }
    const login = params['username'] ?? '';
    // Logins that are not user accounts (apps' bots, `Copilot`) answer 404 "is not a user".
    if (login.endsWith('[bot]')) throw new Refusal(404, `${login} is not a user`, permissionDocs);
    const role = roleOf(repo, login);
    // Everyone can read a public repository, so a stranger there holds `read`.
    const permission =
      role !== undefined ? legacyPermission[role] : repo.visibility === 'public' ? 'read' : 'none';
    const roleName = role ?? permission;
    return answer(200, {
      permission,
      role_name: roleName,
      user: {
        ...userJson(repo.collaborators.get(login.toLowerCase())?.login ?? login),
        permissions: {
          admin: role === 'admin',
          maintain: role !== undefined && roleRank[role] >= roleRank.maintain,
          push: role !== undefined && roleRank[role] >= roleRank.write,
          triage: role !== undefined && roleRank[role] >= roleRank.triage,
          pull: permission !== 'none',
        },
        role_name: roleName,
      },
    });
  };

  const getSelf: Route = () => {
    if (options.appInstallation === true) {
      throw new Refusal(
        403,
        'Resource not accessible by integration',
        `${docs}/users/users#get-the-authenticated-user`,
      );
    }
    return answer(200, { ...userJson(selfLogin), name: null, created_at: '2020-01-01T00:00:00Z' });
  };

  const handlers: HttpHandler[] = [
    route('get', '/user', getSelf),
    route('get', '/repos/:owner/:repo/issues', listIssues),
    route('get', '/repositories/:id/issues', listIssues),
    route('get', '/repos/:owner/:repo/issues/:number', getIssue),
    route('patch', '/repos/:owner/:repo/issues/:number', updateIssue),
    route('get', '/repos/:owner/:repo/issues/:number/comments', listComments),
    route('get', '/repositories/:id/issues/:number/comments', listComments),
    route('post', '/repos/:owner/:repo/issues/:number/comments', createComment),
    route('patch', '/repos/:owner/:repo/issues/comments/:id', updateComment),
    route('get', '/repos/:owner/:repo/issues/:number/events', listEvents),
    route('get', '/repositories/:id/issues/:number/events', listEvents),
    route('post', '/repos/:owner/:repo/issues/:number/labels', addLabels),
    route('delete', '/repos/:owner/:repo/issues/:number/labels/:name', removeLabel),
    route('get', '/repos/:owner/:repo/collaborators/:username/permission', getPermission),
  ];

  // --- the test-facing API ----------------------------------------------------------------

  return {
    handlers,
    requests,
    writes: () => requests.filter((r) => r.method !== 'GET'),

    addRepo(repo, opts = {}) {
      const [owner, name, ...extra] = repo.split('/');
      if (!owner || !name || extra.length > 0)
        throw new Error(`github fake: "${repo}" is not owner/name`);
      const collaborators = new Map(
        Object.entries(opts.collaborators ?? {}).map(([login, role]) => [
          login.toLowerCase(),
          { login, role },
        ]),
      );
      repos.set(repo.toLowerCase(), {
        id: 100_000 + repos.size + 1,
        fullName: repo,
        owner,
        visibility: opts.visibility ?? 'private',
        collaborators,
        labels: new Map(),
        issues: new Map(),
      });
    },

    addIssue(repo, input) {
      const record = repoOrThrow(repo);
      const number = input.number ?? Math.max(0, ...record.issues.keys()) + 1;
      if (record.issues.has(number)) throw new Error(`github fake: ${repo}#${number} exists`);
      const createdAt = input.createdAt ?? stamp();
      const closed = input.state === 'closed';
      const issue: IssueRecord = {
        id: newId(),
        number,
        title: input.title,
        body: input.body ?? null,
        labels: [],
        state: closed ? 'closed' : 'open',
        stateReason: closed ? 'completed' : null,
        author: input.author ?? 'octocat',
        createdAt,
        updatedAt: createdAt,
        closedAt: closed ? createdAt : null,
        isPullRequest: input.isPullRequest ?? false,
        comments: [],
        events: [],
      };
      for (const name of input.labels ?? []) {
        const label = ensureLabel(record, name);
        if (!issue.labels.includes(label)) issue.labels.push(label);
      }
      for (const [name, actor] of Object.entries(input.labeledBy ?? {})) {
        issue.labels = issue.labels.filter((l) => l.name.toLowerCase() !== name.toLowerCase());
        applyLabel(record, issue, name, actor, createdAt);
      }
      record.issues.set(number, issue);
      return number;
    },

    addComment(repo, number, comment) {
      const issue = issueOrThrow(repo, number);
      const at = comment.createdAt ?? stamp();
      const id = newId();
      issue.comments.push({
        id,
        issueNumber: number,
        author: comment.author,
        body: comment.body,
        createdAt: at,
        updatedAt: at,
      });
      return id;
    },

    labelIssue(repo, number, label, actor) {
      applyLabel(repoOrThrow(repo), issueOrThrow(repo, number), label, actor, stamp());
    },

    unlabelIssue(repo, number, label, actor) {
      if (!dropLabel(issueOrThrow(repo, number), label, actor, stamp())) {
        throw new Error(`github fake: ${repo}#${number} does not carry "${label}"`);
      }
    },

    issue(repo, number) {
      const issue = issueOrThrow(repo, number);
      return {
        labels: issue.labels.map((label) => label.name),
        state: issue.state,
        stateReason: issue.stateReason,
        comments: issue.comments.map(({ id, author, body }) => ({ id, author, body })),
        events: issue.events.map((event) => ({
          event: event.event,
          label: event.label?.name ?? '',
          actor: event.actor,
        })),
      };
    },

    failNext(match, failure, times = 1) {
      failures.push({ match, answer: failure, remaining: times });
    },

    clearFailures() {
      failures.length = 0;
    },

    setToken(next) {
      token = next;
    },
  };
}

// --- helpers --------------------------------------------------------------------------------

function matches(match: RequestMatch, request: RecordedRequest): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== request.method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string'
    ? match.path === request.path
    : match.path.test(request.path);
}

function flatten(
  params: Record<string, string | readonly string[] | undefined>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === 'string') flat[key] = value;
  }
  return flat;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonObject(
  body: unknown,
  rawBody: string,
  documentation: string,
): Record<string, unknown> {
  if (rawBody !== '' && body === rawBody)
    throw new Refusal(400, 'Problems parsing JSON', documentation);
  if (!isObject(body))
    throw new Refusal(
      422,
      'Invalid request.\n\nInvalid input: body is not an object.',
      documentation,
    );
  return body;
}

// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
const maxCommentLength = 65_536;

function commentBody(fields: Record<string, unknown>, documentation: string): string {
  const body = fields['body'];
  if (typeof body !== 'string')
    throw new Refusal(422, 'Invalid request.\n\n"body" wasn\'t supplied.', documentation);
  if (body.trim() === '') {
    throw new Refusal(422, 'Validation Failed', documentation, [
      { resource: 'IssueComment', code: 'missing_field', field: 'body' },
    ]);
  }
  if (body.length > maxCommentLength) {
    throw new Refusal(422, 'Validation Failed', documentation, [
      {
        resource: 'IssueComment',
        code: 'custom',
        field: 'body',
        message: `body is too long (maximum is ${maxCommentLength} characters)`,
      },
    ]);
  }
  return body;
}

function labelNames(given: unknown, documentation: string): string[] {
  if (!Array.isArray(given))
    throw new Refusal(422, 'Invalid request.\n\n"labels" is not an array.', documentation);
  return given.map((item) => {
    const name = typeof item === 'string' ? item : isObject(item) ? item['name'] : undefined;
    // https://docs.github.com/en/rest/issues/labels#create-a-label (names are at most 50 characters)
    if (typeof name !== 'string' || name.trim() === '' || name.length > 50) {
      throw new Refusal(422, 'Validation Failed', documentation, [
        { resource: 'Label', code: 'invalid', field: 'name' },
      ]);
    }
    return name;
  });
}

function invalidField(resource: string, field: string, documentation: string): Refusal {
  return new Refusal(422, 'Validation Failed', documentation, [
    { resource, code: 'invalid', field },
  ]);
}

function oneOf<T extends string>(
  value: string,
  allowed: readonly T[],
  field: string,
  documentation: string,
): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw invalidField('Issue', field, documentation);
  return found;
}

function unsupported(query: URLSearchParams, implemented: string[]): void {
  for (const name of query.keys()) {
    if (!implemented.includes(name)) {
      throw new Refusal(501, `github fake: query parameter "${name}" is not implemented`);
    }
  }
}

function clamp(value: number, min: number, max: number, fallback: number): number {
  if (!Number.isFinite(value) || value < 1) return fallback;
  return Math.min(Math.max(Math.floor(value), min), max);
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A stable id per login, as GitHub's are. */
function userId(login: string): number {
  let hash = 7;
  for (const char of login.toLowerCase()) hash = (hash * 31 + char.charCodeAt(0)) % 100_000_000;
  return hash;
}
