import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's root: the nearest folder above this file that holds a package.json. The
 * tools run from source (tools/…, under vitest) and built (dist/dev/tools/…), at different
 * depths, and both need the root's bin/, dist/, k8s/ and docs/.
 */
function findRepoRoot(): string {
  const here = fileURLToPath(import.meta.url);
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${here}`);
  }
}

export const repoRoot = findRepoRoot();
