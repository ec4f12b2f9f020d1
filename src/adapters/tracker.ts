// The tracker by `tracker.kind`: both adapters take the same options, so the commands build
// one without knowing which forge it is. Each is imported only when chosen.
import type { Tracker, TrackerKind } from '../core/index.js';
import type { TrackerOptions } from './tracker-wire.js';

export type { TrackerOptions } from './tracker-wire.js';

export async function createTracker(kind: TrackerKind, options: TrackerOptions): Promise<Tracker> {
  switch (kind) {
    case 'github':
      return (await import('./github.js')).createGitHubTracker(options);
    case 'forgejo':
      return (await import('./forgejo.js')).createForgejoTracker(options);
  }
}
