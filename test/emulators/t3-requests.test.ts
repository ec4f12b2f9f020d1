// The T3 fake's approval and user-input requests and the two respond commands, as T3 has them:
// packages/contracts/src/orchestration.ts (the command schemas), the server's
// ProviderRuntimeIngestion (the request activities) and ProviderCommandReactor (delivery,
// and `provider.*.respond.failed` when it cannot).
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createT3Client } from '../../src/adapters/t3.js';
import { readThreadFacts } from '../../src/core/evidence.js';
import { createT3Fake } from '../../emulators/t3.js';

const BASE = 'http://t3.test';
const DISPATCH = `${BASE}/api/orchestration/dispatch`;
const TOKEN = 't3-test-token';
const NOW = new Date('2026-05-01T12:00:00.000Z');
// Distinct from the fake's clock: T3 stamps a delivery failure with the command's createdAt.
const SENT_AT = '2026-05-01T11:59:00.000Z';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const wire = {
  projectCreate: {
    type: 'project.create',
    commandId: 'cmd-project',
    projectId: 'project-1',
    title: 'acme/widgets',
    workspaceRoot: '/data/acme/widgets',
    createdAt: SENT_AT,
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
    createdAt: SENT_AT,
  },
  turnStart: {
    type: 'thread.turn.start',
    commandId: 'cmd-turn-1',
    threadId: 'thread-1',
    message: { messageId: 'message-1', role: 'user', text: 'Go', attachments: [] },
    runtimeMode: 'full-access',
    interactionMode: 'default',
    createdAt: SENT_AT,
  },
  sessionStop: {
    type: 'thread.session.stop',
    commandId: 'cmd-stop',
    threadId: 'thread-1',
    createdAt: SENT_AT,
  },
};

const approve = (requestId: string, extra: Record<string, unknown> = {}) => ({
  type: 'thread.approval.respond',
  commandId: `cmd-approve-${requestId}`,
  threadId: 'thread-1',
  requestId,
  decision: 'accept',
  createdAt: SENT_AT,
  ...extra,
});
const answer = (requestId: string, extra: Record<string, unknown> = {}) => ({
  type: 'thread.user-input.respond',
  commandId: `cmd-answer-${requestId}`,
  threadId: 'thread-1',
  requestId,
  answers: { scope: 'only the api package' },
  createdAt: SENT_AT,
  ...extra,
});

async function post(body: unknown) {
  const response = await fetch(DISPATCH, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: new TextEncoder().encode(JSON.stringify(body)),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? '' : (JSON.parse(text) as unknown) };
}

async function accepted(...commands: Record<string, unknown>[]) {
  for (const command of commands) expect((await post(command)).status).toBe(200);
}

/** A thread whose agent is in the middle of its turn. */
async function running() {
  const fake = createT3Fake({ clock: () => NOW });
  server.use(...fake.handlers);
  await accepted(wire.projectCreate, wire.threadCreate, wire.turnStart);
  fake.startProvider('thread-1');
  const thread = () => fake.state.threads.get('thread-1');
  const activities = () => thread()?.activities ?? [];
  return { fake, thread, activities };
}

const without = (command: Record<string, unknown>, key: string) =>
  Object.fromEntries(Object.entries(command).filter(([name]) => name !== key));

const NO_SESSION = 'No active provider session is bound to this thread.';
const stale = (kind: string, requestId: string) =>
  `Stale pending ${kind} request: ${requestId}. Provider callback state does not survive app restarts or recovered sessions. Restart the turn to continue.`;

