// Opt-in smoke test against the real GitHub API. Read-only: it never writes.
//   AFK_LIVE_GITHUB_REPO=owner/name AFK_TRACKER_TOKEN=... npx vitest run test/live
// Optional: AFK_LIVE_GITHUB_API_URL (GHES), AFK_LIVE_GITHUB_LABEL (default ready-for-agent).
import { describe, expect, it } from 'vitest';
import { createGitHubTracker } from '../../src/adapters/github.js';

const repo = process.env['AFK_LIVE_GITHUB_REPO'];
const token = process.env['AFK_TRACKER_TOKEN'];
const label = process.env['AFK_LIVE_GITHUB_LABEL'] ?? 'ready-for-agent';

// A real network may be slower than the unit tests' 15 s budget.
describe.skipIf(!repo || !token)('GitHub (live, read-only)', { timeout: 60_000 }, () => {
  const tracker = createGitHubTracker({
    apiUrl: process.env['AFK_LIVE_GITHUB_API_URL'] ?? 'https://api.github.com',
    token: () => Promise.resolve(token ?? ''),
    retries: 1,
  });
  const liveRepo = repo ?? '';

  it('lists the issues carrying the label, without pull requests', async () => {
    const issues = await tracker.listLabelledIssues(liveRepo, label, 'open');

    for (const issue of issues) {
      expect(issue.repo).toBe(liveRepo);
      expect(issue.labels).toContain(label);
      expect(issue.url).toMatch(/\/issues\/\d+$/);
    }
  });

  it('reads its own login and its permission on the repository', async () => {
    const login = await tracker.getSelfLogin();

    expect(login).not.toBe('');
    expect(['admin', 'write', 'read', 'none']).toContain(
      await tracker.getPermission(liveRepo, login),
    );
  });
});
