import { describe, expect, it } from 'vitest';
import {
  checkRepoAccess,
  checkT3Session,
  labelSpecs,
  missingLabels,
  renderChecks,
  type RepoAccess,
} from '../../src/core/index.js';
import { config } from '../support/fixtures.js';

const access = (overrides: Partial<RepoAccess>): RepoAccess => ({
  admin: false,
  maintain: false,
  push: false,
  triage: false,
  pull: true,
  ...overrides,
});

describe('checkT3Session', () => {
  it.each([
    [
      { authenticated: false, scopes: [] },
      'fail',
      'not authenticated: T3 does not accept the token',
    ],
    [
      { authenticated: true, scopes: ['orchestration:read'] },
      'fail',
      'missing scope orchestration:operate',
    ],
    [
      { authenticated: true, scopes: [] },
      'fail',
      'missing scope orchestration:read, orchestration:operate',
    ],
    [
      { authenticated: true, scopes: ['orchestration:operate', 'orchestration:read'] },
      'pass',
      'authenticated, scopes orchestration:read, orchestration:operate',
    ],
  ])('judges %j: %s', (session, status, message) => {
    expect(checkT3Session(session)).toEqual({ status, name: 'T3 token', message });
  });
});

describe('checkRepoAccess', () => {
  it.each([
    [
      access({ admin: true, maintain: true, push: true, triage: true }),
      'pass',
      'token has admin permission',
    ],
    [access({ push: true, triage: true }), 'pass', 'token has push permission'],
    [access({ triage: true }), 'fail', 'token lacks push permission (has triage)'],
    [access({}), 'fail', 'token lacks push permission (has pull)'],
    [null, 'warn', 'the tracker does not say what the token may do (an App token?): needs push'],
  ])('judges %j: %s', (given, status, message) => {
    expect(checkRepoAccess('acme/api', given)).toEqual({ status, name: 'acme/api', message });
  });

  it.each([
    [access({ admin: true, push: true }), 'pass', 'token has admin permission'],
    [
      access({ push: true }),
      'fail',
      "token lacks admin permission (has push): Forgejo shows other users' permissions only to repo admins, and afk checks who applied the ready label",
    ],
  ])('on Forgejo judges %j: %s', (given, status, message) => {
    expect(checkRepoAccess('acme/api', given, 'forgejo')).toEqual({
      status,
      name: 'acme/api',
      message,
    });
  });
});

describe('labels', () => {
  it('wants every configured label, and finds the missing ones case-insensitively', () => {
    const wanted = labelSpecs(config({ labels: { priorities: ['urgent'] } }).labels);

    expect(wanted.map((l) => l.name)).toEqual([
      'ready-for-agent',
      'agent-in-progress',
      'ready-for-human',
      'urgent',
    ]);
    expect(wanted.every((l) => /^[0-9a-f]{6}$/.test(l.color) && l.description.length <= 100)).toBe(
      true,
    );
    expect(missingLabels(wanted, ['READY-FOR-AGENT', 'urgent']).map((l) => l.name)).toEqual([
      'agent-in-progress',
      'ready-for-human',
    ]);
  });
});

describe('renderChecks', () => {
  it('prints one line per check and a summary', () => {
    expect(
      renderChecks([
        { status: 'pass', name: 'config', message: 'loaded' },
        { status: 'warn', name: 'Slack webhook', message: 'absent' },
        { status: 'fail', name: 'T3', message: 'down' },
      ]),
    ).toBe(
      'pass  config: loaded\nwarn  Slack webhook: absent\nfail  T3: down\ndoctor: 1 failed; 1 passed, 1 warning(s)\n',
    );
  });
});
