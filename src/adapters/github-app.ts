// GitHub App authentication through @octokit/auth-app: the app's JWT (signed with its private
// key) finds the installation that covers a repository's owner and buys that installation's
// token; the tracker's requests carry the token. One of these lives for one tick: the
// installation of each owner is looked up once, its token minted once and minted again only
// when it comes close to expiring. No token, JWT or key ever reaches a message: errors carry
// the method, the path, the status and GitHub's own message.
import { createPrivateKey } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import * as z from 'zod';
import { ConfigError, TrackerError, type RepoName } from '../core/index.js';
import { networkFailureOf } from './network.js';
import { failureKind, read, splitRepo, type TokenScope } from './tracker-wire.js';

export interface GitHubAppOptions {
  apiUrl: string;
  appId: number;
  /** The private key's PEM, read from its file (`tracker.auth.privateKeyFile`). */
  privateKey: () => Promise<string>;
  /** Where the key comes from, for messages: the config key and the file it names. */
  privateKeySource: { key: string; file: string };
  /** The allow-listed repos: a request that names no owner is one of theirs. */
  repos: readonly RepoName[];
  /**
   * The fetch of the app's own requests. Minting a token is a POST that changes nothing on
   * the tracker, so this one is never the read-only fetch of a dry run.
   */
  fetch?: typeof fetch | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  userAgent?: string | undefined;
  /** The clock a token's `expires_at` is compared with. */
  now?: (() => Date) | undefined;
  /** Told every token minted, so that the CLI's output can never show one. */
  remember?: ((secret: string) => void) | undefined;
}

export interface GitHubAppInstallation {
  id: number;
  account: string | null;
  repositorySelection: string;
  /** Permission name → `read`, `write` or `admin`. */
  permissions: Record<string, string>;
}

export interface GitHubApp {
  /** The installation token for the owner a request touches. */
  token(scope?: TokenScope): Promise<string>;
  /** `<slug>[bot]`: the login the installation's writes carry. */
  selfLogin(): Promise<string>;
  /** The app, as `GET /app` describes it to its own JWT. */
  describe(): Promise<{ id: number; slug: string }>;
  /** The installation on a repository; null when the app is not installed there. */
  installation(repo: RepoName): Promise<GitHubAppInstallation | null>;
}

