// Watch's decisions for one live run. `watchRun` is pure: from the issue, afk's comment, the
// T3 snapshot, the evidence read so far and `now`, it either asks for one more read (only
// what the decision actually reaches, so a tick reads little) or returns the decision and the
// plan that carries it out. Every plan is desired-minus-observed, so a tick that died between
// two steps is finished by the next one, and nothing that already happened happens twice.
import {
  attemptFor,
  newRunRecord,
  renderChecklist,
  type AfkComment,
  type RunRecord,
} from './checklist.js';
import { decideCommands, threadStep, type CommandDecision } from './commands.js';
import type { Config } from './config.js';
import {
  judgeCi,
  readThreadFacts,
  type FailingCheck,
  type PendingRequest,
  type ThreadFacts,
} from './evidence.js';
import { commandIdFor, MAX_ATTEMPT_SCAN, messageIdFor, threadIdFor } from './ids.js';
import {
  endRun,
  readOutcome,
  renderEscalation,
  type Escalation,
  type RunOutcome,
} from './outcome.js';
import { planDuplicateCleanup, type Action } from './plan.js';
import { branchFor, buildContinueTurn, buildFixForwardTurn, sanitizeLine } from './prompt.js';
import {
  decideConflict,
  decideFeedback,
  type ConversationDecision,
  type ConversationInput,
  type ConversationRead,
  type ConversationStep,
} from './review.js';
import {
  hasLabel,
  type CiFacts,
  type CommitPlacement,
  type DeploymentFacts,
  type Issue,
  type IssueComment,
  type IssueRef,
  type Mergeability,
  type Permission,
  type PullRequest,
  type ReviewFeedback,
  type T3Snapshot,
  type T3Thread,
} from './types.js';

export type ReadRequest =
  | { kind: 'thread'; threadId: string }
  | { kind: 'pullRequest'; branch: string }
  | { kind: 'placement'; sha: string }
  | { kind: 'ci'; sha: string }
  | { kind: 'deployment'; sha: string; environment: string }
  /** A login's permission on the run's repo, to judge a reviewer or a `/afk` author. */
  | { kind: 'permission'; login: string }
  /** The pull request's mergeability, and everything its reviewers said. */
  | ConversationRead;

/** What the command read for this run so far, keyed the way `ReadRequest` asks. */
export interface Evidence {
  /** The thread's full detail (thread route), when the snapshot lacked it. */
  thread?: T3Thread | null;
  pullRequest?: PullRequest | null;
  placement?: Readonly<Record<string, CommitPlacement>>;
  ci?: Readonly<Record<string, CiFacts>>;
  deployment?: Readonly<Record<string, DeploymentFacts>>;
  /** Keyed by `permissionKey(login)`. */
  permissions?: Readonly<Record<string, Permission>>;
  mergeability?: Mergeability;
  reviewFeedback?: ReviewFeedback;
}

export type Decision =
  | { kind: 'wait'; why: string }
  | { kind: 'fix-forward'; sha: string; what: 'CI' | 'the deploy'; failing: FailingCheck[] }
  | { kind: 'continue' }
  | ConversationDecision
  | { kind: 'review-requested' }
  | ({ kind: 'escalate' } & Escalation)
  | { kind: 'close' }
  | { kind: 'cancel' }
  | CommandDecision;

export interface WatchInput {
  config: Config;
  /** An issue carrying the in-progress label, open or closed. */
  issue: Issue;
  afkComment: AfkComment | null;
  snapshot: T3Snapshot;
  evidence: Evidence;
  now: Date;
  /**
   * Is a doorbell configured? Without one, the doorbell steps are planned as skipped ("no
   * doorbell configured") and nothing is recorded as rung; the escalation goes on.
   */
  doorbell: boolean;
  /**
   * The issue's comments and afk's login, for `/afk` commands; without them none is read.
   * afk's login also tells its own words on the pull request from a reviewer's: without it,
   * no review feedback is read.
   */
  comments?: readonly IssueComment[];
  selfLogin?: string;
}

export type WatchStep =
  | { kind: 'read'; read: ReadRequest }
  | { kind: 'plan'; decision: Decision; record: RunRecord; actions: Action[] };

type FixForwardWhat = Extract<Decision, { kind: 'fix-forward' }>['what'];

/** One run as a decision sees it: the tick's input, afk's record so far, the run's thread. */
interface Run {
  input: WatchInput;
  record: RunRecord;
  thread: T3Thread | null;
}

/** A run whose thread T3 still has: the agent can be waited on and sent a turn. */
interface LiveRun extends Run {
  thread: T3Thread;
}

/**
 * What the phases of a live run's decision read, built once per decision. A phase that
 * verifies something (a push, green CI) records it in `record`, `pr` and `subjectSha` before
 * the next phase runs, so a later step writes everything verified up to it.
 */
