// How the Forgejo fake refuses a request: a Refusal thrown inside a route becomes Forgejo's
// error answer.
/**
 * Thrown inside a route: becomes Forgejo's error answer. `message: null` is a bare status with
 * an empty body (Forgejo's `ctx.Status(403)`); `errors` makes it the 404 shape.
 */
export class Refusal {
  constructor(
    readonly status: number,
    readonly message: string | null,
    readonly errors?: string[],
  ) {}
}

export const notFound = (...errors: string[]) =>
  new Refusal(404, "The target couldn't be found.", errors);

export function unsupported(query: URLSearchParams, implemented: string[]): void {
  for (const name of query.keys()) {
    if (!implemented.includes(name)) {
      throw new Refusal(501, `forgejo fake: query parameter "${name}" is not implemented`);
    }
  }
}
