// Every id afk sends to T3 is derived, never random: a tick that died between two steps
// recomputes the same ids, T3 answers a repeated accepted commandId with its original
// sequence, and the rerun completes the dispatch instead of starting a second one.
import { v5 as uuidv5 } from 'uuid';
import type { IssueRef, RepoName } from './types.js';

/** afk's own UUIDv5 namespace (a fixed random v4, never to change: ids would change with it). */
const AFK_NAMESPACE = '5d0c7a4e-52a1-4f0e-9a2b-8f3c0a1e6b7d';

export const projectIdFor = (repo: RepoName): string => uuidv5(`project:${repo}`, AFK_NAMESPACE);

/**
 * How far afk looks through an issue's attempts (`threadIdFor(issue, 1..)`) for its threads:
 * a bound on the scan, far above the attempts any issue gets before a human steps in.
 */
export const MAX_ATTEMPT_SCAN = 100;

export const threadIdFor = (issue: IssueRef, attempt: number): string =>
  uuidv5(`thread:${issue.repo}#${issue.number}:attempt-${attempt}`, AFK_NAMESPACE);

/** `step` names the command's place in the run: `create`, `turn-1`, `fix-forward-2`, `stop`. */
export const commandIdFor = (scope: string, step: string): string =>
  uuidv5(`command:${scope}:${step}`, AFK_NAMESPACE);

export const messageIdFor = (threadId: string, step: string): string =>
  uuidv5(`message:${threadId}:${step}`, AFK_NAMESPACE);
