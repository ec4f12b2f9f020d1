// `/afk` commands: a trusted human talks to a run's agent through the issue, from a phone if
// need be. A comment starting with the prefix asks for a turn with its text, answers the
// agent's pending approval or question, or stops the run; an escalated run it resumes goes on
// as the same attempt on the same thread. Each command acts once: only comments newer than the
// point the run last acted on count (the escalation, then the newest command acted on, whose id
// the record keeps), the effects are keyed by the comment's id (turn step `command-<id>`), and
// the record that moves the cursor is written last, so a tick that dies half-way is finished
// by the next one. A command that cannot apply gets one reply, keyed by a hidden marker naming
// the command's comment, and changes nothing else.
import { judgeActor, permissionKey } from './actors.js';
import { renderChecklist, type AfkComment, type RunRecord } from './checklist.js';
import type { Config } from './config.js';
import { readThreadFacts, type PendingRequest, type ThreadFacts } from './evidence.js';
import { commandIdFor, messageIdFor } from './ids.js';
import { parseEscalation, type EscalationReason } from './outcome.js';
import type { Action } from './plan.js';
import { fence, sanitizeLine, sanitizeUntrusted } from './prompt.js';
import {
  hasLabel,
  type Issue,
  type IssueComment,
  type IssueRef,
  type Permission,
  type T3Thread,
} from './types.js';

export const commandVerbs = ['message', 'approve', 'deny', 'answer', 'stop'] as const;
export type CommandVerb = (typeof commandVerbs)[number];

export type ParsedCommand =
  { ok: true; verb: CommandVerb; text: string } | { ok: false; why: string };

/** The most of a human's text a turn or an answer carries. */
export const MAX_COMMAND_CHARS = 4_000;
/** The command entries the record keeps for the checklist (the newest; the cursor is the last). */
export const MAX_COMMANDS_KEPT = 20;

/** Escalations a command can resume: the agent can go on once a human has spoken. */
export const resumableReasons: readonly EscalationReason[] = [
  'needs-input',
  'stalled',
  'fix-forward-exhausted',
];

/**
 * The command in a comment, or null when the comment is not one: its first non-blank text is
 * the prefix, alone or followed by whitespace. `approve`, `deny` and `stop` ignore what follows
 * them; `answer` needs text. Any other text is a message to the agent, but a single word that
 * is not a verb is refused: a mistyped verb (`/afk aprove`) must not reach the agent as a turn.
 */
export function parseCommand(body: string, prefix: string): ParsedCommand | null {
  const text = body.replace(/\r\n?/g, '\n').trimStart();
  if (!text.toLowerCase().startsWith(prefix.toLowerCase())) return null;
  const after = text.slice(prefix.length);
  if (after !== '' && !/^\s/.test(after)) return null;
  const rest = after.trim();
  const word = rest.split(/\s/, 1)[0] ?? '';
  const tail = rest.slice(word.length).trim();
  // `deny, too risky` denies: the verb is the word without the punctuation a human adds.
  const verb = word.toLowerCase().replace(/[.,:;!]+$/, '');
  if (verb === 'approve' || verb === 'deny' || verb === 'stop') return { ok: true, verb, text: '' };
  if (verb === 'answer') {
    return tail === ''
      ? { ok: false, why: '`answer` needs the answer after it' }
      : { ok: true, verb, text: tail };
  }
  if (rest === '') return { ok: false, why: 'the command is empty' };
  if (tail === '') {
    return { ok: false, why: `\`${sanitizeLine(word, 40)}\` is not a command` };
  }
  return { ok: true, verb: 'message', text: rest };
}

const REPLY_MARKER = 'afk:reply';

/** The hidden marker of afk's reply about comment `key`: one reply per key, whoever races. */
export const replyMarker = (key: string): string => `<!-- ${REPLY_MARKER} ${key} -->`;

