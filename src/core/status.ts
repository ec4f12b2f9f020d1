// What `afk status` shows the human on call, built from what the ticks already read: the live
// runs (their afk record and thread), the ready queue as poll would take it, and the recent
// escalations. Pure: the command reads, these functions describe, `renderStatus` lays it out.
import {
  phaseLabels,
  phaseNames,
  type AfkComment,
  type PhaseName,
  type RunRecord,
} from './checklist.js';
import type { Config } from './config.js';
import {
  compareCandidates,
  priorityRank,
  selectDispatchable,
  type ServerSlot,
  type SkipReason,
  type TrustFact,
} from './dispatch.js';
import { issueKey, type Issue, type T3Snapshot } from './types.js';

export interface LiveRunView {
  issue: string;
  url: string;
  state: Issue['state'];
  attempt: number | null;
  /** The furthest phase ticked on the checklist; null before any (or without a record). */
  phase: PhaseName | null;
  /**
   * `turn/session` from the snapshot, `missing` when T3 does not know the thread, `unknown`
   * when T3 could not be read.
   */
  thread: string;
  /** What the record knows of CI: `green <sha>`, `red <sha>`, `judging <sha>`, or null. */
  ci: string | null;
  dispatchedAt: string | null;
  ageMinutes: number | null;
  fixForwards: number | null;
  maxFixForwards: number;
  /** The record's own line for humans: what the run waits for now. */
  now: string | null;
  /** Why the record could not be read, when it could not. */
  problem: string | null;
  /** The pull request's conversation, when the run has had one (left out otherwise). */
  conversation?: ConversationView;
}

export interface ConversationView {
  reviewRounds: number;
  maxReviewRounds: number | null;
  conflictTurns: number;
  maxConflictTurns: number | null;
  /** The latest round's feedback while the agent addresses it (no review asked since). */
  pendingFeedback: string | null;
  /** Reviewers whose feedback afk ignored, not being trusted. */
  ignoredReviewers: string[];
}

export type QueueWait = SkipReason | 'next';

export interface QueueEntry {
  position: number;
  issue: string;
  url: string;
  priority: string | null;
  createdAt: string;
  waits: QueueWait;
  detail: string;
}

export interface EscalationView {
  issue: string;
  url: string;
  attempt: number | null;
  reason: string;
  escalatedAt: string | null;
}

export interface StatusView {
  gates: { killSwitch: boolean; repos: string[] };
  runs: LiveRunView[];
  queue: QueueEntry[];
  escalations: EscalationView[];
  /** Reads that failed (a repo, a record): the view is partial and status exits 1. */
  failures: string[];
  /** Why T3 could not be read: its columns show `unknown`, and status exits 3. */
  t3Unreadable: string | null;
  /** With several T3 servers (`t3.servers`): each one, its load and whether it answered. */
  servers?: ServerView[];
}

export interface ServerView {
  name: string;
  /** Host and port only: the rest of the URL adds nothing to a view. */
  host: string;
  /** In-progress issues of the repos pinned to it. */
  liveRuns: number;
  capacity: number;
  /** null: it answered; else why it could not be read (its runs' T3 columns show unknown). */
  error: string | null;
}

/** The escalations status reads comments for: the newest few, so the view stays cheap. */
export const MAX_ESCALATIONS = 20;

