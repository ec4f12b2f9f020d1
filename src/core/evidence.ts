// Facts read off the evidence: what the thread shows of the agent, and what CI says of a
// commit. Pure functions of what the adapters returned.
import { sanitizeLine } from './prompt.js';
import type { CheckRun, CiFacts, CommitStatus, T3Activity, T3Thread } from './types.js';

// Text the agent or its CI can choose (a blocked reason, a provider error, a check's name)
// ends up in afk's comment and the doorbell. It is cleaned to one line first: an HTML comment
// in it would hide text from the reader, and one spelling `<!-- afk:run {...} -->` would sit
// in afk's own comment beside the real record.
const MAX_REASON_CHARS = 300;
const MAX_NAME_CHARS = 200;

export interface ThreadFacts {
  /** A turn runs or the provider is starting one. */
  busy: boolean;
  /** Finished and waiting: session ready, idle or stopped, and no turn running. */
  idle: boolean;
  /** A turn or session error, or a provider that failed to start a turn. */
  error: string | null;
  /** A question or approval the provider waits on. */
  pendingRequest: PendingRequest | null;
  /** Responses the provider failed to deliver (`provider.*.respond.failed` activities), oldest first. */
  respondFailures: RespondFailure[];
  /** What the agent reported; null when the source had no messages (slim snapshot). */
  markers: Markers | null;
  tokensUsed: number | null;
  latestTurnId: string | null;
}

export interface PendingRequest {
  kind: 'approval' | 'user-input';
  requestId: string;
  /** What the agent asks: the approval's detail or the questions, one sanitized capped line. */
  detail: string;
  /** user-input only: the questions' ids in order (the keys `answers` takes); [] for approval. */
  questionIds: string[];
}

export interface RespondFailure {
  kind: 'approval' | 'user-input';
  /** The request the response was for, when the activity names it. */
  requestId: string | null;
  detail: string;
  createdAt: string;
}

export interface Markers {
  testsRed: boolean;
  green: boolean;
  /** The commit of the latest `AFK-PHASE: pushed <sha>`. */
  pushedSha: string | null;
  /** The reason of an `AFK-BLOCKED:` in the latest turn. */
  blocked: string | null;
}

const IDLE_SESSION = new Set(['ready', 'idle', 'stopped']);
const BUSY_SESSION = new Set(['starting', 'running']);

const PHASE_MARKER =
  /^\s*[`*_]*AFK-PHASE:\s*(tests-red|green|pushed)\b[`*_]*\s*(?:[`*_]*([0-9a-f]{7,40})[`*_]*)?/gim;
const BLOCKED_MARKER = /^\s*[`*_]*AFK-BLOCKED:[`*_]*\s*(.+)$/im;

/**
 * Markers count only in the agent's own messages: the issue text (a user message) is written
 * by whoever opened the issue and can carry fake ones.
 */
export function readMarkers(thread: T3Thread): Markers | null {
  if (thread.messages === null) return null;
  const markers: Markers = { testsRed: false, green: false, pushedSha: null, blocked: null };
  const assistant = thread.messages.filter((m) => m.role === 'assistant');
  for (const message of assistant) {
    for (const match of message.text.matchAll(PHASE_MARKER)) {
      const phase = match[1]?.toLowerCase();
      if (phase === 'tests-red') markers.testsRed = true;
      if (phase === 'green') markers.green = true;
      if (phase === 'pushed' && match[2] !== undefined) markers.pushedSha = match[2].toLowerCase();
    }
  }
  // Only the latest turn's block counts: an agent that was unblocked by a later turn is not.
  const latestTurnId = thread.latestTurn?.turnId ?? null;
  const latest = assistant.filter((m) => latestTurnId === null || m.turnId === latestTurnId);
  for (const message of latest) {
    const found = BLOCKED_MARKER.exec(message.text)?.[1];
    const blocked = found === undefined ? '' : sanitizeLine(found, MAX_REASON_CHARS);
    if (blocked !== '') markers.blocked = blocked;
  }
  return markers;
}

