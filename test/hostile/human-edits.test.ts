// Humans act on the issue between ticks: they edit or delete afk's comment, take labels off,
// close an issue mid-run, re-open a closed one. Each case ends in the state
// docs/human-edits.md describes, through real poll and watch ticks against the fakes.
import { beforeEach, describe, expect, it } from 'vitest';
import { parseChecklist, threadIdFor, type RunRecord } from '../../src/core/index.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { createSlackFake, type SlackFake } from '../../emulators/slack.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { armedConfig, runCli, writeConfig, type CliResult } from '../support/cli.js';
import { useMswServer } from '../support/msw.js';
import { loginIssue } from '../support/forges.js';

const SLACK_URL = 'https://hooks.slack.test/services/T000/B000/XXXX';
const ISSUE = { repo: 'acme/api', number: 1 };
const THREAD = threadIdFor(ISSUE, 1);
const THREAD2 = threadIdFor(ISSUE, 2);
const HEAD = '1'.repeat(40);
const MERGE = '4'.repeat(40);

const { server } = useMswServer();

let clock: Date;
let gh: GitHubFake;
let t3: T3Fake;
let slack: SlackFake;
let configFile: string;

beforeEach(() => {
  clock = new Date('2026-11-21T08:00:00.000Z');
  gh = createGitHubFake({ now: () => clock });
  t3 = createT3Fake({ clock: () => clock });
  slack = createSlackFake({ url: SLACK_URL });
  server.resetHandlers(...gh.handlers, ...t3.handlers, ...slack.handlers);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write' } });
  gh.addRepo('acme/web');
  gh.pushCommit('acme/api', 'main', '0'.repeat(40));
  gh.addIssue('acme/api', loginIssue());
  configFile = writeConfig(armedConfig());
});

const tick = async (command: 'poll' | 'watch'): Promise<CliResult> => {
  clock = new Date(clock.getTime() + 60_000);
  return runCli([command, '--config', configFile, '--output', 'json'], {
    now: clock,
    env: { AFK_SLACK_WEBHOOK_URL: SLACK_URL },
  });
};
const issue = () => gh.issue('acme/api', 1);
const labels = () => [...issue().labels].sort();
const afkComments = () => issue().comments.filter((c) => c.author === 'afk-bot');
const recordComments = () => afkComments().filter((c) => c.body.includes('<!-- afk:run '));
const record = (): RunRecord => {
  const [comment, ...others] = recordComments();
  expect(others, 'more than one afk record').toEqual([]);
  const parsed = parseChecklist(comment?.body ?? '');
  if (!parsed.ok) throw new Error(`no afk record: ${parsed.reason}`);
  return parsed.record;
};
const decisions = (result: CliResult) =>
  ((result.json?.['runs'] ?? []) as Array<{ decision: { kind: string; reason?: string } }>).map(
    (r) => (r.decision.kind === 'escalate' ? `escalate:${r.decision.reason}` : r.decision.kind),
  );
const turns = () => t3.commands.filter((c) => c.command['type'] === 'thread.turn.start');
const writes = () => gh.writes().length + t3.writes().length + slack.requests.length;

/** Dispatched, the agent at work and past tests-red: a run mid-way. */
async function runningAgent() {
  const polled = await tick('poll');
  expect(polled.code, polled.stdout).toBe(0);
  t3.startProvider(THREAD);
  t3.say(THREAD, 'Wrote a failing test.\nAFK-PHASE: tests-red');
  const watched = await tick('watch');
  expect(decisions(watched)).toEqual(['wait']);
  expect(Object.keys(record().phases)).toEqual(['dispatched', 'testsRed']);
}

async function expectWatchIdle() {
  const before = writes();
  const watched = await tick('watch');
  expect(watched.code, watched.stdout).toBe(0);
  expect(writes()).toBe(before);
  return watched;
}

