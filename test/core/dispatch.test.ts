import { describe, expect, it } from 'vitest';
import {
  findLabeler,
  issueKey,
  judgeTrust,
  selectDispatchable,
  type Issue,
  type ServerSlot,
  type TrustFact,
} from '../../src/core/index.js';
import { config, issue } from '../support/fixtures.js';

const trusted: TrustFact = { ok: true, labeler: 'maintainer', permission: 'write' };
const trustAll = (issues: Issue[]) => new Map(issues.map((i) => [issueKey(i), trusted]));
const keys = (issues: Issue[]) => issues.map(issueKey);

describe('selectDispatchable', () => {
  const caps = (dispatch: Record<string, number>) => config({ dispatch });

  it('dispatches the P0 issue of a repo before its older P1, and another repo beside it', () => {
    const p1Old = issue({
      repo: 'acme/api',
      number: 1,
      labels: ['ready-for-agent', 'P1'],
      createdAt: '2026-11-01T00:00:00Z',
    });
    const p0New = issue({
      repo: 'acme/api',
      number: 2,
      labels: ['ready-for-agent', 'P0'],
      createdAt: '2026-11-10T00:00:00Z',
    });
    const other = issue({ repo: 'acme/web', number: 3, createdAt: '2026-11-05T00:00:00Z' });
    const ready = [p1Old, p0New, other];
    const result = selectDispatchable({
      config: caps({ maxConcurrentRuns: 2, maxRunsPerRepo: 1, maxDispatchesPerTick: 2 }),
      ready,
      inProgress: [],
      trust: trustAll(ready),
    });
    expect(keys(result.selected)).toEqual(['acme/api#2', 'acme/web#3']);
    expect(result.skipped).toEqual([
      {
        issue: { repo: 'acme/api', number: 1 },
        reason: 'repo-busy',
        detail: '1 of 1 runs live in acme/api',
      },
    ]);
    expect(result.needTrust).toEqual([]);
  });

  it.each([
    [[], 2, ['acme/api#1', 'acme/web#2']],
    [['acme/ghost'], 2, ['acme/api#1']],
    [['acme/ghost', 'acme/gone', 'acme/lost'], 1, []],
  ])(
    'counts each unreadable repo %j as holding maxRunsPerRepo runs against the global cap',
    (unreadableRepos, maxRunsPerRepo, selected) => {
      const ready = [
        issue({ repo: 'acme/api', number: 1, createdAt: '2026-11-01T00:00:00Z' }),
        issue({ repo: 'acme/web', number: 2, createdAt: '2026-11-02T00:00:00Z' }),
      ];
      const result = selectDispatchable({
        config: caps({ maxConcurrentRuns: 4, maxRunsPerRepo, maxDispatchesPerTick: 2 }),
        ready,
        inProgress: [issue({ repo: 'acme/api', number: 9, labels: ['agent-in-progress'] })],
        trust: trustAll(ready),
        unreadableRepos,
      });
      expect(keys(result.selected)).toEqual(selected);
      const capped = result.skipped.map((s) => [issueKey(s.issue), s.reason, s.detail]);
      const assumed = unreadableRepos.length * maxRunsPerRepo;
      expect(capped).toEqual(
        ready
          .slice(selected.length)
          .map((i) => [
            issueKey(i),
            'global-cap',
            `4 of 4 runs live (${assumed} of them assumed: ${unreadableRepos.join(', ')} could not be read)`,
          ]),
      );
    },
  );

  it.each([
    [
      'priority first, unlabelled last',
      [
        ['P2', '2026-11-01'],
        [null, '2026-10-01'],
        ['P0', '2026-11-09'],
      ],
      [3, 1, 2],
    ],
    [
      'oldest first within a priority',
      [
        ['P1', '2026-11-03'],
        ['P1', '2026-11-01'],
        ['P1', '2026-11-02'],
      ],
      [2, 3, 1],
    ],
    [
      'the best of several priority labels',
      [
        ['P3', '2026-11-01'],
        ['P0+P3', '2026-11-02'],
        ['P1', '2026-11-01'],
      ],
      [2, 3, 1],
    ],
  ] as const)('orders by %s', (_name, specs, order) => {
    const ready = specs.map(([p, day], i) =>
      issue({
        repo: `acme/r${i + 1}`,
        number: i + 1,
        labels: ['ready-for-agent', ...(p === null ? [] : p.split('+'))],
        createdAt: `${day}T00:00:00Z`,
      }),
    );
    const result = selectDispatchable({
      config: caps({ maxConcurrentRuns: 10, maxRunsPerRepo: 1, maxDispatchesPerTick: 10 }),
      ready,
      inProgress: [],
      trust: trustAll(ready),
    });
    expect(result.selected.map((i) => i.number)).toEqual(order);
  });

  it.each([
    [
      'the global cap, counting live runs in every repo',
      { maxConcurrentRuns: 2, maxRunsPerRepo: 1, maxDispatchesPerTick: 5 },
      ['acme/x#90', 'acme/y#91'],
      [],
      'global-cap',
      '2 of 2 runs live',
    ],
    [
      'the per-repo lock',
      { maxConcurrentRuns: 5, maxRunsPerRepo: 1, maxDispatchesPerTick: 5 },
      ['acme/api#90'],
      ['acme/web#2'],
      'repo-busy',
      '1 of 1 runs live in acme/api',
    ],
    [
      'the per-tick cap',
      { maxConcurrentRuns: 5, maxRunsPerRepo: 5, maxDispatchesPerTick: 1 },
      [],
      ['acme/api#1'],
      'tick-cap',
      '1 dispatch(es) per tick',
    ],
    [
      'a per-tick cap of zero',
      { maxConcurrentRuns: 5, maxRunsPerRepo: 5, maxDispatchesPerTick: 0 },
      [],
      [],
      'tick-cap',
      '0 dispatch(es) per tick',
    ],
  ])('holds back issues at %s', (_name, dispatch, live, selected, reason, detail) => {
    const ready = [
      issue({ repo: 'acme/api', number: 1, createdAt: '2026-11-01T00:00:00Z' }),
      issue({ repo: 'acme/web', number: 2, createdAt: '2026-11-02T00:00:00Z' }),
    ];
    const inProgress = live.map((key) => {
      const [repo, n] = key.split('#');
      return issue({ repo: repo as string, number: Number(n), labels: ['agent-in-progress'] });
    });
    const result = selectDispatchable({
      config: caps(dispatch),
      ready,
      inProgress,
      trust: trustAll(ready),
    });
    expect(keys(result.selected)).toEqual(selected);
    expect(result.skipped.find((s) => s.reason === reason)?.detail).toBe(detail);
  });

  it('counts a closed issue that still holds the lock as a live run', () => {
    const ready = [issue({ repo: 'acme/api', number: 1 })];
    const closedRun = issue({
      repo: 'acme/api',
      number: 9,
      state: 'closed',
      labels: ['agent-in-progress'],
    });
    const result = selectDispatchable({
      config: config(),
      ready,
      inProgress: [closedRun],
      trust: trustAll(ready),
    });
    expect(result.selected).toEqual([]);
    expect(result.skipped[0]?.reason).toBe('repo-busy');
  });

  it.each([
    ['carries the in-progress label', ['ready-for-agent', 'agent-in-progress'], 'in-progress'],
    ['carries the human label', ['ready-for-agent', 'ready-for-human'], 'needs-human'],
  ])('never dispatches an issue that %s', (_name, labels, reason) => {
    const ready = [issue({ labels })];
    const result = selectDispatchable({
      config: config(),
      ready,
      inProgress: [],
      trust: trustAll(ready),
    });
    expect(result.selected).toEqual([]);
    expect(result.skipped.map((s) => s.reason)).toEqual([reason]);
  });

  it('asks for the trust of only the issues it would dispatch', () => {
    const ready = [1, 2, 3].map((n) =>
      issue({ repo: 'acme/api', number: n, createdAt: `2026-11-0${n}T00:00:00Z` }),
    );
    const result = selectDispatchable({
      config: config(),
      ready,
      inProgress: [],
      trust: new Map(),
    });
    expect(keys(result.needTrust)).toEqual(['acme/api#1']);
    expect(result.selected).toEqual([]);
    expect(result.skipped.map((s) => s.reason)).toEqual(['tick-cap', 'tick-cap']);
  });

  it('moves on to the next issue when a labeler is untrusted', () => {
    const ready = [1, 2].map((n) =>
      issue({ repo: 'acme/api', number: n, createdAt: `2026-11-0${n}T00:00:00Z` }),
    );
    const trust = new Map<string, TrustFact>([
      ['acme/api#1', { ok: true, labeler: 'drive-by', permission: 'read' }],
    ]);
    const result = selectDispatchable({ config: config(), ready, inProgress: [], trust });
    expect(keys(result.needTrust)).toEqual(['acme/api#2']);
    expect(result.skipped).toEqual([
      {
        issue: { repo: 'acme/api', number: 1 },
        reason: 'untrusted-labeler',
        detail: 'drive-by applied the ready label with read permission; write is required',
      },
    ]);
  });

  it('needs no lookups when anyone may label', () => {
    const ready = [issue()];
    const result = selectDispatchable({
      config: config({ trust: { labelers: 'any' } }),
      ready,
      inProgress: [],
      trust: new Map(),
    });
    expect(result.selected).toHaveLength(1);
  });
});

