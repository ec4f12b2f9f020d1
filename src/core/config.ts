// The operator interface: one zod schema, a default on every key, safe (disarmed) defaults.
// Parsing is pure: the loader adapter reads the file and the environment and passes them in.
import * as z from 'zod';

// Every string has a ceiling. A config is an operator's, but a value megabytes long is a
// mistake (a pasted file, a runaway template) that would travel into requests and comments.
const MAX_PATH = 4096;
const MAX_URL = 2048;
const MAX_LOGIN = 100;
const MAX_NAME = 255;
const atMost = (max: number) => `at most ${max} characters`;
const httpUrl = () =>
  z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).max(MAX_URL, atMost(MAX_URL));
/**
 * A base URL afk appends paths to and shows in doctor: fetch refuses one with credentials, a
 * path after a query goes nowhere, and either would be printed. Its token has its own key.
 */
const baseUrl = (tokenKeys: string) =>
  httpUrl().refine((url) => {
    // Only an http(s) URL is judged here: httpUrl has refused the rest, once.
    const parsed = URL.canParse(url) ? new URL(url) : null;
    if (parsed === null || !/^https?:$/.test(parsed.protocol)) return true;
    return parsed.username === '' && parsed.password === '' && !/[?#]/.test(url);
  }, `expected a URL without credentials, query or fragment (the token goes in ${tokenKeys})`);
const filePath = () => z.string().min(1).max(MAX_PATH, atMost(MAX_PATH));

const repoName = z
  .string()
  .max(140, atMost(140))
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'expected "owner/name"')
  .describe('a repository, "owner/name"');

const labelName = z.string().trim().min(1, 'must not be empty').max(50, 'at most 50 characters');

const minutes = (fallback: number, what: string) =>
  z.number().int().min(1).max(10_080).default(fallback).describe(what);

// A GitHub App signs a JWT with its private key and buys an installation token per owner with
// it: no long-lived token to rotate, and its own rate limit. The key is read from its file.
const trackerAuthSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('token') }),
    z.strictObject({
      kind: z.literal('app'),
      appId: z
        .number({ message: 'expected the GitHub App id, a positive integer' })
        .int('expected the GitHub App id, a positive integer')
        .positive('expected the GitHub App id, a positive integer')
        .max(Number.MAX_SAFE_INTEGER),
      privateKeyFile: filePath().describe("file holding the GitHub App's private key (PEM)"),
    }),
  ])
  .default({ kind: 'token' })
  .describe(
    'a token (tracker.tokenFile / AFK_TRACKER_TOKEN), or a GitHub App: its id and the file holding its private key (GitHub only)',
  );

const trackerSchema = z
  .strictObject({
    kind: z.enum(['github', 'forgejo']).default('github').describe('the issue tracker'),
    apiUrl: baseUrl('tracker.tokenFile / AFK_TRACKER_TOKEN')
      .default('https://api.github.com')
      .describe('REST base URL: GitHub Enterprise (…/api/v3) or Forgejo (…/api/v1)'),
    tokenFile: filePath()
      .optional()
      .describe('file holding the tracker token; unset: AFK_TRACKER_TOKEN, then GITHUB_TOKEN'),
    login: z
      .string()
      .min(1)
      .max(MAX_LOGIN, atMost(MAX_LOGIN))
      .optional()
      .describe(
        'the login the token acts as (e.g. "afk-app[bot]" for a GitHub App); unset: asked from the tracker',
      ),
    auth: trackerAuthSchema,
  })
  .prefault({});

const labelsSchema = z
  .strictObject({
    ready: labelName.default('ready-for-agent').describe('queues an issue for an agent'),
    inProgress: labelName.default('agent-in-progress').describe('a run owns the issue (the lock)'),
    human: labelName.default('ready-for-human').describe('afk gave up; a human must act'),
    priorities: z
      .array(labelName)
      .max(20)
      .default(['P0', 'P1', 'P2', 'P3'])
      .describe('priority labels, highest first; unlabelled issues sort after all'),
  })
  .prefault({});

