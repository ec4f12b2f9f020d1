// The report's verdicts and sums come from the figures: a missed target reads "missed".
import { describe, expect, it } from 'vitest';
import type { ColdStartFigure, ColdStartResult } from '../../tools/bench/coldstart.js';
import { renderReport, type BenchResult } from '../../tools/bench/report.js';
import type { RequestSummary, SizeResult, TickSample } from '../../tools/bench/scale.js';
import type { Size } from '../../tools/bench/world.js';

const figure = (
  name: string,
  medianMs: number,
  ratio: number,
  probe = false,
  comparison = false,
): ColdStartFigure => ({
  case: { name, what: name, args: [], probe, ...(comparison ? { comparison } : {}) },
  medianMs,
  q1Ms: medianMs,
  q3Ms: medianMs,
  ratio,
});

const coldStart: ColdStartResult = {
  rounds: 3,
  baseline: figure('node -e 0', 80, 1),
  figures: [
    figure('afk --help', 100, 1.25),
    figure('afk poll (disabled)', 170, 2.1),
    figure('afk poll (disabled) (ESM bundle)', 180, 2.25, false, true),
    figure('probe: esm', 85, 1.06, true),
    figure('probe: config', 120, 1.5, true),
    figure('probe: logger', 135, 1.69, true),
    figure('probe: floor', 145, 1.81, true),
  ],
  badConfigExit: 2,
  loaded: { help: 130_000, disabledPoll: 800_000, total: 1_100_000 },
  snapshotBytes: 9_000_000,
};

const requests = (
  restReads: number,
  githubWrites: number,
  points = 0,
  byKind: Array<[string, number]> = [],
): RequestSummary => ({
  // GitHub's reads count GraphQL queries (two here) beside the REST GETs.
  github: { reads: restReads + 2, writes: githubWrites },
  graphqlQueries: 2,
  graphqlPoints: points,
  t3: { reads: 2, writes: 1 },
  slack: 0,
  byKind,
  listingPages: 0,
});

const firstWatch = requests(101, 300, 10, [
  ['github PATCH /repos/:owner/:repo/issues/comments/:n', 100],
  ['github DELETE /repos/:owner/:repo/issues/comments/:n/reactions/:n', 100],
  ['github GET /repos/:owner/:repo/issues/comments/:n', 100],
  ['github POST /repos/:owner/:repo/issues/comments/:n/reactions', 100],
  ['github GET /user', 1],
]);

const tick = (
  command: 'poll' | 'watch',
  r: RequestSummary,
  wall: number,
  rss: number,
): TickSample => ({
  command,
  reps: 3,
  requests: r,
  wallMs: { median: wall, q1: wall, q3: wall },
  peakRssMb: { median: rss, q1: rss, q3: rss },
  tickCpuMs: { median: 300, q1: 300, q3: 300 },
  emulatorCpuMs: { median: 10, q1: 10, q3: 10 },
  outcome: '',
});

const size = (s: Size, poll: TickSample, watch: TickSample, maxGets: number): SizeResult => ({
  size: s,
  expectedPages: { poll: poll.requests.listingPages, watch: watch.requests.listingPages },
  poll,
  watch,
  watchFirst: firstWatch,
  perRun: {
    steady: [{ phase: 'deploying', runs: 20, maxGets, meanGets: maxGets }],
    first: [{ phase: 'deploying', runs: 20, maxGets: 8, meanGets: 8 }],
  },
  profile: {
    poll: [
      { what: 'idle: waiting for answers', ms: 300, share: 0.6 },
      { what: 'json-with-bigint', ms: 200, share: 0.4 },
    ],
    watch: [{ what: 'idle: waiting for answers', ms: 500, share: 1 }],
  },
});

function result(bigWall: number): BenchResult {
  return {
    machine: {
      cpu: 'test cpu',
      cores: 2,
      memoryGb: 4,
      os: 'Linux',
      node: 'v20.20.2',
      date: '2026-11-21T00:00:00Z',
      commit: 'abc1234',
      load: [0.5, 0.7],
      durationS: 100,
    },
    settings: {
      command: 'npm run bench',
      reps: 3,
      rounds: 3,
      dispatch: { maxConcurrentRuns: 1000, maxRunsPerRepo: 20, maxDispatchesPerTick: 5 },
      deploy: 'github-deployment',
      schedule: { poll: 30, watch: 20 },
    },
    coldStart,
    sizes: [
      size(
        { repos: 100, ready: 2000, live: 100 },
        tick('poll', requests(16, 15, 27), 900, 120),
        tick('watch', requests(1, 0, 10), bigWall, 160),
        4,
      ),
      size(
        { repos: 10, ready: 2000, live: 100 },
        tick('poll', requests(16, 15, 9), 600, 110),
        tick('watch', requests(1, 0, 5), 400, 90),
        4,
      ),
      size(
        { repos: 100, ready: 2000, live: 10 },
        tick('poll', requests(16, 15, 27), 800, 100),
        tick('watch', requests(1, 0, 4), 500, 80),
        4,
      ),
    ],
    servers: {
      size: { repos: 9, ready: 27, live: 9, servers: 3 },
      down: 't3-c',
      up: ['t3-a', 't3-b'],
      watch: {
        exitCode: 1,
        line: 'failed  watch: T3 server t3-c (127.0.0.1:9) could not be read; left out of this tick: a/b#1: refused',
        summary: 'watch: 9 live run(s): 6 wait, 3 not read (T3 server down); 1 failed',
        decided: 6,
        expected: 6,
        unread: 3,
      },
      poll: {
        exitCode: 1,
        line: 'failed  poll: T3 server t3-c (127.0.0.1:9) could not be read; left out of this tick: a/b: refused',
        summary: 'poll: dispatched 5; 1 failed',
        dispatched: { 't3-a': 2, 't3-b': 3, 't3-c': 0 },
        wanted: 5,
      },
      ok: true,
    },
  };
}

