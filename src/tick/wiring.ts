// Wiring: the adapters every command uses, built from the config, the secrets and the runtime.
// One place says where each secret comes from and how each upstream is reached (timeouts,
// retries, pacing, the read-only fetch outside a live run, the request meter).
import type { Logger } from '../adapters/log.js';
import type { GitHubApp } from '../adapters/github-app.js';
import {
  rememberSecret,
  requiredSecret,
  secretConfigured,
  type SecretSpec,
} from '../adapters/secrets.js';
import type { T3Client } from '../adapters/t3.js';
import {
  serverOfRepo,
  t3ServersOf,
  type Config,
  type Doorbell,
  type RepoName,
  type T3,
  type T3ServerPlace,
  type Tracker,
  type Upstream,
} from '../core/index.js';
import type { Ports } from './executor.js';
import { createRequestMeter, fetchFor, isLoopback, type RequestCount } from './http.js';
import { TIMEOUTS, type Mode, type Runtime } from './runtime.js';

/** Where each secret comes from; its value is read afresh per request, never kept. */
export function secretSpecs(config: Config) {
  const { auth } = config.tracker;
  // A GitHub App's secret is its private key; the tokens it buys with it are never stored.
  const tracker: SecretSpec =
    auth.kind === 'app'
      ? {
          name: 'GitHub App private key',
          fileKey: 'tracker.auth.privateKeyFile',
          file: auth.privateKeyFile,
          envVars: [],
        }
      : {
          name: 'tracker token',
          fileKey: 'tracker.tokenFile',
          file: config.tracker.tokenFile,
          envVars: ['AFK_TRACKER_TOKEN', 'GITHUB_TOKEN'],
        };
  return {
    tracker,
    t3: {
      name: 'T3 token',
      fileKey: 't3.tokenFile',
      file: config.t3.tokenFile,
      envVars: ['AFK_T3_TOKEN'],
    },
    slack: {
      name: 'Slack webhook URL',
      fileKey: 'notify.slackWebhookUrlFile',
      file: config.notify.slackWebhookUrlFile,
      envVars: ['AFK_SLACK_WEBHOOK_URL'],
    },
  } satisfies Record<string, SecretSpec>;
}

/**
 * The token of each T3 server. The single server of `t3.url` keeps its keys; with
 * `t3.servers` each server's is its own file, and AFK_T3_TOKEN only when there is one server
 * (a shared token would send each server the others' credential).
 */
export function t3SecretSpecs(config: Config): SecretSpec[] {
  const { servers } = config.t3;
  if (servers === undefined) return [secretSpecs(config).t3];
  return servers.map((server, i) => ({
    name: `T3 token of ${server.name}`,
    fileKey: `t3.servers.${i}.tokenFile`,
    file: server.tokenFile,
    envVars: servers.length === 1 ? ['AFK_T3_TOKEN'] : [],
  }));
}

/** A T3 server and its client. */
export interface T3Route extends T3ServerPlace {
  client: T3Client;
}

/** Every T3 server of the config, and the one each repo is pinned to. */
export interface T3Fleet {
  servers: T3Route[];
  /** Several servers (`t3.servers`), not the one of `t3.url`. */
  many: boolean;
  of(repo: RepoName): T3Route;
}

export interface Wiring {
  /** Anything but `live` gets adapters that cannot write (http.ts). */
  mode: Mode;
  log?: Logger | undefined;
  /** Aborts every request in flight and after (the end of a stopped tick's grace). */
  abort?: AbortSignal | undefined;
  /** Per request (each attempt); `runtime.http.timeoutMs` overrides them all. */
  timeouts?: { trackerMs: number; t3Ms: number; slackMs: number };
}

/** The adapters, each built when asked for, and the requests they sent so far. */
export interface Adapters {
  tracker(): Promise<Tracker>;
  /** The single server's client (with `t3.servers`, the first server's). */
  /** The GitHub App the tracker authenticates as (the same one), or null for a token. */
  githubApp(): Promise<GitHubApp | null>;
  t3(): T3Client;
  t3Fleet(): T3Fleet;
  doorbell(): Doorbell;
  requestCounts(): RequestCount[];
}

export async function wireAdapters(
  config: Config,
  runtime: Runtime,
  wiring: Wiring,
): Promise<Adapters> {
  const meter = createRequestMeter(wiring.log);
  const fetch = (upstream: Upstream) => fetchFor(wiring.mode, meter.fetchFor(upstream));
  const [{ createT3Client }, { createSlackDoorbell }] = await Promise.all([
    import('../adapters/t3.js'),
    import('../adapters/slack.js'),
  ]);
  // Minting a token is a POST even in a dry run or doctor: counted, never the read-only fetch.
  const githubApp = once(() => wireGitHubApp(config, runtime, wiring, meter.fetchFor('tracker')));
  const secrets = secretSpecs(config);
  const { retries, timeoutMs } = runtime.http ?? {};
  const timeouts = wiring.timeouts ?? TIMEOUTS;
  const signal = wiring.abort === undefined ? {} : { signal: wiring.abort };
  const t3Options = {
    fetch: fetch('t3'),
    ...(retries === undefined ? {} : { retries }),
    timeoutMs: timeoutMs ?? timeouts.t3Ms,
    ...signal,
  };
  const t3Fleet = () => wireT3Fleet(config, runtime, (o) => createT3Client({ ...o, ...t3Options }));
  return {
    tracker: async () => wireTracker(config, runtime, wiring, fetch('tracker'), await githubApp()),
    githubApp,
    t3: () => t3Fleet().servers[0]!.client,
    t3Fleet,
    // No webhook configured means no doorbell: watch plans none, and escalations go on. A
    // configured one whose file cannot be read fails its ring, and the relabel waits for it.
    doorbell: () =>
      secretConfigured(secrets.slack, runtime.env)
        ? createSlackDoorbell({
            webhookUrl: requiredSecret(secrets.slack, runtime.env),
            fetch: fetch('slack'),
            ...(retries === 0 ? { retryDelayMs: 0 } : {}),
            timeoutMs: timeoutMs ?? timeouts.slackMs,
            ...signal,
          })
        : noDoorbell,
    requestCounts: meter.counts,
  };
}

