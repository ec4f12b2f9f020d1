// Watch's decisions for one live run. `watchRun` is pure: from the issue, afk's comment, the
// T3 snapshot, the evidence read so far and `now`, it either asks for one more read (only
// what the decision actually reaches, so a tick reads little) or returns the decision and the
// plan that carries it out. Every plan is desired-minus-observed, so a tick that died between
// two steps is finished by the next one, and nothing that already happened happens twice.
import { attemptFor, renderChecklist, type AfkComment, type RunRecord } from './checklist.js';
import type { Config } from './config.js';
import { judgeCi, readThreadFacts, type FailingCheck, type ThreadFacts } from './evidence.js';
import { commandIdFor, messageIdFor, threadIdFor } from './ids.js';
import { planDuplicateCleanup, type Action } from './plan.js';
import { branchFor, buildContinueTurn, buildFixForwardTurn, sanitizeLine } from './prompt.js';
import type {
  CiFacts,
  CommitPlacement,
  DeploymentFacts,
  Issue,
  IssueRef,
  PullRequest,
  T3Snapshot,
  T3Thread,
} from './types.js';

export const escalationReasons = [
  'agent-error',
  'needs-input',
  'fix-forward-exhausted',
  'stalled',
  'ci-timeout',
  'deploy-failed',
  'thread-missing',
  'token-budget',
] as const;
export type EscalationReason = (typeof escalationReasons)[number];

export type ReadRequest =
  | { kind: 'thread'; threadId: string }
  | { kind: 'pullRequest'; branch: string }
  | { kind: 'placement'; sha: string }
  | { kind: 'ci'; sha: string }
  | { kind: 'deployment'; sha: string; environment: string };

/** What the command read for this run so far, keyed the way `ReadRequest` asks. */
export interface Evidence {
  /** The thread's full detail (thread route), when the snapshot lacked it. */
  thread?: T3Thread | null;
  pullRequest?: PullRequest | null;
  placement?: Readonly<Record<string, CommitPlacement>>;
  ci?: Readonly<Record<string, CiFacts>>;
  deployment?: Readonly<Record<string, DeploymentFacts>>;
}

export type Decision =
  | { kind: 'wait'; why: string }
  | { kind: 'fix-forward'; sha: string; what: 'CI' | 'the deploy'; failing: FailingCheck[] }
  | { kind: 'continue' }
  | { kind: 'review-requested' }
  | { kind: 'escalate'; reason: EscalationReason; detail: string }
  | { kind: 'close' }
  | { kind: 'cancel' };

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
}

export type WatchStep =
  | { kind: 'read'; read: ReadRequest }
  | { kind: 'plan'; decision: Decision; record: RunRecord; actions: Action[] };

const MAX_ATTEMPT_SCAN = 100;
const minutesBetween = (from: string, now: Date) => (now.getTime() - Date.parse(from)) / 60_000;

const has = (issue: Issue, label: string) =>
  issue.labels.some((l) => l.toLowerCase() === label.toLowerCase());

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
  return {
    thread: found.thread,
    record: {
      v: 1,
      attempt: found.attempt,
      threadId: found.thread.id,
      dispatchedAt: new Date(Date.parse(found.thread.createdAt)).toISOString(),
      fixForwards: 0,
      outcome: null,
      phases: { dispatched: new Date(Date.parse(found.thread.createdAt)).toISOString() },
      history: [],
    },
  };
}

export function watchRun(input: WatchInput): WatchStep {
  const step = decide(input);
  if (step.kind === 'read') return step;
  const cleanup = planDuplicateCleanup(input.issue, input.afkComment);
  return cleanup.length === 0 ? step : { ...step, actions: [...cleanup, ...step.actions] };
}

