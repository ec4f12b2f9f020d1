import { describe, expect, it } from 'vitest';
import { gateStatus, parseConfig, tickGate } from '../../src/core/index.js';

const problemsOf = (raw: unknown, env: Record<string, string> = {}): string[] => {
  const parsed = parseConfig(raw, env);
  if (parsed.ok) throw new Error('expected the config to be rejected');
  return parsed.problems;
};

describe('parseConfig', () => {
  it('ships disarmed: kill switch on, empty allowlist', () => {
    const parsed = parseConfig(undefined, {});
    expect(parsed.ok && parsed.config).toMatchObject({
      killSwitch: true,
      repos: [],
      tracker: { kind: 'github', apiUrl: 'https://api.github.com' },
      labels: {
        ready: 'ready-for-agent',
        inProgress: 'agent-in-progress',
        human: 'ready-for-human',
      },
      trust: { labelers: 'write-access' },
      dispatch: { maxConcurrentRuns: 3, maxRunsPerRepo: 1, maxDispatchesPerTick: 1 },
      t3: {
        url: 'http://t3.afk.svc:3773',
        instanceId: 'claudeAgent',
        model: 'claude-sonnet-4-6',
        runtimeMode: 'full-access',
      },
      delivery: { mode: 'pull-request', branchPrefix: 'afk/issue-' },
      watch: { maxFixForwards: 2, stallAfterMinutes: 120, ciTimeoutMinutes: 60 },
      deploy: {
        kind: 'none',
        environment: 'production',
        context: 'deploy/production',
        timeoutMinutes: 60,
      },
    });
  });

  it('fills defaults inside a partly written section', () => {
    const parsed = parseConfig({ dispatch: { maxConcurrentRuns: 5 } }, {});
    expect(parsed.ok && parsed.config.dispatch).toEqual({
      maxConcurrentRuns: 5,
      maxRunsPerRepo: 1,
      maxDispatchesPerTick: 1,
    });
  });

  it('reports every problem at once, each as path: message', () => {
    const problems = problemsOf({
      killSwitch: 'no',
      repos: ['acme/api', 'not-a-repo'],
      tracker: { kind: 'gitlab', tokn: '/x' },
      dispatch: { maxConcurrentRuns: 0 },
      surprise: true,
    });
    expect(problems).toEqual([
      'killSwitch: Invalid input: expected boolean, received string',
      'repos.1: expected "owner/name"',
      'tracker.kind: Invalid option: expected one of "github"|"forgejo"',
      'tracker.tokn: unknown key',
      'dispatch.maxConcurrentRuns: Too small: expected number to be >=1',
      'surprise: unknown key',
    ]);
  });

  it.each([
    [
      'a label used twice',
      { labels: { ready: 'P0' } },
      'labels.priorities.0: label "P0" is already used by labels.ready',
    ],
    ['a repo listed twice', { repos: ['a/b', 'A/B'] }, 'repos.1: "A/B" is listed twice'],
    [
      'a per-repo cap above the global cap',
      { dispatch: { maxConcurrentRuns: 2, maxRunsPerRepo: 3 } },
      'dispatch.maxRunsPerRepo: must not exceed dispatch.maxConcurrentRuns (2)',
    ],
    [
      'a bad model instance id',
      { t3: { instanceId: '9lives' } },
      't3.instanceId: expected a T3 provider instance id like "claudeAgent"',
    ],
    [
      'a relative workspace base',
      { t3: { workspaceBase: 'data' } },
      't3.workspaceBase: expected an absolute path',
    ],
    ['an empty trust list', { trust: { labelers: [] } }, 'trust.labelers: list at least one login'],
    ['a non-URL T3 address', { t3: { url: 'ftp://t3' } }, 't3.url: expected an http(s) URL'],
    // fetch refuses a URL with credentials, and a path appended after a query goes nowhere:
    // such a URL can never work, and would be shown by doctor. The value is not repeated.
    [
      'a T3 address with credentials',
      { t3: { url: 'https://u:secret@t3.test' } },
      't3.url: expected a URL without credentials, query or fragment (the token goes in t3.tokenFile / AFK_T3_TOKEN)',
    ],
    [
      'a T3 address with a query',
      { t3: { url: 'https://t3.test/?token=secret' } },
      't3.url: expected a URL without credentials, query or fragment (the token goes in t3.tokenFile / AFK_T3_TOKEN)',
    ],
    [
      'a tracker address with credentials',
      { tracker: { apiUrl: 'https://u:secret@api.github.test' } },
      'tracker.apiUrl: expected a URL without credentials, query or fragment (the token goes in tracker.tokenFile / AFK_TRACKER_TOKEN)',
    ],
    ['a list at the top', [], '(top level): expected a mapping of keys to values'],
  ])('rejects %s', (_name, raw, problem) => {
    expect(problemsOf(raw)).toContain(problem);
  });

  it.each([
    ['no tracker.auth: the token, as before', {}, { kind: 'token' }],
    ['an explicit token', { auth: { kind: 'token' } }, { kind: 'token' }],
    [
      'a GitHub App',
      { auth: { kind: 'app', appId: 12345, privateKeyFile: '/var/run/afk/github-app.pem' } },
      { kind: 'app', appId: 12345, privateKeyFile: '/var/run/afk/github-app.pem' },
    ],
  ])('accepts tracker.auth: %s', (_name, tracker, auth) => {
    const parsed = parseConfig({ tracker }, {});
    expect(parsed.ok && parsed.config.tracker.auth).toEqual(auth);
  });

  const appId = 'tracker.auth.appId: expected the GitHub App id, a positive integer';
  it.each([
    ['an app id of 0', { appId: 0, privateKeyFile: '/k.pem' }, [appId]],
    ['a negative app id', { appId: -3, privateKeyFile: '/k.pem' }, [appId]],
    ['a fractional app id', { appId: 1.5, privateKeyFile: '/k.pem' }, [appId]],
    ['an app id as a string', { appId: '123', privateKeyFile: '/k.pem' }, [appId]],
    [
      'no key file',
      { appId: 1 },
      ['tracker.auth.privateKeyFile: Invalid input: expected string, received undefined'],
    ],
    [
      'an empty key file path',
      { appId: 1, privateKeyFile: '' },
      ['tracker.auth.privateKeyFile: Too small: expected string to have >=1 characters'],
    ],
    [
      'the key itself where its file goes, as an unknown key',
      { appId: 1, privateKeyFile: '/k.pem', privateKey: '-----BEGIN' },
      ['tracker.auth.privateKey: unknown key (did you mean privateKeyFile?)'],
    ],
  ])('rejects a GitHub App with %s', (_name, app, problems) => {
    expect(problemsOf({ tracker: { auth: { kind: 'app', ...app } } })).toEqual(problems);
  });

  it('rejects an unknown tracker.auth kind', () => {
    expect(problemsOf({ tracker: { auth: { kind: 'oauth' } } })).toEqual([
      "tracker.auth.kind: Invalid discriminator value. Expected 'token' | 'app'",
    ]);
  });

  it('refuses a GitHub App on Forgejo, naming tracker.auth', () => {
    const tracker = {
      kind: 'forgejo',
      apiUrl: 'https://forgejo.test/api/v1',
      auth: { kind: 'app', appId: 1, privateKeyFile: '/k.pem' },
    };
    expect(problemsOf({ tracker })).toEqual([
      'tracker.auth.kind: a GitHub App needs tracker.kind github; on Forgejo use a token (tracker.tokenFile)',
    ]);
  });

  it.each([
    ['AFK_KILL_SWITCH=false arms the switch', { AFK_KILL_SWITCH: 'false' }, { killSwitch: false }],
    [
      'AFK_KILL_SWITCH=TRUE disarms a file that cleared it',
      { AFK_KILL_SWITCH: 'TRUE' },
      { killSwitch: true },
    ],
    [
      'AFK_REPOS replaces the allowlist',
      { AFK_REPOS: ' acme/api, acme/web ,' },
      { repos: ['acme/api', 'acme/web'] },
    ],
    [
      'AFK_T3_URL replaces t3.url',
      { AFK_T3_URL: 'http://t3.local:3773' },
      { t3: expect.objectContaining({ url: 'http://t3.local:3773' }) },
    ],
  ])('%s', (_name, env, expected) => {
    const parsed = parseConfig({ killSwitch: false, repos: ['x/y'] }, env);
    expect(parsed.ok && parsed.config).toMatchObject(expected);
  });

  it.each([
    [{ AFK_KILL_SWITCH: 'yes' }, 'AFK_KILL_SWITCH: expected "true" or "false", got "yes"'],
    [{ AFK_KILL_SWITCH: '0' }, 'AFK_KILL_SWITCH: expected "true" or "false", got "0"'],
    [
      { AFK_LOG_LEVEL: 'loud' },
      'AFK_LOG_LEVEL: expected one of debug, info, warn, error, got "loud"',
    ],
    [{ AFK_REPOS: 'acme' }, 'AFK_REPOS: entry 1 ("acme"): expected "owner/name"'],
    [{ AFK_REPOS: 'a/b, acme/api,A/B' }, 'AFK_REPOS: entry 3 ("A/B"): "A/B" is listed twice'],
    // A URL may carry credentials (https://user:pass@host): the value is not repeated.
    [{ AFK_T3_URL: 'ftp://u:secret@t3' }, 'AFK_T3_URL: expected an http(s) URL'],
    [
      { AFK_T3_URL: 'http://t3.test:3773/?token=secret' },
      'AFK_T3_URL: expected a URL without credentials, query or fragment (the token goes in t3.tokenFile / AFK_T3_TOKEN)',
    ],
  ])('rejects the bad override %j, naming the variable', (env, problem) => {
    expect(problemsOf({}, env)).toEqual([problem]);
  });

  it.each([
    [{ killSwitch: false }, { AFK_KILL_SWITCH: 'maybe' }, 'environment'],
    [{ killSwitch: false }, { AFK_REPOS: 'acme' }, 'environment'],
    [{ killSwitch: 'no' }, {}, 'file'],
    [{ killSwitch: 'no' }, { AFK_LOG_LEVEL: 'loud' }, 'both'],
  ])('tells a problem of the file from one of the environment: %j %j', (raw, env, origin) => {
    expect(parseConfig(raw, env)).toMatchObject({ ok: false, origin });
  });

  it.each([
    [{ kilSwitch: false }, 'kilSwitch: unknown key (did you mean killSwitch?)'],
    [{ killswitch: false }, 'killswitch: unknown key (did you mean killSwitch?)'],
    [{ trakcer: {} }, 'trakcer: unknown key (did you mean tracker?)'],
    [
      { dispatch: { maxConcurentRuns: 2 } },
      'dispatch.maxConcurentRuns: unknown key (did you mean maxConcurrentRuns?)',
    ],
    [{ t3: { URL: 'http://t3' } }, 't3.URL: unknown key (did you mean url?)'],
    [{ labels: { inprogress: 'x' } }, 'labels.inprogress: unknown key (did you mean inProgress?)'],
    [{ surprise: true }, 'surprise: unknown key'],
    [{ dispatch: { maxPerTick: 3 } }, 'dispatch.maxPerTick: unknown key'],
  ])('suggests the known key an unknown one is close to: %j', (raw, problem) => {
    expect(problemsOf(raw)).toEqual([problem]);
  });
});