const trustSchema = z
  .strictObject({
    labelers: z
      .union([
        z.literal('write-access'),
        z.literal('any'),
        z
          .array(z.string().trim().min(1).max(MAX_LOGIN, atMost(MAX_LOGIN)))
          .min(1, 'list at least one login')
          .max(1000),
      ])
      .default('write-access')
      .describe(
        'who may start an agent by applying the ready label: write-access | any | [login, ...]',
      ),
  })
  .prefault({});

const commandsSchema = z
  .strictObject({
    prefix: z
      .string()
      .trim()
      .min(2)
      .max(32, atMost(32))
      .regex(/^\/[A-Za-z0-9_-]+$/, 'expected a slash and a word, like /afk')
      .default('/afk')
      .describe("a trusted human's issue comment starting with this talks to the agent"),
  })
  .prefault({});

const dispatchSchema = z
  .strictObject({
    maxConcurrentRuns: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(3)
      .describe('live runs across all repos'),
    maxRunsPerRepo: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe('live runs in one repo (the per-repo lock)'),
    maxDispatchesPerTick: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(1)
      .describe('new runs one poll tick may start'),
  })
  .prefault({});

const modelSelectionInstance = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9_-]*$/, 'expected a T3 provider instance id like "claudeAgent"')
  .max(64);

/**
 * One T3 server of several: a machine with room for `capacity` agents, and the repos whose
 * checkouts live there (each allow-listed repo on exactly one server). Its token is its own:
 * one server's token is never sent to another.
 */
const t3ServerSchema = z.strictObject({
  name: z
    .string()
    .max(63, atMost(63))
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'expected lower-case letters, digits and "-"'),
  url: baseUrl("the server's tokenFile"),
  tokenFile: filePath().optional(),
  capacity: z.number().int().min(1).max(1000),
  repos: z.array(repoName).min(1, 'list at least one repo').max(1000),
});

