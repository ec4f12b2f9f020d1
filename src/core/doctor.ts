// `afk doctor`'s checks as data: each is one line, and only a `fail` fails the run. The
// messages are part of the operator interface (runbooks quote them): keep them stable.
import type { Config, TrackerKind } from './config.js';
import { UpstreamError } from './errors.js';
import { checkRuntimeModeSupport, isVersionedRuntimeMode } from './t3-versions.js';
import type { LabelSpec, RepoAccess, RuntimeMode, T3AuthSession } from './types.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'info' | 'skip';

export interface Check {
  status: CheckStatus;
  /** What was checked: `config`, `tracker token`, `acme/api labels`, `T3 scopes`. */
  name: string;
  message: string;
}

export const check = (status: CheckStatus, name: string, message: string): Check => ({
  status,
  name,
  message,
});

/** The scopes afk's T3 token needs: read the snapshot, dispatch commands. */
export const requiredT3Scopes = ['orchestration:read', 'orchestration:operate'] as const;

export function checkT3Session(session: T3AuthSession): Check {
  if (!session.authenticated) {
    return check('fail', 'T3 token', 'not authenticated: T3 does not accept the token');
  }
  const missing = requiredT3Scopes.filter((scope) => !session.scopes.includes(scope));
  if (missing.length > 0) {
    return check('fail', 'T3 token', `missing scope ${missing.join(', ')}`);
  }
  return check('pass', 'T3 token', `authenticated, scopes ${requiredT3Scopes.join(', ')}`);
}

/**
 * Why the tracker could not say who the token acts as. Only a refusal (401, 403) is the
 * token's fault; a request that got no answer names the address and the cause.
 * `described` is the error's line without its upstream.
 */
export function checkTrackerLoginFailure(error: unknown, described: string): Check {
  if (error instanceof UpstreamError && error.network !== undefined) {
    const { address, cause } = error.network;
    return check('fail', 'tracker', `unreachable at ${address}: ${cause}`);
  }
  if (error instanceof UpstreamError && (error.kind === 'auth' || error.kind === 'forbidden')) {
    return check('fail', 'tracker', `token refused: ${described}`);
  }
  return check('fail', 'tracker', `cannot check the token: ${described}`);
}

/** T3's environment descriptor could not be read: no answer at all, or a failing one. */
export function checkT3Unreachable(url: string, error: unknown, described: string): Check {
  if (error instanceof UpstreamError && error.network !== undefined) {
    const { address, cause } = error.network;
    return check('fail', 'T3', `unreachable at ${address}: ${cause}`);
  }
  // It answered (a 404 from a server that is not T3, a 5xx): the network is not the problem.
  if (error instanceof UpstreamError && error.status !== undefined) {
    return check('fail', 'T3', `answered at ${url}, but not with its environment: ${described}`);
  }
  return check('fail', 'T3', `unreachable at ${url}: ${described}`);
}

/**
 * Whether the server knows the configured runtime mode; null for a mode every version knows,
 * which needs no line. A tick refuses to send a mode the server lacks, so this is a failure.
 */
export function checkT3RuntimeMode(mode: RuntimeMode, serverVersion: string): Check | null {
  if (!isVersionedRuntimeMode(mode)) return null;
  const support = checkRuntimeModeSupport(mode, serverVersion);
  if (support.ok) return check('pass', 'T3 runtime mode', `${mode}: T3 ${serverVersion} knows it`);
  return check(
    'fail',
    'T3 runtime mode',
    `${support.reason}: set t3.runtimeMode to another mode or upgrade T3`,
  );
}

/**
 * afk writes labels, comments and closes issues: that is GitHub's `push` (write) role at
 * least. `triage` could relabel, but not comment on behalf of a closed run or close as a bot.
 */
/**
 * afk writes labels and comments, so it needs push. On Forgejo it needs admin: Forgejo lets
 * only a repo admin read another user's permission, which is how afk checks who may start an
 * agent (routers/api/v1/repo/collaborators.go, GetRepoPermissions).
 */
export function checkRepoAccess(
  repo: string,
  access: RepoAccess | null,
  kind: TrackerKind = 'github',
): Check {
  if (access === null) {
    return check(
      'warn',
      repo,
      'the tracker does not say what the token may do (an App token?): needs push',
    );
  }
  if (kind === 'forgejo' && !access.admin) {
    return check(
      'fail',
      repo,
      `token lacks admin permission (has ${roleOf(access)}): Forgejo shows other users' permissions only to repo admins, and afk checks who applied the ready label`,
    );
  }
  if (!access.push) {
    return check('fail', repo, `token lacks push permission (has ${roleOf(access)})`);
  }
  return check('pass', repo, `token has ${roleOf(access)} permission`);
}