describe('a human edits afk’s comment', () => {
  it('around the record: the next watch tick writes afk’s own text back', async () => {
    await runningAgent();
    const [own] = afkComments();
    gh.editComment('acme/api', own?.id ?? 0, `Please hurry!\n\n${own?.body ?? ''}`);

    const watched = await tick('watch');

    expect(watched.code, watched.stdout).toBe(0);
    expect(decisions(watched)).toEqual(['wait']);
    expect(afkComments()).toHaveLength(1);
    expect(afkComments()[0]?.body).toBe(own?.body);
    expect(record()).toMatchObject({ attempt: 1, threadId: THREAD, outcome: null });
    await expectWatchIdle();
  });

  it('breaking the record: watch rebuilds it from afk’s thread and the run goes on', async () => {
    await runningAgent();
    const [own] = afkComments();
    gh.editComment('acme/api', own?.id ?? 0, (own?.body ?? '').replace('"v":1', '"v":"one'));

    const watched = await tick('watch');

    expect(watched.code, watched.stdout).toBe(0);
    expect(decisions(watched)).toEqual(['wait']);
    expect(afkComments()).toHaveLength(1);
    // Rebuilt: the same attempt and thread, the phases read again from the agent's messages.
    expect(record()).toMatchObject({ attempt: 1, threadId: THREAD, outcome: null, fixForwards: 0 });
    expect(Object.keys(record().phases)).toEqual(['dispatched', 'testsRed']);
    expect(turns()).toHaveLength(1);
    expect(labels()).toEqual(['agent-in-progress']);
  });

  it('removing the record: watch writes a new afk comment and leaves the edited one alone', async () => {
    await runningAgent();
    const [own] = afkComments();
    gh.editComment('acme/api', own?.id ?? 0, 'afk is working on this (edited by a maintainer)');

    const watched = await tick('watch');

    expect(watched.code, watched.stdout).toBe(0);
    expect(decisions(watched)).toEqual(['wait']);
    expect(afkComments().map((c) => c.body.includes('<!-- afk:run '))).toEqual([false, true]);
    expect(afkComments()[0]?.body).toBe('afk is working on this (edited by a maintainer)');
    expect(record()).toMatchObject({ attempt: 1, threadId: THREAD, outcome: null });
  });
});

describe('a human deletes afk’s comment', () => {
  it('mid-run: watch writes a new one from afk’s thread and the run goes on', async () => {
    await runningAgent();
    gh.deleteComment('acme/api', afkComments()[0]?.id ?? 0);

    const watched = await tick('watch');

    expect(watched.code, watched.stdout).toBe(0);
    expect(decisions(watched)).toEqual(['wait']);
    expect(afkComments()).toHaveLength(1);
    expect(record()).toMatchObject({ attempt: 1, threadId: THREAD, outcome: null });
    expect(Object.keys(record().phases)).toEqual(['dispatched', 'testsRed']);
    expect(turns()).toHaveLength(1);
    expect(labels()).toEqual(['agent-in-progress']);
    // And the next tick has nothing to repeat.
    await expectWatchIdle();
  });

  it('after the run was closed: nothing happens; a re-queue starts attempt 2 without history', async () => {
    configFile = writeConfig(armedConfig({ delivery: { mode: 'trunk' } }));
    expect((await tick('poll')).code).toBe(0);
    t3.startProvider(THREAD);
    gh.pushCommit('acme/api', 'main', HEAD);
    t3.completeTurn(THREAD, `AFK-PHASE: pushed ${HEAD}`);
    gh.setCi('acme/api', HEAD, 'test', 'success');
    expect(decisions(await tick('watch'))).toEqual(['close']);
    expect(issue().state).toBe('closed');
    gh.deleteComment('acme/api', afkComments()[0]?.id ?? 0);

    expect((await tick('poll')).code).toBe(0);
    await expectWatchIdle();
    expect(afkComments()).toEqual([]);
    expect(labels()).toEqual([]);

    // Re-opened and re-queued: attempt 1's thread is archived, so a new attempt starts.
    gh.setIssueState('acme/api', 1, 'open', 'maintainer');
    gh.labelIssue('acme/api', 1, 'ready-for-agent', 'maintainer');
    expect((await tick('poll')).json?.['dispatched']).toEqual(['acme/api#1']);
    expect(record()).toMatchObject({ attempt: 2, threadId: THREAD2, history: [] });
    expect(turns()).toHaveLength(2);
  });

  it('after an escalation, then a re-queue: attempt 2 starts on a new thread, no second doorbell', async () => {
    await runningAgent();
    t3.completeTurn(THREAD, 'AFK-BLOCKED: I need the staging password');
    expect(decisions(await tick('watch'))).toEqual(['escalate:needs-input']);
    gh.deleteComment('acme/api', afkComments()[0]?.id ?? 0);
    // Without afk's record, attempt 1's stopped session tells poll that attempt is over.
    gh.unlabelIssue('acme/api', 1, 'ready-for-human', 'maintainer');
    gh.labelIssue('acme/api', 1, 'ready-for-agent', 'maintainer');

    expect((await tick('poll')).json?.['dispatched']).toEqual(['acme/api#1']);
    expect(record()).toMatchObject({ attempt: 2, threadId: THREAD2, outcome: null });
    expect(turns().map((t) => t.command['threadId'])).toEqual([THREAD, THREAD2]);
    t3.startProvider(THREAD2);
    expect(decisions(await tick('watch'))).toEqual(['wait']);
    expect(slack.messages).toHaveLength(1);
  });
});