interface RunView extends LiveRun {
  readonly facts: ThreadFacts;
  /** `now`, as the record writes it. */
  readonly at: string;
  /** afk's last turn has not started: T3 shows no turn newer than the one it followed. */
  readonly ourTurnPending: boolean;
  record: RunRecord;
  /** The pull request of afk's branch (pull-request delivery), once read. */
  pr: PullRequest | null;
  /** The commit under judgement: the PR head or its merge commit, or the trunk commit. */
  subjectSha: string | null;
  /** Replies to `/afk` commands that cannot apply: they go with whatever the run's plan is. */
  replies: Action[];
  /** Why the "awaiting review" notice must wait (a mergeability not computed yet), or null. */
  held: string | null;
}

/** A step, or null to hand the run to the next phase. */
type Phase = (view: RunView) => WatchStep | null;

const minutesBetween = (from: string, now: Date) => (now.getTime() - Date.parse(from)) / 60_000;

/**
 * The run's record and thread. A record a human deleted or broke is rebuilt from the newest
 * live thread of the issue (ids are derived, so afk can find its own threads).
 */
function locateRun(input: WatchInput): { record: RunRecord | null; thread: T3Thread | null } {
  const threads = new Map(
    input.snapshot.threads.filter((t) => !t.deleted).map((t) => [t.id, t] as const),
  );
  const parsed = input.afkComment?.parsed;
  if (parsed?.ok === true) {
    return { record: parsed.record, thread: threads.get(parsed.record.threadId) ?? null };
  }
  let found: { attempt: number; thread: T3Thread } | null = null;
  for (let attempt = 1; attempt <= MAX_ATTEMPT_SCAN; attempt += 1) {
    const thread = threads.get(threadIdFor(input.issue, attempt));
    if (thread === undefined) break;
    if (!thread.archived) found = { attempt, thread };
  }
  if (found === null) return { record: null, thread: null };
  const dispatchedAt = new Date(Date.parse(found.thread.createdAt)).toISOString();
  return {
    thread: found.thread,
    record: newRunRecord({
      attempt: found.attempt,
      threadId: found.thread.id,
      dispatchedAt,
      phases: { dispatched: dispatchedAt },
    }),
  };
}

export function watchRun(input: WatchInput): WatchStep {
  const step = decide(input);
  if (step.kind === 'read') return step;
  const cleanup = planDuplicateCleanup(input.issue, input.afkComment);
  return cleanup.length === 0 ? step : { ...step, actions: [...cleanup, ...step.actions] };
}

/**
 * A live run's phases, in the order a run moves through them. The deploy, last, always
 * decides. A new situation to handle (review feedback, a merge conflict, a human's answer)
 * is a new phase in this list. The conversation phases come after `decidePush`, which waits
 * while a turn runs: never a turn while a turn runs. A conflict comes before CI: CI on a head
 * that cannot merge says little (GitHub does not even run `pull_request` workflows on it), and
 * the resolution is a new head to judge. A mergeability not computed yet (GitHub's null, on
 * the first read after every push) is no guess either way: no conflict turn, and no "awaiting
 * review" notice until it is known, while CI is judged as usual. Review feedback comes after
 * CI, on a head that stands green (a red one gets its fix-forward first; the feedback waits,
 * handled by id, not by time), and before the notice, which rings only when none is left.
 */
const phases: readonly Phase[] = [
  decideCommand,
  decideThread,
  observePush,
  decidePush,
  conversationPhase(decideConflict),
  decideCi,
  conversationPhase(decideFeedback),
  decideReview,
];

/** The decision for one run, before the cleanup every plan of the issue starts with. */
function decide(input: WatchInput): WatchStep {
  const opened = openRun(input);
  if ('step' in opened) return opened.step;
  for (const phase of phases) {
    const step = phase(opened.view);
    if (step !== null) return withReplies(step, opened.view.replies);
  }
  return withReplies(decideDeploy(opened.view), opened.view.replies);
}

const withReplies = (step: WatchStep, replies: Action[]): WatchStep =>
  step.kind === 'read' || replies.length === 0
    ? step
    : { ...step, actions: [...replies, ...step.actions] };

const commandContext = (input: WatchInput, record: RunRecord, thread: T3Thread | null) => ({
  config: input.config,
  issue: input.issue,
  afkComment: input.afkComment,
  record,
  comments: input.comments ?? [],
  selfLogin: input.selfLogin ?? '',
  thread,
  threadRead: input.evidence.thread !== undefined,
  permissions: input.evidence.permissions,
  now: input.now,
});

/**
 * An escalated run: a trusted human's `/afk` command resumes it (or stops it) before anything
 * finishes the escalation, so a tick that died half-way through a resume, the lock already
 * back on, is finished, not undone. Without the lock (watch reads `ready-for-human` issues for
 * their commands only) nothing else is planned: the run is the humans'.
 */
function decideEscalated(input: WatchInput, record: RunRecord, thread: T3Thread | null) {
  const { replies, step } = decideCommands(commandContext(input, record, thread));
  if (step?.kind === 'read') return { kind: 'read', read: step.read } as const;
  if (step?.kind === 'plan') return withReplies({ ...step, kind: 'plan' }, replies);
  if (hasLabel(input.issue, input.config.labels.inProgress)) {
    const ending = readOutcome(record);
    return ending === null ? null : withReplies(finish({ input, record, thread }, ending), replies);
  }
  const why = step?.kind === 'wait' ? step.why : 'escalated: waits for a human';
  return { kind: 'plan', decision: { kind: 'wait', why }, record, actions: replies } as const;
}