/** A GitHub App's installation on a repo, as doctor reads it. */
export interface AppInstallationFacts {
  id: number;
  /** Permission name → `read`, `write` or `admin`. */
  permissions: Readonly<Record<string, string>>;
}

export type AppPermissionLevel = 'read' | 'write';

/**
 * The installation permissions afk's own requests need, by what the config makes it do:
 * labels, comments, the claim's reaction and closing are issues (write); a collaborator's
 * permission and the repo are metadata; CI is check runs and commit statuses; the PR of a run
 * (pull-request delivery), the compare of a pushed commit (trunk) and deployments
 * (github-deployment) only where the config reads them.
 */
export function requiredAppPermissions(config: Config): Array<[string, AppPermissionLevel]> {
  return [
    ['issues', 'write'],
    ['metadata', 'read'],
    ...(config.delivery.mode === 'pull-request'
      ? [['pull_requests', 'read'] as [string, AppPermissionLevel]]
      : [['contents', 'read'] as [string, AppPermissionLevel]]),
    ['checks', 'read'],
    ['statuses', 'read'],
    ...(config.deploy.kind === 'github-deployment'
      ? [['deployments', 'read'] as [string, AppPermissionLevel]]
      : []),
  ];
}

const levelRank: Record<string, number> = { read: 1, write: 2, admin: 3 };

/** Whether the app is installed on the repo with every permission afk needs; names the rest. */
export function checkAppInstallation(
  repo: string,
  installation: AppInstallationFacts | null,
  required: ReadonlyArray<[string, AppPermissionLevel]>,
): Check {
  if (installation === null) {
    return check(
      'fail',
      repo,
      'the GitHub App is not installed on this repository (install it, or add the repository to its installation)',
    );
  }
  const missing = required.filter(
    ([name, level]) =>
      (levelRank[installation.permissions[name] ?? ''] ?? 0) < (levelRank[level] ?? 0),
  );
  if (missing.length > 0) {
    const names = missing.map(([name, level]) => {
      const has = installation.permissions[name];
      return `${name}: ${level}${has === undefined ? '' : ` (has ${has})`}`;
    });
    return check(
      'fail',
      repo,
      `the GitHub App's installation ${installation.id} lacks ${names.join(', ')}: grant it in the app's settings, then approve it on the installation`,
    );
  }
  const granted = required.map(([name, level]) => `${name}: ${level}`).join(', ');
  return check('pass', repo, `GitHub App installation ${installation.id} grants ${granted}`);
}

function roleOf(access: RepoAccess): string {
  if (access.admin) return 'admin';
  if (access.maintain) return 'maintain';
  if (access.push) return 'push';
  if (access.triage) return 'triage';
  if (access.pull) return 'pull';
  return 'no';
}

/** Every label afk reads or writes, with the colour and description `--fix-labels` gives it. */
export function labelSpecs(labels: Config['labels']): LabelSpec[] {
  const priorityColours = ['b60205', 'd93f0b', 'fbca04', 'c2e0c6'];
  return [
    {
      name: labels.ready,
      color: '0e8a16',
      description: 'Queued for a coding agent (afk)',
    },
    {
      name: labels.inProgress,
      color: '1d76db',
      description: 'An afk run owns this issue; do not remove by hand',
    },
    {
      name: labels.human,
      color: 'd93f0b',
      description: 'afk gave up: a human must act',
    },
    ...labels.priorities.map((name, i) => ({
      name,
      color: priorityColours[i] ?? 'ededed',
      description: `afk priority ${i + 1} of ${labels.priorities.length}: lower numbers go first`,
    })),
  ];
}

/** Labels afk needs that the repository lacks (names compare case-insensitively, as GitHub's). */
export function missingLabels(wanted: LabelSpec[], existing: string[]): LabelSpec[] {
  const have = new Set(existing.map((name) => name.toLowerCase()));
  return wanted.filter((label) => !have.has(label.name.toLowerCase()));
}

export const failedChecks = (checks: Check[]): number =>
  checks.filter((c) => c.status === 'fail').length;

export function renderChecks(checks: Check[]): string {
  const lines = checks.map((c) => `${c.status.padEnd(4)}  ${c.name}: ${c.message}`);
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
  const failed = count('fail');
  const warned = count('warn');
  lines.push(
    `doctor: ${failed === 0 ? 'healthy' : `${failed} failed`}; ${count('pass')} passed, ${warned} warning(s)`,
  );
  return `${lines.join('\n')}\n`;
}
