// The fault matrix (docs/faults.md): every upstream request a tick makes × every fault, each
// case on fresh fakes. A scenario's tick first runs cleanly while a tap in front of the fakes
// records each request it makes; the cases are generated from that recording, so a request
// added to poll or watch joins the matrix without anyone listing it. Per case: the fault
// answers exactly one recorded request (its n-th occurrence, and any retry of it), the tick
// runs, the fault is cleared, a clean tick runs, and the invariants are checked after both.
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { getResponse, http, HttpResponse, type HttpHandler } from 'msw';
import { setupServer, type SetupServer } from 'msw/node';
import { afterAll, describe, expect, it } from 'vitest';
import { createT3Client, type T3Client } from '../../src/adapters/t3.js';
import { main } from '../../src/cli.js';
import {
  CLAIM_LEASE_MINUTES,
  parseChecklist,
  parseConfig,
  threadIdFor,
  type Config,
  type IssueRef,
  type RunRecord,
  type Upstream,
} from '../../src/core/index.js';
import type { FakeFailure, ForgeFake, ForgeKind } from '../../emulators/forge.js';
import { createSlackFake, type SlackFailure, type SlackFake } from '../../emulators/slack.js';
import { createT3Fake, type FaultAnswer, type T3Fake } from '../../emulators/t3.js';
import { T3_URL, writeConfig } from '../support/cli.js';
import { forges, type ForgeUnderTest } from '../support/forges.js';

/** Sentinel secrets: none may ever appear in a tick's stdout or stderr. */
export const SECRETS = {
  tracker: 'ghp_faultMatrixSentinelTrackerToken0000001',
  t3: 't3_faultMatrixSentinelT3Token0000001',
  webhook: 'https://hooks.slack.test/services/TSENTINEL/BSENTINEL/faultMatrixWebhookSecret01',
  webhookSecret: 'faultMatrixWebhookSecret01',
};

/**
 * The per-request timeout of a faulty tick: far above what msw takes in-process, even on a
 * busy machine, and short enough that a timeout case costs a fifth of a second.
 */
const FAULTY_TIMEOUT_MS = 200;
const CLEAN_TIMEOUT_MS = 10_000;

const START = new Date('2026-11-21T08:00:00.000Z');

// --- the faults --------------------------------------------------------------------------------

export const faultNames = [
  '503',
  'timeout',
  'reset',
  '401',
  '403 secondary rate limit',
  '429',
  'malformed 200',
] as const;
/** What only GraphQL answers: a 200 whose `errors` say the query failed. */
export const graphqlFaultNames = ['200 RATE_LIMITED', '200 errors'] as const;
export type Fault = (typeof faultNames)[number] | (typeof graphqlFaultNames)[number];

