// The executor's claim protocol, one interleaving at a time: what another tick left (an older
// comment, a claim, a rung doorbell, a changed record) is put in the fakes by hand, and the
// exact requests the executor then makes are asserted. test/commands/race.test.ts runs the
// same protocol under real overlapping ticks.
import { beforeEach, describe, expect, it } from 'vitest';
import { createGitHubTracker } from '../../src/adapters/github.js';
import { createSlackDoorbell } from '../../src/adapters/slack.js';
import { createT3Client } from '../../src/adapters/t3.js';
import { executePlan, type Ports } from '../../src/tick/executor.js';
import {
  commandIdFor,
  ConfigError,
  describeAction,
  messageIdFor,
  renderChecklist,
  threadIdFor,
  type Action,
  type RunRecord,
} from '../../src/core/index.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { createSlackFake, defaultWebhookUrl, type SlackFake } from '../../emulators/slack.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { GITHUB_URL, T3_TOKEN, T3_URL, TRACKER_TOKEN } from '../support/cli.js';
import { useMswServer } from '../support/msw.js';

const { server } = useMswServer();

const REPO = 'acme/api';
const A = { repo: REPO, number: 1 };
const B = { repo: REPO, number: 2 };
const THREAD = threadIdFor(A, 1);
const NOW = new Date('2026-11-21T08:00:00.000Z');

let clock: Date;
let gh: GitHubFake;
let t3: T3Fake;
let slack: SlackFake;
let ports: Ports;

beforeEach(() => {
  clock = NOW;
  gh = createGitHubFake({ baseUrl: GITHUB_URL, token: TRACKER_TOKEN, now: () => clock });
  t3 = createT3Fake({ clock: () => clock });
  slack = createSlackFake();
  server.resetHandlers(...slack.handlers, ...t3.handlers, ...gh.handlers);
  gh.addRepo(REPO);
  for (const issue of [A, B]) {
    gh.addIssue(REPO, { number: issue.number, title: 'x', labels: ['agent-in-progress'] });
  }
  ports = {
    tracker: createGitHubTracker({
      apiUrl: GITHUB_URL,
      token: () => Promise.resolve(TRACKER_TOKEN),
      login: 'afk-bot',
      throttle: false,
      retries: 0,
    }),
    t3: createT3Client({ baseUrl: T3_URL, token: () => Promise.resolve(T3_TOKEN), retries: 0 }),
    doorbell: createSlackDoorbell({
      webhookUrl: () => Promise.resolve(defaultWebhookUrl),
      retryDelayMs: 0,
    }),
  };
});

const execute = (plan: Action[]) => executePlan(plan, ports, { now: () => NOW });
const statuses = (results: Awaited<ReturnType<typeof execute>>) =>
  results.map((r) => (r.status === 'done' ? 'done' : `${r.status}: ${r.error}`));
const writes = () => gh.writes().map((r) => `${r.method} ${r.path}`);

const live: RunRecord = {
  v: 1,
  attempt: 1,
  threadId: THREAD,
  dispatchedAt: '2026-11-21T07:00:00.000Z',
  fixForwards: 0,
  outcome: null,
  phases: { dispatched: '2026-11-21T07:00:00.000Z' },
  history: [],
};
const escalated: RunRecord = {
  ...live,
  outcome: 'escalated',
  reason: 'stalled: x',
  doorbell: { reason: 'stalled: x' },
};
const rung: RunRecord = {
  ...escalated,
  doorbell: { reason: 'stalled: x', rungAt: NOW.toISOString() },
};

const afkComment = (record: RunRecord, issue = A) =>
  gh.addComment(REPO, issue.number, { author: 'afk-bot', body: renderChecklist(record) });

/** The end of an escalation as watch plans it: checklist, doorbell, human label, lock off. */
function escalation(commentId: number, previous: RunRecord): Action[] {
  return [
    {
      kind: 'upsertChecklist',
      issue: A,
      commentId,
      previous: renderChecklist(previous),
      body: renderChecklist(escalated),
    },
    {
      kind: 'notify',
      issue: A,
      purpose: 'escalation',
      message: { text: 'afk: acme/api#1: stalled', fields: [], url: 'https://github.test/1' },
      record: {
        commentId,
        before: renderChecklist(escalated),
        body: renderChecklist(rung),
      },
    },
    { kind: 'addLabels', issue: A, labels: ['ready-for-human'] },
    { kind: 'removeLabels', issue: A, labels: ['agent-in-progress'], release: { commentId } },
  ];
}