describe('t3.servers', () => {
  const server = (name: string, repos: string[], extra: Record<string, unknown> = {}) => ({
    name,
    url: `http://${name}.t3.test:3773`,
    tokenFile: `/var/run/afk/${name}-token`,
    capacity: 2,
    repos,
    ...extra,
  });
  const fleet = (servers: unknown[], extra: Record<string, unknown> = {}) => ({
    repos: ['acme/api', 'acme/web', 'acme/ops'],
    t3: { servers, ...extra },
  });

  it('accepts every allow-listed repo on exactly one server, the rest of t3 shared', () => {
    const parsed = parseConfig(
      fleet([server('a', ['acme/api', 'acme/web']), server('b', ['ACME/ops'])], {
        model: 'claude-opus-4-7',
      }),
      {},
    );
    expect(parsed.ok && parsed.config.t3).toMatchObject({
      model: 'claude-opus-4-7',
      servers: [
        { name: 'a', capacity: 2, repos: ['acme/api', 'acme/web'] },
        { name: 'b', capacity: 2, repos: ['ACME/ops'] },
      ],
    });
  });

  it('lets a single server fall back to AFK_T3_TOKEN', () => {
    const only = server('a', ['acme/api', 'acme/web', 'acme/ops'], { tokenFile: undefined });
    expect(parseConfig(fleet([only]), {}).ok).toBe(true);
  });

  it.each([
    [
      'a repo on two servers',
      fleet([server('a', ['acme/api', 'acme/web']), server('b', ['acme/ops', 'Acme/Api'])]),
      ['t3.servers.1.repos.1: "Acme/Api" is already on t3.servers.0: a repo lives on one server'],
    ],
    [
      'an allow-listed repo on no server',
      fleet([server('a', ['acme/api']), server('b', ['acme/web'])]),
      ['repos.2: "acme/ops" is on no T3 server: add it to the repos of one of t3.servers'],
    ],
    [
      'two servers of one name',
      fleet([server('a', ['acme/api', 'acme/web']), { ...server('b', ['acme/ops']), name: 'a' }]),
      ['t3.servers.1.name: "a" is already the name of t3.servers.0'],
    ],
    [
      'two servers at one address',
      fleet([
        server('a', ['acme/api', 'acme/web']),
        server('b', ['acme/ops'], { url: 'http://a.t3.test:3773/' }),
      ]),
      ['t3.servers.1.url: the same server as t3.servers.0 (its capacity would count twice)'],
    ],
    [
      'a capacity of 0',
      fleet([server('a', ['acme/api', 'acme/web', 'acme/ops'], { capacity: 0 })]),
      ['t3.servers.0.capacity: Too small: expected number to be >=1'],
    ],
    [
      'a server URL with credentials',
      fleet([
        server('a', ['acme/api', 'acme/web', 'acme/ops'], { url: 'https://u:secret@t3.test' }),
      ]),
      [
        "t3.servers.0.url: expected a URL without credentials, query or fragment (the token goes in the server's tokenFile)",
      ],
    ],
    [
      'a server URL with a query',
      fleet([
        server('a', ['acme/api', 'acme/web', 'acme/ops'], { url: 'https://t3.test/?token=x' }),
      ]),
      [
        "t3.servers.0.url: expected a URL without credentials, query or fragment (the token goes in the server's tokenFile)",
      ],
    ],
    [
      'several servers, one without a token file',
      fleet([
        server('a', ['acme/api', 'acme/web']),
        server('b', ['acme/ops'], { tokenFile: undefined }),
      ]),
      [
        't3.servers.1.tokenFile: required with several servers (AFK_T3_TOKEN serves only a single one)',
      ],
    ],
    [
      't3.url beside t3.servers',
      fleet([server('a', ['acme/api', 'acme/web', 'acme/ops'])], { url: 'http://t3.test' }),
      ['t3.url: not used with t3.servers: each server has its own url'],
    ],
    [
      't3.tokenFile beside t3.servers',
      fleet([server('a', ['acme/api', 'acme/web', 'acme/ops'])], { tokenFile: '/x' }),
      ["t3.tokenFile: not used with t3.servers: set each server's tokenFile"],
    ],
    [
      'a server name that is not a word',
      fleet([server('a', ['acme/api', 'acme/web', 'acme/ops'], { name: 'A b' })]),
      ['t3.servers.0.name: expected lower-case letters, digits and "-"'],
    ],
    [
      'a server key misspelt',
      fleet([server('a', ['acme/api', 'acme/web', 'acme/ops'], { capacty: 2 })]),
      ['t3.servers.0.capacty: unknown key (did you mean capacity?)'],
    ],
    ['an empty list', fleet([]), ['t3.servers: list at least one server']],
  ])('rejects %s', (_name, raw, problems) => {
    expect(problemsOf(raw)).toEqual(problems);
  });

  it.each([
    [
      { AFK_T3_URL: 'http://t3.local:3773' },
      "AFK_T3_URL: cannot override t3.url when t3.servers is set: unset it, or set each server's url",
    ],
    [
      { AFK_REPOS: 'acme/api,acme/new' },
      'AFK_REPOS: entry 2 ("acme/new"): "acme/new" is on no T3 server: add it to the repos of one of t3.servers',
    ],
  ])('names the override that breaks the placement: %j', (env, problem) => {
    const raw = fleet([server('a', ['acme/api', 'acme/web']), server('b', ['acme/ops'])]);
    expect(problemsOf(raw, env)).toEqual([problem]);
  });
});

