// The GitHub fake's Apps: an app's JWT (RS256, verified against the app's public key, its
// `iat`/`exp`/`iss` checked as GitHub does), the app's own routes (`GET /app`, the repository's
// installation, an installation token), and the installation tokens the REST routes accept
// only for the installation's repositories and within its permissions.
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
// https://docs.github.com/en/rest/apps/apps
import { createPublicKey, KeyObject, randomBytes, verify, type KeyLike } from 'node:crypto';
import { docs, Refusal } from './errors.js';
import type { Route, Server } from './server.js';
import {
  installationCovers,
  type AppPermissions,
  type AppRecord,
  type Caller,
  type GitHubState,
  type InstallationRecord,
  type RepoRecord,
} from './state.js';
import type { Wire } from './wire.js';

export interface FakeAppInstallInput {
  appId: number;
  slug: string;
  /** The app's public key (its private key works too: the public half is taken from it). */
  publicKey: KeyLike;
  /** The account the app is installed on. */
  owner: string;
  /** The selected repositories (owner/name), or all of the owner's. Default all. */
  repos?: string[] | 'all';
  /** Default: what afk needs (README "GitHub App"). */
  permissions?: AppPermissions;
}

/** What afk's reads and writes need; the default grant of `installApp`. */
export const afkAppPermissions: AppPermissions = {
  issues: 'write',
  pull_requests: 'read',
  contents: 'read',
  checks: 'read',
  statuses: 'read',
  deployments: 'read',
  metadata: 'read',
};

/** A route's requirement: the app's JWT, or an installation permission (users pass). */
export type Access = { jwt: true } | { permission: [name: string, level: 'read' | 'write'] };

// An installation token lives an hour.
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-an-installation-access-token-for-a-github-app
const tokenLifetimeMs = 60 * 60_000;
// "The JWT must expire no more than 10 minutes into the future."
const maxJwtLifetimeS = 10 * 60;
const appsDocs = `${docs}/apps/apps`;
const notAccessible = 'Resource not accessible by integration';

export function createApps(state: GitHubState) {
  const { apps, installations, now, newId, stamp, findRepo } = state;

  /** Who the Authorization header names, or the refusal GitHub answers. */
  const authenticate = (headers: Record<string, string>, access: Access | undefined): Caller => {
    const header = headers['authorization'];
    if (header === undefined) throw new Refusal(401, 'Requires authentication');
    const [, given = ''] = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim()) ?? [];
    const jwtRoute = access !== undefined && 'jwt' in access;
    if (jwtRoute) {
      // The app's routes take its JWT, and nothing else.
      if (given.split('.').length !== 3) {
        throw new Refusal(401, 'A JSON web token could not be decoded', appsDocs);
      }
      return { kind: 'app', app: verifyJwt(given) };
    }
    if (given === state.token) return { kind: 'user', login: state.selfLogin };
    const installation = [...installations.values()].find((i) => i.tokens.has(given));
    const expiresAt = installation?.tokens.get(given);
    if (installation !== undefined && expiresAt !== undefined && expiresAt > now().getTime()) {
      return { kind: 'installation', login: `${installation.app.slug}[bot]`, installation };
    }
    // A JWT is no credential here either: only the app's own routes take one.
    throw new Refusal(401, 'Bad credentials');
  };

  /** RS256 over header.payload with the app's public key; then the claims, in GitHub's words. */
  const verifyJwt = (jwt: string): AppRecord => {
    const [header = '', payload = '', signature = ''] = jwt.split('.');
    const decoded = decodeJson(header);
    const claims = decodeJson(payload);
    if (decoded?.['alg'] !== 'RS256' || claims === undefined) {
      throw new Refusal(401, 'A JSON web token could not be decoded', appsDocs);
    }
    const app = apps.get(Number(claims['iss']));
    if (app === undefined) throw new Refusal(401, 'Integration not found', appsDocs);
    const signed = Buffer.from(`${header}.${payload}`);
    if (!verify('RSA-SHA256', signed, app.publicKey, Buffer.from(signature, 'base64url'))) {
      throw new Refusal(401, 'A JSON web token could not be decoded', appsDocs);
    }
    // JWTs are signed with the signer's real clock (the libraries read Date.now), so they are
    // judged by it too, whatever the fake's own clock says for its timestamps.
    const nowS = Math.floor(Date.now() / 1000);
    const { iat, exp } = claims;
    if (!Number.isInteger(iat) || (iat as number) > nowS) {
      throw new Refusal(
        401,
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        appsDocs,
      );
    }
    if (typeof exp !== 'number' || exp <= nowS) {
      throw new Refusal(
        401,
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        appsDocs,
      );
    }
    if (exp > nowS + maxJwtLifetimeS) {
      throw new Refusal(401, "'Expiration time' claim ('exp') is too far in the future", appsDocs);
    }
    return app;
  };

  const covers = installationCovers;

  /**
   * An installation reaches only its repositories (others answer 404, as if they did not
   * exist) and only with the permissions it was granted (403).
   */
  const checkAccess = (
    caller: Caller,
    repo: RepoRecord | undefined,
    access: Access | undefined,
  ) => {
    if (caller.kind !== 'installation') return;
    const { installation } = caller;
    if (repo !== undefined && !covers(installation, repo)) throw new Refusal(404, 'Not Found');
    if (access === undefined || !('permission' in access)) return;
    const [name, level] = access.permission;
    // Every installation can read its repositories' metadata.
    const granted = name === 'metadata' ? 'read' : installation.permissions[name];
    if (granted === undefined || (level === 'write' && granted !== 'write')) {
      throw new Refusal(403, notAccessible, docs);
    }
  };

  const installApp = (input: FakeAppInstallInput): number => {
    const given = input.publicKey;
    const publicKey =
      given instanceof KeyObject && given.type === 'public' ? given : createPublicKey(given);
    let app = apps.get(input.appId);
    if (app === undefined) {
      app = {
        id: input.appId,
        slug: input.slug,
        owner: input.owner,
        publicKey,
        createdAt: stamp(),
      };
      apps.set(app.id, app);
    }
    const installation: InstallationRecord = {
      id: newId(),
      app,
      account: input.owner,
      repos: input.repos ?? 'all',
      // Every app reads its repositories' metadata: GitHub lists it in every installation.
      permissions: { metadata: 'read', ...(input.permissions ?? afkAppPermissions) },
      createdAt: stamp(),
      tokens: new Map(),
    };
    installations.set(installation.id, installation);
    return installation.id;
  };

  const installationOn = (app: AppRecord, repo: RepoRecord) =>
    [...installations.values()].find((i) => i.app.id === app.id && covers(i, repo));

  return { authenticate, checkAccess, installApp, installationOn, findRepo, covers };
}

