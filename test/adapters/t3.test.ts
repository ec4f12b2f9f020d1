import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createT3Client, detailFor, type T3ClientOptions } from '../../src/adapters/t3.js';
import { T3Error } from '../../src/core/index.js';
import { createT3Fake, type T3FakeOptions } from '../../emulators/t3.js';

const BASE = 'http://t3.test';
const DISPATCH = `${BASE}/api/orchestration/dispatch`;
const SNAPSHOT = `${BASE}/api/orchestration/snapshot`;
const TOKEN = 't3-test-token';
const NOW = new Date('2026-05-01T12:00:00.000Z');
const CREATED_AT = NOW.toISOString();

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function setup(fakeOptions: T3FakeOptions = {}, clientOptions: Partial<T3ClientOptions> = {}) {
  const fake = createT3Fake({ clock: () => NOW, ...fakeOptions });
  server.use(...fake.handlers);
  const token = vi.fn(() => Promise.resolve(TOKEN));
  const client = createT3Client({
    baseUrl: BASE,
    token,
    clock: () => NOW,
    retryDelayMs: 0,
    ...clientOptions,
  });
  return { fake, client, token };
}

async function failure(promise: Promise<unknown>): Promise<T3Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(T3Error);
    return error as T3Error;
  }
  throw new Error('expected a T3Error');
}

// Commands as afk's ports take them.
const project = {
  commandId: 'cmd-project',
  projectId: 'project-1',
  title: 'acme/widgets',
  workspaceRoot: '/data/acme/widgets',
  defaultModelSelection: { instanceId: 'claudeAgent', model: 'claude-sonnet-4-6' },
};
const thread = {
  commandId: 'cmd-thread',
  threadId: 'thread-1',
  projectId: 'project-1',
  title: 'acme/widgets#42: fix the frobnicator',
  modelSelection: { instanceId: 'claudeAgent', model: 'claude-sonnet-4-6' },
  runtimeMode: 'full-access' as const,
  interactionMode: 'default' as const,
  branch: 'afk/issue-42',
};
const turn = {
  commandId: 'cmd-turn-1',
  threadId: 'thread-1',
  messageId: 'message-1',
  text: 'Fix issue #42, secret-looking prompt text',
  runtimeMode: 'full-access' as const,
  interactionMode: 'default' as const,
};

// The same commands on the wire, for driving the fake directly.
const wire = {
  projectCreate: {
    type: 'project.create',
    commandId: 'cmd-project',
    projectId: 'project-1',
    title: 'acme/widgets',
    workspaceRoot: '/data/acme/widgets',
    createdAt: CREATED_AT,
  },
  threadCreate: {
    type: 'thread.create',
    commandId: 'cmd-thread',
    threadId: 'thread-1',
    projectId: 'project-1',
    title: 'Issue 42',
    modelSelection: { instanceId: 'claudeAgent', model: 'claude-sonnet-4-6' },
    runtimeMode: 'full-access',
    interactionMode: 'default',
    branch: null,
    worktreePath: null,
    createdAt: CREATED_AT,
  },
  turnStart: {
    type: 'thread.turn.start',
    commandId: 'cmd-turn-1',
    threadId: 'thread-1',
    message: { messageId: 'message-1', role: 'user', text: 'Go', attachments: [] },
    runtimeMode: 'full-access',
    interactionMode: 'default',
    createdAt: CREATED_AT,
  },
  sessionStop: {
    type: 'thread.session.stop',
    commandId: 'cmd-stop',
    threadId: 'thread-1',
    createdAt: CREATED_AT,
  },
  archive: { type: 'thread.archive', commandId: 'cmd-archive', threadId: 'thread-1' },
  approval: {
    type: 'thread.approval.respond',
    commandId: 'cmd-approval',
    threadId: 'thread-1',
    requestId: 'request-1',
    decision: 'accept',
    createdAt: CREATED_AT,
  },
} satisfies Record<string, Record<string, unknown>>;

interface RawOptions {
  token?: string | null;
  contentType?: string | null;
  raw?: string;
}

/** Posts to the fake's dispatch route as any client could, bypassing the adapter. */
async function post(body: unknown, options: RawOptions = {}) {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers['Authorization'] = `Bearer ${token}`;
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['Content-Type'] = contentType;
  // Bytes, not a string: fetch would otherwise add its own text/plain Content-Type.
  const payload = new TextEncoder().encode(options.raw ?? JSON.stringify(body));
  return answerOf(await fetch(DISPATCH, { method: 'POST', headers, body: payload }));
}

async function get(url: string, token: string | null = TOKEN) {
  const headers: Record<string, string> =
    token === null ? {} : { Authorization: `Bearer ${token}` };
  return answerOf(await fetch(url, { headers }));
}

/** The status and the body: parsed JSON, the raw text, or '' for an empty body. */
async function answerOf(response: Response) {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? '' : (JSON.parse(text) as unknown);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body };
}

const traceId = expect.stringMatching(/^[0-9a-f]{32}$/);
const unauthorized = (reason: string) => ({
  status: 401,
  body: { _tag: 'EnvironmentAuthInvalidError', code: 'auth_invalid', reason, traceId },
});
const scopeRequired = (requiredScope: string) => ({
  status: 403,
  body: {
    _tag: 'EnvironmentScopeRequiredError',
    code: 'insufficient_scope',
    requiredScope,
    traceId,
  },
});
const invalidCommand = {
  status: 400,
  body: {
    _tag: 'EnvironmentRequestInvalidError',
    code: 'invalid_request',
    reason: 'invalid_command',
    traceId,
  },
};
const dispatchFailed = {
  status: 500,
  body: {
    _tag: 'EnvironmentInternalError',
    code: 'internal_error',
    reason: 'orchestration_dispatch_failed',
    traceId,
  },
};
const schemaRejected = { status: 400, body: '' };

/** Dispatches each command and expects it accepted. */
async function accepted(...commands: Record<string, unknown>[]) {
  for (const command of commands) expect((await post(command)).status).toBe(200);
}

const without = (command: Record<string, unknown>, key: string) =>
  Object.fromEntries(Object.entries(command).filter(([name]) => name !== key));

