// What an operator sees of `/afk` commands outside the issue: `afk status` names a command
// that waits for the agent's turn to end, and the Pushgateway counts the turns a command sent
// (`afk_turns{purpose="command"}`), done or failed.
import { describe, expect, it } from 'vitest';
import { threadIdFor } from '../../src/core/index.js';
import type { ForgeFake } from '../../emulators/forge.js';
import { createPushgatewayFake, type PushgatewayFake } from '../../emulators/pushgateway.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { useMswServer } from '../support/msw.js';
import { armedConfig, runCli, writeConfig, type CliResult } from '../support/cli.js';
import { forges, loginIssue, type ForgeUnderTest } from '../support/forges.js';

const THREAD = threadIdFor({ repo: 'acme/api', number: 1 }, 1);
const PUSHGATEWAY = 'https://pushgateway.test';
const WAITS = "`/afk` from @maintainer waits for the agent's turn to end";

const { server } = useMswServer();

let clock: Date;
let gh: ForgeFake;
let t3: T3Fake;
let gateway: PushgatewayFake;
let configFile: string;

function setup(forge: ForgeUnderTest) {
  clock = new Date('2026-11-21T08:00:00.000Z');
  gh = forge.create({ now: () => clock });
  t3 = createT3Fake({ clock: () => clock });
  gateway = createPushgatewayFake(PUSHGATEWAY);
  server.resetHandlers(...gh.handlers, ...t3.handlers, gateway.handler);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write' } });
  gh.addRepo('acme/web');
  gh.pushCommit('acme/api', 'main', '0'.repeat(40));
  gh.addIssue('acme/api', loginIssue());
  configFile = writeConfig(
    armedConfig({ tracker: forge.tracker, metrics: { pushgatewayUrl: PUSHGATEWAY } }),
  );
}

const advance = () => {
  clock = new Date(clock.getTime() + 60_000);
};
const run = async (command: 'poll' | 'watch' | 'status', ...args: string[]) => {
  advance();
  return runCli([command, '--config', configFile, ...args], { now: clock });
};
const human = (body: string) => {
  advance();
  return gh.addComment('acme/api', 1, {
    author: 'maintainer',
    body,
    createdAt: clock.toISOString(),
  });
};
/** The `afk_turns` samples of the last push. */
const turnSamples = () =>
  (gateway.pushes.at(-1)?.body ?? '')
    .split('\n')
    .filter((l) => l.startsWith('afk_turns{'))
    .sort();
const runsOf = (result: CliResult) =>
  result.json?.['runs'] as Array<{ issue: string; now: string | null }>;

describe.each(forges)('/afk commands in status and metrics, on $kind', (forge) => {
  /** Dispatched, the agent's first turn still running, a maintainer's `/afk` waiting on it. */
  async function commandMidTurn(): Promise<CliResult> {
    setup(forge);
    const polled = await run('poll');
    expect(polled.code, polled.stdout).toBe(0);
    expect(turnSamples()).toEqual(['afk_turns{purpose="first-turn",status="done"} 1']);
    t3.startProvider(THREAD);
    human('/afk please also cover the lockout case');
    const watched = await run('watch', '--output', 'json');
    expect(watched.code, watched.stdout).toBe(0);
    return watched;
  }

  it('status shows the command that waits for the agent’s turn to end', async () => {
    const watched = await commandMidTurn();
    expect(
      (watched.json?.['runs'] as Array<{ decision: { kind: string; why?: string } }>)[0]?.decision,
    ).toEqual({ kind: 'wait', why: WAITS });

    const json = await run('status', '--output', 'json');
    const text = await run('status');

    expect(json.code, json.stdout).toBe(0);
    expect(runsOf(json)).toEqual([expect.objectContaining({ issue: 'acme/api#1', now: WAITS })]);
    expect(text.stdout).toContain(WAITS);
  });

  it('pushes a command’s turn as afk_turns{purpose="command"} once it is sent', async () => {
    await commandMidTurn();
    // Waiting is no turn.
    expect(turnSamples()).toEqual([]);
    t3.completeTurn(THREAD, 'Still working on it.');

    const sent = await run('watch');

    expect(sent.code, sent.stdout).toBe(0);
    expect(turnSamples()).toEqual(['afk_turns{purpose="command",status="done"} 1']);
  });

  it('pushes a command’s turn T3 refused as failed', async () => {
    await commandMidTurn();
    t3.completeTurn(THREAD, 'Still working on it.');
    t3.failNext({ commandType: 'thread.turn.start' }, { status: 503 });

    const failed = await run('watch');

    expect(failed.code, failed.stdout).toBe(1);
    expect(turnSamples()).toEqual(['afk_turns{purpose="command",status="failed"} 1']);
  });
});
