import { describe, expect, it } from 'vitest';
import {
  escapeLabelValue,
  parseConfig,
  renderTickMetrics,
  type TickMetricFacts,
} from '../../src/core/index.js';

const facts = (overrides: Partial<TickMetricFacts> = {}): TickMetricFacts => ({
  startedAt: new Date('2026-11-21T08:00:00.000Z'),
  endedAt: new Date('2026-11-21T08:00:02.500Z'),
  exitCode: 0,
  requests: [],
  actions: [],
  failures: 0,
  liveRuns: null,
  queueDepth: null,
  escalations: null,
  ...overrides,
});

const lines = (text: string) => text.split('\n').filter((l) => !l.startsWith('#') && l !== '');

describe('renderTickMetrics', () => {
  it('renders a busy poll tick exactly', () => {
    const text = renderTickMetrics(
      facts({
        exitCode: 1,
        requests: [
          { upstream: 'tracker', method: 'GET', count: 11 },
          { upstream: 't3', method: 'POST', count: 3 },
          { upstream: 'tracker', method: 'DELETE', count: 1 },
          { upstream: 't3', method: 'GET', count: 2 },
        ],
        actions: [
          { kind: 'ensureProject', status: 'done' },
          { kind: 'startTurn', status: 'failed' },
          { kind: 'upsertChecklist', status: 'skipped' },
          { kind: 'ensureProject', status: 'done' },
        ],
        failures: 1,
        liveRuns: 2,
        queueDepth: 4,
      }),
    );
    expect(text).toBe(
      [
        '# HELP afk_tick_duration_seconds Wall-clock duration of the tick.',
        '# TYPE afk_tick_duration_seconds gauge',
        'afk_tick_duration_seconds 2.5',
        '# HELP afk_tick_exit_code Exit code of the tick: 0 done, 1 some action failed, 3 an upstream could not be read.',
        '# TYPE afk_tick_exit_code gauge',
        'afk_tick_exit_code 1',
        '# HELP afk_tick_last_success_timestamp_seconds End of the tick, when it ran to the end (exit code 0 or 1), in Unix seconds.',
        '# TYPE afk_tick_last_success_timestamp_seconds gauge',
        'afk_tick_last_success_timestamp_seconds 1795248002.5',
        '# HELP afk_tick_failures Failures in the tick: failed actions and issues that failed before any action.',
        '# TYPE afk_tick_failures gauge',
        'afk_tick_failures 1',
        '# HELP afk_upstream_requests HTTP requests the tick sent, by upstream and method (retries included).',
        '# TYPE afk_upstream_requests gauge',
        'afk_upstream_requests{upstream="t3",method="GET"} 2',
        'afk_upstream_requests{upstream="t3",method="POST"} 3',
        'afk_upstream_requests{upstream="tracker",method="DELETE"} 1',
        'afk_upstream_requests{upstream="tracker",method="GET"} 11',
        '# HELP afk_actions Actions the tick executed, by kind and outcome.',
        '# TYPE afk_actions gauge',
        'afk_actions{kind="ensureProject",status="done"} 2',
        'afk_actions{kind="startTurn",status="failed"} 1',
        'afk_actions{kind="upsertChecklist",status="skipped"} 1',
        '# HELP afk_live_runs Runs holding the in-progress label when the tick read the tracker.',
        '# TYPE afk_live_runs gauge',
        'afk_live_runs 2',
        '# HELP afk_queue_depth Ready issues still waiting for an agent after the tick.',
        '# TYPE afk_queue_depth gauge',
        'afk_queue_depth 4',
        '',
      ].join('\n'),
    );
  });

  it('counts turns by purpose and outcome', () => {
    const text = renderTickMetrics(
      facts({
        actions: [
          { kind: 'startTurn', status: 'done', purpose: 'review' },
          { kind: 'startTurn', status: 'done', purpose: 'conflict' },
          { kind: 'startTurn', status: 'failed', purpose: 'review' },
          { kind: 'startTurn', status: 'done', purpose: 'review' },
          { kind: 'upsertChecklist', status: 'done' },
        ],
      }),
    );
    expect(text).toContain(
      [
        '# HELP afk_turns Turns the tick sent to agents, by purpose and outcome.',
        '# TYPE afk_turns gauge',
        'afk_turns{purpose="conflict",status="done"} 1',
        'afk_turns{purpose="review",status="done"} 2',
        'afk_turns{purpose="review",status="failed"} 1',
        '',
      ].join('\n'),
    );
  });

  it('renders watch escalations by reason, and no queue depth', () => {
    const text = renderTickMetrics(
      facts({
        liveRuns: 3,
        escalations: ['stalled', 'fix-forward-exhausted', 'stalled'],
      }),
    );
    expect(text).toContain(
      [
        '# HELP afk_escalations Runs the tick decided to hand to a human, by reason.',
        '# TYPE afk_escalations gauge',
        'afk_escalations{reason="fix-forward-exhausted"} 1',
        'afk_escalations{reason="stalled"} 2',
        '',
      ].join('\n'),
    );
    expect(text).not.toContain('afk_queue_depth');
  });

  it.each([
    [0, true],
    [1, true],
    [3, false],
  ])('with exit code %i, pushes the last success time: %s', (exitCode, pushed) => {
    const text = renderTickMetrics(facts({ exitCode }));
    expect(text.includes('afk_tick_last_success_timestamp_seconds 1795248002.5\n')).toBe(pushed);
    expect(text).toContain(`afk_tick_exit_code ${exitCode}\n`);
  });

  it('leaves out what the tick did not learn, rather than reporting zero', () => {
    const text = renderTickMetrics(
      facts({
        exitCode: 3,
        failures: 1,
        requests: [{ upstream: 'tracker', method: 'GET', count: 0 }],
      }),
    );
    expect(lines(text)).toEqual([
      'afk_tick_duration_seconds 2.5',
      'afk_tick_exit_code 3',
      'afk_tick_failures 1',
    ]);
    // A family without samples has no HELP or TYPE line either.
    expect(text).not.toMatch(/afk_(live_runs|queue_depth|escalations|actions|upstream_requests)/);
  });

  it('reports zero live runs and an empty queue as zero', () => {
    expect(lines(renderTickMetrics(facts({ liveRuns: 0, queueDepth: 0 })))).toEqual(
      expect.arrayContaining(['afk_live_runs 0', 'afk_queue_depth 0']),
    );
  });

  it.each([
    ['no servers section with one T3 server', undefined, []],
    [
      'each server: live runs, capacity, up; what was not learned left out',
      [
        { name: 'a', capacity: 4, liveRuns: 3, up: true },
        { name: 'b', capacity: 2, liveRuns: null, up: false },
        { name: 'c', capacity: 1, liveRuns: 0, up: null },
      ],
      [
        'afk_t3_server_live_runs{server="a"} 3',
        'afk_t3_server_live_runs{server="c"} 0',
        'afk_t3_server_capacity{server="a"} 4',
        'afk_t3_server_capacity{server="b"} 2',
        'afk_t3_server_capacity{server="c"} 1',
        'afk_t3_server_up{server="a"} 1',
        'afk_t3_server_up{server="b"} 0',
      ],
    ],
  ] as const)('renders the T3 server gauges: %s', (_name, servers, expected) => {
    const text = renderTickMetrics(facts({ servers }));
    expect(lines(text).filter((l) => l.startsWith('afk_t3_server'))).toEqual(expected);
  });

  it.each([
    ['no turn, no family', [], []],
    [
      'one sample per purpose and outcome, counted',
      [
        { kind: 'startTurn', status: 'done', purpose: 'first-turn' },
        { kind: 'startTurn', status: 'done', purpose: 'command' },
        { kind: 'startTurn', status: 'done', purpose: 'command' },
        { kind: 'startTurn', status: 'failed', purpose: 'command' },
        { kind: 'startTurn', status: 'skipped', purpose: 'fix-forward' },
        { kind: 'startTurn', status: 'done', purpose: 'continue' },
      ],
      [
        'afk_turns{purpose="command",status="done"} 2',
        'afk_turns{purpose="command",status="failed"} 1',
        'afk_turns{purpose="continue",status="done"} 1',
        'afk_turns{purpose="first-turn",status="done"} 1',
        'afk_turns{purpose="fix-forward",status="skipped"} 1',
      ],
    ],
    [
      'only turns: a response to the agent or a stop is no turn',
      [
        { kind: 'respondToApproval', status: 'done' },
        { kind: 'respondToUserInput', status: 'done' },
        { kind: 'stopSession', status: 'done' },
        { kind: 'startTurn', status: 'done', purpose: 'command' },
      ],
      ['afk_turns{purpose="command",status="done"} 1'],
    ],
  ] as const)('renders afk_turns by purpose and status: %s', (_name, actions, expected) => {
    const text = renderTickMetrics(facts({ actions }));
    expect(lines(text).filter((l) => l.startsWith('afk_turns'))).toEqual(expected);
    expect(text.includes('# TYPE afk_turns gauge\n')).toBe(expected.length > 0);
  });

  it('escapes label values', () => {
    const text = renderTickMetrics(facts({ escalations: ['say "hi"\\\nbye'], requests: [] }));
    expect(text).toContain('afk_escalations{reason="say \\"hi\\"\\\\\\nbye"} 1\n');
    expect(text.split('\n').filter((l) => l.startsWith('afk_escalations'))).toHaveLength(1);
  });

  it.each([
    ['plain', 'plain'],
    ['a "quote"', 'a \\"quote\\"'],
    ['back\\slash', 'back\\\\slash'],
    ['line\nfeed', 'line\\nfeed'],
    ['\\"', '\\\\\\"'],
  ])('escapes the label value %j as %j', (value, escaped) => {
    expect(escapeLabelValue(value)).toBe(escaped);
  });

  it('renders the same text whatever order the facts come in', () => {
    const requests = [
      { upstream: 'tracker', method: 'GET', count: 1 },
      { upstream: 'slack', method: 'POST', count: 1 },
    ];
    expect(renderTickMetrics(facts({ requests }))).toBe(
      renderTickMetrics(facts({ requests: [...requests].reverse() })),
    );
  });
});