/** The decision for one run, before the cleanup every plan of the issue starts with. */
function decide(input: WatchInput): WatchStep {
  const { config, issue, now } = input;
  const located = locateRun(input);
  const at = now.toISOString();

  if (located.record === null) {
    const attempt = attemptFor(null);
    const record: RunRecord = {
      v: 1,
      attempt,
      threadId: threadIdFor(issue, attempt),
      dispatchedAt: at,
      fixForwards: 0,
      outcome: null,
      phases: {},
      history: [],
    };
    return escalate(
      input,
      record,
      null,
      'thread-missing',
      'the issue holds the lock but afk has no run for it',
    );
  }
  let record = located.record;
  // The thread route's answer wins over the snapshot's row; null there means T3 has no such thread.
  const thread = input.evidence.thread !== undefined ? input.evidence.thread : located.thread;
  if (record.outcome !== null) return finish(input, record, thread);
  if (thread === null || thread.archived) {
    const detail =
      thread === null
        ? `thread ${record.threadId} is not in T3 (deleted, or never created)`
        : `thread ${record.threadId} was archived in T3`;
    return escalate(input, record, thread, 'thread-missing', detail);
  }

  // Slim snapshots (T3 v0.0.32+) carry no messages or activities: read the thread, unless it
  // is idle and afk already read its latest turn.
  if (thread.messages === null && input.evidence.thread === undefined) {
    const facts = readThreadFacts(thread, null);
    if (!(facts.idle && facts.latestTurnId !== null && facts.latestTurnId === record.turnSeen)) {
      return { kind: 'read', read: { kind: 'thread', threadId: thread.id } };
    }
  }

  const latestUser = thread.messages?.filter((m) => m.role === 'user').at(-1)?.createdAt ?? null;
  const facts = readThreadFacts(thread, latestUser ?? record.lastTurn?.at ?? record.dispatchedAt);
  record = observeThread(record, facts, at);

  if (facts.error !== null) return escalate(input, record, thread, 'agent-error', facts.error);
  if (facts.pendingRequest !== null) {
    const what = facts.pendingRequest.kind === 'approval' ? 'an approval' : 'an answer';
    return escalate(
      input,
      record,
      thread,
      'needs-input',
      `the agent waits for ${what} (request ${facts.pendingRequest.requestId})`,
    );
  }
  const ourTurnPending =
    record.lastTurn !== undefined && facts.latestTurnId === record.lastTurn.after;
  if (facts.markers?.blocked != null && !ourTurnPending) {
    return escalate(
      input,
      record,
      thread,
      'needs-input',
      `the agent is blocked: ${facts.markers.blocked}`,
    );
  }
  const budget = config.watch.maxTokensPerRun;
  if (budget !== null && (record.tokensUsed ?? 0) > budget) {
    return escalate(
      input,
      record,
      thread,
      'token-budget',
      `${record.tokensUsed} tokens used, over the budget of ${budget}`,
    );
  }

  // What was pushed.
  let subjectSha: string | null = null;
  let pr: PullRequest | null = null;
  if (config.delivery.mode === 'pull-request') {
    if (input.evidence.pullRequest === undefined) {
      return {
        kind: 'read',
        read: { kind: 'pullRequest', branch: branchFor(config, issue.number) },
      };
    }
    pr = input.evidence.pullRequest;
    if (pr !== null) {
      record = withPhase({ ...record, pullRequest: pr.number }, 'pushed', at);
      subjectSha = pr.merged ? pr.mergeCommitSha : pr.headSha;
    }
  } else {
    const reported = facts.markers?.pushedSha ?? record.subject?.sha ?? null;
    if (reported !== null) {
      const verified = record.phases.pushed !== undefined && record.subject?.sha === reported;
      const placement = verified ? 'on-default-branch' : input.evidence.placement?.[reported];
      if (placement === undefined)
        return { kind: 'read', read: { kind: 'placement', sha: reported } };
      if (placement === 'on-default-branch') {
        subjectSha = reported;
        record = withPhase(record, 'pushed', at);
      }
    }
  }
  const delivered =
    pr?.merged === true || (config.delivery.mode === 'trunk' && subjectSha !== null);
  if (issue.state === 'closed' && !delivered) return cancel(input, record, thread);

  const busy = facts.busy || ourTurnPending || thread.session === null;
  if (busy) return waitOnAgent(input, record, thread, 'the agent is working');

  if (pr !== null && pr.state === 'closed' && !pr.merged) {
    return escalate(
      input,
      record,
      thread,
      'needs-input',
      `pull request #${pr.number} was closed without merging`,
    );
  }
  if (subjectSha === null) return nudgeOrStall(input, record, thread);
  record = withSubject(record, subjectSha, at);

  // CI on the commit under judgement (the PR head, then the merge commit; or the trunk commit).
  const deployContext = config.deploy.kind === 'commit-status' ? config.deploy.context : null;
  const ciKnownGreen = record.ciGreen?.sha === subjectSha;
  const ci = input.evidence.ci?.[subjectSha];
  if (!ciKnownGreen) {
    if (ci === undefined) return { kind: 'read', read: { kind: 'ci', sha: subjectSha } };
    const { verdict, failing } = judgeCi(ci, deployContext);
    if (verdict === 'failure') {
      return fixForwardOrEscalate(input, record, thread, subjectSha, 'CI', failing);
    }
    if (verdict === 'none' && pr?.merged === true) {
      const head = standHeadCi(input, record, pr, deployContext);
      if (head.kind === 'read') return head;
      if (head.record !== null) return judgeDeploy(input, head.record, thread, subjectSha);
    }
    if (verdict !== 'success') {
      const since = record.subject?.since ?? at;
      if (minutesBetween(since, now) >= config.watch.ciTimeoutMinutes) {
        const what = verdict === 'none' ? 'no CI reported' : `CI ${verdict}`;
        return escalate(
          input,
          record,
          thread,
          'ci-timeout',
          `${what} on ${subjectSha} for over ${config.watch.ciTimeoutMinutes} minutes`,
        );
      }
      return wait(
        input,
        record,
        thread,
        `CI ${verdict === 'none' ? 'has not started' : verdict} on ${short(subjectSha)}`,
      );
    }
    record = withPhase({ ...record, ciGreen: { sha: subjectSha, at } }, 'ci', at);
  }

  if (pr !== null && !pr.merged) {
    // Green and waiting for people: not a stall. The doorbell rings once as a notice.
    if (record.reviewNotifiedAt === undefined && record.reviewNoticeSkippedAt === undefined) {
      return reviewRequested(input, record, thread, pr);
    }
    return wait(input, record, thread, `awaiting review of pull request #${pr.number}`);
  }
  return judgeDeploy(input, record, thread, subjectSha);
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
  input: WatchInput,
  record: RunRecord,
  pr: PullRequest,
  deployContext: string | null,
): { kind: 'read'; read: ReadRequest } | { kind: 'judged'; record: RunRecord | null } {
  if (record.ciGreen?.sha === pr.headSha) return { kind: 'judged', record };
  const ci = input.evidence.ci?.[pr.headSha];
  if (ci === undefined) return { kind: 'read', read: { kind: 'ci', sha: pr.headSha } };
  if (judgeCi(ci, deployContext).verdict !== 'success') return { kind: 'judged', record: null };
  const at = input.now.toISOString();
  return {
    kind: 'judged',
    record: withPhase({ ...record, ciGreen: { sha: pr.headSha, at } }, 'ci', at),
  };
}