const payloadField = (activity: T3Activity, key: string): unknown =>
  activity.payload !== null && typeof activity.payload === 'object'
    ? (activity.payload as Record<string, unknown>)[key]
    : undefined;

const REQUEST_KINDS: Record<string, PendingRequest['kind']> = {
  'approval.requested': 'approval',
  'user-input.requested': 'user-input',
};

const RESPOND_FAILURE_KINDS: Record<string, RespondFailure['kind']> = {
  'provider.approval.respond.failed': 'approval',
  'provider.user-input.respond.failed': 'user-input',
};

const textField = (activity: T3Activity, key: string): string | null => {
  const value = payloadField(activity, key);
  return typeof value === 'string' ? value : null;
};

/**
 * A request is pending until an activity resolving the same requestId appears. A failed
 * response does not end it: T3 keeps showing the request, and afk says the answer did not
 * reach the agent rather than guess that the agent stopped waiting.
 */
function pendingRequest(activities: T3Activity[]): PendingRequest | null {
  const resolved = new Set(
    activities
      .filter((a) => a.kind === 'approval.resolved' || a.kind === 'user-input.resolved')
      .map((a) => String(payloadField(a, 'requestId'))),
  );
  for (let i = activities.length - 1; i >= 0; i -= 1) {
    const activity = activities[i] as T3Activity;
    const kind = REQUEST_KINDS[activity.kind];
    const requestId = payloadField(activity, 'requestId');
    if (kind !== undefined && typeof requestId === 'string' && !resolved.has(requestId)) {
      const questions = kind === 'user-input' ? questionsOf(activity) : [];
      const asked =
        kind === 'approval'
          ? (textField(activity, 'detail') ?? activity.summary)
          : questions.map(({ text }) => text).join(' | ');
      return {
        kind,
        requestId: sanitizeLine(requestId, MAX_NAME_CHARS),
        detail: sanitizeLine(asked, MAX_REASON_CHARS) || 'no detail given',
        questionIds: questions.map(({ id }) => sanitizeLine(id, MAX_NAME_CHARS)),
      };
    }
  }
  return null;
}

/** `user-input.requested` questions (`{id, header, question, options}`), skipping malformed ones. */
function questionsOf(activity: T3Activity): Array<{ id: string; text: string }> {
  const questions = payloadField(activity, 'questions');
  if (!Array.isArray(questions)) return [];
  return questions.flatMap((entry: unknown) => {
    if (entry === null || typeof entry !== 'object') return [];
    const { id, header, question } = entry as Record<string, unknown>;
    if (typeof id !== 'string' || id.trim() === '') return [];
    const parts = [header, question].filter((p): p is string => typeof p === 'string' && p !== '');
    return [{ id, text: parts.join(': ') }];
  });
}

/** The provider reactor's failures to deliver a response, with its `detail` (and `requestId`). */
function respondFailures(activities: T3Activity[]): RespondFailure[] {
  return activities.flatMap((activity) => {
    const kind = RESPOND_FAILURE_KINDS[activity.kind];
    if (kind === undefined) return [];
    const requestId = textField(activity, 'requestId');
    const detail = textField(activity, 'detail') ?? activity.summary;
    return [
      {
        kind,
        requestId: requestId === null ? null : sanitizeLine(requestId, MAX_NAME_CHARS) || null,
        detail: sanitizeLine(detail, MAX_REASON_CHARS) || 'an unnamed error',
        createdAt: activity.createdAt,
      },
    ];
  });
}

function tokensUsed(activities: T3Activity[]): number | null {
  for (let i = activities.length - 1; i >= 0; i -= 1) {
    const activity = activities[i] as T3Activity;
    const used = payloadField(activity, 'usedTokens');
    if (activity.kind === 'context-window.updated' && typeof used === 'number') return used;
  }
  return null;
}

