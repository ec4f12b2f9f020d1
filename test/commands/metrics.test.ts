import { HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { createSlackFake } from '../../emulators/slack.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { createPushgatewayFake, type PushgatewayFake } from '../../emulators/pushgateway.js';
import { useMswServer } from '../support/msw.js';
import { armedConfig, GITHUB_URL, runCli, T3_URL, writeConfig } from '../support/cli.js';
import { github } from '../support/forges.js';

const PUSHGATEWAY = 'https://pushgateway.test';
const SECRET = 's3cret-pw';
const SLACK_URL = 'https://hooks.slack.test/services/T000/B000/XXXX';
const PUSHGATEWAY_WITH_AUTH = `https://afk:${SECRET}@pushgateway.test`;

const { server, seen } = useMswServer();

let gh: GitHubFake;
let t3: T3Fake;
let gateway: PushgatewayFake;
beforeEach(() => {
  seen.length = 0;
  gh = createGitHubFake();
  t3 = createT3Fake();
  gateway = createPushgatewayFake(PUSHGATEWAY);
  server.use(...gh.handlers, ...t3.handlers, gateway.handler);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write' } });
  gh.addRepo('acme/web', { collaborators: { maintainer: 'write' } });
});

const ready = (repo: string, number: number) =>
  gh.addIssue(repo, {
    number,
    title: `Issue ${number}`,
    body: `Please fix thing ${number}.`,
    labels: ['ready-for-agent'],
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });

const withMetrics = (url = PUSHGATEWAY, overrides: Record<string, unknown> = {}) =>
  writeConfig(armedConfig({ metrics: { pushgatewayUrl: url }, ...overrides }));

/** The requests msw saw, counted the way afk labels them: by upstream and method. */
function upstreamCounts(): string[] {
  const upstreams: Record<string, string> = {
    [new URL(GITHUB_URL).host]: 'tracker',
    [new URL(T3_URL).host]: 't3',
    [new URL(SLACK_URL).host]: 'slack',
  };
  const counts = new Map<string, number>();
  for (const line of seen) {
    const [method, url] = line.split(' ') as [string, string];
    const upstream = upstreams[new URL(url).host];
    if (upstream === undefined) continue;
    const key = `afk_upstream_requests{upstream="${upstream}",method="${method}"}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${key} ${n}`).sort();
}

const samples = (body: string | undefined, name: string) =>
  (body ?? '')
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .sort();

describe('afk poll with a Pushgateway', () => {
  it('pushes the tick’s requests by upstream and its actions after a live tick', async () => {
    ready('acme/api', 1);
    ready('acme/api', 2);
    ready('acme/web', 3);

    const result = await runCli(['poll', '--config', withMetrics()]);

    expect(result.code, result.stderr).toBe(0);
    expect(gateway.pushes).toHaveLength(1);
    const [push] = gateway.pushes;
    expect(push).toMatchObject({
      method: 'PUT',
      path: '/metrics/job/afk/command/poll',
      contentType: 'text/plain; version=0.0.4',
    });
    // The push is the tick's last request, and counts every request before it.
    expect(seen.at(-1)).toBe(`PUT ${PUSHGATEWAY}/metrics/job/afk/command/poll`);
    const counted = upstreamCounts();
    expect(counted.some((l) => l.includes('upstream="t3",method="POST"'))).toBe(true);
    expect(samples(push?.body, 'afk_upstream_requests')).toEqual(counted);
    expect(samples(push?.body, 'afk_actions')).toEqual([
      'afk_actions{kind="addLabels",status="done"} 1',
      'afk_actions{kind="createThread",status="done"} 1',
      'afk_actions{kind="ensureProject",status="done"} 1',
      'afk_actions{kind="removeLabels",status="done"} 1',
      'afk_actions{kind="startTurn",status="done"} 1',
      'afk_actions{kind="upsertChecklist",status="done"} 1',
    ]);
    expect(samples(push?.body, 'afk_turns')).toEqual([
      'afk_turns{purpose="first-turn",status="done"} 1',
    ]);
    expect(push?.body).toContain('afk_tick_exit_code 0\n');
    expect(push?.body).toContain(
      `afk_tick_last_success_timestamp_seconds ${Date.parse('2026-11-21T08:00:00.000Z') / 1000}\n`,
    );
    expect(push?.body).toContain('afk_tick_failures 0\n');
    expect(push?.body).toContain('afk_live_runs 0\n');
    // One dispatch per tick by default: two of the three ready issues still wait.
    expect(push?.body).toContain('afk_queue_depth 2\n');
    expect(push?.body).not.toContain('afk_escalations');
  });

  it('pushes failed and skipped actions, and the exit code 1', async () => {
    ready('acme/api', 1);
    t3.failNext(
      { commandType: 'thread.turn.start' },
      {
        status: 500,
        body: {
          _tag: 'EnvironmentInternalError',
          code: 'internal_error',
          reason: 'orchestration_dispatch_failed',
          traceId: 't',
        },
      },
    );

    const result = await runCli(['poll', '--config', withMetrics()]);

    expect(result.code).toBe(1);
    const body = gateway.pushes[0]?.body;
    expect(samples(body, 'afk_actions')).toEqual([
      'afk_actions{kind="addLabels",status="skipped"} 1',
      'afk_actions{kind="createThread",status="done"} 1',
      'afk_actions{kind="ensureProject",status="done"} 1',
      'afk_actions{kind="removeLabels",status="skipped"} 1',
      'afk_actions{kind="startTurn",status="failed"} 1',
      'afk_actions{kind="upsertChecklist",status="skipped"} 1',
    ]);
    expect(body).toContain('afk_tick_exit_code 1\n');
    expect(body).toContain('afk_tick_failures 1\n');
    expect(body).toContain('afk_queue_depth 1\n');
  });

  it('pushes exit code 3 with no last-success time when no repo can be listed', async () => {
    // The one GraphQL query that counts every repo's queue.
    gh.failNext(github.listing.match('acme/api'), {
      status: 401,
      body: { message: 'Bad credentials' },
    });

    const result = await runCli(['poll', '--config', withMetrics()]);

    expect(result.code).toBe(3);
    const body = gateway.pushes[0]?.body ?? '';
    expect(body).toContain('afk_tick_exit_code 3\n');
    expect(body).toContain('afk_tick_failures 2\n');
    expect(body).not.toContain('afk_tick_last_success_timestamp_seconds');
    expect(body).not.toContain('afk_queue_depth');
    expect(samples(body, 'afk_upstream_requests')).toEqual(upstreamCounts());
  });

  it.each([500, 503, 404])(
    'keeps the exit code when the Pushgateway answers %i, and logs no URL',
    async (status) => {
      ready('acme/api', 1);
      gateway.answerWith(() => new HttpResponse('internal error\n', { status }));

      const result = await runCli(['poll', '--config', withMetrics(PUSHGATEWAY_WITH_AUTH)]);

      expect(result.code).toBe(0);
      expect(gateway.pushes).toHaveLength(1);
      expect(gh.issue('acme/api', 1).labels).toEqual(['agent-in-progress']);
      const warning = result.stderr
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((entry) => entry['level'] === 'warn');
      expect(warning).toMatchObject({
        command: 'poll',
        metrics: { kind: status === 404 ? 'not-found' : 'transient', status },
      });
      expect(result.stderr + result.stdout).not.toContain(SECRET);
      expect(result.stderr + result.stdout).not.toContain('pushgateway.test');
    },
  );

  it('keeps the exit code when the Pushgateway cannot be reached', async () => {
    gateway.answerWith(() => HttpResponse.error());
    const result = await runCli(['poll', '--config', withMetrics(PUSHGATEWAY_WITH_AUTH)]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('"kind":"transient","status":null');
    expect(result.stderr).not.toContain(SECRET);
  });

  it('logs its push at debug by host alone: a credential or a path prefix stays out', async () => {
    const result = await runCli(
      ['poll', '--config', withMetrics(`https://afk:${SECRET}@pushgateway.test/ops-prefix`)],
      { env: { AFK_LOG_LEVEL: 'debug' } },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(gateway.pushes).toHaveLength(1);
    expect(result.stderr).toMatch(/"msg":"PUT pushgateway\.test <pushgateway> 200 \d+ ms"/);
    expect(result.stderr).not.toContain(SECRET);
    expect(result.stderr).not.toContain('ops-prefix');
  });

  it.each([
    ['the kill switch', { killSwitch: true }, {}],
    ['an empty allowlist', {}, { AFK_REPOS: '' }],
  ])('pushes nothing, and sends no request at all, under %s', async (_name, overrides, env) => {
    ready('acme/api', 1);
    const result = await runCli(['poll', '--config', withMetrics(PUSHGATEWAY, overrides)], {
      env,
    });
    expect(result.code).toBe(0);
    expect(seen).toEqual([]);
  });

  it('pushes nothing in a dry run', async () => {
    ready('acme/api', 1);
    const result = await runCli(['poll', '--config', withMetrics(), '--dry-run']);
    expect(result.code).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    // GETs and GitHub GraphQL queries (a dry run's fetch refuses any other POST to /graphql).
    expect(seen.filter((s) => !s.startsWith('GET ') && !/^POST \S+\/graphql$/.test(s))).toEqual([]);
    expect(gateway.pushes).toEqual([]);
  });

  it('honours the job name', async () => {
    await runCli([
      'poll',
      '--config',
      writeConfig(armedConfig({ metrics: { pushgatewayUrl: PUSHGATEWAY, job: 'afk-staging' } })),
    ]);
    expect(gateway.pushes.map((p) => p.path)).toEqual(['/metrics/job/afk-staging/command/poll']);
  });
});

describe('afk watch with a Pushgateway', () => {
  it('pushes its own group, with zero live runs and no escalations', async () => {
    const result = await runCli(['watch', '--config', withMetrics()]);

    expect(result.code).toBe(0);
    expect(gateway.pushes.map((p) => `${p.method} ${p.path}`)).toEqual([
      'PUT /metrics/job/afk/command/watch',
    ]);
    const body = gateway.pushes[0]?.body;
    expect(samples(body, 'afk_live_runs')).toEqual(['afk_live_runs 0']);
    expect(samples(body, 'afk_upstream_requests')).toEqual(upstreamCounts());
    expect(body).not.toContain('afk_queue_depth');
    expect(body).not.toContain('afk_escalations');
  });

  it('pushes the escalations it decided, by reason, and the doorbell’s request', async () => {
    const slack = createSlackFake();
    server.use(...slack.handlers);
    gh.addIssue('acme/api', { number: 2, title: 'Locked by hand', labels: ['agent-in-progress'] });

    const result = await runCli(['watch', '--config', withMetrics()], {
      env: { AFK_SLACK_WEBHOOK_URL: SLACK_URL },
    });

    expect(result.code, result.stdout).toBe(0);
    expect(slack.messages).toHaveLength(1);
    const body = gateway.pushes[0]?.body;
    expect(samples(body, 'afk_escalations')).toEqual([
      'afk_escalations{reason="thread-missing"} 1',
    ]);
    expect(samples(body, 'afk_live_runs')).toEqual(['afk_live_runs 1']);
    const counted = upstreamCounts();
    expect(counted).toContain('afk_upstream_requests{upstream="slack",method="POST"} 1');
    expect(samples(body, 'afk_upstream_requests')).toEqual(counted);
  });
});