function judgeDeploy(
  input: WatchInput,
  record: RunRecord,
  thread: T3Thread,
  sha: string,
): WatchStep {
  const { config, now } = input;
  const at = now.toISOString();
  if (config.deploy.kind === 'none') return close(input, withPhase(record, 'deployed', at), thread);
  let state: 'success' | 'failure' | 'pending';
  let failing: FailingCheck[] = [];
  if (config.deploy.kind === 'github-deployment') {
    const deployment = input.evidence.deployment?.[sha];
    if (deployment === undefined) {
      return {
        kind: 'read',
        read: { kind: 'deployment', sha, environment: config.deploy.environment },
      };
    }
    state =
      deployment.state === 'success'
        ? 'success'
        : deployment.state === 'failure' || deployment.state === 'error'
          ? 'failure'
          : 'pending';
    failing = [
      {
        name: `deployment to ${deployment.environment}`,
        conclusion: deployment.state ?? 'failure',
        url: deployment.url,
        summary: null,
      },
    ];
  } else {
    const ci = input.evidence.ci?.[sha];
    if (ci === undefined) return { kind: 'read', read: { kind: 'ci', sha } };
    const status = ci.statuses.find((s) => s.context === config.deploy.context);
    state =
      status?.state === 'success'
        ? 'success'
        : status?.state === 'failure' || status?.state === 'error'
          ? 'failure'
          : 'pending';
    failing = [
      {
        name: config.deploy.context,
        conclusion: status?.state ?? 'failure',
        url: status?.url ?? null,
        summary: status?.description ?? null,
      },
    ];
  }
  if (state === 'success') return close(input, withPhase(record, 'deployed', at), thread);
  if (state === 'failure') {
    return fixForwardOrEscalate(input, record, thread, sha, 'the deploy', failing);
  }
  // The deploy timer starts when CI stood for this commit: when it went green here, or, for a
  // merge commit standing on its PR head's CI, when afk first saw the merge commit (the head
  // may have gone green long before, while the PR waited for review).
  const since = record.ciGreen?.sha === sha ? record.ciGreen.at : (record.subject?.since ?? at);
  if (minutesBetween(since, now) >= config.deploy.timeoutMinutes) {
    return escalate(
      input,
      record,
      thread,
      'deploy-failed',
      `no successful deploy of ${sha} after ${config.deploy.timeoutMinutes} minutes`,
    );
  }
  return wait(input, record, thread, `waiting for the deploy of ${short(sha)}`);
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
    thread?.updatedAt,
    ...Object.values(record.phases),
  ].filter((t): t is string => t !== undefined);
  return Math.max(...times.map((t) => Date.parse(t)));
}

