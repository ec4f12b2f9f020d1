// `/afk` commands after a tick that died mid-act: for each step of each act, the step is done
// upstream but its answer never reaches afk (the request reaches the fake, which acts, and the
// connection then fails), so the tick ends right after that step with the issue's later steps
// held back. The next tick must finish the act with nothing done twice: one turn, one
// response, one stop per command, one reaction, one reply, and the labels and checklist an
// uninterrupted tick leaves.
import { getResponse, http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  commandIdFor,
  parseChecklist,
  renderChecklist,
  threadIdFor,
  type RunRecord,
} from '../../src/core/index.js';
import type { ForgeFake, ForgeKind } from '../../emulators/forge.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { useMswServer } from '../support/msw.js';
import { armedConfig, runCli, writeConfig, type CliResult } from '../support/cli.js';
import { forges, loginIssue, type ForgeUnderTest } from '../support/forges.js';

const ISSUE = { repo: 'acme/api', number: 1 };
const THREAD = threadIdFor(ISSUE, 1);

const { server } = useMswServer();

let clock: Date;
let gh: ForgeFake;
let t3: T3Fake;
let configFile: string;

function setup(forge: ForgeUnderTest, serverVersion: string) {
  clock = new Date('2026-11-21T08:00:00.000Z');
  gh = forge.create({ now: () => clock });
  t3 = createT3Fake({ clock: () => clock, serverVersion });
  server.resetHandlers(...gh.handlers, ...t3.handlers);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write', reader: 'read' } });
  gh.addRepo('acme/web');
  gh.pushCommit('acme/api', 'main', '0'.repeat(40));
  gh.addIssue('acme/api', loginIssue());
  configFile = writeConfig(armedConfig({ tracker: forge.tracker }));
}

const advance = () => {
  clock = new Date(clock.getTime() + 60_000);
};
const tick = async (command: 'poll' | 'watch'): Promise<CliResult> => {
  advance();
  return runCli([command, '--config', configFile, '--output', 'json'], { now: clock });
};
const human = (body: string, author = 'maintainer') => {
  advance();
  return gh.addComment('acme/api', 1, { author, body, createdAt: clock.toISOString() });
};
const afkComments = () => gh.issue('acme/api', 1).comments.filter((c) => c.author === 'afk-bot');
const record = (): RunRecord => {
  const [comment] = afkComments();
  const parsed = comment === undefined ? null : parseChecklist(comment.body);
  if (parsed === null || !parsed.ok) throw new Error('no afk record');
  return parsed.record;
};
const labels = () => gh.issue('acme/api', 1).labels.sort();
const replies = () => afkComments().filter((c) => c.body.startsWith('afk did not act'));
/** Commands T3 accepted (a repeated command id is not among them). */
const accepted = (type: string) => t3.commands.filter((c) => c.command['type'] === type);
/** Every dispatch afk sent with this command id, accepted, refused or repeated. */
const dispatches = (commandId: string) =>
  t3.requests.filter(
    (r) =>
      r.path === '/api/orchestration/dispatch' &&
      (r.body as Record<string, unknown> | undefined)?.['commandId'] === commandId,
  );
const decisions = (result: CliResult) =>
  (result.json?.['runs'] as Array<{ decision: { kind: string; reason?: string } }>).map((r) =>
    r.decision.kind === 'escalate' ? `escalate:${r.decision.reason}` : r.decision.kind,
  );

interface Seen {
  method: string;
  /** The path below the API base (`/repos/...`), whichever forge. */
  path: string;
  body: Record<string, unknown> | undefined;
}

/** A step of an act, as the request that carries it out. */
interface Step {
  upstream: 'forge' | 't3';
  match: (seen: Seen, ids: { command: number; afk: number }) => boolean;
  /** The n-th request that matches (default the first). */
  nth?: number;
}

/**
 * The tick dies right after `step`: its request reaches the fake, which acts, and the answer
 * is lost (a connection reset), so afk reports the step failed and holds the issue's later
 * steps back. Returns whether it fired.
 */
function dieAfter(step: Step, ids: { command: number; afk: number }): () => boolean {
  let seen = 0;
  let fired = false;
  server.use(
    http.all('*', async ({ request }) => {
      if (fired) return undefined;
      const url = new URL(request.url);
      const t3Request = url.hostname === 't3.test';
      if (t3Request !== (step.upstream === 't3')) return undefined;
      const path = url.pathname.replace(/^\/api\/v1(?=\/repos|\/user|\/orgs)/, '');
      const text = request.method === 'GET' ? '' : await request.clone().text();
      const body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
      if (!step.match({ method: request.method, path, body }, ids)) return undefined;
      seen += 1;
      if (seen < (step.nth ?? 1)) return undefined;
      fired = true;
      await getResponse(t3Request ? t3.handlers : gh.handlers, request.clone());
      return HttpResponse.error();
    }),
  );
  return () => fired;
}