/** A trusted human's `/afk` command on a live run: it comes first, and waits for idle to send a turn. */
function decideCommand(view: RunView): WatchStep | null {
  const { replies, record, step } = decideCommands(
    commandContext(view.input, view.record, view.thread),
  );
  view.record = record;
  view.replies = replies;
  switch (step?.kind) {
    case undefined:
      return null;
    case 'read':
      return step;
    case 'wait':
      return waitOnAgent(view, step.why);
    case 'plan':
      return step;
    case 'undelivered': {
      const escalation = { reason: 'needs-input', detail: step.detail } as const;
      const escalated = escalate({ ...view, record: step.record, ...escalation });
      return withReplies(escalated, step.actions);
    }
  }
}

/**
 * The live run the phases decide on, or the step that comes before any phase: no run, a run
 * that already ended (a dead tick's ending to resume), a thread gone, a slim thread to read.
 */
function openRun(input: WatchInput): { step: WatchStep } | { view: RunView } {
  const located = locateRun(input);
  if (located.record === null) {
    const attempt = attemptFor(null);
    const record = newRunRecord({
      attempt,
      threadId: threadIdFor(input.issue, attempt),
      dispatchedAt: input.now.toISOString(),
    });
    const detail = 'the issue holds the lock but afk has no run for it';
    return { step: escalate({ input, record, thread: null, reason: 'thread-missing', detail }) };
  }
  const { record } = located;
  // The thread route's answer wins over the snapshot's row; null there means T3 has no such thread.
  const thread = input.evidence.thread !== undefined ? input.evidence.thread : located.thread;
  const ending = readOutcome(record);
  if (ending?.outcome === 'escalated') {
    const step = decideEscalated(input, record, thread);
    if (step !== null) return { step };
  }
  if (ending !== null) return { step: finish({ input, record, thread }, ending) };
  if (thread === null || thread.archived) {
    const stopping = decideStopOnGoneThread(input, record, thread);
    if (stopping !== null) return { step: stopping };
    const detail =
      thread === null
        ? `thread ${record.threadId} is not in T3 (deleted, or never created)`
        : `thread ${record.threadId} was archived in T3`;
    return { step: escalate({ input, record, thread, reason: 'thread-missing', detail }) };
  }
  // Slim snapshots (T3 v0.0.32+) carry no messages or activities: read the thread, unless it
  // is idle and afk already read its latest turn.
  if (thread.messages === null && input.evidence.thread === undefined) {
    const facts = readThreadFacts(thread, null);
    if (!(facts.idle && facts.latestTurnId !== null && facts.latestTurnId === record.turnSeen)) {
      return { step: { kind: 'read', read: { kind: 'thread', threadId: thread.id } } };
    }
  }
  return { view: viewRun(input, record, thread) };
}

/**
 * A `/afk stop` whose tick died after archiving the thread finds the thread gone: it is
 * finished (record, lock off), not taken for a thread a human removed. Any other command
 * needs the thread, and the run escalates `thread-missing`.
 */
function decideStopOnGoneThread(
  input: WatchInput,
  record: RunRecord,
  thread: T3Thread | null,
): WatchStep | null {
  const { replies, step } = decideCommands(commandContext(input, record, thread));
  if (step?.kind === 'read') return { kind: 'read', read: step.read };
  if (step?.kind !== 'plan' || step.decision.verb !== 'stop') return null;
  return withReplies({ ...step, kind: 'plan' }, replies);
}

function viewRun(input: WatchInput, record: RunRecord, thread: T3Thread): RunView {
  const at = input.now.toISOString();
  const latestUser = thread.messages?.filter((m) => m.role === 'user').at(-1)?.createdAt ?? null;
  const facts = readThreadFacts(thread, latestUser ?? record.lastTurn?.at ?? record.dispatchedAt);
  const observed = observeThread(record, facts, at);
  const ourTurnPending =
    observed.lastTurn !== undefined && facts.latestTurnId === observed.lastTurn.after;
  const view = { input, thread, facts, at, ourTurnPending, record: observed };
  return { ...view, pr: null, subjectSha: null, replies: [], held: null };
}

/** The agent's own word: an error, a question, a blocker, or a spent token budget. */
function decideThread(view: RunView): WatchStep | null {
  const escalation = threadEscalation(view);
  if (escalation === null) return null;
  // The request it waits on is kept, and so is the session: the answer needs a live one.
  const pending = view.facts.pendingRequest;
  const awaiting =
    escalation.reason === 'needs-input' && pending !== null
      ? { kind: pending.kind, requestId: pending.requestId }
      : undefined;
  const record = awaiting === undefined ? view.record : { ...view.record, awaiting };
  return escalate({ ...view, record, ...escalation });
}

/**
 * A pending request as the human who answers it reads it, on the checklist and in the
 * doorbell, maybe on a phone: what the agent asks, and what to type on the issue.
 */