// The config section that turns the push on (src/core/config.ts, `metrics`).
describe('the metrics config section', () => {
  it('is off by default: no Pushgateway, job "afk"', () => {
    const parsed = parseConfig(undefined, {});
    expect(parsed.ok && parsed.config.metrics).toEqual({ pushgatewayUrl: null, job: 'afk' });
  });

  it('accepts an http(s) URL with credentials and a path prefix', () => {
    const parsed = parseConfig({ metrics: { pushgatewayUrl: 'https://u:p@pg.example/prom' } }, {});
    expect(parsed.ok && parsed.config.metrics.pushgatewayUrl).toBe('https://u:p@pg.example/prom');
  });

  it.each([
    [
      { pushgatewayUrl: 'ftp://u:hunter2@pg.example' },
      'metrics.pushgatewayUrl: expected an http(s) URL',
    ],
    [{ pushgatewayUrl: 'hunter2' }, 'metrics.pushgatewayUrl: expected an http(s) URL'],
    [{ job: 'afk/prod' }, 'metrics.job: expected letters, digits, "_", ".", ":" or "-"'],
    [{ job: '' }, 'metrics.job: expected letters, digits, "_", ".", ":" or "-"'],
    [{ interval: 5 }, 'metrics.interval: unknown key'],
  ])('rejects %j without echoing the value', (metrics, problem) => {
    const parsed = parseConfig({ metrics }, {});
    expect(parsed.ok ? [] : parsed.problems).toEqual([problem]);
    expect(JSON.stringify(parsed)).not.toContain('hunter2');
  });
});
