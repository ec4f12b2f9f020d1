// How the GitHub fake refuses a request: a Refusal thrown inside a route becomes GitHub's error
// answer (status, message, documentation_url, errors), and the checks of request bodies and
// queries that throw them.
import { isObject } from '../forge-core.js';

export const docs = 'https://docs.github.com/rest';

/** Thrown inside a route: becomes GitHub's error answer. */
export class Refusal {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly documentation: string = docs,
    readonly errors?: unknown[],
  ) {}
}

export function jsonObject(
  body: unknown,
  rawBody: string,
  documentation: string,
): Record<string, unknown> {
  if (rawBody !== '' && body === rawBody)
    throw new Refusal(400, 'Problems parsing JSON', documentation);
  if (!isObject(body))
    throw new Refusal(
      422,
      'Invalid request.\n\nInvalid input: body is not an object.',
      documentation,
    );
  return body;
}

// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
const maxCommentLength = 65_536;

export function commentBody(fields: Record<string, unknown>, documentation: string): string {
  const body = fields['body'];
  if (typeof body !== 'string')
    throw new Refusal(422, 'Invalid request.\n\n"body" wasn\'t supplied.', documentation);
  if (body.trim() === '') {
    throw new Refusal(422, 'Validation Failed', documentation, [
      { resource: 'IssueComment', code: 'missing_field', field: 'body' },
    ]);
  }
  if (body.length > maxCommentLength) {
    throw new Refusal(422, 'Validation Failed', documentation, [
      {
        resource: 'IssueComment',
        code: 'custom',
        field: 'body',
        message: `body is too long (maximum is ${maxCommentLength} characters)`,
      },
    ]);
  }
  return body;
}

export function labelNames(given: unknown, documentation: string): string[] {
  if (!Array.isArray(given))
    throw new Refusal(422, 'Invalid request.\n\n"labels" is not an array.', documentation);
  return given.map((item) => {
    const name = typeof item === 'string' ? item : isObject(item) ? item['name'] : undefined;
    // https://docs.github.com/en/rest/issues/labels#create-a-label (names are at most 50 characters)
    if (typeof name !== 'string' || name.trim() === '' || name.length > 50) {
      throw new Refusal(422, 'Validation Failed', documentation, [
        { resource: 'Label', code: 'invalid', field: 'name' },
      ]);
    }
    return name;
  });
}

export function invalidField(resource: string, field: string, documentation: string): Refusal {
  return new Refusal(422, 'Validation Failed', documentation, [
    { resource, code: 'invalid', field },
  ]);
}

export function oneOf<T extends string>(
  value: string,
  allowed: readonly T[],
  field: string,
  documentation: string,
): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw invalidField('Issue', field, documentation);
  return found;
}

export function unsupported(query: URLSearchParams, implemented: string[]): void {
  for (const name of query.keys()) {
    if (!implemented.includes(name)) {
      throw new Refusal(501, `github fake: query parameter "${name}" is not implemented`);
    }
  }
}