function describeRequest(request: PendingRequest, config: Config): string {
  const prefix = config.commands.prefix;
  const [what, how] =
    request.kind === 'approval'
      ? ['an approval', `\`${prefix} approve\` or \`${prefix} deny\``]
      : ['an answer', `\`${prefix} answer <text>\``];
  const asked = request.detail === '' ? '' : `: ${request.detail}`;
  return `the agent waits for ${what} (request ${request.requestId})${asked}; reply on the issue with ${how}`;
}

function threadEscalation({ facts, record, input, ourTurnPending }: RunView): Escalation | null {
  if (facts.error !== null) return { reason: 'agent-error', detail: facts.error };
  if (facts.pendingRequest !== null) {
    return { reason: 'needs-input', detail: describeRequest(facts.pendingRequest, input.config) };
  }
  if (facts.markers?.blocked != null && !ourTurnPending) {
    return { reason: 'needs-input', detail: `the agent is blocked: ${facts.markers.blocked}` };
  }
  const budget = input.config.watch.maxTokensPerRun;
  if (budget !== null && (record.tokensUsed ?? 0) > budget) {
    const detail = `${record.tokensUsed} tokens used, over the budget of ${budget}`;
    return { reason: 'token-budget', detail };
  }
  return null;
}

/**
 * What was pushed: the pull request of afk's branch, or the commit the agent reported, once
 * it is on the default branch. Reads and records it; decides nothing.
 */
function observePush(view: RunView): WatchStep | null {
  const { config, evidence, issue } = view.input;
  if (config.delivery.mode === 'pull-request') {
    const pr = evidence.pullRequest;
    if (pr === undefined) {
      return {
        kind: 'read',
        read: { kind: 'pullRequest', branch: branchFor(config, issue.number) },
      };
    }
    view.pr = pr;
    if (pr !== null) {
      view.record = withPhase({ ...view.record, pullRequest: pr.number }, 'pushed', view.at);
      view.subjectSha = pr.merged ? pr.mergeCommitSha : pr.headSha;
    }
    return null;
  }
  const reported = view.facts.markers?.pushedSha ?? view.record.subject?.sha ?? null;
  if (reported === null) return null;
  const verified = view.record.phases.pushed !== undefined && view.record.subject?.sha === reported;
  const placement = verified ? 'on-default-branch' : evidence.placement?.[reported];
  if (placement === undefined) return { kind: 'read', read: { kind: 'placement', sha: reported } };
  if (placement === 'on-default-branch') {
    view.subjectSha = reported;
    view.record = withPhase(view.record, 'pushed', view.at);
  }
  return null;
}

/** Before any verdict on the push: an issue closed under the run, a busy agent, no push. */
function decidePush(view: RunView): WatchStep | null {
  const { input, pr, subjectSha } = view;
  const delivered =
    pr?.merged === true || (input.config.delivery.mode === 'trunk' && subjectSha !== null);
  if (input.issue.state === 'closed' && !delivered) return cancel(view);
  const busy = view.facts.busy || view.ourTurnPending || view.thread.session === null;
  if (busy) return waitOnAgent(view, 'the agent is working');
  if (pr !== null && pr.state === 'closed' && !pr.merged) {
    const detail = `pull request #${pr.number} was closed without merging`;
    return escalate({ ...view, reason: 'needs-input', detail });
  }
  if (subjectSha === null) return nudgeOrStall(view);
  view.record = withSubject(view.record, subjectSha, view.at);
  return null;
}

/** The commit under judgement: every phase after `decidePush` has one. */
function subjectOf(view: RunView): string {
  if (view.subjectSha === null) throw new Error('watch: a phase after the push ran without one');
  return view.subjectSha;
}

const deployContextOf = (config: Config): string | null =>
  config.deploy.kind === 'commit-status' ? config.deploy.context : null;

/** CI on the commit under judgement (the PR head, then the merge commit; or the trunk commit). */
function decideCi(view: RunView): WatchStep | null {
  const { input, at } = view;
  const sha = subjectOf(view);
  if (view.record.ciGreen?.sha === sha) return null;
  const ci = input.evidence.ci?.[sha];
  if (ci === undefined) return { kind: 'read', read: { kind: 'ci', sha } };
  const { verdict, failing } = judgeCi(ci, deployContextOf(input.config));
  if (verdict === 'failure') return fixForwardOrEscalate(view, { sha, what: 'CI', failing });
  if (verdict === 'none' && view.pr?.merged === true) {
    const head = standHeadCi(view, view.pr);
    if (head.kind === 'read') return head;
    if (head.record !== null) {
      view.record = head.record;
      return null;
    }
  }
  if (verdict !== 'success') return waitForCi(view, sha, verdict);
  view.record = withPhase({ ...view.record, ciGreen: { sha, at } }, 'ci', at);
  return null;
}

function waitForCi(view: RunView, sha: string, verdict: string): WatchStep {
  const { config, now } = view.input;
  const since = view.record.subject?.since ?? view.at;
  if (minutesBetween(since, now) >= config.watch.ciTimeoutMinutes) {
    const what = verdict === 'none' ? 'no CI reported' : `CI ${verdict}`;
    const detail = `${what} on ${sha} for over ${config.watch.ciTimeoutMinutes} minutes`;
    return escalate({ ...view, reason: 'ci-timeout', detail });
  }
  return wait(view, `CI ${verdict === 'none' ? 'has not started' : verdict} on ${short(sha)}`);
}

