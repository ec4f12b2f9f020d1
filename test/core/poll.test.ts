import { describe, expect, it } from 'vitest';
import {
  commandIdFor,
  findAfkComment,
  messageIdFor,
  parseChecklist,
  planDispatch,
  planLabelRepairs,
  projectIdFor,
  renderChecklist,
  threadIdFor,
  type Action,
  type RunRecord,
  type SessionStatus,
  type T3Session,
  type T3Snapshot,
} from '../../src/core/index.js';
import { config, issue, snapshot, thread } from '../support/fixtures.js';

const now = new Date('2026-11-21T08:00:00.000Z');
const cfg = config();
const target = issue({
  repo: 'acme/api',
  number: 42,
  title: 'Fix login',
  labels: ['ready-for-agent', 'P1'],
});
const projectId = projectIdFor('acme/api');
const thread1 = threadIdFor(target, 1);
const project = {
  id: projectId,
  title: 'acme/api',
  workspaceRoot: '/data/acme__api',
  deleted: false,
};

const kinds = (actions: Action[]) => actions.map((a) => a.kind);
const comment = (record: RunRecord, author = 'afk-bot') =>
  findAfkComment(
    [{ id: 77, author, body: renderChecklist(record), createdAt: now.toISOString() }],
    'afk-bot',
  );
const liveRecord = (attempt = 1): RunRecord => ({
  v: 1,
  attempt,
  threadId: threadIdFor(target, attempt),
  dispatchedAt: '2026-11-21T07:00:00.000Z',
  fixForwards: 0,
  outcome: null,
  phases: { dispatched: '2026-11-21T07:00:00.000Z' },
  history: [],
});
const session = (status: SessionStatus): T3Session => ({
  status,
  activeTurnId: null,
  lastError: null,
  updatedAt: now.toISOString(),
});
const plan = (
  overrides: {
    snapshot?: T3Snapshot;
    afkComment?: ReturnType<typeof comment>;
    labels?: string[];
  } = {},
) =>
  planDispatch({
    config: cfg,
    issue: overrides.labels === undefined ? target : { ...target, labels: overrides.labels },
    afkComment: overrides.afkComment ?? null,
    snapshot: overrides.snapshot ?? snapshot(),
    now,
  });