const t3Schema = z
  .strictObject({
    url: baseUrl('t3.tokenFile / AFK_T3_TOKEN')
      .default('http://t3.afk.svc:3773')
      .describe('T3 Code server base URL (AFK_T3_URL overrides)'),
    tokenFile: filePath()
      .optional()
      .describe('file holding the T3 bearer token, re-read on every request; unset: AFK_T3_TOKEN'),
    workspaceBase: z
      .string()
      .max(MAX_PATH, atMost(MAX_PATH))
      .regex(/^\//, 'expected an absolute path')
      .default('/data')
      .describe('checkouts live here: owner/name works in <workspaceBase>/owner__name'),
    instanceId: modelSelectionInstance
      .default('claudeAgent')
      .describe('T3 provider instance the agent runs on'),
    model: z
      .string()
      .min(1)
      .max(MAX_NAME, atMost(MAX_NAME))
      .default('claude-sonnet-4-6')
      .describe('model for new threads'),
    modelLabels: z
      .record(labelName, z.string().min(1).max(MAX_NAME, atMost(MAX_NAME)))
      .refine((labels) => Object.keys(labels).length <= 100, 'at most 100 labels')
      .default({})
      .describe('label → model, e.g. {"model:opus": "claude-opus-4-7"}: a label picks the model'),
    runtimeMode: z
      .enum(['approval-required', 'auto-accept-edits', 'full-access', 'auto'])
      .default('full-access')
      .describe(
        'T3 runtime mode of the agent; auto needs T3 0.0.30 or later (checked before it is sent)',
      ),
    servers: z
      .array(t3ServerSchema)
      .min(1, 'list at least one server')
      .max(100)
      .optional()
      .describe(
        'several T3 servers instead of t3.url: [{name, url, tokenFile, capacity, repos}]; each allow-listed repo on exactly one; tokenFile may be left out only with one server (AFK_T3_TOKEN)',
      ),
  })
  .prefault({});

const deliverySchema = z
  .strictObject({
    mode: z
      .enum(['pull-request', 'trunk'])
      .default('pull-request')
      .describe('the agent opens a PR from its branch, or pushes to the default branch'),
    branchPrefix: z
      .string()
      .max(200, atMost(200))
      .regex(/^[A-Za-z0-9._/-]+$/, 'expected characters valid in a git branch name')
      .default('afk/issue-')
      .describe('the agent works on <branchPrefix><issue number>'),
  })
  .prefault({});

const watchSchema = z
  .strictObject({
    maxFixForwards: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(2)
      .describe('corrective turns per run before escalating'),
    maxReviewRounds: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(3)
      .describe(
        'review-feedback turns per attempt; one more request for changes escalates review-exhausted',
      ),
    maxConflictTurns: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(2)
      .describe('merge-conflict turns per attempt; one more conflict escalates merge-conflict'),
    stallAfterMinutes: minutes(120, 'escalate a run with no progress for this long'),
    ciTimeoutMinutes: minutes(60, 'escalate CI pending (or action_required) for this long'),
    maxTokensPerRun: z
      .number()
      .int()
      .min(1)
      .max(1_000_000_000)
      .nullable()
      .default(null)
      .describe('escalate a run whose thread used more tokens than this; null: no budget'),
  })
  .prefault({});

const deploySchema = z
  .strictObject({
    kind: z
      .enum(['none', 'github-deployment', 'commit-status'])
      .default('none')
      .describe('what proves the change is live'),
    environment: z
      .string()
      .min(1)
      .max(MAX_NAME, atMost(MAX_NAME))
      .default('production')
      .describe('deployment environment, for github-deployment'),
    context: z
      .string()
      .min(1)
      .max(MAX_NAME, atMost(MAX_NAME))
      .default('deploy/production')
      .describe('commit status context, for commit-status'),
    timeoutMinutes: minutes(60, 'escalate a deploy not done in this long'),
  })
  .prefault({});

const notifySchema = z
  .strictObject({
    slackWebhookUrlFile: filePath()
      .optional()
      .describe(
        'file holding the Slack webhook URL; unset: AFK_SLACK_WEBHOOK_URL; neither: no doorbell',
      ),
  })
  .prefault({});

// The Pushgateway URL may carry basic-auth credentials (https://user:pass@host): it appears
// in no log line or error message.
const metricsSchema = z
  .strictObject({
    pushgatewayUrl: httpUrl()
      .nullable()
      .default(null)
      .describe(
        'Prometheus Pushgateway base URL; each live poll and watch tick pushes its metrics there (never a dry run); null: no push',
      ),
    job: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, 'expected letters, digits, "_", ".", ":" or "-"')
      .max(100)
      .default('afk')
      .describe('the job label of the pushed groups (…/metrics/job/<job>/command/<poll|watch>)'),
  })
  .prefault({});

