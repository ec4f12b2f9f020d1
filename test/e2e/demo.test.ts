// End to end: the built binary (bin/afk.js → dist/) in child processes, against the loopback
// emulators, through the demo's whole story. `npm test` builds dist/ first.
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../tools/demo/run.js';

describe.each(['github', 'forgejo'] as const)(
  'the demo on %s, run by the built CLI against the loopback emulators',
  (forge) => {
    it('carries a review to the agent and closes that issue; the other asks, is answered with /afk, goes on, and is handed to a human', async () => {
      const lines: string[] = [];
      const result = await runDemo((line) => lines.push(line), forge);
      const output = lines.join('\n');

      expect(result.exitCodes).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      expect(result.issues).toEqual({
        'acme/api#1': { state: 'closed', labels: ['P1'] },
        'acme/web#1': { state: 'open', labels: ['P2', 'ready-for-human'] },
      });
      expect(result.doorbells).toEqual([
        expect.stringContaining(
          'acme/web#1 "Add a dark mode toggle": needs-input: the agent waits for an answer',
        ),
        expect.stringContaining(
          'acme/api#1 "Login rejects valid passwords with a trailing space": review requested',
        ),
        // The notice rings again for the round the agent pushed.
        expect.stringContaining(
          'acme/api#1 "Login rejects valid passwords with a trailing space": review requested',
        ),
        expect.stringContaining('acme/web#1 "Add a dark mode toggle": fix-forward-exhausted'),
      ]);
      expect(output).toContain('poll: dispatched 2 (acme/api#1, acme/web#1); 0 waiting; 0 failed');
      expect(output).toContain('watch: 2 live run(s): 1 review-requested, 1 wait; 0 failed');
      expect(output).toContain('watch: 2 live run(s): 1 wait, 1 fix-forward; 0 failed');
      // The answer reached the agent once, on the thread that asked, and the run went on.
      expect(result.answers).toEqual([
        {
          threadId: result.threads['acme/web#1'],
          answers: {
            'default-theme': 'follow the OS setting until someone picks one, then remember it',
          },
        },
      ]);
      expect(output).toContain('**Escalated:** needs-input: the agent waits for an answer');
      expect(output).toContain("on the maintainer's comment: 👍 by afk-bot");
      expect(output).toMatch(
        /- @maintainer: `answer` \(comment \d+, [^)]+\): answered the agent's question/,
      );
      expect(output).toContain('watch: 1 live run(s): 1 wait, 1 command; 0 failed');
      // The change request reached the api agent once, on its own thread, with file and line.
      expect(result.reviewTurns).toEqual([
        { threadId: result.threads['acme/api#1'], text: expect.any(String) },
      ]);
      const [review] = result.reviewTurns;
      expect(review?.text.split('\n')[0]).toBe(
        'Review feedback, round 1 of 3, on pull request #2 for issue #1 of acme/api: address each item below.',
      );
      expect(review?.text).toContain(
        '- reviewer requested changes:\nOne change before this merges.',
      );
      expect(review?.text).toContain(
        '- reviewer on src/auth/login.ts line 12:\nTrim only the end: a leading space is part of the password.',
      );
      expect(output).toContain('watch: 2 live run(s): 1 review, 1 wait; 0 failed');
      expect(output).toContain('Review round 1: 2 item(s) from reviewer sent to the agent.');
      expect(output).toContain('### afk: done (attempt 1)');
      expect(output).toContain('**Escalated:** fix-forward-exhausted');
      expect(output).toContain('watch: no live runs');
    }, 120_000);
  },
);
