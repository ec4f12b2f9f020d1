// Renders a benchmark run as docs/benchmarks.md: every figure and every verdict below comes
// from the run; only the explanations of method are fixed text.
import type { ColdStartFigure, ColdStartResult } from './coldstart.js';
import type { PerRun, RequestSummary, SizeResult, Spread, TickSample } from './scale.js';
import type { Size } from './world.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  date: string;
  commit: string;
  /** 1-minute load average before and after the run: other work on the machine. */
  load: [number, number];
  durationS: number;
}

export interface Settings {
  command: string;
  reps: number;
  rounds: number;
  dispatch: { maxConcurrentRuns: number; maxRunsPerRepo: number; maxDispatchesPerTick: number };
  deploy: string;
  /** CronJob schedules from k8s/base, as ticks per hour. */
  schedule: { poll: number; watch: number };
}

export interface BenchResult {
  machine: Machine;
  settings: Settings;
  coldStart: ColdStartResult;
  sizes: SizeResult[];
}

/** Ticks an hour of a CronJob schedule of the form `*\/N * * * *`. */
export function ticksPerHour(schedule: string): number {
  const every = /^\*\/(\d+) \* \* \* \*$/.exec(schedule.trim());
  if (every === null) throw new Error(`bench: cannot read the schedule "${schedule}"`);
  return 60 / Number(every[1]);
}

export const TARGETS = {
  coldStartRatio: 1.6,
  watchGetsPerRun: 4,
  wallMs: 2000,
  rssMb: 150,
  githubBudget: 5000,
} as const;

const ms = (n: number) => `${Math.round(n)}`;
const mb = (n: number) => n.toFixed(1);
const x = (n: number) => `${n.toFixed(2)}×`;
const signed = (n: number) => `${n < 0 ? '−' : '+'}${ms(Math.abs(n))}`;
const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;
const yes = (ok: boolean) => (ok ? '**met**' : '**missed**');
const sizeLabel = (s: Size) => `${s.repos} / ${s.ready} / ${s.live}`;
const spreadText = (s: Spread, f: (n: number) => string) =>
  `${f(s.median)} (${f(s.q1)}–${f(s.q3)})`;
const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: Array<Array<string | number>>) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

/** GitHub's cost of a tick: its REST requests, and each GraphQL query at its points. */
const githubTotal = (r: RequestSummary) =>
  r.github.reads - r.graphqlQueries + r.github.writes + r.graphqlPoints;
const largest = (sizes: SizeResult[]) =>
  sizes.reduce((a, b) =>
    b.size.repos * b.size.ready * b.size.live >= a.size.repos * a.size.ready * a.size.live ? b : a,
  );
const smallest = (sizes: SizeResult[]) =>
  sizes.reduce((a, b) =>
    b.size.repos * b.size.ready * b.size.live < a.size.repos * a.size.ready * a.size.live ? b : a,
  );

export function renderReport(result: BenchResult): string {
  const { machine, settings, coldStart, sizes } = result;
  const big = largest(sizes);
  return [
    '# Benchmarks',
    '',
    `Written by \`${settings.command}\` from one run; do not edit by hand (run it again).`,
    '',
    `- date: ${machine.date}`,
    `- commit: ${machine.commit}`,
    `- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB; ${machine.os}`,
    `- Node: ${machine.node}`,
    `- load average (1 minute) at the start and the end: ${machine.load[0].toFixed(2)}, ${machine.load[1].toFixed(2)} (other work on the machine slows every figure but the request counts)`,
    `- duration: ${Math.round(machine.durationS)} s`,
    '',
    'Ticks run the ESM bundle (`dist/afk.mjs`, `npm run bundle`; the image runs the same code',
    'from a startup snapshot, see Cold start) as child processes against the loopback emulators',
    'of GitHub, T3 and Slack (`emulators/`, the strict fakes the tests use), which run in the',
    "benchmark process: the wall time and peak RSS below are the tick process's own. Times are",
    'medians with the interquartile range in parentheses.',
    '',
    ...renderColdStart(coldStart),
    ...renderTicks(sizes, settings),
    ...renderTargets(sizes, coldStart, big),
    ...renderBudget(big, settings),
    ...renderGrowth(sizes),
    ...renderProfile(big),
  ].join('\n');
}

