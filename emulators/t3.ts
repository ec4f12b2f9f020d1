// A strict in-memory T3 Code server, as msw handlers, built from the verified contract
// (design/t3-contract.md; upstream: https://github.com/pingdotgg/t3code,
// packages/contracts/src/orchestration.ts and apps/server's orchestration HTTP routes).
// It answers the way the real server does, rejections included, in the server's own order
// of checks: an earlier adapter passed every test against a lenient fake and got 400s from
// the real server. A fake that accepts what the real server rejects is a defect.
import { http, HttpResponse, type HttpHandler } from 'msw';
import { z } from 'zod';

export interface T3FakeOptions {
  /** Default `http://t3.test`. */
  baseUrl?: string;
  /** Default `0.0.32` (slim snapshots; the thread route exists from 0.0.29). */
  serverVersion?: string;
  /** Token → scopes. Default `{'t3-test-token': ['orchestration:read', 'orchestration:operate']}`. */
  tokens?: Record<string, string[]>;
  /** Directories that exist on the server. Default: any path under /data. */
  existingWorkspaces?: string[];
  /** Stamps the server's own times (archive, provider events). Default: the real clock. */
  clock?: () => Date;
}

export interface RecordedRequest {
  method: string;
  /** The URL's pathname, e.g. `/api/orchestration/dispatch`. */
  path: string;
  search: string;
  /** Parsed JSON, or undefined for no body or a body that is not JSON. */
  body: unknown;
  /** Header names in lower case. */
  headers: Record<string, string>;
}

export interface FakeModelSelection {
  instanceId: string;
  model: string;
  options?: unknown;
}

export type FakeRuntimeMode = 'approval-required' | 'auto-accept-edits' | 'full-access' | 'auto';
export type FakeInteractionMode = 'default' | 'plan';

