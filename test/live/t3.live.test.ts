// Opt-in smoke test against a real T3 Code server, proving the wiring the fake cannot: set
// AFK_LIVE_T3_URL and AFK_LIVE_T3_TOKEN (a token with orchestration:read is enough). It is
// read-only on purpose: it never dispatches, so it creates nothing on the server.
import { describe, expect, it } from 'vitest';
import { createT3Client } from '../../src/adapters/t3.js';

const url = process.env['AFK_LIVE_T3_URL'];
const token = process.env['AFK_LIVE_T3_TOKEN'];

// A real server over a real network may be slower than the unit tests' 15 s budget.
describe.skipIf(!url || !token)('T3 live server (read-only)', { timeout: 120_000 }, () => {
  const client = createT3Client({
    baseUrl: url ?? '',
    token: () => Promise.resolve(token ?? ''),
    timeoutMs: 20_000,
  });

  it('reads the environment descriptor', async () => {
    const environment = await client.readEnvironment();
    expect(environment.serverVersion).toMatch(/^v?\d+\.\d+\.\d+/);
  });

  it('parses the snapshot into the domain', async () => {
    const [environment, snapshot] = [await client.readEnvironment(), await client.readSnapshot()];
    expect(snapshot.detail).toBe(environment.detail);
    expect(Number.isInteger(snapshot.sequence)).toBe(true);
    for (const thread of snapshot.threads) {
      expect(thread.messages === null).toBe(snapshot.detail === 'slim');
    }
  });

  it('reads one thread in full when the server has the thread route', async () => {
    const snapshot = await client.readSnapshot();
    const first = snapshot.threads[0];
    if (first === undefined) return; // an empty server has no thread to read
    const thread = await client.readThread(first.id).catch((error: unknown) => {
      // Before v0.0.29 the route is missing, which the adapter reports as such.
      expect(error).toMatchObject({ kind: 'not-found', reason: 'thread_route_missing' });
      return undefined;
    });
    if (thread === undefined) return;
    expect(thread?.id).toBe(first.id);
    expect(Array.isArray(thread?.messages)).toBe(true);
  });
});
