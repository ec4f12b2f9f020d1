// Which ready issues poll starts this tick, and why every other one waits. The tick is
// stateless, so the locks are derived from labels: an issue carrying the in-progress label is
// a live run, whether it is open or (closed by a human or a merge) still being wound down.
import type { Config } from './config.js';
import {
  hasLabel,
  issueKey,
  type Issue,
  type IssueRef,
  type LabelEvent,
  type Permission,
} from './types.js';

/** What afk learned about who applied the ready label. */
export type TrustFact =
  | { ok: true; labeler: string | null; permission: Permission | null }
  | { ok: false; error: string };

export type SkipReason =
  | 'in-progress'
  | 'needs-human'
  | 'global-cap'
  | 'repo-busy'
  | 'tick-cap'
  | 'server-full'
  | 'server-down'
  | 'unknown-labeler'
  | 'untrusted-labeler'
  | 'trust-check-failed';

export interface Skipped {
  issue: IssueRef;
  reason: SkipReason;
  detail: string;
}

export interface DispatchInput {
  config: Pick<Config, 'labels' | 'dispatch' | 'trust'>;
  /** Open issues carrying the ready label, in allow-listed repos. */
  ready: Issue[];
  /** Issues carrying the in-progress label (open or closed): the live runs. */
  inProgress: Issue[];
  /** Trust facts gathered so far, by issueKey. */
  trust: ReadonlyMap<string, TrustFact>;
  /**
   * Allow-listed repos that could not be read this tick: their live runs are unknown, so each
   * counts as full (`maxRunsPerRepo` runs, the most afk starts in one repo) against the global
   * cap. Counting them as empty could start more runs than `maxConcurrentRuns` allows.
   */
  unreadableRepos?: readonly string[];
  /**
   * With several T3 servers (`t3.servers`): each one's capacity and repos, and why it could not
   * be read this tick, if it could not. Absent: one server, capped only by the dispatch caps.
   */
  servers?: readonly ServerSlot[];
}

/** A T3 server as selection sees it: how many live runs it may host, and whose. */
export interface ServerSlot {
  name: string;
  capacity: number;
  repos: readonly string[];
  /** Set when the server could not be read: its repos start nothing this tick. */
  down?: string | undefined;
}

export interface DispatchSelection {
  selected: Issue[];
  skipped: Skipped[];
  /**
   * Candidates that would be selected if their labeler is trusted, but whose labeler is not
   * known yet. The caller looks them up and calls again: only issues that could really be
   * dispatched cost a lookup, so a tick's reads do not grow with the queue.
   */
  needTrust: Issue[];
}

/** Rank of an issue's best priority label; unlabelled issues sort after all. */
export function priorityRank(issue: Issue, priorities: readonly string[]): number {
  const ranks = priorities.map((p, i) => (hasLabel(issue, p) ? i : -1)).filter((rank) => rank >= 0);
  return ranks.length === 0 ? priorities.length : Math.min(...ranks);
}

/** Priority first (P0 before P1, unlabelled last), then oldest, then repo and number. */
export function compareCandidates(priorities: readonly string[]) {
  return (a: Issue, b: Issue): number =>
    priorityRank(a, priorities) - priorityRank(b, priorities) ||
    Date.parse(a.createdAt) - Date.parse(b.createdAt) ||
    a.repo.localeCompare(b.repo) ||
    a.number - b.number;
}

export function selectDispatchable(input: DispatchInput): DispatchSelection {
  const live = countLiveRuns(input);
  const { candidates, skipped } = sortReady(input, live.keys);
  const admitted = admitCandidates(input, candidates, live);
  return { ...admitted, skipped: [...skipped, ...admitted.skipped] };
}

interface LiveRuns {
  keys: Set<string>;
  byRepo: ReadonlyMap<string, number>;
  /** Live runs per server name (unreadable repos counted full, as for the global cap). */
  byServer: ReadonlyMap<string, number>;
  /** Live runs, with the ones assumed for unreadable repos. */
  total: number;
  /** How the total was counted, when part of it is assumed. */
  counted: string;
}

