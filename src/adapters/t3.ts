// The T3 Code orchestration API over plain HTTP, spoken in afk's domain words. The wire shapes
// and every quirk below come from the verified contract (design/t3-contract.md), itself read
// from https://github.com/pingdotgg/t3code (packages/contracts/src/orchestration.ts and the
// server's orchestration HTTP routes), releases v0.0.27 to v0.0.33.
import ky, { TimeoutError } from 'ky';
import * as z from 'zod';
import {
  T3Error,
  checkRuntimeModeSupport,
  describeRuntimeModeFloor,
  isRetryAfter,
  isVersionedRuntimeMode,
  sessionStatuses,
  turnStates,
  type CreateThreadCommand,
  type EnsureProjectCommand,
  type FailureKind,
  type ModelSelection,
  type RespondToApprovalCommand,
  type RespondToUserInputCommand,
  type RuntimeMode,
  type StartTurnCommand,
  type T3,
  type T3Activity,
  type T3AuthSession,
  type T3Message,
  type T3Project,
  type T3Snapshot,
  type T3Thread,
  type ThreadCommand,
} from '../core/index.js';
import { networkFailureOf } from './network.js';

export interface T3ClientOptions {
  baseUrl: string;
  /** Called afresh for every request: the token file can be rotated at any time. */
  token: () => Promise<string>;
  timeoutMs?: number;
  /** Extra attempts after a transient failure (5xx, timeout, reset). */
  retries?: number;
  /** Backoff before retry n is `retryDelayMs * 2^n`, capped at 1 s. */
  retryDelayMs?: number;
  /** Stamps `createdAt` on the commands that carry one. */
  clock?: () => Date;
  fetch?: typeof fetch;
  /** Aborts every request, and stops the retries: the tick is stopping. */
  signal?: AbortSignal;
}

export interface T3Environment {
  serverVersion: string;
  label: string | null;
  /** What the snapshot of this server version carries (see `detailFor`). */
  detail: T3Snapshot['detail'];
}

export interface T3Client extends T3 {
  /** The unauthenticated `/.well-known/t3/environment` descriptor, read once per client. */
  readEnvironment(): Promise<T3Environment>;
  /** What the server makes of the token: authenticated or not, and its scopes. */
  readAuthSession(): Promise<T3AuthSession>;
}

const SNAPSHOT = '/api/orchestration/snapshot';
const DISPATCH = '/api/orchestration/dispatch';
const ENVIRONMENT = '/.well-known/t3/environment';
const AUTH_SESSION = '/api/auth/session';
const threadPath = (threadId: string) =>
  `/api/orchestration/threads/${encodeURIComponent(threadId)}`;

const MAX_BACKOFF_MS = 1000;

const NO_HTTP_ORCHESTRATION =
  'this server does not serve the HTTP orchestration API (T3\'s "orchestration v2" moves it)';

