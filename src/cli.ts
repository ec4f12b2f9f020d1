// The commander program and the only top-level catch: every error ends here as one line and
// an exit code (2 for configuration and usage, 3 for an upstream that could not be read).
//
// Start-up is part of every tick (a CronJob starts a fresh process each time), so this file
// loads commander and nothing else up front: each command, the logger (pino) and the config
// loader (yaml, zod) are imported when a command runs, and `--help`/`--version` never load
// them. The bundle splits at these dynamic imports (`npm run bundle`, docs/benchmarks.md).
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
// The errors module, not the core's index: the index loads the config schema (zod), which
// `--help` and `--version` must not wait for.
import { ConfigError, describeError, UpstreamError } from './core/errors.js';
import type { Logger } from './adapters/log.js';
import { redactOutput } from './adapters/secrets.js';
import type { Runtime, Signals, StopSignal, TickFlags } from './tick/runtime.js';

/** The tick's runtime: exit codes and the logger, loaded with the first command. */
const tickModule = () => import('./tick/runtime.js');

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
};

interface RawFlags {
  config?: string;
  dryRun?: boolean;
  output: 'text' | 'json';
  repo?: string;
  verbose?: boolean;
}

const verboseOption = (what: string) => new Option('--verbose', what);

/** `--limit`: a count of rows, 0 for all. */
const parseLimit = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number (0: all)');
  return Number(value);
};

const toTickFlags = (raw: RawFlags): TickFlags => ({
  mode: raw.dryRun === true ? 'dry-run' : 'live',
  output: raw.output,
  ...(raw.config === undefined ? {} : { config: raw.config }),
  ...(raw.repo === undefined ? {} : { repo: raw.repo }),
  ...(raw.verbose === true ? { verbose: true } : {}),
});

const tickOptions = (command: Command): Command =>
  command
    .option('--config <file>', 'config file (default: $AFK_CONFIG, else ./afk.yaml)')
    .option('--dry-run', 'read everything, print the plan, write nothing (works disarmed)')
    .addOption(
      new Option('--output <format>', 'report format on stdout')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--repo <owner/name>', 'narrow this run to one allow-listed repo');

// Plain text, not read off the config module: `--help` must stay as fast as `--version`. A
// test keeps this list and README's Environment table in step.
const ROOT_HELP = `
Exit codes:
  0        done, or nothing to do (including "disabled" by a gate)
  1        some action failed (the others were still carried out)
  2        configuration or usage error
  3        a required upstream (tracker, T3) could not be read
  130/143  interrupted by SIGINT (130) / SIGTERM (143)

Environment:
  AFK_CONFIG             config file path (default ./afk.yaml; a named file must exist)
  AFK_KILL_SWITCH        true/false; overrides killSwitch (disarm without editing the file)
  AFK_REPOS              comma-separated allowlist; overrides repos
  AFK_TRACKER_TOKEN      tracker token when no tracker.tokenFile (fallback GITHUB_TOKEN)
  AFK_T3_URL             overrides t3.url
  AFK_T3_TOKEN           T3 bearer token when no t3.tokenFile
  AFK_SLACK_WEBHOOK_URL  doorbell URL when no notify.slackWebhookUrlFile
  AFK_LOG_LEVEL          debug/info/warn/error

Ships disarmed: a tick does nothing until killSwitch is false and repos lists the repos.
\`afk poll --dry-run\` previews the plan with the kill switch still on, and writes nothing.
`;

export function defaultRuntime(): Runtime {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    now: () => new Date(),
    signals: {
      on: (signal, listener) => process.on(signal, listener),
      off: (signal, listener) => process.off(signal, listener),
      exit: (code) => process.exit(code),
    },
  };
}

/**
 * Node as PID 1 (the image) has no default handler for SIGTERM, which Kubernetes sends a Job
 * past its deadline. For a tick, the first SIGTERM or SIGINT stops it: no new step starts, the
 * step in flight finishes (tick/clock.ts), the report says what was left, and the exit code is 143
 * (130 for SIGINT). A second signal ends the process at once.
 */
function trapStopSignals(signals: Signals | undefined) {
  const stop = new AbortController();
  let received: StopSignal | undefined;
  const listeners = (['SIGTERM', 'SIGINT'] as const).map((signal) => {
    const listener = () => {
      if (received !== undefined) signals?.exit(SIGNAL_EXIT[signal]);
      received ??= signal;
      stop.abort(signal);
    };
    signals?.on(signal, listener);
    return () => signals?.off(signal, listener);
  });
  return {
    stop: stop.signal,
    /** The exit code a signal imposes, if one came. */
    exitCode: () => (received === undefined ? undefined : SIGNAL_EXIT[received]),
    release: () => listeners.forEach((off) => off()),
  };
}

/** 128 + the signal's number, as a shell reports a process a signal ended. */
const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