function renderColdStart(cold: ColdStartResult): string[] {
  const shipped = cold.figures.filter((f) => !f.case.probe);
  const probes = cold.figures.filter((f) => f.case.probe);
  const find = (name: string) => cold.figures.find((f) => f.case.name === name);
  const floor = find('probe: floor');
  const poll = find('afk poll (disabled)');
  const bundlePoll = find('afk poll (disabled) (ESM bundle)');
  const range = (f: ColdStartFigure) =>
    spreadText({ median: f.medianMs, q1: f.q1Ms, q3: f.q3Ms }, ms);
  const step = probes.map((f, i) => {
    const before = i === 0 ? cold.baseline : probes[i - 1];
    return [
      `\`${f.case.name.replace('probe: ', '')}\``,
      f.case.what,
      range(f),
      x(f.ratio),
      before === undefined ? '' : signed(f.medianMs - before.medianMs),
    ];
  });
  return [
    '## Cold start',
    '',
    `${cold.rounds} rounds; each round runs every command once, in a rotated order, and each ratio is`,
    'taken within a round (then the median over rounds), so load that comes and goes on the',
    'machine weighs on both sides alike.',
    '',
    table(
      ['command', 'what', 'wall ms', '× `node -e 0`', `target ≤ ${TARGETS.coldStartRatio}×`],
      [
        [
          `\`${cold.baseline.case.name}\``,
          cold.baseline.case.what,
          range(cold.baseline),
          '1.00×',
          '',
        ],
        ...shipped.map((f) => [
          `\`${f.case.name}\``,
          f.case.what,
          range(f),
          x(f.ratio),
          f.case.comparison === true ? '' : yes(f.ratio <= TARGETS.coldStartRatio),
        ]),
      ],
    ),
    '',
    `A disabled poll from the snapshot still validates its config: with \`killSwitch: maybe\` it exits ${cold.badConfigExit}.`,
    `The image runs afk from a V8 startup snapshot (${kb(cold.snapshotBytes)}, src/snapshot-entry.ts): the`,
    'modules a command needs were evaluated, and a disabled poll and `--help` run once, when it',
    'was built, so a run starts with them in the heap; the adapters built on ky are evaluated by',
    'the first tick that makes requests. From the ESM bundle (npm users, bin/afk.js is the same',
    `code unbundled), \`--help\` loads ${kb(cold.loaded.help)} of JavaScript (the entry and the small chunks it`,
    `imports: commander and the CLI) and a disabled poll ${kb(cold.loaded.disabledPoll)}, of ${kb(cold.loaded.total)} in the bundle.`,
    '',
    '### The floor of a disabled poll',
    '',
    'A disabled poll must parse its arguments, read and validate its config and write one log',
    'line. The probes below do exactly that, one piece at a time, each bundled the way',
    '`npm run bundle` bundles afk (tools/bench/probes); each adds one piece to the one before.',
    '',
    table(['probe', 'what', 'wall ms', '× `node -e 0`', 'added ms'], step),
    '',
    `Loaded at start-up, these libraries put the floor at ${x(floor?.ratio ?? Number.NaN)} \`node -e 0\` (${ms(floor?.medianMs ?? Number.NaN)} ms); the`,
    `ESM bundle's disabled poll takes ${x(bundlePoll?.ratio ?? Number.NaN)} (${ms(bundlePoll?.medianMs ?? Number.NaN)} ms), afk's own modules on top. The snapshot`,
    `does not load them at start-up: its disabled poll takes ${x(poll?.ratio ?? Number.NaN)} (${ms(poll?.medianMs ?? Number.NaN)} ms).`,
    '',
  ];
}