const t3Command =
  (type: string): Step['match'] =>
  ({ path, body }) =>
    path === '/api/orchestration/dispatch' && body?.['type'] === type;
const forgeStep = (match: Step['match'], nth?: number): Step => ({
  upstream: 'forge',
  match,
  ...(nth === undefined ? {} : { nth }),
});
const t3Step = (type: string): Step => ({ upstream: 't3', match: t3Command(type) });

const steps = {
  lockOn: forgeStep(({ method, path }) => method === 'POST' && path.endsWith('/issues/1/labels')),
  react: forgeStep(
    ({ method, path }, ids) =>
      method === 'POST' && path.endsWith(`/issues/comments/${ids.command}/reactions`),
  ),
  humanOff: forgeStep(
    ({ method, path }) => method === 'DELETE' && /\/issues\/1\/labels\/[^/]+$/.test(path),
  ),
  lockOff: forgeStep(
    ({ method, path }) => method === 'DELETE' && /\/issues\/1\/labels\/[^/]+$/.test(path),
  ),
  record: forgeStep(
    ({ method, path }, ids) => method === 'PATCH' && path.endsWith(`/issues/comments/${ids.afk}`),
  ),
  turn: t3Step('thread.turn.start'),
  approve: t3Step('thread.approval.respond'),
  answer: t3Step('thread.user-input.respond'),
  stop: t3Step('thread.session.stop'),
  archive: t3Step('thread.archive'),
  postReply: forgeStep(
    ({ method, path }) => method === 'POST' && path.endsWith('/issues/1/comments'),
  ),
  // The listing afk reads right after posting its reply, to keep only the oldest: watch's
  // own read of the comments and the check before posting come first (on GitHub watch reads
  // the comments through GraphQL: see `replyCheckOn`).
  checkReply: forgeStep(
    ({ method, path }) => method === 'GET' && path.endsWith('/issues/1/comments'),
    3,
  ),
} satisfies Record<string, Step>;

/** The check after posting a reply: GitHub's watch reads the comments through GraphQL. */
const replyCheckOn = (kind: ForgeKind): Step =>
  kind === 'github' ? { ...steps.checkReply, nth: 2 } : steps.checkReply;

