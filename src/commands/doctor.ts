// `afk doctor`: is this deployment wired right? One line per check: the config, the gates,
// each secret's presence (never its value), the tracker token and its permissions and labels
// in every allow-listed repo, and T3's reachability, version (against the runtime mode), the
// token's scopes and the snapshot. Missing labels are planned as `createLabel` actions: the
// plan is printed, and with `--fix-labels` the executor carries it out. Without it the
// adapters cannot write.
import { loadConfig } from '../adapters/config-file.js';
import type { GitHubApp } from '../adapters/github-app.js';
import type { Logger } from '../adapters/log.js';
import { checkWebhookUrl } from '../adapters/webhook-url.js';
import type { T3Client } from '../adapters/t3.js';
import { secretSource, type SecretSpec } from '../adapters/secrets.js';
import {
  check,
  checkAppInstallation,
  checkRepoAccess,
  checkT3RuntimeMode,
  checkT3Session,
  checkT3Unreachable,
  checkTrackerLoginFailure,
  ConfigError,
  describeAction,
  describeError,
  failedChecks,
  gateStatus,
  labelSpecs,
  missingLabels,
  renderChecks,
  repoSubject,
  requiredAppPermissions,
  UpstreamError,
  type Action,
  type Check,
  type Config,
  type Env,
  type LabelSpec,
  type RepoName,
  type Tracker,
} from '../core/index.js';
import { executePlan, type ActionResult } from '../tick/executor.js';
import { EXIT, type Runtime } from '../tick/runtime.js';
import {
  noDoorbell,
  secretSpecs,
  t3SecretSpecs,
  wireAdapters,
  type T3Fleet,
} from '../tick/wiring.js';

/**
 * Per request (each attempt). Doctor is run by a person waiting at a terminal, or as a
 * pre-flight check: an upstream that has not answered in 5 s is reported as such, and a hung
 * T3 costs 10 s (one retry), not the 30 s a tick's defaults would.
 */
const DOCTOR_TIMEOUTS = { trackerMs: 5_000, t3Ms: 5_000, slackMs: 5_000 };

export interface DoctorFlags {
  config?: string;
  output: 'text' | 'json';
  fixLabels: boolean;
}

/** Carries out a plan of label creations: the executor's, with --fix-labels only. */
type Apply = (plan: Action[]) => Promise<ActionResult[]>;

export async function doctor(flags: DoctorFlags, runtime: Runtime, log: Logger): Promise<number> {
  const report = (exitCode: number, checks: Check[], plan: Action[] = []) =>
    writeDoctor(flags, runtime, log, { exitCode, checks, plan });
  const loaded = await checkConfig(flags, runtime);
  if (loaded.config === null) {
    // The same `error` object every command prints with --output json on a config error.
    const error = {
      kind: 'config',
      message: loaded.error.message,
      problems: loaded.error.problems,
    };
    return writeDoctor(flags, runtime, log, {
      exitCode: EXIT.usage,
      checks: [loaded.check],
      plan: [],
      error,
    });
  }
  const { config } = loaded;
  const secrets = await checkSecrets(config, runtime.env);
  const checks = [loaded.check, gatesCheck(config), ...secrets.checks];

  const mode = flags.fixLabels ? 'live' : 'dry-run';
  const adapters = await wireAdapters(config, runtime, { mode, log, timeouts: DOCTOR_TIMEOUTS });
  const fleet = adapters.t3Fleet();
  const t3 = fleet.servers[0]!.client;
  let plan: Action[] = [];
  if (!secrets.tracker) {
    checks.push(check('skip', 'tracker', 'not checked without a tracker token'));
  } else {
    const tracker = await adapters.tracker();
    const ports = { tracker, t3, doorbell: noDoorbell };
    const apply: Apply | null = flags.fixLabels
      ? (labels) => executePlan(labels, ports, { now: runtime.now })
      : null;
    const found = await checkTracker(tracker, config, apply, await adapters.githubApp());
    checks.push(...found.checks);
    plan = found.plan;
  }
  checks.push(...(await checkT3Servers(fleet, config, secrets.t3)));
  return report(failedChecks(checks) > 0 ? EXIT.actionFailed : EXIT.ok, checks, plan);
}

type JsonError = { kind: string; message: string; problems: string[] };