describe('the T3 fake: the agent asks', () => {
  it('asks for an approval as T3 records it: an approval-toned activity with a request id', async () => {
    const { fake, thread, activities } = await running();
    const { requestId } = fake.requestApproval('thread-1', { detail: 'bun run lint' });
    expect(requestId).toMatch(/\S/);
    expect(activities()).toEqual([
      {
        id: expect.any(String),
        tone: 'approval',
        kind: 'approval.requested',
        summary: 'Command approval requested',
        payload: {
          requestId,
          requestKind: 'command',
          requestType: 'command_execution_approval',
          detail: 'bun run lint',
        },
        turnId: thread()?.latestTurn?.turnId,
        createdAt: NOW.toISOString(),
      },
    ]);
    // A provider waiting on an approval reports `running`.
    expect(thread()).toMatchObject({
      latestTurn: { state: 'running' },
      session: { status: 'running' },
    });
  });

  it.each([
    ['file-read', 'File-read approval requested', 'file_read_approval'],
    ['file-change', 'File-change approval requested', 'file_change_approval'],
  ] as const)(
    'names a %s approval by its kind and request type',
    async (requestKind, summary, requestType) => {
      const { fake, activities } = await running();
      const { requestId } = fake.requestApproval('thread-1', { requestKind });
      expect(activities()[0]).toMatchObject({
        summary,
        payload: { requestId, requestKind, requestType },
      });
      expect(activities()[0]?.payload).not.toHaveProperty('detail');
    },
  );

  it('asks questions as T3 records them: id, header, question and options each', async () => {
    const { fake, activities } = await running();
    const { requestId } = fake.requestUserInput('thread-1', [
      { id: 'scope', question: 'Which packages?' },
      {
        id: 'sandbox_mode',
        header: 'Sandbox',
        question: 'Which mode should be used?',
        options: [{ label: 'workspace-write', description: 'Allow workspace writes only' }],
      },
    ]);
    expect(activities()).toEqual([
      expect.objectContaining({
        tone: 'info',
        kind: 'user-input.requested',
        summary: 'User input requested',
        payload: {
          requestId,
          questions: [
            { id: 'scope', header: 'scope', question: 'Which packages?', options: [] },
            {
              id: 'sandbox_mode',
              header: 'Sandbox',
              question: 'Which mode should be used?',
              options: [{ label: 'workspace-write', description: 'Allow workspace writes only' }],
            },
          ],
        },
      }),
    ]);
  });

  it('keeps at most 180 characters of an approval detail, as T3 does', async () => {
    const { fake, activities } = await running();
    fake.requestApproval('thread-1', { detail: 'x'.repeat(181) });
    expect(activities()[0]?.payload).toMatchObject({ detail: `${'x'.repeat(177)}...` });
    fake.requestApproval('thread-1', { detail: 'y'.repeat(180) });
    expect(activities()[1]?.payload).toMatchObject({ detail: 'y'.repeat(180) });
  });

  it('gives every request its own id', async () => {
    const { fake } = await running();
    const first = fake.requestApproval('thread-1');
    const second = fake.requestUserInput('thread-1', [{ id: 'q', question: 'Why?' }]);
    expect(first.requestId).not.toBe(second.requestId);
  });

  it('asks only during a running turn', async () => {
    const { fake } = await running();
    fake.completeTurn('thread-1');
    expect(() => fake.requestApproval('thread-1')).toThrow(/no running turn/);
    expect(() => fake.requestUserInput('thread-1', [{ id: 'q', question: 'Why?' }])).toThrow(
      /no running turn/,
    );
  });
});