describe('selectDispatchable with several T3 servers', () => {
  // Server a hosts acme/api and acme/web; server b hosts acme/ops.
  const slots = (a: Partial<ServerSlot> = {}, b: Partial<ServerSlot> = {}): ServerSlot[] => [
    { name: 'a', capacity: 2, repos: ['acme/api', 'acme/web'], ...a },
    { name: 'b', capacity: 1, repos: ['acme/ops'], ...b },
  ];
  const wide = config({
    dispatch: { maxConcurrentRuns: 10, maxRunsPerRepo: 2, maxDispatchesPerTick: 10 },
  });
  const live = (repo: string, number: number) =>
    issue({ repo, number, labels: ['agent-in-progress'] });
  const queued = [
    issue({ repo: 'acme/api', number: 1, createdAt: '2026-11-01T00:00:00Z' }),
    issue({ repo: 'acme/web', number: 2, createdAt: '2026-11-02T00:00:00Z' }),
    issue({ repo: 'acme/ops', number: 3, createdAt: '2026-11-03T00:00:00Z' }),
    issue({ repo: 'acme/api', number: 4, createdAt: '2026-11-04T00:00:00Z' }),
  ];

  it.each([
    [
      'room on both servers',
      slots(),
      [],
      [],
      ['acme/api#1', 'acme/web#2', 'acme/ops#3'],
      [['acme/api#4', 'server-full', '2 of 2 runs live on T3 server a']],
    ],
    [
      'server a full of live runs',
      slots(),
      [live('acme/web', 9), live('acme/api', 8)],
      [],
      ['acme/ops#3'],
      [
        ['acme/api#1', 'server-full', '2 of 2 runs live on T3 server a'],
        ['acme/web#2', 'server-full', '2 of 2 runs live on T3 server a'],
        ['acme/api#4', 'server-full', '2 of 2 runs live on T3 server a'],
      ],
    ],
    [
      'a repo of server b unreadable, counted full',
      slots({}, { repos: ['acme/ops', 'acme/gone'] }),
      [],
      ['acme/gone'],
      ['acme/api#1', 'acme/web#2'],
      [
        ['acme/ops#3', 'server-full', '2 of 1 runs live on T3 server b'],
        ['acme/api#4', 'server-full', '2 of 2 runs live on T3 server a'],
      ],
    ],
    [
      'server b down',
      slots({}, { down: 't3: GET /api/orchestration/snapshot: 503 transient' }),
      [],
      [],
      ['acme/api#1', 'acme/web#2'],
      [
        [
          'acme/ops#3',
          'server-down',
          'T3 server b could not be read: t3: GET /api/orchestration/snapshot: 503 transient',
        ],
        ['acme/api#4', 'server-full', '2 of 2 runs live on T3 server a'],
      ],
    ],
    [
      'server a down, b the only one served',
      slots({ down: 'unreachable' }),
      [],
      [],
      ['acme/ops#3'],
      [
        ['acme/api#1', 'server-down', 'T3 server a could not be read: unreachable'],
        ['acme/web#2', 'server-down', 'T3 server a could not be read: unreachable'],
        ['acme/api#4', 'server-down', 'T3 server a could not be read: unreachable'],
      ],
    ],
    [
      'server b full, server a roomy',
      slots({ capacity: 5 }),
      [live('acme/ops', 7)],
      [],
      ['acme/api#1', 'acme/web#2', 'acme/api#4'],
      [['acme/ops#3', 'server-full', '1 of 1 runs live on T3 server b']],
    ],
  ] as const)('%s', (_name, servers, inProgress, unreadableRepos, selected, skipped) => {
    const result = selectDispatchable({
      config: wide,
      ready: queued,
      inProgress: [...inProgress],
      unreadableRepos,
      trust: trustAll(queued),
      servers,
    });
    expect(keys(result.selected)).toEqual(selected);
    expect(result.skipped.map((s) => [issueKey(s.issue), s.reason, s.detail])).toEqual(skipped);
  });

  it("keeps the global and per-repo caps beside a server's capacity", () => {
    const result = selectDispatchable({
      config: config({
        dispatch: { maxConcurrentRuns: 2, maxRunsPerRepo: 1, maxDispatchesPerTick: 10 },
      }),
      ready: queued,
      inProgress: [],
      trust: trustAll(queued),
      servers: slots({ capacity: 10 }, { capacity: 10 }),
    });
    expect(keys(result.selected)).toEqual(['acme/api#1', 'acme/web#2']);
    expect(result.skipped.map((s) => [issueKey(s.issue), s.reason])).toEqual([
      ['acme/ops#3', 'global-cap'],
      ['acme/api#4', 'global-cap'],
    ]);
  });
});