/** The checks, then the plan that --fix-labels would carry out, if any. */
function writeDoctor(
  flags: DoctorFlags,
  runtime: Runtime,
  log: Logger,
  {
    exitCode,
    checks,
    plan,
    error,
  }: { exitCode: number; checks: Check[]; plan: Action[]; error?: JsonError },
): number {
  if (flags.output === 'json') {
    const planned = plan.map((action) => ({
      kind: action.kind,
      description: describeAction(action),
    }));
    runtime.stdout.write(
      `${JSON.stringify({ command: 'doctor', exitCode, ...(error === undefined ? {} : { error }), checks, plan: planned })}\n`,
    );
  } else {
    runtime.stdout.write(renderChecks(checks));
    if (plan.length > 0) {
      const steps = plan.map((action, i) => `  ${i + 1}. ${describeAction(action)}`);
      runtime.stdout.write(`plan (afk doctor --fix-labels carries it out):\n${steps.join('\n')}\n`);
    }
  }
  log.info({ command: 'doctor', failed: failedChecks(checks) }, 'doctor: done');
  return exitCode;
}

async function checkConfig(
  flags: DoctorFlags,
  runtime: Runtime,
): Promise<{ check: Check; config: Config } | { check: Check; config: null; error: ConfigError }> {
  try {
    const { config, source } = await loadConfig({
      flag: flags.config,
      env: runtime.env,
      cwd: runtime.cwd,
    });
    const from =
      source === null ? 'no file found: the defaults (disabled)' : `loaded from ${source}`;
    return { check: check('pass', 'config', from), config };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const failed = check('fail', 'config', error.message.replace(/\n\s*/g, ' '));
    return { check: failed, config: null, error };
  }
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

/** Each secret's presence, from the specs every command is wired with. */
async function checkSecrets(config: Config, env: Env) {
  const specs = secretSpecs(config);
  const tracker = await presence(specs.tracker, env);
  const t3Tokens = await Promise.all(t3SecretSpecs(config).map((spec) => presence(spec, env)));
  // The doorbell is optional, but one that is configured must ring (README, "The doorbell").
  const slack = await presence({ ...specs.slack, name: 'Slack webhook' }, env, {
    absent: 'no doorbell, escalations page nobody',
    unreadable: 'every escalation fails its doorbell and keeps its lock until the file can be read',
  });
  // A URL the doorbell refuses (plain http to a remote host, not a URL) can never ring either.
  const slackCheck = slack.present
    ? await checkSlackUrl(specs.slack, env, slack.check)
    : slack.check;
  return {
    checks: [tracker.check, ...t3Tokens.map((t) => t.check), slackCheck],
    tracker: tracker.present,
    t3: t3Tokens.map((t) => t.present),
  };
}

async function checkSlackUrl(spec: SecretSpec, env: Env, present: Check): Promise<Check> {
  const url = await secretSource(spec, env)();
  try {
    if (url !== undefined) checkWebhookUrl(url);
    return present;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const cost = 'every escalation fails its doorbell and keeps its lock until it is fixed';
    return check('fail', 'Slack webhook', `${error.problems.join('; ')}: ${cost}`);
  }
}

const whereToSet = (spec: SecretSpec) => [spec.fileKey, ...spec.envVars].join(' or ');

/**
 * One line saying where the secret comes from; its value is read, never shown. An optional
 * secret's absence is a warning saying what it costs; one configured but unreadable is a
 * failure, and says what that costs.
 */
async function presence(
  spec: SecretSpec,
  env: Env,
  optional?: { absent: string; unreadable: string },
): Promise<{ check: Check; present: boolean }> {
  try {
    const value = await secretSource(spec, env)();
    if (value === undefined) {
      const where = `set ${whereToSet(spec)}`;
      const absent =
        optional === undefined
          ? check('fail', spec.name, `absent (${where})`)
          : check('warn', spec.name, `absent: ${optional.absent} (${where})`);
      return { check: absent, present: false };
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const cost = optional === undefined ? '' : `: ${optional.unreadable}`;
    return {
      check: check('fail', spec.name, `${error.problems.join('; ')}${cost}`),
      present: false,
    };
  }
  const from =
    spec.file !== undefined
      ? `file ${spec.file}`
      : `env ${spec.envVars.find((name) => (env[name]?.trim() ?? '') !== '') ?? '?'}`;
  return { check: check('pass', spec.name, `present (${from})`), present: true };
}

/** Who the token acts as, then each repo's access and labels; the labels to create are planned. */
async function checkTracker(
  tracker: Tracker,
  config: Config,
  apply: Apply | null,
  app: GitHubApp | null,
): Promise<{ checks: Check[]; plan: Action[] }> {
  const login = await checkLogin(tracker, config, app);
  if (login.skipRepos !== null) {
    return { checks: [...login.checks, check('skip', 'repos', login.skipRepos)], plan: [] };
  }
  const checks = login.checks;
  if (config.repos.length === 0) {
    checks.push(check('skip', 'repos', 'none allow-listed: nothing to check'));
    return { checks, plan: [] };
  }
  const wanted = labelSpecs(config.labels);
  const plan: Action[] = [];
  const access = accessOf(tracker, config, app);
  for (const repo of config.repos) {
    const found = await checkRepo(tracker, repo, wanted, access, apply);
    checks.push(...found.checks);
    plan.push(...found.plan);
  }
  return { checks, plan };
}

/** `skipRepos`: why the repos cannot be checked (the token is refused, the tracker is down). */
async function checkLogin(
  tracker: Tracker,
  config: Config,
  app: GitHubApp | null,
): Promise<{ checks: Check[]; skipRepos: string | null }> {
  if (app !== null) return checkApp(app, config);
  if (config.tracker.login !== undefined) {
    // GitHub App installation tokens cannot read /user: the repo checks prove the token.
    const acting = check('info', 'tracker', `acting as ${config.tracker.login} (tracker.login)`);
    return { checks: [acting], skipRepos: null };
  }
  try {
    const login = await tracker.getSelfLogin();
    return {
      checks: [check('pass', 'tracker', `token works, acting as ${login}`)],
      skipRepos: null,
    };
  } catch (error) {
    const checks = [checkTrackerLoginFailure(error, failureOf(error))];
    if (error instanceof UpstreamError && error.kind === 'auth') {
      return { checks, skipRepos: 'not checked: the tracker token is refused' };
    }
    if (error instanceof UpstreamError && error.network !== undefined) {
      return { checks, skipRepos: 'not checked: the tracker is unreachable' };
    }
    return { checks, skipRepos: null };
  }
}

/** The GitHub App behind the tokens: its JWT is accepted, and the bot login it acts as. */
async function checkApp(
  app: GitHubApp,
  config: Config,
): Promise<{ checks: Check[]; skipRepos: string | null }> {
  try {
    const { id, slug } = await app.describe();
    const acting = config.tracker.login ?? `${slug}[bot]`;
    return {
      checks: [
        check('pass', 'tracker', `GitHub App ${slug} (id ${id}) works, acting as ${acting}`),
      ],
      skipRepos: null,
    };
  } catch (error) {
    const checks = [checkTrackerLoginFailure(error, failureOf(error))];
    const refused =
      error instanceof ConfigError || (error instanceof UpstreamError && error.kind === 'auth');
    return { checks, skipRepos: refused ? 'not checked: the GitHub App is refused' : null };
  }
}

/**
 * What the tracker may do in a repo. A token's role is the repository's answer; an App's is
 * its installation there, with the permissions afk needs. `readable` is false when nothing
 * else in the repo can be read (the app is not installed there).
 */
type ReadAccess = (repo: RepoName) => Promise<{ check: Check; readable: boolean }>;

function accessOf(tracker: Tracker, config: Config, app: GitHubApp | null): ReadAccess {
  if (app === null) {
    return async (repo) => ({
      check: checkRepoAccess(repo, await tracker.getRepoAccess(repo), config.tracker.kind),
      readable: true,
    });
  }
  const required = requiredAppPermissions(config);
  return async (repo) => {
    const installation = await app.installation(repo);
    return {
      check: checkAppInstallation(repo, installation, required),
      readable: installation !== null,
    };
  };
}

/**
 * A repo's access and labels. Missing labels are planned: `apply` carries the plan out at
 * once (and the check says how that went); without it the plan is returned, to be printed.
 */
async function checkRepo(
  tracker: Tracker,
  repo: RepoName,
  wanted: LabelSpec[],
  readAccess: ReadAccess,
  apply: Apply | null,
): Promise<{ checks: Check[]; plan: Action[] }> {
  const access = `${repo} access`;
  let accessCheck: Check;
  try {
    const found = await readAccess(repo);
    accessCheck = { ...found.check, name: access };
    if (!found.readable) return { checks: [accessCheck], plan: [] };
  } catch (error) {
    const cannot = check('fail', access, `cannot read the repository: ${failureOf(error)}`);
    return { checks: [cannot], plan: [] };
  }
  const name = `${repo} labels`;
  let missing;
  try {
    missing = missingLabels(wanted, await tracker.listRepoLabels(repo));
  } catch (error) {
    const cannot = check('fail', name, `cannot list labels: ${failureOf(error)}`);
    return { checks: [accessCheck, cannot], plan: [] };
  }
  const names = missing.map((label) => label.name).join(', ');
  const plan = missing.map((label): Action => ({
    kind: 'createLabel',
    issue: repoSubject(repo),
    label,
  }));
  if (missing.length === 0) {
    return { checks: [accessCheck, check('pass', name, `all ${wanted.length} present`)], plan };
  }
  if (apply === null) {
    const fail = check('fail', name, `missing ${names} (run afk doctor --fix-labels to create)`);
    return { checks: [accessCheck, fail], plan };
  }
  const failed = (await apply(plan)).find((result) => result.status === 'failed');
  const labels =
    failed?.status === 'failed'
      ? check('fail', name, `cannot create ${names}: ${failed.error.replace(/^tracker: /, '')}`)
      : check('pass', name, `created ${names}`);
  return { checks: [accessCheck, labels], plan: [] };
}

/**
 * Every T3 server, each as the single one is checked; with `t3.servers` each line names its
 * server (`T3 a scopes`), so a runbook line still reads as one.
 */
async function checkT3Servers(
  fleet: T3Fleet,
  config: Config,
  tokensPresent: boolean[],
): Promise<Check[]> {
  const checked = await Promise.all(
    fleet.servers.map((server, i) =>
      checkT3(server.client, server.url, config.t3.runtimeMode, tokensPresent[i] === true),
    ),
  );
  if (!fleet.many) return checked.flat();
  return checked.flatMap((checks, i) => {
    const name = fleet.servers[i]?.name ?? '';
    return checks.map((c) => ({ ...c, name: c.name.replace(/^T3\b/, `T3 ${name}`) }));
  });
}

/** T3's reachability and version, then the token's scopes, then the snapshot. */
async function checkT3(
  t3: T3Client,
  url: string,
  runtimeMode: Config['t3']['runtimeMode'],
  tokenPresent: boolean,
): Promise<Check[]> {
  const checks: Check[] = [];
  let reachable = false;
  let notReached = 'not checked: T3 is unreachable';
  try {
    const environment = await t3.readEnvironment();
    reachable = true;
    checks.push(check('pass', 'T3', `reachable at ${url}, server ${environment.serverVersion}`));
    const mode = checkT3RuntimeMode(runtimeMode, environment.serverVersion);
    if (mode !== null) checks.push(mode);
  } catch (error) {
    checks.push(checkT3Unreachable(url, error, failureOf(error)));
    if (error instanceof UpstreamError && error.status !== undefined) {
      notReached = 'not checked: T3 did not answer as T3';
    }
  }
  if (!tokenPresent)
    return [...checks, check('skip', 'T3 scopes', 'not checked without a T3 token')];
  if (!reachable) return [...checks, check('skip', 'T3 scopes', notReached)];
  let scopes: Check;
  try {
    scopes = { ...checkT3Session(await t3.readAuthSession()), name: 'T3 scopes' };
  } catch (error) {
    return [...checks, check('fail', 'T3 scopes', `cannot read the session: ${failureOf(error)}`)];
  }
  if (scopes.status !== 'pass') return [...checks, scopes];
  return [...checks, scopes, await checkSnapshot(t3)];
}

/**
 * The snapshot is what every tick reads first: a server that moved its orchestration API off
 * HTTP answers it 404, whatever its environment and session say.
 */
async function checkSnapshot(t3: T3Client): Promise<Check> {
  try {
    const snapshot = await t3.readSnapshot();
    const counts = `${snapshot.projects.length} project(s), ${snapshot.threads.length} thread(s)`;
    return check('pass', 'T3 orchestration', `snapshot readable: ${counts}`);
  } catch (error) {
    return check('fail', 'T3 orchestration', failureOf(error));
  }
}

/** The error without its upstream prefix: the check's name already says which. */
function failureOf(error: unknown): string {
  if (error instanceof ConfigError) return error.problems.join('; ');
  if (error instanceof UpstreamError) return error.message.slice(error.upstream.length + 2);
  return describeError(error);
}
