// `afk doctor`: is this deployment wired right? One line per check: the config, the gates,
// each secret's presence (never its value), the tracker token and its permissions and labels
// in every allow-listed repo, and T3's reachability, version (against the runtime mode), the
// token's scopes and the snapshot. Only
// `--fix-labels` writes (it creates missing labels); without it the adapters cannot write.
import { loadConfig, type LoadedConfig } from '../adapters/config-file.js';
import type { Logger } from '../adapters/log.js';
import { requiredSecret, secretSource, type SecretSpec } from '../adapters/secrets.js';
import {
  check,
  checkRepoAccess,
  checkT3RuntimeMode,
  checkT3Session,
  checkT3Unreachable,
  checkTrackerLoginFailure,
  ConfigError,
  describeError,
  failedChecks,
  gateStatus,
  labelSpecs,
  missingLabels,
  renderChecks,
  UpstreamError,
  type Check,
  type Config,
  type Env,
  type Tracker,
} from '../core/index.js';
import { EXIT, logRequests, type Runtime } from './tick.js';

/**
 * Per request (each attempt). Doctor is run by a person waiting at a terminal, or as a
 * pre-flight check: an upstream that has not answered in 5 s is reported as such, and a hung
 * T3 costs 10 s (one retry), not the 30 s a tick's defaults would.
 */
const DOCTOR_TIMEOUT_MS = 5_000;

export interface DoctorFlags {
  config?: string;
  output: 'text' | 'json';
  fixLabels: boolean;
}

export async function doctor(flags: DoctorFlags, runtime: Runtime, log: Logger): Promise<number> {
  const checks: Check[] = [];
  const finish = (exitCode: number) => {
    if (flags.output === 'json') {
      runtime.stdout.write(`${JSON.stringify({ command: 'doctor', exitCode, checks })}\n`);
    } else {
      runtime.stdout.write(renderChecks(checks));
    }
    log.info({ command: 'doctor', failed: failedChecks(checks) }, 'doctor: done');
    return exitCode;
  };

  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({ flag: flags.config, env: runtime.env, cwd: runtime.cwd });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    checks.push(check('fail', 'config', error.message.replace(/\n\s*/g, ' ')));
    return finish(EXIT.usage);
  }
  const { config } = loaded;
  checks.push(
    check(
      'pass',
      'config',
      loaded.source === null
        ? 'no file found: the defaults (disabled)'
        : `loaded from ${loaded.source}`,
    ),
  );
  checks.push(gatesCheck(config));

  const secrets = secretSpecs(config);
  const trackerPresent = await presence(secrets.tracker, runtime.env, checks);
  const t3Present = await presence(secrets.t3, runtime.env, checks);
  // The doorbell is optional, but one that is configured must ring (README, "The doorbell").
  await presence(secrets.slack, runtime.env, checks, {
    absent: 'no doorbell, escalations page nobody',
    unreadable: 'every escalation fails its doorbell and keeps its lock until the file can be read',
  });

  const { retries, throttle } = runtime.http ?? {};
  const timeoutMs = runtime.http?.timeoutMs ?? DOCTOR_TIMEOUT_MS;
  const fetch: typeof globalThis.fetch = flags.fixLabels
    ? (input, init) => globalThis.fetch(input, init)
    : readOnlyFetch;

  if (!trackerPresent) {
    checks.push(check('skip', 'tracker', 'not checked without a tracker token'));
  } else {
    const { createTracker } = await import('../adapters/tracker.js');
    const tracker = await createTracker(config.tracker.kind, {
      apiUrl: config.tracker.apiUrl,
      token: requiredSecret(secrets.tracker, runtime.env),
      fetch: logRequests(log, 'tracker', fetch),
      timeoutMs,
      ...(retries === undefined ? {} : { retries }),
      ...(throttle === undefined ? {} : { throttle }),
    });
    await checkTracker(tracker, config, flags.fixLabels, checks);
  }

  const { createT3Client } = await import('../adapters/t3.js');
  const t3 = createT3Client({
    baseUrl: config.t3.url,
    token: requiredSecret(secrets.t3, runtime.env),
    fetch: logRequests(log, 't3', fetch),
    timeoutMs,
    ...(retries === undefined ? {} : { retries }),
  });
  let reachable = false;
  try {
    const environment = await t3.readEnvironment();
    reachable = true;
    checks.push(
      check('pass', 'T3', `reachable at ${config.t3.url}, server ${environment.serverVersion}`),
    );
    const mode = checkT3RuntimeMode(config.t3.runtimeMode, environment.serverVersion);
    if (mode !== null) checks.push(mode);
  } catch (error) {
    checks.push(checkT3Unreachable(config.t3.url, error, failureOf(error)));
  }
  let usable = false;
  if (!t3Present) {
    checks.push(check('skip', 'T3 scopes', 'not checked without a T3 token'));
  } else if (!reachable) {
    checks.push(check('skip', 'T3 scopes', 'not checked: T3 is unreachable'));
  } else {
    try {
      const scopes = { ...checkT3Session(await t3.readAuthSession()), name: 'T3 scopes' };
      usable = scopes.status === 'pass';
      checks.push(scopes);
    } catch (error) {
      checks.push(check('fail', 'T3 scopes', `cannot read the session: ${failureOf(error)}`));
    }
  }
  // The snapshot is what every tick reads first: a server that moved its orchestration API
  // off HTTP answers it 404, whatever its environment and session say.
  if (usable) {
    try {
      const snapshot = await t3.readSnapshot();
      checks.push(
        check(
          'pass',
          'T3 orchestration',
          `snapshot readable: ${snapshot.projects.length} project(s), ${snapshot.threads.length} thread(s)`,
        ),
      );
    } catch (error) {
      checks.push(check('fail', 'T3 orchestration', failureOf(error)));
    }
  }

  return finish(failedChecks(checks) > 0 ? EXIT.actionFailed : EXIT.ok);
}

