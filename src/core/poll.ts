// Poll's decisions after selection: the steps that dispatch one issue, each included only if
// the observed world lacks it. Ids are deterministic, so a tick that died after any step
// recomputes the same ids, finds what the dead tick made, and does only what is missing.
import {
  attemptFor,
  newRunRecord,
  renderChecklist,
  type AfkComment,
  type RunRecord,
} from './checklist.js';
import { threadStep } from './commands.js';
import type { Config } from './config.js';
import { commandIdFor, MAX_ATTEMPT_SCAN, messageIdFor, projectIdFor, threadIdFor } from './ids.js';
import { planDuplicateCleanup, type Action } from './plan.js';
import { branchFor, buildFirstTurn, modelFor, sanitizeLine, workspaceRootFor } from './prompt.js';
import { hasLabel, type Issue, type T3Snapshot, type T3Thread } from './types.js';

export interface DispatchFacts {
  config: Config;
  issue: Issue;
  /** afk's comment on the issue, if it has one. */
  afkComment: AfkComment | null;
  snapshot: T3Snapshot;
  now: Date;
}

type DispatchRefusal = { ok: false; reason: string };

export type DispatchPlan =
  { ok: true; attempt: number; threadId: string; actions: Action[] } | DispatchRefusal;

/**
 * An attempt is over when a human archived or deleted its thread. Without a readable record (a
 * human deleted afk's comment) a stopped session also ends it: afk stops the session when it
 * escalates, and taking that thread back would replay the old attempt's evidence (the same
 * blocked reason, a second doorbell). A dispatch that died before its comment leaves a thread
 * whose session is idle or running, never stopped, so it is still resumed.
 */
const isGone = (thread: T3Thread | undefined, recorded: boolean): boolean =>
  thread !== undefined &&
  (thread.archived || thread.deleted || (!recorded && thread.session?.status === 'stopped'));

/** Did the first turn reach T3? Right after turn.start the snapshot may show none of this. */
const turnStarted = (thread: T3Thread): boolean =>
  thread.latestTurn !== null ||
  thread.session !== null ||
  (thread.messages ?? []).some((m) => m.role === 'user');

export function planDispatch(facts: DispatchFacts): DispatchPlan {
  const { config, issue, afkComment, snapshot, now } = facts;
  const record = afkComment?.parsed.ok === true ? afkComment.parsed.record : null;
  const threads = new Map(snapshot.threads.map((t) => [t.id, t]));
  const attempt = skipGoneAttempts(issue, record, threads);
  if (!attempt.ok) return attempt;
  const { threadId, thread } = attempt;

  const project = resolveProject(config, issue, snapshot);
  if (!project.ok) return project;

  const ref = { repo: issue.repo, number: issue.number };
  const actions: Action[] = [
    ...planDuplicateCleanup(ref, afkComment),
    ...planSupersede(issue, record, threadId, threads),
    ...planT3Steps(config, issue, project, threadId, thread),
  ];
  const body = renderChecklist(nextRecord(record, attempt.attempt, threadId, now));
  if (afkComment === null || afkComment.comment.body !== body) {
    actions.push({
      kind: 'upsertChecklist',
      issue: ref,
      commentId: afkComment?.comment.id ?? null,
      previous: afkComment?.comment.body ?? null,
      body,
    });
  }
  // The lock goes on only after the dispatch succeeded (the executor stops an issue's steps
  // at its first failure), and before the ready label comes off, so no crash loses the issue.
  actions.push(...planLabelSwap(config, issue));
  return { ok: true, attempt: attempt.attempt, threadId, actions };
}

/** An attempt whose thread a human archived or deleted is over, whatever the record says. */
function skipGoneAttempts(
  issue: Issue,
  record: RunRecord | null,
  threads: ReadonlyMap<string, T3Thread>,
): { ok: true; attempt: number; threadId: string; thread: T3Thread | undefined } | DispatchRefusal {
  const recorded = record !== null;
  let attempt = attemptFor(record);
  for (
    let i = 0;
    i < MAX_ATTEMPT_SCAN && isGone(threads.get(threadIdFor(issue, attempt)), recorded);
    i++
  ) {
    attempt += 1;
  }
  const threadId = threadIdFor(issue, attempt);
  const thread = threads.get(threadId);
  if (isGone(thread, recorded))
    return { ok: false, reason: `too many archived attempts (${attempt})` };
  return { ok: true, attempt, threadId, thread };
}

/**
 * The previous attempt's thread, put away before a new attempt starts beside it. A run that
 * escalated waiting on an approval or a question kept its session for the answer
 * (`awaiting`); re-queued, that agent must not go on working next to the new one, nor take an
 * answer given in T3. Its session is stopped and the thread archived, each only if T3 still
 * lacks it (the record still says `awaiting` until this dispatch writes the new one, so a
 * tick that died after the stop archives next time). A session that is live for any other
 * reason is stopped too. Keyed like watch's own stop and archive of that attempt.
 */