// https://docs.github.com/en/rest/about-the-rest-api/api-versions
const apiVersion = '2022-11-28';
/**
 * An installation token lives an hour. One used within this margin of its `expires_at` is
 * replaced first: a request that starts on it must not reach GitHub after it expired.
 */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export function createGitHubApp(options: GitHubAppOptions): GitHubApp {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const now = options.now ?? (() => new Date());
  // A bare client (no auth, no retries): auth-app adds the JWT or nothing, and a failed mint
  // fails the request that needed the token, which the tracker's own retries repeat.
  const silent = () => undefined;
  const request = new Octokit({
    baseUrl: apiUrl,
    userAgent: options.userAgent ?? 'afk',
    request: { fetch: timedFetch(options) },
    log: { debug: silent, info: silent, warn: silent, error: silent },
  }).request.defaults({ headers: { 'x-github-api-version': apiVersion } });
  const failure = describeFailure(apiUrl, options.appId, options.privateKeySource.key);

  let auth: Promise<ReturnType<typeof createAppAuth>> | undefined;
  const appAuth = () => {
    auth ??= options.privateKey().then((privateKey) => {
      checkPrivateKey(privateKey, options.privateKeySource);
      return createAppAuth({
        appId: options.appId,
        privateKey,
        request,
        // afk logs through its own logger; auth-app would warn on the console.
        log: { warn: () => undefined },
      });
    });
    // A key that could not be read is read again by the next request.
    auth.catch(() => (auth = undefined));
    return auth;
  };

  /** With the app's JWT: the library signs it and retries once on a clock skew GitHub names. */
  const withJwt = async (route: string, params: Record<string, unknown> = {}) => {
    const hook = (await appAuth()).hook;
    try {
      return await hook(request, route, params);
    } catch (error) {
      throw failure(error, route, params);
    }
  };

  let app: Promise<{ id: number; slug: string }> | undefined;
  const describe = () => {
    app ??= withJwt('GET /app').then((answer) => {
      const origin = { request: 'GET /app', status: answer.status };
      return read(appSchema, answer.data, origin);
    });
    app.catch(() => (app = undefined));
    return app;
  };

  const installations = new Map<string, Promise<GitHubAppInstallation | null>>();
  const installation = (repo: RepoName) => {
    const { owner, name } = splitRepo(repo);
    const key = repo.toLowerCase();
    let found = installations.get(key);
    if (found === undefined) {
      // https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
      found = withJwt('GET /repos/{owner}/{repo}/installation', { owner, repo: name }).then(
        (answer) => {
          const origin = { request: `GET /repos/${owner}/${name}/installation`, ...answer };
          return toInstallation(read(installationSchema, answer.data, origin));
        },
        (error: unknown) => {
          if (error instanceof TrackerError && error.status === 404) return null;
          throw error;
        },
      );
      installations.set(key, found);
      found.catch(() => installations.delete(key));
    }
    return found;
  };

  // One installation per owner: its lookup goes through the first allow-listed repo of the
  // owner (or the one the request names), once per tick.
  const owners = new Map<string, Promise<number>>();
  const installationOf = (scope: TokenScope): Promise<number> => {
    const owner = ownerOf(scope, options.repos);
    const key = owner.toLowerCase();
    let id = owners.get(key);
    if (id === undefined) {
      const repo =
        scope.repo !== undefined
          ? `${owner}/${scope.repo}`
          : (options.repos.find((r) => splitRepo(r).owner.toLowerCase() === key) ?? owner);
      id = installation(repo).then((found) => {
        if (found !== null) return found.id;
        throw new TrackerError({
          kind: 'auth',
          request: `GET /repos/${repo}/installation`,
          status: 404,
          detail: `the GitHub App ${options.appId} is not installed on ${repo}: install it on ${owner}'s repositories`,
        });
      });
      owners.set(key, id);
      id.catch(() => owners.delete(key));
    }
    return id;
  };

  const mint = async (installationId: number, refresh: boolean): Promise<InstallationToken> => {
    const route = 'POST /app/installations/{installation_id}/access_tokens';
    try {
      // https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
      const answer = await (
        await appAuth()
      )({
        type: 'installation',
        installationId,
        ...(refresh ? { refresh: true } : {}),
      });
      options.remember?.(answer.token);
      return { token: answer.token, expiresAt: answer.expiresAt };
    } catch (error) {
      throw failure(error, route, { installation_id: installationId });
    }
  };

  return {
    async token(scope = {}) {
      const id = await installationOf(scope);
      // auth-app keeps the token it minted for this installation: minted once per tick.
      const cached = await mint(id, false);
      if (Date.parse(cached.expiresAt) - now().getTime() > REFRESH_MARGIN_MS) return cached.token;
      return (await mint(id, true)).token;
    },
    async selfLogin() {
      // The app's writes carry its bot account's login.
      // https://docs.github.com/en/apps/creating-github-apps/about-creating-github-apps/about-creating-github-apps
      return `${(await describe()).slug}[bot]`;
    },
    describe,
    installation,
  };
}

interface InstallationToken {
  token: string;
  expiresAt: string;
}

/** The owner a request touches: named by it, or the only owner of the allowlist. */
function ownerOf(scope: TokenScope, repos: readonly RepoName[]): string {
  if (scope.owner !== undefined) return scope.owner;
  const owners = [...new Set(repos.map((repo) => splitRepo(repo).owner.toLowerCase()))];
  const only = owners.length === 1 ? repos[0] : undefined;
  if (only !== undefined) return splitRepo(only).owner;
  throw new TrackerError({
    kind: 'contract',
    request: '(GitHub App token)',
    reason: `a request that names no repository owner cannot pick one of ${owners.length} installations`,
  });
}