// What a CronJob's activeDeadlineSeconds must leave room for: the arithmetic is beside
// STOP_GRACE_MS in src/tick/runtime.ts, and test/k8s/manifests.test.ts checks the CronJobs.
const tickSchema = z
  .strictObject({
    budgetSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(70)
      .describe(
        "a poll or watch tick starts no new step after this many seconds, reports what it left undone and exits 1; keep it 20 s under the CronJobs' activeDeadlineSeconds",
      ),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    killSwitch: z
      .boolean()
      .default(true)
      .describe(
        'true: a live tick does nothing; a dry run still previews (AFK_KILL_SWITCH overrides)',
      ),
    repos: z
      .array(repoName)
      .max(1000)
      .default([])
      .describe('the allowlist: only these repos are read or written (AFK_REPOS overrides)'),
    tracker: trackerSchema,
    commands: commandsSchema,
    labels: labelsSchema,
    trust: trustSchema,
    dispatch: dispatchSchema,
    t3: t3Schema,
    delivery: deliverySchema,
    watch: watchSchema,
    deploy: deploySchema,
    notify: notifySchema,
    metrics: metricsSchema,
    tick: tickSchema,
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, string>();
    const named: Array<[string, string]> = [
      ['labels.ready', config.labels.ready],
      ['labels.inProgress', config.labels.inProgress],
      ['labels.human', config.labels.human],
      ...config.labels.priorities.map((p, i): [string, string] => [`labels.priorities.${i}`, p]),
    ];
    for (const [path, name] of named) {
      const other = seen.get(name.toLowerCase());
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
          message: `label "${name}" is already used by ${other}`,
        });
      } else {
        seen.set(name.toLowerCase(), path);
      }
    }
    const repos = new Set<string>();
    config.repos.forEach((repo, i) => {
      if (repos.has(repo.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: ['repos', i], message: `"${repo}" is listed twice` });
      }
      repos.add(repo.toLowerCase());
    });
    if (config.tracker.kind === 'forgejo') checkForgejo(config, ctx);
    if (config.t3.servers !== undefined) checkT3Servers(config, ctx);
    if (config.dispatch.maxRunsPerRepo > config.dispatch.maxConcurrentRuns) {
      ctx.addIssue({
        code: 'custom',
        path: ['dispatch', 'maxRunsPerRepo'],
        message: `must not exceed dispatch.maxConcurrentRuns (${config.dispatch.maxConcurrentRuns})`,
      });
    }
  });

/**
 * Placement is the config's: every allow-listed repo on exactly one server, names and
 * addresses unique, and a token file per server when there are several (one token for all
 * would hand each server the others' credential).
 */
function checkT3Servers(
  config: z.output<typeof configSchema>,
  ctx: z.core.$RefinementCtx<z.output<typeof configSchema>>,
): void {
  const servers = config.t3.servers ?? [];
  const names = new Map<string, number>();
  const urls = new Map<string, number>();
  const placed = new Map<string, number>();
  const at = (i: number, ...rest: Array<string | number>) => ['t3', 'servers', i, ...rest];
  servers.forEach((server, i) => {
    const sameName = names.get(server.name);
    if (sameName !== undefined) {
      const message = `"${server.name}" is already the name of t3.servers.${sameName}`;
      ctx.addIssue({ code: 'custom', path: at(i, 'name'), message });
    } else names.set(server.name, i);
    const url = server.url.replace(/\/+$/, '').toLowerCase();
    const sameUrl = urls.get(url);
    if (sameUrl !== undefined) {
      const message = `the same server as t3.servers.${sameUrl} (its capacity would count twice)`;
      ctx.addIssue({ code: 'custom', path: at(i, 'url'), message });
    } else urls.set(url, i);
    if (server.tokenFile === undefined && servers.length > 1) {
      const message = 'required with several servers (AFK_T3_TOKEN serves only a single one)';
      ctx.addIssue({ code: 'custom', path: at(i, 'tokenFile'), message });
    }
    server.repos.forEach((repo, j) => {
      const other = placed.get(repo.toLowerCase());
      if (other === undefined) placed.set(repo.toLowerCase(), i);
      else {
        const where = other === i ? 'this server' : `t3.servers.${other}`;
        const message = `"${repo}" is already on ${where}: a repo lives on one server`;
        ctx.addIssue({ code: 'custom', path: at(i, 'repos', j), message });
      }
    });
  });
  if (config.t3.tokenFile !== undefined) {
    const message = "not used with t3.servers: set each server's tokenFile";
    ctx.addIssue({ code: 'custom', path: ['t3', 'tokenFile'], message });
  }
  config.repos.forEach((repo, i) => {
    if (servers.length === 0 || placed.has(repo.toLowerCase())) return;
    const message = `"${repo}" is on no T3 server: add it to the repos of one of t3.servers`;
    ctx.addIssue({ code: 'custom', path: ['repos', i], message });
  });
}