describe('a new afk comment', () => {
  const write = (issue = A): Action => ({
    kind: 'upsertChecklist',
    issue,
    commentId: null,
    previous: null,
    body: renderChecklist(live),
  });

  it('is kept when it is the only one, after reading the comments again', async () => {
    const results = await execute([write(), { kind: 'addLabels', issue: A, labels: ['P1'] }]);
    expect(statuses(results)).toEqual(['done', 'done']);
    expect(gh.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /repos/acme/api/issues/1/comments',
      'GET /repos/acme/api/issues/1/comments',
      'POST /repos/acme/api/issues/1/labels',
    ]);
  });

  it('is deleted beside an older one, holding back only that issue’s later steps', async () => {
    const older = afkComment(live);
    const results = await execute([
      write(),
      { kind: 'addLabels', issue: A, labels: ['P1'] },
      write(B),
      { kind: 'addLabels', issue: B, labels: ['P1'] },
    ]);
    expect(statuses(results)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^skipped: another tick wrote afk's comment ${older} first; this tick's \\d+ was deleted$`,
        ),
      ),
      'skipped: another tick got there first: acme/api#1: write the afk comment',
      'done',
      'done',
    ]);
    expect(gh.issue(REPO, 1).comments.map((c) => c.id)).toEqual([older]);
    expect(gh.issue(REPO, 1).labels).toEqual(['agent-in-progress']);
    expect(gh.issue(REPO, 2).labels).toEqual(['agent-in-progress', 'P1']);
  });

  it('ignores an older record-carrying comment written by somebody else', async () => {
    gh.addComment(REPO, 1, { author: 'mallory', body: renderChecklist(live) });
    expect(statuses(await execute([write()]))).toEqual(['done']);
    expect(gh.issue(REPO, 1).comments).toHaveLength(2);
  });
});

describe('a write to an existing afk comment', () => {
  it('claims the comment, checks it, writes, and releases the claim before the lock comes off', async () => {
    const id = afkComment(live);
    const results = await execute(escalation(id, live));
    expect(statuses(results)).toEqual(['done', 'done', 'done', 'done']);
    expect(writes()).toEqual([
      `POST /repos/acme/api/issues/comments/${id}/reactions`,
      `PATCH /repos/acme/api/issues/comments/${id}`,
      `PATCH /repos/acme/api/issues/comments/${id}`,
      'POST /repos/acme/api/issues/1/labels',
      expect.stringMatching(
        new RegExp(`^DELETE /repos/acme/api/issues/comments/${id}/reactions/\\d+$`),
      ),
      'DELETE /repos/acme/api/issues/1/labels/agent-in-progress',
    ]);
    expect(gh.requests.filter((r) => r.method === 'GET').map((r) => r.path)).toEqual([
      `/repos/acme/api/issues/comments/${id}`,
    ]);
    expect(slack.messages).toHaveLength(1);
    expect(gh.issue(REPO, 1).comments[0]?.body).toBe(renderChecklist(rung));
    expect(gh.reactions(REPO, id)).toEqual({});
  });

  it('takes the claim before the issue’s first step, so a stale plan sends no turn', async () => {
    const id = afkComment({ ...live, status: 'changed by another tick' });
    const step = 'fix-forward-x';
    const results = await execute([
      {
        kind: 'startTurn',
        issue: A,
        purpose: 'fix-forward',
        command: {
          commandId: commandIdFor(THREAD, step),
          threadId: THREAD,
          messageId: messageIdFor(THREAD, step),
          text: 'fix it',
          runtimeMode: 'full-access',
          interactionMode: 'default',
        },
      },
      {
        kind: 'upsertChecklist',
        issue: A,
        commentId: id,
        previous: renderChecklist(live),
        body: renderChecklist({ ...live, fixForwards: 1 }),
      },
    ]);
    expect(statuses(results)).toEqual([
      `skipped: afk's comment ${id} changed since this tick read it`,
      'skipped: another tick got there first: acme/api#1: start fix-forward turn on thread ' +
        `${THREAD}: "fix it"`,
    ]);
    expect(t3.requests).toEqual([]);
    expect(gh.reactions(REPO, id)).toEqual({});
  });

  it('writes nothing, and goes on, when another tick already wrote the same body', async () => {
    const id = afkComment(escalated);
    const [checklist, ...rest] = escalation(id, live);
    const results = await execute([checklist as Action, ...rest]);
    expect(statuses(results)).toEqual(['done', 'done', 'done', 'done']);
    expect(writes().filter((w) => w.startsWith('PATCH'))).toHaveLength(1);
    expect(slack.messages).toHaveLength(1);
  });

  it('yields to a tick that holds the claim: no write, no doorbell, no relabel', async () => {
    const id = afkComment(live);
    const holder = await ports.tracker.claimComment(REPO, id);
    gh.requests.length = 0;
    const results = await execute(escalation(id, live));
    expect(statuses(results)).toEqual([
      `skipped: another tick holds afk's comment ${id} (claimed ${holder.claimedAt})`,
      'skipped: another tick got there first: acme/api#1: update the afk comment ' + id,
      'skipped: another tick got there first: acme/api#1: update the afk comment ' + id,
      'skipped: another tick got there first: acme/api#1: update the afk comment ' + id,
    ]);
    expect(writes()).toEqual([`POST /repos/acme/api/issues/comments/${id}/reactions`]);
    expect(slack.messages).toEqual([]);
    expect(gh.reactions(REPO, id)).toEqual({ eyes: ['afk-bot'] });
  });

  it('releases a claim older than the lease without acting, and the next tick acts', async () => {
    const id = afkComment(live);
    clock = new Date(NOW.getTime() - 11 * 60_000);
    const dead = await ports.tracker.claimComment(REPO, id);
    clock = NOW;
    const first = await execute(escalation(id, live));
    expect(statuses(first)[0]).toBe(
      `skipped: released a claim on afk's comment ${id} older than 10 minutes (${dead.claimedAt}); the next tick takes it`,
    );
    expect(slack.messages).toEqual([]);
    expect(gh.reactions(REPO, id)).toEqual({});

    const second = await execute(escalation(id, live));
    expect(statuses(second)).toEqual(['done', 'done', 'done', 'done']);
    expect(slack.messages).toHaveLength(1);
  });

  it('holds off a claim younger than the lease', async () => {
    const id = afkComment(live);
    clock = new Date(NOW.getTime() - 9 * 60_000);
    await ports.tracker.claimComment(REPO, id);
    clock = NOW;
    const results = await execute(escalation(id, live));
    expect(statuses(results)[0]).toMatch(/^skipped: another tick holds/);
    expect(gh.reactions(REPO, id)).toEqual({ eyes: ['afk-bot'] });
  });

  it('fails, holding back the rest, when the comment is gone', async () => {
    const id = afkComment(live);
    gh.deleteComment(REPO, id);
    gh.addComment(REPO, 1, { author: 'afk-bot', body: 'unrelated' });
    const results = await execute(escalation(id, live));
    // The claim itself answers 404 for a comment that is gone.
    expect(results.map((r) => r.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped']);
    expect(slack.messages).toEqual([]);
  });
});