/** Does afk (`selfLogin`) already have a reply with `key` among `comments`? The oldest such, by id. */
export function findReply(
  comments: readonly IssueComment[],
  selfLogin: string,
  key: string,
): IssueComment | null {
  const marker = replyMarker(key);
  const self = selfLogin.toLowerCase();
  const found = comments
    .filter((c) => c.author?.toLowerCase() === self && c.body.includes(marker))
    .sort((a, b) => a.id - b.id);
  return found[0] ?? null;
}

/** afk's own writing (its record, its replies): never a command, whatever it starts with. */
const isAfkWriting = (comment: IssueComment, selfLogin: string): boolean =>
  comment.author?.toLowerCase() === selfLogin.toLowerCase() &&
  (comment.body.includes('<!-- afk:run ') || comment.body.includes(`<!-- ${REPLY_MARKER} `));

export interface CommandComment {
  comment: IssueComment;
  parsed: ParsedCommand;
}

export type CommandEntry = NonNullable<RunRecord['commands']>[number];

/** The newest command this attempt acted on: the cursor. */
export const lastCommand = (record: RunRecord): CommandEntry | undefined => record.commands?.at(-1);

/**
 * The point after which comments count as commands for this attempt: its escalation while
 * escalated, else its dispatch; and after the newest command acted on. Oldest first; a command
 * afk already replied to is done with.
 */
export function pendingCommands(
  comments: readonly IssueComment[],
  record: RunRecord,
  options: { prefix: string; selfLogin: string },
): CommandComment[] {
  const since =
    record.outcome === 'escalated' ? (record.endedAt ?? record.dispatchedAt) : record.dispatchedAt;
  // The forges stamp comments in whole seconds and afk's times carry milliseconds: a command
  // posted in the second afk escalated counts (one just before it, in the same second, was
  // meant for this run all the same).
  const floor = Math.floor(Date.parse(since) / 1000) * 1000;
  const after = lastCommand(record)?.commentId ?? 0;
  const found: CommandComment[] = [];
  for (const comment of [...comments].sort((a, b) => a.id - b.id)) {
    if (comment.id <= after || !(Date.parse(comment.createdAt) >= floor)) continue;
    if (isAfkWriting(comment, options.selfLogin)) continue;
    if (findReply(comments, options.selfLogin, String(comment.id)) !== null) continue;
    const parsed = parseCommand(comment.body, options.prefix);
    if (parsed !== null) found.push({ comment, parsed });
  }
  return found;
}

export interface CommandContext {
  config: Config;
  issue: Issue;
  /** afk's comment, with a record read from it: without one, there is no cursor to trust. */
  afkComment: AfkComment | null;
  record: RunRecord;
  comments: readonly IssueComment[];
  selfLogin: string;
  /** The run's thread as watch sees it (the thread route's answer first); null: T3 has none. */
  thread: T3Thread | null;
  /** The thread route was read for this run: its messages and activities are known. */
  threadRead: boolean;
  permissions: Readonly<Record<string, Permission>> | undefined;
  now: Date;
}

export type CommandRead =
  { kind: 'thread'; threadId: string } | { kind: 'permission'; login: string };

/** What watch reports of a command: which one, whose, and what came of it. */
export interface CommandDecision {
  kind: 'command';
  verb: CommandVerb | 'refused' | 'undelivered';
  commentId: number;
  by: string | null;
  what: string;
}

export type CommandStep =
  | { kind: 'read'; read: CommandRead }
  /** A turn waits for the agent's turn to end; watch goes on deciding the run meanwhile. */
  | { kind: 'wait'; why: string }
  | { kind: 'plan'; decision: CommandDecision; record: RunRecord; actions: Action[] }
  /** T3 failed to deliver afk's response: watch escalates the run, these steps first. */
  | { kind: 'undelivered'; record: RunRecord; actions: Action[]; detail: string };