describe('a human removes a label', () => {
  it('the lock, mid-run: afk stops following the run; putting the ready label back resumes it', async () => {
    await runningAgent();
    gh.unlabelIssue('acme/api', 1, 'agent-in-progress', 'maintainer');

    // Detached: watch no longer sees the run, poll has nothing to start, and nothing is
    // written. The agent's turn still runs in T3.
    const watched = await expectWatchIdle();
    expect(watched.json?.['summary']).toBe('watch: no live runs');
    const polled = await tick('poll');
    expect(polled.code).toBe(0);
    expect(polled.json?.['dispatched']).toEqual([]);
    expect(t3.state.threads.get(THREAD)?.latestTurn?.state).toBe('running');

    // A maintainer hands it back: the same attempt and thread, no second turn.
    gh.labelIssue('acme/api', 1, 'ready-for-agent', 'maintainer');
    const requeued = await tick('poll');
    expect(requeued.code, requeued.stdout).toBe(0);
    expect(requeued.json?.['dispatched']).toEqual(['acme/api#1']);
    expect([...t3.state.threads.keys()]).toEqual([THREAD]);
    expect(turns()).toHaveLength(1);
    expect(labels()).toEqual(['agent-in-progress']);
    expect(record()).toMatchObject({ attempt: 1, threadId: THREAD, outcome: null });
    expect(Object.keys(record().phases)).toEqual(['dispatched', 'testsRed']);
    t3.say(THREAD, 'AFK-PHASE: green');
    expect(decisions(await tick('watch'))).toEqual(['wait']);
    expect(Object.keys(record().phases)).toEqual(['dispatched', 'testsRed', 'green']);
  });

  it('the lock, then puts it back by hand: watch picks the run up where it was', async () => {
    await runningAgent();
    gh.unlabelIssue('acme/api', 1, 'agent-in-progress', 'maintainer');
    await expectWatchIdle();
    t3.say(THREAD, 'AFK-PHASE: green');
    gh.labelIssue('acme/api', 1, 'agent-in-progress', 'maintainer');

    const watched = await tick('watch');

    expect(decisions(watched)).toEqual(['wait']);
    expect(record()).toMatchObject({ attempt: 1, threadId: THREAD, outcome: null });
    expect(Object.keys(record().phases)).toEqual(['dispatched', 'testsRed', 'green']);
    expect(turns()).toHaveLength(1);
  });

  it('the ready label, put back on a live run: the next poll takes it off again', async () => {
    await runningAgent();
    gh.labelIssue('acme/api', 1, 'ready-for-agent', 'maintainer');

    const polled = await tick('poll');

    expect(polled.code, polled.stdout).toBe(0);
    expect(polled.json?.['dispatched']).toEqual([]);
    expect(labels()).toEqual(['agent-in-progress']);
    expect(turns()).toHaveLength(1);
  });

  it('the human label after an escalation, without re-queuing: nothing happens', async () => {
    await runningAgent();
    t3.completeTurn(THREAD, 'AFK-BLOCKED: I need the staging password');
    expect(decisions(await tick('watch'))).toEqual(['escalate:needs-input']);
    expect(labels()).toEqual(['ready-for-human']);
    gh.unlabelIssue('acme/api', 1, 'ready-for-human', 'maintainer');

    const before = writes();
    expect((await tick('poll')).json?.['dispatched']).toEqual([]);
    await tick('watch');
    expect(writes()).toBe(before);
    expect(record()).toMatchObject({ attempt: 1, outcome: 'escalated' });
  });
});