export type Apps = ReturnType<typeof createApps>;

export function createAppRoutes(state: GitHubState, wire: Wire, server: Server, apps: Apps) {
  const { installations, now, baseUrl, webUrl, caller } = state;
  const { userJson } = wire;
  const { answer, repoOf } = server;

  const appOf = (): AppRecord => {
    const current = caller();
    if (current.kind !== 'app') throw new Error('github fake: an app route without its JWT');
    return current.app;
  };

  const installationJson = (installation: InstallationRecord) => ({
    id: installation.id,
    account: { ...userJson(installation.account), type: 'Organization' },
    repository_selection: installation.repos === 'all' ? 'all' : 'selected',
    access_tokens_url: `${baseUrl}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${baseUrl}/installation/repositories`,
    html_url: `${webUrl}/organizations/${installation.account}/settings/installations/${installation.id}`,
    app_id: installation.app.id,
    app_slug: installation.app.slug,
    target_id: installation.id + 1,
    target_type: 'Organization',
    permissions: installation.permissions,
    events: [],
    created_at: installation.createdAt,
    updated_at: installation.createdAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  });

  // https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app
  const getApp: Route = () => {
    const app = appOf();
    const count = [...installations.values()].filter((i) => i.app.id === app.id).length;
    return answer(200, {
      id: app.id,
      slug: app.slug,
      node_id: `A_${app.id}`,
      client_id: `Iv1.${app.id.toString(16).padStart(16, '0')}`,
      owner: userJson(app.owner),
      name: app.slug,
      description: null,
      external_url: `${webUrl}/apps/${app.slug}`,
      html_url: `${webUrl}/apps/${app.slug}`,
      created_at: app.createdAt,
      updated_at: app.createdAt,
      permissions: {},
      events: [],
      installations_count: count,
    });
  };

  // https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
  const getRepoInstallation: Route = ({ params }) => {
    const documentation = `${appsDocs}#get-a-repository-installation-for-the-authenticated-app`;
    const repo = repoOf(params, documentation);
    const installation = apps.installationOn(appOf(), repo);
    if (installation === undefined) throw new Refusal(404, 'Not Found', documentation);
    return answer(200, installationJson(installation));
  };

  // https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
  const createAccessToken: Route = ({ params, body }) => {
    const documentation = `${appsDocs}#create-an-installation-access-token-for-an-app`;
    const installation = installations.get(Number(params['installation_id']));
    if (installation === undefined || installation.app.id !== appOf().id) {
      throw new Refusal(404, 'Not Found', documentation);
    }
    // Narrowing the token (repositories, permissions) is not something afk asks for.
    if (body !== undefined && (typeof body !== 'object' || Object.keys(body ?? {}).length > 0)) {
      throw new Refusal(501, 'github fake: narrowing an installation token is not implemented');
    }
    const token = `ghs_${randomBytes(27).toString('base64url')}`;
    const expiresAt = now().getTime() + tokenLifetimeMs;
    installation.tokens.set(token, expiresAt);
    return answer(201, {
      token,
      expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: installation.permissions,
      repository_selection: installation.repos === 'all' ? 'all' : 'selected',
    });
  };

  return { getApp, getRepoInstallation, createAccessToken };
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