describe('the doorbell', () => {
  const ringOnly = (id: number): Action[] => escalation(id, live).slice(1);

  it('is not rung again when the record shows it rung, and the relabel goes on', async () => {
    const id = afkComment({
      ...rung,
      doorbell: { reason: 'stalled: x', rungAt: '2026-11-21T07:59:00.000Z' },
    });
    const results = await execute(ringOnly(id));
    expect(statuses(results)).toEqual(['skipped: the doorbell was already rung', 'done', 'done']);
    expect(slack.messages).toEqual([]);
    expect(gh.issue(REPO, 1).labels).toEqual(['ready-for-human']);
    expect(gh.reactions(REPO, id)).toEqual({});
  });

  it('is skipped, with no claim and no record, when none is configured, and the relabel goes on', async () => {
    const id = afkComment(escalated);
    const [notify, ...rest] = ringOnly(id);
    if (notify?.kind !== 'notify') throw new Error('expected the doorbell');
    ports.doorbell = { configured: false, ring: () => Promise.reject(new Error('rang')) };
    const results = await execute([{ ...notify, record: null }, ...rest]);
    expect(statuses(results)).toEqual([
      'skipped: nothing was sent (set notify.slackWebhookUrlFile or AFK_SLACK_WEBHOOK_URL for a doorbell)',
      'done',
      'done',
    ]);
    expect(describeAction({ ...notify, record: null })).toBe(
      'acme/api#1: the doorbell (escalation): no doorbell configured',
    );
    expect(slack.requests).toEqual([]);
    expect(writes().filter((w) => w.startsWith('PATCH'))).toEqual([]);
    expect(gh.issue(REPO, 1).labels).toEqual(['ready-for-human']);
    expect(gh.issue(REPO, 1).comments[0]?.body).toBe(renderChecklist(escalated));
    expect(gh.reactions(REPO, id)).toEqual({});
  });

  it('fails, holding the relabel back, when its webhook cannot be read', async () => {
    const id = afkComment(escalated);
    ports.doorbell = createSlackDoorbell({
      webhookUrl: () =>
        Promise.reject(
          new ConfigError([
            'notify.slackWebhookUrlFile: cannot read the Slack webhook URL file /x (ENOENT)',
          ]),
        ),
    });
    const results = await execute(ringOnly(id));
    expect(statuses(results)).toEqual([
      'failed: notify.slackWebhookUrlFile: cannot read the Slack webhook URL file /x (ENOENT)',
      'skipped: an earlier step failed: acme/api#1: ring the doorbell (escalation): afk: acme/api#1: stalled',
      'skipped: an earlier step failed: acme/api#1: ring the doorbell (escalation): afk: acme/api#1: stalled',
    ]);
    expect(slack.requests).toEqual([]);
    expect(gh.issue(REPO, 1).labels).toEqual(['agent-in-progress']);
    expect(gh.issue(REPO, 1).comments[0]?.body).toBe(renderChecklist(escalated));
    expect(gh.reactions(REPO, id)).toEqual({});
  });

  it('is rung for a new attempt even when an earlier attempt’s was', async () => {
    const id = afkComment({ ...escalated, attempt: 2, threadId: threadIdFor(A, 2) });
    const [notify, ...rest] = ringOnly(id);
    if (notify?.kind !== 'notify') throw new Error('expected the doorbell');
    const attempt2 = { ...escalated, attempt: 2, threadId: threadIdFor(A, 2) };
    const results = await execute([
      {
        ...notify,
        record: {
          commentId: id,
          before: renderChecklist(attempt2),
          body: renderChecklist({
            ...attempt2,
            doorbell: { reason: 'stalled: x', rungAt: NOW.toISOString() },
          }),
        },
      },
      ...rest,
    ]);
    expect(statuses(results)).toEqual(['done', 'done', 'done']);
    expect(slack.messages).toHaveLength(1);
  });

  it('writes the record a second time when the first write after the ring fails', async () => {
    const id = afkComment(escalated);
    gh.failNext({ method: 'PATCH' }, { status: 502 });
    const results = await execute(ringOnly(id));
    expect(statuses(results)).toEqual(['done', 'done', 'done']);
    expect(gh.writes().filter((r) => r.method === 'PATCH')).toHaveLength(2);
    expect(slack.messages).toHaveLength(1);
    expect(gh.issue(REPO, 1).comments[0]?.body).toContain('"rungAt"');
  });

  it('reports a record it could not write twice after ringing, and still relabels', async () => {
    const id = afkComment(escalated);
    gh.failNext({ method: 'PATCH' }, { status: 502 }, 2);
    const results = await execute(ringOnly(id));
    expect(results.map((r) => r.status)).toEqual(['failed', 'done', 'done']);
    expect(statuses(results)[0]).toMatch(/^failed: the doorbell rang, but recording it failed: /);
    expect(slack.messages).toHaveLength(1);
    expect(gh.issue(REPO, 1).labels).toEqual(['ready-for-human']);
    expect(gh.reactions(REPO, id)).toEqual({});
  });

  it('is not rung, and the relabel waits, when the claim cannot be taken', async () => {
    const id = afkComment(escalated);
    gh.failNext({ method: 'POST', path: /\/reactions$/ }, { status: 502 });
    const results = await execute(ringOnly(id));
    expect(results.map((r) => r.status)).toEqual(['failed', 'skipped', 'skipped']);
    expect(slack.messages).toEqual([]);
    expect(gh.issue(REPO, 1).labels).toEqual(['agent-in-progress']);
  });

  it('that failed for now holds the relabel back and releases the claim', async () => {
    const id = afkComment(escalated);
    slack.failNext({ status: 503, body: 'service_unavailable' }, 2);
    const results = await execute(ringOnly(id));
    expect(results.map((r) => r.status)).toEqual(['failed', 'skipped', 'skipped']);
    expect(gh.issue(REPO, 1).labels).toEqual(['agent-in-progress']);
    expect(gh.reactions(REPO, id)).toEqual({});
  });
});