export function createT3Client(options: T3ClientOptions): T3Client {
  const http = createHttp(options);
  const clock = options.clock ?? (() => new Date());
  const now = () => clock().toISOString();

  const fetchEnvironment = async (): Promise<T3Environment> => {
    const call: Call = { method: 'GET', path: ENVIRONMENT, label: `GET ${ENVIRONMENT}` };
    const body = parseBody(call.label, await http(call), environmentSchema);
    return {
      serverVersion: body.serverVersion,
      label: body.label ?? null,
      detail: detailFor(body.serverVersion),
    };
  };
  // Read once per client (a tick), failure included: the snapshot's detail and the runtime
  // modes a dispatch may carry both depend on it, and neither is worth a second request.
  let environment: Promise<T3Environment> | undefined;
  const readEnvironment = () => (environment ??= fetchEnvironment());

  // An empty `messages` array is ambiguous (a slim v0.0.32+ snapshot, or a thread with no
  // messages yet), so the server version decides. When it cannot be learned, `slim` is the
  // safe guess: callers then read the thread route for the detail.
  const learnDetail = () =>
    readEnvironment().then(
      (known) => known.detail,
      () => 'slim' as const,
    );

  const dispatch = async (command: WireCommand): Promise<void> => {
    const call: Call = {
      method: 'POST',
      path: DISPATCH,
      label: `POST ${DISPATCH} (${command.type})`,
      body: command,
      auth: true,
    };
    await checkRuntimeMode(call.label, command);
    parseBody(call.label, await http(call), dispatchAnswerSchema);
  };

  // A mode the server's enum lacks fails the whole command as an empty 400, so a mode that
  // only newer servers know is sent only to a server whose version says it knows it. Only
  // such a mode costs the environment read; the snapshot has usually made it already.
  const checkRuntimeMode = async (request: string, command: WireCommand): Promise<void> => {
    const mode = command['runtimeMode'];
    if (typeof mode !== 'string' || !isVersionedRuntimeMode(mode as RuntimeMode)) return;
    let serverVersion: string;
    try {
      serverVersion = (await readEnvironment()).serverVersion;
    } catch (error) {
      const why = error instanceof T3Error ? error.message.slice('t3: '.length) : 'unknown error';
      throw new T3Error({
        kind: error instanceof T3Error ? error.kind : 'transient',
        request,
        detail: `not sent: ${describeRuntimeModeFloor(mode as RuntimeMode)}, and the server's version cannot be read (${why})`,
        cause: error,
      });
    }
    const support = checkRuntimeModeSupport(mode as RuntimeMode, serverVersion);
    if (!support.ok) {
      throw new T3Error({
        kind: 'contract',
        request,
        detail: `not sent: ${support.reason}; set t3.runtimeMode to another mode or upgrade T3`,
      });
    }
  };

  return {
    readEnvironment,

    async readAuthSession() {
      // The route never answers 401: a missing or refused token reads `authenticated: false`.
      const call: Call = {
        method: 'GET',
        path: AUTH_SESSION,
        label: `GET ${AUTH_SESSION}`,
        auth: true,
      };
      const body = parseBody(call.label, await http(call), authSessionSchema);
      return { authenticated: body.authenticated, scopes: body.scopes ?? [] };
    },

    async readSnapshot() {
      const snapshotDetail = await learnDetail();
      const call: Call = { method: 'GET', path: SNAPSHOT, label: `GET ${SNAPSHOT}`, auth: true };
      const answer = await http(call, (status) => status === 404);
      if (answer.status === 404) {
        // The snapshot names no resource, so its 404 is the router's: this server has no HTTP
        // orchestration API (T3's "orchestration v2" moves it off these routes).
        throw new T3Error({
          kind: 'not-found',
          request: call.label,
          status: 404,
          detail: NO_HTTP_ORCHESTRATION,
        });
      }
      const body = parseBody(call.label, answer, snapshotSchema);
      return {
        sequence: body.snapshotSequence,
        detail: snapshotDetail,
        projects: body.projects.map(toProject),
        threads: body.threads.map((thread) => toThread(thread, snapshotDetail)),
      };
    },

    async readThread(threadId) {
      const path = threadPath(threadId);
      const call: Call = { method: 'GET', path, label: `GET ${path}`, auth: true };
      const answer = await http(call, (status) => status === 404);
      if (answer.status === 404) {
        if (isThreadNotFound(answer.text)) return null;
        // Before v0.0.29 the route does not exist: the router's bare 404 must not read as
        // "this thread is gone", or a watcher would declare every run's thread missing.
        throw new T3Error({
          kind: 'not-found',
          request: call.label,
          status: 404,
          reason: 'thread_route_missing',
        });
      }
      return toThread(parseBody(call.label, answer, threadDetailSchema).thread, 'full');
    },

    createProject: (command) => dispatch(projectCreate(command, now())),
    createThread: (command) => dispatch(threadCreate(command, now())),
    startTurn: (command) => dispatch(turnStart(command, now())),
    stopSession: (command) => dispatch(sessionStop(command, now())),
    archiveThread: (command) => dispatch(threadArchive(command)),
    respondToApproval: (command) => dispatch(approvalRespond(command, now())),
    respondToUserInput: (command) => dispatch(userInputRespond(command, now())),
  };
}

// The commands, exactly as the contract's "Commands afk sends" spells them.

type WireCommand = { type: string } & Record<string, unknown>;

const modelSelection = (selection: ModelSelection) => ({
  instanceId: selection.instanceId,
  model: selection.model,
});

function projectCreate(command: EnsureProjectCommand, createdAt: string): WireCommand {
  return {
    type: 'project.create',
    commandId: command.commandId,
    projectId: command.projectId,
    title: command.title,
    workspaceRoot: command.workspaceRoot,
    // The checkout must already exist at workspaceRoot. Letting T3 create a missing root
    // would hand the agent an empty directory with no repository; refused instead, the
    // misconfiguration surfaces as a 400 invalid_command on the first dispatch.
    createWorkspaceRootIfMissing: false,
    defaultModelSelection: modelSelection(command.defaultModelSelection),
    createdAt,
  };
}

