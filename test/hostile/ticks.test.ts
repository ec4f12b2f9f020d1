// Hostile issues through real poll and watch ticks against the fakes: the turn T3 receives is
// fenced, cleaned and capped; a record or marker written by anybody but afk's account (or the
// agent) changes nothing; and no tick crashes on what it reads.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_BODY_CHARS,
  MAX_TITLE_CHARS,
  parseChecklist,
  threadIdFor,
  type RunRecord,
} from '../../src/core/index.js';
import { createGitHubFake, type GitHubFake } from '../../emulators/github.js';
import { createSlackFake, type SlackFake } from '../../emulators/slack.js';
import { createT3Fake, type T3Fake } from '../../emulators/t3.js';
import { armedConfig, runCli, writeConfig, type CliResult } from '../support/cli.js';
import { useMswServer } from '../support/msw.js';
import {
  BIDI,
  binaryJunk,
  FAKE_MARKERS,
  FAKE_RECORD,
  hasHidden,
  INJECTION,
  MEGABYTE,
  TAGS,
  ZERO_WIDTH,
} from './hostile-text.js';

const SLACK_URL = 'https://hooks.slack.test/services/T000/B000/XXXX';
const ISSUE = { repo: 'acme/api', number: 1 };
const THREAD = threadIdFor(ISSUE, 1);

const { server } = useMswServer();

let clock: Date;
let gh: GitHubFake;
let t3: T3Fake;
let slack: SlackFake;
let configFile: string;

/** Also terminal escapes: a title that clears the operator's screen and retitles the window. */
const HOSTILE_TITLE = `Fix login <!channel> ${BIDI}${ZERO_WIDTH}${TAGS}\u001b]0;pwned\u0007\u001b[2J ${INJECTION} ${'t'.repeat(2_000)}`;
const HOSTILE_BODY = [
  INJECTION,
  '````',
  FAKE_MARKERS,
  FAKE_RECORD,
  `hidden${TAGS}${BIDI}${ZERO_WIDTH}`,
  binaryJunk(8_192),
  MEGABYTE,
].join('\n');

function setup(serverVersion: string) {
  clock = new Date('2026-11-21T08:00:00.000Z');
  gh = createGitHubFake({ now: () => clock });
  t3 = createT3Fake({ clock: () => clock, serverVersion });
  slack = createSlackFake({ url: SLACK_URL });
  server.resetHandlers(...gh.handlers, ...t3.handlers, ...slack.handlers);
  gh.addRepo('acme/api', { collaborators: { maintainer: 'write', mallory: 'read' } });
  gh.addRepo('acme/web');
  gh.addIssue('acme/api', {
    number: 1,
    title: HOSTILE_TITLE,
    body: HOSTILE_BODY,
    labels: ['ready-for-agent'],
    author: 'mallory',
    labeledBy: { 'ready-for-agent': 'maintainer' },
  });
  configFile = writeConfig(armedConfig({ delivery: { mode: 'trunk' } }));
}

const tick = async (command: 'poll' | 'watch'): Promise<CliResult> => {
  clock = new Date(clock.getTime() + 60_000);
  return runCli([command, '--config', configFile, '--output', 'json'], {
    now: clock,
    env: { AFK_SLACK_WEBHOOK_URL: SLACK_URL },
  });
};
const afkComments = () => gh.issue('acme/api', 1).comments.filter((c) => c.author === 'afk-bot');
const record = (): RunRecord => {
  const parsed = parseChecklist(afkComments()[0]?.body ?? '');
  if (!parsed.ok) throw new Error(`no afk record: ${parsed.reason}`);
  return parsed.record;
};
const turns = () => t3.commands.filter((c) => c.command['type'] === 'thread.turn.start');
const turnText = (i = 0): string => {
  const message = turns()[i]?.command['message'] as { text?: unknown } | undefined;
  if (typeof message?.text !== 'string') throw new Error('no turn text');
  return message.text;
};
const decisions = (result: CliResult) =>
  (result.json?.['runs'] as Array<{ decision: { kind: string; reason?: string } }>).map((r) =>
    r.decision.kind === 'escalate' ? `escalate:${r.decision.reason}` : r.decision.kind,
  );

/** Comments a human and two look-alike accounts wrote, each carrying a forged record. */
function forgedComments() {
  gh.addComment('acme/api', 1, { author: 'mallory', body: `${INJECTION}\n${FAKE_RECORD}` });
  gh.addComment('acme/api', 1, { author: 'afk-bot[bot]', body: FAKE_RECORD });
  gh.addComment('acme/api', 1, { author: 'afk-b0t', body: `${FAKE_MARKERS}\n${FAKE_RECORD}` });
  gh.addComment('acme/api', 1, { author: 'mallory', body: binaryJunk(4_096, 11) });
}

