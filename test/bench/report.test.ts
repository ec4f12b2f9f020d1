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
  githubReads: number,
  githubWrites: number,
  listingPages: number,
): RequestSummary => ({
  github: { reads: githubReads, writes: githubWrites },
  graphqlQueries: 0,
  graphqlPoints: 0,
  t3: { reads: 2, writes: 0 },
  slack: 0,
  byKind: [['github GET /repos/:owner/:repo/issues', listingPages]],
  listingPages,
});

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
  watchFirst: requests(500, 200, 100),
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
        { repos: 10, ready: 100, live: 10 },
        tick('poll', requests(30, 15, 20), 500, 90),
        tick('watch', requests(40, 0, 10), 400, 90),
        4,
      ),
      size(
        { repos: 10, ready: 2000, live: 10 },
        tick('poll', requests(40, 15, 30), 600, 110),
        tick('watch', requests(40, 0, 10), 400, 90),
        4,
      ),
      size(
        { repos: 100, ready: 2000, live: 100 },
        tick('poll', requests(220, 15, 200), 900, 120),
        tick('watch', requests(380, 0, 100), bigWall, 160),
        4,
      ),
    ],
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
    expect(text).toContain('poll 900 ms (CPU 300 ms), watch 2500 ms (CPU 300 ms) | **missed** |');
    expect(text).toContain('at most 160.0 MB (any size) | **missed** |');
    expect(text).toContain('steady tick: at most 4 per run; first tick after changes: at most 8');
    expect(text).toContain('steady **met**; first **missed**');
    // Listing pages grew 20 → 30 with the queue; the other reads stayed at 12.
    expect(text).toContain('other reads 12 → 12');
    expect(text).toMatch(/one per 100 results \(\+ the snapshot\) \| .* \| \*\*met\*\* \|/);
  });

  it('meets the wall-time target when the largest ticks are fast enough', () => {
    expect(renderReport(result(1500))).toContain(
      'poll 900 ms (CPU 300 ms), watch 1500 ms (CPU 300 ms) | **met** |',
    );
  });

  it('computes the GitHub budget at the largest size and the shipped schedule', () => {
    expect(text).toContain('| poll | 235 | 21 |');
    expect(text).toContain('| watch (steady) | 380 | 13 |');
    expect(text).toContain('| one poll and one watch | 615 | 8 |');
    // 30 × 235 + 20 × 380 = 14650
    expect(text).toContain('needs 14650 requests an hour: 2.9× over the budget.');
  });

  it("shows where the largest ticks' time went", () => {
    expect(text).toContain('| idle: waiting for answers | 300 | 60% | 500 | 100% |');
    expect(text).toContain('| json-with-bigint | 200 | 40% |  |  |');
    expect(text).toContain('| all | 500 | 100% | 500 | 100% |');
  });
});