describe.each(forges)(
  'afk watch: an /afk command after a tick that died mid-act, on $kind',
  (forge) => {
    describe.each([
      ['T3 v0.0.32 (slim snapshot + thread route)', '0.0.32'],
      ['T3 v0.0.27 (full snapshot)', '0.0.27'],
    ])('against %s', (_name, serverVersion) => {
      /** Dispatched, the provider working: the run is live, its session running. */
      async function live() {
        setup(forge, serverVersion);
        const polled = await tick('poll');
        expect(polled.code, polled.stdout).toBe(0);
        t3.startProvider(THREAD);
      }

      async function escalated(expectedLabels = ['ready-for-human']) {
        const watched = await tick('watch');
        expect(decisions(watched)).toEqual(['escalate:needs-input']);
        expect(labels()).toEqual(expectedLabels);
      }

      /** The command's tick dies after `step`; the next one finishes; a third changes nothing. */
      async function dieThenFinish(id: number, step: Step) {
        const fired = dieAfter(step, { command: id, afk: afkComments()[0]?.id ?? 0 });
        const died = await tick('watch');
        expect(fired(), 'the step never ran').toBe(true);
        expect(died.code, died.stdout).toBe(1);
        const finished = await tick('watch');
        expect(finished.code, finished.stdout).toBe(0);
        const writes = { forge: gh.writes().length, t3: t3.writes().length };
        const again = await tick('watch');
        expect(again.code, again.stdout).toBe(0);
        return { writes, again };
      }

      /** One +1 on the command, by afk; the checklist is the record's rendering. */
      function expectAcknowledged(id: number) {
        expect(gh.reactions('acme/api', id)['+1']).toEqual(['afk-bot']);
        expect(afkComments()).toHaveLength(1);
        expect(afkComments()[0]?.body).toBe(renderChecklist(record()));
        expect(record().commands?.map((c) => c.commentId)).toEqual([id]);
        expect(replies()).toEqual([]);
      }

      describe('resuming a blocked run with /afk <text>: lock on, turn, +1, ready-for-human off, record', () => {
        it.each([
          ['the lock', steps.lockOn],
          ['the turn', steps.turn],
          ['the reaction', steps.react],
          ['ready-for-human off', steps.humanOff],
          ['the record', steps.record],
        ])('after %s', async (_step, step) => {
          await live();
          t3.completeTurn(THREAD, 'AFK-BLOCKED: which database should the test use?');
          await escalated();
          const before = accepted('thread.turn.start').length;
          const id = human('/afk use the sqlite one in test/fixtures');

          await dieThenFinish(id, step);

          const [turn, ...more] = accepted('thread.turn.start').slice(before);
          expect(more).toEqual([]);
          expect(turn?.command).toMatchObject({ threadId: THREAD });
          expect(JSON.stringify(turn?.command)).toContain('the sqlite one in test/fixtures');
          // The message on the thread tells afk its turn went out: the command is not sent again.
          expect(dispatches(commandIdFor(THREAD, `command-${id}`))).toHaveLength(1);
          expect(labels()).toEqual(['agent-in-progress']);
          expect(record()).toMatchObject({ outcome: null, attempt: 1, threadId: THREAD });
          expect(record().resumedFrom).toHaveLength(1);
          expect(record().commands?.[0]).toMatchObject({ verb: 'message' });
          expectAcknowledged(id);
        });
      });

      describe('/afk approve on a pending approval: lock on, response, +1, ready-for-human off, record', () => {
        it.each([
          ['the lock', steps.lockOn],
          ['the response', steps.approve],
          ['the reaction', steps.react],
          ['ready-for-human off', steps.humanOff],
          ['the record', steps.record],
        ])('after %s', async (_step, step) => {
          await live();
          const { requestId } = t3.requestApproval(THREAD, { detail: 'run the migrations' });
          await escalated();
          const id = human('/afk approve');

          await dieThenFinish(id, step);

          expect(accepted('thread.approval.respond').map((c) => c.command)).toEqual([
            expect.objectContaining({ threadId: THREAD, requestId, decision: 'accept' }),
          ]);
          // T3 no longer shows the request pending: afk does not answer it again.
          expect(dispatches(commandIdFor(THREAD, `command-${id}`))).toHaveLength(1);
          expect(t3.state.threads.get(THREAD)?.activities.map((a) => a.kind)).not.toContain(
            'provider.approval.respond.failed',
          );
          expect(labels()).toEqual(['agent-in-progress']);
          expect(record()).toMatchObject({ outcome: null, attempt: 1 });
          expect(record().commands?.[0]).toMatchObject({
            verb: 'approve',
            requestId,
            delivered: true,
          });
          expectAcknowledged(id);
        });
      });

      describe('/afk answer on a pending question: lock on, response, +1, ready-for-human off, record', () => {
        it.each([
          ['the lock', steps.lockOn],
          ['the response', steps.answer],
          ['the reaction', steps.react],
          ['ready-for-human off', steps.humanOff],
          ['the record', steps.record],
        ])('after %s', async (_step, step) => {
          await live();
          const { requestId } = t3.requestUserInput(THREAD, [
            { id: 'db', question: 'Which database should the test use?' },
          ]);
          await escalated();
          const id = human('/afk answer the sqlite one');

          await dieThenFinish(id, step);

          expect(accepted('thread.user-input.respond').map((c) => c.command)).toEqual([
            expect.objectContaining({
              threadId: THREAD,
              requestId,
              answers: { db: 'the sqlite one' },
            }),
          ]);
          expect(dispatches(commandIdFor(THREAD, `command-${id}`))).toHaveLength(1);
          expect(accepted('thread.turn.start')).toHaveLength(1); // the first turn only
          expect(labels()).toEqual(['agent-in-progress']);
          expect(record().commands?.[0]).toMatchObject({
            verb: 'answer',
            requestId,
            delivered: true,
          });
          expectAcknowledged(id);
        });
      });

      describe('/afk stop on a live run: +1, stop, archive, record, lock off', () => {
        it.each([
          ['the reaction', steps.react],
          ['stopping the session', steps.stop],
          ['archiving the thread', steps.archive],
          ['the record', steps.record],
          ['the lock off', steps.lockOff],
        ])('after %s', async (_step, step) => {
          await live();
          const id = human('/afk stop');

          await dieThenFinish(id, step);

          expect(accepted('thread.session.stop')).toHaveLength(1);
          expect(accepted('thread.archive')).toHaveLength(1);
          // T3 shows the session stopped and the thread archived: neither is sent again.
          expect(dispatches(commandIdFor(THREAD, 'stop'))).toHaveLength(1);
          expect(dispatches(commandIdFor(THREAD, 'archive'))).toHaveLength(1);
          expect(t3.state.threads.get(THREAD)?.archivedAt).not.toBeNull();
          expect(labels()).toEqual([]);
          expect(gh.issue('acme/api', 1).state).toBe('open');
          expect(record()).toMatchObject({
            outcome: 'cancelled',
            stoppedBy: { login: 'maintainer', commentId: id },
          });
          expect(record().reason).toMatch(/^stopped by @maintainer/);
          expectAcknowledged(id);
        });
      });

      describe('a command from a read-only user: one reply, nothing else', () => {
        it.each([
          ['posting the reply', steps.postReply],
          ['checking it is the only one', steps.checkReply],
        ])('after %s', async (_step, step) => {
          await live();
          t3.requestApproval(THREAD, { detail: 'run the migrations' });
          await escalated();
          const t3Writes = t3.writes().length;
          const id = human('/afk approve', 'reader');

          const chosen = step === steps.checkReply ? replyCheckOn(forge.kind) : step;
          const { writes } = await dieThenFinish(id, chosen);

          expect(replies().map((c) => c.body)).toEqual([
            expect.stringMatching(
              new RegExp(`^afk did not act on comment ${id}: reader has read permission`),
            ) as unknown,
          ]);
          expect(gh.writes()).toHaveLength(writes.forge);
          expect(t3.writes()).toHaveLength(t3Writes);
          expect(gh.reactions('acme/api', id)['+1']).toBeUndefined();
          expect(labels()).toEqual(['ready-for-human']);
          expect(record()).toMatchObject({ outcome: 'escalated' });
          expect(record().commands).toBeUndefined();
        });
      });
    });
  },
);