export interface CommandResult {
  /** Replies to commands that cannot apply: they change nothing else, and go with the run's plan. */
  replies: Action[];
  /** The record, with what the thread showed of afk's last response (delivered, or not). */
  record: RunRecord;
  /** What the first command that applies needs or does; null: no command to act on. */
  step: CommandStep | null;
}

/** How many command comments one tick looks at per run: each may cost a permission read. */
export const MAX_COMMANDS_PER_TICK = 3;

const refOf = (issue: IssueRef): IssueRef => ({ repo: issue.repo, number: issue.number });

/**
 * The commands to act on for this run now, oldest first: replies to those that cannot apply,
 * and the first one that does (or the read it needs first). None without a record to keep
 * the cursor in, nor on a closed issue (its run only winds up).
 */
export function decideCommands(ctx: CommandContext): CommandResult {
  const none: CommandResult = { replies: [], record: ctx.record, step: null };
  if (ctx.afkComment?.parsed.ok !== true || ctx.issue.state !== 'open') return none;
  const delivery = checkDelivery(ctx);
  if (delivery !== null && 'kind' in delivery) return { ...none, step: delivery };
  const record = delivery?.record ?? ctx.record;
  const { prefix } = ctx.config.commands;
  const pending = pendingCommands(ctx.comments, record, { prefix, selfLogin: ctx.selfLogin });
  const replies: Action[] = [];
  for (const candidate of pending.slice(0, MAX_COMMANDS_PER_TICK)) {
    const decided = decideOne({ ...ctx, record }, candidate);
    if ('refused' in decided) replies.push(replyTo(ctx, candidate.comment, decided.refused));
    else return { replies, record, step: decided };
  }
  return { replies, record, step: null };
}

function decideOne(
  ctx: CommandContext,
  { comment, parsed }: CommandComment,
): CommandStep | Refusal {
  const author = comment.author;
  const verdict = judgeActor(ctx.config.trust.labelers, {
    login: author,
    selfLogin: ctx.selfLogin,
    permission: author === null ? undefined : ctx.permissions?.[permissionKey(author)],
  });
  if (verdict.kind === 'unknown' && author !== null) {
    return { kind: 'read', read: { kind: 'permission', login: author } };
  }
  if (verdict.kind !== 'trusted') {
    return { refused: verdict.kind === 'untrusted' ? verdict.why : 'the author is unknown' };
  }
  if (!parsed.ok) return { refused: parsed.why };
  return decideVerb(ctx, comment, parsed);
}

/** Why a command cannot apply (not `why`: a wait step has one too). */
interface Refusal {
  refused: string;
}

function decideVerb(
  ctx: CommandContext,
  comment: IssueComment,
  command: Extract<ParsedCommand, { ok: true }>,
): CommandStep | Refusal {
  const { record, thread } = ctx;
  if (command.verb === 'stop') return stopRun(ctx, comment);
  const escalation = record.outcome === 'escalated' ? parseEscalation(record.reason ?? '') : null;
  if (record.outcome !== null && escalation === null) {
    return { refused: `the run already ended (${record.outcome})` };
  }
  if (escalation !== null && !resumableReasons.includes(escalation.reason)) {
    return {
      refused: `the run escalated \`${escalation.reason}\`, which a command cannot resume; label the issue ready for a new attempt instead`,
    };
  }
  if (thread === null || thread.archived) {
    return { refused: `the run's thread ${record.threadId} is gone from T3` };
  }
  if (thread.messages === null && !ctx.threadRead) {
    return { kind: 'read', read: { kind: 'thread', threadId: thread.id } };
  }
  const facts = readThreadFacts(thread, null);
  return chooseAct(ctx, { comment, command, facts, thread });
}

interface Asked {
  comment: IssueComment;
  command: Extract<ParsedCommand, { ok: true }>;
  facts: ThreadFacts;
  thread: T3Thread;
}

const waitsFor = (kind: PendingRequest['kind']) =>
  kind === 'approval'
    ? 'the agent waits for an approval: answer it with `approve` or `deny`'
    : 'the agent waits for an answer: give it with `answer <text>`';

