// Three T3 servers (`t3.servers`), one of them down for one watch and one poll tick: the other
// two servers' repos must be served, and the tick must say which server it could not reach.
// "Down" is a port nothing listens on (connection refused), the way a dead pod looks.
import { startEmulator } from '../../emulators/server.js';
import { runTick, spawnTimed, type Binary } from './ticks.js';
import {
  activate,
  buildWorld,
  measuredSettings,
  serverName,
  serverOf,
  type Emulators,
  type SeedTick,
  type Size,
  type World,
} from './world.js';

export interface ServerTick {
  exitCode: number;
  /** The tick's own line naming the server it could not read (its human output). */
  line: string | null;
  summary: string;
}

export interface ServerDownResult {
  size: Size;
  down: string;
  up: string[];
  watch: ServerTick & { decided: number; expected: number; unread: number };
  poll: ServerTick & { dispatched: Record<string, number>; wanted: number };
  /** The other servers' repos were served and both ticks named the down server. */
  ok: boolean;
}

const SIZE: Size = { repos: 9, ready: 27, live: 9, servers: 3 };

/** A URL of a loopback port that was just freed: connecting to it is refused. */
async function deadUrl(): Promise<string> {
  const emulator = await startEmulator();
  await emulator.close();
  return emulator.url;
}

async function humanTick(world: World, command: 'poll' | 'watch', config: string, bundle: string) {
  const spawned = await spawnTimed([bundle, command, '--config', config], { env: world.env });
  const lines = spawned.stdout.trim().split('\n');
  return {
    exitCode: spawned.exitCode,
    line: lines.find((l) => l.startsWith('failed ') && l.includes('could not be read')) ?? null,
    summary: lines.at(-1) ?? '',
  };
}

export async function measureServerDown(
  emulators: Emulators,
  binary: Binary,
  progress: (line: string) => void,
): Promise<ServerDownResult> {
  const seed: SeedTick = (w, command, configFile) =>
    spawnTimed([binary.bundle, command, '--config', configFile], { env: w.env });
  const world = await buildWorld(emulators, SIZE, seed);
  // Steady first (every server up), so that what the down tick does is the outage's alone.
  activate(emulators, world);
  for (let warm = 0; warm < 4; warm += 1) {
    const result = await runTick(world, 'watch', binary);
    if (result.exitCode !== 0) throw new Error(`bench: warm-up watch with 3 servers failed`);
  }
  const down = world.t3.length - 1;
  const urls = emulators.t3.slice(0, world.t3.length).map((e) => e.url);
  urls[down] = await deadUrl();
  const config = world.writeConfig('one-down.yaml', { ...measuredSettings.dispatch }, urls);
  const onDown = world.live.filter((run) => serverOf(world, run.repo) === down).length;

  const watchLine = await humanTick(world, 'watch', config, binary.bundle);
  const watchJson = await runTick({ ...world, configFile: config }, 'watch', binary);
  const decided = (watchJson.report.runs ?? []).filter((r) => r.decision !== null).length;
  progress(`3 T3 servers, ${serverName(down)} down: watch exited ${watchLine.exitCode}`);

  const marks = world.t3.map((server) => server.commands.length);
  const pollLine = await humanTick(world, 'poll', config, binary.bundle);
  const dispatched: Record<string, number> = {};
  world.t3.forEach((server, i) => {
    const creates = server.commands
      .slice(marks[i])
      .filter((c) => c.command['type'] === 'thread.create').length;
    dispatched[serverName(i)] = creates;
  });
  progress(`3 T3 servers, ${serverName(down)} down: poll exited ${pollLine.exitCode}`);

  const name = serverName(down);
  const wanted = measuredSettings.dispatch.maxDispatchesPerTick;
  const names = (t: ServerTick) => t.line?.includes(`T3 server ${name} `) === true;
  const served =
    dispatched[name] === 0 &&
    Object.values(dispatched).reduce((a, b) => a + b, 0) === wanted &&
    decided === world.live.length - onDown;
  return {
    size: SIZE,
    down: name,
    up: world.t3.map((_, i) => serverName(i)).filter((n) => n !== name),
    watch: { ...watchLine, decided, expected: world.live.length - onDown, unread: onDown },
    poll: { ...pollLine, dispatched, wanted },
    ok:
      served &&
      names(watchLine) &&
      names(pollLine) &&
      watchLine.exitCode === 1 &&
      pollLine.exitCode === 1,
  };
}
