// Who may talk to a running agent: a reviewer whose feedback becomes a turn, a human whose
// `/afk` comment answers or steers it. The same rule as the ready label (an agent runs with
// full access, so steering it is as powerful as starting it), and never afk's own account or
// a bot: afk must not answer itself, and a bot's text is whatever its input said.
import type { Config } from './config.js';
import type { Permission } from './types.js';

export type ActorVerdict =
  | { kind: 'trusted' }
  | { kind: 'untrusted'; why: string }
  /** `trust.labelers: write-access` and the login's permission is not read yet. */
  | { kind: 'unknown' };

const sameLogin = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The verdict on `login`. `permission` is what the forge said of the login on the repo,
 * undefined while unread; only `write-access` needs it (see `actorNeedsPermission`).
 */
export function judgeActor(
  labelers: Config['trust']['labelers'],
  actor: { login: string | null; selfLogin: string; permission: Permission | undefined },
): ActorVerdict {
  const { login, selfLogin, permission } = actor;
  if (login === null) return { kind: 'untrusted', why: 'the author is unknown (a deleted user)' };
  if (sameLogin(login, selfLogin)) return { kind: 'untrusted', why: `${login} is afk itself` };
  if (login.toLowerCase().endsWith('[bot]')) return { kind: 'untrusted', why: `${login} is a bot` };
  if (labelers === 'any') return { kind: 'trusted' };
  if (Array.isArray(labelers)) {
    return labelers.some((l) => sameLogin(l, login))
      ? { kind: 'trusted' }
      : { kind: 'untrusted', why: `${login} is not in trust.labelers` };
  }
  if (permission === undefined) return { kind: 'unknown' };
  if (permission === 'admin' || permission === 'write') return { kind: 'trusted' };
  return { kind: 'untrusted', why: `${login} has ${permission} permission; write is required` };
}

/** The key a login's permission is stored under in the evidence: logins ignore case. */
export const permissionKey = (login: string): string => login.toLowerCase();
