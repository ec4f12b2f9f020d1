import { describe, expect, it } from 'vitest';
import { readThreadFacts } from '../../src/core/evidence.js';
import type { T3Activity, T3Thread } from '../../src/core/types.js';

const AT = '2026-05-01T12:00:00.000Z';

function thread(activities: T3Activity[] | null): T3Thread {
  return {
    id: 'thread-1',
    projectId: 'project-1',
    title: 'acme/widgets#42',
    branch: 'afk/issue-42',
    archived: false,
    deleted: false,
    latestTurn: {
      turnId: 'turn-1',
      state: 'running',
      requestedAt: AT,
      startedAt: AT,
      completedAt: null,
    },
    session: { status: 'running', activeTurnId: 'turn-1', lastError: null, updatedAt: AT },
    messages: null,
    activities,
    createdAt: AT,
    updatedAt: AT,
  };
}

let ids = 0;
const activity = (kind: string, payload: unknown, extra: Partial<T3Activity> = {}): T3Activity => ({
  id: `activity-${(ids += 1)}`,
  tone: 'info',
  kind,
  summary: 'Activity',
  payload,
  turnId: 'turn-1',
  createdAt: AT,
  ...extra,
});

// Shapes as T3's ProviderRuntimeIngestion and ProviderCommandReactor write them.
const approvalRequested = (requestId: string, detail?: string) =>
  activity(
    'approval.requested',
    {
      requestId,
      requestKind: 'command',
      requestType: 'command_execution_approval',
      ...(detail === undefined ? {} : { detail }),
    },
    { tone: 'approval', summary: 'Command approval requested' },
  );
const approvalResolved = (requestId: string) =>
  activity(
    'approval.resolved',
    { requestId, requestKind: 'command', decision: 'accept' },
    { tone: 'approval', summary: 'Approval resolved' },
  );
const question = (id: string, header: string, text: string) => ({
  id,
  header,
  question: text,
  options: [{ label: 'yes', description: 'Go on' }],
});
const userInputRequested = (requestId: string, questions: unknown[]) =>
  activity('user-input.requested', { requestId, questions }, { summary: 'User input requested' });
const userInputResolved = (requestId: string) =>
  activity(
    'user-input.resolved',
    { requestId, answers: { scope: 'yes' } },
    { summary: 'User input submitted' },
  );
const respondFailed = (kind: 'approval' | 'user-input', payload: unknown, createdAt = AT) =>
  activity(`provider.${kind}.respond.failed`, payload, {
    tone: 'error',
    summary:
      kind === 'approval'
        ? 'Provider approval response failed'
        : 'Provider user input response failed',
    turnId: null,
    createdAt,
  });

const NO_SESSION = 'No active provider session is bound to this thread.';
const STALE =
  'Stale pending approval request: req-1. Provider callback state does not survive app restarts or recovered sessions. Restart the turn to continue.';

