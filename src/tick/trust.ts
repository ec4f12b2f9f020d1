// Who applied each ready label, looked up for the issues poll would start next. Poll decides
// with it; status shows it, so that an untrusted issue is shown with the reason poll skips it.
import {
  describeError,
  findLabeler,
  issueKey,
  selectDispatchable,
  trustNeedsPermission,
  type Config,
  type Issue,
  type Permission,
  type RepoName,
  type ServerSlot,
  type Tracker,
  type TrustFact,
} from '../core/index.js';
import { mapLimit, READ_CONCURRENCY } from './map-limit.js';
import type { Failure } from './report.js';

export interface TrustQueue {
  ready: Issue[];
  inProgress: Issue[];
  /** Repos left out: their caps cannot be counted. */
  unreadableRepos: RepoName[];
  /** With several T3 servers: their capacity, and the ones that could not be read. */
  servers?: ServerSlot[];
}

/**
 * Selection needs to know who applied each ready label, but only for issues that would be
 * dispatched: look those up, decide again, and repeat while an untrusted labeler freed a slot.
 * An issue whose labeler cannot be read is a failure of that issue, returned with the rest.
 */
export async function selectWithTrust(tracker: Tracker, config: Config, queue: TrustQueue) {
  const trust = new Map<string, TrustFact>();
  const failures: Failure[] = [];
  const readTrust = trustReader(tracker, config);
  const select = () => selectDispatchable({ config, ...queue, trust });
  let selection = select();
  while (selection.needTrust.length > 0) {
    const facts = await mapLimit(selection.needTrust, READ_CONCURRENCY, readTrust);
    selection.needTrust.forEach((issue, i) => {
      const fact = facts[i] as TrustFact;
      trust.set(issueKey(issue), fact);
      if (!fact.ok) failures.push({ issue, error: fact.error });
    });
    selection = select();
  }
  return { ...selection, trust, failures };
}

/** Reads who applied an issue's ready label, and that labeler's permission when it matters. */
function trustReader(tracker: Tracker, config: Config) {
  const permissions = new Map<string, Promise<Permission>>();
  const permissionOf = (repo: string, login: string) => {
    const key = `${repo}\u0000${login.toLowerCase()}`;
    let known = permissions.get(key);
    if (known === undefined) {
      known = tracker.getPermission(repo, login);
      permissions.set(key, known);
    }
    return known;
  };
  return async (issue: Issue): Promise<TrustFact> => {
    try {
      const labeler = findLabeler(await tracker.listLabelEvents(issue), config.labels.ready);
      const needs = labeler !== null && trustNeedsPermission(config.trust.labelers);
      const permission = needs ? await permissionOf(issue.repo, labeler) : null;
      return { ok: true, labeler, permission };
    } catch (error) {
      const message = `cannot tell who applied ${config.labels.ready}: ${describeError(error)}`;
      return { ok: false, error: message };
    }
  };
}