function planSupersede(
  issue: Issue,
  record: RunRecord | null,
  threadId: string,
  threads: ReadonlyMap<string, T3Thread>,
): Action[] {
  if (record === null || record.threadId === threadId) return [];
  const old = threads.get(record.threadId);
  if (old === undefined || old.deleted) return [];
  const live = old.session !== null && old.session.status !== 'stopped';
  const kept = record.outcome === 'escalated' && record.awaiting !== undefined;
  const ref = { repo: issue.repo, number: issue.number };
  const command = (step: 'stop' | 'archive') => ({
    commandId: commandIdFor(old.id, threadStep(record, step)),
    threadId: old.id,
  });
  const actions: Action[] = [];
  if (live) actions.push({ kind: 'stopSession', issue: ref, command: command('stop') });
  if ((live || kept) && !old.archived) {
    actions.push({ kind: 'archiveThread', issue: ref, command: command('archive') });
  }
  return actions;
}

/** The T3 side of a dispatch, each step only if T3 lacks it: project, thread, first turn. */
function planT3Steps(
  config: Config,
  issue: Issue,
  project: { projectId: string; create: boolean },
  threadId: string,
  thread: T3Thread | undefined,
): Action[] {
  const ref = { repo: issue.repo, number: issue.number };
  const actions: Action[] = [];
  if (project.create) {
    actions.push({
      kind: 'ensureProject',
      issue: ref,
      command: {
        commandId: commandIdFor(project.projectId, 'create'),
        projectId: project.projectId,
        title: issue.repo,
        workspaceRoot: workspaceRootFor(config, issue.repo),
        defaultModelSelection: { instanceId: config.t3.instanceId, model: config.t3.model },
      },
    });
  }
  if (thread === undefined) {
    actions.push({
      kind: 'createThread',
      issue: ref,
      command: {
        commandId: commandIdFor(threadId, 'create'),
        threadId,
        projectId: project.projectId,
        title: sanitizeLine(`${issue.repo}#${issue.number}: ${issue.title}`, 200),
        modelSelection: modelFor(config, issue),
        runtimeMode: config.t3.runtimeMode,
        interactionMode: 'default',
        branch: config.delivery.mode === 'pull-request' ? branchFor(config, issue.number) : null,
      },
    });
  }
  if (thread === undefined || !turnStarted(thread)) {
    actions.push({
      kind: 'startTurn',
      issue: ref,
      purpose: 'first-turn',
      command: {
        commandId: commandIdFor(threadId, 'turn-1'),
        threadId,
        messageId: messageIdFor(threadId, 'turn-1'),
        text: buildFirstTurn(config, issue),
        runtimeMode: config.t3.runtimeMode,
        interactionMode: 'default',
      },
    });
  }
  return actions;
}

/** The record of the attempt being dispatched: resumed if it is the live one, else new. */
function nextRecord(
  record: RunRecord | null,
  attempt: number,
  threadId: string,
  now: Date,
): RunRecord {
  if (record !== null && record.attempt === attempt && record.outcome === null) {
    return { ...record, threadId };
  }
  const history = record?.history ?? [];
  const ended =
    record !== null && record.outcome !== null
      ? [
          ...history,
          {
            attempt: record.attempt,
            threadId: record.threadId,
            outcome: record.outcome,
            ...(record.reason === undefined ? {} : { reason: record.reason }),
          },
        ]
      : history;
  const dispatchedAt = now.toISOString();
  return newRunRecord({
    attempt,
    threadId,
    dispatchedAt,
    phases: { dispatched: dispatchedAt },
    history: ended,
  });
}

type ProjectChoice = { ok: true; projectId: string; create: boolean } | DispatchRefusal;

/**
 * One T3 project per repo, with a derived id. A live project an operator created by hand for
 * the same checkout is used as it is rather than duplicated.
 */
function resolveProject(config: Config, issue: Issue, snapshot: T3Snapshot): ProjectChoice {
  const projectId = projectIdFor(issue.repo);
  const own = snapshot.projects.find((p) => p.id === projectId);
  if (own !== undefined && !own.deleted) return { ok: true, projectId, create: false };
  const root = workspaceRootFor(config, issue.repo);
  const adopted = snapshot.projects.find((p) => !p.deleted && p.workspaceRoot === root);
  if (adopted !== undefined) return { ok: true, projectId: adopted.id, create: false };
  if (own !== undefined) {
    return {
      ok: false,
      reason: `T3 project ${projectId} for ${issue.repo} was deleted; create a project at ${root} in T3`,
    };
  }
  return { ok: true, projectId, create: true };
}

/** Desired minus observed: in-progress on, ready off, in that order. */
export function planLabelSwap(config: Config, issue: Issue): Action[] {
  const ref = { repo: issue.repo, number: issue.number };
  const has = (label: string) => hasLabel(issue, label);
  const actions: Action[] = [];
  if (!has(config.labels.inProgress)) {
    actions.push({ kind: 'addLabels', issue: ref, labels: [config.labels.inProgress] });
  }
  if (has(config.labels.ready)) {
    actions.push({ kind: 'removeLabels', issue: ref, labels: [config.labels.ready] });
  }
  return actions;
}

/**
 * An open issue with both the lock and the ready label is a swap a dead tick left half done
 * (or a ready label put back on a live run): the run owns the issue, so the ready label goes.
 */
export function planLabelRepairs(config: Config, inProgress: Issue[]): Action[] {
  return inProgress
    .filter((issue) => issue.state === 'open')
    .flatMap((issue) => planLabelSwap(config, issue));
}
