// What both tracker adapters do at their edge the same way: split `owner/name`, and turn an
// answer into a domain value only after it passed its schema, naming the first field that did
// not (never the body itself: it may quote an issue or a token).
import type * as z from 'zod';
import { TrackerError } from '../core/errors.js';
import type { RepoName } from '../core/types.js';

/** Where a body came from, for the error when it is not what afk expects. */
export interface Origin {
  request: string;
  status: number;
}

export function read<T>(schema: z.ZodType<T>, data: unknown, { request, status }: Origin): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.');
  throw new TrackerError({
    kind: 'malformed',
    request,
    status,
    reason: `${where}: ${issue?.message ?? 'unexpected shape'}`,
  });
}

export function splitRepo(repo: RepoName): { owner: string; name: string } {
  const [owner, name, ...rest] = repo.split('/');
  if (owner === undefined || owner === '' || name === undefined || name === '' || rest.length > 0) {
    throw new TrackerError({
      kind: 'contract',
      request: `(repo "${repo}")`,
      reason: 'expected owner/name',
    });
  }
  return { owner, name };
}
