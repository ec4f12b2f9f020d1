// The forges every tick suite runs against: each builds a fresh strict fake and the `tracker`
// config section that points afk at it. A suite written with `describe.each(forges)` and the
// `ForgeFake` vocabulary runs unchanged on GitHub and on Forgejo.
import type { ForgeFake, ForgeKind } from '../../emulators/forge.js';
import { createForgejoFake } from '../../emulators/forgejo.js';
import { createGitHubFake } from '../../emulators/github.js';
import { GITHUB_URL, TRACKER_TOKEN } from './cli.js';

export const FORGEJO_URL = 'https://forgejo.test/api/v1';
/** Every label afk uses, by their default names. */
export const AFK_LABELS = [
  'ready-for-agent',
  'agent-in-progress',
  'ready-for-human',
  'P0',
  'P1',
  'P2',
  'P3',
];

/** The issue the tick suites start from: acme/api#1, queued by a maintainer with write access. */
export const loginIssue = () => ({
  number: 1,
  title: 'Fix login',
  body: 'The login form rejects valid passwords.',
  labels: ['ready-for-agent'],
  labeledBy: { 'ready-for-agent': 'maintainer' },
});

export interface ForgeUnderTest {
  kind: ForgeKind;
  create(options?: { now?: () => Date }): ForgeFake;
  /** The `tracker` config section that points afk at the fake. */
  tracker: { kind: ForgeKind; apiUrl: string };
}

export const github: ForgeUnderTest = {
  kind: 'github',
  create: (options = {}) => createGitHubFake(options),
  tracker: { kind: 'github', apiUrl: GITHUB_URL },
};

export const forgejo: ForgeUnderTest = {
  kind: 'forgejo',
  create: (options = {}) => {
    const fake = createForgejoFake({ baseUrl: FORGEJO_URL, token: TRACKER_TOKEN, ...options });
    // Forgejo lets only a repo admin read another user's permission (the labeler check), so
    // afk's account is an admin of every repo there, as the README's Forgejo section requires.
    // Forgejo adds labels by id and never creates one on the fly (GitHub does): afk's labels
    // exist in a set-up repo, as `afk doctor --fix-labels` leaves it.
    const addRepo = fake.addRepo.bind(fake);
    fake.addRepo = (repo, opts = {}) =>
      addRepo(repo, {
        ...opts,
        collaborators: { [fake.selfLogin]: 'admin', ...opts.collaborators },
        labels: opts.labels ?? AFK_LABELS,
      });
    return fake;
  },
  tracker: { kind: 'forgejo', apiUrl: FORGEJO_URL },
};

export const forges: ForgeUnderTest[] = [github, forgejo];