describe('the T3 fake', () => {
  describe('authentication (checked first)', () => {
    it.each([
      ['no Authorization header', null, 'missing_credential'],
      ['an unknown token', 'not-a-token', 'invalid_credential'],
    ])('answers 401 to a dispatch with %s', async (_, token, reason) => {
      setup();
      expect(await post(wire.projectCreate, { token })).toEqual(unauthorized(reason));
    });

    it('answers 401 before looking at the body', async () => {
      setup();
      expect(await post({ nonsense: true }, { token: null, contentType: 'text/plain' })).toEqual(
        unauthorized('missing_credential'),
      );
    });

    it.each([
      ['the snapshot', SNAPSHOT],
      ['a thread', `${BASE}/api/orchestration/threads/thread-1`],
    ])('answers 401 to a read of %s without a token', async (_, url) => {
      setup();
      expect(await get(url, null)).toEqual(unauthorized('missing_credential'));
    });

    it('serves the environment descriptor without a token', async () => {
      setup({ serverVersion: '0.0.31' });
      expect(await get(`${BASE}/.well-known/t3/environment`, null)).toEqual({
        status: 200,
        body: expect.objectContaining({
          environmentId: expect.any(String),
          label: expect.any(String),
          platform: { os: 'linux', arch: 'x64' },
          serverVersion: '0.0.31',
          capabilities: expect.any(Object),
        }),
      });
    });

    it('never answers 401 on the auth session route', async () => {
      setup();
      expect(await get(`${BASE}/api/auth/session`, null)).toMatchObject({
        status: 200,
        body: { authenticated: false },
      });
      expect(await get(`${BASE}/api/auth/session`, 'not-a-token')).toMatchObject({
        status: 200,
        body: { authenticated: false },
      });
      expect(await get(`${BASE}/api/auth/session`)).toMatchObject({
        status: 200,
        body: { authenticated: true, scopes: ['orchestration:read', 'orchestration:operate'] },
      });
    });
  });

  describe('content type and JSON', () => {
    it.each(['text/plain', 'application/x-www-form-urlencoded'])(
      'answers 415 to a %s body, before the schema',
      async (contentType) => {
        setup();
        expect(await post({ nonsense: true }, { contentType })).toEqual({ status: 415, body: '' });
      },
    );

    it('accepts a JSON body with a charset or with no Content-Type at all', async () => {
      setup();
      expect(
        await post(wire.projectCreate, { contentType: 'application/json; charset=utf-8' }),
      ).toEqual({ status: 200, body: { sequence: 1 } });
      expect(await post(wire.threadCreate, { contentType: null })).toEqual({
        status: 200,
        body: { sequence: 2 },
      });
    });

    it('answers an empty 500 to a body that is not JSON', async () => {
      setup();
      expect(await post(undefined, { raw: '{"type": "project.create",' })).toEqual({
        status: 500,
        body: '',
      });
    });
  });

  describe('the command schema (an EMPTY 400)', () => {
    const { threadCreate, turnStart, projectCreate, sessionStop, approval } = wire;
    it.each<[string, unknown]>([
      ['a command without type', without(projectCreate, 'type')],
      ['an unknown type', { ...projectCreate, type: 'project.ensure' }],
      ['a command in a wrapper', { command: projectCreate }],
      ['an array of commands', [projectCreate]],
      ['an unknown runtimeMode', { ...threadCreate, runtimeMode: 'yolo' }],
      ['an unknown interactionMode', { ...turnStart, interactionMode: 'chat' }],
      [
        'a message role other than user',
        { ...turnStart, message: { ...turnStart.message, role: 'assistant' } },
      ],
      ['an unknown approval decision', { ...approval, decision: 'approve' }],
      [
        'an instanceId starting with a digit',
        { ...threadCreate, modelSelection: { instanceId: '1claude', model: 'm' } },
      ],
      [
        'an instanceId with a space',
        { ...threadCreate, modelSelection: { instanceId: 'claude agent', model: 'm' } },
      ],
      [
        'an instanceId over 64 characters',
        { ...threadCreate, modelSelection: { instanceId: `c${'x'.repeat(64)}`, model: 'm' } },
      ],
      ['an empty model', { ...threadCreate, modelSelection: { instanceId: 'codex', model: ' ' } }],
      ['thread.create without the branch key', without(threadCreate, 'branch')],
      ['thread.create without the worktreePath key', without(threadCreate, 'worktreePath')],
      ['thread.create with an empty branch', { ...threadCreate, branch: '' }],
      [
        'thread.turn.start without message.attachments',
        { ...turnStart, message: without(turnStart.message, 'attachments') },
      ],
      ['thread.turn.start without runtimeMode', without(turnStart, 'runtimeMode')],
      ['thread.turn.start without interactionMode', without(turnStart, 'interactionMode')],
      [
        'thread.turn.start with a bare text instead of a message',
        { ...without(turnStart, 'message'), text: 'Go' },
      ],
      ['project.create without createdAt', without(projectCreate, 'createdAt')],
      ['thread.session.stop without createdAt', without(sessionStop, 'createdAt')],
      ['an empty commandId', { ...projectCreate, commandId: '' }],
      ['a whitespace projectId', { ...projectCreate, projectId: '   ' }],
      ['a numeric threadId', { ...threadCreate, threadId: 42 }],
      ['a null title', { ...projectCreate, title: null }],
    ])('refuses %s', async (_, body) => {
      setup();
      expect(await post(body)).toEqual(schemaRejected);
    });

    it('checks the schema before the scope', async () => {
      setup({ tokens: { reader: ['orchestration:read'] } });
      expect(await post(without(wire.projectCreate, 'type'), { token: 'reader' })).toEqual(
        schemaRejected,
      );
    });

    // Absent from v0.0.27 through the v0.0.29 nightlies, decoded with the real schemas.
    it.each([
      ['0.0.28', false],
      ['0.0.29', false],
      ['0.0.30-nightly.20260720.1', false],
      ['0.0.30', true],
      ['0.0.33', true],
    ])('knows the auto runtime mode on v%s: %s', async (serverVersion, known) => {
      setup({ serverVersion });
      await accepted(wire.projectCreate);
      const answer = await post({ ...wire.threadCreate, runtimeMode: 'auto' });
      if (known) expect(answer.status).toBe(200);
      else expect(answer).toEqual(schemaRejected);
    });

    it('ignores extra properties and trims ids', async () => {
      const { fake } = setup();
      await accepted({ ...wire.projectCreate, projectId: ' project-1 ', favourite: 'yes' });
      expect([...fake.state.projects.keys()]).toEqual(['project-1']);
      expect(fake.commands[0]?.command).not.toHaveProperty('favourite');
    });
  });

  describe('scopes', () => {
    it('answers 403 to a dispatch by a read-only token', async () => {
      setup({ tokens: { reader: ['orchestration:read'] } });
      expect(await post(wire.projectCreate, { token: 'reader' })).toEqual(
        scopeRequired('orchestration:operate'),
      );
    });

    it('answers 403 to a snapshot read by an operate-only token', async () => {
      setup({ tokens: { operator: ['orchestration:operate'] } });
      expect(await get(SNAPSHOT, 'operator')).toEqual(scopeRequired('orchestration:read'));
    });

    it('checks the scope before the normalizer', async () => {
      setup({ tokens: { reader: ['orchestration:read'] } });
      const missing = { ...wire.projectCreate, workspaceRoot: '/elsewhere' };
      expect(await post(missing, { token: 'reader' })).toEqual(
        scopeRequired('orchestration:operate'),
      );
    });
  });

  describe('the normalizer', () => {
    it('answers invalid_command to a workspace root that does not exist', async () => {
      setup();
      expect(await post({ ...wire.projectCreate, workspaceRoot: '/elsewhere/repo' })).toEqual(
        invalidCommand,
      );
    });

    it('creates a missing workspace root when asked to', async () => {
      const { fake } = setup();
      const create = {
        ...wire.projectCreate,
        workspaceRoot: '/srv/new',
        createWorkspaceRootIfMissing: true,
      };
      expect(await post(create)).toEqual({ status: 200, body: { sequence: 1 } });
      expect(fake.state.projects.get('project-1')?.workspaceRoot).toBe('/srv/new');
    });

    it('knows only the listed workspaces when given a list', async () => {
      setup({ existingWorkspaces: ['/work/acme'] });
      expect(await post(wire.projectCreate)).toEqual(invalidCommand);
      expect((await post({ ...wire.projectCreate, workspaceRoot: '/work/acme' })).status).toBe(200);
    });

    it('answers invalid_command to an attachment whose data does not decode', async () => {
      setup();
      await accepted(wire.projectCreate, wire.threadCreate);
      const attachment = {
        type: 'image',
        name: 'shot.png',
        mimeType: 'image/png',
        sizeBytes: 3,
        dataUrl: 'not-a-data-url',
      };
      const message = { ...wire.turnStart.message, attachments: [attachment] };
      expect(await post({ ...wire.turnStart, message })).toEqual(invalidCommand);
    });
  });

  describe('the engine', () => {
    it('accepts commands in order, one sequence each', async () => {
      const { fake } = setup();
      expect(await post(wire.projectCreate)).toEqual({ status: 200, body: { sequence: 1 } });
      expect(await post(wire.threadCreate)).toEqual({ status: 200, body: { sequence: 2 } });
      expect(fake.commands.map(({ sequence, command }) => [sequence, command['type']])).toEqual([
        [1, 'project.create'],
        [2, 'thread.create'],
      ]);
    });

    it.each<[string, Record<string, unknown>[], Record<string, unknown>]>([
      [
        'a duplicate projectId',
        [wire.projectCreate],
        { ...wire.projectCreate, commandId: 'cmd-2' },
      ],
      ['a thread in an unknown project', [], wire.threadCreate],
      [
        'a duplicate threadId',
        [wire.projectCreate, wire.threadCreate],
        { ...wire.threadCreate, commandId: 'cmd-2' },
      ],
      ['a turn on an unknown thread', [wire.projectCreate], wire.turnStart],
      ['stopping an unknown thread', [wire.projectCreate], wire.sessionStop],
      ['archiving an unknown thread', [wire.projectCreate], wire.archive],
      [
        'archiving an archived thread',
        [wire.projectCreate, wire.threadCreate, wire.archive],
        { ...wire.archive, commandId: 'cmd-archive-2' },
      ],
      [
        'a turn carrying a bootstrap',
        [wire.projectCreate, wire.threadCreate],
        { ...wire.turnStart, bootstrap: { runSetupScript: true } },
      ],
    ])('rejects %s with a 500', async (_, before, command) => {
      const { fake } = setup();
      await accepted(...before);
      const sequence = fake.state.sequence;
      expect(await post(command)).toEqual(dispatchFailed);
      expect(fake.state.sequence).toBe(sequence);
    });

    it('answers a repeated accepted commandId with the original sequence and changes nothing', async () => {
      const { fake } = setup();
      await accepted(wire.projectCreate, wire.threadCreate, wire.turnStart);
      const before = structuredClone(fake.state.threads.get('thread-1'));
      expect(await post(wire.projectCreate)).toEqual({ status: 200, body: { sequence: 1 } });
      expect(await post(wire.turnStart)).toEqual({ status: 200, body: { sequence: 3 } });
      expect(fake.state.sequence).toBe(3);
      expect(fake.commands).toHaveLength(3);
      expect(fake.state.threads.get('thread-1')).toEqual(before);
    });

    it('rejects a previously rejected commandId again, even once it could succeed', async () => {
      setup();
      expect(await post(wire.threadCreate)).toEqual(dispatchFailed);
      await accepted(wire.projectCreate);
      expect(await post(wire.threadCreate)).toEqual(dispatchFailed);
      expect((await post({ ...wire.threadCreate, commandId: 'cmd-thread-2' })).status).toBe(200);
    });

    it('appends the user message but leaves latestTurn and session alone until the provider starts', async () => {
      const { fake } = setup();
      await accepted(wire.projectCreate, wire.threadCreate, wire.turnStart);
      const started = fake.state.threads.get('thread-1');
      expect(started?.messages).toEqual([
        expect.objectContaining({ id: 'message-1', role: 'user', text: 'Go', turnId: null }),
      ]);
      expect(started?.latestTurn).toBeNull();
      expect(started?.session).toBeNull();

      fake.startProvider('thread-1');
      expect(fake.state.threads.get('thread-1')).toMatchObject({
        latestTurn: { state: 'running', completedAt: null },
        session: { status: 'running', lastError: null },
      });

      fake.completeTurn('thread-1', 'AFK-PHASE: green');
      const done = fake.state.threads.get('thread-1');
      expect(done).toMatchObject({
        latestTurn: { state: 'completed', completedAt: NOW.toISOString() },
        session: { status: 'ready', activeTurnId: null },
      });
      expect(done?.messages.at(-1)).toMatchObject({ role: 'assistant', text: 'AFK-PHASE: green' });
    });

    it('accepts a turn sent while another runs (the engine only requires the thread)', async () => {
      const { fake } = setup();
      await accepted(wire.projectCreate, wire.threadCreate, wire.turnStart);
      fake.startProvider('thread-1');
      const second = {
        ...wire.turnStart,
        commandId: 'cmd-turn-2',
        message: { ...wire.turnStart.message, messageId: 'message-2' },
      };
      expect(await post(second)).toEqual({ status: 200, body: { sequence: 5 } });
      expect(fake.state.threads.get('thread-1')?.latestTurn?.state).toBe('running');
    });

    it('records a provider start failure as an activity and lastError, not a turn error', async () => {
      const { fake } = setup();
      await accepted(wire.projectCreate, wire.threadCreate, wire.turnStart);
      fake.failProviderStart('thread-1', 'Claude binary not found');
      expect(fake.state.threads.get('thread-1')).toMatchObject({
        latestTurn: null,
        session: { status: 'error', lastError: 'Claude binary not found' },
        activities: [
          {
            tone: 'error',
            kind: 'provider.turn.start.failed',
            payload: { detail: 'Claude binary not found' },
          },
        ],
      });
    });

    it('stops the session on thread.session.stop and archives without stopping', async () => {
      const { fake } = setup();
      await accepted(wire.projectCreate, wire.threadCreate, wire.turnStart);
      fake.startProvider('thread-1');
      await accepted(wire.archive);
      expect(fake.state.threads.get('thread-1')).toMatchObject({
        archivedAt: NOW.toISOString(),
        session: { status: 'running' },
      });
      await accepted(wire.sessionStop);
      expect(fake.state.threads.get('thread-1')).toMatchObject({
        session: { status: 'stopped', activeTurnId: null },
        latestTurn: { state: 'interrupted' },
      });
    });
  });

  describe('the read routes', () => {
    const projectKeys = [
      'id',
      'title',
      'workspaceRoot',
      'repositoryIdentity',
      'defaultModelSelection',
      'scripts',
      'createdAt',
      'updatedAt',
      'deletedAt',
    ];
    const threadKeys = [
      'id',
      'projectId',
      'title',
      'modelSelection',
      'runtimeMode',
      'interactionMode',
      'branch',
      'worktreePath',
      'latestTurn',
      'createdAt',
      'updatedAt',
      'archivedAt',
      'deletedAt',
      'messages',
      'proposedPlans',
      'activities',
      'checkpoints',
      'session',
    ];

    async function startedThread(fakeOptions: T3FakeOptions) {
      const { fake } = setup(fakeOptions);
      await accepted(wire.projectCreate, wire.threadCreate, wire.turnStart);
      fake.startProvider('thread-1');
      fake.completeTurn('thread-1');
      return fake;
    }

    it('serves a full snapshot before v0.0.32', async () => {
      await startedThread({ serverVersion: '0.0.27' });
      const { status, body } = await get(SNAPSHOT);
      expect(status).toBe(200);
      expect(body).toMatchObject({ snapshotSequence: 5, updatedAt: expect.any(String) });
      const snapshot = body as { projects: object[]; threads: Array<Record<string, unknown>> };
      expect(Object.keys(snapshot.projects[0] ?? {}).sort()).toEqual([...projectKeys].sort());
      expect(Object.keys(snapshot.threads[0] ?? {}).sort()).toEqual([...threadKeys].sort());
      expect(snapshot.threads[0]?.['messages']).toHaveLength(2);
      expect(snapshot.threads[0]?.['checkpoints']).toHaveLength(1);
    });

    it('serves a slim snapshot from v0.0.32: empty detail arrays, latestTurn and session kept', async () => {
      await startedThread({ serverVersion: '0.0.32' });
      const { body } = await get(SNAPSHOT);
      const threadRow = (body as { threads: Array<Record<string, unknown>> }).threads[0];
      expect(threadRow).toMatchObject({
        messages: [],
        activities: [],
        checkpoints: [],
        latestTurn: { state: 'completed' },
        session: { status: 'ready' },
      });
    });

    it('serves one thread in full from v0.0.29', async () => {
      await startedThread({ serverVersion: '0.0.32' });
      const { status, body } = await get(`${BASE}/api/orchestration/threads/thread-1`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ snapshotSequence: 5, thread: { id: 'thread-1' } });
      expect((body as { thread: { messages: unknown[] } }).thread.messages).toHaveLength(2);
    });

    it('answers thread_not_found for an unknown thread', async () => {
      setup({ serverVersion: '0.0.29' });
      expect(await get(`${BASE}/api/orchestration/threads/nope`)).toEqual({
        status: 404,
        body: {
          _tag: 'EnvironmentResourceNotFoundError',
          code: 'not_found',
          reason: 'thread_not_found',
          traceId,
        },
      });
    });

    it('has no thread route before v0.0.29: a bare 404 with no JSON', async () => {
      await startedThread({ serverVersion: '0.0.28' });
      expect(await get(`${BASE}/api/orchestration/threads/thread-1`)).toEqual({
        status: 404,
        body: '',
      });
    });
  });

  describe('its test controls', () => {
    it('records every request, rejected ones included, and lists the writes', async () => {
      const { fake } = setup();
      await post(wire.projectCreate, { token: null });
      await post(wire.projectCreate);
      await get(SNAPSHOT);
      expect(fake.requests.map((request) => [request.method, request.path])).toEqual([
        ['POST', '/api/orchestration/dispatch'],
        ['POST', '/api/orchestration/dispatch'],
        ['GET', '/api/orchestration/snapshot'],
      ]);
      expect(fake.writes()).toHaveLength(2);
      expect(fake.writes()[0]?.body).toEqual(wire.projectCreate);
    });

    it('answers an injected fault the given number of times, matching the command type', async () => {
      const { fake } = setup();
      fake.failNext({ commandType: 'thread.create' }, { status: 503, body: 'busy' }, 2);
      await accepted(wire.projectCreate);
      expect(await post(wire.threadCreate)).toEqual({ status: 503, body: 'busy' });
      expect(await post(wire.threadCreate)).toEqual({ status: 503, body: 'busy' });
      expect(await post(wire.threadCreate)).toEqual({ status: 200, body: { sequence: 2 } });
    });
  });
});