export function describeLiveRun(input: {
  issue: Issue;
  afkComment: AfkComment | null;
  /** null: T3 could not be read. */
  snapshot: T3Snapshot | null;
  maxFixForwards: number;
  now: Date;
  /** `watch.maxReviewRounds` and `watch.maxConflictTurns`, shown beside what was used. */
  conversationLimits?: { maxReviewRounds: number; maxConflictTurns: number };
}): LiveRunView {
  const { issue, afkComment, snapshot, maxFixForwards } = input;
  const base = {
    issue: issueKey(issue),
    url: issue.url,
    state: issue.state,
    maxFixForwards,
  };
  const record = recordOf(afkComment);
  if (!record.ok) {
    return {
      ...base,
      attempt: null,
      phase: null,
      thread: snapshot === null ? 'unknown' : 'missing',
      ci: null,
      dispatchedAt: null,
      ageMinutes: null,
      fixForwards: null,
      now: null,
      problem: record.problem,
    };
  }
  const run = record.record;
  return {
    ...base,
    attempt: run.attempt,
    phase: furthestPhase(run),
    thread: snapshot === null ? 'unknown' : threadState(snapshot, run.threadId),
    ci: ciVerdict(run),
    dispatchedAt: run.dispatchedAt,
    ageMinutes: Math.max(
      0,
      Math.floor((input.now.getTime() - Date.parse(run.dispatchedAt)) / 60_000),
    ),
    fixForwards: run.fixForwards,
    now: run.status ?? null,
    problem: null,
    ...describeConversation(run, input.conversationLimits),
  };
}

function describeConversation(
  run: RunRecord,
  limits: { maxReviewRounds: number; maxConflictTurns: number } | undefined,
): { conversation?: ConversationView } {
  const had =
    run.reviewRounds !== undefined ||
    run.conflictTurns !== undefined ||
    (run.reviewIgnored ?? []).length > 0;
  if (!had) return {};
  const sent = run.reviewSent;
  const addressing =
    sent !== undefined &&
    run.reviewNotifiedAt === undefined &&
    run.reviewNoticeSkippedAt === undefined;
  return {
    conversation: {
      reviewRounds: run.reviewRounds ?? 0,
      maxReviewRounds: limits?.maxReviewRounds ?? null,
      conflictTurns: run.conflictTurns ?? 0,
      maxConflictTurns: limits?.maxConflictTurns ?? null,
      pendingFeedback: addressing
        ? `round ${sent.round}: ${sent.items} item(s)${sent.from.length === 0 ? '' : ` from ${sent.from.join(', ')}`}`
        : null,
      ignoredReviewers: (run.reviewIgnored ?? []).map((i) => i.login),
    },
  };
}

/** One line per run that talked with its reviewers: rounds, conflict turns, who was ignored. */
function conversationLines(runs: LiveRunView[]): string[] {
  const of = (used: number, max: number | null) => (max === null ? `${used}` : `${used}/${max}`);
  return runs.flatMap(({ issue, conversation: c }) => {
    if (c === undefined) return [];
    const pending = c.pendingFeedback === null ? '' : ` (with the agent: ${c.pendingFeedback})`;
    const ignored =
      c.ignoredReviewers.length === 0
        ? ''
        : `; ignored reviewers: ${c.ignoredReviewers.join(', ')}`;
    return [
      `  ${issue}: review rounds ${of(c.reviewRounds, c.maxReviewRounds)}${pending}; conflict turns ${of(c.conflictTurns, c.maxConflictTurns)}${ignored}`,
    ];
  });
}

type RecordRead = { ok: true; record: RunRecord } | { ok: false; problem: string };

function recordOf(afkComment: AfkComment | null): RecordRead {
  if (afkComment === null) return { ok: false, problem: 'no afk comment' };
  const { parsed } = afkComment;
  if (parsed.ok) return { ok: true, record: parsed.record };
  const detail = parsed.detail === undefined ? '' : `: ${parsed.detail}`;
  return { ok: false, problem: `${parsed.reason}${detail}` };
}

export function furthestPhase(record: RunRecord): PhaseName | null {
  for (let i = phaseNames.length - 1; i >= 0; i -= 1) {
    const phase = phaseNames[i];
    if (phase !== undefined && record.phases[phase] !== undefined) return phase;
  }
  return null;
}

function threadState(snapshot: T3Snapshot, threadId: string): string {
  const thread = snapshot.threads.find((t) => t.id === threadId);
  if (thread === undefined || thread.deleted) return 'missing';
  const turn = thread.latestTurn?.state ?? 'no turn';
  const session = thread.session?.status ?? 'no session';
  return `${turn}/${session}${thread.archived ? ' (archived)' : ''}`;
}

const shortSha = (sha: string) => sha.slice(0, 7);