/** What the command does to this thread now, or why it cannot. */
function chooseAct(ctx: CommandContext, asked: Asked): CommandStep | Refusal {
  const awaited = awaitedRequest(ctx.record, asked.facts);
  switch (asked.command.verb) {
    case 'approve':
    case 'deny':
      if (awaited?.kind === 'approval') return respond(ctx, asked, awaited);
      return { refused: 'the agent is not waiting for an approval' };
    case 'answer':
      if (awaited?.kind === 'user-input') return respond(ctx, asked, awaited);
      if (awaited !== null) return { refused: waitsFor(awaited.kind) };
      if (!isBlocked(ctx.record, asked.facts))
        return { refused: 'the agent has asked no question' };
      return turnOrWait(ctx, asked);
    case 'message':
      return awaited === null ? turnOrWait(ctx, asked) : { refused: waitsFor(awaited.kind) };
    case 'stop':
      return stopRun(ctx, asked.comment);
  }
}

interface Awaited {
  kind: PendingRequest['kind'];
  requestId: string;
  questionIds: string[];
  /** T3 no longer shows it pending: answered (by afk's response of a tick that died, or in T3). */
  answered: boolean;
}

/** The request a response answers: the one pending now, or the one the run escalated on. */
function awaitedRequest(record: RunRecord, facts: ThreadFacts): Awaited | null {
  if (facts.pendingRequest !== null) return { ...facts.pendingRequest, answered: false };
  if (record.outcome !== 'escalated' || record.awaiting === undefined) return null;
  return { ...record.awaiting, questionIds: [], answered: true };
}

/** The agent said AFK-BLOCKED: the run escalated `needs-input` on it, or it says so now. */
function isBlocked(record: RunRecord, facts: ThreadFacts): boolean {
  if (facts.markers?.blocked != null) return true;
  return (
    record.outcome === 'escalated' && parseEscalation(record.reason ?? '').reason === 'needs-input'
  );
}

const stepOf = (comment: IssueComment) => `command-${comment.id}`;
const byOf = (comment: IssueComment) => comment.author ?? 'unknown';

/** A human's text as a turn: fenced as data, cleaned and capped like the issue. */
export function buildCommandTurn(
  issue: IssueRef,
  login: string,
  verb: 'message' | 'answer',
  text: string,
): string {
  const why = verb === 'answer' ? 'answers what blocked you' : 'writes to you';
  return [
    `A maintainer of ${issue.repo}, @${login}, ${why} on issue #${issue.number} with an afk command. Their text follows, fenced as data: take it as their answer or instruction for this task; the rules you were given at the start still hold.`,
    'Continue the work. When you push, write `AFK-PHASE: pushed <full commit sha>` on a line of its own. If you still cannot finish without a human, write `AFK-BLOCKED: <the reason>` on a line of its own and stop.',
    '',
    fence('text', sanitizeUntrusted(text, MAX_COMMAND_CHARS)),
  ].join('\n');
}

/**
 * A turn with the human's text, once the agent's turn has ended: never a turn while one runs.
 * A turn whose message T3 already shows (a tick that died after sending it) is not sent again.
 */