/** A client per T3 server, each with its own token. */
function wireT3Fleet(
  config: Config,
  runtime: Runtime,
  create: (options: { baseUrl: string; token: () => Promise<string> }) => T3Client,
): T3Fleet {
  const specs = t3SecretSpecs(config);
  const servers = t3ServersOf(config).map((place, i) => ({
    ...place,
    client: create({ baseUrl: place.url, token: requiredSecret(specs[i]!, runtime.env) }),
  }));
  return { servers, many: config.t3.servers !== undefined, of: routeOf(servers) };
}

const routeOf =
  (servers: T3Route[]) =>
  (repo: RepoName): T3Route => {
    const route = serverOfRepo(servers, repo);
    // The config pins every allow-listed repo, and a tick reads no other.
    if (route === undefined) throw new Error(`${repo} is on no T3 server`);
    return route;
  };

/**
 * With several servers no call may go to "the" T3: each names its repo's server. One that
 * does not is a bug, and fails rather than reaching the wrong machine.
 */
const unroutedT3: T3 = new Proxy({} as T3, {
  get: () => () => Promise.reject(new Error('several T3 servers: this call names no repo')),
});

async function wireTracker(
  config: Config,
  runtime: Runtime,
  wiring: Wiring,
  fetch: typeof globalThis.fetch,
  app: GitHubApp | null,
): Promise<Tracker> {
  const { createTracker } = await import('../adapters/tracker.js');
  const { retries, pace, timeoutMs } = runtime.http ?? {};
  // GitHub's write pacing (about one write a second) protects a real GitHub; an emulator on
  // loopback (the demo, the end-to-end tests) has no secondary limits to respect.
  const throttle =
    runtime.http?.throttle ?? (isLoopback(config.tracker.apiUrl) ? false : undefined);
  const tracker = await createTracker(config.tracker.kind, {
    apiUrl: config.tracker.apiUrl,
    token: app?.token ?? requiredSecret(secretSpecs(config).tracker, runtime.env),
    tokenPerOwner: app !== null,
    fetch,
    ...(config.tracker.login === undefined ? {} : { login: config.tracker.login }),
    ...(retries === undefined ? {} : { retries }),
    ...(throttle === undefined ? {} : { throttle }),
    ...(pace === undefined ? {} : { pace }),
    timeoutMs: timeoutMs ?? (wiring.timeouts ?? TIMEOUTS).trackerMs,
    ...(wiring.abort === undefined ? {} : { signal: wiring.abort }),
  });
  // An installation token cannot read `GET /user`: the app's bot login comes from `GET /app`.
  if (app === null || config.tracker.login !== undefined) return tracker;
  return { ...tracker, getSelfLogin: app.selfLogin };
}

/** The GitHub App of a `tracker.auth: {kind: app}` config, one per tick; null for a token. */
async function wireGitHubApp(
  config: Config,
  runtime: Runtime,
  wiring: Wiring,
  fetch: typeof globalThis.fetch,
): Promise<GitHubApp | null> {
  const { auth } = config.tracker;
  if (auth.kind !== 'app') return null;
  const { createGitHubApp } = await import('../adapters/github-app.js');
  const timeouts = wiring.timeouts ?? TIMEOUTS;
  return createGitHubApp({
    apiUrl: config.tracker.apiUrl,
    appId: auth.appId,
    privateKey: requiredSecret(secretSpecs(config).tracker, runtime.env),
    privateKeySource: { key: 'tracker.auth.privateKeyFile', file: auth.privateKeyFile },
    repos: config.repos,
    fetch,
    timeoutMs: runtime.http?.timeoutMs ?? timeouts.trackerMs,
    ...(wiring.abort === undefined ? {} : { signal: wiring.abort }),
    now: runtime.now,
    remember: (token) => rememberSecret(runtime.env, token),
  });
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/** Watch is told there is no doorbell and plans no ring: one that is asked to ring is a bug. */
export const noDoorbell: Doorbell = {
  configured: false,
  ring: () => Promise.reject(new Error('no doorbell is configured: nothing was sent')),
};

/** The ports, and the requests they sent so far. */
export interface TickPorts extends Ports {
  t3Fleet: T3Fleet;
  requestCounts(): RequestCount[];
}

/** The ports of a tick (and of status, read-only): every secret it needs, or exit 2. */
export async function buildPorts(
  config: Config,
  runtime: Runtime,
  mode: Mode,
  edge: { log?: Logger; abort?: AbortSignal } = {},
): Promise<TickPorts> {
  const adapters = await wireAdapters(config, runtime, { mode, ...edge });
  // Both secrets must exist before the first request: a missing one is a configuration
  // error (exit 2), not an unreadable upstream. They are still read afresh per request.
  const secrets = secretSpecs(config);
  await Promise.all([
    requiredSecret(secrets.tracker, runtime.env)(),
    ...t3SecretSpecs(config).map((spec) => requiredSecret(spec, runtime.env)()),
  ]);
  const fleet = adapters.t3Fleet();
  return {
    tracker: await adapters.tracker(),
    t3: fleet.many ? unroutedT3 : fleet.servers[0]!.client,
    t3Of: (repo) => fleet.of(repo).client,
    t3Fleet: fleet,
    doorbell: adapters.doorbell(),
    requestCounts: adapters.requestCounts,
  };
}
