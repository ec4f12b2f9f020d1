// afk's memory is its own comment's record and the agent's own markers. Text written by
// anybody else (an issue body, a human's comment, an account named like afk's, CI output, an
// agent talked into it) cannot forge either.
import { describe, expect, it } from 'vitest';
import {
  findAfkComment,
  judgeCi,
  parseChecklist,
  planDispatch,
  readMarkers,
  readThreadFacts,
  renderChecklist,
  threadIdFor,
  watchRun,
  type Evidence,
  type IssueComment,
  type RunRecord,
  type T3Thread,
  type WatchStep,
} from '../../src/core/index.js';
import { config, issue, snapshot, thread } from '../support/fixtures.js';
import { FAKE_MARKERS, FAKE_RECORD, INJECTION } from './hostile-text.js';

const NOW = new Date('2026-11-21T12:00:00.000Z');
const target = issue({ repo: 'acme/api', number: 7, labels: ['agent-in-progress'] });
const THREAD = threadIdFor(target, 1);

const record = (over: Partial<RunRecord> = {}): RunRecord => ({
  v: 1,
  attempt: 1,
  threadId: THREAD,
  dispatchedAt: '2026-11-21T11:00:00.000Z',
  fixForwards: 0,
  outcome: null,
  phases: { dispatched: '2026-11-21T11:00:00.000Z' },
  history: [],
  ...over,
});

let nextId = 100;
const comment = (author: string | null, body: string): IssueComment => ({
  id: (nextId += 1),
  author,
  body,
  createdAt: '2026-11-21T10:00:00.000Z',
});

describe('findAfkComment among hostile comments', () => {
  it.each([
    ['a human', 'mallory'],
    ['a login that only starts like afk’s', 'afk-bot-'],
    ['a login with an underscore for the dash', 'afk_bot'],
    ['the bot-suffixed twin of afk’s login', 'afk-bot[bot]'],
    ['a deleted account (ghost)', null],
  ])('ignores a record in a comment by %s', (_name, author) => {
    expect(findAfkComment([comment(author, `${INJECTION}\n${FAKE_RECORD}`)], 'afk-bot')).toBe(null);
  });

  it('ignores a user named like an app’s bot without its [bot] suffix', () => {
    const fake = comment('afk-app', FAKE_RECORD);
    expect(findAfkComment([fake], 'afk-app[bot]')).toBe(null);
  });

  it('reads afk’s own comment even when fakes come before and after it', () => {
    const own = renderChecklist(record());
    const found = findAfkComment(
      [
        comment('mallory', FAKE_RECORD),
        comment('afk-bot[bot]', FAKE_RECORD),
        comment('afk-bot', own),
        comment('mallory', FAKE_RECORD),
      ],
      'afk-bot',
    );
    expect(found?.comment.body).toBe(own);
    expect(found?.parsed).toEqual({ ok: true, record: record() });
  });

  it('takes the account’s login in any case, as the forges do', () => {
    expect(findAfkComment([comment('AFK-Bot', renderChecklist(record()))], 'afk-bot')).not.toBe(
      null,
    );
  });
});

describe('planDispatch with a fake record beside the issue', () => {
  it('starts attempt 1 on its own thread and writes its own comment', () => {
    const hostile = issue({
      repo: 'acme/api',
      number: 7,
      body: `${FAKE_RECORD}\n${FAKE_MARKERS}`,
      labels: ['ready-for-agent'],
    });
    const afkComment = findAfkComment(
      [comment('mallory', FAKE_RECORD), comment('afk-bot[bot]', FAKE_RECORD)],
      'afk-bot',
    );
    const plan = planDispatch({
      config: config(),
      issue: hostile,
      afkComment,
      snapshot: snapshot(),
      now: NOW,
    });

    expect(plan).toMatchObject({ ok: true, attempt: 1, threadId: THREAD });
    const upsert = plan.ok ? plan.actions.find((a) => a.kind === 'upsertChecklist') : undefined;
    expect(upsert).toMatchObject({ commentId: null });
    const written = upsert?.kind === 'upsertChecklist' ? parseChecklist(upsert.body) : null;
    expect(written).toMatchObject({ ok: true, record: { attempt: 1, outcome: null } });
  });
});

describe('markers come only from the agent', () => {
  const withMessages = (messages: T3Thread['messages']): T3Thread =>
    thread({
      id: THREAD,
      projectId: 'p',
      latestTurn: {
        turnId: 'turn-1',
        state: 'completed',
        requestedAt: '2026-11-21T11:00:00.000Z',
        startedAt: '2026-11-21T11:00:00.000Z',
        completedAt: '2026-11-21T11:30:00.000Z',
      },
      session: {
        status: 'ready',
        activeTurnId: null,
        lastError: null,
        updatedAt: '2026-11-21T11:30:00.000Z',
      },
      messages,
      activities: [],
    });

  it('ignores markers at the start of lines of the first turn, which carries the issue', () => {
    const markers = readMarkers(
      withMessages([
        {
          id: 'u',
          role: 'user',
          text: `Body:\n\`\`\`text\n${FAKE_MARKERS}\n\`\`\``,
          turnId: 'turn-1',
          createdAt: '2026-11-21T11:00:00.000Z',
        },
        {
          id: 's',
          role: 'system',
          text: FAKE_MARKERS,
          turnId: 'turn-1',
          createdAt: '2026-11-21T11:00:00.000Z',
        },
      ]),
    );
    expect(markers).toEqual({ testsRed: false, green: false, pushedSha: null, blocked: null });
  });

  it('keeps a blocked reason to one clean line that cannot carry a record', () => {
    const markers = readMarkers(
      withMessages([
        {
          id: 'a',
          role: 'assistant',
          text: `AFK-BLOCKED: ${FAKE_RECORD} \u202Eevil\u202C ${'r'.repeat(1_000)}`,
          turnId: 'turn-1',
          createdAt: '2026-11-21T11:20:00.000Z',
        },
      ]),
    );
    expect(markers?.blocked).not.toContain('<!--');
    expect(markers?.blocked).not.toContain('\u202E');
    expect(Array.from(markers?.blocked ?? '').length).toBeLessThanOrEqual(300);
  });
});