describe('createT3Client', () => {
  describe('the commands it dispatches', () => {
    const dispatched = (body: Record<string, unknown>) => ({
      method: 'POST',
      path: '/api/orchestration/dispatch',
      search: '',
      body,
      headers: expect.objectContaining({
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
      }),
    });

    it('creates the project on an existing checkout, never asking T3 to create it', async () => {
      const { client, fake } = setup();
      await client.createProject(project);
      expect(fake.writes()).toEqual([
        dispatched({
          type: 'project.create',
          commandId: 'cmd-project',
          projectId: 'project-1',
          title: 'acme/widgets',
          workspaceRoot: '/data/acme/widgets',
          createWorkspaceRootIfMissing: false,
          defaultModelSelection: { instanceId: 'claudeAgent', model: 'claude-sonnet-4-6' },
          createdAt: CREATED_AT,
        }),
      ]);
      expect(fake.state.projects.has('project-1')).toBe(true);
    });

    it('creates the thread with branch and a null worktreePath', async () => {
      const { client, fake } = setup();
      await client.createProject(project);
      await client.createThread(thread);
      expect(fake.writes()[1]).toEqual(
        dispatched({
          type: 'thread.create',
          commandId: 'cmd-thread',
          threadId: 'thread-1',
          projectId: 'project-1',
          title: 'acme/widgets#42: fix the frobnicator',
          modelSelection: { instanceId: 'claudeAgent', model: 'claude-sonnet-4-6' },
          runtimeMode: 'full-access',
          interactionMode: 'default',
          branch: 'afk/issue-42',
          worktreePath: null,
          createdAt: CREATED_AT,
        }),
      );
    });

    it('sends a null branch as a present key', async () => {
      const { client, fake } = setup();
      await client.createProject(project);
      await client.createThread({ ...thread, branch: null });
      expect(fake.writes()[1]?.body).toMatchObject({ branch: null, worktreePath: null });
      expect(fake.state.threads.get('thread-1')?.branch).toBeNull();
    });

    it('starts a turn with a user message and both modes', async () => {
      const { client, fake } = setup();
      await client.createProject(project);
      await client.createThread(thread);
      await client.startTurn(turn);
      expect(fake.writes()[2]).toEqual(
        dispatched({
          type: 'thread.turn.start',
          commandId: 'cmd-turn-1',
          threadId: 'thread-1',
          message: {
            messageId: 'message-1',
            role: 'user',
            text: 'Fix issue #42, secret-looking prompt text',
            attachments: [],
          },
          runtimeMode: 'full-access',
          interactionMode: 'default',
          createdAt: CREATED_AT,
        }),
      );
      expect(fake.state.threads.get('thread-1')?.messages).toHaveLength(1);
    });

    it('stops the session with createdAt and archives without it', async () => {
      const { client, fake } = setup();
      await client.createProject(project);
      await client.createThread(thread);
      await client.stopSession({ commandId: 'cmd-stop', threadId: 'thread-1' });
      await client.archiveThread({ commandId: 'cmd-archive', threadId: 'thread-1' });
      expect(fake.writes().slice(2)).toEqual([
        dispatched({
          type: 'thread.session.stop',
          commandId: 'cmd-stop',
          threadId: 'thread-1',
          createdAt: CREATED_AT,
        }),
        dispatched({ type: 'thread.archive', commandId: 'cmd-archive', threadId: 'thread-1' }),
      ]);
      expect(fake.state.threads.get('thread-1')).toMatchObject({
        archivedAt: CREATED_AT,
        session: { status: 'stopped' },
      });
    });

    it('answers an approval with the request id, the decision and createdAt', async () => {
      const { client, fake } = setup();
      await client.createProject(project);
      await client.createThread(thread);
      await client.respondToApproval({
        commandId: 'cmd-approve',
        threadId: 'thread-1',
        requestId: 'request-1',
        decision: 'acceptForSession',
      });
      expect(fake.writes().slice(2)).toEqual([
        dispatched({
          type: 'thread.approval.respond',
          commandId: 'cmd-approve',
          threadId: 'thread-1',
          requestId: 'request-1',
          decision: 'acceptForSession',
          createdAt: CREATED_AT,
        }),
      ]);
    });

    it('answers questions with the answers record keyed by question id, and createdAt', async () => {
      const { client, fake } = setup();
      await client.createProject(project);
      await client.createThread(thread);
      await client.respondToUserInput({
        commandId: 'cmd-answer',
        threadId: 'thread-1',
        requestId: 'request-2',
        answers: { scope: 'only the api package', sandbox_mode: 'workspace-write' },
      });
      expect(fake.writes().slice(2)).toEqual([
        dispatched({
          type: 'thread.user-input.respond',
          commandId: 'cmd-answer',
          threadId: 'thread-1',
          requestId: 'request-2',
          answers: { scope: 'only the api package', sandbox_mode: 'workspace-write' },
          createdAt: CREATED_AT,
        }),
      ]);
    });

    it('reports a response to an unknown thread as the engine rejection it is', async () => {
      const { client } = setup();
      const error = await failure(
        client.respondToApproval({
          commandId: 'cmd-approve',
          threadId: 'thread-gone',
          requestId: 'request-1',
          decision: 'accept',
        }),
      );
      expect(error).toMatchObject({ kind: 'rejected', status: 500 });
    });

    it('completes a dispatch repeated after a crash without a second effect', async () => {
      const { client, fake } = setup();
      await client.createProject(project);
      await client.createProject(project);
      expect(fake.writes()).toHaveLength(2);
      expect(fake.commands).toHaveLength(1);
    });
  });

  describe('the token', () => {
    it('is read afresh for every request, so a rotated token is used at once', async () => {
      let current = 'token-a';
      const token = vi.fn(() => Promise.resolve(current));
      const { client, fake } = setup(
        {
          tokens: {
            'token-a': ['orchestration:read', 'orchestration:operate'],
            'token-b': ['orchestration:read', 'orchestration:operate'],
          },
        },
        { token },
      );
      await client.createProject(project);
      current = 'token-b';
      await client.createThread(thread);
      await client.readSnapshot();
      const authorizations = fake.requests.map((request) => request.headers['authorization']);
      expect(authorizations).toEqual([
        'Bearer token-a',
        'Bearer token-b',
        undefined, // the environment descriptor is read without a token
        'Bearer token-b',
      ]);
      expect(token).toHaveBeenCalledTimes(3);
    });

    it('is read again for a retry', async () => {
      const { client, fake, token } = setup({}, { retries: 2 });
      fake.failNext({ path: '/api/orchestration/dispatch' }, 'network-error', 2);
      await client.createProject(project);
      expect(token).toHaveBeenCalledTimes(3);
    });
  });

  describe('reading the snapshot', () => {
    async function dispatchedRun(fakeOptions: T3FakeOptions) {
      const { client, fake } = setup(fakeOptions);
      await client.createProject(project);
      await client.createThread(thread);
      await client.startTurn(turn);
      fake.startProvider('thread-1');
      fake.addActivity('thread-1', {
        tone: 'approval',
        kind: 'approval.requested',
        summary: 'Command approval requested',
        payload: { requestId: 'request-1', requestKind: 'command' },
      });
      return { client, fake };
    }

    const latestTurn = {
      turnId: 'turn-1',
      state: 'running',
      requestedAt: CREATED_AT,
      startedAt: CREATED_AT,
      completedAt: null,
    };
    const session = {
      status: 'running',
      activeTurnId: 'turn-1',
      lastError: null,
      updatedAt: CREATED_AT,
    };

    it('parses a full v0.0.27 snapshot, messages and activities included', async () => {
      const { client } = await dispatchedRun({ serverVersion: '0.0.27' });
      expect(await client.readSnapshot()).toEqual({
        sequence: 5,
        detail: 'full',
        projects: [
          {
            id: 'project-1',
            title: 'acme/widgets',
            workspaceRoot: '/data/acme/widgets',
            deleted: false,
          },
        ],
        threads: [
          {
            id: 'thread-1',
            projectId: 'project-1',
            title: 'acme/widgets#42: fix the frobnicator',
            branch: 'afk/issue-42',
            archived: false,
            deleted: false,
            latestTurn,
            session,
            messages: [
              {
                id: 'message-1',
                role: 'user',
                text: 'Fix issue #42, secret-looking prompt text',
                turnId: null,
                createdAt: CREATED_AT,
              },
            ],
            activities: [
              {
                id: 'activity-2',
                tone: 'approval',
                kind: 'approval.requested',
                summary: 'Command approval requested',
                payload: { requestId: 'request-1', requestKind: 'command' },
                turnId: 'turn-1',
                createdAt: CREATED_AT,
              },
            ],
            createdAt: CREATED_AT,
            updatedAt: CREATED_AT,
          },
        ],
      });
    });

    it('parses a slim v0.0.32 snapshot, leaving messages and activities unknown', async () => {
      const { client } = await dispatchedRun({ serverVersion: '0.0.32' });
      const snapshot = await client.readSnapshot();
      expect(snapshot.detail).toBe('slim');
      expect(snapshot.threads[0]).toMatchObject({
        latestTurn,
        session,
        messages: null,
        activities: null,
      });
    });

    it('learns the server version once per client', async () => {
      const { client, fake } = setup();
      await client.readSnapshot();
      await client.readSnapshot();
      expect(fake.requests.map((request) => request.path)).toEqual([
        '/.well-known/t3/environment',
        '/api/orchestration/snapshot',
        '/api/orchestration/snapshot',
      ]);
    });

    it('falls back to slim when the version cannot be learned', async () => {
      const { client, fake } = await dispatchedRun({ serverVersion: '0.0.27' });
      fake.failNext({ path: '/.well-known/t3/environment' }, { status: 502 }, 2);
      const snapshot = await client.readSnapshot();
      expect(snapshot.detail).toBe('slim');
      expect(snapshot.threads[0]?.messages).toBeNull();
    });

    it('maps archived and deleted rows without filtering them out', async () => {
      const { client, fake } = setup();
      fake.addProject({ id: 'project-gone', deletedAt: CREATED_AT });
      fake.addThread({ id: 'thread-old', projectId: 'project-gone', archivedAt: CREATED_AT });
      fake.addThread({ id: 'thread-deleted', projectId: 'project-gone', deletedAt: CREATED_AT });
      const snapshot = await client.readSnapshot();
      expect(snapshot.projects).toEqual([
        expect.objectContaining({ id: 'project-gone', deleted: true }),
      ]);
      expect(
        snapshot.threads.map(({ id, archived, deleted }) => ({ id, archived, deleted })),
      ).toEqual([
        { id: 'thread-old', archived: true, deleted: false },
        { id: 'thread-deleted', archived: false, deleted: true },
      ]);
    });

    it.each([
      [
        'an unknown latestTurn.state',
        { latestTurn: { ...latestTurn, turnId: 't', state: 'pending', assistantMessageId: null } },
        'threads.0.latestTurn.state',
      ],
      [
        'an unknown session.status',
        {
          session: {
            threadId: 'x',
            ...session,
            status: 'errored',
            providerName: null,
            runtimeMode: 'full-access',
          },
        },
        'threads.0.session.status',
      ],
      ['no messages array', { messages: undefined }, 'threads.0.messages'],
    ])('refuses a snapshot with %s as malformed, naming the path', async (_, override, path) => {
      const { client, fake } = setup();
      const row = fake.addThread({ id: 'thread-1', projectId: 'project-1' });
      const body = {
        snapshotSequence: 1,
        projects: [],
        threads: [{ ...row, ...override }],
        updatedAt: CREATED_AT,
      };
      fake.failNext({ path: '/api/orchestration/snapshot' }, { status: 200, body });
      const error = await failure(client.readSnapshot());
      expect(error).toMatchObject({ kind: 'malformed', reason: path });
      expect(error.message).toBe(`t3: GET /api/orchestration/snapshot: 200 malformed (${path})`);
    });

    it('tolerates fields it does not know', async () => {
      const { client, fake } = setup();
      const row = fake.addThread({ id: 'thread-1', projectId: 'project-1' });
      const body = {
        snapshotSequence: 7,
        projects: [],
        threads: [{ ...row, pinnedAt: null, settledOverride: 'active' }],
        updatedAt: CREATED_AT,
        shiny: true,
      };
      fake.failNext({ path: '/api/orchestration/snapshot' }, { status: 200, body });
      expect((await client.readSnapshot()).threads).toHaveLength(1);
    });
  });

  describe('reading one thread', () => {
    it('returns the thread with its messages and activities', async () => {
      const { client, fake } = setup({ serverVersion: '0.0.33' });
      await client.createProject(project);
      await client.createThread(thread);
      await client.startTurn(turn);
      fake.startProvider('thread-1');
      fake.completeTurn('thread-1', 'AFK-PHASE: tests-red');
      const read = await client.readThread('thread-1');
      expect(read).toMatchObject({
        id: 'thread-1',
        latestTurn: { state: 'completed' },
        session: { status: 'ready' },
        activities: [],
      });
      expect(read?.messages?.map((message) => message.text)).toEqual([
        'Fix issue #42, secret-looking prompt text',
        'AFK-PHASE: tests-red',
      ]);
      expect(fake.requests.at(-1)?.path).toBe('/api/orchestration/threads/thread-1');
    });

    it('returns null for a thread the server does not know', async () => {
      const { client } = setup();
      expect(await client.readThread('thread-unknown')).toBeNull();
    });

    it('throws not-found thread_route_missing when the server predates the route', async () => {
      const { client } = setup({ serverVersion: '0.0.28' });
      expect(await failure(client.readThread('thread-1'))).toMatchObject({
        kind: 'not-found',
        status: 404,
        reason: 'thread_route_missing',
        request: 'GET /api/orchestration/threads/thread-1',
      });
    });
  });

  describe('its failures', () => {
    it('classifies an unknown token as auth', async () => {
      const { client } = setup({}, { token: () => Promise.resolve('expired-token') });
      expect(await failure(client.createProject(project))).toMatchObject({
        kind: 'auth',
        status: 401,
        reason: 'invalid_credential',
        request: 'POST /api/orchestration/dispatch (project.create)',
      });
    });

    it('classifies a missing scope as forbidden, naming the scope', async () => {
      const { client } = setup({ tokens: { [TOKEN]: ['orchestration:read'] } });
      expect(await failure(client.createProject(project))).toMatchObject({
        kind: 'forbidden',
        status: 403,
        reason: 'insufficient_scope:orchestration:operate',
      });
    });

    it('classifies a schema-refused command (empty 400) as a contract bug', async () => {
      const { client } = setup();
      const badModel = {
        ...project,
        defaultModelSelection: { instanceId: 'claude agent', model: 'x' },
      };
      expect(await failure(client.createProject(badModel))).toMatchObject({
        kind: 'contract',
        status: 400,
        reason: undefined,
      });
    });

    it('classifies a normalizer refusal as rejected invalid_command', async () => {
      const { client } = setup();
      expect(
        await failure(client.createProject({ ...project, workspaceRoot: '/nowhere' })),
      ).toMatchObject({
        kind: 'rejected',
        status: 400,
        reason: 'invalid_command',
      });
    });

    it('classifies 415 as a contract bug', async () => {
      const { client, fake } = setup();
      fake.failNext({ path: '/api/orchestration/dispatch' }, { status: 415 });
      expect(await failure(client.createProject(project))).toMatchObject({
        kind: 'contract',
        status: 415,
      });
    });

    it('classifies an engine refusal as rejected and does not retry it', async () => {
      const { client, fake } = setup({}, { retries: 3 });
      expect(await failure(client.createThread(thread))).toMatchObject({
        kind: 'rejected',
        status: 500,
        reason: 'orchestration_dispatch_failed',
        request: 'POST /api/orchestration/dispatch (thread.create)',
      });
      expect(fake.writes()).toHaveLength(1);
    });

    it('retries a failed snapshot, then reports it transient', async () => {
      const { client, fake } = setup({}, { retries: 1 });
      const snapshotFailed = {
        _tag: 'EnvironmentInternalError',
        code: 'internal_error',
        reason: 'orchestration_snapshot_failed',
        traceId: 'a1',
      };
      fake.failNext(
        { path: '/api/orchestration/snapshot' },
        { status: 500, body: snapshotFailed },
        2,
      );
      expect(await failure(client.readSnapshot())).toMatchObject({
        kind: 'transient',
        status: 500,
        reason: 'orchestration_snapshot_failed',
      });
      expect(
        fake.requests.filter((request) => request.path === '/api/orchestration/snapshot'),
      ).toHaveLength(2);
    });

    it('succeeds when the retry does', async () => {
      const { client, fake } = setup({}, { retries: 1 });
      fake.failNext({ path: '/api/orchestration/dispatch' }, { status: 503 });
      await client.createProject(project);
      expect(fake.writes()).toHaveLength(2);
      expect(fake.commands).toHaveLength(1);
    });

    it('classifies a network error as transient after the retries', async () => {
      const { client, fake } = setup({}, { retries: 2 });
      fake.failNext({ path: '/api/orchestration/dispatch' }, 'network-error', 3);
      expect(await failure(client.createProject(project))).toMatchObject({
        kind: 'transient',
        status: undefined,
        network: { address: 't3.test:80', cause: 'connection failed' },
      });
      expect(fake.writes()).toHaveLength(3);
    });

    it('classifies a timeout as transient', async () => {
      const { client, fake } = setup({}, { timeoutMs: 50, retries: 0 });
      fake.failNext({ path: '/api/orchestration/snapshot' }, 'timeout');
      const error = await failure(client.readSnapshot());
      expect(error).toMatchObject({
        kind: 'transient',
        network: { address: 't3.test:80', cause: 'timeout after 50 ms' },
        request: 'GET /api/orchestration/snapshot',
      });
      // ky's own error carries the request, Authorization header included: not kept.
      expect(JSON.stringify(error.cause, Object.getOwnPropertyNames(error.cause))).not.toContain(
        TOKEN,
      );
      expect(error.cause).not.toHaveProperty('request');
    });

    it.each([
      [
        'a snapshot that is not JSON',
        '/api/orchestration/snapshot',
        'malformed' as const,
        'invalid_json',
      ],
      [
        'a dispatch answer that is not JSON',
        '/api/orchestration/dispatch',
        'malformed' as const,
        'invalid_json',
      ],
      [
        'a dispatch answer without a sequence',
        '/api/orchestration/dispatch',
        { status: 200, body: { ok: true } },
        'sequence',
      ],
      [
        'a snapshot that is an array',
        '/api/orchestration/snapshot',
        { status: 200, body: [] },
        '(root)',
      ],
    ])('classifies %s as malformed and does not retry it', async (_, path, answer, reason) => {
      const { client, fake } = setup({}, { retries: 3 });
      fake.failNext({ path }, answer);
      const call = path.endsWith('dispatch')
        ? client.createProject(project)
        : client.readSnapshot();
      expect(await failure(call)).toMatchObject({ kind: 'malformed', reason });
      expect(fake.requests.filter((request) => request.path === path)).toHaveLength(1);
    });

    it('lets an unreadable token fail as itself, without a request', async () => {
      const broken = new Error('cannot read the T3 token file');
      const { client, fake } = setup({}, { token: () => Promise.reject(broken) });
      await expect(client.createProject(project)).rejects.toBe(broken);
      expect(fake.writes()).toEqual([]);
    });

    it('never puts the token or the request body into an error message', async () => {
      const { client, fake } = setup(
        { tokens: { [TOKEN]: ['orchestration:read'] } },
        { retries: 0 },
      );
      const messages: string[] = [];
      const collect = async (promise: Promise<unknown>) =>
        messages.push((await failure(promise)).message);
      const dispatchPath = { path: '/api/orchestration/dispatch' };
      await collect(client.createProject(project)); // 403
      fake.failNext(dispatchPath, { status: 401, body: { reason: `bad token ${TOKEN}` } });
      await collect(client.startTurn(turn));
      // A server echoing the credential as its reason code.
      fake.failNext(
        { path: '/api/orchestration/snapshot' },
        { status: 500, body: { reason: TOKEN } },
      );
      await collect(client.readSnapshot());
      fake.failNext(dispatchPath, 'network-error');
      await collect(client.startTurn(turn));
      expect(messages).toHaveLength(4);
      for (const message of messages) {
        expect(message).not.toContain(TOKEN);
        expect(message).not.toContain(turn.text);
        expect(message).not.toContain(project.workspaceRoot);
      }
    });
  });
});