/**
 * A merged PR whose merge commit has no CI at all: the PR head's green CI (what branch
 * protection required before the merge) stands, because a repository whose CI runs only on
 * pull requests never reports on the merge commit, and waiting for it would only end in
 * `ci-timeout`. Any CI on the merge commit, even pending, is judged instead (the caller
 * only asks when there is none). The head's verdict is usually in the record already (afk
 * saw it green before the merge); a PR merged before afk saw its head green costs one read,
 * and a head that is not green does not stand: the run waits for CI as before.
 * "None" means none at the time of the decision, made afresh at each tick: CI that starts on
 * the merge commit later gates the run from then on (while a deploy is awaited), but CI that
 * has not started yet at the first tick after the merge is not waited for. README: an
 * operator who wants the default branch's CI to gate the close uses `deploy.kind:
 * commit-status` with that CI's context.
 */
function standHeadCi(
  view: RunView,
  pr: PullRequest,
): { kind: 'read'; read: ReadRequest } | { kind: 'judged'; record: RunRecord | null } {
  const { record, input, at } = view;
  if (record.ciGreen?.sha === pr.headSha) return { kind: 'judged', record };
  const ci = input.evidence.ci?.[pr.headSha];
  if (ci === undefined) return { kind: 'read', read: { kind: 'ci', sha: pr.headSha } };
  if (judgeCi(ci, deployContextOf(input.config)).verdict !== 'success') {
    return { kind: 'judged', record: null };
  }
  return {
    kind: 'judged',
    record: withPhase({ ...record, ciGreen: { sha: pr.headSha, at } }, 'ci', at),
  };
}

/**
 * Green and waiting for people: not a stall. The doorbell rings once as a notice, once per
 * review round (a round's turn clears the marks).
 */
function decideReview(view: RunView): WatchStep | null {
  const { pr, record } = view;
  if (pr === null || pr.merged) return null;
  if (view.held !== null) return wait(view, view.held);
  if (record.reviewNotifiedAt === undefined && record.reviewNoticeSkippedAt === undefined) {
    return reviewRequested(view, pr);
  }
  const ignored = (record.reviewIgnored ?? []).map((i) => i.login);
  const note =
    ignored.length === 0 ? '' : `; ignored feedback from ${ignored.join(', ')} (not trusted)`;
  return wait(view, `awaiting review of pull request #${pr.number}${note}`);
}

/**
 * A conversation phase (review.ts) on afk's open pull request, its answer made a step. A
 * merged or closed pull request has nothing left to talk about, and trunk mode has none.
 */
function conversationPhase(decide: (input: ConversationInput) => ConversationStep): Phase {
  return (view) => {
    const { pr, input } = view;
    if (pr === null || pr.merged || pr.state !== 'open') return null;
    const step = decide({
      config: input.config,
      issue: input.issue,
      pr,
      record: view.record,
      thread: view.thread,
      selfLogin: input.selfLogin ?? null,
      mergeability: input.evidence.mergeability,
      reviewFeedback: input.evidence.reviewFeedback,
      permissions: input.evidence.permissions,
    });
    const run = { ...view, record: 'record' in step ? step.record : view.record };
    switch (step.kind) {
      case 'read':
        return { kind: 'read', read: step.read };
      case 'pass':
      case 'hold':
        view.record = step.record;
        if (step.kind === 'hold') view.held = step.why;
        return null;
      case 'wait':
        return step.onAgent ? waitOnAgent(run, step.why) : wait(run, step.why);
      case 'turn':
        return sendTurn(run, step);
      case 'escalate':
        return escalate({ ...run, reason: step.reason, detail: step.detail });
    }
  };
}

type DeployVerdict = { state: 'success' | 'failure' | 'pending'; failing: FailingCheck[] };

function decideDeploy(view: RunView): WatchStep {
  const { config, now } = view.input;
  const sha = subjectOf(view);
  const verdict = judgeDeploy(view.input, sha);
  if ('read' in verdict) return { kind: 'read', read: verdict.read };
  if (verdict.state === 'success') {
    return close({ ...view, record: withPhase(view.record, 'deployed', view.at) });
  }
  if (verdict.state === 'failure') {
    return fixForwardOrEscalate(view, { sha, what: 'the deploy', failing: verdict.failing });
  }
  // The deploy timer starts when CI stood for this commit: when it went green here, or, for a
  // merge commit standing on its PR head's CI, when afk first saw the merge commit (the head
  // may have gone green long before, while the PR waited for review).
  const { record } = view;
  const since =
    record.ciGreen?.sha === sha ? record.ciGreen.at : (record.subject?.since ?? view.at);
  if (minutesBetween(since, now) >= config.deploy.timeoutMinutes) {
    const detail = `no successful deploy of ${sha} after ${config.deploy.timeoutMinutes} minutes`;
    return escalate({ ...view, reason: 'deploy-failed', detail });
  }
  return wait(view, `waiting for the deploy of ${short(sha)}`);
}