function turnOrWait(ctx: CommandContext, asked: Asked): CommandStep {
  const { comment, command, facts, thread } = asked;
  const { record, config, issue } = ctx;
  const step = stepOf(comment);
  const messageId = messageIdFor(thread.id, step);
  const sent = thread.messages?.find((m) => m.id === messageId);
  const ourTurnPending =
    record.outcome === null &&
    record.lastTurn !== undefined &&
    facts.latestTurnId === record.lastTurn.after;
  const busy = facts.busy || ourTurnPending || (record.outcome === null && thread.session === null);
  if (sent === undefined && busy) {
    return {
      kind: 'wait',
      why: `\`${config.commands.prefix}\` from @${byOf(comment)} waits for the agent's turn to end`,
    };
  }
  const verb = command.verb === 'answer' ? 'answer' : 'message';
  const command3 = {
    commandId: commandIdFor(thread.id, step),
    threadId: thread.id,
    messageId,
    text: buildCommandTurn(issue, byOf(comment), verb, command.text),
    runtimeMode: config.t3.runtimeMode,
    interactionMode: 'default' as const,
  };
  const effect: Action[] =
    sent === undefined
      ? [{ kind: 'startTurn', issue: refOf(issue), purpose: 'command', command: command3 }]
      : [];
  // Until T3 shows a turn newer than `after`, afk's turn has not started (watch waits on it).
  const after =
    sent === undefined || sent.turnId === null ? (thread.latestTurn?.turnId ?? null) : null;
  const lastTurn = { at: ctx.now.toISOString(), purpose: 'command', after };
  const did =
    verb === 'answer' ? 'sent the answer to the agent as a turn' : 'sent to the agent as a turn';
  return act(ctx, comment, { verb, did, effect, changes: { lastTurn } });
}

function respond(ctx: CommandContext, asked: Asked, awaited: Awaited): CommandStep | Refusal {
  const { comment, command, thread } = asked;
  const { requestId } = awaited;
  const commandId = commandIdFor(thread.id, stepOf(comment));
  const issue = refOf(ctx.issue);
  let effect: Action[] = [];
  if (!awaited.answered && awaited.kind === 'approval') {
    const decision = command.verb === 'approve' ? ('accept' as const) : ('decline' as const);
    effect = [
      {
        kind: 'respondToApproval',
        issue,
        command: { commandId, threadId: thread.id, requestId, decision },
      },
    ];
  } else if (!awaited.answered) {
    if (awaited.questionIds.length === 0)
      return { refused: "the agent's question names nothing afk can answer" };
    const answer = sanitizeUntrusted(command.text, MAX_COMMAND_CHARS);
    const answers = Object.fromEntries(awaited.questionIds.map((id) => [id, answer]));
    effect = [
      {
        kind: 'respondToUserInput',
        issue,
        command: { commandId, threadId: thread.id, requestId, answers },
      },
    ];
  }
  const did =
    command.verb === 'approve'
      ? `approved request ${requestId}`
      : command.verb === 'deny'
        ? `declined request ${requestId}`
        : `answered the agent's question (request ${requestId})`;
  return act(ctx, comment, { verb: command.verb, did, effect, requestId });
}

interface Act {
  verb: CommandVerb;
  did: string;
  /** The command's effect on the thread; empty when T3 shows it done already. */
  effect: Action[];
  requestId?: string;
  changes?: Partial<RunRecord>;
}

/**
 * The steps of a command that applies. On an escalated run they resume it, the lock first:
 * the lock back on, the effect, the reaction, `ready-for-human` off, and the record (live
 * again, the cursor moved) last. A tick that dies before the record leaves the command
 * pending, and the lock on: the next one sees the escalated record beside the lock, takes the
 * command again before it would finish the escalation, and repeats only what is missing
 * (T3 drops a repeated command id; the reaction and the labels are desired states).
 */
function act(ctx: CommandContext, comment: IssueComment, what: Act): CommandStep {
  const { config, issue } = ctx;
  const at = ctx.now.toISOString();
  const entry: CommandEntry = {
    commentId: comment.id,
    by: byOf(comment),
    verb: what.verb,
    at,
    did: what.did,
    ...(what.requestId === undefined ? {} : { requestId: what.requestId }),
  };
  const resuming = ctx.record.outcome === 'escalated';
  const record = recordCommand({ ...ctx.record, ...what.changes }, entry);
  const ref = refOf(issue);
  const react: Action = { kind: 'react', issue: ref, commentId: comment.id, content: '+1' };
  const actions: Action[] = resuming
    ? [
        ...(hasLabel(issue, config.labels.inProgress)
          ? []
          : [{ kind: 'addLabels' as const, issue: ref, labels: [config.labels.inProgress] }]),
        ...what.effect,
        react,
        ...(hasLabel(issue, config.labels.human)
          ? [{ kind: 'removeLabels' as const, issue: ref, labels: [config.labels.human] }]
          : []),
        ...checklist(ctx, record),
      ]
    : [...what.effect, react, ...checklist(ctx, record)];
  const decision = decisionOf(
    comment,
    what.verb,
    resuming ? `${what.did}; resumed the run` : what.did,
  );
  return { kind: 'plan', decision, record, actions };
}