describe('renderReport', () => {
  const text = renderReport(result(2500));

  it('gives each cold start its ratio and verdict, and the floor from the probes', () => {
    expect(text).toContain('| `afk --help` | afk --help | 100 (100–100) | 1.25× | **met** |');
    expect(text).toContain(
      '| `afk poll (disabled)` | afk poll (disabled) | 170 (170–170) | 2.10× | **missed** |',
    );
    // Each probe's time over the one before it.
    expect(text).toContain('| `esm` | probe: esm | 85 (85–85) | 1.06× | +5 |');
    expect(text).toContain('| `logger` | probe: logger | 135 (135–135) | 1.69× | +15 |');
    expect(text).toContain('put the floor at 1.81× `node -e 0` (145 ms)');
    // The ESM bundle is shown beside what ships, without a verdict of its own.
    expect(text).toContain(
      '| `afk poll (disabled) (ESM bundle)` | afk poll (disabled) (ESM bundle) | 180 (180–180) | 2.25× |  |',
    );
    expect(text).toContain("ESM bundle's disabled poll takes 2.25× (180 ms)");
    expect(text).toContain('its disabled poll takes 2.10× (170 ms)');
  });

  it('judges the targets from the figures', () => {
    expect(text).toContain(
      'poll 900 ms (CPU 300 ms), watch 2500 ms (CPU 300 ms) | ≤ 2 s | **missed** |',
    );
    expect(text).toContain(
      'at most 160.0 MB (at any size measured: 160.0 MB) | ≤ 150 MB | **missed** |',
    );
    expect(text).toContain('steady tick: at most 4 per run; first tick after changes: at most 8');
    expect(text).toContain('steady **met**; first **missed**');
  });

  it("judges each tick's reads, REST GETs plus GraphQL points, against issue 13's limits", () => {
    expect(text).toContain('| poll | 16 REST + 27 points (2 queries) = 43; 15 writes');
    expect(text).toMatch(/\| poll \| .* \| ≤ 5 \+ its writes \| \*\*missed\*\* \|/);
    expect(text).toContain(
      '| watch, steady | 1 REST + 10 points (2 queries) = 11; 0 writes | ≤ 10 | **missed** |',
    );
    expect(text).toContain(
      "| watch, first | 101 REST + 10 points (2 queries) = 111; 300 writes (REST reads: 100 reads of afk's comment under its claim, 1 `/user`) | ≤ 10 + its writes | **missed** |",
    );
    const fast = renderReport({
      ...result(1500),
      sizes: result(1500).sizes.map((s, i) =>
        i === 0 ? { ...s, watch: tick('watch', requests(1, 0, 9), 1500, 100) } : s,
      ),
    });
    expect(fast).toContain(
      '| watch, steady | 1 REST + 9 points (2 queries) = 10; 0 writes | ≤ 10 | **met** |',
    );
  });

  it("meets the wall-time target when the ticks at the targets' size are fast enough", () => {
    expect(renderReport(result(1500))).toContain(
      'poll 900 ms (CPU 300 ms), watch 1500 ms (CPU 300 ms) | ≤ 2 s | **met** |',
    );
  });

  it('prints the budget line at the shipped schedule, and how it is computed', () => {
    // poll 16 + 27 + 15 = 58, watch 1 + 10 + 0 = 11: 30 × 58 + 20 × 11 = 1960
    expect(text).toContain(
      '\nbudget: 1,960 GitHub requests per hour at 100 repos / 2,000 ready / 100 live (poll every 2 min, watch every 3 min)\n',
    );
    expect(text).toContain(
      '30 × 58 + 20 × 11 = 1,960, against a target of at most 2,500: **met**.',
    );
    expect(text).toMatch(
      /GitHub cost of the shipped schedule, an hour \| 1,960 .* \| ≤ 2,500 \| \*\*met\*\* \|/,
    );
  });

  it("counts the claim's requests in the first watch", () => {
    expect(text).toContain('100 claims, 100 reads under a claim, 100 rewrites and 100 releases:');
    expect(text).toContain('400 GitHub requests, 300 of them writes');
  });

  it('quotes what the ticks said of the T3 server that was down', () => {
    expect(text).toContain(
      '`failed  poll: T3 server t3-c (127.0.0.1:9) could not be read; left out of this tick: a/b: refused`',
    );
    expect(text).toContain('threads created per server: t3-a 2, t3-b 3, t3-c 0');
    expect(text).toMatch(/three T3 servers, one down: .* \| \*\*met\*\* \|/);
  });

  it('shows how each figure grows along the repos and the live runs', () => {
    expect(text).toContain(
      '| repos 100 | 100 / 2000 / 100 | 31 (×1.00) | 27 (×3.00) | 900 (×1.50) | 120.0 (×1.09) | 1 (×1.00) | 10 (×2.00) | 2500 (×6.25) | 160.0 (×1.78) |',
    );
    expect(text).toContain('| live 10 | 100 / 2000 / 10 | 31 (×1.00) | 27 (×1.00) | 800 (×1.00)');
    expect(text).toContain('| live 100 | 100 / 2000 / 100 | 31 (×1.00) | 27 (×1.00) | 900 (×1.13)');
  });

  it("shows where the largest ticks' time went", () => {
    expect(text).toContain('| idle: waiting for answers | 300 | 60% | 500 | 100% |');
    expect(text).toContain('| json-with-bigint | 200 | 40% |  |  |');
    expect(text).toContain('| all | 500 | 100% | 500 | 100% |');
  });
});
