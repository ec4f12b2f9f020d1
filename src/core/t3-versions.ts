// Which T3 server versions know what afk may send. Versions compare by their release number,
// and a prerelease (a nightly) sorts below its release, as in semver: a nightly is never
// assumed to have what the release it leads to has.
import type { RuntimeMode } from './types.js';

type Release = readonly [number, number, number];

interface T3Version {
  release: Release;
  prerelease: boolean;
}

export function parseT3Version(text: string): T3Version | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(text.trim());
  if (match === null) return undefined;
  return {
    release: [Number(match[1]), Number(match[2]), Number(match[3])],
    prerelease: match[4] !== undefined,
  };
}

/** Whether `version` is `floor` or later; undefined when `version` cannot be read. */
export function isT3VersionAtLeast(version: string, floor: Release): boolean | undefined {
  const parsed = parseT3Version(version);
  if (parsed === undefined) return undefined;
  for (const [index, part] of parsed.release.entries()) {
    const min = floor[index] ?? 0;
    if (part !== min) return part > min;
  }
  return !parsed.prerelease;
}

/**
 * The runtime modes that not every T3 server knows, with the first release that does. A
 * server decodes a command with its own enum, and one that lacks the mode answers the whole
 * dispatch with an empty 400. `auto` is absent from v0.0.27 through the v0.0.29 nightlies
 * (decoded with the real schemas) and came with pingdotgg/t3code#4272, after them.
 * https://github.com/pingdotgg/t3code/blob/main/packages/contracts/src/orchestration.ts (RuntimeMode)
 */
export const runtimeModeSince: Partial<Record<RuntimeMode, Release>> = { auto: [0, 0, 30] };

const showRelease = (release: Release) => release.join('.');

/** Whether the mode must be checked against the server's version before it is sent. */
export const isVersionedRuntimeMode = (mode: RuntimeMode): boolean =>
  runtimeModeSince[mode] !== undefined;

/** `runtimeMode auto needs T3 0.0.30 or later`, for a versioned mode. */
export function describeRuntimeModeFloor(mode: RuntimeMode): string {
  const since = runtimeModeSince[mode];
  return since === undefined
    ? `runtimeMode ${mode} is known to every T3 version`
    : `runtimeMode ${mode} needs T3 ${showRelease(since)} or later`;
}

export type RuntimeModeSupport = { ok: true } | { ok: false; reason: string };

/**
 * Whether a server of `serverVersion` knows `mode`. A version afk cannot read does not get a
 * mode that needs one: sent to a server without it, the dispatch fails as a schema error.
 */
export function checkRuntimeModeSupport(
  mode: RuntimeMode,
  serverVersion: string,
): RuntimeModeSupport {
  const since = runtimeModeSince[mode];
  if (since === undefined) return { ok: true };
  const needs = describeRuntimeModeFloor(mode);
  const atLeast = isT3VersionAtLeast(serverVersion, since);
  if (atLeast === true) return { ok: true };
  // Only a version afk read and compared is quoted; it is a short, checked string.
  const shown =
    parseT3Version(serverVersion) === undefined
      ? 'not a version afk can read'
      : serverVersion.trim();
  return { ok: false, reason: `${needs}; this server is ${shown}` };
}