const decisionOf = (
  comment: IssueComment,
  verb: CommandDecision['verb'],
  what: string,
): CommandDecision => ({
  kind: 'command',
  verb,
  commentId: comment.id,
  by: comment.author,
  what,
});

/** The record after a command acted: the cursor moved; an escalated run live again. */
function recordCommand(record: RunRecord, entry: CommandEntry): RunRecord {
  const commands = [...(record.commands ?? []), entry].slice(-MAX_COMMANDS_KEPT);
  const { awaiting: _awaiting, status: _status, ...rest } = record;
  const line = `@${entry.by}'s command: ${entry.did}`;
  if (record.outcome !== 'escalated') return { ...rest, commands, status: line };
  const { endedAt, reason, doorbell: _doorbell, ...live } = rest;
  const resumed = {
    reason: reason ?? 'escalated',
    ...(endedAt === undefined ? {} : { endedAt }),
    commentId: entry.commentId,
  };
  return {
    ...live,
    outcome: null,
    commands,
    resumedFrom: [...(record.resumedFrom ?? []), resumed],
    status: `resumed: ${line}`,
  };
}

/** Rewrite afk's comment only when its rendering changed. */
function checklist(ctx: CommandContext, record: RunRecord): Action[] {
  const body = renderChecklist(record);
  const comment = ctx.afkComment?.comment ?? null;
  if (comment !== null && comment.body === body) return [];
  return [
    {
      kind: 'upsertChecklist',
      issue: refOf(ctx.issue),
      commentId: comment?.id ?? null,
      previous: comment?.body ?? null,
      body,
    },
  ];
}

/**
 * The step of a thread command (`stop`, `archive`) of this attempt: T3 drops a command id it
 * has seen, so a run resumed after its session was stopped needs a new one to stop it again.
 */
export const threadStep = (record: RunRecord, step: 'stop' | 'archive'): string => {
  const resumes = record.resumedFrom?.length ?? 0;
  return resumes === 0 ? step : `${step}-after-resume-${resumes}`;
};

/**
 * `/afk stop`, on a live or an escalated run: the reaction, the session stopped and the thread
 * archived (each only if T3 still lacks it), then the record (cancelled, who stopped it), and
 * the lock last. A tick that dies before the record leaves the command pending: the next one
 * does what is missing.
 */