function countLiveRuns(input: DispatchInput): LiveRuns {
  const byRepo = new Map<string, number>();
  const keys = new Set<string>();
  for (const run of input.inProgress) {
    if (keys.has(issueKey(run))) continue;
    keys.add(issueKey(run));
    byRepo.set(run.repo, (byRepo.get(run.repo) ?? 0) + 1);
  }
  const unknownRuns = (input.unreadableRepos?.length ?? 0) * input.config.dispatch.maxRunsPerRepo;
  const counted =
    unknownRuns === 0
      ? ''
      : ` (${unknownRuns} of them assumed: ${input.unreadableRepos?.join(', ')} could not be read)`;
  const byServer = countServerRuns(input, byRepo);
  return { keys, byRepo, byServer, total: keys.size + unknownRuns, counted };
}

function countServerRuns(input: DispatchInput, byRepo: ReadonlyMap<string, number>) {
  const byServer = new Map<string, number>();
  const unreadable = new Set(input.unreadableRepos?.map((r) => r.toLowerCase()));
  const runsIn = new Map<string, number>();
  for (const [repo, n] of byRepo) runsIn.set(repo.toLowerCase(), n);
  for (const server of input.servers ?? []) {
    const runs = server.repos.reduce((sum, repo) => {
      const key = repo.toLowerCase();
      const assumed = unreadable.has(key) ? input.config.dispatch.maxRunsPerRepo : 0;
      return sum + (runsIn.get(key) ?? 0) + assumed;
    }, 0);
    byServer.set(server.name, runs);
  }
  return byServer;
}

/** The slot of the server `repo` is pinned to; undefined with one server. */
function slotOf(input: DispatchInput, repo: string): ServerSlot | undefined {
  const wanted = repo.toLowerCase();
  return input.servers?.find((s) => s.repos.some((r) => r.toLowerCase() === wanted));
}

/** The ready issues no run owns and no human holds, best first. */
function sortReady(
  input: DispatchInput,
  liveKeys: ReadonlySet<string>,
): { candidates: Issue[]; skipped: Skipped[] } {
  const { labels } = input.config;
  const skipped: Skipped[] = [];
  const candidates: Issue[] = [];
  for (const issue of input.ready) {
    if (liveKeys.has(issueKey(issue)) || hasLabel(issue, labels.inProgress)) {
      skipped.push(skip(issue, 'in-progress', `a run already owns it (${labels.inProgress})`));
    } else if (hasLabel(issue, labels.human)) {
      skipped.push(
        skip(issue, 'needs-human', `it carries ${labels.human}: remove that label to re-queue`),
      );
    } else {
      candidates.push(issue);
    }
  }
  candidates.sort(compareCandidates(labels.priorities));
  return { candidates, skipped };
}

/** Candidates in order, while the caps allow, if their labeler is trusted. */
function admitCandidates(
  input: DispatchInput,
  candidates: Issue[],
  live: LiveRuns,
): DispatchSelection {
  const selection: DispatchSelection = { selected: [], skipped: [], needTrust: [] };
  const byRepo = new Map(live.byRepo);
  const byServer = new Map(live.byServer);
  let { total } = live;
  let taken = 0;
  for (const issue of candidates) {
    const repoLive = byRepo.get(issue.repo) ?? 0;
    const slot = slotOf(input, issue.repo);
    const server = slot === undefined ? null : { slot, live: byServer.get(slot.name) ?? 0 };
    const count = { total, taken, repoLive, server };
    const capped = capOf(input.config.dispatch, issue, count, live.counted);
    if (capped !== null) {
      selection.skipped.push(capped);
      continue;
    }
    const verdict = judgeTrust(input.config.trust.labelers, input.trust.get(issueKey(issue)));
    if (verdict.kind === 'untrusted') {
      selection.skipped.push(skip(issue, verdict.reason, verdict.detail));
      continue;
    }
    (verdict.kind === 'unknown' ? selection.needTrust : selection.selected).push(issue);
    // A candidate waiting on its trust lookup holds its place, so the lookup is spent only
    // on issues that would really be dispatched.
    taken += 1;
    total += 1;
    byRepo.set(issue.repo, repoLive + 1);
    if (server !== null) byServer.set(server.slot.name, server.live + 1);
  }
  return selection;
}

