import { describe, expect, it } from 'vitest';
import {
  describeEscalation,
  describeLiveRun,
  describeQueue,
  formatAge,
  furthestPhase,
  newestEscalations,
  renderStatus,
  renderTable,
  type AfkComment,
  type RunRecord,
} from '../../src/core/index.js';
import { config, issue } from '../support/fixtures.js';

const record = (overrides: Partial<RunRecord> = {}): RunRecord => ({
  v: 1,
  attempt: 1,
  threadId: 'thread-1',
  dispatchedAt: '2026-11-01T10:00:00Z',
  fixForwards: 0,
  outcome: null,
  phases: {},
  history: [],
  ...overrides,
});
const comment = (r: RunRecord): AfkComment => ({
  comment: { id: 1, author: 'afk-bot', body: '', createdAt: '2026-11-01T10:00:00Z' },
  parsed: { ok: true, record: r },
});

describe('furthestPhase', () => {
  it.each([
    [{}, null],
    [{ dispatched: '2026-11-01T10:00:00Z' }, 'dispatched'],
    [{ dispatched: '2026-11-01T10:00:00Z', green: '2026-11-01T11:00:00Z' }, 'green'],
    [{ ci: '2026-11-01T12:00:00Z', pushed: '2026-11-01T11:00:00Z' }, 'ci'],
  ] as const)('reads %j as %s', (phases, expected) => {
    expect(furthestPhase(record({ phases }))).toBe(expected);
  });
});

describe('formatAge', () => {
  it.each([
    [null, '-'],
    [0, '0m'],
    [59, '59m'],
    [125, '2h 05m'],
    [60 * 24 * 3 + 60 * 4 + 7, '3d 4h'],
  ])('shows %s minutes as %s', (minutes, shown) => {
    expect(formatAge(minutes)).toBe(shown);
  });
});

describe('describeQueue', () => {
  it('orders the queue as poll takes it and gives every entry its wait, with no trust lookup', () => {
    const running = issue({ repo: 'acme/api', number: 1, labels: ['agent-in-progress'] });
    const busy = issue({ repo: 'acme/api', number: 2, labels: ['ready-for-agent', 'P0'] });
    const next = issue({ repo: 'acme/web', number: 3, labels: ['ready-for-agent', 'P1'] });
    const capped = issue({ repo: 'acme/web', number: 4, labels: ['ready-for-agent'] });
    const human = issue({
      repo: 'acme/web',
      number: 5,
      labels: ['ready-for-agent', 'ready-for-human', 'P0'],
    });

    const queue = describeQueue({
      config: config(),
      ready: [human, capped, next, busy],
      inProgress: [running],
    });

    expect(queue.map((e) => [e.position, e.issue, e.priority, e.waits])).toEqual([
      [1, 'acme/api#2', 'P0', 'repo-busy'],
      [2, 'acme/web#3', 'P1', 'next'],
      [3, 'acme/web#4', null, 'tick-cap'],
      [4, 'acme/web#5', 'P0', 'needs-human'],
    ]);
    expect(queue[1]?.detail).toBe('would dispatch next (labeler checked at dispatch)');
  });

  it('says plainly "would dispatch next" when any labeler is trusted', () => {
    const queue = describeQueue({
      config: config({ trust: { labelers: 'any' } }),
      ready: [issue()],
      inProgress: [],
    });

    expect(queue[0]?.detail).toBe('would dispatch next');
  });
});

describe('describeEscalation', () => {
  it.each([
    [
      'an escalated record',
      comment(
        record({
          outcome: 'escalated',
          reason: 'stalled: no progress',
          endedAt: '2026-11-02T00:00:00Z',
        }),
      ),
      { reason: 'stalled: no progress', escalatedAt: '2026-11-02T00:00:00Z', attempt: 1 },
    ],
    [
      'a human label put on a live run by hand',
      comment(record()),
      { reason: 'labelled by hand (last run: live)', escalatedAt: null, attempt: 1 },
    ],
    ['no afk comment', null, { reason: 'no reason on record (no afk comment)', attempt: null }],
  ])('gives the reason of %s', (_name, afkComment, expected) => {
    expect(describeEscalation(issue({ number: 9 }), afkComment)).toMatchObject(expected);
  });
});