/** Each attempt gets its own timeout, and the tick's signal stops it. */
function timedFetch(options: GitHubAppOptions): typeof fetch {
  const send = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;
  return (input, init) => {
    const signals = [AbortSignal.timeout(timeoutMs), init?.signal, options.signal].filter(
      (signal): signal is AbortSignal => signal !== undefined && signal !== null,
    );
    return send(input, { ...init, signal: AbortSignal.any(signals) });
  };
}

// --- the boundary ---------------------------------------------------------------------------

interface HttpFailure {
  status: number;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  cause?: unknown;
}

const isHttpFailure = (error: unknown): error is HttpFailure & Error =>
  error instanceof Error &&
  error.name === 'HttpError' &&
  typeof (error as { status?: unknown }).status === 'number';

const jwtRoutes = new Set(['GET /app', 'GET /repos/{owner}/{repo}/installation']);

/**
 * An app request's failure as the tracker's error: the route with its parameters filled in, the
 * status, GitHub's message. A refused JWT says which app and which key file to look at.
 */
function describeFailure(apiUrl: string, appId: number, keyKey: string) {
  return (error: unknown, route: string, params: Record<string, unknown>): Error => {
    if (error instanceof TrackerError || error instanceof ConfigError) return error;
    const requestLine = route.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name]));
    if (!isHttpFailure(error)) {
      // Not GitHub's answer (the key was checked when read): its message may quote anything.
      return new TrackerError({
        kind: 'transient',
        request: requestLine,
        reason: 'request failed',
      });
    }
    if (error.response === undefined) {
      return new TrackerError({
        kind: 'transient',
        request: requestLine,
        network: networkFailureOf(error.cause, apiUrl),
        cause: error.cause,
      });
    }
    const message = githubMessage(error.response.data);
    const kind = failureKind(error.status, error.response.headers ?? {}, message);
    const jwt = jwtRoutes.has(route) || route.startsWith('POST /app/');
    if (error.status === 401 && jwt) {
      const why = message === undefined ? '' : `: ${message}`;
      return new TrackerError({
        kind,
        request: requestLine,
        status: error.status,
        detail: `the GitHub App ${appId} JWT was refused (is ${keyKey} this app's private key, and the clock right?)${why}`,
      });
    }
    return new TrackerError({ kind, request: requestLine, status: error.status, reason: message });
  };
}

const errorBodySchema = z.object({ message: z.string() });

function githubMessage(data: unknown): string | undefined {
  const parsed = errorBodySchema.safeParse(data);
  if (!parsed.success || parsed.data.message === '') return undefined;
  const line = parsed.data.message.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

// --- wire shapes ------------------------------------------------------------------------------

// https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app
const appSchema = z.object({ id: z.number().int(), slug: z.string().min(1) });

// https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
const installationSchema = z.object({
  id: z.number().int().positive(),
  account: z.object({ login: z.string() }).nullable(),
  repository_selection: z.string(),
  permissions: z.record(z.string(), z.string()),
});

const toInstallation = (raw: z.infer<typeof installationSchema>): GitHubAppInstallation => ({
  id: raw.id,
  account: raw.account?.login ?? null,
  repositorySelection: raw.repository_selection,
  permissions: raw.permissions,
});

/**
 * The key must be an RSA private key (GitHub issues PKCS#1 PEM): anything else is the
 * operator's to fix (exit 2), named by its file. Neither the content nor the parser's message
 * about it reaches the error.
 */
function checkPrivateKey(pem: string, source: { key: string; file: string }): void {
  let type: string | undefined;
  try {
    type = createPrivateKey(pem).asymmetricKeyType;
  } catch {
    type = undefined;
  }
  if (type !== 'rsa') {
    throw new ConfigError([
      `${source.key}: the file ${source.file} holds no RSA private key (expected the .pem GitHub generates for the app)`,
    ]);
  }
}
