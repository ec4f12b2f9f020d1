// The startup snapshot's entry (`npm run snapshot`: dist/afk-snapshot.cjs, then dist/afk.blob).
// Start-up is part of every tick and loading yaml, zod, pino and commander costs more than Node
// itself (docs/benchmarks.md, Cold start), so the image runs afk from a V8 startup snapshot
// taken after every module a command needs has been evaluated:
// https://nodejs.org/docs/latest-v20.x/api/cli.html#--build-snapshot
// https://nodejs.org/docs/latest-v20.x/api/v8.html#startup-snapshot-api
//
// At build time the modules are evaluated and a warm-up runs in a runtime of its own (warmUp).
// Everything a run reads from its process (argv, env, cwd, the streams, the clock) is read in
// main() after deserialization: cli.ts's defaultRuntime() builds the runtime per call, the
// logger and the HTTP clients are created by the command, and V8 reseeds Math.random when the
// snapshot is deserialized. What a module captures when it is evaluated is build-time state:
// pino's lib/time.js takes a wall-clock origin for `isoTimeNano`, so the logger must keep
// `isoTime` (src/adapters/log.ts), which reads the clock per line; the image test checks the
// log line's time and that AFK_* variables set only at run time take effect.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startupSnapshot } from 'node:v8';
// Evaluated at build time: what cli.ts would otherwise import when the command runs. esbuild
// turns each of cli.ts's `await import()`s of these into a call of an already-run initialiser.
// Not these: the adapters built on ky (t3, slack, metrics, forgejo). ky probes fetch when it
// is evaluated (`new Request(...)`), which loads undici and node:http, and Node 20's snapshot
// builder has no Array.prototype.toSorted, which node:http calls as it loads ("methods.toSorted
// is not a function"). They are in the blob as code and are evaluated by the first tick that
// makes requests, as they are without a snapshot.
import './tick/runtime.js';
import './tick/lifecycle.js';
import './commands/poll.js';
import './commands/watch.js';
import './commands/status.js';
import './commands/doctor.js';
import './tick/executor.js';
import './adapters/tracker.js';
import './adapters/github.js';
import { main } from './cli.js';

declare global {
  // cli.ts reads ../package.json beside `import.meta.url`; a CommonJS bundle has no
  // import.meta, so the build defines it as this, set at run time from the blob's path.
  var __afkImportMetaUrl: string | undefined;
}

/** Where the running blob is: `--snapshot-blob FILE` or `--snapshot-blob=FILE` (relative to cwd). */
function snapshotBlobPath(execArgv: readonly string[]): string | undefined {
  for (let i = 0; i < execArgv.length; i += 1) {
    const arg = execArgv[i] ?? '';
    if (arg === '--snapshot-blob') return execArgv[i + 1];
    if (arg.startsWith('--snapshot-blob=')) return arg.slice('--snapshot-blob='.length);
  }
  return undefined;
}

/** A disarmed config shaped like the one the Kubernetes base ships (k8s/base/afk.yaml). */
const WARM_UP_CONFIG = `killSwitch: true
repos: []
tracker:
  kind: github
  apiUrl: https://api.github.com
  tokenFile: /var/run/afk/tracker-token
t3:
  url: http://t3.afk.svc:3773
  tokenFile: /var/run/afk/t3-token
notify:
  slackWebhookUrlFile: /var/run/afk/slack-webhook
`;

/**
 * Runs a disabled poll and --help once at build time, in a runtime of its own (empty env,
 * a temporary directory, output discarded, the clock at 0), so that V8 has compiled the code
 * they run (commander, yaml, zod's schema checks, pino) before the heap is snapshotted: a
 * function first called at run time is compiled at run time. Nothing of these runs outlives
 * them: cli.ts builds its program, logger and runtime per call.
 */
async function warmUp(script: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'afk-snapshot-'));
  const discard = { write: () => true };
  try {
    const config = join(dir, 'afk.yaml');
    writeFileSync(config, WARM_UP_CONFIG);
    for (const args of [['poll', '--config', config], ['--help']]) {
      globalThis.__afkImportMetaUrl = pathToFileURL(script).href;
      const code = await main([process.execPath, script, ...args], {
        env: {},
        cwd: dir,
        stdout: discard,
        stderr: discard,
        now: () => new Date(0),
      });
      if (code !== 0) throw new Error(`afk snapshot: warm-up \`${args.join(' ')}\` exited ${code}`);
    }
  } finally {
    globalThis.__afkImportMetaUrl = undefined;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(script: string, args: readonly string[]): Promise<void> {
  globalThis.__afkImportMetaUrl = pathToFileURL(script).href;
  // commander reads argv as node does for a script: [node, script, ...args].
  process.exitCode = await main([process.execPath, script, ...args]);
}

if (startupSnapshot.isBuildingSnapshot()) {
  // The builder runs the event loop until it is empty before it writes the blob.
  void warmUp(resolve(process.argv[1] ?? '')).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
  startupSnapshot.setDeserializeMainFunction(() => {
    // From a snapshot, process.argv is [node, ...args]: no script.
    const blob = snapshotBlobPath(process.execArgv);
    if (blob === undefined) throw new Error('afk: started from a snapshot without --snapshot-blob');
    void run(resolve(blob), process.argv.slice(1));
  });
} else {
  // Run as a plain script (`node dist/afk-snapshot.cjs poll`): the same program, loaded now.
  void run(resolve(process.argv[1] ?? ''), process.argv.slice(2));
}