export async function main(argv: string[], runtime: Runtime = defaultRuntime()): Promise<number> {
  runtime = redactOutput(runtime); // a secret that reached a message anyway is taken out
  let exitCode: number | undefined;
  // Who ends here, for `--output json`: set when a command's options are parsed, read off
  // argv for a usage error that ends the parse before that.
  let ending: Ending | undefined;
  let logged: Logger | undefined;
  const logger = async () => (logged ??= (await tickModule()).loggerFor(runtime));
  const program = new Command('afk')
    .description('The away-from-keyboard control plane for coding agents.')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => runtime.stdout.write(s),
      writeErr: (s) => runtime.stderr.write(s),
    })
    .showHelpAfterError()
    .addHelpText('after', ROOT_HELP)
    .hook('preAction', (_program, action) => {
      ending = { command: action.name(), json: action.opts()['output'] === 'json' };
    });

  type Tick = (flags: TickFlags, runtime: Runtime, log: Logger) => Promise<number>;
  const tick = (load: () => Promise<Tick>) => async (raw: RawFlags) => {
    const trap = trapStopSignals(runtime.signals);
    try {
      const run = await load();
      exitCode = await run(toTickFlags(raw), { ...runtime, stop: trap.stop }, await logger());
    } finally {
      trap.release();
    }
    exitCode = trap.exitCode() ?? exitCode;
  };

  tickOptions(program.command('poll'))
    .description('one tick: dispatch ready issues to coding agents on T3')
    .addOption(verboseOption('list each waiting issue (text groups them by reason)'))
    .action(tick(async () => (await import('./commands/poll.js')).poll));

  tickOptions(program.command('watch'))
    .description('one tick: follow live runs through CI and deploy; fix forward, escalate, close')
    .addOption(verboseOption('list each run a stop left unread (text groups them)'))
    .action(tick(async () => (await import('./commands/watch.js')).watch));

  program
    .command('status')
    .description('read-only: live runs, the ready queue and recent escalations (works disarmed)')
    .option('--config <file>', 'config file (default: $AFK_CONFIG, else ./afk.yaml)')
    .addOption(
      new Option('--output <format>', 'report format on stdout')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--repo <owner/name>', 'narrow the view to one allow-listed repo')
    .addOption(
      new Option('--limit <n>', 'rows per table in text, 0 for all (default: 20)').argParser(
        parseLimit,
      ),
    )
    .addOption(verboseOption('every row of every table (as --limit 0)'))
    .action(async (raw: Omit<RawFlags, 'dryRun'> & { limit?: number }) => {
      const { status } = await import('./commands/status.js');
      const limit = raw.verbose === true ? 0 : raw.limit;
      exitCode = await status(
        {
          output: raw.output,
          ...(raw.config === undefined ? {} : { config: raw.config }),
          ...(raw.repo === undefined ? {} : { repo: raw.repo }),
          ...(limit === undefined ? {} : { limit }),
        },
        runtime,
        await logger(),
      );
    });

  program
    .command('doctor')
    .description('check the config, secrets, tracker permissions and labels, and T3')
    .option('--config <file>', 'config file (default: $AFK_CONFIG, else ./afk.yaml)')
    .option('--fix-labels', 'create the labels afk needs where they are missing')
    .addOption(
      new Option('--output <format>', 'report format on stdout')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action(async (raw: { config?: string; fixLabels?: boolean; output: 'text' | 'json' }) => {
      const { doctor } = await import('./commands/doctor.js');
      exitCode = await doctor(
        {
          output: raw.output,
          fixLabels: raw.fixLabels === true,
          ...(raw.config === undefined ? {} : { config: raw.config }),
        },
        runtime,
        await logger(),
      );
    });

  try {
    await program.parseAsync(argv);
    // Every command's action sets the code; commander ends any other parse by throwing.
    return exitCode ?? (await tickModule()).EXIT.ok;
  } catch (error) {
    // --help and --version end through here with commander's exit code 0, before anything
    // else is loaded: they are the fast path.
    if (error instanceof CommanderError && error.exitCode === 0) return error.exitCode;
    const { EXIT } = await tickModule();
    const end = ending ?? endingOf(argv, program);
    // A machine that asked for JSON gets one object on stdout whatever went wrong; the log
    // line on stderr stays as it is.
    const fail = (code: number, detail: Record<string, unknown>) => {
      if (end.json) {
        const body = { command: end.command, exitCode: code, error: detail };
        runtime.stdout.write(`${JSON.stringify(body)}\n`);
      }
      return code;
    };
    if (error instanceof CommanderError) {
      return fail(EXIT.usage, { kind: 'usage', message: error.message });
    }
    const log = await logger();
    if (error instanceof ConfigError) {
      log.error({ problems: error.problems }, error.message);
      return fail(EXIT.usage, { kind: 'config', message: error.message, problems: error.problems });
    }
    if (error instanceof UpstreamError) {
      const { upstream, kind, request, message } = error;
      log.error({ upstream, kind, request }, message);
      return fail(EXIT.upstreamUnreadable, {
        kind: 'upstream',
        upstream,
        failure: kind,
        request,
        message,
      });
    }
    const message = `afk: unexpected error: ${describeError(error)}`;
    log.fatal({ err: describeError(error) }, message);
    return fail(EXIT.actionFailed, { kind: 'unexpected', message });
  }
}

interface Ending {
  command: string | null;
  json: boolean;
}

/**
 * The command and output format argv asks for, read without commander: a usage error (an
 * unknown option, a missing value) ends the parse before any option is known.
 */
function endingOf(argv: readonly string[], program: Command): Ending {
  const args = argv.slice(2);
  const names = new Set(program.commands.map((c) => c.name()));
  const command = args.find((arg) => names.has(arg)) ?? null;
  const json = args.some(
    (arg, i) => arg === '--output=json' || (arg === '--output' && args[i + 1] === 'json'),
  );
  return { command, json };
}
