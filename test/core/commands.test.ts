import { describe, expect, it } from 'vitest';
import {
  commandIdFor,
  findAfkComment,
  messageIdFor,
  parseCommand,
  pendingCommands,
  renderChecklist,
  replyMarker,
  threadIdFor,
  watchRun,
  type Action,
  type IssueComment,
  type Permission,
  type RunRecord,
  type T3Activity,
  type T3Thread,
  type WatchStep,
} from '../../src/core/index.js';
import {
  config as makeConfig,
  issue as makeIssue,
  snapshot,
  thread as makeThread,
} from '../support/fixtures.js';

const NOW = new Date('2026-11-21T12:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
const config = makeConfig({ repos: ['acme/api'], trust: { labelers: 'write-access' } });
const ISSUE = { repo: 'acme/api', number: 7 };
const threadId = threadIdFor(ISSUE, 1);
const SELF = 'afk-bot';

describe('parseCommand', () => {
  it.each([
    ['/afk approve', { ok: true, verb: 'approve', text: '' }],
    ['  /AFK Deny, too risky', { ok: true, verb: 'deny', text: '' }],
    ['/afk stop', { ok: true, verb: 'stop', text: '' }],
    ['/afk answer use the staging db', { ok: true, verb: 'answer', text: 'use the staging db' }],
    [
      '/afk please rebase\nthen push',
      { ok: true, verb: 'message', text: 'please rebase\nthen push' },
    ],
    ['/afk answer', { ok: false, why: '`answer` needs the answer after it' }],
    ['/afk', { ok: false, why: 'the command is empty' }],
    ['/afk aprove', { ok: false, why: '`aprove` is not a command' }],
    ['/afkapprove', null],
    ['looks good /afk approve', null],
    ['\u200b/afk approve', null],
  ])('%j → %j', (body, expected) => {
    expect(parseCommand(body, '/afk')).toEqual(expected);
  });
});

const activity = (kind: string, payload: Record<string, unknown>, at = minutesAgo(12)) =>
  ({
    id: `a-${kind}-${at}`,
    tone: 'info',
    kind,
    summary: kind,
    payload,
    turnId: 'turn-1',
    createdAt: at,
  }) as T3Activity;
const approvalAsked = activity('approval.requested', { requestId: 'req-1', detail: 'rm -rf' });
const questionAsked = activity('user-input.requested', {
  requestId: 'req-2',
  questions: [
    { id: 'db', header: 'DB', question: 'Which database?', options: [] },
    { id: 'env', header: 'Env', question: 'Which env?', options: [] },
  ],
});
const blockedSaid = {
  id: 'm-1',
  role: 'assistant' as const,
  text: 'AFK-BLOCKED: which database?',
  turnId: 'turn-1',
  createdAt: minutesAgo(12),
};

const thread = (over: Partial<T3Thread> = {}): T3Thread =>
  makeThread({
    id: threadId,
    projectId: 'p',
    latestTurn: {
      turnId: 'turn-1',
      state: 'completed',
      requestedAt: minutesAgo(29),
      startedAt: minutesAgo(29),
      completedAt: minutesAgo(12),
    },
    session: { status: 'stopped', activeTurnId: null, lastError: null, updatedAt: minutesAgo(10) },
    messages: [],
    activities: [],
    updatedAt: minutesAgo(10),
    ...over,
  });
/** The provider holds the turn open while it waits on a request. */
const waiting = (activities: T3Activity[]) =>
  thread({
    latestTurn: {
      turnId: 'turn-1',
      state: 'running',
      requestedAt: minutesAgo(29),
      startedAt: minutesAgo(29),
      completedAt: null,
    },
    session: {
      status: 'running',
      activeTurnId: 'turn-1',
      lastError: null,
      updatedAt: minutesAgo(12),
    },
    activities,
  });

const escalated = (reason: string, over: Partial<RunRecord> = {}): RunRecord => ({
  v: 1,
  attempt: 1,
  threadId,
  dispatchedAt: minutesAgo(30),
  fixForwards: 0,
  outcome: 'escalated',
  reason,
  phases: { dispatched: minutesAgo(30) },
  history: [],
  doorbell: { reason, rungAt: minutesAgo(10) },
  endedAt: minutesAgo(10),
  ...over,
});
const live = (over: Partial<RunRecord> = {}): RunRecord => ({
  v: 1,
  attempt: 1,
  threadId,
  dispatchedAt: minutesAgo(30),
  fixForwards: 0,
  outcome: null,
  phases: { dispatched: minutesAgo(30) },
  history: [],
  ...over,
});

const comment = (id: number, author: string | null, body: string, at = minutesAgo(5)) => ({
  id,
  author,
  body,
  createdAt: at,
});

interface Case {
  record: RunRecord;
  thread: T3Thread;
  comments: IssueComment[];
  labels?: string[];
  permissions?: Record<string, Permission>;
  threadRead?: boolean;
}

function decide(c: Case): WatchStep {
  const afk = comment(100, SELF, renderChecklist(c.record), minutesAgo(30));
  const comments = [afk, ...c.comments];
  const issue = makeIssue({ ...ISSUE, labels: c.labels ?? ['ready-for-human'] });
  return watchRun({
    config,
    issue,
    afkComment: findAfkComment(comments, SELF),
    snapshot: snapshot({ threads: [c.thread] }),
    evidence: {
      permissions: c.permissions ?? { maintainer: 'write', reader: 'read' },
      ...(c.threadRead === true ? { thread: c.thread } : {}),
    },
    now: NOW,
    doorbell: true,
    comments,
    selfLogin: SELF,
  });
}

const plan = (step: WatchStep) => {
  if (step.kind !== 'plan') throw new Error(`expected a plan, got ${JSON.stringify(step)}`);
  return step;
};
const kinds = (actions: Action[]) => actions.map((a) => a.kind);
const byKind = <K extends Action['kind']>(actions: Action[], kind: K) =>
  actions.filter((a): a is Extract<Action, { kind: K }> => a.kind === kind);
const stepId = (id: number) => commandIdFor(threadId, `command-${id}`);

describe('an escalated run and a trusted human’s command', () => {
  it.each([
    ['approve', 'accept'],
    ['deny', 'decline'],
  ])(
    '/afk %s answers the pending approval and resumes the run, lock first, record last',
    (verb, decision) => {
      const step = plan(
        decide({
          record: escalated('needs-input: the agent waits for an approval (request req-1)', {
            awaiting: { kind: 'approval', requestId: 'req-1' },
          }),
          thread: waiting([approvalAsked]),
          comments: [comment(200, 'maintainer', `/afk ${verb}`)],
        }),
      );
      expect(kinds(step.actions)).toEqual([
        'addLabels',
        'respondToApproval',
        'react',
        'removeLabels',
        'upsertChecklist',
      ]);
      expect(byKind(step.actions, 'respondToApproval')[0]?.command).toEqual({
        commandId: stepId(200),
        threadId,
        requestId: 'req-1',
        decision,
      });
      expect(byKind(step.actions, 'addLabels')[0]?.labels).toEqual(['agent-in-progress']);
      expect(byKind(step.actions, 'removeLabels')[0]?.labels).toEqual(['ready-for-human']);
      expect(byKind(step.actions, 'react')[0]).toMatchObject({ commentId: 200, content: '+1' });
      expect(step.record).toMatchObject({
        outcome: null,
        commands: [{ commentId: 200, by: 'maintainer', verb, requestId: 'req-1' }],
        resumedFrom: [{ reason: expect.stringMatching(/^needs-input/) as unknown, commentId: 200 }],
      });
      expect(step.record.endedAt).toBeUndefined();
      expect(step.record.awaiting).toBeUndefined();
      expect(step.record.doorbell).toBeUndefined();
      expect(step.decision).toMatchObject({ kind: 'command', verb, commentId: 200 });
    },
  );

  it('/afk answer gives every question of the pending request the answer', () => {
    const step = plan(
      decide({
        record: escalated('needs-input: the agent waits for an answer (request req-2)', {
          awaiting: { kind: 'user-input', requestId: 'req-2' },
        }),
        thread: waiting([questionAsked]),
        comments: [comment(200, 'maintainer', '/afk answer postgres on staging')],
      }),
    );
    expect(byKind(step.actions, 'respondToUserInput')[0]?.command).toEqual({
      commandId: stepId(200),
      threadId,
      requestId: 'req-2',
      answers: { db: 'postgres on staging', env: 'postgres on staging' },
    });
  });

  it('/afk answer to an agent that said AFK-BLOCKED is a turn on the same thread, fenced', () => {
    const step = plan(
      decide({
        record: escalated('needs-input: the agent is blocked: which database?'),
        thread: thread({ messages: [blockedSaid] }),
        comments: [comment(200, 'maintainer', '/afk answer use ```postgres```')],
      }),
    );
    expect(kinds(step.actions)).toEqual([
      'addLabels',
      'startTurn',
      'react',
      'removeLabels',
      'upsertChecklist',
    ]);
    const turn = byKind(step.actions, 'startTurn')[0];
    expect(turn?.purpose).toBe('command');
    expect(turn?.command).toMatchObject({
      commandId: stepId(200),
      messageId: messageIdFor(threadId, 'command-200'),
      threadId,
    });
    expect(turn?.command.text).toContain('@maintainer');
    expect(turn?.command.text).toContain('````text\nuse ```postgres```\n````');
    expect(step.record.lastTurn).toEqual({
      at: NOW.toISOString(),
      purpose: 'command',
      after: 'turn-1',
    });
  });

  it.each([
    ['stalled: no progress for 90 minutes (the agent is working)'],
    ['fix-forward-exhausted: CI still fails on abc after 3 fix-forward(s): test'],
  ])('/afk <text> resumes a run that escalated %s', (reason) => {
    const step = plan(
      decide({
        record: escalated(reason),
        thread: thread(),
        comments: [comment(200, 'maintainer', '/afk try the other fixture')],
      }),
    );
    expect(kinds(step.actions)).toContain('startTurn');
    expect(step.record.outcome).toBeNull();
  });

  it('a resume whose command waits for a busy agent keeps the escalation; once sent, it finishes without resending', () => {
    const c = {
      record: escalated('stalled: no progress'),
      comments: [comment(200, 'maintainer', '/afk try the other fixture')],
      labels: ['agent-in-progress', 'ready-for-human'],
    };
    // Busy, and not with afk's message: the command waits, the escalation is finished as before.
    const busy = plan(decide({ ...c, thread: waiting([]) }));
    expect(busy.decision).toMatchObject({ kind: 'escalate', reason: 'stalled' });
    expect(kinds(busy.actions)).not.toContain('startTurn');
    expect(kinds(busy.actions)).not.toContain('reply');
    // A tick that died after sending the turn: T3 shows afk's message, running.
    const sent = {
      id: messageIdFor(threadId, 'command-200'),
      role: 'user' as const,
      text: 'x',
      turnId: 'turn-2',
      createdAt: minutesAgo(1),
    };
    const finished = plan(decide({ ...c, thread: { ...waiting([]), messages: [sent] } }));
    expect(kinds(finished.actions)).toEqual(['react', 'removeLabels', 'upsertChecklist']);
    expect(finished.record.lastTurn?.after).toBeNull();
  });

  it('a resume that died after answering the approval finishes without answering again', () => {
    const resolved = activity('approval.resolved', { requestId: 'req-1' }, minutesAgo(1));
    const step = plan(
      decide({
        record: escalated('needs-input: waits', {
          awaiting: { kind: 'approval', requestId: 'req-1' },
        }),
        thread: waiting([approvalAsked, resolved]),
        comments: [comment(200, 'maintainer', '/afk approve')],
        labels: ['agent-in-progress'],
      }),
    );
    expect(kinds(step.actions)).toEqual(['react', 'upsertChecklist']);
    expect(step.record.commands?.[0]).toMatchObject({ verb: 'approve', requestId: 'req-1' });
  });

  it('/afk stop stops the session, archives the thread and says who stopped it', () => {
    const record = escalated('needs-input: waits', {
      awaiting: { kind: 'approval', requestId: 'req-1' },
    });
    const step = plan(
      decide({
        record,
        thread: waiting([approvalAsked]),
        comments: [comment(200, 'maintainer', '/afk stop')],
      }),
    );
    expect(kinds(step.actions)).toEqual([
      'react',
      'stopSession',
      'archiveThread',
      'upsertChecklist',
    ]);
    expect(byKind(step.actions, 'stopSession')[0]?.command.commandId).toBe(
      commandIdFor(threadId, 'stop'),
    );
    expect(step.record).toMatchObject({
      outcome: 'cancelled',
      stoppedBy: { login: 'maintainer', commentId: 200 },
    });
    expect(renderChecklist(step.record)).toMatch(/^### afk: stopped by @maintainer \(attempt 1\)/);
  });

  it('/afk stop on a live run takes the lock off last, its claim released', () => {
    const step = plan(
      decide({
        record: live(),
        thread: waiting([]),
        comments: [comment(200, 'maintainer', '/afk stop')],
        labels: ['agent-in-progress'],
        threadRead: true,
      }),
    );
    expect(kinds(step.actions)).toEqual([
      'react',
      'stopSession',
      'archiveThread',
      'upsertChecklist',
      'removeLabels',
    ]);
    expect(byKind(step.actions, 'removeLabels')[0]).toMatchObject({
      labels: ['agent-in-progress'],
      release: { commentId: 100 },
    });
  });
});

describe('a command that cannot apply gets one reply and changes nothing', () => {
  const approval = escalated('needs-input: waits', {
    awaiting: { kind: 'approval', requestId: 'req-1' },
  });
  it.each<[string, Case, RegExp]>([
    [
      'a reader',
      {
        record: approval,
        thread: waiting([approvalAsked]),
        comments: [comment(200, 'reader', '/afk approve')],
      },
      /reader has read permission; write is required/,
    ],
    [
      'a bot',
      {
        record: approval,
        thread: waiting([approvalAsked]),
        comments: [comment(200, 'ci[bot]', '/afk approve')],
      },
      /ci\[bot\] is a bot/,
    ],
    [
      'a deleted user',
      {
        record: approval,
        thread: waiting([approvalAsked]),
        comments: [comment(200, null, '/afk approve')],
      },
      /the author is unknown/,
    ],
    [
      'no pending approval',
      {
        record: escalated('needs-input: the agent is blocked: x'),
        thread: thread({ messages: [blockedSaid] }),
        comments: [comment(200, 'maintainer', '/afk approve')],
      },
      /not waiting for an approval/,
    ],
    [
      'a message while an approval waits',
      {
        record: approval,
        thread: waiting([approvalAsked]),
        comments: [comment(200, 'maintainer', '/afk go on please')],
      },
      /waits for an approval/,
    ],
    [
      'an escalation a command cannot resume',
      {
        record: escalated('ci-timeout: CI pending on abc for over 60 minutes'),
        thread: thread(),
        comments: [comment(200, 'maintainer', '/afk go on please')],
      },
      /escalated `ci-timeout`, which a command cannot resume/,
    ],
    [
      'an archived thread',
      {
        record: escalated('stalled: no progress'),
        thread: thread({ archived: true }),
        comments: [comment(200, 'maintainer', '/afk go on please')],
      },
      /thread .* is gone from T3/,
    ],
    [
      'an unknown verb',
      {
        record: approval,
        thread: waiting([approvalAsked]),
        comments: [comment(200, 'maintainer', '/afk aprove')],
      },
      /`aprove` is not a command/,
    ],
  ])('%s', (_name, c, why) => {
    const step = plan(decide(c));
    expect(kinds(step.actions)).toEqual(['reply']);
    const reply = byKind(step.actions, 'reply')[0];
    expect(reply?.key).toBe('200');
    expect(reply?.body).toMatch(why);
    expect(reply?.body).toContain(replyMarker('200'));
    expect(reply?.body.split('\n')).toHaveLength(1);
    expect(step.record).toEqual(c.record);
  });

  it('asks for the author’s permission before judging them', () => {
    const step = decide({
      record: escalated('stalled: x'),
      thread: thread(),
      comments: [comment(200, 'newcomer', '/afk go on please')],
      permissions: {},
    });
    expect(step).toEqual({ kind: 'read', read: { kind: 'permission', login: 'newcomer' } });
  });
});

describe('only new commands count', () => {
  const record = escalated('stalled: no progress', {
    commands: [
      { commentId: 150, by: 'maintainer', verb: 'message', at: minutesAgo(20), did: 'sent' },
    ],
  });
  it.each<[string, IssueComment[]]>([
    [
      'one older than the escalation',
      [comment(200, 'maintainer', '/afk go on please', minutesAgo(11))],
    ],
    [
      'one at or before the last command acted on',
      [comment(150, 'maintainer', '/afk go on please')],
    ],
    [
      'one afk already replied to',
      [
        comment(200, 'reader', '/afk go on please'),
        comment(201, SELF, `afk did not act. ${replyMarker('200')}`),
      ],
    ],
    ['a comment that is not a command', [comment(200, 'maintainer', 'thanks /afk')]],
  ])('ignores %s: an escalated run without the lock stays as it is', (_name, comments) => {
    const step = plan(decide({ record, thread: thread(), comments }));
    expect(step.actions).toEqual([]);
    expect(step.decision).toEqual({ kind: 'wait', why: 'escalated: waits for a human' });
  });
});

describe('pendingCommands', () => {
  const options = { prefix: '/afk', selfLogin: SELF };
  it.each<[string, string, boolean]>([
    ['in the second of the escalation, stamped in whole seconds', '2026-12-06T12:00:00Z', true],
    ['after the escalation', '2026-12-06T12:00:01Z', true],
    ['in the second before it', '2026-12-06T11:59:59Z', false],
  ])('counts a command %s: %s', (_name, at, counts) => {
    const record = escalated('stalled: x', { endedAt: '2026-12-06T12:00:00.900Z' });
    const found = pendingCommands([comment(200, 'maintainer', '/afk go on', at)], record, options);
    expect(found.map((c) => c.comment.id)).toEqual(counts ? [200] : []);
  });
});

describe('a live run', () => {
  const idle = thread({
    session: { status: 'ready', activeTurnId: null, lastError: null, updatedAt: minutesAgo(10) },
  });
  it('waits for the agent’s turn to end before sending a command as a turn, and says so', () => {
    const step = plan(
      decide({
        record: live({ lastTurn: { at: minutesAgo(25), purpose: 'first-turn', after: null } }),
        thread: waiting([]),
        comments: [comment(200, 'maintainer', '/afk also update the docs')],
        labels: ['agent-in-progress'],
        threadRead: true,
      }),
    );
    expect(step.decision).toEqual({
      kind: 'wait',
      why: "`/afk` from @maintainer waits for the agent's turn to end",
    });
    expect(kinds(step.actions)).toEqual(['upsertChecklist']);
    expect(kinds(step.actions)).not.toContain('startTurn');
  });

  it('sends it as a turn once idle: the turn, the reaction, then the record', () => {
    const step = plan(
      decide({
        record: live(),
        thread: idle,
        comments: [comment(200, 'maintainer', '/afk also update the docs')],
        labels: ['agent-in-progress'],
        threadRead: true,
      }),
    );
    expect(kinds(step.actions)).toEqual(['startTurn', 'react', 'upsertChecklist']);
    expect(step.record.commands).toEqual([
      {
        commentId: 200,
        by: 'maintainer',
        verb: 'message',
        at: NOW.toISOString(),
        did: 'sent to the agent as a turn',
      },
    ]);
    expect(renderChecklist(step.record)).toContain('- @maintainer: `message` (comment 200');
  });

  it('says an answer T3 could not deliver, on the checklist and the issue, and escalates again', () => {
    const failed = activity(
      'provider.approval.respond.failed',
      { requestId: 'req-1', detail: 'No active provider session is bound to this thread.' },
      minutesAgo(1),
    );
    const record = live({
      commands: [
        {
          commentId: 200,
          by: 'maintainer',
          verb: 'approve',
          at: minutesAgo(2),
          did: 'approved request req-1',
          requestId: 'req-1',
        },
      ],
    });
    const step = plan(
      decide({
        record,
        thread: thread({ activities: [approvalAsked, failed] }),
        comments: [comment(200, 'maintainer', '/afk approve', minutesAgo(3))],
        labels: ['agent-in-progress'],
        threadRead: true,
      }),
    );
    expect(step.decision).toMatchObject({ kind: 'escalate', reason: 'needs-input' });
    expect(kinds(step.actions)[0]).toBe('reply');
    expect(byKind(step.actions, 'reply')[0]?.body).toMatch(
      /could not deliver the answer of comment 200/,
    );
    expect(step.record.commands?.[0]).toMatchObject({ delivered: false });
    expect(step.record.commands?.[0]?.did).toMatch(
      /T3 could not deliver it: No active provider session/,
    );
    // It waits on the request again, so its session is kept.
    expect(step.record.awaiting).toEqual({ kind: 'approval', requestId: 'req-1' });
  });

  it('escalates needs-input on a pending request without stopping the session', () => {
    const step = plan(
      decide({
        record: live(),
        thread: waiting([approvalAsked]),
        comments: [],
        labels: ['agent-in-progress'],
        threadRead: true,
      }),
    );
    expect(step.decision).toMatchObject({ kind: 'escalate', reason: 'needs-input' });
    expect(step.record.awaiting).toEqual({ kind: 'approval', requestId: 'req-1' });
    expect(kinds(step.actions)).not.toContain('stopSession');
  });
});