function waitOnAgent(
  input: WatchInput,
  record: RunRecord,
  thread: T3Thread,
  why: string,
): WatchStep {
  const stalledFor = (input.now.getTime() - lastProgress(record, thread)) / 60_000;
  if (stalledFor >= input.config.watch.stallAfterMinutes) {
    return escalate(
      input,
      record,
      thread,
      'stalled',
      `no progress for ${Math.floor(stalledFor)} minutes (${why})`,
    );
  }
  return wait(input, record, thread, why);
}

/** Idle without a push: one "continue" turn from the fix-forward budget, then a human. */
function nudgeOrStall(input: WatchInput, record: RunRecord, thread: T3Thread): WatchStep {
  const { config } = input;
  if (record.continued !== true && record.fixForwards < config.watch.maxFixForwards) {
    const next: RunRecord = { ...record, continued: true, fixForwards: record.fixForwards + 1 };
    return sendTurn(
      input,
      next,
      thread,
      { kind: 'continue' },
      'continue',
      buildContinueTurn(config, input.issue),
    );
  }
  return escalate(input, record, thread, 'stalled', 'the agent stopped without pushing its work');
}

function fixForwardOrEscalate(
  input: WatchInput,
  record: RunRecord,
  thread: T3Thread,
  sha: string,
  what: 'CI' | 'the deploy',
  failing: FailingCheck[],
): WatchStep {
  const key = what === 'CI' ? sha : `deploy:${sha}`;
  if ((record.fixForwardShas ?? []).includes(key)) {
    // This commit already got its corrective turn: wait for the agent's next push.
    return waitOnAgent(input, record, thread, `waiting for a fix of ${what} on ${short(sha)}`);
  }
  if (record.fixForwards >= input.config.watch.maxFixForwards) {
    const names = failing.map((f) => f.name).join(', ');
    return what === 'CI'
      ? escalate(
          input,
          record,
          thread,
          'fix-forward-exhausted',
          `CI still fails on ${sha} after ${record.fixForwards} fix-forward(s): ${names}`,
        )
      : escalate(
          input,
          record,
          thread,
          'deploy-failed',
          `the deploy of ${sha} failed after ${record.fixForwards} fix-forward(s): ${names}`,
        );
  }
  const next: RunRecord = {
    ...record,
    fixForwards: record.fixForwards + 1,
    fixForwardShas: [...(record.fixForwardShas ?? []), key],
  };
  const text = buildFixForwardTurn(input.config, input.issue, { what, sha, checks: failing });
  return sendTurn(
    input,
    next,
    thread,
    { kind: 'fix-forward', sha, what, failing },
    `fix-forward-${key}`,
    text,
  );
}