/** What GitHub has and Forgejo has not: its API base, Apps, Deployments. */
function checkForgejo(config: z.output<typeof configSchema>, ctx: z.core.$RefinementCtx): void {
  // Forgejo serves its REST API under /api/v1 of the instance; the GitHub default is never
  // right here, and a bare instance URL would answer HTML.
  if (!/\/api\/v1\/?$/.test(new URL(config.tracker.apiUrl).pathname)) {
    ctx.addIssue({
      code: 'custom',
      path: ['tracker', 'apiUrl'],
      message: `a Forgejo API base ends in /api/v1 (e.g. https://forgejo.example/api/v1), not ${config.tracker.apiUrl}`,
    });
  }
  // Forgejo has no GitHub Apps: its tokens are a user's (or a bot user's).
  if (config.tracker.auth.kind === 'app') {
    ctx.addIssue({
      code: 'custom',
      path: ['tracker', 'auth', 'kind'],
      message: 'a GitHub App needs tracker.kind github; on Forgejo use a token (tracker.tokenFile)',
    });
  }
  // Forgejo has no Deployments API: deploy evidence there is a commit status.
  if (config.deploy.kind === 'github-deployment') {
    ctx.addIssue({
      code: 'custom',
      path: ['deploy', 'kind'],
      message: 'github-deployment needs tracker.kind github; on Forgejo use commit-status',
    });
  }
}

export type Config = z.output<typeof configSchema>;
export type TrackerKind = Config['tracker']['kind'];

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

export type Env = Readonly<Record<string, string | undefined>>;

/** Where the problems of a refused config lie: the file, the environment's overrides, both. */
export type ConfigOrigin = 'file' | 'environment' | 'both';

export type ParsedConfig =
  { ok: true; config: Config } | { ok: false; problems: string[]; origin: ConfigOrigin };

const parseBoolean = (value: string): boolean | undefined => {
  const v = value.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
};

/**
 * A key as a problem names it. The keys come from the file, so one can be anything: a key
 * that is not a plain word is quoted (a newline in it cannot break the one-line message) and a
 * long one is cut, so the message names it without repeating a megabyte.
 */
const formatKey = (key: PropertyKey): string => {
  const name = String(key);
  if (/^[A-Za-z0-9_:/-]{1,60}$/.test(name)) return name;
  const chars = Array.from(name);
  return JSON.stringify(chars.length > 60 ? `${chars.slice(0, 59).join('')}…` : name);
};

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0 ? '(top level)' : path.map(formatKey).join('.');

/** An environment value quoted in a message, cut short: the variable may hold anything. */
const shown = (value: string): string => {
  const chars = Array.from(value);
  return JSON.stringify(chars.length > 40 ? `${chars.slice(0, 39).join('')}…` : value);
};

/**
 * Validates the file's parsed content with the environment's overrides applied. `raw` is
 * `undefined` for "no file" (all defaults). Returns every problem, not just the first.
 */
export function parseConfig(raw: unknown, env: Env): ParsedConfig {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    return {
      ok: false,
      problems: ['(top level): expected a mapping of keys to values'],
      origin: 'file',
    };
  }
  const merged: Record<string, unknown> = structuredClone((raw ?? {}) as Record<string, unknown>);
  const overrides = applyEnv(merged, env);
  const envProblems = [...overrides.problems, ...urlBesideServers(merged, overrides)];
  const fileProblems: string[] = [];
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const envProblem = describeEnvIssue(issue, overrides);
      if (envProblem === null) fileProblems.push(...describeIssue(issue));
      else envProblems.push(envProblem);
    }
  }
  const problems = [...envProblems, ...fileProblems];
  if (problems.length > 0 || !result.success) {
    const origin =
      envProblems.length === 0 ? 'file' : fileProblems.length === 0 ? 'environment' : 'both';
    return { ok: false, problems, origin };
  }
  return { ok: true, config: result.data };
}

