// Renders a benchmark run as docs/benchmarks.md: every figure and every verdict below comes
// from the run; only the explanations of method are fixed text.
import type { ColdStartFigure, ColdStartResult } from './coldstart.js';
import type { PerRun, RequestSummary, SizeResult, Spread, TickSample } from './scale.js';
import type { ServerDownResult } from './servers.js';
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
  /** The first is the size the targets are judged at; the others vary one of its figures. */
  sizes: SizeResult[];
  servers: ServerDownResult;
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
  /** Issue 13: the shipped schedule's GitHub cost an hour, REST requests plus GraphQL points. */
  hourly: 2500,
  /** Issue 13: a tick's GitHub reads (REST GETs plus GraphQL points), beside its writes. */
  pollReads: 5,
  watchReads: 10,
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

/** GitHub REST requests of a tick that are reads (GETs; GraphQL queries are counted apart). */
const restReads = (r: RequestSummary) => r.github.reads - r.graphqlQueries;
/** What a tick's reads cost GitHub: its REST GETs, and each GraphQL query at its points. */
const readCost = (r: RequestSummary) => restReads(r) + r.graphqlPoints;
/** GitHub's cost of a tick: its REST requests, and each GraphQL query at its points. */
const githubTotal = (r: RequestSummary) => readCost(r) + r.github.writes;
/** Writes of a tick to every upstream: GitHub, T3 and Slack. */
const allWrites = (r: RequestSummary) => r.github.writes + r.t3.writes + r.slack;
const kindCount = (r: RequestSummary, kind: string) => r.byKind.find(([k]) => k === kind)?.[1] ?? 0;
const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export function renderReport(result: BenchResult): string {
  const { machine, settings, coldStart, sizes } = result;
  const big = sizes[0];
  if (big === undefined) throw new Error('bench: no sizes measured');
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
    ...renderTicks(sizes, settings, big),
    ...renderTargets(sizes, coldStart, big, result.servers, settings),
    ...renderBudget(big, settings),
    ...renderClaims(big),
    ...renderServers(result.servers),
    ...renderGrowth(sizes, big),
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

function renderTicks(sizes: SizeResult[], settings: Settings, big: SizeResult): string[] {
  const cells = (r: RequestSummary) => [
    restReads(r),
    r.graphqlQueries,
    r.graphqlPoints,
    r.github.writes,
    allWrites(r),
    r.t3.reads,
    r.t3.writes,
    r.slack,
  ];
  const tickRow = (s: SizeResult, name: string, t: TickSample) => [
    name,
    sizeLabel(s.size),
    ...cells(t.requests),
    spreadText(t.wallMs, ms),
    ms(t.tickCpuMs.median),
    ms(t.emulatorCpuMs.median),
    spreadText(t.peakRssMb, mb),
    t.outcome,
  ];
  const head = [
    'tick',
    'repos / ready / live',
    'GitHub REST reads',
    'GraphQL queries',
    'GraphQL points',
    'GitHub writes',
    'writes per tick',
    'T3 GET',
    'T3 writes',
    'Slack',
    'wall ms',
    'tick CPU ms',
    'emulator CPU ms',
    'peak RSS MB',
    'outcome',
  ];
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
    '"GitHub REST reads" are GETs; GitHub\'s reads of the queues and the live runs go through',
    'GraphQL ("GraphQL queries"), and "GraphQL points" is what those cost, by GitHub\'s formula as',
    'the emulator counts them (a budget of its own beside REST\'s requests). "writes per tick" is',
    "every write of the tick: GitHub's, T3's commands and Slack's doorbells.",
    'Request counts are the same in every repetition (checked). "Tick CPU" is the CPU time the',
    'tick\'s process used (user + system); "emulator CPU" is what the emulators spent answering',
    "it: part of the tick's wall time on loopback, none of it against GitHub.",
    '',
    table(
      head,
      sizes.flatMap((s) => [
        tickRow(s, 'poll', s.poll),
        tickRow(s, 'watch', s.watch),
        ['watch, first', sizeLabel(s.size), ...cells(s.watchFirst), '', '', '', '', ''],
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
    "the batched GraphQL reads, `/user` and the T3 snapshot are the tick's own.",
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

/** Poll's reads of the issues it dispatches: trust checks, and the check of a new comment. */
const trustChecks = (r: RequestSummary) =>
  kindCount(r, 'github GET /repos/:owner/:repo/collaborators/:user/permission') +
  kindCount(r, 'github GET /repos/:owner/:repo/issues/:n/events') +
  kindCount(r, 'github GET /repos/:owner/:repo/issues/:n/comments');

const CLAIM = {
  take: 'github POST /repos/:owner/:repo/issues/comments/:n/reactions',
  read: 'github GET /repos/:owner/:repo/issues/comments/:n',
  write: 'github PATCH /repos/:owner/:repo/issues/comments/:n',
  release: 'github DELETE /repos/:owner/:repo/issues/comments/:n/reactions/:n',
} as const;

/** The three ticks at the targets' size against issue 13's targets, one row each. */
function tickTargets(big: SizeResult): Array<Array<string | number>> {
  const row = (name: string, r: RequestSummary, limit: number, note: string) => [
    name,
    `${restReads(r)} REST + ${r.graphqlPoints} points (${r.graphqlQueries} queries) = ${readCost(r)}; ${r.github.writes} writes${note}`,
    `≤ ${limit}${name === 'watch, steady' ? '' : ' + its writes'}`,
    yes(readCost(r) <= limit),
  ];
  const poll = big.poll.requests;
  const first = big.watchFirst;
  const self = (r: RequestSummary) => kindCount(r, 'github GET /user');
  return [
    row(
      'poll',
      poll,
      TARGETS.pollReads,
      ` (REST reads: ${trustChecks(poll)} of the issues it dispatched: trust checks and the check of its new comment; ${self(poll)} \`/user\`)`,
    ),
    row('watch, steady', big.watch.requests, TARGETS.watchReads, ''),
    row(
      'watch, first',
      first,
      TARGETS.watchReads,
      ` (REST reads: ${kindCount(first, CLAIM.read)} reads of afk's comment under its claim, ${self(first)} \`/user\`)`,
    ),
  ];
}

function renderTargets(
  sizes: SizeResult[],
  cold: ColdStartResult,
  big: SizeResult,
  servers: ServerDownResult,
  settings: Settings,
): string[] {
  const help = cold.figures.find((f) => f.case.name === 'afk --help');
  const poll = cold.figures.find((f) => f.case.name === 'afk poll (disabled)');
  const steadyMax = maxGets(big.perRun.steady);
  const firstMax = maxGets(big.perRun.first);
  const snapshots =
    big.watch.requests.byKind.find(([k]) => k.endsWith('/api/orchestration/snapshot'))?.[1] ?? 0;
  const walls = [big.poll.wallMs.median, big.watch.wallMs.median];
  const rss = Math.max(big.poll.peakRssMb.median, big.watch.peakRssMb.median);
  const rssAll = Math.max(
    ...sizes.flatMap((s) => [s.poll.peakRssMb.median, s.watch.peakRssMb.median]),
  );
  const hourly = hourlyCost(big, settings);
  return [
    '## Targets',
    '',
    `Issue 13's targets are judged at ${sizeLabel(big.size)} (repos / ready / live). A tick's`,
    "reads cost GitHub its REST GETs plus its GraphQL queries' points; its writes are counted",
    'beside them (poll and the first watch may add their writes to the limit, a steady watch',
    'writes nothing). Every verdict is computed from the figures of this run.',
    '',
    table(
      ['target', 'measured', 'limit', 'verdict'],
      [
        ...tickTargets(big),
        [
          'GitHub cost of the shipped schedule, an hour',
          `${thousands(hourly.total)} (see GitHub budget)`,
          `≤ ${thousands(TARGETS.hourly)}`,
          yes(hourly.total <= TARGETS.hourly),
        ],
        [
          `every tick's wall time at ${sizeLabel(big.size)}`,
          `poll ${ms(walls[0] ?? Number.NaN)} ms (CPU ${ms(big.poll.tickCpuMs.median)} ms), watch ${ms(walls[1] ?? Number.NaN)} ms (CPU ${ms(big.watch.tickCpuMs.median)} ms)`,
          `≤ ${TARGETS.wallMs / 1000} s`,
          yes(walls.every((w) => w <= TARGETS.wallMs)),
        ],
        [
          `peak RSS per tick at ${sizeLabel(big.size)}`,
          `at most ${mb(rss)} MB (at any size measured: ${mb(rssAll)} MB)`,
          `≤ ${TARGETS.rssMb} MB`,
          yes(rss <= TARGETS.rssMb),
        ],
        [
          'three T3 servers, one down: the other two served, the tick names the down one',
          `${servers.down} down: watch decided ${servers.watch.decided} of ${servers.watch.expected} runs on ${servers.up.join(' and ')}, poll dispatched ${servers.poll.wanted} there; both named ${servers.down} (see Many T3 servers)`,
          '',
          yes(servers.ok),
        ],
        [
          `watch: at most ${TARGETS.watchGetsPerRun} GETs per live run + one snapshot`,
          `steady tick: at most ${steadyMax} per run; first tick after changes: at most ${firstMax}; ${snapshots} snapshot`,
          '',
          `steady ${yes(steadyMax <= TARGETS.watchGetsPerRun && snapshots <= 1)}; first ${yes(firstMax <= TARGETS.watchGetsPerRun)}`,
        ],
        [
          `cold start`,
          `--help ${x(help?.ratio ?? Number.NaN)}; disabled poll ${x(poll?.ratio ?? Number.NaN)}`,
          `≤ ${TARGETS.coldStartRatio}× \`node -e 0\``,
          `--help ${yes((help?.ratio ?? Infinity) <= TARGETS.coldStartRatio)}; disabled poll ${yes((poll?.ratio ?? Infinity) <= TARGETS.coldStartRatio)}`,
        ],
        [
          'a disabled poll still validates its config',
          `\`killSwitch: maybe\`: exit ${cold.badConfigExit}`,
          'exit 2',
          yes(cold.badConfigExit === 2),
        ],
      ],
    ),
    '',
  ];
}

/** The shipped schedule's GitHub cost an hour: every poll and every (steady) watch tick. */
function hourlyCost(big: SizeResult, settings: Settings) {
  const poll = githubTotal(big.poll.requests);
  const watch = githubTotal(big.watch.requests);
  const { schedule } = settings;
  return { poll, watch, total: schedule.poll * poll + schedule.watch * watch };
}

function renderBudget(big: SizeResult, settings: Settings): string[] {
  const { poll, watch, total } = hourlyCost(big, settings);
  const first = githubTotal(big.watchFirst);
  const { schedule } = settings;
  const s = big.size;
  const parts = (r: RequestSummary) =>
    `${restReads(r)} REST reads + ${r.graphqlPoints} points + ${r.github.writes} writes`;
  return [
    `## GitHub budget at ${sizeLabel(s)}`,
    '',
    `budget: ${thousands(total)} GitHub requests per hour at ${thousands(s.repos)} repos / ${thousands(s.ready)} ready / ${thousands(s.live)} live (poll every ${60 / schedule.poll} min, watch every ${60 / schedule.watch} min)`,
    '',
    `Computed as poll × ${schedule.poll} + steady watch × ${schedule.watch} (the k8s/base CronJobs' ticks an hour),`,
    'each tick at its REST requests (reads and writes) plus its GraphQL points:',
    `poll ${poll} (${parts(big.poll.requests)}), steady watch ${watch} (${parts(big.watch.requests)});`,
    `${schedule.poll} × ${poll} + ${schedule.watch} × ${watch} = ${thousands(total)}, against a target of at most ${thousands(TARGETS.hourly)}: ${yes(total <= TARGETS.hourly)}.`,
    `A first watch after every run moved costs ${first} (${parts(big.watchFirst)}); each one in`,
    `place of a steady watch adds ${first - watch}. GitHub allows a token ${thousands(TARGETS.githubBudget)} REST requests and ${thousands(TARGETS.githubBudget)} GraphQL points an hour, two budgets; the sum above spends them as one.`,
    '',
  ];
}

function renderClaims(big: SizeResult): string[] {
  const first = big.watchFirst;
  const take = kindCount(first, CLAIM.take);
  const read = kindCount(first, CLAIM.read);
  const write = kindCount(first, CLAIM.write);
  const release = kindCount(first, CLAIM.release);
  return [
    "## The claim's cost",
    '',
    "afk's comment is rewritten only under its claim (docs/concurrency.md): the claim (a",
    'reaction), a read of the comment under it, the rewrite, the release. In the first watch at',
    `${sizeLabel(big.size)}: ${take} claims, ${read} reads under a claim, ${write} rewrites and ${release} releases:`,
    `${take + read + write + release} GitHub requests, ${take + write + release} of them writes, of the tick's ${githubTotal(first)}.`,
    `A steady watch rewrites nothing and claims nothing (${kindCount(big.watch.requests, CLAIM.take)} claims).`,
    '',
    'The read under the claim stays. It is what makes the claim a guarantee: the batched read the',
    'plan was decided from came before the claim, and in between another tick may have claimed',
    'the comment, rewritten it (or rung the doorbell and recorded it) and released its claim. Its',
    'reaction is gone by then, so nothing this tick holds shows that it happened; only a read',
    "taken after this tick's own claim does. GitHub offers no conditional write of a comment",
    "(no `If-Match` on `PATCH`), and a reaction's answer carries no version of the comment.",
    'What is already cut: a comment is rewritten only when its rendering changed, a comment',
    "this tick created is not claimed at all, and one claim covers all of an issue's steps.",
    '',
  ];
}

function renderServers(servers: ServerDownResult): string[] {
  const size = `${servers.size.repos} repos, ${servers.size.ready} ready, ${servers.size.live} live`;
  const dispatched = Object.entries(servers.poll.dispatched)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const quote = (line: string | null) => (line === null ? '(no such line)' : `\`${line}\``);
  return [
    '## Many T3 servers',
    '',
    `A world of ${size} on three T3 servers (\`t3.servers\`: ${[...servers.up, servers.down].join(', ')}, the repos pinned to them in turn),`,
    `brought to a steady state with all three up; then ${servers.down} is down (its URL a port nothing listens on) for one watch and one poll tick.`,
    '',
    `- watch: exit ${servers.watch.exitCode}; it decided ${servers.watch.decided} of the ${servers.watch.expected} runs on ${servers.up.join(' and ')} and left ${servers.watch.unread} on ${servers.down} unread. It said:`,
    `  ${quote(servers.watch.line)}, and \`${servers.watch.summary}\``,
    `- poll: exit ${servers.poll.exitCode}; threads created per server: ${dispatched} (of ${servers.poll.wanted} a tick may dispatch). It said:`,
    `  ${quote(servers.poll.line)}, and \`${servers.poll.summary}\``,
    '',
    `Verdict: ${yes(servers.ok)}.`,
    '',
  ];
}

/** Sizes that differ from `base` in `axis` alone, `base` among them, in order. */
function axisOf(sizes: SizeResult[], base: SizeResult, axis: keyof Omit<Size, 'servers'>) {
  const others = (['repos', 'ready', 'live'] as const).filter((k) => k !== axis);
  return sizes
    .filter((s) => others.every((k) => s.size[k] === base.size[k]))
    .sort((a, b) => a.size[axis] - b.size[axis]);
}

function renderGrowth(sizes: SizeResult[], big: SizeResult): string[] {
  const factor = (a: number, b: number) => (a === 0 ? '—' : `×${(b / a).toFixed(2)}`);
  const cell = (value: number, base: number, f: (n: number) => string | number) =>
    `${f(value)} (${factor(base, value)})`;
  const rest = (t: { requests: RequestSummary }) =>
    restReads(t.requests) + t.requests.github.writes;
  const rows = (axis: 'repos' | 'live') => {
    const line = axisOf(sizes, big, axis);
    const first = line[0];
    if (first === undefined || line.length < 2) return [];
    return line.map((s) => [
      `${axis} ${s.size[axis]}`,
      sizeLabel(s.size),
      ...(['poll', 'watch'] as const).flatMap((c) => [
        cell(rest(s[c]), rest(first[c]), String),
        cell(s[c].requests.graphqlPoints, first[c].requests.graphqlPoints, String),
        cell(s[c].wallMs.median, first[c].wallMs.median, ms),
        cell(s[c].peakRssMb.median, first[c].peakRssMb.median, mb),
      ]),
    ]);
  };
  const top = (r: RequestSummary) => {
    const [kind, n] = r.byKind[0] ?? ['', 0];
    const total = r.github.reads + r.github.writes + r.t3.reads + r.t3.writes + r.slack;
    return `\`${kind}\`: ${n} of ${total}`;
  };
  return [
    '## How the figures grow',
    '',
    `One figure varied at a time from ${sizeLabel(big.size)} (repos / ready / live): the repos, then the`,
    'live runs. "requests" are GitHub REST requests (reads and writes), "points" GraphQL points;',
    'each factor in parentheses is relative to the first row of its group.',
    '',
    table(
      [
        'varied',
        'repos / ready / live',
        'poll requests',
        'poll points',
        'poll wall ms',
        'poll RSS MB',
        'watch requests',
        'watch points',
        'watch wall ms',
        'watch RSS MB',
      ],
      [...rows('repos'), ...rows('live')],
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
    "One more poll and one more watch tick at this size, under V8's sampling profiler",
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