describe('the lock’s removal at a run’s end', () => {
  const unlock = (commentId: number): Action => ({
    kind: 'removeLabels',
    issue: A,
    labels: ['agent-in-progress'],
    release: { commentId },
  });

  it('leaves no claim behind, claiming and releasing when this tick held none', async () => {
    const id = afkComment(rung);
    const results = await execute([unlock(id)]);
    expect(statuses(results)).toEqual(['done']);
    expect(writes()).toEqual([
      `POST /repos/acme/api/issues/comments/${id}/reactions`,
      expect.stringMatching(/\/reactions\/\d+$/),
      'DELETE /repos/acme/api/issues/1/labels/agent-in-progress',
    ]);
    expect(gh.reactions(REPO, id)).toEqual({});
  });

  it('releases a claim an earlier tick could not release, once it is stale', async () => {
    const id = afkComment(rung);
    clock = new Date(NOW.getTime() - 11 * 60_000);
    await ports.tracker.claimComment(REPO, id);
    clock = NOW;
    expect(statuses(await execute([unlock(id)]))).toEqual(['done']);
    expect(gh.reactions(REPO, id)).toEqual({});
    expect(gh.issue(REPO, 1).labels).toEqual([]);
  });

  it('waits while another tick holds the claim: the lock stays, so the run stays watched', async () => {
    const id = afkComment(rung);
    await ports.tracker.claimComment(REPO, id);
    const results = await execute([unlock(id)]);
    expect(statuses(results)[0]).toMatch(/^skipped: another tick holds afk's comment/);
    expect(gh.issue(REPO, 1).labels).toEqual(['agent-in-progress']);
  });

  it('keeps the lock when its own release fails, so that a later tick clears the claim', async () => {
    const id = afkComment(live);
    gh.failNext({ method: 'DELETE', path: /\/reactions\/\d+$/ }, { status: 503 });
    const results = await execute(escalation(id, live));
    expect(results.map((r) => r.status)).toEqual(['done', 'done', 'done', 'failed']);
    expect(statuses(results)[3]).toMatch(
      /^failed: releasing the claim on afk's comment \d+ failed \(it lapses after 10 minutes\): /,
    );
    expect(gh.issue(REPO, 1).labels).toEqual(['agent-in-progress', 'ready-for-human']);
    expect(gh.reactions(REPO, id)).toEqual({ eyes: ['afk-bot'] });
  });
});

describe('a duplicate afk comment', () => {
  it('is deleted, and one already gone counts as deleted', async () => {
    const keep = afkComment(live);
    const extra = afkComment(live);
    const results = await execute([
      { kind: 'deleteComment', issue: A, commentId: extra },
      { kind: 'deleteComment', issue: A, commentId: extra },
    ]);
    expect(statuses(results)).toEqual(['done', 'done']);
    expect(gh.issue(REPO, 1).comments.map((c) => c.id)).toEqual([keep]);
  });
});

describe('a tick that is told to stop', () => {
  it('reports each step as it ends, before the next one starts', async () => {
    const id = afkComment(live);
    const seen: string[] = [];
    await executePlan(escalation(id, live), ports, {
      now: () => NOW,
      onResult: (result, ms) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        seen.push(`${result.action.kind} ${result.status} (${slack.messages.length} rung)`);
      },
    });
    expect(seen).toEqual([
      'upsertChecklist done (0 rung)',
      'notify done (1 rung)',
      'addLabels done (1 rung)',
      'removeLabels done (1 rung)',
    ]);
  });

  it('starts no step after the stop, lets the one in flight end, and releases its claim', async () => {
    const id = afkComment(live);
    const stop = new AbortController();
    const results = await executePlan(escalation(id, live), ports, {
      now: () => NOW,
      stop: stop.signal,
      onResult: () => stop.abort('SIGTERM'),
    });
    expect(statuses(results)).toEqual([
      'done',
      'skipped: stopped by SIGTERM',
      'skipped: stopped by SIGTERM',
      'skipped: stopped by SIGTERM',
    ]);
    expect(writes()).toEqual([
      `POST /repos/acme/api/issues/comments/${id}/reactions`,
      `PATCH /repos/acme/api/issues/comments/${id}`,
      expect.stringMatching(
        new RegExp(`^DELETE /repos/acme/api/issues/comments/${id}/reactions/\\d+$`),
      ),
    ]);
    expect(slack.messages).toEqual([]);
    expect(gh.reactions(REPO, id)).toEqual({});
    expect(gh.issue(REPO, 1).labels).toEqual(['agent-in-progress']);
  });
});
