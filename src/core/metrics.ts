// A tick's metrics in the Prometheus text exposition format 0.0.4, from plain facts. Every
// metric is a gauge describing this one tick: the push replaces the command's whole group
// (PUT), so a counter would be reset on every push anyway.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
// https://prometheus.io/docs/practices/naming/

export type ActionStatus = 'done' | 'failed' | 'skipped';

export interface TickMetricFacts {
  startedAt: Date;
  endedAt: Date;
  exitCode: number;
  /** Requests sent to the upstreams this tick, one entry per upstream and method. */
  requests: ReadonlyArray<{ upstream: string; method: string; count: number }>;
  /**
   * One entry per executed action (none in a tick that stopped before acting); a turn names
   * its purpose (first-turn, fix-forward, continue, review, conflict, command).
   */
  actions: ReadonlyArray<{ kind: string; status: ActionStatus; purpose?: string }>;
  /** Failed actions plus failures before any action: the report's "N failed". */
  failures: number;
  /** Runs holding the in-progress label when the tick read them; null: not read. */
  liveRuns: number | null;
  /** poll: ready issues still waiting after the tick; null: not poll's, or not read. */
  queueDepth: number | null;
  /** watch: the reason of each escalation decided this tick; null: not watch's, or not read. */
  escalations: readonly string[] | null;
  /** With several T3 servers (`t3.servers`): each one's live runs, capacity and reachability. */
  servers?: readonly ServerMetricFacts[] | undefined;
}

export interface ServerMetricFacts {
  name: string;
  /** null: no cap of its own. */
  capacity: number | null;
  /** In-progress issues of the server's repos; null: not read. */
  liveRuns: number | null;
  /** Did its snapshot answer this tick? null: not asked. */
  up: boolean | null;
}

type Labels = ReadonlyArray<readonly [string, string]>;

interface Family {
  name: string;
  help: string;
  samples: Array<{ labels: Labels; value: number }>;
}

/**
 * Exit codes 0 and 1 both mean the tick read its upstreams and ran to the end (1: some
 * action failed, which `afk_tick_failures` and `afk_actions` show); 3 means it could not.
 * So "last success" is the last tick that ran to the end, and one stuck issue does not make
 * afk look down.
 */
const ranToTheEnd = (exitCode: number) => exitCode === 0 || exitCode === 1;

const single = (value: number): Family['samples'] => [{ labels: [], value }];

/** The tick itself: how long it took, how it ended. */
function tickFamilies(facts: TickMetricFacts): Family[] {
  const seconds = (date: Date) => date.getTime() / 1000;
  return [
    {
      name: 'afk_tick_duration_seconds',
      help: 'Wall-clock duration of the tick.',
      samples: single((facts.endedAt.getTime() - facts.startedAt.getTime()) / 1000),
    },
    {
      name: 'afk_tick_exit_code',
      help: 'Exit code of the tick: 0 done, 1 some action failed, 3 an upstream could not be read.',
      samples: single(facts.exitCode),
    },
    {
      name: 'afk_tick_last_success_timestamp_seconds',
      help: 'End of the tick, when it ran to the end (exit code 0 or 1), in Unix seconds.',
      samples: ranToTheEnd(facts.exitCode) ? single(seconds(facts.endedAt)) : [],
    },
    {
      name: 'afk_tick_failures',
      help: 'Failures in the tick: failed actions and issues that failed before any action.',
      samples: single(facts.failures),
    },
  ];
}