describe.each(forges)(
  'afk poll: re-queueing a run whose session waits on an answer, on $kind',
  (forge) => {
    const THREAD2 = threadIdFor(ISSUE, 2);

    /** Escalated on a pending approval, its session kept; a maintainer re-queues it. */
    async function requeued() {
      setup(forge, '0.0.32');
      expect((await tick('poll')).code).toBe(0);
      t3.startProvider(THREAD);
      t3.requestApproval(THREAD, { detail: 'run the migrations' });
      const escalated = await tick('watch');
      expect(decisions(escalated)).toEqual(['escalate:needs-input']);
      expect(t3.state.threads.get(THREAD)?.session?.status).toBe('running');
      advance();
      gh.unlabelIssue('acme/api', 1, 'ready-for-human', 'maintainer');
      gh.labelIssue('acme/api', 1, 'ready-for-agent', 'maintainer');
    }

    function expectOneLiveAttempt() {
      expect(accepted('thread.session.stop').map((c) => c.command['threadId'])).toEqual([THREAD]);
      expect(accepted('thread.archive').map((c) => c.command['threadId'])).toEqual([THREAD]);
      expect(dispatches(commandIdFor(THREAD, 'stop'))).toHaveLength(1);
      expect(dispatches(commandIdFor(THREAD, 'archive'))).toHaveLength(1);
      expect(t3.state.threads.get(THREAD)).toMatchObject({
        session: { status: 'stopped' },
        archivedAt: expect.any(String) as unknown,
      });
      expect(accepted('thread.create').map((c) => c.command['threadId'])).toEqual([
        THREAD,
        THREAD2,
      ]);
      expect(labels()).toEqual(['agent-in-progress']);
      expect(record()).toMatchObject({ attempt: 2, threadId: THREAD2, outcome: null });
      expect(record().history).toEqual([
        expect.objectContaining({ attempt: 1, threadId: THREAD, outcome: 'escalated' }),
      ]);
    }

    it('stops and archives the old thread before the new attempt starts', async () => {
      await requeued();

      const polled = await tick('poll');

      expect(polled.code, polled.stdout).toBe(0);
      const kinds = t3
        .writes()
        .map((r) => (r.body as Record<string, unknown>)['type'])
        .slice(-4);
      expect(kinds).toEqual([
        'thread.session.stop',
        'thread.archive',
        'thread.create',
        'thread.turn.start',
      ]);
      expectOneLiveAttempt();
    });

    it.each([
      ['stopping the old session', steps.stop],
      ['archiving the old thread', steps.archive],
    ])('finishes it on the next tick when the tick died after %s', async (_name, step) => {
      await requeued();
      const fired = dieAfter(step, { command: 0, afk: 0 });

      const died = await tick('poll');

      expect(fired()).toBe(true);
      expect(died.code, died.stdout).toBe(1);
      expect(accepted('thread.create')).toHaveLength(1);
      const polled = await tick('poll');
      expect(polled.code, polled.stdout).toBe(0);
      expectOneLiveAttempt();
    });
  },
);