/** Only what the record already knows: status never reads CI itself. */
function ciVerdict(record: RunRecord): string | null {
  if (record.ciGreen !== undefined) return `green ${shortSha(record.ciGreen.sha)}`;
  const subject = record.subject;
  if (subject === undefined) return null;
  if (record.fixForwardShas?.includes(subject.sha) === true) return `red ${shortSha(subject.sha)}`;
  return `judging ${shortSha(subject.sha)}`;
}

/**
 * The ready queue in poll's order, each with why it waits. `trust` holds what the command
 * learned of the labelers of the issues poll would take next (the same lookups poll makes), so
 * an issue whose ready label an untrusted account applied shows why it is never started. An
 * issue whose labeler was not looked up is shown as next, to be checked when poll takes it.
 */
export function describeQueue(input: {
  config: Pick<Config, 'labels' | 'dispatch' | 'trust'>;
  ready: Issue[];
  inProgress: Issue[];
  trust?: ReadonlyMap<string, TrustFact>;
  /** Repos that could not be read: counted full against the global cap, as poll does. */
  unreadableRepos?: readonly string[];
  /** With several T3 servers: their capacity and the ones that could not be read, as poll. */
  servers?: readonly ServerSlot[];
}): QueueEntry[] {
  const { config } = input;
  const selection = selectDispatchable({ ...input, trust: input.trust ?? new Map() });
  const waits = new Map<string, { waits: QueueWait; detail: string }>();
  for (const issue of selection.selected) {
    waits.set(issueKey(issue), { waits: 'next', detail: 'would dispatch next' });
  }
  for (const issue of selection.needTrust) {
    waits.set(issueKey(issue), {
      waits: 'next',
      detail: 'would dispatch next (labeler checked at dispatch)',
    });
  }
  for (const skipped of selection.skipped) {
    waits.set(issueKey(skipped.issue), { waits: skipped.reason, detail: skipped.detail });
  }
  // Poll's order for candidates; issues that are not candidates at all come last.
  const notCandidate = (issue: Issue) =>
    ['in-progress', 'needs-human'].includes(waits.get(issueKey(issue))?.waits ?? '') ? 1 : 0;
  const compare = compareCandidates(config.labels.priorities);
  const ordered = [...input.ready].sort(
    (a, b) => notCandidate(a) - notCandidate(b) || compare(a, b),
  );
  return ordered.map((issue, i) => {
    const rank = priorityRank(issue, config.labels.priorities);
    const why = waits.get(issueKey(issue)) ?? { waits: 'next' as const, detail: '' };
    return {
      position: i + 1,
      issue: issueKey(issue),
      url: issue.url,
      priority: config.labels.priorities[rank] ?? null,
      createdAt: issue.createdAt,
      ...why,
    };
  });
}

/** The escalated issues whose records status reads: the newest first, at most `limit`. */
export function newestEscalations(issues: Issue[], limit = MAX_ESCALATIONS): Issue[] {
  return [...issues]
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.number - a.number)
    .slice(0, limit);
}

export function describeEscalation(issue: Issue, afkComment: AfkComment | null): EscalationView {
  const base = { issue: issueKey(issue), url: issue.url };
  const record = recordOf(afkComment);
  if (!record.ok) {
    return {
      ...base,
      attempt: null,
      reason: `no reason on record (${record.problem})`,
      escalatedAt: null,
    };
  }
  const run = record.record;
  const reason =
    run.outcome === 'escalated'
      ? (run.reason ?? 'escalated')
      : `labelled by hand (last run: ${run.outcome ?? 'live'})`;
  return {
    ...base,
    attempt: run.attempt,
    reason,
    escalatedAt: run.outcome === 'escalated' ? (run.endedAt ?? null) : null,
  };
}