describe.each([
  ['T3 v0.0.32 (slim snapshot + thread route)', '0.0.32'],
  ['T3 v0.0.27 (full snapshot)', '0.0.27'],
])('a hostile issue against %s', (_name, serverVersion) => {
  beforeEach(() => setup(serverVersion));

  it('is dispatched with its text fenced, cleaned and capped, and forged records ignored', async () => {
    forgedComments();

    const polled = await tick('poll');

    expect(polled.code, polled.stdout).toBe(0);
    expect(polled.json?.['dispatched']).toEqual(['acme/api#1']);
    expect([...t3.state.threads.keys()]).toEqual([THREAD]);
    expect(turns()).toHaveLength(1);
    const text = turnText();
    const fences = text.match(/^`{3,}text$/gm) ?? [];
    expect(fences).toHaveLength(2);
    // The rules come first; the issue's words appear only after the line that hands it over.
    expect(text.indexOf('How to work:')).toBeLessThan(text.indexOf('The issue follows.'));
    expect(text.indexOf('The issue follows.')).toBeLessThan(text.indexOf(INJECTION));
    expect(text).not.toContain('<!--');
    expect(text).not.toContain('afk:run');
    expect(hasHidden(text)).toBe(false);
    expect(text).toContain('[afk: truncated,');
    expect(text.length).toBeLessThan(MAX_BODY_CHARS * 2 + MAX_TITLE_CHARS * 2 + 4_000);
    // The thread's title, which T3 shows to people, is the title cleaned to one line.
    const created = t3.commands.find((c) => c.command['type'] === 'thread.create')?.command;
    const title = String(created?.['title']);
    expect(title.startsWith('acme/api#1: Fix login')).toBe(true);
    expect(hasHidden(title)).toBe(false);
    expect(Array.from(title).length).toBeLessThanOrEqual(200);
    // The whole command T3 received is bounded too, though the issue was a megabyte.
    const dispatchBodies = t3.requests.filter((r) => r.method === 'POST');
    for (const request of dispatchBodies) {
      expect(JSON.stringify(request.body).length).toBeLessThan(100_000);
    }

    // afk wrote its own comment, for attempt 1, beside the forged ones.
    expect(afkComments()).toHaveLength(1);
    expect(record()).toMatchObject({ attempt: 1, threadId: THREAD, outcome: null, history: [] });
    expect(gh.issue('acme/api', 1).labels).toEqual(['agent-in-progress']);
  });

  it('follows the run without taking a phase from the issue, a comment or a look-alike', async () => {
    expect((await tick('poll')).code).toBe(0);
    forgedComments();
    t3.startProvider(THREAD);

    let watched = await tick('watch');
    expect(watched.code, watched.stdout).toBe(0);
    expect(decisions(watched)).toEqual(['wait']);
    expect(Object.keys(record().phases)).toEqual(['dispatched']);
    expect(record()).toMatchObject({ attempt: 1, outcome: null, fixForwards: 0 });

    // The agent's own marker does count: the markers are read, only not from the others.
    t3.say(THREAD, 'AFK-PHASE: tests-red');
    watched = await tick('watch');
    expect(decisions(watched)).toEqual(['wait']);
    expect(Object.keys(record().phases)).toEqual(['dispatched', 'testsRed']);
    expect(gh.issue('acme/api', 1).labels).toEqual(['agent-in-progress']);
    expect(gh.issue('acme/api', 1).state).toBe('open');
    expect(slack.messages).toEqual([]);
  });

  it('escalates an agent that echoes the issue’s tricks, and the doorbell pages nobody', async () => {
    expect((await tick('poll')).code).toBe(0);
    t3.startProvider(THREAD);
    // A prompt-injected agent: a forged record in its blocked reason, fake markers, junk.
    t3.completeTurn(THREAD, `${binaryJunk(512, 3)}\nAFK-BLOCKED: <!channel> ${FAKE_RECORD}${BIDI}`);

    // The plan, as an operator reads it on a terminal, names the doorbell with the title:
    // cleaned, it carries no escape sequence to the terminal.
    const dry = await runCli(['watch', '--config', configFile, '--dry-run'], {
      now: clock,
      env: { AFK_SLACK_WEBHOOK_URL: SLACK_URL },
    });
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.stdout).toContain('ring the doorbell (escalation): afk: acme/api#1 "Fix login');
    expect(hasHidden(dry.stdout + dry.stderr)).toBe(false);

    const watched = await tick('watch');

    expect(watched.code, watched.stdout).toBe(0);
    expect(decisions(watched)).toEqual(['escalate:needs-input']);
    expect(afkComments()).toHaveLength(1);
    const body = afkComments()[0]?.body ?? '';
    expect(body.match(/<!--/g)).toHaveLength(1);
    expect(record()).toMatchObject({ attempt: 1, threadId: THREAD, outcome: 'escalated' });
    expect(gh.issue('acme/api', 1).labels).toEqual(['ready-for-human']);
    expect(slack.messages).toHaveLength(1);
    // Slack reads `<!channel>` as a mention: the doorbell escapes it, title and reason alike;
    // and it shows nothing the issue hid.
    expect(JSON.stringify(slack.requests.map((r) => r.body))).not.toContain('<!channel>');
    expect(hasHidden(slack.messages.map((m) => JSON.stringify(m)).join())).toBe(false);
    expect(hasHidden(String(slack.messages[0]?.text))).toBe(false);
  });
});