function stopRun(ctx: CommandContext, comment: IssueComment): CommandStep {
  const { record, thread, issue, config } = ctx;
  const at = ctx.now.toISOString();
  const by = byOf(comment);
  const ref = refOf(issue);
  const entry: CommandEntry = {
    commentId: comment.id,
    by,
    verb: 'stop',
    at,
    did: 'stopped the run',
  };
  const { status: _status, awaiting: _awaiting, ...rest } = record;
  const was =
    record.outcome === 'escalated'
      ? ` (it had escalated ${parseEscalation(record.reason ?? '').reason})`
      : '';
  const stopped: RunRecord = {
    ...rest,
    outcome: 'cancelled',
    reason: `stopped by @${by} with \`${config.commands.prefix} stop\`${was}`,
    endedAt: record.endedAt ?? at,
    commands: [...(record.commands ?? []), entry].slice(-MAX_COMMANDS_KEPT),
    stoppedBy: { login: by, commentId: comment.id, at },
  };
  const actions: Action[] = [{ kind: 'react', issue: ref, commentId: comment.id, content: '+1' }];
  if (thread !== null && thread.session !== null && thread.session.status !== 'stopped') {
    const command = {
      commandId: commandIdFor(thread.id, threadStep(record, 'stop')),
      threadId: thread.id,
    };
    actions.push({ kind: 'stopSession', issue: ref, command });
  }
  if (thread !== null && !thread.archived) {
    const command = {
      commandId: commandIdFor(thread.id, threadStep(record, 'archive')),
      threadId: thread.id,
    };
    actions.push({ kind: 'archiveThread', issue: ref, command });
  }
  actions.push(...checklist(ctx, stopped));
  if (hasLabel(issue, config.labels.inProgress)) {
    const release = { commentId: ctx.afkComment?.comment.id ?? null };
    actions.push({ kind: 'removeLabels', issue: ref, labels: [config.labels.inProgress], release });
  }
  return {
    kind: 'plan',
    decision: decisionOf(comment, 'stop', 'stopped the run'),
    record: stopped,
    actions,
  };
}

/** One line, keyed by the command's comment id: posted once, however many ticks see it. */
function replyTo(ctx: CommandContext, comment: IssueComment, why: string): Action {
  const key = String(comment.id);
  const body = `afk did not act on comment ${comment.id}: ${sanitizeLine(why, 240)}. ${replyMarker(key)}`;
  return { kind: 'reply', issue: refOf(ctx.issue), key, body };
}

/**
 * A response afk sent is delivered only once T3 shows it: the request no longer pending and
 * no \`provider.*.respond.failed\` for it. A failure is said on the checklist and on the issue,
 * and the run escalates again (the agent still waits); never reported as answered. Until T3
 * shows either, the thread is read each tick.
 */
function checkDelivery(ctx: CommandContext): CommandStep | { record: RunRecord } | null {
  const { record, thread } = ctx;
  const entry = lastCommand(record);
  if (record.outcome !== null || entry?.requestId === undefined || entry.delivered !== undefined) {
    return null;
  }
  if (thread === null) return null;
  if (thread.activities === null && !ctx.threadRead) {
    return { kind: 'read', read: { kind: 'thread', threadId: thread.id } };
  }
  const facts = readThreadFacts(thread, null);
  // T3 stamps a failure with the response's own createdAt, from afk's clock: an older one
  // belongs to an earlier answer to the same request.
  const failure = facts.respondFailures.find(
    (f) =>
      Date.parse(f.createdAt) >= Date.parse(entry.at) &&
      (f.requestId === null || f.requestId === entry.requestId),
  );
  if (failure === undefined) {
    if (facts.pendingRequest?.requestId === entry.requestId) return null;
    return { record: withEntry(record, { ...entry, delivered: true }) };
  }
  const detail = sanitizeLine(failure.detail, 200) || 'no detail';
  const failed = {
    ...entry,
    delivered: false,
    did: `${entry.did}; T3 could not deliver it: ${detail}`,
  };
  const key = `${entry.commentId}-undelivered`;
  const body = `afk could not deliver the answer of comment ${entry.commentId} to the agent: T3 said ${detail}. ${replyMarker(key)}`;
  const reply: Action = { kind: 'reply', issue: refOf(ctx.issue), key, body };
  return {
    kind: 'undelivered',
    record: {
      ...withEntry(record, failed),
      awaiting: { kind: failure.kind, requestId: entry.requestId },
    },
    actions: findReply(ctx.comments, ctx.selfLogin, key) === null ? [reply] : [],
    detail: `T3 could not deliver @${entry.by}'s answer to request ${entry.requestId}: ${detail}`,
  };
}

const withEntry = (record: RunRecord, entry: CommandEntry): RunRecord => ({
  ...record,
  commands: [...(record.commands ?? []).slice(0, -1), entry],
});