/** A turn first, then the record of it: the turn's command id makes a resend harmless. */
function sendTurn(
  input: WatchInput,
  record: RunRecord,
  thread: T3Thread,
  decision: Decision,
  step: string,
  text: string,
): WatchStep {
  const at = input.now.toISOString();
  const purpose = decision.kind === 'continue' ? 'continue' : 'fix-forward';
  const next: RunRecord = {
    ...record,
    lastTurn: { at, purpose, after: thread.latestTurn?.turnId ?? null },
    status:
      decision.kind === 'continue'
        ? 'nudged the agent to finish and push'
        : `fix-forward ${record.fixForwards} of ${input.config.watch.maxFixForwards} sent`,
  };
  const ref = refOf(input.issue);
  return {
    kind: 'plan',
    decision,
    record: next,
    actions: [
      {
        kind: 'startTurn',
        issue: ref,
        purpose,
        command: {
          commandId: commandIdFor(thread.id, step),
          threadId: thread.id,
          messageId: messageIdFor(thread.id, step),
          text,
          runtimeMode: input.config.t3.runtimeMode,
          interactionMode: 'default',
        },
      },
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

function wait(input: WatchInput, record: RunRecord, _thread: T3Thread, why: string): WatchStep {
  const next = record.status === why ? record : { ...record, status: why };
  return {
    kind: 'plan',
    decision: { kind: 'wait', why },
    record: next,
    actions: checklist(input, next),
  };
}

function reviewRequested(
  input: WatchInput,
  record: RunRecord,
  _thread: T3Thread,
  pr: PullRequest,
): WatchStep {
  const at = input.now.toISOString();
  const status = `awaiting review of pull request #${pr.number}`;
  const message = (record: RunRecord) =>
    doorbellMessage(
      input,
      record,
      `review requested: CI is green on pull request #${pr.number}`,
      pr.url,
    );
  const notice = {
    kind: 'notify',
    issue: refOf(input.issue),
    purpose: 'review-requested',
  } as const;
  if (!input.doorbell) {
    // No relabel follows a notice: the record says it had no doorbell, or every tick would
    // plan (and report) it again.
    const skipped: RunRecord = { ...record, status, reviewNoticeSkippedAt: at };
    return {
      kind: 'plan',
      decision: { kind: 'review-requested' },
      record: skipped,
      actions: [
        ...checklist(input, skipped),
        { ...notice, message: message(skipped), record: null },
      ],
    };
  }
  const before: RunRecord = { ...record, status };
  const after: RunRecord = { ...before, reviewNotifiedAt: at };
  return {
    kind: 'plan',
    decision: { kind: 'review-requested' },
    record: after,
    actions: [
      ...checklist(input, before),
      {
        ...notice,
        message: message(before),
        record: {
          commentId: input.afkComment?.comment.id ?? null,
          before: renderChecklist(before),
          body: renderChecklist(after),
        },
      },
    ],
  };
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
  input: WatchInput,
  thread: T3Thread | null,
  kind: 'stopSession' | 'archiveThread',
  needed: (thread: T3Thread) => boolean,
): Action[] {
  if (thread === null || !needed(thread)) return [];
  const step = kind === 'stopSession' ? 'stop' : 'archive';
  const command = { commandId: commandIdFor(thread.id, step), threadId: thread.id };
  return [{ kind, issue: refOf(input.issue), command }];
}

const stopAction = (input: WatchInput, thread: T3Thread | null) =>
  threadAction(
    input,
    thread,
    'stopSession',
    (t) => t.session !== null && t.session.status !== 'stopped',
  );

const archiveAction = (input: WatchInput, thread: T3Thread | null) =>
  threadAction(input, thread, 'archiveThread', (t) => !t.archived);

/**
 * The lock goes last: everything else the run's end needs comes before it, the release of
 * afk's claim on its comment included (a claim left on a run watch no longer sees would
 * never be cleared).
 */
function unlock(input: WatchInput, add: string[]): Action[] {
  const { issue, config } = input;
  const ref = refOf(issue);
  const actions: Action[] = [];
  const missing = add.filter((label) => !has(issue, label));
  if (missing.length > 0) actions.push({ kind: 'addLabels', issue: ref, labels: missing });
  if (has(issue, config.labels.inProgress)) {
    actions.push({
      kind: 'removeLabels',
      issue: ref,
      labels: [config.labels.inProgress],
      release: { commentId: input.afkComment?.comment.id ?? null },
    });
  }
  return actions;
}

function escalate(
  input: WatchInput,
  record: RunRecord,
  thread: T3Thread | null,
  reason: EscalationReason,
  detail: string,
): WatchStep {
  const text = `${reason}: ${detail}`;
  const ended: RunRecord = {
    ...record,
    outcome: 'escalated',
    reason: text,
    doorbell: { reason: text },
    endedAt: input.now.toISOString(),
  };
  const step = finish(input, ended, thread);
  return step.kind === 'plan' ? { ...step, decision: { kind: 'escalate', reason, detail } } : step;
}

function close(input: WatchInput, record: RunRecord, thread: T3Thread): WatchStep {
  return finish(input, { ...record, outcome: 'closed', endedAt: input.now.toISOString() }, thread);
}

function cancel(input: WatchInput, record: RunRecord, thread: T3Thread): WatchStep {
  return finish(
    input,
    {
      ...record,
      outcome: 'cancelled',
      reason: 'the issue was closed before the change was delivered',
      endedAt: input.now.toISOString(),
    },
    thread,
  );
}

/**
 * The steps that end a run, from a record whose outcome is set. The same function resumes an
 * ending a dead tick left half done: each step is planned only if the world still lacks it.
 */
function finish(input: WatchInput, record: RunRecord, thread: T3Thread | null): WatchStep {
  const { issue, config } = input;
  const ref = refOf(issue);
  const { status: _status, ...rest } = record;
  const ended: RunRecord = rest;
  const actions: Action[] = [...checklist(input, ended)];
  switch (ended.outcome) {
    case 'closed':
    case 'cancelled': {
      if (ended.outcome === 'closed' && issue.state === 'open') {
        actions.push({ kind: 'closeIssue', issue: ref });
      }
      actions.push(...stopAction(input, thread), ...archiveAction(input, thread));
      actions.push(...unlock(input, []));
      const decision = ended.outcome === 'closed' ? 'close' : 'cancel';
      return { kind: 'plan', decision: { kind: decision }, record: ended, actions };
    }
    case 'escalated':
    default: {
      actions.push(...stopAction(input, thread));
      const doorbell = ended.doorbell ?? { reason: ended.reason ?? 'escalated' };
      if (doorbell.rungAt === undefined && !input.doorbell) {
        // Nothing to ring and nothing to record: the relabel ends the run, and until it
        // lands every tick plans this again (and rings, once a doorbell is configured).
        actions.push({
          kind: 'notify',
          issue: ref,
          purpose: 'escalation',
          message: doorbellMessage(input, ended, doorbell.reason),
          record: null,
        });
      } else if (doorbell.rungAt === undefined) {
        const rung: RunRecord = {
          ...ended,
          doorbell: { ...doorbell, rungAt: input.now.toISOString() },
        };
        actions.push({
          kind: 'notify',
          issue: ref,
          purpose: 'escalation',
          message: doorbellMessage(input, ended, doorbell.reason),
          record: {
            commentId: input.afkComment?.comment.id ?? null,
            before: renderChecklist(ended),
            body: renderChecklist(rung),
          },
        });
      }
      actions.push(...unlock(input, [config.labels.human]));
      const [reason, ...detail] = (ended.reason ?? 'stalled: escalated').split(': ');
      return {
        kind: 'plan',
        decision: {
          kind: 'escalate',
          reason: (escalationReasons as readonly string[]).includes(reason ?? '')
            ? (reason as EscalationReason)
            : 'stalled',
          detail: detail.join(': '),
        },
        record: ended,
        actions,
      };
    }
  }
}