const deployState = (state: string | null | undefined): DeployVerdict['state'] =>
  state === 'success'
    ? 'success'
    : state === 'failure' || state === 'error'
      ? 'failure'
      : 'pending';

/** The deploy of `sha`, by the configured kind, or the read its verdict needs first. */
function judgeDeploy(input: WatchInput, sha: string): DeployVerdict | { read: ReadRequest } {
  const { deploy } = input.config;
  switch (deploy.kind) {
    case 'none':
      return { state: 'success', failing: [] };
    case 'github-deployment': {
      const deployment = input.evidence.deployment?.[sha];
      if (deployment === undefined) {
        return { read: { kind: 'deployment', sha, environment: deploy.environment } };
      }
      const failing = {
        name: `deployment to ${deployment.environment}`,
        conclusion: deployment.state ?? 'failure',
        url: deployment.url,
        summary: null,
      };
      return { state: deployState(deployment.state), failing: [failing] };
    }
    case 'commit-status': {
      const ci = input.evidence.ci?.[sha];
      if (ci === undefined) return { read: { kind: 'ci', sha } };
      const status = ci.statuses.find((s) => s.context === deploy.context);
      const failing = {
        name: deploy.context,
        conclusion: status?.state ?? 'failure',
        url: status?.url ?? null,
        summary: status?.description ?? null,
      };
      return { state: deployState(status?.state), failing: [failing] };
    }
  }
}

const short = (sha: string) => sha.slice(0, 7);

function withPhase(record: RunRecord, phase: keyof RunRecord['phases'], at: string): RunRecord {
  return record.phases[phase] === undefined
    ? { ...record, phases: { ...record.phases, [phase]: at } }
    : record;
}

function withSubject(record: RunRecord, sha: string, at: string): RunRecord {
  return record.subject?.sha === sha ? record : { ...record, subject: { sha, since: at } };
}

function observeThread(record: RunRecord, facts: ThreadFacts, at: string): RunRecord {
  let next = record;
  if (facts.markers?.testsRed === true) next = withPhase(next, 'testsRed', at);
  if (facts.markers?.green === true) next = withPhase(next, 'green', at);
  if (facts.tokensUsed !== null && facts.tokensUsed !== next.tokensUsed) {
    next = { ...next, tokensUsed: facts.tokensUsed };
  }
  if (facts.idle && facts.markers !== null && facts.latestTurnId !== null) {
    next = next.turnSeen === facts.latestTurnId ? next : { ...next, turnSeen: facts.latestTurnId };
  }
  return next;
}

/** When did the run last move: the thread, afk's last turn, or a phase reached. */
function lastProgress(record: RunRecord, thread: T3Thread | null): number {
  const times = [
    record.dispatchedAt,
    record.lastTurn?.at,
    record.commands?.at(-1)?.at,
    thread?.updatedAt,
    ...Object.values(record.phases),
  ].filter((t): t is string => t !== undefined);
  return Math.max(...times.map((t) => Date.parse(t)));
}

function waitOnAgent(run: LiveRun, why: string): WatchStep {
  const stalledFor = (run.input.now.getTime() - lastProgress(run.record, run.thread)) / 60_000;
  if (stalledFor >= run.input.config.watch.stallAfterMinutes) {
    const detail = `no progress for ${Math.floor(stalledFor)} minutes (${why})`;
    return escalate({ ...run, reason: 'stalled', detail });
  }
  return wait(run, why);
}

/** Idle without a push: one "continue" turn from the fix-forward budget, then a human. */
function nudgeOrStall(run: LiveRun): WatchStep {
  const { config, issue } = run.input;
  const { record } = run;
  if (record.continued !== true && record.fixForwards < config.watch.maxFixForwards) {
    const next: RunRecord = { ...record, continued: true, fixForwards: record.fixForwards + 1 };
    return sendTurn(
      { ...run, record: next },
      { decision: { kind: 'continue' }, step: 'continue', text: buildContinueTurn(config, issue) },
    );
  }
  return escalate({
    ...run,
    reason: 'stalled',
    detail: 'the agent stopped without pushing its work',
  });
}

interface Failure {
  sha: string;
  what: FixForwardWhat;
  failing: FailingCheck[];
}

function fixForwardOrEscalate(run: LiveRun, { sha, what, failing }: Failure): WatchStep {
  const { record, input } = run;
  const key = what === 'CI' ? sha : `deploy:${sha}`;
  if ((record.fixForwardShas ?? []).includes(key)) {
    // This commit already got its corrective turn: wait for the agent's next push.
    return waitOnAgent(run, `waiting for a fix of ${what} on ${short(sha)}`);
  }
  if (record.fixForwards >= input.config.watch.maxFixForwards) {
    const names = failing.map((f) => f.name).join(', ');
    const after = `after ${record.fixForwards} fix-forward(s): ${names}`;
    return what === 'CI'
      ? escalate({
          ...run,
          reason: 'fix-forward-exhausted',
          detail: `CI still fails on ${sha} ${after}`,
        })
      : escalate({
          ...run,
          reason: 'deploy-failed',
          detail: `the deploy of ${sha} failed ${after}`,
        });
  }
  const next: RunRecord = {
    ...record,
    fixForwards: record.fixForwards + 1,
    fixForwardShas: [...(record.fixForwardShas ?? []), key],
  };
  return sendTurn(
    { ...run, record: next },
    {
      decision: { kind: 'fix-forward', sha, what, failing },
      step: `fix-forward-${key}`,
      text: buildFixForwardTurn(input.config, input.issue, { what, sha, checks: failing }),
    },
  );
}

