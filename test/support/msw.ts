// One msw server per test file, refusing any request no fake answers, and a log of every
// request seen (method and URL) so a test can assert that nothing was sent, or nothing but reads.
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';

export function useMswServer() {
  const server = setupServer();
  const seen: string[] = [];
  server.events.on('request:start', ({ request }) => {
    seen.push(`${request.method} ${request.url}`);
  });
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
  return { server, seen };
}