describe('newestEscalations', () => {
  it('keeps the newest issues first, at most the limit', () => {
    const issues = [1, 2, 3].map((n) => issue({ number: n, createdAt: `2026-11-0${n}T00:00:00Z` }));

    expect(newestEscalations(issues, 2).map((i) => i.number)).toEqual([3, 2]);
  });
});

describe('renderTable', () => {
  it('aligns columns two spaces apart and trims trailing space', () => {
    expect(
      renderTable(
        ['A', 'LONG'],
        [
          ['xyz', ''],
          ['1', '2'],
        ],
      ),
    ).toEqual(['  A    LONG', '  xyz', '  1    2']);
  });
});

describe('describeLiveRun and renderStatus', () => {
  const snapshot = { sequence: 1, detail: 'slim' as const, projects: [], threads: [] };
  const run = (phases: RunRecord['phases'], t3: typeof snapshot | null) =>
    describeLiveRun({
      issue: issue({ number: 7, labels: ['agent-in-progress'] }),
      afkComment: comment(record({ phases })),
      snapshot: t3,
      maxFixForwards: 2,
      now: new Date('2026-11-01T11:00:00Z'),
    });
  const view = (runs: ReturnType<typeof run>[]) => ({
    gates: { killSwitch: false, repos: ['acme/api'] },
    runs,
    queue: [],
    escalations: [],
    failures: [],
    t3Unreadable: null,
  });
  const at = '2026-11-01T10:30:00Z';

  it.each<[string, Partial<RunRecord>, string | null]>([
    [
      'feedback with the agent, and the reviewers afk ignored',
      {
        reviewRounds: 1,
        reviewSent: { round: 1, items: 4, from: ['alice', 'bob'] },
        reviewIgnored: [
          { login: 'mallory', why: 'mallory has read permission; write is required' },
        ],
      },
      '  acme/api#7: review rounds 1/3 (with the agent: round 1: 4 item(s) from alice, bob); conflict turns 0/2; ignored reviewers: mallory',
    ],
    [
      'a round the agent answered (review asked again), and a conflict turn',
      {
        reviewRounds: 1,
        reviewSent: { round: 1, items: 4, from: ['alice'] },
        reviewNotifiedAt: at,
        conflictTurns: 1,
      },
      '  acme/api#7: review rounds 1/3; conflict turns 1/2',
    ],
  ])('shows the pull request’s conversation: %s', (_name, over, line) => {
    const live = describeLiveRun({
      issue: issue({ number: 7, labels: ['agent-in-progress'] }),
      afkComment: comment(record(over)),
      snapshot,
      maxFixForwards: 2,
      now: new Date('2026-11-01T11:00:00Z'),
      conversationLimits: config().watch,
    });
    const text = renderStatus(view([live]));
    const lines = text.split('\n').filter((l) => l.startsWith('  acme/api#7:'));
    expect(lines).toEqual(line === null ? [] : [line]);
    expect(live.conversation === undefined).toBe(line === null);
  });

  it.each([
    [{ dispatched: at }, 'dispatched to an agent'],
    [{ dispatched: at, testsRed: at }, 'tests red'],
    [{ dispatched: at, testsRed: at, green: at, pushed: at, ci: at }, 'CI green'],
  ])('shows the furthest phase %j in the checklist’s words: %s', (phases, words) => {
    const text = renderStatus(view([run(phases, snapshot)]));
    const row = text.split('\n').find((l) => l.startsWith('  acme/api#7'));
    expect(row).toContain(`  ${words}  `);
  });

  it.each([
    [snapshot, 'missing'],
    [null, 'unknown'],
  ])(
    'shows the thread of a run T3 does not know as missing, and as unknown without T3',
    (t3, thread) => {
      expect(run({}, t3).thread).toBe(thread);
    },
  );

  it.each([
    [0, 5, null],
    [5, 5, null],
    [3, 3, '  … and 2 more (--limit 0 shows all)'],
  ])('with a limit of %i shows %i of 5 rows', (limit, shown, more) => {
    const runs = [1, 2, 3, 4, 5].map(() => run({}, snapshot));
    const lines = renderStatus(view(runs), { limit }).split('\n');
    expect(lines.filter((l) => l.startsWith('  acme/api#7'))).toHaveLength(shown);
    expect(lines.filter((l) => l.includes(' more (--limit 0'))).toEqual(
      more === null ? [] : [more],
    );
  });
});