/**
 * A provider that fails to start a turn leaves the turn as it was: the failure shows only as
 * an activity and `session.lastError`. Only a failure after afk's latest turn counts.
 */
function providerFailure(activities: T3Activity[], since: string | null): string | null {
  const failed = activities.filter(
    (a) =>
      a.kind === 'provider.turn.start.failed' &&
      (since === null || Date.parse(a.createdAt) >= Date.parse(since)),
  );
  const last = failed[failed.length - 1];
  if (last === undefined) return null;
  const detail = payloadField(last, 'detail');
  return typeof detail === 'string' ? detail : last.summary;
}

export function readThreadFacts(thread: T3Thread, lastTurnAt: string | null): ThreadFacts {
  const turn = thread.latestTurn;
  const session = thread.session;
  const busy = turn?.state === 'running' || (session !== null && BUSY_SESSION.has(session.status));
  const idle = session !== null && IDLE_SESSION.has(session.status) && turn?.state !== 'running';
  const activities = thread.activities ?? [];
  const failure =
    turn?.state === 'error'
      ? (session?.lastError ?? 'the turn ended in error')
      : session?.status === 'error'
        ? (session.lastError ?? 'the session is in error')
        : providerFailure(activities, lastTurnAt);
  const error =
    failure === null ? null : sanitizeLine(failure, MAX_REASON_CHARS) || 'an unnamed error';
  return {
    busy,
    idle,
    error,
    pendingRequest: thread.activities === null ? null : pendingRequest(activities),
    respondFailures: respondFailures(activities),
    markers: readMarkers(thread),
    tokensUsed: thread.activities === null ? null : tokensUsed(activities),
    latestTurnId: turn?.turnId ?? null,
  };
}

export type CiVerdict = 'success' | 'failure' | 'pending' | 'action-required' | 'none';

export interface FailingCheck {
  name: string;
  conclusion: string;
  url: string | null;
  summary: string | null;
}

const FAILED_CONCLUSIONS = new Set([
  'failure',
  'timed_out',
  'cancelled',
  'startup_failure',
  'stale',
]);

/**
 * The verdict branch protection would give (forge-apis.md): failure if any completed run
 * failed or any status is failure/error; else pending if anything is still running; else
 * none if nothing reported at all; else success (success, neutral and skipped pass).
 * `action_required` (a workflow waiting for a maintainer's approval) is its own verdict:
 * a corrective turn cannot fix it, so it waits like pending and times out into escalation.
 * `exclude` drops the deploy's own status context from CI.
 */
export function judgeCi(
  ci: CiFacts,
  exclude: string | null = null,
): {
  verdict: CiVerdict;
  failing: FailingCheck[];
} {
  const statuses = ci.statuses.filter((s) => s.context !== exclude);
  const failing: FailingCheck[] = [
    ...ci.checkRuns
      .filter((r) => r.status === 'completed' && FAILED_CONCLUSIONS.has(r.conclusion ?? ''))
      .map((r: CheckRun) => ({
        name: sanitizeLine(r.name, MAX_NAME_CHARS),
        conclusion: r.conclusion ?? 'failure',
        url: r.url,
        summary: r.summary,
      })),
    ...statuses
      .filter((s) => s.state === 'failure' || s.state === 'error')
      .map((s: CommitStatus) => ({
        name: sanitizeLine(s.context, MAX_NAME_CHARS),
        conclusion: s.state,
        url: s.url,
        summary: s.description,
      })),
  ];
  if (failing.length > 0) return { verdict: 'failure', failing };
  if (ci.checkRuns.some((r) => r.status === 'completed' && r.conclusion === 'action_required')) {
    return { verdict: 'action-required', failing };
  }
  const running =
    ci.checkRuns.some((r) => r.status !== 'completed') ||
    statuses.some((s) => s.state === 'pending');
  if (running) return { verdict: 'pending', failing };
  if (ci.checkRuns.length === 0 && statuses.length === 0) return { verdict: 'none', failing };
  return { verdict: 'success', failing };
}