function renderTicks(sizes: SizeResult[], settings: Settings): string[] {
  const tickRow = (s: SizeResult, name: string, t: TickSample) => [
    name,
    sizeLabel(s.size),
    t.requests.github.reads,
    t.requests.graphqlPoints,
    t.requests.github.writes,
    t.requests.t3.reads,
    t.requests.t3.writes,
    t.requests.slack,
    spreadText(t.wallMs, ms),
    ms(t.tickCpuMs.median),
    ms(t.emulatorCpuMs.median),
    spreadText(t.peakRssMb, mb),
    t.outcome,
  ];
  const head = [
    'tick',
    'repos / ready / live',
    'GitHub reads',
    'GraphQL points',
    'GitHub writes',
    'T3 GET',
    'T3 writes',
    'Slack',
    'wall ms',
    'tick CPU ms',
    'emulator CPU ms',
    'peak RSS MB',
    'outcome',
  ];
  const big = largest(sizes);
  const kinds = (r: RequestSummary) => r.byKind.map(([kind, n]) => [`\`${kind}\``, n]);
  return [
    '## Ticks at scale',
    '',
    'At each size the live runs are dispatched by the bundle itself (a seeding poll tick), then a',
    'scripted agent, CI, reviewer and deploy move them, in equal shares, to five phases: agent',
    'working; PR open and CI running; CI failed and a fix-forward turn sent; CI green',
    'and awaiting review; merged and deploying. A poll tick dispatches, so it changes the world it',
    `runs on: each one runs on a fresh copy of the world (the median of ${settings.reps}). Watch is measured once the world is steady (a`,
    `watch tick that writes nothing leaves the world as it found it), the median of ${settings.reps}`,
    'consecutive ticks; "watch, first" is the first watch tick after the runs moved, which',
    'rewrites checklists, sends fix-forward turns and rings doorbells (request counts only).',
    `Config: \`dispatch: ${JSON.stringify(settings.dispatch).replace(/"/g, '').replace(/,/g, ', ').replace(/:/g, ': ')}\`, \`deploy.kind: ${settings.deploy}\`, everything else the defaults.`,
    '"GitHub reads" are GETs and GraphQL queries; "GraphQL points" what those queries cost, by',
    "GitHub's formula as the emulator counts them (a budget of its own beside REST's requests).",
    'Request counts are the same in every repetition (checked). "Tick CPU" is the CPU time the',
    'tick\'s process used (user + system); "emulator CPU" is what the emulators spent answering',
    "it: part of the tick's wall time on loopback, none of it against GitHub.",
    '',
    table(
      head,
      sizes.flatMap((s) => [
        tickRow(s, 'poll', s.poll),
        tickRow(s, 'watch', s.watch),
        [
          'watch, first',
          sizeLabel(s.size),
          s.watchFirst.github.reads,
          s.watchFirst.graphqlPoints,
          s.watchFirst.github.writes,
          s.watchFirst.t3.reads,
          s.watchFirst.t3.writes,
          s.watchFirst.slack,
          '',
          '',
          '',
          '',
          '',
        ],
      ]),
    ),
    '',
    `### Requests by kind at ${sizeLabel(big.size)} (repos / ready / live)`,
    '',
    '**poll**',
    '',
    table(['request', 'count'], kinds(big.poll.requests)),
    '',
    '**watch** (steady)',
    '',
    table(['request', 'count'], kinds(big.watch.requests)),
    '',
    '**watch, first**',
    '',
    table(['request', 'count'], kinds(big.watchFirst)),
    '',
    `### Watch: GETs per live run, by phase, at ${sizeLabel(big.size)}`,
    '',
    'Requests that name a run (its issue, comment, branch, commits, deployment or thread);',
    "the per-repo listings, `/user` and the T3 snapshot are the tick's own.",
    '',
    table(
      ['phase', 'runs', 'steady: max', 'steady: mean', 'first: max', 'first: mean'],
      big.perRun.steady.map((p) => {
        const f = big.perRun.first.find((q) => q.phase === p.phase);
        return [
          p.phase,
          p.runs,
          p.maxGets,
          p.meanGets.toFixed(1),
          f?.maxGets ?? '',
          f?.meanGets.toFixed(1) ?? '',
        ];
      }),
    ),
    '',
  ];
}

const maxGets = (perRun: PerRun[]) => Math.max(0, ...perRun.map((p) => p.maxGets));