describe('judgeTrust', () => {
  it.each([
    ['write-access', { ok: true, labeler: 'm', permission: 'admin' }, 'trusted'],
    ['write-access', { ok: true, labeler: 'm', permission: 'write' }, 'trusted'],
    ['write-access', { ok: true, labeler: 'm', permission: 'read' }, 'untrusted-labeler'],
    [
      'write-access',
      { ok: true, labeler: 'dependabot[bot]', permission: 'none' },
      'untrusted-labeler',
    ],
    ['write-access', { ok: true, labeler: null, permission: null }, 'unknown-labeler'],
    [
      'write-access',
      { ok: false, error: 'tracker: GET …/events: 502 transient' },
      'trust-check-failed',
    ],
    [['Alice'], { ok: true, labeler: 'alice', permission: null }, 'trusted'],
    [['alice'], { ok: true, labeler: 'bob', permission: null }, 'untrusted-labeler'],
    ['write-access', undefined, 'unknown'],
  ] as const)('with %j judges %j as %s', (labelers, fact, verdict) => {
    const result = judgeTrust(labelers as never, fact as TrustFact | undefined);
    expect(result.kind === 'untrusted' ? result.reason : result.kind).toBe(verdict);
  });
});

describe('findLabeler', () => {
  it('names who applied the label the issue carries now', () => {
    const events = [
      { action: 'labeled' as const, label: 'ready-for-agent', actor: 'maintainer', createdAt: '1' },
      {
        action: 'unlabeled' as const,
        label: 'ready-for-agent',
        actor: 'maintainer',
        createdAt: '2',
      },
      { action: 'labeled' as const, label: 'Ready-For-Agent', actor: 'drive-by', createdAt: '3' },
      { action: 'labeled' as const, label: 'bug', actor: 'maintainer', createdAt: '4' },
    ];
    expect(findLabeler(events, 'ready-for-agent')).toBe('drive-by');
    expect(findLabeler([], 'ready-for-agent')).toBeNull();
  });
});