/**
 * The first cap that holds `issue` back, or null. A server that could not be read comes
 * first: nothing can start there, whatever the caps. Its capacity is beside the global and
 * per-repo caps, never instead of them.
 */
function capOf(
  dispatch: Config['dispatch'],
  issue: Issue,
  count: {
    total: number;
    taken: number;
    repoLive: number;
    server: { slot: ServerSlot; live: number } | null;
  },
  counted: string,
): Skipped | null {
  const { server } = count;
  if (server?.slot.down !== undefined) {
    const detail = `T3 server ${server.slot.name} could not be read: ${server.slot.down}`;
    return skip(issue, 'server-down', detail);
  }
  if (count.total >= dispatch.maxConcurrentRuns) {
    const detail = `${count.total} of ${dispatch.maxConcurrentRuns} runs live${counted}`;
    return skip(issue, 'global-cap', detail);
  }
  if (count.taken >= dispatch.maxDispatchesPerTick) {
    return skip(issue, 'tick-cap', `${dispatch.maxDispatchesPerTick} dispatch(es) per tick`);
  }
  if (server !== null && server.live >= server.slot.capacity) {
    const detail = `${server.live} of ${server.slot.capacity} runs live on T3 server ${server.slot.name}`;
    return skip(issue, 'server-full', detail);
  }
  if (count.repoLive >= dispatch.maxRunsPerRepo) {
    const detail = `${count.repoLive} of ${dispatch.maxRunsPerRepo} runs live in ${issue.repo}`;
    return skip(issue, 'repo-busy', detail);
  }
  return null;
}

const skip = (issue: IssueRef, reason: SkipReason, detail: string): Skipped => ({
  issue: { repo: issue.repo, number: issue.number },
  reason,
  detail,
});

type TrustVerdict =
  | { kind: 'trusted' }
  | { kind: 'unknown' }
  | { kind: 'untrusted'; reason: SkipReason; detail: string };

/**
 * An agent runs with full access, so applying the ready label is a remote code execution
 * path: only a labeler with write access (or one of the listed logins) may start a run.
 */
export function judgeTrust(
  labelers: Config['trust']['labelers'],
  fact: TrustFact | undefined,
): TrustVerdict {
  if (labelers === 'any') return { kind: 'trusted' };
  if (fact === undefined) return { kind: 'unknown' };
  if (!fact.ok) {
    return { kind: 'untrusted', reason: 'trust-check-failed', detail: fact.error };
  }
  if (fact.labeler === null) {
    return {
      kind: 'untrusted',
      reason: 'unknown-labeler',
      detail: 'no label event shows who applied the ready label',
    };
  }
  if (Array.isArray(labelers)) {
    const listed = labelers.some((l) => l.toLowerCase() === fact.labeler?.toLowerCase());
    return listed
      ? { kind: 'trusted' }
      : {
          kind: 'untrusted',
          reason: 'untrusted-labeler',
          detail: `${fact.labeler} is not in trust.labelers`,
        };
  }
  if (fact.permission === 'admin' || fact.permission === 'write') return { kind: 'trusted' };
  return {
    kind: 'untrusted',
    reason: 'untrusted-labeler',
    detail: `${fact.labeler} applied the ready label with ${fact.permission ?? 'unknown'} permission; write is required`,
  };
}

/** Does trust need the labeler's permission, or only the login? */
export const trustNeedsPermission = (labelers: Config['trust']['labelers']): boolean =>
  labelers === 'write-access';

/** Who applied the label the issue carries now: the latest `labeled` event for it. */
export function findLabeler(events: LabelEvent[], label: string): string | null {
  const wanted = label.toLowerCase();
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const event = events[i];
    if (event?.action === 'labeled' && event.label.toLowerCase() === wanted) return event.actor;
  }
  return null;
}