function renderTargets(sizes: SizeResult[], cold: ColdStartResult, big: SizeResult): string[] {
  const help = cold.figures.find((f) => f.case.name === 'afk --help');
  const poll = cold.figures.find((f) => f.case.name === 'afk poll (disabled)');
  // Poll's reads other than the issue listings must not depend on the ready queue at all.
  const otherReads = (s: SizeResult) =>
    s.poll.requests.github.reads + s.poll.requests.t3.reads - s.poll.requests.listingPages;
  const pairs = sizes.flatMap((a) =>
    sizes
      .filter(
        (b) =>
          b.size.repos === a.size.repos &&
          b.size.live === a.size.live &&
          b.size.ready > a.size.ready,
      )
      .map((b) => [a, b] as const),
  );
  const pagesOk = sizes.every((s) => s.poll.requests.listingPages === s.expectedPages.poll);
  const flat = pairs.every(([a, b]) => otherReads(a) === otherReads(b));
  const pairText = pairs
    .map(
      ([a, b]) =>
        `${a.size.ready} → ${b.size.ready} ready at ${a.size.repos} repos: listing pages ${a.poll.requests.listingPages} → ${b.poll.requests.listingPages}, other reads ${otherReads(a)} → ${otherReads(b)}`,
    )
    .join('; ');
  const steadyMax = maxGets(big.perRun.steady);
  const firstMax = maxGets(big.perRun.first);
  const snapshots =
    big.watch.requests.byKind.find(([k]) => k.endsWith('/api/orchestration/snapshot'))?.[1] ?? 0;
  const walls = [big.poll.wallMs.median, big.watch.wallMs.median];
  const rss = Math.max(
    ...sizes.flatMap((s) => [s.poll.peakRssMb.median, s.watch.peakRssMb.median]),
  );
  return [
    '## Targets',
    '',
    table(
      ['target', 'measured', 'verdict'],
      [
        [
          `cold start ≤ ${TARGETS.coldStartRatio}× \`node -e 0\``,
          `--help ${x(help?.ratio ?? Number.NaN)}; disabled poll ${x(poll?.ratio ?? Number.NaN)}`,
          `--help ${yes((help?.ratio ?? Infinity) <= TARGETS.coldStartRatio)}; disabled poll ${yes((poll?.ratio ?? Infinity) <= TARGETS.coldStartRatio)}`,
        ],
        [
          "poll's reads grow with the ready queue by at most one per 100 results (+ the snapshot)",
          `listing pages = one per 100 issues per repo and label at every size: ${pagesOk ? 'yes' : 'no'}; ${pairText}`,
          yes(pagesOk && flat),
        ],
        [
          `watch: at most ${TARGETS.watchGetsPerRun} GETs per live run + one snapshot`,
          `steady tick: at most ${steadyMax} per run; first tick after changes: at most ${firstMax}; ${snapshots} snapshot`,
          `steady ${yes(steadyMax <= TARGETS.watchGetsPerRun && snapshots <= 1)}; first ${yes(firstMax <= TARGETS.watchGetsPerRun)}`,
        ],
        [
          `every tick ≤ ${TARGETS.wallMs / 1000} s wall at ${sizeLabel(big.size)}`,
          `poll ${ms(walls[0] ?? Number.NaN)} ms (CPU ${ms(big.poll.tickCpuMs.median)} ms), watch ${ms(walls[1] ?? Number.NaN)} ms (CPU ${ms(big.watch.tickCpuMs.median)} ms)`,
          yes(walls.every((w) => w <= TARGETS.wallMs)),
        ],
        [
          `peak RSS ≤ ${TARGETS.rssMb} MB`,
          `at most ${mb(rss)} MB (any size)`,
          yes(rss <= TARGETS.rssMb),
        ],
        [
          'a disabled poll still validates its config (exit 2 on a bad one)',
          `\`killSwitch: maybe\`: exit ${cold.badConfigExit}`,
          yes(cold.badConfigExit === 2),
        ],
      ],
    ),
    '',
  ];
}

function renderBudget(big: SizeResult, settings: Settings): string[] {
  const poll = githubTotal(big.poll.requests);
  const watch = githubTotal(big.watch.requests);
  const first = githubTotal(big.watchFirst);
  const { schedule } = settings;
  const hourly = schedule.poll * poll + schedule.watch * watch;
  const pairs = Math.floor(TARGETS.githubBudget / (poll + watch));
  return [
    `## GitHub budget at ${sizeLabel(big.size)}`,
    '',
    `GitHub allows a token ${TARGETS.githubBudget} REST requests an hour, and ${TARGETS.githubBudget} GraphQL points. Every request counts, reads and writes, and each GraphQL query its points.`,
    '',
    table(
      ['', 'GitHub requests per tick', 'ticks an hour in 5,000'],
      [
        ['poll', poll, Math.floor(TARGETS.githubBudget / poll)],
        ['watch (steady)', watch, Math.floor(TARGETS.githubBudget / watch)],
        ['watch, first (every run changed)', first, Math.floor(TARGETS.githubBudget / first)],
        ['one poll and one watch', poll + watch, pairs],
      ],
    ),
    '',
    `At the shipped schedule (k8s/base: poll ${schedule.poll} and watch ${schedule.watch} times an hour) this size`,
    `needs ${hourly} requests an hour: ${hourly <= TARGETS.githubBudget ? 'within' : `${(hourly / TARGETS.githubBudget).toFixed(1)}× over`} the budget.`,
    '',
  ];
}

