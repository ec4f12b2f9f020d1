// The forges every tick suite runs against: each builds a fresh strict fake and the `tracker`
// config section that points afk at it. A suite written with `describe.each(forges)` and the
// `ForgeFake` vocabulary runs unchanged on GitHub and on Forgejo.
import type { ForgeFake, ForgeKind } from '../../src/emulators/forge.js';
import { createGitHubFake } from '../../src/emulators/github.js';
import { GITHUB_URL } from './cli.js';

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

export const forges: ForgeUnderTest[] = [github];