/** What the tick's one-line error must say right after the upstream and the request. */
const causeOf: Record<Fault, RegExp> = {
  '503': /^503 transient\b/,
  // A request without an answer names where it went (host:port) and why, never the token.
  timeout: /^network error: timeout after \d+ ms \([a-z0-9.-]+:\d+\)/,
  reset: /^network error: connection failed \([a-z0-9.-]+:\d+\)/,
  '401': /^401 auth\b/,
  '403 secondary rate limit': /^403 rate-limited\b/,
  '429': /^429 rate-limited\b/,
  'malformed 200': /^200 malformed\b/,
  // The budget's reset time is named, so an operator knows when the next tick can read.
  '200 RATE_LIMITED': /^200 rate-limited \(RATE_LIMITED: .*; resets at \d{4}-\d\d-\d\dT/,
  '200 errors': /^200 transient \(Something went wrong/,
};

// Longer than any tick may wait (GitHubTrackerOptions.maxRetryWaitSeconds, 10 by default).
const RETRY_AFTER = { 'retry-after': '120' };

const trackerAnswers: Record<Fault, FakeFailure> = {
  '503': { status: 503 },
  timeout: 'timeout',
  reset: 'network-error',
  '401': { status: 401, body: { message: 'Bad credentials' } },
  // GitHub's own words: the throttling plugin recognises a secondary limit by them.
  // https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-secondary-rate-limit
  '403 secondary rate limit': {
    status: 403,
    body: {
      message:
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
    },
    headers: RETRY_AFTER,
  },
  '429': { status: 429, body: { message: 'Too many requests' }, headers: RETRY_AFTER },
  'malformed 200': 'malformed',
  // https://docs.github.com/en/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api#exceeding-the-rate-limit
  '200 RATE_LIMITED': {
    status: 200,
    body: {
      errors: [{ type: 'RATE_LIMITED', message: 'API rate limit exceeded for user ID 1.' }],
    },
    headers: { 'x-ratelimit-remaining': '0' },
  },
  // What GitHub answers when a query fails on its side (a timeout, an internal error).
  '200 errors': {
    status: 200,
    body: {
      data: null,
      errors: [
        {
          message:
            'Something went wrong while executing your query. Please include `F00D:1` when reporting this issue.',
        },
      ],
    },
  },
};

const t3Answers: Record<(typeof faultNames)[number], FaultAnswer> = {
  '503': { status: 503 },
  timeout: 'timeout',
  reset: 'network-error',
  '401': {
    status: 401,
    body: {
      _tag: 'EnvironmentAuthInvalidError',
      code: 'auth_invalid',
      reason: 'invalid_credential',
    },
  },
  // T3 has no rate limits of its own; a proxy in front of it may.
  '403 secondary rate limit': { status: 403, headers: RETRY_AFTER },
  '429': { status: 429, headers: RETRY_AFTER },
  'malformed 200': 'malformed',
};

const slackAnswers: Record<(typeof faultNames)[number], SlackFailure | (() => Response)> = {
  '503': { status: 503 },
  timeout: 'timeout',
  reset: 'network-error',
  '401': { status: 401, body: 'invalid_token' },
  // The Slack fake's failures carry no headers: these two are built the way it answers.
  // https://api.slack.com/apis/rate-limits
  '403 secondary rate limit': () => slackText(403, 'rate_limited', RETRY_AFTER),
  '429': () => slackText(429, 'rate_limited', RETRY_AFTER),
  'malformed 200': { status: 200, body: '<html><body>Service Unavailable</body></html>' },
};

const isCommonFault = (fault: Fault): fault is (typeof faultNames)[number] =>
  (faultNames as readonly string[]).includes(fault);

function slackText(status: number, body: string, headers: Record<string, string>): Response {
  return new HttpResponse(body, { status, headers: { 'content-type': 'text/html', ...headers } });
}

// --- scenarios and their worlds ----------------------------------------------------------------

export interface World {
  forgeKind: ForgeKind;
  forge: ForgeFake;
  t3: T3Fake;
  slack: SlackFake;
  now: () => Date;
  /** The config the ticks run with. */
  config: Config;
  /** A T3 client on the fake, for a scenario to seed what a tick would have dispatched. */
  t3Client: T3Client;
  /** Runs one tick; the clock moves a minute first. */
  tick(command: 'poll' | 'watch', options?: TickOptions): Promise<TickResult>;
  advance(minutes: number): void;
}

interface TickOptions {
  timeoutMs?: number;
  /** GitHub's rate-limit handling (the throttling plugin), without its write pacing. */
  throttle?: boolean;
}

interface TickResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Scenario {
  name: string;
  command: 'poll' | 'watch';
  /** The forges it runs on; default all. */
  forges?: ForgeKind[];
  /** Merged over the armed config. */
  config?: Record<string, unknown>;
  /** Builds the world the tick under test starts from. */
  build(world: World): Promise<void>;
  /** The issues whose state the invariants check. */
  issues: IssueRef[];
  /** Issues the scenario itself locked without a thread (a phantom lock for watch to find). */
  plantedLocks?: IssueRef[];
  /**
   * Cases that fail today for a reason outside the matrix's files, each with why: they run
   * as `it.fails`, so a fix turns them red until the entry goes.
   */
  knownFailures?: KnownFailure[];
}

export interface KnownFailure {
  upstream: Upstream;
  /** Tested against the request's key (method, path and query, or T3 command). */
  request: RegExp;
  occurrence?: number;
  faults: readonly Fault[];
  why: string;
}

/** One request the recorded tick made: what a fault targets, and how afk must name it. */
export interface Target {
  upstream: Upstream;
  /** Method and path, plus the query, the T3 command or the issue: unique per tick with `occurrence`. */
  key: string;
  occurrence: number;
  /** The request as afk's errors name it: `GET /repos/acme/api/issues`. */
  label: string;
  /** Not a GET: a malformed 200 says the server did the write. */
  write: boolean;
  /** The issue a doorbell is about. */
  issue?: string;
  /** A GitHub GraphQL query: it also meets the faults only GraphQL answers. */
  graphql?: boolean;
}

type Seen = Omit<Target, 'occurrence'>;

// --- the tap: records requests, answers the armed fault ----------------------------------------

interface Armed {
  target: Target;
  fault: Fault;
  fired: number;
}

interface TapWorld {
  trackerApi: URL;
  forge: ForgeUnderTest;
  handlers: Record<Upstream, HttpHandler[]>;
}

interface Tap {
  handler: HttpHandler;
  world: TapWorld | null;
  recording: Target[] | null;
  armed: Armed | null;
  /** Writes that reached a fake in the current tick. */
  writes: number;
  beginTick(): void;
  /** Waits for the requests still in flight (not the ones a timeout fault holds forever). */
  drain(): Promise<void>;
}

function createTap(server: SetupServer): Tap {
  const counts = new Map<string, number>();
  const inflight = new Set<string>();
  const hung = new Set<string>();
  // A request a failed read left behind (its sibling in a Promise.all) must land in this
  // case's fakes, not the next one's.
  server.events.on('request:end', ({ requestId }) => inflight.delete(requestId));

  const tap: Tap = {
    world: null,
    recording: null,
    armed: null,
    writes: 0,
    beginTick() {
      counts.clear();
      tap.writes = 0;
    },
    async drain() {
      for (let i = 0; i < 1000; i += 1) {
        if ([...inflight].every((id) => hung.has(id))) return;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      throw new Error(`${inflight.size} request(s) still in flight after the tick`);
    },
    handler: http.all('*', async ({ request, requestId }) => {
      const world = tap.world;
      if (world === null) return undefined;
      const seen = await classify(world.trackerApi, request);
      if (seen === undefined) return undefined;
      inflight.add(requestId);
      const occurrence = (counts.get(seen.key) ?? 0) + 1;
      counts.set(seen.key, occurrence);
      tap.recording?.push({ ...seen, occurrence });
      const armed = tap.armed;
      if (
        armed === null ||
        armed.target.upstream !== seen.upstream ||
        armed.target.key !== seen.key ||
        occurrence < armed.target.occurrence
      ) {
        if (seen.write) tap.writes += 1;
        return undefined; // on to the fakes
      }
      armed.fired += 1;
      if (armed.fault === 'malformed 200' && seen.write) tap.writes += 1;
      if (armed.fault === 'timeout') hung.add(requestId);
      return answerFault(world, armed.fault, seen, request);
    }),
  };
  return tap;
}

async function classify(trackerApi: URL, request: Request): Promise<Seen | undefined> {
  const url = new URL(request.url);
  const { method } = request;
  const write = method !== 'GET' && method !== 'HEAD';
  const base = trackerApi.pathname.replace(/\/+$/, '');
  const body = write ? await bodyOf(request) : undefined;
  if (url.origin === trackerApi.origin && url.pathname.startsWith(base)) {
    const path = url.pathname.slice(base.length);
    if (path === '/graphql') {
      // GitHub's batched reads: each query is its own request, named by its operation.
      const label = `${method} ${path} (${String(body?.['operationName'])})`;
      return { upstream: 'tracker', key: label, label, write: false, graphql: true };
    }
    const label = `${method} ${path}`;
    return { upstream: 'tracker', key: `${label}${url.search}`, label, write };
  }
  if (url.origin === new URL(T3_URL).origin) {
    const line = `${method} ${url.pathname}`;
    if (body === undefined) return { upstream: 't3', key: line, label: line, write };
    const command = `${String(body['type'])} ${String(body['threadId'] ?? body['projectId'])}`;
    return {
      upstream: 't3',
      key: `${line} (${command})`,
      label: `${line} (${String(body['type'])})`,
      write,
    };
  }
  if (url.origin === new URL(SECRETS.webhook).origin) {
    // The webhook's path is the secret: neither keys nor test names carry it.
    const issue = /\S+\/\S+#\d+/.exec(String(body?.['text'] ?? ''))?.[0] ?? '?';
    const label = `${method} <slack webhook>`;
    return { upstream: 'slack', key: `${label} (${issue})`, label, write, issue };
  }
  return undefined;
}

async function bodyOf(request: Request): Promise<Record<string, unknown> | undefined> {
  try {
    const parsed = JSON.parse(await request.clone().text()) as unknown;
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The fault, answered by an idle fake of the same upstream armed with `failNext`, so that it
 * looks exactly like the fakes' own failures (GitHub's rate-limit headers, T3's error bodies).
 * A malformed 200 to a write comes after the real fake did the write: that is what a 200 says.
 */
async function answerFault(
  world: TapWorld,
  fault: Fault,
  seen: Seen,
  request: Request,
): Promise<Response> {
  if (fault === 'malformed 200' && seen.write) {
    await getResponse(world.handlers[seen.upstream], request.clone());
  }
  let handlers: HttpHandler[];
  if (seen.upstream === 'tracker') {
    const fake = answering(world.forge.kind, () => world.forge.create());
    fake.failNext({}, trackerAnswers[fault]);
    handlers = fake.handlers;
  } else if (seen.upstream === 't3' && isCommonFault(fault)) {
    const fake = answering('t3', () => createT3Fake());
    fake.failNext({}, t3Answers[fault]);
    handlers = fake.handlers;
  } else if (isCommonFault(fault)) {
    const answer = slackAnswers[fault];
    if (typeof answer === 'function') return answer();
    const fake = answering('slack', () => createSlackFake({ url: SECRETS.webhook }));
    fake.failNext(answer);
    handlers = fake.handlers;
  } else {
    throw new Error(`${fault} is a GraphQL answer, not ${seen.upstream}'s`);
  }
  const response = await getResponse(handlers, request);
  if (response === undefined) throw new Error(`no fake answers ${seen.key}`);
  return response;
}

// A fake that only answers faults keeps no state they read: one of each serves every case.
const answeringFakes = new Map<string, unknown>();
function answering<F>(kind: string, create: () => F): F {
  let fake = answeringFakes.get(kind) as F | undefined;
  if (fake === undefined) answeringFakes.set(kind, (fake = quickly(create)));
  return fake;
}

/**
 * Builds a fake without the stack trace msw captures for each of its handlers (for its own
 * warnings only): the matrix builds thousands of handlers, and each capture costs.
 */
function quickly<T>(build: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

const cwd = mkdtempSync(join(tmpdir(), 'afk-faults-'));
const configs = new Map<string, { file: string; config: Config }>();

function configFor(forge: ForgeUnderTest, scenario: Scenario) {
  const key = `${forge.kind} ${scenario.name}`;
  let known = configs.get(key);
  if (known === undefined) {
    const raw = {
      killSwitch: false,
      repos: ['acme/api', 'acme/web'],
      tracker: forge.tracker,
      t3: { url: T3_URL },
      ...scenario.config,
    };
    const parsed = parseConfig(raw, {});
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    known = { file: writeConfig(raw), config: parsed.config };
    configs.set(key, known);
  }
  return known;
}

function createWorld(
  server: SetupServer,
  tap: Tap,
  forge: ForgeUnderTest,
  scenario: Scenario,
): World {
  let clock = START;
  const now = () => clock;
  const advance = (minutes: number) => {
    clock = new Date(clock.getTime() + minutes * 60_000);
  };
  const { file, config } = configFor(forge, scenario);
  const { fake, t3, slack } = quickly(() => ({
    fake: forge.create({ now }),
    t3: createT3Fake({
      clock: now,
      tokens: { [SECRETS.t3]: ['orchestration:read', 'orchestration:operate'] },
    }),
    slack: createSlackFake({ url: SECRETS.webhook }),
  }));
  fake.setToken(SECRETS.tracker);
  tap.world = {
    trackerApi: new URL(forge.tracker.apiUrl),
    forge,
    handlers: { tracker: fake.handlers, t3: t3.handlers, slack: slack.handlers },
  };
  tap.recording = null;
  tap.armed = null;
  // T3's and Slack's few handlers first: msw tries them in order, the forge fake has dozens.
  server.resetHandlers(tap.handler, ...t3.handlers, ...slack.handlers, ...fake.handlers);

  return {
    forgeKind: forge.kind,
    forge: fake,
    t3,
    slack,
    now,
    config,
    t3Client: createT3Client({
      baseUrl: T3_URL,
      token: () => Promise.resolve(SECRETS.t3),
      clock: now,
      retries: 0,
    }),
    advance,
    async tick(command, options = {}) {
      advance(1);
      tap.beginTick();
      let stdout = '';
      let stderr = '';
      const code = await main(['node', 'afk', command, '--config', file], {
        env: {
          AFK_TRACKER_TOKEN: SECRETS.tracker,
          AFK_T3_TOKEN: SECRETS.t3,
          AFK_SLACK_WEBHOOK_URL: SECRETS.webhook,
        },
        cwd,
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        now,
        http: {
          retries: 0,
          throttle: options.throttle === true,
          pace: false,
          timeoutMs: options.timeoutMs ?? CLEAN_TIMEOUT_MS,
        },
      });
      await tap.drain();
      return { code, stdout, stderr };
    },
  };
}

// --- what the invariants look at -------------------------------------------------------------

const keyOf = (issue: IssueRef) => `${issue.repo}#${issue.number}`;

/** afk's comments carrying its record (its replies to `/afk` commands are not). */
function afkComments(world: World, issue: IssueRef) {
  return world.forge
    .issue(issue.repo, issue.number)
    .comments.filter((c) => c.author === world.forge.selfLogin && c.body.includes('<!-- afk:run '));
}

/** afk's replies to `/afk` commands, by the key their hidden marker names. */
function afkReplies(world: World, issue: IssueRef): string[] {
  return world.forge
    .issue(issue.repo, issue.number)
    .comments.filter((c) => c.author === world.forge.selfLogin)
    .flatMap((c) => /<!-- afk:reply (\S+) -->/.exec(c.body)?.[1] ?? [])
    .sort();
}

function afkRecord(world: World, issue: IssueRef): RunRecord | null {
  const [comment] = afkComments(world, issue);
  const parsed = comment === undefined ? null : parseChecklist(comment.body);
  return parsed?.ok === true ? parsed.record : null;
}

/** afk's comments still carrying afk's claim: every live tick releases the ones it takes. */
function heldClaims(world: World, scenario: Scenario): string[] {
  return scenario.issues.flatMap((issue) =>
    afkComments(world, issue)
      .filter((c) =>
        (world.forge.reactions(issue.repo, c.id)['eyes'] ?? []).includes(world.forge.selfLogin),
      )
      .map((c) => `${keyOf(issue)} comment ${c.id}`),
  );
}

const doorbellsFor = (world: World, issue: string) =>
  world.slack.messages.filter((m) => m.text.startsWith(`afk: ${issue} `));

/** The state a clean tick must reach again after a faulty one: no timestamps, no ids. */
function summarize(world: World, scenario: Scenario) {
  return {
    issues: scenario.issues.map((issue) => {
      const state = world.forge.issue(issue.repo, issue.number);
      const record = afkRecord(world, issue);
      const locked = state.labels.includes(world.config.labels.inProgress);
      return {
        issue: keyOf(issue),
        state: state.state,
        labels: [...state.labels].sort(),
        afkComments: afkComments(world, issue).length,
        replies: afkReplies(world, issue).length,
        record:
          record === null
            ? null
            : {
                attempt: record.attempt,
                threadId: record.threadId,
                outcome: record.outcome,
                reason: record.reason ?? null,
                fixForwards: record.fixForwards,
                phases: Object.keys(record.phases).sort(),
                // A ring the record missed is moot once the run let go of its lock: no
                // tick reads that record again.
                doorbellRung:
                  record.doorbell?.rungAt !== undefined ||
                  (!locked &&
                    record.outcome === 'escalated' &&
                    doorbellsFor(world, keyOf(issue)).length > 0),
                reviewNotified: record.reviewNotifiedAt !== undefined,
                reviewRounds: record.reviewRounds ?? 0,
                conflictTurns: record.conflictTurns ?? 0,

                commands: (record.commands ?? []).map((c) => `${c.verb} by ${c.by}`),
              },
      };
    }),
    projects: [...world.t3.state.projects.keys()].sort(),
    threads: [...world.t3.state.threads.values()]
      .map((t) => ({
        id: t.id,
        archived: t.archivedAt !== null,
        session: t.session?.status ?? null,
        userMessages: t.messages.filter((m) => m.role === 'user').length,
      }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    turns: turnsByThread(world),
    doorbells: world.slack.messages.map((m) => m.text).sort(),
  };
}
type Summary = ReturnType<typeof summarize>;

/**
 * The end state a fault may change for good, by design: a doorbell Slack refused (401) is
 * not rung again, and the escalation completes without it (docs/faults.md).
 */
function expectedEnd(baseline: Summary, target: Target, fault: Fault): Summary {
  if (target.upstream !== 'slack' || fault !== '401' || target.issue === undefined) {
    return baseline;
  }
  const issue = target.issue;
  const escalation = baseline.issues.find((i) => i.issue === issue)?.record?.outcome;
  if (escalation !== 'escalated') return baseline;
  return {
    ...baseline,
    issues: baseline.issues.map((i) =>
      i.issue === issue && i.record !== null
        ? { ...i, record: { ...i.record, doorbellRung: false } }
        : i,
    ),
    doorbells: baseline.doorbells.filter((text) => !text.startsWith(`afk: ${issue} `)),
  };
}

function turnsByThread(world: World): Record<string, number> {
  const turns: Record<string, number> = {};
  for (const { command } of world.t3.commands) {
    if (command['type'] !== 'thread.turn.start') continue;
    const thread = String(command['threadId']);
    turns[thread] = (turns[thread] ?? 0) + 1;
  }
  return turns;
}

/** After the faulty tick, after a clean one, or at the end of the case. */
type Stage = 'faulty' | 'clean' | 'end';

/**
 * The invariants, after every tick, faulty or clean:
 * - at most one thread per issue attempt, and one turn per step (the first turn, each
 *   fix-forward or continue turn); a turn goes out before its record, so until the clean
 *   tick (`settled`) the record may lag one turn behind;
 * - no phantom lock: the in-progress label only on an issue whose current thread exists
 *   (but a lock the scenario planted, until the end of the case);
 * - no lost issue: an open issue carries a label that afk (ready, in progress) or a human
 *   (ready for human) acts on;
 * - at most one afk comment per issue, and one doorbell per escalation (and per review notice).
 */
function checkInvariants(world: World, scenario: Scenario, at: Stage, when = ''): void {
  try {
    checkWorld(world, scenario, at);
  } catch (error) {
    if (error instanceof Error) error.message = `${error.message}\n${when}`;
    throw error;
  }
}

function checkWorld(world: World, scenario: Scenario, at: Stage): void {
  const { labels } = world.config;
  const settled = at !== 'faulty';
  const planted = new Set((at === 'end' ? [] : (scenario.plantedLocks ?? [])).map(keyOf));
  const threads = world.t3.state.threads;
  const turns = turnsByThread(world);
  const owned = new Set<string>();
  for (const issue of scenario.issues) {
    const name = keyOf(issue);
    const state = world.forge.issue(issue.repo, issue.number);
    const record = afkRecord(world, issue);
    expect(afkComments(world, issue).length, `${name}: afk comments`).toBeLessThanOrEqual(1);
    const replies = afkReplies(world, issue);
    expect(replies, `${name}: one reply per command`).toEqual([...new Set(replies)]);

    const attempts = record?.attempt ?? 1;
    for (let attempt = 1; attempt <= attempts + 3; attempt += 1) {
      const id = threadIdFor(issue, attempt);
      const thread = threads.get(id);
      if (thread === undefined) continue;
      owned.add(id);
      expect(attempt, `${name}: a thread for attempt ${attempt}`).toBeLessThanOrEqual(attempts);
      const userMessages = thread.messages.filter((m) => m.role === 'user').length;
      expect(userMessages, `${name}: user messages on ${id}`).toBe(turns[id] ?? 0);
      // The first turn, then each corrective and conversation turn the record counts.
      const counted =
        (record?.fixForwards ?? 0) + (record?.reviewRounds ?? 0) + (record?.conflictTurns ?? 0);
      const steps = attempt === attempts ? 1 + counted : 1;
      expect(turns[id] ?? 0, `${name}: turns on ${id}`).toBeLessThanOrEqual(
        steps + (settled ? 0 : 1),
      );
    }

    const has = (label: string) => state.labels.includes(label);
    if (has(labels.inProgress) && !planted.has(name)) {
      const current = threads.get(threadIdFor(issue, attempts));
      expect(current?.deletedAt === null, `${name}: locked without a thread`).toBe(true);
    }
    // A run a human stopped with `/afk stop` leaves the issue open and unlabelled: theirs.
    if (state.state === 'open' && record?.stoppedBy === undefined) {
      const acted = [labels.ready, labels.inProgress, labels.human].some(has);
      expect(acted, `${name}: open with [${state.labels.join(', ')}]: nobody acts`).toBe(true);
    }
  }
  for (const id of threads.keys()) {
    expect(owned.has(id), `thread ${id} is no attempt of any issue`).toBe(true);
  }
  for (const issue of scenario.issues) {
    const rung = doorbellsFor(world, keyOf(issue));
    const reviews = rung.filter((m) => m.text.includes('review requested')).length;
    expect(reviews, `${keyOf(issue)}: review notices`).toBeLessThanOrEqual(1);
    expect(rung.length - reviews, `${keyOf(issue)}: escalation doorbells`).toBeLessThanOrEqual(1);
  }
}

function checkNoSecret(result: TickResult): void {
  const out = `${result.stdout}\n${result.stderr}`;
  for (const secret of [SECRETS.tracker, SECRETS.t3, SECRETS.webhook, SECRETS.webhookSecret]) {
    expect(out.includes(secret), 'a secret in the output').toBe(false);
  }
  expect(out, 'a stack trace in the output').not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

/**
 * A line of the report (or a log message) names the upstream, the request and the cause; the
 * exit code is 3 when a read the tick cannot do without failed (it stopped), else 1.
 */
function checkErrorLine(result: TickResult, target: Target, fault: Fault, command: string): void {
  const prefix = `${target.upstream}: ${target.label}: `;
  const lines = [...result.stdout.split('\n'), ...result.stderr.split('\n').map(logMessage)];
  const named = lines.filter((line) => {
    const at = line.indexOf(prefix);
    return at >= 0 && causeOf[fault].test(line.slice(at + prefix.length));
  });
  expect(
    named.length,
    `no line says ${prefix}<${String(causeOf[fault])}>:\n${result.stdout}${result.stderr}`,
  ).toBeGreaterThan(0);
  const stopped = result.stdout.split('\n').some((l) => l.startsWith(`${command}: stopped, `));
  expect(result.code, result.stdout).toBe(stopped ? 3 : 1);
}

function logMessage(line: string): string {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown };
    return typeof parsed.msg === 'string' ? parsed.msg : '';
  } catch {
    return '';
  }
}

// --- the matrix --------------------------------------------------------------------------------

interface Recorded {
  targets: Target[];
  baseline: Summary;
}

async function recordScenario(
  server: SetupServer,
  tap: Tap,
  forge: ForgeUnderTest,
  scenario: Scenario,
): Promise<Recorded> {
  const world = createWorld(server, tap, forge, scenario);
  await scenario.build(world);
  const seen = () =>
    world.forge.requests.length + world.t3.requests.length + world.slack.requests.length;
  const before = seen();
  const targets: Target[] = [];
  tap.recording = targets;
  const result = await world.tick(scenario.command);
  tap.recording = null;
  const where = `${forge.kind}: ${scenario.name}`;
  if (result.code !== 0) {
    throw new Error(`${where}: the clean tick failed (${result.code}):\n${result.stdout}`);
  }
  // What the fakes logged is what the tap recorded: no request escapes the matrix.
  if (seen() - before !== targets.length) {
    throw new Error(
      `${where}: the tap saw ${targets.length} requests, the fakes ${seen() - before}`,
    );
  }
  checkInvariants(world, scenario, 'end');
  return { targets, baseline: summarize(world, scenario) };
}

async function runCase(
  server: SetupServer,
  tap: Tap,
  forge: ForgeUnderTest,
  scenario: Scenario,
  recorded: Recorded,
  target: Target,
  fault: Fault,
): Promise<void> {
  const world = createWorld(server, tap, forge, scenario);
  await scenario.build(world);
  const before = summarize(world, scenario);
  const armed: Armed = { target, fault, fired: 0 };
  tap.armed = armed;
  const secondary = fault === '403 secondary rate limit';
  const started = performance.now();
  const faulty = await world.tick(scenario.command, {
    timeoutMs: FAULTY_TIMEOUT_MS,
    // GitHub's real rate-limit path: the throttling plugin must give up at once on a
    // retry-after the tick cannot wait, not sleep through it. (It leaves a 429 that names
    // no secondary limit and spends no primary one alone, so the 429 column runs without
    // it: its scheduling costs a few milliseconds a request.)
    throttle: secondary,
  });
  tap.armed = null;
  if (secondary || fault === '429') {
    expect(performance.now() - started, 'the tick slept on retry-after').toBeLessThan(5_000);
  }
  expect(armed.fired, `the faulty tick never sent ${target.key}`).toBeGreaterThan(0);
  checkNoSecret(faulty);
  if (faulty.code === 0) {
    // A fault afk may absorb is one that changed nothing: the world is the clean tick's.
    expect(summarize(world, scenario), `exit 0 after the fault:\n${faulty.stdout}`).toEqual(
      recorded.baseline,
    );
  } else {
    checkErrorLine(faulty, target, fault, scenario.command);
  }
  const ticks = [faulty];
  const story = () => ticks.map((t, i) => `tick ${i + 1}:\n${t.stdout}`).join('\n');
  checkInvariants(world, scenario, 'faulty', story());
  note({ forge: forge.kind, scenario: scenario.name, target, fault, code: faulty.code });
  if (tap.writes === 0) {
    // Nothing reached a fake but reads: the world is the one the recorded tick started from
    // (afk keeps no state between ticks), so the clean tick would be the recorded one, whose
    // end state is the baseline. It is not run again.
    expect(summarize(world, scenario), story()).toEqual(before);
    return;
  }

  const clean = await world.tick(scenario.command);
  ticks.push(clean);
  checkNoSecret(clean);
  expect(clean.code, story()).toBe(0);
  checkInvariants(world, scenario, 'clean', story());
  const expected = expectedEnd(recorded.baseline, target, fault);
  const converged = () => isDeepStrictEqual(summarize(world, scenario), expected);
  if (!converged() && heldClaims(world, scenario).length > 0) {
    // A claim no live tick holds (its answer, or its release, was lost) keeps the run
    // waiting out the lease: the first tick after it releases the claim, the next goes on.
    world.advance(CLAIM_LEASE_MINUTES);
    for (let i = 0; i < 2; i += 1) {
      const after = await world.tick(scenario.command);
      ticks.push(after);
      checkNoSecret(after);
      expect(after.code, story()).toBe(0);
      checkInvariants(world, scenario, 'clean', story());
    }
  }
  checkInvariants(world, scenario, 'end', story());
  expect(summarize(world, scenario), story()).toEqual(expected);
}

/** With AFK_FAULTS_REPORT=<file>, one JSON line per case: how its faulty tick ended. */
function note(entry: Record<string, unknown>): void {
  const file = process.env['AFK_FAULTS_REPORT'];
  if (file !== undefined && file !== '') appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/**
 * A request's kind, for the forges after the first: method and path with the repository,
 * numbers and commit shas left out, and the query's keys without their values.
 */
function kindOf(target: Target): string {
  const [path = '', query = ''] = target.key.split('?');
  const keys = [...new URLSearchParams(query).keys()].sort().join('&');
  const shape = path
    .replace(/\/acme\/(api|web)\b/g, '/{repo}')
    .replace(/\/collaborators\/[^/]+/, '/collaborators/{login}')
    .replace(/[0-9a-f]{40}/g, '{sha}')
    .replace(/\/\d+(?=\/|$)/g, '/{n}');
  return `${target.upstream} ${shape}${keys === '' ? '' : `?${keys}`}`;
}

/**
 * Declares the matrix of `scenarios` (some of `all`, in the order of `all`): one test per
 * recorded request and fault. On the first forge every request; on the others, which share
 * T3, Slack and the executor with it, each kind of their own tracker request once, in the
 * first scenario of `all` that sends it. Call it with top-level await: the requests are
 * recorded before the tests are declared.
 */
export async function defineMatrix(scenarios: Scenario[], all: Scenario[]): Promise<void> {
  const server = setupServer();
  server.listen({ onUnhandledRequest: 'error' });
  afterAll(() => server.close());
  const tap = createTap(server);
  for (const [index, forge] of forges.entries()) {
    const runsOn = (scenario: Scenario) =>
      scenario.forges === undefined || scenario.forges.includes(forge.kind);
    // Which scenario is the first to send each kind, over all of them: every test file
    // records them all, and declares the cases of its own.
    const firstOfKind = new Map<string, Scenario>();
    const recordings = new Map<Scenario, Recorded>();
    for (const scenario of all.filter(runsOn)) {
      if (index === 0 && !scenarios.includes(scenario)) continue;
      const recorded = await recordScenario(server, tap, forge, scenario);
      recordings.set(scenario, recorded);
      for (const target of recorded.targets) {
        if (target.upstream !== 'tracker' || firstOfKind.has(kindOf(target))) continue;
        firstOfKind.set(kindOf(target), scenario);
      }
    }
    const seen = new Set<string>();
    for (const scenario of scenarios) {
      const recorded = recordings.get(scenario);
      if (recorded === undefined) continue;
      const targets = recorded.targets.filter((target) => {
        if (index === 0) return true;
        const kind = kindOf(target);
        if (firstOfKind.get(kind) !== scenario || seen.has(kind)) return false;
        seen.add(kind);
        return true;
      });
      if (process.env['AFK_FAULTS_LIST'] === '1') {
        const lines = targets.map((t) => `${t.upstream} ${t.key} #${t.occurrence}`);
        console.log(`${forge.kind}: ${scenario.name}: ${targets.length}\n  ${lines.join('\n  ')}`);
      }
      if (targets.length === 0) continue;
      describe(`${forge.kind}: ${scenario.name}`, () => {
        for (const target of targets) {
          const faults =
            target.graphql === true ? [...faultNames, ...graphqlFaultNames] : faultNames;
          for (const fault of faults) {
            const nth = target.occurrence > 1 ? ` (#${target.occurrence})` : '';
            const name = `${target.key}${nth} ▸ ${fault}`;
            const known = scenario.knownFailures?.find(
              (k) =>
                k.upstream === target.upstream &&
                k.request.test(target.key) &&
                (k.occurrence ?? target.occurrence) === target.occurrence &&
                k.faults.includes(fault),
            );
            const run = () => runCase(server, tap, forge, scenario, recorded, target, fault);
            if (known === undefined) it(name, run);
            else it.fails(`${name} (known: ${known.why})`, run);
          }
        }
      });
    }
  }
}