function renderGrowth(sizes: SizeResult[]): string[] {
  const base = smallest(sizes);
  const big = largest(sizes);
  const others = sizes.filter((s) => s !== base);
  const change = (s: Size) => {
    const parts: string[] = [];
    if (s.repos !== base.size.repos) parts.push(`repos ×${s.repos / base.size.repos}`);
    if (s.ready !== base.size.ready) parts.push(`ready ×${s.ready / base.size.ready}`);
    if (s.live !== base.size.live) parts.push(`live ×${s.live / base.size.live}`);
    return parts.join(', ');
  };
  const factor = (a: number, b: number) => (a === 0 ? '—' : `×${(b / a).toFixed(2)}`);
  const top = (r: RequestSummary) => {
    const [kind, n] = r.byKind[0] ?? ['', 0];
    const total = r.github.reads + r.github.writes + r.t3.reads + r.t3.writes + r.slack;
    return `\`${kind}\`: ${n} of ${total}`;
  };
  return [
    '## How the figures grow',
    '',
    `Each factor is relative to the smallest size (${sizeLabel(base.size)}, repos / ready / live).`,
    '',
    table(
      [
        'change',
        'poll GitHub req',
        'poll wall',
        'poll RSS',
        'watch GitHub req',
        'watch wall',
        'watch RSS',
      ],
      others.map((s) => [
        `${change(s.size)} (${sizeLabel(s.size)})`,
        factor(githubTotal(base.poll.requests), githubTotal(s.poll.requests)),
        factor(base.poll.wallMs.median, s.poll.wallMs.median),
        factor(base.poll.peakRssMb.median, s.poll.peakRssMb.median),
        factor(githubTotal(base.watch.requests), githubTotal(s.watch.requests)),
        factor(base.watch.wallMs.median, s.watch.wallMs.median),
        factor(base.watch.peakRssMb.median, s.watch.peakRssMb.median),
      ]),
    ),
    '',
    `What dominates at ${sizeLabel(big.size)}: poll ${top(big.poll.requests)}; watch ${top(big.watch.requests)}; watch, first ${top(big.watchFirst)}.`,
    `Of the watch tick's ${ms(big.watch.wallMs.median)} ms, the emulators spent ${ms(big.watch.emulatorCpuMs.median)} ms of CPU answering it;`,
    `of the poll tick's ${ms(big.poll.wallMs.median)} ms, ${ms(big.poll.emulatorCpuMs.median)} ms.`,
    '',
  ];
}

function renderProfile(big: SizeResult): string[] {
  if (big.profile === null) return [];
  const { poll, watch } = big.profile;
  const shown = [...new Set([...poll.slice(0, 12), ...watch.slice(0, 12)].map((t) => t.what))];
  const cell = (list: typeof poll, what: string) => {
    const found = list.find((t) => t.what === what);
    return found === undefined ? ['', ''] : [ms(found.ms), `${(found.share * 100).toFixed(0)}%`];
  };
  const total = (list: typeof poll) => list.reduce((n, t) => n + t.ms, 0);
  return [
    `## Where a tick's time goes at ${sizeLabel(big.size)}`,
    '',
    "One more poll and one more watch tick at the largest size, under V8's sampling profiler",
    '(`node --cpu-prof`; it slows the tick a little). Each sample is counted to the package or',
    "afk module its function comes from (the bundle keeps esbuild's module markers), or to",
    "Node's built-ins; a native function (a RegExp, a write) counts to its caller.",
    '"idle" is the event loop waiting for answers.',
    '',
    table(
      ['where', 'poll ms', 'poll share', 'watch ms', 'watch share'],
      [
        ...shown.map((what) => [what, ...cell(poll, what), ...cell(watch, what)]),
        ['all', ms(total(poll)), '100%', ms(total(watch)), '100%'],
      ],
    ),
    '',
  ];
}