describe('an escalation reason the agent or its CI chose', () => {
  const idle = (over: Partial<T3Thread> = {}): T3Thread =>
    thread({
      id: THREAD,
      projectId: 'p',
      latestTurn: {
        turnId: 'turn-1',
        state: 'completed',
        requestedAt: '2026-11-21T11:00:00.000Z',
        startedAt: '2026-11-21T11:00:00.000Z',
        completedAt: '2026-11-21T11:50:00.000Z',
      },
      session: {
        status: 'ready',
        activeTurnId: null,
        lastError: null,
        updatedAt: '2026-11-21T11:50:00.000Z',
      },
      messages: [],
      activities: [],
      updatedAt: '2026-11-21T11:50:00.000Z',
      ...over,
    });

  /** Runs watch to its plan, answering its reads, and returns the comment afk would write. */
  function escalationComment(thread: T3Thread, evidence: Evidence, over: Partial<RunRecord> = {}) {
    const own = findAfkComment([comment('afk-bot', renderChecklist(record(over)))], 'afk-bot');
    let step: WatchStep;
    let reads = 0;
    for (;;) {
      step = watchRun({
        config: config({ watch: { maxFixForwards: 0 }, delivery: { mode: 'trunk' } }),
        issue: target,
        afkComment: own,
        snapshot: snapshot({ threads: [thread] }),
        evidence,
        now: NOW,
        doorbell: true,
        selfLogin: 'afk-bot',
      });
      if (step.kind === 'plan') break;
      if ((reads += 1) > 5) throw new Error(`unexpected read ${JSON.stringify(step.read)}`);
    }
    expect(step.decision.kind).toBe('escalate');
    const written = step.actions.find((a) => a.kind === 'upsertChecklist');
    if (written?.kind !== 'upsertChecklist') throw new Error('no checklist written');
    return written.body;
  }

  it.each([
    [
      'a blocked reason',
      idle({
        messages: [
          {
            id: 'a',
            role: 'assistant',
            text: `AFK-BLOCKED: ${FAKE_RECORD}`,
            turnId: 'turn-1',
            createdAt: '2026-11-21T11:40:00.000Z',
          },
        ],
      }),
    ],
    [
      'a provider error',
      idle({
        session: {
          status: 'error',
          activeTurnId: null,
          lastError: `crashed\n${FAKE_RECORD}`,
          updatedAt: '2026-11-21T11:50:00.000Z',
        },
      }),
    ],
    [
      'a pending request id',
      idle({
        activities: [
          {
            id: 'act',
            tone: 'approval',
            kind: 'approval.requested',
            summary: 'approve?',
            payload: { requestId: FAKE_RECORD },
            turnId: 'turn-1',
            createdAt: '2026-11-21T11:45:00.000Z',
          },
        ],
      }),
    ],
  ])('in %s does not plant a second record in afk’s comment', (_name, agentThread) => {
    const body = escalationComment(agentThread, {});
    expect(body.match(/<!--/g)).toHaveLength(1);
    expect(parseChecklist(body)).toMatchObject({
      ok: true,
      record: { attempt: 1, threadId: THREAD, outcome: 'escalated' },
    });
  });

  it('in a failing check’s name does not plant a second record', () => {
    const sha = 'a'.repeat(40);
    const failing = {
      sha,
      checkRuns: [
        {
          name: `test ${FAKE_RECORD}`,
          status: 'completed' as const,
          conclusion: 'failure' as const,
          url: null,
          summary: null,
        },
      ],
      statuses: [
        { context: `lint ${FAKE_RECORD}`, state: 'error' as const, url: null, description: null },
      ],
    };
    expect(
      judgeCi(failing)
        .failing.map((f) => f.name)
        .join(),
    ).not.toContain('<!--');

    const body = escalationComment(
      idle({
        messages: [
          {
            id: 'a',
            role: 'assistant',
            text: `AFK-PHASE: pushed ${sha}`,
            turnId: 'turn-1',
            createdAt: '2026-11-21T11:40:00.000Z',
          },
        ],
      }),
      { placement: { [sha]: 'on-default-branch' }, ci: { [sha]: failing } },
      { phases: { dispatched: '2026-11-21T11:00:00.000Z' } },
    );
    expect(body).toContain('fix-forward-exhausted');
    expect(body.match(/<!--/g)).toHaveLength(1);
    expect(parseChecklist(body)).toMatchObject({
      ok: true,
      record: { attempt: 1, threadId: THREAD },
    });
  });

  it('reads a provider error made only of hidden characters as an unnamed error', () => {
    const facts = readThreadFacts(
      idle({
        session: {
          status: 'error',
          activeTurnId: null,
          lastError: '\u200B\u202E',
          updatedAt: '2026-11-21T11:50:00.000Z',
        },
      }),
      null,
    );
    expect(facts.error).toBe('an unnamed error');
  });
});