function threadCreate(command: CreateThreadCommand, createdAt: string): WireCommand {
  return {
    type: 'thread.create',
    commandId: command.commandId,
    threadId: command.threadId,
    projectId: command.projectId,
    title: command.title,
    modelSelection: modelSelection(command.modelSelection),
    runtimeMode: command.runtimeMode,
    interactionMode: command.interactionMode,
    // Both keys must be present (null allowed), or the schema answers an empty 400.
    branch: command.branch,
    worktreePath: null,
    createdAt,
  };
}

function turnStart(command: StartTurnCommand, createdAt: string): WireCommand {
  return {
    type: 'thread.turn.start',
    commandId: command.commandId,
    threadId: command.threadId,
    message: { messageId: command.messageId, role: 'user', text: command.text, attachments: [] },
    // Required over HTTP, although the server then runs the turn in the thread's stored modes.
    runtimeMode: command.runtimeMode,
    interactionMode: command.interactionMode,
    createdAt,
  };
}

function sessionStop(command: ThreadCommand, createdAt: string): WireCommand {
  return {
    type: 'thread.session.stop',
    commandId: command.commandId,
    threadId: command.threadId,
    createdAt,
  };
}

/** No `createdAt`: the archive command does not carry one. */
function threadArchive(command: ThreadCommand): WireCommand {
  return { type: 'thread.archive', commandId: command.commandId, threadId: command.threadId };
}

// A 200 here only means the engine took the response: the provider may still fail to deliver
// it (no live session, a request it no longer knows), which shows later as a
// `provider.*.respond.failed` activity on the thread.
function approvalRespond(command: RespondToApprovalCommand, createdAt: string): WireCommand {
  return {
    type: 'thread.approval.respond',
    commandId: command.commandId,
    threadId: command.threadId,
    requestId: command.requestId,
    decision: command.decision,
    createdAt,
  };
}

function userInputRespond(command: RespondToUserInputCommand, createdAt: string): WireCommand {
  return {
    type: 'thread.user-input.respond',
    commandId: command.commandId,
    threadId: command.threadId,
    requestId: command.requestId,
    answers: { ...command.answers },
    createdAt,
  };
}

// Transport: one attempt, retries, and the classification of every failure.

interface Call {
  method: 'GET' | 'POST';
  path: string;
  /** `POST /api/orchestration/dispatch (thread.create)`: what an operator reads. */
  label: string;
  body?: WireCommand;
  /** The environment descriptor needs no token, so it is not sent one. */
  auth?: boolean;
}

interface Answer {
  status: number;
  text: string;
  /** The `retry-after` header, when the answer carried one. */
  retryAfter?: string;
  /** The token the request carried, so that an error built from the answer can omit it. */
  token?: string;
}

/**
 * Sends a call and answers its 2xx (or an `accept`ed status). Every other outcome becomes a
 * T3Error; transient ones are retried first. Every call afk makes may be retried: GETs are
 * safe and a dispatch is idempotent by its commandId (a resent accepted command returns its
 * original sequence and does nothing).
 */