describe('planDispatch', () => {
  it('plans a whole dispatch in order when nothing exists yet', () => {
    const result = plan();
    if (!result.ok) throw new Error(result.reason);
    expect(result.attempt).toBe(1);
    expect(kinds(result.actions)).toEqual([
      'ensureProject',
      'createThread',
      'startTurn',
      'upsertChecklist',
      'addLabels',
      'removeLabels',
    ]);
    expect(result.actions[0]).toEqual({
      kind: 'ensureProject',
      issue: { repo: 'acme/api', number: 42 },
      command: {
        commandId: commandIdFor(projectId, 'create'),
        projectId,
        title: 'acme/api',
        workspaceRoot: '/data/acme__api',
        defaultModelSelection: { instanceId: 'claudeAgent', model: 'claude-sonnet-4-6' },
      },
    });
    expect(result.actions[1]).toEqual({
      kind: 'createThread',
      issue: { repo: 'acme/api', number: 42 },
      command: {
        commandId: commandIdFor(thread1, 'create'),
        threadId: thread1,
        projectId,
        title: 'acme/api#42: Fix login',
        modelSelection: { instanceId: 'claudeAgent', model: 'claude-sonnet-4-6' },
        runtimeMode: 'full-access',
        interactionMode: 'default',
        branch: 'afk/issue-42',
      },
    });
    expect(result.actions[2]).toMatchObject({
      kind: 'startTurn',
      purpose: 'first-turn',
      command: {
        commandId: commandIdFor(thread1, 'turn-1'),
        messageId: messageIdFor(thread1, 'turn-1'),
        threadId: thread1,
      },
    });
    const checklist = result.actions[3];
    expect(checklist).toMatchObject({ kind: 'upsertChecklist', commentId: null, previous: null });
    expect(checklist?.kind === 'upsertChecklist' && parseChecklist(checklist.body)).toEqual({
      ok: true,
      record: {
        v: 1,
        attempt: 1,
        threadId: thread1,
        dispatchedAt: now.toISOString(),
        fixForwards: 0,
        outcome: null,
        phases: { dispatched: now.toISOString() },
        history: [],
      },
    });
    expect(result.actions.slice(4)).toEqual([
      { kind: 'addLabels', issue: { repo: 'acme/api', number: 42 }, labels: ['agent-in-progress'] },
      {
        kind: 'removeLabels',
        issue: { repo: 'acme/api', number: 42 },
        labels: ['ready-for-agent'],
      },
    ]);
  });

  // A tick that died after each step: the next plan does only what is missing.
  it.each([
    [
      'the project',
      { snapshot: snapshot({ projects: [project] }) },
      ['createThread', 'startTurn', 'upsertChecklist', 'addLabels', 'removeLabels'],
    ],
    [
      'the thread (turn not yet visible: resent, T3 drops the repeat)',
      {
        snapshot: snapshot({ projects: [project], threads: [thread({ id: thread1, projectId })] }),
      },
      ['startTurn', 'upsertChecklist', 'addLabels', 'removeLabels'],
    ],
    [
      'the turn',
      {
        snapshot: snapshot({
          projects: [project],
          threads: [
            thread({
              id: thread1,
              projectId,
              session: { status: 'running', activeTurnId: 't', lastError: null, updatedAt: null },
            }),
          ],
        }),
      },
      ['upsertChecklist', 'addLabels', 'removeLabels'],
    ],
    [
      'the comment',
      {
        snapshot: snapshot({
          projects: [project],
          threads: [
            thread({
              id: thread1,
              projectId,
              messages: [{ id: 'm', role: 'user', text: 'x', turnId: null, createdAt: '' }],
            }),
          ],
        }),
        afkComment: comment(liveRecord()),
      },
      ['addLabels', 'removeLabels'],
    ],
    [
      'the lock label',
      {
        snapshot: snapshot({
          projects: [project],
          threads: [
            thread({
              id: thread1,
              projectId,
              session: { status: 'ready', activeTurnId: null, lastError: null, updatedAt: null },
            }),
          ],
        }),
        afkComment: comment(liveRecord()),
        labels: ['ready-for-agent', 'agent-in-progress'],
      },
      ['removeLabels'],
    ],
  ])('after a tick that died after %s, plans only the rest', (_name, overrides, expected) => {
    const result = plan(overrides);
    expect(result.ok && kinds(result.actions)).toEqual(expected);
    expect(result.ok && result.threadId).toBe(thread1);
  });

  it('keeps the live record it resumes', () => {
    const result = plan({
      snapshot: snapshot({ projects: [project], threads: [thread({ id: thread1, projectId })] }),
      afkComment: comment(liveRecord()),
    });
    expect(result.ok && result.actions.some((a) => a.kind === 'upsertChecklist')).toBe(false);
  });

  it('starts the next attempt with a new thread after an escalation, keeping history', () => {
    const ended: RunRecord = { ...liveRecord(1), outcome: 'escalated', reason: 'stalled' };
    const result = plan({
      snapshot: snapshot({
        projects: [project],
        threads: [thread({ id: thread1, projectId, archived: true })],
      }),
      afkComment: comment(ended),
    });
    if (!result.ok) throw new Error(result.reason);
    expect(result.attempt).toBe(2);
    expect(result.threadId).toBe(threadIdFor(target, 2));
    const upsert = result.actions.find((a) => a.kind === 'upsertChecklist');
    // The body it was decided from travels with the write: a tick that overlaps another
    // must not overwrite a comment that moved on (docs/concurrency.md).
    expect(upsert).toMatchObject({ commentId: 77, previous: renderChecklist(ended) });
    const parsed = upsert?.kind === 'upsertChecklist' ? parseChecklist(upsert.body) : null;
    expect(parsed?.ok && parsed.record).toMatchObject({
      attempt: 2,
      history: [{ attempt: 1, threadId: thread1, outcome: 'escalated', reason: 'stalled' }],
    });
    expect(upsert?.kind === 'upsertChecklist' && upsert.body).toContain(
      '### afk: working on it (attempt 2)',
    );
  });

  describe('after a run that escalated with its session kept, re-queued', () => {
    const waiting: RunRecord = {
      ...liveRecord(1),
      outcome: 'escalated',
      reason: 'needs-input: the agent waits for an approval (request r-1)',
      endedAt: '2026-11-21T07:30:00.000Z',
      awaiting: { kind: 'approval', requestId: 'r-1' },
    };
    const { awaiting: _awaiting, ...stopped } = waiting;
    const resumed: RunRecord = {
      ...waiting,
      resumedFrom: [{ reason: 'stalled', commentId: 5 }],
    };
    const ref = { repo: 'acme/api', number: 42 };
    const stop = (step: string) => ({
      kind: 'stopSession',
      issue: ref,
      command: { commandId: commandIdFor(thread1, step), threadId: thread1 },
    });
    const archive = (step: string) => ({
      kind: 'archiveThread',
      issue: ref,
      command: { commandId: commandIdFor(thread1, step), threadId: thread1 },
    });
    it.each([
      [
        'waiting, its session running',
        waiting,
        'running',
        false,
        [stop('stop'), archive('archive')],
      ],
      ['waiting, its session ready', waiting, 'ready', false, [stop('stop'), archive('archive')]],
      // A tick that died after the stop: the record still says the session was kept.
      ['waiting, stopped by a tick that died', waiting, 'stopped', false, [archive('archive')]],
      ['waiting, stopped and archived', waiting, 'stopped', true, []],
      // An escalation that stopped its session, as every other one does: left as it is.
      ['not waiting, stopped', stopped, 'stopped', false, []],
      [
        'not waiting, but its session live',
        stopped,
        'running',
        false,
        [stop('stop'), archive('archive')],
      ],
      // T3 dropped the first `stop` id when the run was resumed: a new one stops it again.
      [
        'resumed once, waiting again',
        resumed,
        'running',
        false,
        [stop('stop-after-resume-1'), archive('archive-after-resume-1')],
      ],
    ] as const)(
      'previous attempt %s: puts its thread away first',
      (_name, previous, status, archived, expected) => {
        const result = plan({
          afkComment: comment(previous),
          snapshot: snapshot({
            projects: [project],
            threads: [thread({ id: thread1, projectId, archived, session: session(status) })],
          }),
        });
        if (!result.ok) throw new Error(result.reason);
        expect(result.attempt).toBe(2);
        expect(result.actions.slice(0, expected.length)).toEqual(expected);
        expect(kinds(result.actions).slice(expected.length)).toEqual([
          'createThread',
          'startTurn',
          'upsertChecklist',
          'addLabels',
          'removeLabels',
        ]);
      },
    );

    it('plans nothing for a previous thread T3 no longer has', () => {
      const result = plan({
        afkComment: comment(waiting),
        snapshot: snapshot({ projects: [project] }),
      });
      expect(result.ok && kinds(result.actions)).toEqual([
        'createThread',
        'startTurn',
        'upsertChecklist',
        'addLabels',
        'removeLabels',
      ]);
    });
  });

  it('deletes the duplicate afk comments two overlapping ticks left, first', () => {
    const body = renderChecklist(liveRecord());
    const comments = [88, 77, 99].map((id) => ({
      id,
      author: 'afk-bot',
      body,
      createdAt: now.toISOString(),
    }));
    const result = plan({
      snapshot: snapshot({ projects: [project], threads: [thread({ id: thread1, projectId })] }),
      afkComment: findAfkComment(comments, 'afk-bot'),
    });
    expect(result.ok && result.actions.slice(0, 2)).toEqual([
      { kind: 'deleteComment', issue: { repo: 'acme/api', number: 42 }, commentId: 88 },
      { kind: 'deleteComment', issue: { repo: 'acme/api', number: 42 }, commentId: 99 },
    ]);
  });

  it('skips past an attempt whose thread a human archived, even with no record', () => {
    const result = plan({
      snapshot: snapshot({
        projects: [project],
        threads: [thread({ id: thread1, projectId, archived: true })],
      }),
    });
    expect(result.ok && result.attempt).toBe(2);
  });

  it.each([
    ['stopped', 2],
    ['ready', 1],
    ['running', 1],
  ] as const)(
    'without a record, treats a thread whose session is %s as attempt %i’s',
    (status, expected) => {
      const result = plan({
        snapshot: snapshot({
          projects: [project],
          threads: [thread({ id: thread1, projectId, session: session(status) })],
        }),
      });
      expect(result.ok && result.attempt).toBe(expected);
    },
  );

  it('with a live record, resumes its attempt even when the session stopped', () => {
    const result = plan({
      afkComment: comment(liveRecord(1)),
      snapshot: snapshot({
        projects: [project],
        threads: [thread({ id: thread1, projectId, session: session('stopped') })],
      }),
    });
    expect(result.ok && result.attempt).toBe(1);
  });

  it('adopts a live project an operator made for the same checkout', () => {
    const handmade = {
      id: 'p-hand',
      title: 'api',
      workspaceRoot: '/data/acme__api',
      deleted: false,
    };
    const result = plan({ snapshot: snapshot({ projects: [handmade] }) });
    expect(result.ok && result.actions[0]).toMatchObject({
      kind: 'createThread',
      command: { projectId: 'p-hand' },
    });
  });

  it('refuses when its project was deleted in T3, rather than fail at every step', () => {
    const result = plan({ snapshot: snapshot({ projects: [{ ...project, deleted: true }] }) });
    expect(result).toEqual({
      ok: false,
      reason: `T3 project ${projectId} for acme/api was deleted; create a project at /data/acme__api in T3`,
    });
  });

  it('gives trunk-mode threads no branch and picks the model from a label', () => {
    const result = planDispatch({
      config: config({
        delivery: { mode: 'trunk' },
        t3: { modelLabels: { 'model:opus': 'claude-opus-4-7' } },
      }),
      issue: { ...target, labels: ['ready-for-agent', 'model:opus'] },
      afkComment: null,
      snapshot: snapshot({ projects: [project] }),
      now,
    });
    expect(result.ok && result.actions[0]).toMatchObject({
      kind: 'createThread',
      command: {
        branch: null,
        modelSelection: { instanceId: 'claudeAgent', model: 'claude-opus-4-7' },
      },
    });
  });
});

describe('planLabelRepairs', () => {
  it('takes the ready label off an open issue a run already owns, and leaves closed ones to watch', () => {
    const halfSwapped = issue({
      repo: 'acme/api',
      number: 5,
      labels: ['agent-in-progress', 'ready-for-agent'],
    });
    const clean = issue({ repo: 'acme/api', number: 6, labels: ['agent-in-progress'] });
    const closed = issue({
      repo: 'acme/api',
      number: 7,
      state: 'closed',
      labels: ['agent-in-progress', 'ready-for-agent'],
    });
    expect(planLabelRepairs(cfg, [halfSwapped, clean, closed])).toEqual([
      { kind: 'removeLabels', issue: { repo: 'acme/api', number: 5 }, labels: ['ready-for-agent'] },
    ]);
  });
});