describe('the T3 fake: the respond commands', () => {
  describe('their schema (an EMPTY 400, nothing recorded)', () => {
    it.each<[string, Record<string, unknown>]>([
      ['a decision T3 does not know', approve('r', { decision: 'approve' })],
      ['a decision in the wrong case', approve('r', { decision: 'Accept' })],
      ['no decision', without(approve('r'), 'decision')],
      ['no requestId', without(approve('r'), 'requestId')],
      ['a blank requestId', approve('r', { requestId: '  ' })],
      ['no createdAt on an approval', without(approve('r'), 'createdAt')],
      ['no threadId', without(approve('r'), 'threadId')],
      ['no answers', without(answer('r'), 'answers')],
      ['answers as a list', answer('r', { answers: ['only the api package'] })],
      ['answers as a string', answer('r', { answers: 'only the api package' })],
      ['no requestId on an answer', without(answer('r'), 'requestId')],
      ['no createdAt on an answer', without(answer('r'), 'createdAt')],
    ])('refuses %s', async (_, command) => {
      const { fake, activities } = await running();
      const sequence = fake.state.sequence;
      expect(await post(command)).toEqual({ status: 400, body: '' });
      expect(fake.state.sequence).toBe(sequence);
      expect(activities()).toEqual([]);
    });
  });

  it.each([
    ['an approval', approve('request-1')],
    ['an answer', answer('request-1')],
  ])('rejects %s for an unknown thread as the engine does: a 500', async (_, command) => {
    const { fake } = await running();
    const sequence = fake.state.sequence;
    expect(await post({ ...command, threadId: 'thread-gone' })).toEqual({
      status: 500,
      body: {
        _tag: 'EnvironmentInternalError',
        code: 'internal_error',
        reason: 'orchestration_dispatch_failed',
        traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
    });
    expect(fake.state.sequence).toBe(sequence);
  });

  describe('a pending request and a live session: delivered, and the agent goes on', () => {
    it.each(['accept', 'acceptForSession', 'decline', 'cancel'])(
      'resolves an approval answered %s',
      async (decision) => {
        const { fake, thread, activities } = await running();
        const { requestId } = fake.requestApproval('thread-1', { detail: 'bun run lint' });
        const turnId = thread()?.latestTurn?.turnId;
        const before = fake.state.sequence;
        const reply = await post(approve(requestId, { decision }));
        expect(reply).toEqual({ status: 200, body: { sequence: before + 1 } });
        expect(activities().slice(1)).toEqual([
          {
            id: expect.any(String),
            tone: 'approval',
            kind: 'approval.resolved',
            summary: 'Approval resolved',
            payload: {
              requestId,
              requestKind: 'command',
              requestType: 'command_execution_approval',
              decision,
            },
            turnId,
            createdAt: NOW.toISOString(),
          },
        ]);
        expect(thread()).toMatchObject({
          latestTurn: { turnId, state: 'running' },
          session: { status: 'running', activeTurnId: turnId },
        });
        fake.completeTurn('thread-1', 'Linted and pushed.');
        expect(thread()?.latestTurn).toMatchObject({ turnId, state: 'completed' });
      },
    );

    it('resolves questions with the answers given', async () => {
      const { fake, thread, activities } = await running();
      const { requestId } = fake.requestUserInput('thread-1', [
        { id: 'scope', question: 'Which packages?' },
        { id: 'sandbox_mode', question: 'Which mode?' },
      ]);
      const answers = { scope: 'only the api package', sandbox_mode: 'workspace-write' };
      expect((await post(answer(requestId, { answers }))).status).toBe(200);
      expect(activities().slice(1)).toEqual([
        expect.objectContaining({
          tone: 'info',
          kind: 'user-input.resolved',
          summary: 'User input submitted',
          payload: { requestId, answers },
          turnId: thread()?.latestTurn?.turnId,
        }),
      ]);
      fake.say('thread-1', 'Working on the api package only.');
      expect(thread()?.latestTurn?.state).toBe('running');
    });

    it('is idempotent by commandId: a resent response returns its sequence and does nothing', async () => {
      const { fake, activities } = await running();
      const { requestId } = fake.requestApproval('thread-1');
      const first = await post(approve(requestId));
      const count = activities().length;
      const sequence = fake.state.sequence;
      expect(await post(approve(requestId))).toEqual(first);
      expect(activities()).toHaveLength(count);
      expect(fake.state.sequence).toBe(sequence);
      expect(
        fake.commands.filter((c) => c.command['type'] === 'thread.approval.respond'),
      ).toHaveLength(1);
    });
  });

  describe('otherwise: accepted, then a provider.*.respond.failed activity', () => {
    const failure = (kind: 'approval' | 'user-input', requestId: string, detail: string) => ({
      id: expect.any(String),
      tone: 'error',
      kind: `provider.${kind}.respond.failed`,
      summary:
        kind === 'approval'
          ? 'Provider approval response failed'
          : 'Provider user input response failed',
      payload: { detail, requestId },
      turnId: null,
      createdAt: SENT_AT,
    });

    it('fails a second answer to a resolved request as stale', async () => {
      const { fake, activities } = await running();
      const { requestId } = fake.requestApproval('thread-1');
      await accepted(approve(requestId));
      const again = await post(
        approve(requestId, { commandId: 'cmd-approve-again', decision: 'decline' }),
      );
      expect(again).toEqual({ status: 200, body: { sequence: expect.any(Number) } });
      expect(activities().at(-1)).toEqual(
        failure('approval', requestId, stale('approval', requestId)),
      );
      expect(activities().filter((a) => a.kind === 'approval.resolved')).toHaveLength(1);
    });

    it.each([
      ['an approval', 'approval', approve('request-unknown')],
      ['an answer', 'user-input', answer('request-unknown')],
    ] as const)(
      'fails %s to a request the provider never made as stale',
      async (_, kind, command) => {
        const { activities } = await running();
        expect((await post(command)).status).toBe(200);
        expect(activities()).toEqual([
          failure(kind, 'request-unknown', stale(kind, 'request-unknown')),
        ]);
      },
    );

    it('fails an approval sent to a pending question (and leaves the question pending)', async () => {
      const { fake, activities } = await running();
      const { requestId } = fake.requestUserInput('thread-1', [{ id: 'q', question: 'Why?' }]);
      await accepted(approve(requestId));
      expect(activities().at(-1)).toEqual(
        failure('approval', requestId, stale('approval', requestId)),
      );
      await accepted(answer(requestId, { answers: { q: 'Because.' } }));
      expect(activities().at(-1)).toMatchObject({ kind: 'user-input.resolved' });
    });

    it('fails an answer to a request the provider forgot (seeded, as after a restart) as stale', async () => {
      const { fake, activities } = await running();
      fake.addActivity('thread-1', {
        tone: 'approval',
        kind: 'approval.requested',
        payload: { requestId: 'request-old', requestKind: 'command' },
      });
      await accepted(approve('request-old'));
      expect(activities().at(-1)).toEqual(
        failure('approval', 'request-old', stale('approval', 'request-old')),
      );
    });

    it('fails an answer once the session is stopped, even to a request that was pending', async () => {
      const { fake, activities } = await running();
      const { requestId } = fake.requestUserInput('thread-1', [{ id: 'q', question: 'Why?' }]);
      await accepted(wire.sessionStop, answer(requestId));
      expect(activities().at(-1)).toEqual(failure('user-input', requestId, NO_SESSION));
    });

    it('fails an answer on a thread whose session never started', async () => {
      const fake = createT3Fake({ clock: () => NOW });
      server.use(...fake.handlers);
      await accepted(wire.projectCreate, wire.threadCreate);
      expect(await post(approve('request-1'))).toEqual({ status: 200, body: { sequence: 3 } });
      expect(fake.state.threads.get('thread-1')?.activities).toEqual([
        failure('approval', 'request-1', NO_SESSION),
      ]);
    });
  });

  it('shows afk, through its client, the pending request, then the failed and the delivered answer', async () => {
    const { fake } = await running();
    const client = createT3Client({
      baseUrl: BASE,
      token: () => Promise.resolve(TOKEN),
      clock: () => NOW,
      retryDelayMs: 0,
    });
    const facts = async () => {
      const thread = await client.readThread('thread-1');
      if (thread === null) throw new Error('thread gone');
      return readThreadFacts(thread, null);
    };
    const { requestId } = fake.requestUserInput('thread-1', [
      { id: 'scope', header: 'Scope', question: 'Which packages?' },
      { id: 'mode', header: 'Mode', question: 'Which mode?' },
    ]);
    expect((await facts()).pendingRequest).toEqual({
      kind: 'user-input',
      requestId,
      detail: 'Scope: Which packages? | Mode: Which mode?',
      questionIds: ['scope', 'mode'],
    });

    await client.respondToApproval({
      commandId: 'cmd-wrong',
      threadId: 'thread-1',
      requestId,
      decision: 'accept',
    });
    expect(await facts()).toMatchObject({
      pendingRequest: { requestId },
      respondFailures: [
        {
          kind: 'approval',
          requestId,
          detail: stale('approval', requestId),
          createdAt: NOW.toISOString(),
        },
      ],
    });

    await client.respondToUserInput({
      commandId: 'cmd-answer',
      threadId: 'thread-1',
      requestId,
      answers: { scope: 'api', mode: 'workspace-write' },
    });
    expect(await facts()).toMatchObject({ pendingRequest: null, busy: true });
  });
});