function createHttp(options: T3ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const retries = options.retries ?? 1;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const timeoutMs = options.timeoutMs ?? 15_000;
  // Retries and status handling are done here, not by ky, so that every status is classified
  // by the contract's rules and a dispatch rejection (500) is never retried.
  const client = ky.create({
    retry: 0,
    throwHttpErrors: false,
    timeout: timeoutMs,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });

  const attempt = async (call: Call): Promise<Answer> => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = call.auth === true ? await options.token() : undefined;
    if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      const response = await client(base + call.path, {
        method: call.method,
        headers,
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      const text = await response.text();
      const retryAfter = response.headers.get('retry-after');
      return {
        status: response.status,
        text,
        ...(retryAfter === null ? {} : { retryAfter }),
        ...(token === undefined ? {} : { token }),
      };
    } catch (error) {
      // ky's TimeoutError holds the Request, headers and token included: not kept as cause.
      const timedOut = error instanceof TimeoutError;
      if (options.signal?.aborted === true) {
        throw new T3Error({ kind: 'transient', request: call.label, reason: 'aborted' });
      }
      throw new T3Error({
        kind: 'transient',
        request: call.label,
        network: networkFailureOf(error, base + call.path, timedOut ? timeoutMs : undefined),
        cause: timedOut ? new Error(`no answer within ${timeoutMs} ms`) : error,
      });
    }
  };

  return async (call: Call, accept?: (status: number) => boolean): Promise<Answer> => {
    for (let retry = 0; ; retry += 1) {
      let failure: T3Error;
      try {
        const answer = await attempt(call);
        if ((answer.status >= 200 && answer.status < 300) || accept?.(answer.status) === true) {
          return answer;
        }
        failure = classifyFailure(call.label, answer);
      } catch (error) {
        if (!(error instanceof T3Error)) throw error; // e.g. the token could not be read
        failure = error;
      }
      const stopping = options.signal?.aborted === true;
      if (failure.kind !== 'transient' || retry >= retries || stopping) throw failure;
      await sleep(Math.min(MAX_BACKOFF_MS, retryDelayMs * 2 ** retry));
    }
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// The server's error bodies: `{_tag, code, reason?, requiredScope?, traceId}`. Only short codes
// are taken from them, so nothing the server echoes can carry a secret into a message.
const errorBodySchema = z.looseObject({
  _tag: z.string().optional(),
  code: z.string().optional(),
  reason: z.string().optional(),
  requiredScope: z.string().optional(),
});

const codeOf = (value: string | undefined) =>
  value !== undefined && /^[A-Za-z0-9_.:-]{1,80}$/.test(value) ? value : undefined;

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function errorBody(text: string) {
  const json = parseJson(text);
  if (!json.ok) return undefined;
  const parsed = errorBodySchema.safeParse(json.value);
  return parsed.success ? parsed.data : undefined;
}

/** Classifies a non-2xx answer by the contract's error table (design/t3-contract.md, Errors). */
function classifyFailure(request: string, answer: Answer): T3Error {
  const { status, token } = answer;
  // A server that echoes the credential back must not get it into a message.
  const text = token ? answer.text.replaceAll(token, '') : answer.text;
  const body = errorBody(text);
  const code = codeOf(body?.code);
  const reason = codeOf(body?.reason) ?? code;
  const error = (kind: FailureKind, why: string | undefined = reason) =>
    new T3Error({ kind, request, status, reason: why });

  if (status === 401) return error('auth');
  // T3 has no rate limits of its own; a proxy in front of it that says when to come back
  // is rate limiting, not refusing the token's scope.
  if (status === 403 && isRetryAfter(answer.retryAfter)) return error('rate-limited');
  if (status === 403) {
    const scope = codeOf(body?.requiredScope);
    return error('forbidden', code === 'insufficient_scope' && scope ? `${code}:${scope}` : reason);
  }
  // A schema failure is an EMPTY 400: afk sent a command the server's schema refuses, a bug
  // in afk. A 400 with a JSON body is the normalizer refusing a well-formed command.
  if (status === 400) return body === undefined ? error('contract') : error('rejected');
  if (status === 404) return error('not-found');
  if (status === 408) return error('transient');
  if (status === 415) return error('contract');
  if (status === 429) return error('rate-limited');
  // The engine's refusals (unknown thread, duplicate create, a previously rejected commandId)
  // come back as 500 orchestration_dispatch_failed: a verdict, not an outage.
  if (status === 500 && reason === 'orchestration_dispatch_failed') return error('rejected');
  if (status >= 500) return error('transient');
  if (status >= 400) return error('rejected');
  return error('malformed');
}

function isThreadNotFound(text: string): boolean {
  const body = errorBody(text);
  return body?._tag === 'EnvironmentResourceNotFoundError' && body.reason === 'thread_not_found';
}

/** Parses a 2xx body; anything else than the expected JSON is `malformed`, named by path. */
function parseBody<S extends z.ZodType>(request: string, answer: Answer, schema: S): z.output<S> {
  const { status } = answer;
  const json = parseJson(answer.text);
  if (!json.ok) throw new T3Error({ kind: 'malformed', request, status, reason: 'invalid_json' });
  const parsed = schema.safeParse(json.value);
  if (parsed.success) return parsed.data;
  const reason = issuePaths(parsed.error);
  throw new T3Error({ kind: 'malformed', request, status, reason, cause: parsed.error });
}

function issuePaths(error: z.ZodError): string {
  const paths = [...new Set(error.issues.map((issue) => issue.path.map(String).join('.')))];
  const named = paths.map((path) => (path === '' ? '(root)' : path));
  return named.length > 3 ? `${named.slice(0, 3).join(',')},…` : named.join(',');
}

// The read model: only what afk relies on is validated; extra fields pass through.

/** Absent and null both mean "none": older servers omit some of these keys. */
const optionalString = z
  .string()
  .nullish()
  .transform((value) => value ?? null);

const turnSchema = z.looseObject({
  turnId: z.string(),
  state: z.enum(turnStates),
  requestedAt: optionalString,
  startedAt: optionalString,
  completedAt: optionalString,
});

const sessionSchema = z.looseObject({
  status: z.enum(sessionStatuses),
  activeTurnId: optionalString,
  lastError: optionalString,
  updatedAt: optionalString,
});

const messageSchema = z.looseObject({
  id: z.string(),
  role: z.enum(['user', 'assistant', 'system']),
  text: z.string(),
  turnId: optionalString,
  createdAt: z.string(),
});

const activitySchema = z.looseObject({
  id: z.string(),
  tone: z.string(),
  kind: z.string(),
  summary: z.string(),
  payload: z.unknown(),
  turnId: optionalString,
  createdAt: z.string(),
});

const projectSchema = z.looseObject({
  id: z.string(),
  title: z.string(),
  workspaceRoot: z.string(),
  deletedAt: optionalString,
});

const threadSchema = z.looseObject({
  id: z.string(),
  projectId: z.string(),
  title: z.string(),
  branch: optionalString,
  latestTurn: turnSchema.nullable(),
  session: sessionSchema.nullable(),
  archivedAt: optionalString,
  deletedAt: optionalString,
  messages: z.array(messageSchema),
  activities: z.array(activitySchema),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const sequenceSchema = z.number().int().nonnegative();

const snapshotSchema = z.looseObject({
  snapshotSequence: sequenceSchema,
  projects: z.array(projectSchema),
  threads: z.array(threadSchema),
});

const threadDetailSchema = z.looseObject({
  snapshotSequence: sequenceSchema,
  thread: threadSchema,
});

const dispatchAnswerSchema = z.looseObject({ sequence: sequenceSchema });

const environmentSchema = z.looseObject({
  serverVersion: z.string().min(1),
  label: z.string().optional(),
});

const authSessionSchema = z.looseObject({
  authenticated: z.boolean(),
  scopes: z.array(z.string()).optional(),
});

const toProject = (project: z.output<typeof projectSchema>): T3Project => ({
  id: project.id,
  title: project.title,
  workspaceRoot: project.workspaceRoot,
  deleted: project.deletedAt !== null,
});

const toMessage = (message: z.output<typeof messageSchema>): T3Message => ({
  id: message.id,
  role: message.role,
  text: message.text,
  turnId: message.turnId,
  createdAt: message.createdAt,
});

const toActivity = (activity: z.output<typeof activitySchema>): T3Activity => ({
  id: activity.id,
  tone: activity.tone,
  kind: activity.kind,
  summary: activity.summary,
  payload: activity.payload,
  turnId: activity.turnId,
  createdAt: activity.createdAt,
});

function toThread(thread: z.output<typeof threadSchema>, detail: T3Snapshot['detail']): T3Thread {
  const { latestTurn, session } = thread;
  return {
    id: thread.id,
    projectId: thread.projectId,
    title: thread.title,
    branch: thread.branch,
    archived: thread.archivedAt !== null,
    deleted: thread.deletedAt !== null,
    latestTurn:
      latestTurn === null
        ? null
        : {
            turnId: latestTurn.turnId,
            state: latestTurn.state,
            requestedAt: latestTurn.requestedAt,
            startedAt: latestTurn.startedAt,
            completedAt: latestTurn.completedAt,
          },
    session:
      session === null
        ? null
        : {
            status: session.status,
            activeTurnId: session.activeTurnId,
            lastError: session.lastError,
            updatedAt: session.updatedAt,
          },
    // A slim snapshot's empty arrays say nothing: null tells the caller to read the thread.
    messages: detail === 'full' ? thread.messages.map(toMessage) : null,
    activities: detail === 'full' ? thread.activities.map(toActivity) : null,
    createdAt: thread.createdAt,
    updatedAt: thread.updatedAt,
  };
}

/** v0.0.32 emptied the snapshot's messages, activities and checkpoints. */
const SLIM_SINCE: readonly [number, number, number] = [0, 0, 32];

/** `full` below v0.0.32; `slim` from it on, and for a version afk cannot read. */
export function detailFor(serverVersion: string): T3Snapshot['detail'] {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(serverVersion.trim());
  if (match === null) return 'slim';
  const version = [Number(match[1]), Number(match[2]), Number(match[3])];
  for (const [index, floor] of SLIM_SINCE.entries()) {
    const part = version[index] ?? 0;
    if (part !== floor) return part > floor ? 'slim' : 'full';
  }
  return 'slim';
}