/** What the tick did and saw: requests, actions, runs, the queue, escalations. */
function workFamilies(facts: TickMetricFacts): Family[] {
  return [
    {
      name: 'afk_upstream_requests',
      help: 'HTTP requests the tick sent, by upstream and method (retries included).',
      samples: facts.requests
        .filter((r) => r.count > 0)
        .map((r) => ({
          labels: [
            ['upstream', r.upstream],
            ['method', r.method],
          ] as const,
          value: r.count,
        })),
    },
    {
      name: 'afk_actions',
      help: 'Actions the tick executed, by kind and outcome.',
      samples: tally(facts.actions.map((a) => [['kind', a.kind] as const, ['status', a.status]])),
    },
    {
      name: 'afk_turns',
      help: 'Turns the tick sent to agents, by purpose and outcome.',
      samples: tally(
        facts.actions.flatMap((a) =>
          a.kind === 'startTurn' && a.purpose !== undefined
            ? [[['purpose', a.purpose] as const, ['status', a.status]]]
            : [],
        ),
      ),
    },
    {
      name: 'afk_live_runs',
      help: 'Runs holding the in-progress label when the tick read the tracker.',
      samples: facts.liveRuns === null ? [] : single(facts.liveRuns),
    },
    {
      name: 'afk_queue_depth',
      help: 'Ready issues still waiting for an agent after the tick.',
      samples: facts.queueDepth === null ? [] : single(facts.queueDepth),
    },
    {
      name: 'afk_escalations',
      help: 'Runs the tick decided to hand to a human, by reason.',
      samples: tally((facts.escalations ?? []).map((reason) => [['reason', reason] as const])),
    },
  ];
}

/** Each T3 server: its live runs beside its capacity, and whether it answered. */
function serverFamilies(facts: TickMetricFacts): Family[] {
  const servers = facts.servers ?? [];
  const per = (value: (s: ServerMetricFacts) => number | null) =>
    servers.flatMap((s) => {
      const v = value(s);
      return v === null ? [] : [{ labels: [['server', s.name] as const], value: v }];
    });
  return [
    {
      name: 'afk_t3_server_live_runs',
      help: 'Runs holding the in-progress label in the repos pinned to the T3 server.',
      samples: per((s) => s.liveRuns),
    },
    {
      name: 'afk_t3_server_capacity',
      help: 'Live runs the T3 server may host (t3.servers capacity).',
      samples: per((s) => s.capacity),
    },
    {
      name: 'afk_t3_server_up',
      help: 'Whether the T3 server answered its snapshot this tick (1) or not (0).',
      samples: per((s) => (s.up === null ? null : s.up ? 1 : 0)),
    },
  ];
}

export function renderTickMetrics(facts: TickMetricFacts): string {
  return [...tickFamilies(facts), ...workFamilies(facts), ...serverFamilies(facts)]
    .filter((family) => family.samples.length > 0)
    .flatMap((family) => [
      `# HELP ${family.name} ${escapeHelp(family.help)}`,
      `# TYPE ${family.name} gauge`,
      ...sortSamples(family.samples).map(
        ({ labels, value }) => `${family.name}${renderLabels(labels)} ${formatValue(value)}`,
      ),
    ])
    .map((line) => `${line}\n`)
    .join('');
}

/** One sample per distinct label set, its value the number of occurrences. */
function tally(labelSets: Labels[]): Family['samples'] {
  const counts = new Map<string, { labels: Labels; value: number }>();
  for (const labels of labelSets) {
    const key = JSON.stringify(labels);
    const known = counts.get(key);
    if (known === undefined) counts.set(key, { labels, value: 1 });
    else known.value += 1;
  }
  return [...counts.values()];
}

// Sorted, so the same facts always render the same text.
const sortSamples = (samples: Family['samples']) =>
  [...samples].sort((a, b) => {
    const x = renderLabels(a.labels);
    const y = renderLabels(b.labels);
    return x < y ? -1 : x > y ? 1 : 0;
  });

const renderLabels = (labels: Labels): string =>
  labels.length === 0
    ? ''
    : `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;

/** In a label value, backslash, double quote and line feed are escaped. */
export const escapeLabelValue = (value: string): string =>
  value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

/** In HELP text, only backslash and line feed are. */
const escapeHelp = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');

const formatValue = (value: number): string =>
  Number.isNaN(value)
    ? 'NaN'
    : value === Infinity
      ? '+Inf'
      : value === -Infinity
        ? '-Inf'
        : String(value);