/**
 * `t3.url` names the one server; `t3.servers` names several, each with its own url. Both at
 * once is ambiguous, so it is refused, AFK_T3_URL included: an override that silently
 * pointed every repo at one server would be worse than an error.
 */
function urlBesideServers(merged: Record<string, unknown>, overrides: EnvOverrides): string[] {
  const t3 = merged['t3'];
  if (t3 === null || typeof t3 !== 'object' || !('servers' in t3) || !('url' in t3)) return [];
  return [
    overrides.t3Url
      ? "AFK_T3_URL: cannot override t3.url when t3.servers is set: unset it, or set each server's url"
      : 't3.url: not used with t3.servers: each server has its own url',
  ];
}

/** What the environment overrode, to name a bad value by the variable that set it. */
interface EnvOverrides {
  /** The overrides that are wrong before the schema sees them. */
  problems: string[];
  repos: string[] | undefined;
  t3Url: boolean;
}

/** Applies the environment's overrides to the file's content, in place. */
function applyEnv(merged: Record<string, unknown>, env: Env): EnvOverrides {
  const overrides: EnvOverrides = { problems: [], repos: undefined, t3Url: false };
  const killSwitch = env['AFK_KILL_SWITCH'];
  if (killSwitch !== undefined && killSwitch !== '') {
    const value = parseBoolean(killSwitch);
    if (value === undefined) {
      overrides.problems.push(
        `AFK_KILL_SWITCH: expected "true" or "false", got ${shown(killSwitch)}`,
      );
    } else {
      merged['killSwitch'] = value;
    }
  }
  const repos = env['AFK_REPOS'];
  if (repos !== undefined) {
    overrides.repos = repos
      .split(',')
      .map((r) => r.trim())
      .filter((r) => r !== '');
    merged['repos'] = overrides.repos;
  }
  const t3Url = env['AFK_T3_URL'];
  if (t3Url !== undefined && t3Url !== '') {
    const t3 = merged['t3'];
    merged['t3'] =
      t3 !== null && typeof t3 === 'object' && !Array.isArray(t3)
        ? { ...(t3 as object), url: t3Url }
        : t3 === undefined
          ? { url: t3Url }
          : t3;
    overrides.t3Url = true;
  }
  const logLevel = env['AFK_LOG_LEVEL'];
  if (
    logLevel !== undefined &&
    logLevel !== '' &&
    !(logLevels as readonly string[]).includes(logLevel)
  ) {
    overrides.problems.push(
      `AFK_LOG_LEVEL: expected one of ${logLevels.join(', ')}, got ${shown(logLevel)}`,
    );
  }
  return overrides;
}

/**
 * A bad override is named as the variable the operator set, never as the file key it
 * replaces, and never blamed on the file. null: the problem is the file's.
 */
function describeEnvIssue(issue: z.core.$ZodIssue, overrides: EnvOverrides): string | null {
  const [first, index] = issue.path;
  if (overrides.repos !== undefined && first === 'repos') {
    const entry = typeof index === 'number' ? overrides.repos[index] : undefined;
    const which = entry === undefined ? '' : `entry ${Number(index) + 1} (${shown(entry)}): `;
    return `AFK_REPOS: ${which}${issue.message}`;
  }
  if (overrides.t3Url && first === 't3' && index === 'url') {
    // The URL may carry credentials (https://user:pass@host): its value is not repeated.
    return `AFK_T3_URL: ${issue.message}`;
  }
  return null;
}

/**
 * Unknown keys are reported one by one at their own path: they are usually typos, so a known
 * key close to one is suggested.
 */
function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((key) => {
      const near = closestKey(key, known);
      const hint = near === undefined ? '' : ` (did you mean ${near}?)`;
      return `${formatPath([...issue.path, key])}: unknown key${hint}`;
    });
  }
  return [`${formatPath(issue.path)}: ${issue.message}`];
}