describe('a human closes the issue mid-run', () => {
  it('before anything was delivered: the run is cancelled, the thread stopped and archived, the lock removed', async () => {
    await runningAgent();
    gh.setIssueState('acme/api', 1, 'closed', 'maintainer');

    const watched = await tick('watch');

    expect(watched.code, watched.stdout).toBe(0);
    expect(decisions(watched)).toEqual(['cancel']);
    expect(labels()).toEqual([]);
    expect(issue().state).toBe('closed');
    expect(record()).toMatchObject({ outcome: 'cancelled' });
    expect(afkComments()[0]?.body).toContain('### afk: stopped, the issue was closed (attempt 1)');
    const thread = t3.state.threads.get(THREAD);
    expect(thread?.archivedAt).not.toBe(null);
    expect(thread?.session?.status).toBe('stopped');
    expect(slack.messages).toEqual([]);
    await expectWatchIdle();
  });

  it('after the pull request merged: the run is followed to the end, and afk does not close it again', async () => {
    await runningAgent();
    gh.addPullRequest('acme/api', { head: 'afk/issue-1', headSha: HEAD, number: 12 });
    t3.completeTurn(THREAD, `AFK-PHASE: pushed ${HEAD}`);
    gh.mergePullRequest('acme/api', 12, MERGE);
    gh.setIssueState('acme/api', 1, 'closed', 'maintainer');

    let watched = await tick('watch');
    expect(decisions(watched)).toEqual(['wait']);
    expect(labels()).toEqual(['agent-in-progress']);
    gh.setCi('acme/api', MERGE, 'test', 'success');
    watched = await tick('watch');

    expect(decisions(watched)).toEqual(['close']);
    expect(record()).toMatchObject({ outcome: 'closed' });
    expect(labels()).toEqual([]);
    expect(gh.writes().filter((w) => w.method === 'PATCH' && /\/issues\/1$/.test(w.path))).toEqual(
      [],
    );
  });
});

describe('a human acts on the run’s pull request or thread', () => {
  it('closes the pull request unmerged: watch escalates for input', async () => {
    await runningAgent();
    gh.addPullRequest('acme/api', { head: 'afk/issue-1', headSha: HEAD, number: 12 });
    t3.completeTurn(THREAD, `AFK-PHASE: pushed ${HEAD}`);
    gh.closePullRequest('acme/api', 12);

    const watched = await tick('watch');

    expect(decisions(watched)).toEqual(['escalate:needs-input']);
    expect(labels()).toEqual(['ready-for-human']);
    expect(record().reason).toContain('pull request #12 was closed without merging');
  });

  it('archives the thread in T3: watch escalates thread-missing', async () => {
    await runningAgent();
    const thread = t3.state.threads.get(THREAD);
    if (thread !== undefined) thread.archivedAt = clock.toISOString();

    const watched = await tick('watch');

    expect(decisions(watched)).toEqual(['escalate:thread-missing']);
    expect(labels()).toEqual(['ready-for-human']);
  });
});

describe('a human re-opens a closed issue', () => {
  it('closed and re-opened between two watch ticks: the run goes on as if nothing happened', async () => {
    await runningAgent();
    gh.setIssueState('acme/api', 1, 'closed', 'maintainer');
    gh.setIssueState('acme/api', 1, 'open', 'maintainer');

    const watched = await tick('watch');

    expect(decisions(watched)).toEqual(['wait']);
    expect(labels()).toEqual(['agent-in-progress']);
    expect(record()).toMatchObject({ attempt: 1, outcome: null });
  });

  it('after a cancelled run: nothing happens until a maintainer re-queues it, then attempt 2', async () => {
    await runningAgent();
    gh.setIssueState('acme/api', 1, 'closed', 'maintainer');
    expect(decisions(await tick('watch'))).toEqual(['cancel']);
    gh.setIssueState('acme/api', 1, 'open', 'maintainer');

    const before = writes();
    expect((await tick('poll')).json?.['dispatched']).toEqual([]);
    await tick('watch');
    expect(writes()).toBe(before);

    gh.labelIssue('acme/api', 1, 'ready-for-agent', 'maintainer');
    const requeued = await tick('poll');
    expect(requeued.json?.['dispatched']).toEqual(['acme/api#1']);
    expect([...t3.state.threads.keys()]).toEqual([THREAD, THREAD2]);
    expect(record()).toMatchObject({
      attempt: 2,
      threadId: THREAD2,
      outcome: null,
      history: [{ attempt: 1, threadId: THREAD, outcome: 'cancelled' }],
    });
  });

  it('a queued issue closed and re-opened: not dispatched while closed, dispatched once open', async () => {
    gh.setIssueState('acme/api', 1, 'closed', 'maintainer');
    expect((await tick('poll')).json?.['dispatched']).toEqual([]);
    expect(t3.commands).toEqual([]);

    gh.setIssueState('acme/api', 1, 'open', 'maintainer');
    expect((await tick('poll')).json?.['dispatched']).toEqual(['acme/api#1']);
  });
});