export function formatAge(minutes: number | null): string {
  if (minutes === null) return '-';
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** Left-aligned columns two spaces apart, headed; trailing spaces trimmed. */
export function renderTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

export function summarizeStatus(view: StatusView): string {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const t3 = view.t3Unreadable === null ? '' : '; T3 unknown';
  const failed = view.failures.length === 0 ? '' : `; ${view.failures.length} unreadable`;
  return `status: ${plural(view.runs.length, 'live run', 'live runs')}, ${view.queue.length} queued, ${plural(view.escalations.length, 'escalation', 'escalations')}${t3}${failed}`;
}

/** The rows a table shows: all with a limit of 0, else the first `limit` and a count of the rest. */
function capRows(table: string[], rows: number, limit: number): string[] {
  const [header = '', ...body] = table;
  if (limit === 0 || rows <= limit) return table;
  return [header, ...body.slice(0, limit), `  … and ${rows - limit} more (--limit 0 shows all)`];
}

/** A titled table, after a blank line, with `empty` in place of a table without rows. */
function renderSection(
  title: string,
  empty: string,
  headers: string[],
  rows: string[][],
  limit: number,
): string[] {
  const heading = ['', `${title} (${rows.length})`];
  if (rows.length === 0) return [...heading, `  ${empty}`];
  return [...heading, ...capRows(renderTable(headers, rows), rows.length, limit)];
}

const runRow = (run: LiveRunView): string[] => [
  `${run.issue}${run.state === 'closed' ? ' (closed)' : ''}`,
  run.attempt === null ? '-' : String(run.attempt),
  run.phase === null ? '-' : phaseLabels[run.phase],
  run.thread,
  run.ci ?? '-',
  formatAge(run.ageMinutes),
  run.fixForwards === null ? '-' : `${run.fixForwards}/${run.maxFixForwards}`,
  run.problem ?? run.now ?? '-',
];

/** The T3 servers: a down one's runs show THREAD unknown, and its repos start nothing. */
function renderServers(servers: readonly ServerView[]): string[] {
  const rows = servers.map((server) => [
    server.name,
    server.host,
    `${server.liveRuns}/${server.capacity}`,
    server.error === null ? 'reachable' : `unreachable: ${server.error}`,
  ]);
  return renderSection('T3 servers', 'none', ['SERVER', 'HOST', 'RUNS', 'STATE'], rows, 0);
}

/** `limit` caps each table's rows (0: no cap); JSON, built from the view, always has them all. */
export function renderStatus(view: StatusView, options: { limit?: number } = {}): string {
  const limit = options.limit ?? 0;
  const gates = view.gates.killSwitch
    ? 'kill switch ON: poll and watch do nothing'
    : 'kill switch off';
  const lines = [
    `gates: ${gates}; ${view.gates.repos.length} repo(s): ${view.gates.repos.join(', ')}`,
  ];
  if (view.servers !== undefined) lines.push(...renderServers(view.servers));
  const runHeaders = ['ISSUE', 'ATTEMPT', 'PHASE', 'THREAD', 'CI', 'AGE', 'FIX-FORWARDS', 'NOW'];
  lines.push(...renderSection('live runs', 'none', runHeaders, view.runs.map(runRow), limit));
  lines.push(...conversationLines(view.runs));
  if (view.t3Unreadable !== null) {
    lines.push(`  THREAD unknown: T3 could not be read (${view.t3Unreadable})`);
  }
  const queue = view.queue.map((entry) => [
    String(entry.position),
    entry.issue,
    entry.priority ?? '-',
    entry.waits === 'next' ? entry.detail : `${entry.waits}: ${entry.detail}`,
  ]);
  lines.push(...renderSection('queue', 'empty', ['#', 'ISSUE', 'PRIORITY', 'WAITS'], queue, limit));
  const escalations = view.escalations.map((e) => [
    e.issue,
    e.attempt === null ? '-' : String(e.attempt),
    e.escalatedAt ?? '-',
    e.reason,
  ]);
  const escalationHeaders = ['ISSUE', 'ATTEMPT', 'ESCALATED', 'REASON'];
  lines.push(...renderSection('escalations', 'none', escalationHeaders, escalations, limit));
  if (view.failures.length > 0) lines.push('');
  for (const failure of view.failures) lines.push(`unreadable: ${failure}`);
  lines.push('', summarizeStatus(view));
  return `${lines.join('\n')}\n`;
}