describe('readThreadFacts: the request the agent waits on', () => {
  it.each<[string, T3Activity[] | null, unknown]>([
    ['no activities at all', [], null],
    ['a slim snapshot (activities unknown)', null, null],
    [
      'a pending approval, with its detail',
      [approvalRequested('req-1', 'bun run lint')],
      { kind: 'approval', requestId: 'req-1', detail: 'bun run lint', questionIds: [] },
    ],
    [
      'a pending approval without a detail, named by its summary',
      [approvalRequested('req-1')],
      {
        kind: 'approval',
        requestId: 'req-1',
        detail: 'Command approval requested',
        questionIds: [],
      },
    ],
    [
      'a pending question with two question ids, in order',
      [
        userInputRequested('req-2', [
          question('scope', 'Scope', 'Which packages?'),
          question('sandbox_mode', 'Sandbox', 'Which mode should be used?'),
        ]),
      ],
      {
        kind: 'user-input',
        requestId: 'req-2',
        detail: 'Scope: Which packages? | Sandbox: Which mode should be used?',
        questionIds: ['scope', 'sandbox_mode'],
      },
    ],
    [
      'a question list with malformed entries (skipped)',
      [userInputRequested('req-2', [null, { header: 'no id' }, question('ok', 'Ok', 'Fine?')])],
      { kind: 'user-input', requestId: 'req-2', detail: 'Ok: Fine?', questionIds: ['ok'] },
    ],
    ['a resolved approval', [approvalRequested('req-1', 'ls'), approvalResolved('req-1')], null],
    [
      'a resolved question',
      [
        userInputRequested('req-2', [question('scope', 'Scope', 'Which?')]),
        userInputResolved('req-2'),
      ],
      null,
    ],
    [
      'a newer pending request after a resolved one',
      [
        approvalRequested('req-1', 'ls'),
        approvalResolved('req-1'),
        approvalRequested('req-3', 'rm -rf build'),
      ],
      { kind: 'approval', requestId: 'req-3', detail: 'rm -rf build', questionIds: [] },
    ],
    [
      'an approval whose response failed (T3 keeps it pending)',
      [
        approvalRequested('req-1', 'ls'),
        respondFailed('approval', { detail: STALE, requestId: 'req-1' }),
      ],
      { kind: 'approval', requestId: 'req-1', detail: 'ls', questionIds: [] },
    ],
  ])('%s', (_, activities, expected) => {
    expect(readThreadFacts(thread(activities), null).pendingRequest).toEqual(expected);
  });

  it('cleans a detail of hidden characters and HTML comments, to one capped line', () => {
    const detail = `run\u200B this\n<!-- afk:run {"attempt":9} -->now ${'x'.repeat(400)}`;
    const facts = readThreadFacts(thread([approvalRequested('req-\u202E1', detail)]), null);
    expect(facts.pendingRequest?.requestId).toBe('req-1');
    const shown = facts.pendingRequest?.detail ?? '';
    expect(shown.startsWith('run this now xxx')).toBe(true);
    expect(shown).not.toMatch(/<!--|\u200B|\n/);
    expect(Array.from(shown)).toHaveLength(300);
    expect(shown.endsWith('…')).toBe(true);
  });

  it('cleans the questions and their ids the same way', () => {
    const facts = readThreadFacts(
      thread([
        userInputRequested('req-2', [
          question('sco\u200Bpe', 'Scope<!-- x -->', 'Which\npackages?'),
        ]),
      ]),
      null,
    );
    expect(facts.pendingRequest).toMatchObject({
      detail: 'Scope: Which packages?',
      questionIds: ['scope'],
    });
  });
});

describe('readThreadFacts: responses the provider failed to deliver', () => {
  it.each<[string, T3Activity[] | null, unknown[]]>([
    ['none', [approvalRequested('req-1', 'ls'), approvalResolved('req-1')], []],
    ['a slim snapshot (activities unknown)', null, []],
    [
      'an approval response to a thread without a live session',
      [
        approvalRequested('req-1', 'ls'),
        respondFailed('approval', { detail: NO_SESSION, requestId: 'req-1' }),
      ],
      [{ kind: 'approval', requestId: 'req-1', detail: NO_SESSION, createdAt: AT }],
    ],
    [
      'failures of both kinds, oldest first',
      [
        respondFailed(
          'approval',
          { detail: STALE, requestId: 'req-1' },
          '2026-05-01T12:01:00.000Z',
        ),
        respondFailed(
          'user-input',
          { detail: 'connection lost', requestId: 'req-2' },
          '2026-05-01T12:02:00.000Z',
        ),
      ],
      [
        {
          kind: 'approval',
          requestId: 'req-1',
          detail: STALE,
          createdAt: '2026-05-01T12:01:00.000Z',
        },
        {
          kind: 'user-input',
          requestId: 'req-2',
          detail: 'connection lost',
          createdAt: '2026-05-01T12:02:00.000Z',
        },
      ],
    ],
    [
      'a failure naming no request and giving no detail (the summary stands in)',
      [respondFailed('user-input', {})],
      [
        {
          kind: 'user-input',
          requestId: null,
          detail: 'Provider user input response failed',
          createdAt: AT,
        },
      ],
    ],
    [
      'a hostile detail: hidden characters and an HTML comment removed, capped',
      [
        respondFailed('approval', {
          detail: `gone\u200B<!-- afk:run {} -->\n${'y'.repeat(400)}`,
          requestId: 'req-1',
        }),
      ],
      [
        {
          kind: 'approval',
          requestId: 'req-1',
          detail: `gone ${'y'.repeat(294)}…`,
          createdAt: AT,
        },
      ],
    ],
    [
      'other failures are not responses',
      [activity('provider.turn.start.failed', { detail: 'x' })],
      [],
    ],
  ])('%s', (_, activities, expected) => {
    expect(readThreadFacts(thread(activities), null).respondFailures).toEqual(expected);
  });
});
