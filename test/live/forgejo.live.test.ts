// Opt-in smoke test against a real Forgejo (or Gitea) server. Read-only: it never writes.
//   AFK_LIVE_FORGEJO_URL=https://forgejo.example/api/v1 AFK_LIVE_FORGEJO_REPO=owner/name \
//   AFK_LIVE_FORGEJO_TOKEN=... npx vitest run test/live/forgejo.live.test.ts
// Optional: AFK_LIVE_FORGEJO_LABEL (default ready-for-agent). The token needs read access to
// the repository's issues and the user scope (`read:issue`, `read:repository`, `read:user`).
import { describe, expect, it } from 'vitest';
import { createForgejoTracker } from '../../src/adapters/forgejo.js';
import { TrackerError } from '../../src/core/errors.js';

const apiUrl = process.env['AFK_LIVE_FORGEJO_URL'];
const repo = process.env['AFK_LIVE_FORGEJO_REPO'];
const token = process.env['AFK_LIVE_FORGEJO_TOKEN'];
const label = process.env['AFK_LIVE_FORGEJO_LABEL'] ?? 'ready-for-agent';

// A real network may be slower than the unit tests' 15 s budget.
describe.skipIf(!apiUrl || !repo || !token)(
  'Forgejo (live, read-only)',
  { timeout: 60_000 },
  () => {
    const tracker = createForgejoTracker({
      apiUrl: apiUrl ?? '',
      token: () => Promise.resolve(token ?? ''),
      retries: 1,
    });
    const liveRepo = repo ?? '';

    it('reads its own login', async () => {
      expect(await tracker.getSelfLogin()).not.toBe('');
    });

    it('reads what its token may do on the repository', async () => {
      const access = await tracker.getRepoAccess(liveRepo);

      expect(access).not.toBeNull();
      expect(access?.pull).toBe(true);
    });

    it('lists the labels the repository may use, its organisation’s included', async () => {
      const [labels, issues] = await Promise.all([
        tracker.listRepoLabels(liveRepo),
        tracker.listLabelledIssues(liveRepo, label, 'all'),
      ]);

      // An issue can only carry labels the repository may use.
      for (const issue of issues) {
        for (const name of issue.labels) expect(labels).toContain(name);
      }
    });

    it('lists the issues carrying the label, without pull requests', async () => {
      const issues = await tracker.listLabelledIssues(liveRepo, label, 'open');

      for (const issue of issues) {
        expect(issue.repo).toBe(liveRepo);
        expect(issue.labels).toContain(label);
        expect(issue.state).toBe('open');
        expect(issue.url).toMatch(/\/issues\/\d+$/);
      }
    });

    it('reads the comments and label events of a labelled issue, if there is one', async () => {
      const [issue] = await tracker.listLabelledIssues(liveRepo, label, 'all');
      if (issue === undefined) return;

      const [comments, events] = await Promise.all([
        tracker.listComments(issue),
        tracker.listLabelEvents(issue),
      ]);

      expect(comments.every((c) => Number.isInteger(c.id))).toBe(true);
      expect(events.every((e) => e.action === 'labeled' || e.action === 'unlabeled')).toBe(true);
    });

    it('reads its own permission, and another user’s only as a repository admin', async () => {
      const login = await tracker.getSelfLogin();
      const access = await tracker.getRepoAccess(liveRepo);

      expect(['admin', 'write', 'read', 'none']).toContain(
        await tracker.getPermission(liveRepo, login),
      );
      // Forgejo lets only a repository admin read someone else's permission: without admin the
      // answer is 403, which is why afk's account needs admin to check who applied a label.
      const [owner = ''] = liveRepo.split('/');
      const other = tracker.getPermission(liveRepo, owner);
      if (access?.admin === true || owner === login) {
        expect(['admin', 'write', 'read', 'none']).toContain(await other);
      } else {
        await expect(other).rejects.toBeInstanceOf(TrackerError);
        await expect(other).rejects.toMatchObject({ kind: 'forbidden', status: 403 });
      }
    });
  },
);
