// End to end: the built binary (bin/afk.js → dist/) in child processes, against the loopback
// emulators, through the demo's whole story. `npm test` builds dist/ first.
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../tools/demo/run.js';

describe.each(['github', 'forgejo'] as const)(
  'the demo on %s, run by the built CLI against the loopback emulators',
  (forge) => {
    it('takes one issue from ready to closed and hands one to a human', async () => {
      const lines: string[] = [];
      const result = await runDemo((line) => lines.push(line), forge);
      const output = lines.join('\n');

      expect(result.exitCodes).toEqual([0, 0, 0, 0, 0, 0, 0]);
      expect(result.issues).toEqual({
        'acme/api#1': { state: 'closed', labels: ['P1'] },
        'acme/web#1': { state: 'open', labels: ['P2', 'ready-for-human'] },
      });
      expect(result.doorbells).toEqual([
        expect.stringContaining(
          'acme/api#1 "Login rejects valid passwords with a trailing space": review requested',
        ),
        expect.stringContaining('acme/web#1 "Add a dark mode toggle": fix-forward-exhausted'),
      ]);
      expect(output).toContain('poll: dispatched 2 (acme/api#1, acme/web#1); 0 waiting; 0 failed');
      expect(output).toContain('watch: 2 live run(s): 1 review-requested, 1 fix-forward; 0 failed');
      expect(output).toContain('### afk: done (attempt 1)');
      expect(output).toContain('**Escalated:** fix-forward-exhausted');
      expect(output).toContain('watch: no live runs');
    }, 60_000);
  },
);