function gatesCheck(config: Config): Check {
  const gate = gateStatus(config);
  const repos =
    config.repos.length === 0
      ? 'no repos allow-listed'
      : `${config.repos.length} repo(s) allow-listed: ${config.repos.join(', ')}`;
  const kill = config.killSwitch ? 'kill switch on' : 'kill switch off';
  const state = gate.open ? 'armed' : 'disarmed';
  return check('info', 'gates', `${state}: ${kill}; ${repos}`);
}

function secretSpecs(config: Config) {
  return {
    tracker: {
      name: 'tracker token',
      fileKey: 'tracker.tokenFile',
      file: config.tracker.tokenFile,
      envVars: ['AFK_TRACKER_TOKEN', 'GITHUB_TOKEN'],
    },
    t3: {
      name: 'T3 token',
      fileKey: 't3.tokenFile',
      file: config.t3.tokenFile,
      envVars: ['AFK_T3_TOKEN'],
    },
    slack: {
      name: 'Slack webhook',
      fileKey: 'notify.slackWebhookUrlFile',
      file: config.notify.slackWebhookUrlFile,
      envVars: ['AFK_SLACK_WEBHOOK_URL'],
    },
  } satisfies Record<string, SecretSpec>;
}

const whereToSet = (spec: SecretSpec) => [spec.fileKey, ...spec.envVars].join(' or ');

/**
 * Pushes one line saying where the secret comes from; its value is read, never shown. An
 * optional secret's absence is a warning saying what it costs; one configured but unreadable
 * is a failure, and says what that costs.
 */
async function presence(
  spec: SecretSpec,
  env: Env,
  checks: Check[],
  optional?: { absent: string; unreadable: string },
): Promise<boolean> {
  try {
    const value = await secretSource(spec, env)();
    if (value === undefined) {
      const where = `set ${whereToSet(spec)}`;
      checks.push(
        optional === undefined
          ? check('fail', spec.name, `absent (${where})`)
          : check('warn', spec.name, `absent: ${optional.absent} (${where})`),
      );
      return false;
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const cost = optional === undefined ? '' : `: ${optional.unreadable}`;
    checks.push(check('fail', spec.name, `${error.problems.join('; ')}${cost}`));
    return false;
  }
  const from =
    spec.file !== undefined
      ? `file ${spec.file}`
      : `env ${spec.envVars.find((name) => (env[name]?.trim() ?? '') !== '') ?? '?'}`;
  checks.push(check('pass', spec.name, `present (${from})`));
  return true;
}

async function checkTracker(
  tracker: Tracker,
  config: Config,
  fixLabels: boolean,
  checks: Check[],
): Promise<void> {
  if (config.tracker.login !== undefined) {
    // GitHub App installation tokens cannot read /user: the repo checks prove the token.
    checks.push(check('info', 'tracker', `acting as ${config.tracker.login} (tracker.login)`));
  } else {
    try {
      checks.push(
        check('pass', 'tracker', `token works, acting as ${await tracker.getSelfLogin()}`),
      );
    } catch (error) {
      checks.push(checkTrackerLoginFailure(error, failureOf(error)));
      if (error instanceof UpstreamError && error.kind === 'auth') {
        checks.push(check('skip', 'repos', 'not checked: the tracker token is refused'));
        return;
      }
      if (error instanceof UpstreamError && error.network !== undefined) {
        checks.push(check('skip', 'repos', 'not checked: the tracker is unreachable'));
        return;
      }
    }
  }
  if (config.repos.length === 0) {
    checks.push(check('skip', 'repos', 'none allow-listed: nothing to check'));
    return;
  }
  const wanted = labelSpecs(config.labels);
  for (const repo of config.repos) {
    try {
      checks.push({
        ...checkRepoAccess(repo, await tracker.getRepoAccess(repo), config.tracker.kind),
        name: `${repo} access`,
      });
    } catch (error) {
      checks.push(
        check('fail', `${repo} access`, `cannot read the repository: ${failureOf(error)}`),
      );
      continue;
    }
    const name = `${repo} labels`;
    let missing;
    try {
      missing = missingLabels(wanted, await tracker.listRepoLabels(repo));
    } catch (error) {
      checks.push(check('fail', name, `cannot list labels: ${failureOf(error)}`));
      continue;
    }
    const names = missing.map((label) => label.name).join(', ');
    if (missing.length === 0) {
      checks.push(check('pass', name, `all ${wanted.length} present`));
    } else if (!fixLabels) {
      checks.push(check('fail', name, `missing ${names} (run afk doctor --fix-labels to create)`));
    } else {
      try {
        for (const label of missing) await tracker.createLabel(repo, label);
        checks.push(check('pass', name, `created ${names}`));
      } catch (error) {
        checks.push(check('fail', name, `cannot create ${names}: ${failureOf(error)}`));
      }
    }
  }
}

/** The error without its upstream prefix: the check's name already says which. */
function failureOf(error: unknown): string {
  if (error instanceof ConfigError) return error.problems.join('; ');
  if (error instanceof UpstreamError) return error.message.slice(error.upstream.length + 2);
  return describeError(error);
}

/** Without --fix-labels, doctor's adapters cannot write, whatever a bug would call. */
const readOnlyFetch: typeof fetch = (input, init) => {
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    return Promise.reject(new Error(`doctor: refused to send a ${method} request`));
  }
  return globalThis.fetch(input, init);
};
