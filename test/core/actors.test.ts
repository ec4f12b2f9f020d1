import { describe, expect, it } from 'vitest';
import { judgeActor, type ActorVerdict } from '../../src/core/actors.js';
import type { Config } from '../../src/core/config.js';
import type { Permission } from '../../src/core/types.js';

type Case = [
  string,
  Config['trust']['labelers'],
  string | null,
  Permission | undefined,
  ActorVerdict,
];

describe('judgeActor', () => {
  const untrusted = (why: string): ActorVerdict => ({ kind: 'untrusted', why });
  it.each<Case>([
    ['a writer', 'write-access', 'maria', 'write', { kind: 'trusted' }],
    ['an admin', 'write-access', 'maria', 'admin', { kind: 'trusted' }],
    [
      'a reader',
      'write-access',
      'eve',
      'read',
      untrusted('eve has read permission; write is required'),
    ],
    [
      'a stranger',
      'write-access',
      'eve',
      'none',
      untrusted('eve has none permission; write is required'),
    ],
    ['a login whose permission is unread', 'write-access', 'maria', undefined, { kind: 'unknown' }],
    [
      'afk itself, even with admin',
      'write-access',
      'AFK-Bot',
      'admin',
      untrusted('AFK-Bot is afk itself'),
    ],
    [
      'a bot, even with write',
      'write-access',
      'renovate[bot]',
      'write',
      untrusted('renovate[bot] is a bot'),
    ],
    [
      'a bot under trust any',
      'any',
      'dependabot[bot]',
      undefined,
      untrusted('dependabot[bot] is a bot'),
    ],
    ['a deleted user', 'any', null, undefined, untrusted('the author is unknown (a deleted user)')],
    ['anyone under trust any', 'any', 'eve', undefined, { kind: 'trusted' }],
    ['a listed login, any case', ['Maria'], 'maria', undefined, { kind: 'trusted' }],
    ['an unlisted writer', ['maria'], 'bob', 'write', untrusted('bob is not in trust.labelers')],
  ])('%s', (_name, labelers, login, permission, verdict) => {
    expect(judgeActor(labelers, { login, selfLogin: 'afk-bot', permission })).toEqual(verdict);
  });
});
