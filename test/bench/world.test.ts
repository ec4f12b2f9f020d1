// The benchmark's world is what the report says it is: live runs dispatched by afk itself and
// moved to five phases, a ready queue behind them, and a watch that reaches a steady state in
// which it writes nothing (so that repeated watch ticks measure the same world).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countGitHub, countSlack, countT3, isRead } from '../../tools/bench/requests.js';
import { perRunGets } from '../../tools/bench/scale.js';
import { runIndexOf } from '../../tools/bench/ticks.js';
import {
  activate,
  buildWorld,
  copyWorld,
  phases,
  serverOf,
  startEmulators,
  type Emulators,
  type SeedTick,
  type World,
} from '../../tools/bench/world.js';
import { main } from '../../src/cli.js';
import type { T3Fake } from '../../emulators/t3.js';

const t3Of = (world: World, server = 0) => world.t3[server] as T3Fake;

let emulators: Emulators;
beforeAll(async () => {
  emulators = await startEmulators();
});
afterAll(async () => {
  await emulators.close();
});

/** The real CLI, in-process, against the world's emulators. */
const inProcess: SeedTick = async (world, command, configFile) => {
  let stdout = '';
  let stderr = '';
  const exitCode = await main(
    ['node', 'afk', command, '--config', configFile, '--output', 'json'],
    {
      env: world.env,
      cwd: mkdtempSync(join(tmpdir(), 'afk-bench-test-')),
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      now: () => new Date(),
    },
  );
  return { exitCode, stdout, stderr };
};

async function watchTick(world: World) {
  const marks = [
    world.gh.requests.length,
    t3Of(world).requests.length,
    world.slack.requests.length,
  ];
  const result = await inProcess(world, 'watch', world.configFile);
  const index = runIndexOf(world);
  const requests = [
    ...world.gh.requests.slice(marks[0]).map((r) => countGitHub(r, index)),
    ...t3Of(world)
      .requests.slice(marks[1])
      .map((r) => countT3(r, index)),
    ...world.slack.requests.slice(marks[2]).map((r) => countSlack(r, index)),
  ];
  const report = JSON.parse(result.stdout) as { runs: Array<{ decision: { kind: string } }> };
  return { ...result, requests, decisions: report.runs.map((r) => r.decision.kind) };
}

describe('the benchmark world', () => {
  it('has the live runs afk dispatched, one per phase, and the ready queue', async () => {
    const world = await buildWorld(emulators, { repos: 2, ready: 3, live: 5 }, inProcess);
    expect(world.live.map((r) => r.phase)).toEqual([...phases]);
    for (const run of world.live) {
      const issue = world.gh.issue(run.repo, run.number);
      expect(issue.labels).toContain('agent-in-progress');
      expect(issue.labels).not.toContain('ready-for-agent');
      expect(issue.comments.filter((c) => c.author === 'afk-bot')).toHaveLength(1);
      expect(t3Of(world).state.threads.has(run.threadId)).toBe(true);
    }
    expect(world.ready).toHaveLength(3);
    for (const { repo, number } of world.ready) {
      expect(world.gh.issue(repo, number).labels).toContain('ready-for-agent');
    }
  });

  it('settles: after the first watch ticks, a watch tick writes nothing and waits on every run', async () => {
    const world = await buildWorld(emulators, { repos: 2, ready: 0, live: 5 }, inProcess);
    const first = await watchTick(world);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.requests.filter((c) => !isRead(c)).length).toBeGreaterThan(0);
    let steady = first;
    for (let i = 0; i < 3 && steady.requests.some((c) => !isRead(c)); i += 1) {
      steady = await watchTick(world);
    }
    expect(steady.requests.filter((c) => !isRead(c))).toEqual([]);
    expect(steady.decisions).toEqual(['wait', 'wait', 'wait', 'wait', 'wait']);

    const again = await watchTick(world);
    expect(again.requests.map((c) => c.kind).sort()).toEqual(
      steady.requests.map((c) => c.kind).sort(),
    );
    // Every phase is met, and every run is read: on GitHub its comments and its pull request
    // come in the batched query (AfkRuns), which names each run's issue and branch.
    const perRun = perRunGets(world, again.requests);
    expect(perRun.map((p) => p.phase)).toEqual([...phases]);
    const batched = world.gh.requests
      .slice(-again.requests.filter((c) => c.upstream === 'github').length)
      .flatMap((r) => {
        const body = r.body as { operationName?: string; variables?: Record<string, unknown> };
        if (body?.operationName !== 'AfkRuns' || body.variables === undefined) return [];
        const vars = body.variables;
        return Object.keys(vars)
          .filter((key) => /^i\d+$/.test(key))
          .map((key) => `#${String(vars[key])} ${String(vars[`b${key.slice(1)}`])}`);
      });
    expect(batched.sort()).toEqual(
      world.live.map((run) => `#${run.number} afk/issue-${run.number}`).sort(),
    );
  });

  it('copies: a poll tick on a copy asks and does what it does on the dispatched original', async () => {
    const world = await buildWorld(emulators, { repos: 3, ready: 12, live: 5 }, inProcess);
    const pollOn = async (target: World) => {
      activate(emulators, target);
      const mark = [target.gh.requests.length, t3Of(target).requests.length];
      const result = await inProcess(target, 'poll', target.configFile);
      expect(result.exitCode, result.stderr).toBe(0);
      const kinds = [
        ...target.gh.requests.slice(mark[0]).map((r) => countGitHub(r).kind),
        ...t3Of(target)
          .requests.slice(mark[1])
          .map((r) => countT3(r).kind),
      ].sort();
      return {
        kinds,
        dispatched: (JSON.parse(result.stdout) as { dispatched: string[] }).dispatched,
      };
    };
    const copies = [copyWorld(emulators, world), copyWorld(emulators, world)];
    const onCopies = [await pollOn(copies[0] as World), await pollOn(copies[1] as World)];
    const onOriginal = await pollOn(world);
    expect(onOriginal.dispatched).toHaveLength(5);
    expect(onCopies[0]).toEqual(onOriginal);
    expect(onCopies[1]).toEqual(onOriginal);
  });

  it("pins the repos to its T3 servers in turn, and each run lives on its repo's server", async () => {
    const world = await buildWorld(
      emulators,
      { repos: 3, ready: 3, live: 3, servers: 3 },
      inProcess,
    );
    expect(world.t3).toHaveLength(3);
    for (const run of world.live) {
      const home = serverOf(world, run.repo);
      world.t3.forEach((server, i) => {
        expect(server.state.threads.has(run.threadId), `${run.repo} on server ${i}`).toBe(
          i === home,
        );
      });
    }
    expect(world.live.map((run) => serverOf(world, run.repo)).sort()).toEqual([0, 1, 2]);
  });
});