export interface FakeProject {
  id: string;
  title: string;
  workspaceRoot: string;
  repositoryIdentity: unknown;
  defaultModelSelection: FakeModelSelection | null;
  scripts: unknown[];
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export interface FakeLatestTurn {
  turnId: string;
  state: 'running' | 'interrupted' | 'completed' | 'error';
  requestedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  assistantMessageId: string | null;
}

export interface FakeSession {
  threadId: string;
  status: 'idle' | 'starting' | 'running' | 'ready' | 'interrupted' | 'stopped' | 'error';
  providerName: string | null;
  runtimeMode: FakeRuntimeMode;
  activeTurnId: string | null;
  lastError: string | null;
  updatedAt: string;
}

export interface FakeMessage {
  id: string;
  role: 'user' | 'assistant' | 'system';
  text: string;
  attachments?: unknown[];
  turnId: string | null;
  streaming: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface FakeActivity {
  id: string;
  tone: 'info' | 'tool' | 'approval' | 'error';
  kind: string;
  summary: string;
  payload: unknown;
  turnId: string | null;
  createdAt: string;
}

export interface FakeCheckpoint {
  turnId: string;
  checkpointTurnCount: number;
  checkpointRef: string;
  status: 'ready' | 'missing' | 'error';
  files: unknown[];
  assistantMessageId: string | null;
  completedAt: string;
}

export interface FakeThread {
  id: string;
  projectId: string;
  title: string;
  modelSelection: FakeModelSelection;
  runtimeMode: FakeRuntimeMode;
  interactionMode: FakeInteractionMode;
  branch: string | null;
  worktreePath: string | null;
  latestTurn: FakeLatestTurn | null;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  deletedAt: string | null;
  messages: FakeMessage[];
  proposedPlans: unknown[];
  activities: FakeActivity[];
  checkpoints: FakeCheckpoint[];
  session: FakeSession | null;
}

export type FakeRequestKind = 'command' | 'file-read' | 'file-change';

export interface FakeQuestion {
  id: string;
  question: string;
  /** Default: the id (T3 requires a non-empty header). */
  header?: string;
  /** Default: none. */
  options?: Array<{ label: string; description: string }>;
}

export interface FaultMatch {
  method?: string;
  /** The URL's pathname, exactly. */
  path?: string;
  /** The dispatched command's `type`. */
  commandType?: string;
}

export type FaultAnswer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** The connection fails (fetch rejects). */
  | 'network-error'
  /** The server never answers; the handler returns once the client gives up. */
  | 'timeout'
  /** 200 with a body that is not JSON. */
  | 'malformed';

export interface T3Fake {
  handlers: HttpHandler[];
  /** Every request received, in order, including rejected ones. */
  requests: RecordedRequest[];
  /** Accepted commands (as the server decoded them: trimmed, defaults filled), in order. */
  commands: Array<{ sequence: number; command: Record<string, unknown> }>;
  state: { projects: Map<string, FakeProject>; threads: Map<string, FakeThread>; sequence: number };
  /** The next `times` (default 1) requests matching get `answer` instead of normal handling. */
  failNext(match: FaultMatch, answer: FaultAnswer, times?: number): void;
  /** The provider picks up the oldest pending turn: latestTurn running, session running. */
  startProvider(threadId: string): void;
  /** The agent writes a message during its running turn (e.g. an `AFK-PHASE:` marker). */
  say(threadId: string, text: string): void;
  /** The running turn ends: an assistant message, latestTurn completed, session ready. */
  completeTurn(threadId: string, assistantText?: string): void;
  /** The provider fails to start the pending turn: an error activity and session.lastError. */
  failProviderStart(threadId: string, error: string): void;
  addActivity(threadId: string, activity: Partial<FakeActivity>): void;
  /**
   * The agent asks for an approval during its running turn: an `approval.requested` activity
   * the provider waits on (a request seeded with `addActivity` is one the provider does not
   * know, as after a server restart: answering it fails as stale).
   */
  requestApproval(
    threadId: string,
    opts?: { requestKind?: FakeRequestKind; detail?: string },
  ): { requestId: string };
  /** The agent asks questions during its running turn: a `user-input.requested` activity. */
  requestUserInput(threadId: string, questions: FakeQuestion[]): { requestId: string };
  /** Seeds a project without a command (e.g. one made by hand in the T3 UI). */
  addProject(project: Partial<FakeProject> & Pick<FakeProject, 'id'>): FakeProject;
  /** Seeds a thread without a command, in any state. */
  addThread(thread: Partial<FakeThread> & Pick<FakeThread, 'id' | 'projectId'>): FakeThread;
  /** Requests with a method other than GET or HEAD. */
  writes(): RecordedRequest[];
}

const DEFAULT_TOKENS: Record<string, string[]> = {
  't3-test-token': ['orchestration:read', 'orchestration:operate'],
};

const READ_SCOPE = 'orchestration:read';
const OPERATE_SCOPE = 'orchestration:operate';

export function createT3Fake(options: T3FakeOptions = {}): T3Fake {
  const baseUrl = (options.baseUrl ?? 'http://t3.test').replace(/\/+$/, '');
  const serverVersion = options.serverVersion ?? '0.0.32';
  const tokens = options.tokens ?? DEFAULT_TOKENS;
  const clock = options.clock ?? (() => new Date());
  const now = () => clock().toISOString();
  const workspaces = new Set(options.existingWorkspaces ?? []);
  const workspaceExists = (path: string) =>
    options.existingWorkspaces === undefined
      ? path === '/data' || path.startsWith('/data/')
      : workspaces.has(path);

  const hasThreadRoute = versionAtLeast(serverVersion, [0, 0, 29]);
  const slimSnapshot = versionAtLeast(serverVersion, [0, 0, 32]);
  const commandSchema = commandSchemaFor(versionAtLeast(serverVersion, [0, 0, 30]));

  const requests: RecordedRequest[] = [];
  const commands: T3Fake['commands'] = [];
  const state: T3Fake['state'] = { projects: new Map(), threads: new Map(), sequence: 0 };
  const receipts = new Map<string, { accepted: true; sequence: number } | { accepted: false }>();
  /** Per thread, the user messages whose turn the provider has not picked up yet. */
  const pendingTurns = new Map<string, string[]>();
  /**
   * Per thread, the requests the provider holds a callback for (request id → kind). They do
   * not survive the session: T3's provider state is gone once the session stops.
   */
  const liveRequests = new Map<string, Map<string, 'approval' | 'user-input'>>();
  const faults: Array<{ match: FaultMatch; answer: FaultAnswer; remaining: number }> = [];
  let traces = 0;
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}-${(counter += 1)}`;

  const traceId = () => (traces += 1).toString(16).padStart(32, '0');
  const errorJson = (status: number, body: Record<string, string>) =>
    HttpResponse.json({ ...body, traceId: traceId() }, { status });
  const empty = (status: number) => new HttpResponse(null, { status });

  const authenticate = (request: Request): { scopes: string[] } | Response => {
    const header = request.headers.get('authorization');
    const token = header?.match(/^Bearer (.+)$/)?.[1];
    if (token === undefined) return authInvalid('missing_credential');
    const scopes = tokens[token];
    return scopes === undefined ? authInvalid('invalid_credential') : { scopes };
  };
  const authInvalid = (reason: string) =>
    errorJson(401, { _tag: 'EnvironmentAuthInvalidError', code: 'auth_invalid', reason });
  const scopeRequired = (requiredScope: string) =>
    errorJson(403, {
      _tag: 'EnvironmentScopeRequiredError',
      code: 'insufficient_scope',
      requiredScope,
    });
  const dispatchFailed = () =>
    errorJson(500, {
      _tag: 'EnvironmentInternalError',
      code: 'internal_error',
      reason: 'orchestration_dispatch_failed',
    });
  const invalidCommand = () =>
    errorJson(400, {
      _tag: 'EnvironmentRequestInvalidError',
      code: 'invalid_request',
      reason: 'invalid_command',
    });

  const record = async (request: Request): Promise<RecordedRequest> => {
    const url = new URL(request.url);
    const text = await request.text();
    const recorded: RecordedRequest = {
      method: request.method,
      path: url.pathname,
      search: url.search,
      body: text === '' ? undefined : parseJson(text),
      headers: Object.fromEntries(request.headers.entries()),
    };
    requests.push(recorded);
    return recorded;
  };

  const takeFault = (recorded: RecordedRequest): FaultAnswer | undefined => {
    const index = faults.findIndex(({ match }) => {
      const type = isRecord(recorded.body) ? recorded.body['type'] : undefined;
      return (
        (match.method === undefined || match.method.toUpperCase() === recorded.method) &&
        (match.path === undefined || match.path === recorded.path) &&
        (match.commandType === undefined || match.commandType === type)
      );
    });
    const fault = faults[index];
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(index, 1);
    return fault.answer;
  };

  const answerFault = async (answer: FaultAnswer, request: Request): Promise<Response> => {
    if (answer === 'network-error') return HttpResponse.error();
    if (answer === 'malformed') {
      return new HttpResponse('<html>502 Bad Gateway</html>', {
        status: 200,
        headers: { 'Content-Type': 'text/html' },
      });
    }
    if (answer === 'timeout') {
      await new Promise<void>((resolve) => {
        if (request.signal.aborted) resolve();
        request.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return HttpResponse.error();
    }
    const init = { status: answer.status, ...(answer.headers ? { headers: answer.headers } : {}) };
    if (answer.body === undefined) return new HttpResponse(null, init);
    if (typeof answer.body === 'string') return new HttpResponse(answer.body, init);
    return HttpResponse.json(answer.body, init);
  };

  /** Records the request, then answers an injected fault or runs the route. */
  const route =
    (handle: (request: Request, recorded: RecordedRequest) => Response | Promise<Response>) =>
    async ({ request }: { request: Request }) => {
      const recorded = await record(request.clone());
      const fault = takeFault(recorded);
      return fault === undefined ? handle(request, recorded) : answerFault(fault, request);
    };

  const bump = (thread?: FakeThread, at = now()) => {
    state.sequence += 1;
    if (thread) thread.updatedAt = at;
    return state.sequence;
  };

  const snapshotThread = (thread: FakeThread): FakeThread => {
    const copy = structuredClone(thread);
    // v0.0.32+: the snapshot keeps latestTurn and session but empties the detail arrays.
    return slimSnapshot ? { ...copy, messages: [], activities: [], checkpoints: [] } : copy;
  };

  const snapshot = () => ({
    snapshotSequence: state.sequence,
    projects: [...state.projects.values()].map((project) => structuredClone(project)),
    threads: [...state.threads.values()].map(snapshotThread),
    updatedAt: now(),
  });

  // The engine: a command is accepted (and applied) or rejected, never half-applied.
  type Decision = { accept: () => void } | { reject: true };
  const accept = (apply: () => void): Decision => ({ accept: apply });
  const reject: Decision = { reject: true };

  const decide = (command: Command): Decision => {
    switch (command.type) {
      case 'project.create': {
        if (state.projects.has(command.projectId)) return reject;
        return accept(() => {
          state.projects.set(command.projectId, {
            id: command.projectId,
            title: command.title,
            workspaceRoot: command.workspaceRoot,
            repositoryIdentity: null,
            defaultModelSelection: command.defaultModelSelection ?? null,
            scripts: [],
            createdAt: command.createdAt,
            updatedAt: command.createdAt,
            deletedAt: null,
          });
        });
      }
      case 'thread.create': {
        if (!state.projects.has(command.projectId)) return reject;
        if (state.threads.has(command.threadId)) return reject;
        return accept(() => {
          state.threads.set(command.threadId, {
            id: command.threadId,
            projectId: command.projectId,
            title: command.title,
            modelSelection: command.modelSelection,
            runtimeMode: command.runtimeMode,
            interactionMode: command.interactionMode,
            branch: command.branch,
            worktreePath: command.worktreePath,
            latestTurn: null,
            createdAt: command.createdAt,
            updatedAt: command.createdAt,
            archivedAt: null,
            deletedAt: null,
            messages: [],
            proposedPlans: [],
            activities: [],
            checkpoints: [],
            session: null,
          });
        });
      }
      case 'thread.turn.start': {
        const thread = state.threads.get(command.threadId);
        // Over HTTP the engine cannot run the bootstrap (create thread, prepare worktree).
        if (thread === undefined || command.bootstrap !== undefined) return reject;
        // A turn sent while another runs is accepted: the engine only requires the thread
        // (decider.ts, thread.turn.start); the provider deals with the overlap later.
        return accept(() => {
          thread.messages.push({
            id: command.message.messageId,
            role: 'user',
            text: command.message.text,
            attachments: [],
            turnId: null,
            streaming: false,
            createdAt: command.createdAt,
            updatedAt: command.createdAt,
          });
          thread.updatedAt = command.createdAt;
          pendingTurns.set(thread.id, [
            ...(pendingTurns.get(thread.id) ?? []),
            command.message.messageId,
          ]);
        });
      }
      case 'thread.session.stop': {
        const thread = state.threads.get(command.threadId);
        if (thread === undefined) return reject;
        return accept(() => stopSession(thread));
      }
      case 'thread.archive': {
        const thread = state.threads.get(command.threadId);
        if (thread === undefined || thread.archivedAt !== null) return reject;
        // Archiving over HTTP does not stop the session: afk must stop it first.
        return accept(() => {
          thread.archivedAt = now();
        });
      }
      case 'thread.unarchive': {
        const thread = state.threads.get(command.threadId);
        if (thread === undefined || thread.archivedAt === null) return reject;
        return accept(() => {
          thread.archivedAt = null;
        });
      }
      case 'thread.delete': {
        const thread = state.threads.get(command.threadId);
        if (thread === undefined) return reject;
        return accept(() => {
          thread.deletedAt = now();
        });
      }
      case 'thread.meta.update': {
        const thread = state.threads.get(command.threadId);
        if (thread === undefined) return reject;
        return accept(() => {
          if (command.title !== undefined) thread.title = command.title;
          if (command.modelSelection !== undefined) thread.modelSelection = command.modelSelection;
          if (command.branch !== undefined) thread.branch = command.branch;
          if (command.worktreePath !== undefined) thread.worktreePath = command.worktreePath;
        });
      }
      // These only ask the provider to act; the fake's scripted provider does the rest.
      case 'thread.turn.interrupt':
      case 'thread.approval.respond':
      case 'thread.user-input.respond':
        return state.threads.has(command.threadId) ? accept(() => undefined) : reject;
    }
  };

  const stopSession = (thread: FakeThread) => {
    const at = now();
    liveRequests.delete(thread.id);
    if (thread.latestTurn?.state === 'running') {
      thread.latestTurn = { ...thread.latestTurn, state: 'interrupted', completedAt: at };
    }
    thread.session = {
      ...(thread.session ?? sessionFor(thread, at)),
      status: 'stopped',
      activeTurnId: null,
      updatedAt: at,
    };
  };

  const sessionFor = (thread: FakeThread, at: string): FakeSession => ({
    threadId: thread.id,
    status: 'starting',
    providerName: thread.modelSelection.instanceId,
    runtimeMode: thread.runtimeMode,
    activeTurnId: null,
    lastError: null,
    updatedAt: at,
  });

  const dispatch = async (request: Request): Promise<Response> => {
    const auth = authenticate(request);
    if (auth instanceof Response) return auth;
    const contentType = request.headers.get('content-type');
    const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== null && mediaType !== 'application/json') return empty(415);
    const json = parseJson(await request.text());
    if (json === undefined) return empty(500);
    const parsed = commandSchema.safeParse(json);
    if (!parsed.success) return empty(400);
    if (!auth.scopes.includes(OPERATE_SCOPE)) return scopeRequired(OPERATE_SCOPE);
    const command = parsed.data;
    if (!normalizes(command)) return invalidCommand();

    const receipt = receipts.get(command.commandId);
    if (receipt !== undefined) {
      return receipt.accepted
        ? HttpResponse.json({ sequence: receipt.sequence })
        : dispatchFailed();
    }
    const decision = decide(command);
    if ('reject' in decision) {
      receipts.set(command.commandId, { accepted: false });
      return dispatchFailed();
    }
    decision.accept();
    const sequence = bump();
    receipts.set(command.commandId, { accepted: true, sequence });
    commands.push({ sequence, command: structuredClone(command) as Record<string, unknown> });
    if (
      command.type === 'thread.approval.respond' ||
      command.type === 'thread.user-input.respond'
    ) {
      deliverResponse(command);
    }
    return HttpResponse.json({ sequence });
  };

  /**
   * The provider command reactor (apps/server ProviderCommandReactor.ts), run once per
   * accepted response: the engine took it whatever the request's state, and only here does it
   * turn out whether the provider could deliver it. The agent, answered, goes on with its turn.
   */
  const deliverResponse = (command: ResponseCommand) => {
    const thread = state.threads.get(command.threadId);
    if (thread === undefined) return;
    const kind = command.type === 'thread.approval.respond' ? 'approval' : 'user-input';
    const failed = (detail: string) =>
      appendActivity(thread, {
        tone: 'error',
        kind: `provider.${kind}.respond.failed`,
        summary:
          kind === 'approval'
            ? 'Provider approval response failed'
            : 'Provider user input response failed',
        payload: { detail, requestId: command.requestId },
        turnId: null,
        // T3 stamps the failure with the response command's own createdAt.
        createdAt: command.createdAt,
      });
    if (thread.session === null || thread.session.status === 'stopped') {
      return failed('No active provider session is bound to this thread.');
    }
    const live = liveRequests.get(thread.id);
    if (live?.get(command.requestId) !== kind) {
      return failed(
        `Stale pending ${kind} request: ${command.requestId}. Provider callback state does not survive app restarts or recovered sessions. Restart the turn to continue.`,
      );
    }
    live.delete(command.requestId);
    const requested = thread.activities.find(
      (a) => a.kind === `${kind}.requested` && requestIdOf(a) === command.requestId,
    );
    const requestPayload = isRecord(requested?.payload) ? requested.payload : {};
    appendActivity(
      thread,
      command.type === 'thread.approval.respond'
        ? {
            tone: 'approval',
            kind: 'approval.resolved',
            summary: 'Approval resolved',
            payload: {
              requestId: command.requestId,
              // Live requests are opened by requestApproval, which sets both.
              requestKind: requestPayload['requestKind'],
              requestType: requestPayload['requestType'],
              decision: command.decision,
            },
            turnId: requested?.turnId ?? null,
          }
        : {
            tone: 'info',
            kind: 'user-input.resolved',
            summary: 'User input submitted',
            payload: { requestId: command.requestId, answers: command.answers },
            turnId: requested?.turnId ?? null,
          },
    );
  };

  const appendActivity = (
    thread: FakeThread,
    activity: Omit<FakeActivity, 'id' | 'createdAt'> & { createdAt?: string },
  ) => {
    const at = now();
    thread.activities.push({ id: nextId('activity'), createdAt: at, ...activity });
    bump(thread, at);
  };

  /** A request the agent makes during its running turn, held by the provider until answered. */
  const openRequest = (
    threadId: string,
    kind: 'approval' | 'user-input',
    activity: Pick<FakeActivity, 'tone' | 'summary'> & { payload: Record<string, unknown> },
  ): { requestId: string } => {
    const thread = requireThread(threadId);
    const turn = thread.latestTurn;
    if (turn?.state !== 'running') throw new Error(`T3 fake: no running turn on ${threadId}`);
    const requestId = nextId('request');
    appendActivity(thread, {
      ...activity,
      kind: `${kind}.requested`,
      payload: { requestId, ...activity.payload },
      turnId: turn.turnId,
    });
    const live = liveRequests.get(threadId) ?? new Map<string, 'approval' | 'user-input'>();
    liveRequests.set(threadId, live.set(requestId, kind));
    return { requestId };
  };

  /** The normalizer: the workspace root must exist (or be created), attachments must decode. */
  const normalizes = (command: Command): boolean => {
    if (command.type === 'project.create') {
      if (workspaceExists(command.workspaceRoot)) return true;
      if (command.createWorkspaceRootIfMissing !== true) return false;
      workspaces.add(command.workspaceRoot);
      return true;
    }
    if (command.type === 'thread.turn.start') {
      return command.message.attachments.every((attachment) => {
        const match = /^data:(image\/[^;,]+);base64,(.+)$/i.exec(attachment.dataUrl);
        return match !== null && Buffer.from(match[2] ?? '', 'base64').byteLength > 0;
      });
    }
    return true;
  };

  const readSnapshot = (request: Request): Response => {
    const auth = authenticate(request);
    if (auth instanceof Response) return auth;
    if (!auth.scopes.includes(READ_SCOPE)) return scopeRequired(READ_SCOPE);
    return HttpResponse.json(snapshot());
  };

  const readThread = (request: Request, threadId: string): Response => {
    // Before v0.0.29 the route does not exist: the router's bare 404, whoever asks.
    if (!hasThreadRoute) return empty(404);
    const auth = authenticate(request);
    if (auth instanceof Response) return auth;
    if (!auth.scopes.includes(READ_SCOPE)) return scopeRequired(READ_SCOPE);
    const thread = state.threads.get(threadId);
    if (thread === undefined) {
      return errorJson(404, {
        _tag: 'EnvironmentResourceNotFoundError',
        code: 'not_found',
        reason: 'thread_not_found',
      });
    }
    return HttpResponse.json({ snapshotSequence: state.sequence, thread: structuredClone(thread) });
  };

  const readAuthSession = (request: Request): Response => {
    const auth = authenticate(request);
    const descriptor = {
      policy: 'remote-reachable',
      bootstrapMethods: ['one-time-token'],
      sessionMethods: ['browser-session-cookie', 'bearer-session-token'],
      sessionCookieName: 't3_session',
    };
    // Never 401: an anonymous caller learns it is not authenticated.
    if (auth instanceof Response)
      return HttpResponse.json({ authenticated: false, auth: descriptor });
    return HttpResponse.json({
      authenticated: true,
      auth: descriptor,
      scopes: auth.scopes,
      sessionMethod: 'bearer-session-token',
      expiresAt: new Date(clock().getTime() + 30 * 24 * 3600 * 1000).toISOString(),
    });
  };

  const handlers: HttpHandler[] = [
    http.get(
      `${baseUrl}/.well-known/t3/environment`,
      route(() =>
        HttpResponse.json({
          environmentId: 'env-t3-fake',
          label: 'T3 fake',
          platform: { os: 'linux', arch: 'x64' },
          serverVersion,
          capabilities: { repositoryIdentity: true },
        }),
      ),
    ),
    http.get(`${baseUrl}/api/auth/session`, route(readAuthSession)),
    http.get(`${baseUrl}/api/orchestration/snapshot`, route(readSnapshot)),
    http.get(
      `${baseUrl}/api/orchestration/threads/:threadId`,
      route((request) => {
        const segment = new URL(request.url).pathname.split('/').pop() ?? '';
        return readThread(request, decodeURIComponent(segment));
      }),
    ),
    http.post(`${baseUrl}/api/orchestration/dispatch`, route(dispatch)),
  ];

  const requireThread = (threadId: string): FakeThread => {
    const thread = state.threads.get(threadId);
    if (thread === undefined) throw new Error(`T3 fake: no thread ${threadId}`);
    return thread;
  };

  return {
    handlers,
    requests,
    commands,
    state,

    failNext(match, answer, times = 1) {
      faults.push({ match, answer, remaining: times });
    },

    startProvider(threadId) {
      const thread = requireThread(threadId);
      const [messageId, ...rest] = pendingTurns.get(threadId) ?? [];
      const message = thread.messages.find((candidate) => candidate.id === messageId);
      if (message === undefined) throw new Error(`T3 fake: no pending turn on ${threadId}`);
      pendingTurns.set(threadId, rest);
      const at = now();
      const turnId = nextId('turn');
      thread.latestTurn = {
        turnId,
        state: 'running',
        requestedAt: message.createdAt,
        startedAt: at,
        completedAt: null,
        assistantMessageId: null,
      };
      thread.session = {
        ...sessionFor(thread, at),
        status: 'running',
        activeTurnId: turnId,
      };
      bump(thread, at);
    },

    say(threadId, text) {
      const thread = requireThread(threadId);
      const turn = thread.latestTurn;
      if (turn?.state !== 'running') throw new Error(`T3 fake: no running turn on ${threadId}`);
      const at = now();
      thread.messages.push({
        id: nextId('assistant'),
        role: 'assistant',
        text,
        turnId: turn.turnId,
        streaming: false,
        createdAt: at,
        updatedAt: at,
      });
      bump(thread, at);
    },

    completeTurn(threadId, assistantText = 'Done.') {
      const thread = requireThread(threadId);
      const turn = thread.latestTurn;
      if (turn?.state !== 'running') throw new Error(`T3 fake: no running turn on ${threadId}`);
      const at = now();
      const messageId = nextId('assistant');
      thread.messages.push({
        id: messageId,
        role: 'assistant',
        text: assistantText,
        turnId: turn.turnId,
        streaming: false,
        createdAt: at,
        updatedAt: at,
      });
      thread.latestTurn = {
        ...turn,
        state: 'completed',
        completedAt: at,
        assistantMessageId: messageId,
      };
      thread.checkpoints.push({
        turnId: turn.turnId,
        checkpointTurnCount: thread.checkpoints.length + 1,
        checkpointRef: `refs/t3/checkpoints/${thread.id}/${thread.checkpoints.length + 1}`,
        status: 'ready',
        files: [],
        assistantMessageId: messageId,
        completedAt: at,
      });
      thread.session = {
        ...(thread.session ?? sessionFor(thread, at)),
        status: 'ready',
        activeTurnId: null,
        updatedAt: at,
      };
      bump(thread, at);
    },

    failProviderStart(threadId, error) {
      const thread = requireThread(threadId);
      pendingTurns.set(threadId, (pendingTurns.get(threadId) ?? []).slice(1));
      const at = now();
      // The turn does NOT become `error`: the failure is an activity and session.lastError.
      thread.activities.push({
        id: nextId('activity'),
        tone: 'error',
        kind: 'provider.turn.start.failed',
        summary: 'Provider turn start failed',
        payload: { detail: error },
        turnId: null,
        createdAt: at,
      });
      thread.session = {
        ...(thread.session ?? sessionFor(thread, at)),
        status: 'error',
        activeTurnId: null,
        lastError: error,
        updatedAt: at,
      };
      bump(thread, at);
    },

    addActivity(threadId, activity) {
      const thread = requireThread(threadId);
      const at = now();
      thread.activities.push({
        id: nextId('activity'),
        tone: 'info',
        kind: 'info',
        summary: 'Activity',
        payload: {},
        turnId: thread.latestTurn?.turnId ?? null,
        createdAt: at,
        ...activity,
      });
      bump(thread, at);
    },

    requestApproval(threadId, opts = {}) {
      const requestKind = opts.requestKind ?? 'command';
      // As T3's ProviderRuntimeIngestion writes a `request.opened` event.
      return openRequest(threadId, 'approval', {
        tone: 'approval',
        summary: APPROVAL_SUMMARIES[requestKind],
        payload: {
          requestKind,
          requestType: APPROVAL_REQUEST_TYPES[requestKind],
          // T3 keeps at most 180 characters of the provider's detail.
          ...(opts.detail === undefined
            ? {}
            : {
                detail: opts.detail.length > 180 ? `${opts.detail.slice(0, 177)}...` : opts.detail,
              }),
        },
      });
    },

    requestUserInput(threadId, questions) {
      return openRequest(threadId, 'user-input', {
        tone: 'info',
        summary: 'User input requested',
        payload: {
          questions: questions.map((q) => ({
            id: q.id,
            header: q.header ?? q.id,
            question: q.question,
            options: q.options ?? [],
          })),
        },
      });
    },

    addProject(project) {
      const at = now();
      const seeded: FakeProject = {
        title: project.id,
        workspaceRoot: `/data/${project.id}`,
        repositoryIdentity: null,
        defaultModelSelection: null,
        scripts: [],
        createdAt: at,
        updatedAt: at,
        deletedAt: null,
        ...project,
      };
      state.projects.set(seeded.id, seeded);
      bump();
      return seeded;
    },

    addThread(thread) {
      const at = now();
      const seeded: FakeThread = {
        title: thread.id,
        modelSelection: { instanceId: 'claudeAgent', model: 'claude-sonnet-4-6' },
        runtimeMode: 'full-access',
        interactionMode: 'default',
        branch: null,
        worktreePath: null,
        latestTurn: null,
        createdAt: at,
        updatedAt: at,
        archivedAt: null,
        deletedAt: null,
        messages: [],
        proposedPlans: [],
        activities: [],
        checkpoints: [],
        session: null,
        ...thread,
      };
      state.threads.set(seeded.id, seeded);
      bump();
      return seeded;
    },

    writes: () => requests.filter((request) => !['GET', 'HEAD'].includes(request.method)),
  };
}

// The command schema, after packages/contracts/src/orchestration.ts (ClientOrchestrationCommand
// as the HTTP dispatch route decodes it). Unknown keys are ignored, as the server ignores them;
// ids and titles are trimmed and must not be empty.

const trimmed = z.string().trim().min(1);
const isoDateTime = z.string();
const interactionMode = z.enum(['default', 'plan']);
const modelSelection = z.object({
  instanceId: z
    .string()
    .max(64)
    .regex(/^[a-zA-Z][a-zA-Z0-9_-]*$/),
  model: trimmed,
  options: z.unknown().optional(),
});
const uploadAttachment = z.object({
  type: z.literal('image'),
  name: trimmed.max(255),
  mimeType: trimmed.max(100).regex(/^image\//i),
  sizeBytes: z
    .number()
    .int()
    .min(0)
    .max(10 * 1024 * 1024),
  dataUrl: trimmed,
});

function commandSchemaFor(hasAutoMode: boolean) {
  // `auto` is absent from v0.0.27 through the v0.0.29 nightlies (decoded with the real
  // schemas); it joined the RuntimeMode literals with pingdotgg/t3code#4272, after them. A
  // server without it fails the whole command's decoding: the empty 400.
  const runtimeMode = hasAutoMode
    ? z.enum(['approval-required', 'auto-accept-edits', 'full-access', 'auto'])
    : z.enum(['approval-required', 'auto-accept-edits', 'full-access']);
  const threadCommand = { commandId: trimmed, threadId: trimmed };
  return z.discriminatedUnion('type', [
    z.object({
      type: z.literal('project.create'),
      commandId: trimmed,
      projectId: trimmed,
      title: trimmed,
      workspaceRoot: trimmed,
      createWorkspaceRootIfMissing: z.boolean().optional(),
      defaultModelSelection: modelSelection.nullable().optional(),
      createdAt: isoDateTime,
    }),
    z.object({
      type: z.literal('thread.create'),
      ...threadCommand,
      projectId: trimmed,
      title: trimmed,
      modelSelection,
      runtimeMode,
      interactionMode: interactionMode.default('default'),
      // Nullable but required: the key must be present.
      branch: trimmed.nullable(),
      worktreePath: trimmed.nullable(),
      createdAt: isoDateTime,
    }),
    z.object({
      type: z.literal('thread.turn.start'),
      ...threadCommand,
      message: z.object({
        messageId: trimmed,
        role: z.literal('user'),
        text: z.string(),
        attachments: z.array(uploadAttachment),
      }),
      modelSelection: modelSelection.optional(),
      titleSeed: trimmed.optional(),
      // Both required over HTTP (the WebSocket route has defaults).
      runtimeMode,
      interactionMode,
      bootstrap: z.record(z.string(), z.unknown()).optional(),
      sourceProposedPlan: z.object({ threadId: trimmed, planId: trimmed }).optional(),
      createdAt: isoDateTime,
    }),
    z.object({
      type: z.literal('thread.turn.interrupt'),
      ...threadCommand,
      turnId: trimmed.optional(),
      createdAt: isoDateTime,
    }),
    z.object({
      type: z.literal('thread.session.stop'),
      ...threadCommand,
      createdAt: isoDateTime,
    }),
    z.object({ type: z.literal('thread.archive'), ...threadCommand }),
    z.object({ type: z.literal('thread.unarchive'), ...threadCommand }),
    z.object({ type: z.literal('thread.delete'), ...threadCommand }),
    z.object({
      type: z.literal('thread.meta.update'),
      ...threadCommand,
      title: trimmed.optional(),
      modelSelection: modelSelection.optional(),
      branch: trimmed.nullable().optional(),
      worktreePath: trimmed.nullable().optional(),
    }),
    z.object({
      type: z.literal('thread.approval.respond'),
      ...threadCommand,
      requestId: trimmed,
      decision: z.enum(['accept', 'acceptForSession', 'decline', 'cancel']),
      createdAt: isoDateTime,
    }),
    z.object({
      type: z.literal('thread.user-input.respond'),
      ...threadCommand,
      requestId: trimmed,
      answers: z.record(z.string(), z.unknown()),
      createdAt: isoDateTime,
    }),
  ]);
}

type Command = z.output<ReturnType<typeof commandSchemaFor>>;
type ResponseCommand = Extract<
  Command,
  { type: 'thread.approval.respond' | 'thread.user-input.respond' }
>;

const APPROVAL_SUMMARIES: Record<FakeRequestKind, string> = {
  command: 'Command approval requested',
  'file-read': 'File-read approval requested',
  'file-change': 'File-change approval requested',
};
const APPROVAL_REQUEST_TYPES: Record<FakeRequestKind, string> = {
  command: 'command_execution_approval',
  'file-read': 'file_read_approval',
  'file-change': 'file_change_approval',
};

const requestIdOf = (activity: FakeActivity): unknown =>
  isRecord(activity.payload) ? activity.payload['requestId'] : undefined;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Semver order: a prerelease (`0.0.30-nightly.20260720`) comes before its release. */
function versionAtLeast(version: string, floor: readonly [number, number, number]): boolean {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?/.exec(version.trim());
  if (match === null) throw new Error(`T3 fake: unreadable serverVersion ${version}`);
  const parts = [Number(match[1]), Number(match[2]), Number(match[3])];
  for (const [index, part] of parts.entries()) {
    const min = floor[index] ?? 0;
    if (part !== min) return part > min;
  }
  return match[4] === undefined;
}