/** The keys the schema knows at a path: the top level, or a section's. */
function knownKeysAt(path: ReadonlyArray<PropertyKey>): string[] {
  let schema: z.core.$ZodType = configSchema;
  for (const key of path) {
    // An entry of a list (t3.servers.0): its keys are the element's.
    const element = typeof key === 'number' ? arrayElement(schema) : undefined;
    if (element !== undefined) {
      schema = element;
      continue;
    }
    const shape = objectShape(schema);
    const child = shape === undefined ? undefined : shape[String(key)];
    if (child === undefined) return [];
    schema = child;
  }
  return Object.keys(objectShape(schema) ?? {});
}

/** The element schema of a list under its wrappers. */
function arrayElement(schema: z.core.$ZodType): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = schema;
  while (current !== undefined) {
    if (current instanceof z.ZodArray) return current.element as z.core.$ZodType;
    const def = current._zod.def as { innerType?: z.core.$ZodType };
    current = def.innerType;
  }
  return undefined;
}

/**
 * The shape of an object schema under its default/prefault/optional wrappers; of a union of
 * objects (tracker.auth), every option's keys.
 */
function objectShape(schema: z.core.$ZodType): Record<string, z.core.$ZodType> | undefined {
  let current: z.core.$ZodType | undefined = schema;
  while (current !== undefined) {
    if (current instanceof z.ZodObject) return current.shape as Record<string, z.core.$ZodType>;
    if (current instanceof z.ZodUnion) {
      const options = current.options as z.core.$ZodType[];
      return Object.assign({}, ...options.map((option) => objectShape(option) ?? {})) as Record<
        string,
        z.core.$ZodType
      >;
    }
    const def = current._zod.def as { innerType?: z.core.$ZodType };
    current = def.innerType;
  }
  return undefined;
}

/**
 * The known key an unknown one most likely meant: the nearest by edit distance, ignoring
 * case, within about a third of its length (a typo, not another word).
 */
function closestKey(key: string, known: readonly string[]): string | undefined {
  const typed = key.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(typed, candidate.toLowerCase());
    const allowed = Math.max(1, Math.floor(candidate.length / 3));
    if (distance <= allowed && (best === undefined || distance < best.distance)) {
      best = { key: candidate, distance };
    }
  }
  return best?.key;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, transpositions. */
function editDistance(a: string, b: string): number {
  // Keys come from the file and may be long: past this, no known key is a typo of it.
  if (Math.abs(a.length - b.length) > 10) return Infinity;
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, at(i - 2, j - 2) + 1);
      }
      (rows[i] as number[])[j] = d;
    }
  }
  return at(a.length, b.length);
}

const KILL_SWITCH_ON = 'kill switch is on (killSwitch / AFK_KILL_SWITCH)';
const NO_REPOS = 'no repos are allow-listed (repos / AFK_REPOS)';

/** The gates: both must be open before a tick touches the network. */
export function gateStatus(config: Config): { open: true } | { open: false; reason: string } {
  if (config.killSwitch) return { open: false, reason: KILL_SWITCH_ON };
  if (config.repos.length === 0) return { open: false, reason: NO_REPOS };
  return { open: true };
}

export type TickGate = { open: true; killSwitch: boolean } | { open: false; reason: string };

/**
 * The gates of one tick. A live tick needs both open. A dry run writes nothing, so the kill
 * switch does not stop it: it is the preview an operator reads before clearing the switch,
 * and `killSwitch` says the live tick would do nothing. The allowlist holds for both: no
 * repos, no requests.
 */
export function tickGate(config: Config, mode: 'live' | 'dry-run'): TickGate {
  if (mode === 'live' && config.killSwitch) return { open: false, reason: KILL_SWITCH_ON };
  if (config.repos.length === 0) return { open: false, reason: NO_REPOS };
  return { open: true, killSwitch: config.killSwitch };
}