describe('detailFor', () => {
  it.each([
    ['0.0.27', 'full'],
    ['0.0.31', 'full'],
    ['v0.0.31', 'full'],
    ['0.0.32', 'slim'],
    ['0.0.33', 'slim'],
    ['0.1.0', 'slim'],
    ['1.0.0', 'slim'],
    ['0.0.32-nightly.20260501', 'slim'],
    ['unknown', 'slim'],
  ])('reads %s as %s', (version, detail) => {
    expect(detailFor(version)).toBe(detail);
  });
});

describe('readAuthSession', () => {
  it('reads the scopes of an accepted token, sending it as a bearer', async () => {
    const { client, fake } = setup();

    expect(await client.readAuthSession()).toEqual({
      authenticated: true,
      scopes: ['orchestration:read', 'orchestration:operate'],
    });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/auth/session']);
    expect(fake.requests[0]?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
  });

  it('reads a refused token as unauthenticated with no scopes: the route never answers 401', async () => {
    const { client } = setup({ tokens: { 'another-token': ['orchestration:read'] } });

    expect(await client.readAuthSession()).toEqual({ authenticated: false, scopes: [] });
  });

  it('wraps a network failure into a transient T3Error', async () => {
    const { client, fake } = setup({}, { retries: 0 });
    fake.failNext({ path: '/api/auth/session' }, 'network-error');

    const error = await failure(client.readAuthSession());

    expect(error).toMatchObject({
      kind: 'transient',
      request: 'GET /api/auth/session',
      network: { address: 't3.test:80', cause: 'connection failed' },
    });
  });

  it('refuses an answer without `authenticated` as malformed', async () => {
    const { client, fake } = setup();
    fake.failNext({ path: '/api/auth/session' }, { status: 200, body: { auth: {} } });

    const error = await failure(client.readAuthSession());

    expect(error).toMatchObject({ kind: 'malformed', reason: 'authenticated' });
  });
});

describe('a runtime mode only newer servers know', () => {
  const autoThread = { ...thread, runtimeMode: 'auto' as const };
  const autoTurn = { ...turn, runtimeMode: 'auto' as const };
  const dispatches = (fake: ReturnType<typeof setup>['fake']) =>
    fake.requests.filter((r) => r.path === '/api/orchestration/dispatch');

  it('is sent to a server whose version knows it, after one read that only it costs', async () => {
    const { client, fake } = setup({ serverVersion: '0.0.30' });
    await client.createProject(project);
    await client.createThread({ ...thread, threadId: 'thread-0', commandId: 'cmd-thread-0' });

    await client.createThread(autoThread);
    await client.startTurn(autoTurn);

    expect(fake.requests.map((r) => r.path)).toEqual([
      '/api/orchestration/dispatch',
      '/api/orchestration/dispatch',
      '/.well-known/t3/environment',
      '/api/orchestration/dispatch',
      '/api/orchestration/dispatch',
    ]);
    expect(fake.state.threads.get('thread-1')?.runtimeMode).toBe('auto');
  });

  it.each(['0.0.29', '0.0.30-nightly.20260720.1'])(
    'is not sent to T3 %s: the step fails naming the version and the mode',
    async (serverVersion) => {
      const { client, fake } = setup({ serverVersion });
      await client.createProject(project);

      const error = await failure(client.createThread(autoThread));

      expect(error.message).toBe(
        `t3: POST /api/orchestration/dispatch (thread.create): not sent: runtimeMode auto needs T3 0.0.30 or later; this server is ${serverVersion}; set t3.runtimeMode to another mode or upgrade T3`,
      );
      expect(error.kind).toBe('contract');
      expect(dispatches(fake)).toHaveLength(1);
      expect((await failure(client.startTurn(autoTurn))).message).toContain(
        '(thread.turn.start): not sent: runtimeMode auto needs T3 0.0.30 or later',
      );
      expect(dispatches(fake)).toHaveLength(1);
    },
  );

  it('is not sent when the server’s version cannot be read, and says so', async () => {
    const { client, fake } = setup({ serverVersion: '0.0.32' }, { retries: 0 });
    fake.failNext({ path: '/.well-known/t3/environment' }, { status: 503 });

    const error = await failure(client.createThread(autoThread));

    expect(error.message).toBe(
      "t3: POST /api/orchestration/dispatch (thread.create): not sent: runtimeMode auto needs T3 0.0.30 or later, and the server's version cannot be read (GET /.well-known/t3/environment: 503 transient)",
    );
    expect(error.kind).toBe('transient');
    expect(dispatches(fake)).toEqual([]);
  });
});

describe('a server without the HTTP orchestration API', () => {
  it('says so when the snapshot route answers 404', async () => {
    const { client, fake } = setup({}, { retries: 0 });
    fake.failNext({ path: '/api/orchestration/snapshot' }, { status: 404 });

    const error = await failure(client.readSnapshot());

    expect(error).toMatchObject({ kind: 'not-found', status: 404 });
    expect(error.message).toBe(
      `t3: GET /api/orchestration/snapshot: 404 this server does not serve the HTTP orchestration API (T3's "orchestration v2" moves it)`,
    );
  });
});