interface Turn {
  decision: Extract<Decision, { kind: 'continue' | 'fix-forward' | 'review' | 'conflict' }>;
  /** The turn's place in the run, from which its command and message ids derive. */
  step: string;
  text: string;
  /** The record's line for humans once it is sent, when not a fix-forward's or a nudge's. */
  status?: string;
}

/** A turn first, then the record of it: the turn's command id makes a resend harmless. */
function sendTurn({ input, record, thread }: LiveRun, turn: Turn): WatchStep {
  const { decision, step, text } = turn;
  const at = input.now.toISOString();
  const purpose = decision.kind;
  const next: RunRecord = {
    ...record,
    lastTurn: { at, purpose, after: thread.latestTurn?.turnId ?? null },
    status:
      turn.status ??
      (decision.kind === 'continue'
        ? 'nudged the agent to finish and push'
        : `fix-forward ${record.fixForwards} of ${input.config.watch.maxFixForwards} sent`),
  };
  const command = {
    commandId: commandIdFor(thread.id, step),
    threadId: thread.id,
    messageId: messageIdFor(thread.id, step),
    text,
    runtimeMode: input.config.t3.runtimeMode,
    interactionMode: 'default' as const,
  };
  return {
    kind: 'plan',
    decision,
    record: next,
    actions: [
      { kind: 'startTurn', issue: refOf(input.issue), purpose, command },
      ...checklist(input, next),
    ],
  };
}

const refOf = (issue: IssueRef): IssueRef => ({ repo: issue.repo, number: issue.number });

/** Rewrite afk's comment only when its rendering changed. */
function checklist(input: WatchInput, record: RunRecord): Action[] {
  const body = renderChecklist(record);
  if (input.afkComment !== null && input.afkComment.comment.body === body) return [];
  return [
    {
      kind: 'upsertChecklist',
      issue: refOf(input.issue),
      commentId: input.afkComment?.comment.id ?? null,
      previous: input.afkComment?.comment.body ?? null,
      body,
    },
  ];
}

function wait({ input, record }: Run, why: string): WatchStep {
  const next = record.status === why ? record : { ...record, status: why };
  return {
    kind: 'plan',
    decision: { kind: 'wait', why },
    record: next,
    actions: checklist(input, next),
  };
}

/**
 * The record a rung doorbell leaves: the notify action rewrites afk's comment from `before`
 * (as this plan's checklist write leaves it) to `after`.
 */
const ringRecord = (input: WatchInput, before: RunRecord, after: RunRecord) => ({
  commentId: input.afkComment?.comment.id ?? null,
  before: renderChecklist(before),
  body: renderChecklist(after),
});

function reviewRequested({ input, record }: Run, pr: PullRequest): WatchStep {
  const at = input.now.toISOString();
  const status = `awaiting review of pull request #${pr.number}`;
  const reason = `review requested: CI is green on pull request #${pr.number}`;
  const notice = (shown: RunRecord) =>
    ({
      kind: 'notify',
      issue: refOf(input.issue),
      purpose: 'review-requested',
      message: doorbellMessage(input, shown, reason, pr.url),
    }) as const;
  const decision = { kind: 'review-requested' } as const;
  if (!input.doorbell) {
    // No relabel follows a notice: the record says it had no doorbell, or every tick would
    // plan (and report) it again.
    const skipped: RunRecord = { ...record, status, reviewNoticeSkippedAt: at };
    const actions = [...checklist(input, skipped), { ...notice(skipped), record: null }];
    return { kind: 'plan', decision, record: skipped, actions };
  }
  const before: RunRecord = { ...record, status };
  const after: RunRecord = { ...before, reviewNotifiedAt: at };
  const ring = { ...notice(before), record: ringRecord(input, before, after) };
  return { kind: 'plan', decision, record: after, actions: [...checklist(input, before), ring] };
}

function doorbellMessage(input: WatchInput, record: RunRecord, reason: string, url?: string) {
  const { issue } = input;
  return {
    text: `afk: ${issue.repo}#${issue.number} "${sanitizeLine(issue.title, 120)}": ${reason}`,
    url: url ?? issue.url,
    fields: [
      { label: 'repo', value: issue.repo },
      { label: 'issue', value: `#${issue.number} ${issue.url}` },
      { label: 'reason', value: reason },
      { label: 'attempt', value: String(record.attempt) },
      { label: 'thread', value: record.threadId },
    ],
  };
}