describe('gateStatus', () => {
  it.each([
    [{}, false, 'kill switch is on (killSwitch / AFK_KILL_SWITCH)'],
    [{ killSwitch: false }, false, 'no repos are allow-listed (repos / AFK_REPOS)'],
    [{ repos: ['a/b'] }, false, 'kill switch is on (killSwitch / AFK_KILL_SWITCH)'],
    [{ killSwitch: false, repos: ['a/b'] }, true, undefined],
  ])('opens only with the switch cleared and a repo enrolled: %j', (raw, open, reason) => {
    const parsed = parseConfig(raw, {});
    if (!parsed.ok) throw new Error('unexpected');
    const gate = gateStatus(parsed.config);
    expect(gate.open).toBe(open);
    if (!gate.open) expect(gate.reason).toBe(reason);
  });
});

describe('tickGate', () => {
  it.each([
    [{}, 'live', { open: false, reason: 'kill switch is on (killSwitch / AFK_KILL_SWITCH)' }],
    [
      { repos: ['a/b'] },
      'live',
      { open: false, reason: 'kill switch is on (killSwitch / AFK_KILL_SWITCH)' },
    ],
    [{ killSwitch: false, repos: ['a/b'] }, 'live', { open: true, killSwitch: false }],
    [{}, 'dry-run', { open: false, reason: 'no repos are allow-listed (repos / AFK_REPOS)' }],
    [
      { killSwitch: false },
      'dry-run',
      { open: false, reason: 'no repos are allow-listed (repos / AFK_REPOS)' },
    ],
    [{ repos: ['a/b'] }, 'dry-run', { open: true, killSwitch: true }],
    [{ killSwitch: false, repos: ['a/b'] }, 'dry-run', { open: true, killSwitch: false }],
  ] as const)(
    'lets a dry run preview past the kill switch, never past the allowlist: %j, %s',
    (raw, mode, gate) => {
      const parsed = parseConfig(raw, {});
      if (!parsed.ok) throw new Error('unexpected');
      expect(tickGate(parsed.config, mode)).toEqual(gate);
    },
  );
});