function threadAction(
  { input, thread, record }: Run,
  kind: 'stopSession' | 'archiveThread',
  needed: (thread: T3Thread) => boolean,
): Action[] {
  if (thread === null || !needed(thread)) return [];
  const step = threadStep(record, kind === 'stopSession' ? 'stop' : 'archive');
  const command = { commandId: commandIdFor(thread.id, step), threadId: thread.id };
  return [{ kind, issue: refOf(input.issue), command }];
}

const stopAction = (run: Run) =>
  threadAction(run, 'stopSession', (t) => t.session !== null && t.session.status !== 'stopped');

const archiveAction = (run: Run) => threadAction(run, 'archiveThread', (t) => !t.archived);

/**
 * The lock goes last: everything else the run's end needs comes before it, the release of
 * afk's claim on its comment included (a claim left on a run watch no longer sees would
 * never be cleared).
 */
function unlock(input: WatchInput, add: string[]): Action[] {
  const { issue, config } = input;
  const ref = refOf(issue);
  const actions: Action[] = [];
  const missing = add.filter((label) => !hasLabel(issue, label));
  if (missing.length > 0) actions.push({ kind: 'addLabels', issue: ref, labels: missing });
  if (hasLabel(issue, config.labels.inProgress)) {
    actions.push({
      kind: 'removeLabels',
      issue: ref,
      labels: [config.labels.inProgress],
      release: { commentId: input.afkComment?.comment.id ?? null },
    });
  }
  return actions;
}

function escalate({ reason, detail, ...run }: Run & Escalation): WatchStep {
  const ending = { outcome: 'escalated', escalation: { reason, detail } } as const;
  const ended = endRun(run.record, ending, run.input.now.toISOString());
  // Owed from here until rung, even by a later tick resuming this ending.
  const owed = { ...ended, doorbell: { reason: renderEscalation(ending.escalation) } };
  return finish({ ...run, record: owed }, ending);
}

function close(run: Run): WatchStep {
  const ending = { outcome: 'closed' } as const;
  return finish(
    { ...run, record: endRun(run.record, ending, run.input.now.toISOString()) },
    ending,
  );
}

function cancel(run: Run): WatchStep {
  const ending = {
    outcome: 'cancelled',
    reason: 'the issue was closed before the change was delivered',
  } as const;
  return finish(
    { ...run, record: endRun(run.record, ending, run.input.now.toISOString()) },
    ending,
  );
}

/**
 * The steps that end a run, from a record whose outcome is set. The same function resumes an
 * ending a dead tick left half done: each step is planned only if the world still lacks it.
 */
function finish(run: Run, ending: RunOutcome): WatchStep {
  const { status: _status, ...ended } = run.record;
  const done = { ...run, record: ended };
  switch (ending.outcome) {
    case 'closed':
    case 'cancelled':
      return windUp(done, ending.outcome);
    case 'escalated':
      return handOver(done, ending.escalation);
  }
}

/** Closed or cancelled: the issue closed (if it is done), the thread put away, the lock off. */
function windUp({ input, record, thread }: Run, outcome: 'closed' | 'cancelled'): WatchStep {
  const actions: Action[] = [...checklist(input, record)];
  if (outcome === 'closed' && input.issue.state === 'open') {
    actions.push({ kind: 'closeIssue', issue: refOf(input.issue) });
  }
  const run = { input, record, thread };
  actions.push(...stopAction(run), ...archiveAction(run));
  actions.push(...unlock(input, []));
  const decision = { kind: outcome === 'closed' ? 'close' : 'cancel' } as const;
  return { kind: 'plan', decision, record, actions };
}

/**
 * Escalated: the session stopped, the doorbell rung, the human label on, the lock off. A run
 * that waits on an approval or a question keeps its session: T3 delivers an answer only to a
 * live one (a response to a stopped session fails as `provider.*.respond.failed`), and the
 * human's `/afk approve|deny|answer` is that answer. `/afk stop`, or a new attempt, ends it.
 */
function handOver(run: Run, escalation: Escalation): WatchStep {
  const { input, record } = run;
  const actions: Action[] = [
    ...checklist(input, record),
    ...(record.awaiting === undefined ? stopAction(run) : []),
    ...ringEscalation(run),
    ...unlock(input, [input.config.labels.human]),
  ];
  return { kind: 'plan', decision: { kind: 'escalate', ...escalation }, record, actions };
}

function ringEscalation({ input, record }: Run): Action[] {
  const doorbell = record.doorbell ?? { reason: record.reason ?? 'escalated' };
  if (doorbell.rungAt !== undefined) return [];
  const notice = {
    kind: 'notify',
    issue: refOf(input.issue),
    purpose: 'escalation',
    message: doorbellMessage(input, record, doorbell.reason),
  } as const;
  // Nothing to ring and nothing to record: the relabel ends the run, and until it lands
  // every tick plans this again (and rings, once a doorbell is configured).
  if (!input.doorbell) return [{ ...notice, record: null }];
  const rung: RunRecord = { ...record, doorbell: { ...doorbell, rungAt: input.now.toISOString() } };
  return [{ ...notice, record: ringRecord(input, record, rung) }];
}
