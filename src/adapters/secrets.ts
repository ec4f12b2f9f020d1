// Secrets come from a file (a mounted Secret or an injector's output, which may rotate at any
// time) or from the environment. A file is read afresh on every call so a rotated token is
// used at once; the value is never logged, and errors name the file, never its content.
import { readFile } from 'node:fs/promises';
import type { Env } from '../core/index.js';
// The errors module only, not the core's index (which loads zod): the CLI loads this file
// before anything else (see `redactOutput`), and start-up time is part of every tick.
import { ConfigError } from '../core/errors.js';

/** Yields the secret's current value, or undefined when none is configured. */
export type SecretSource = () => Promise<string | undefined>;

export interface SecretSpec {
  /** What the secret is for, as an operator would look it up (`tracker token`). */
  name: string;
  /** The config key naming the file, for messages (`tracker.tokenFile`). */
  fileKey: string;
  file: string | undefined;
  /** Environment variables consulted in order when no file is configured. */
  envVars: readonly string[];
}

/**
 * Is the secret configured at all? A file named in the config is, whether or not it can be
 * read now: a file that is missing is a failure to report, never a quiet "not configured"
 * (an optional secret, the Slack webhook, is configured or not by the config alone).
 */
export const secretConfigured = (spec: SecretSpec, env: Env): boolean =>
  spec.file !== undefined || spec.envVars.some((name) => (env[name]?.trim() ?? '') !== '');

export function secretSource(spec: SecretSpec, env: Env): SecretSource {
  if (spec.file !== undefined) {
    const file = spec.file;
    return async () => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        throw new ConfigError([
          `${spec.fileKey}: cannot read the ${spec.name} file ${file} (${code})`,
        ]);
      }
      const value = text.trim();
      if (value === '')
        throw new ConfigError([`${spec.fileKey}: the ${spec.name} file ${file} is empty`]);
      remember(env, value);
      return value;
    };
  }
  const value = spec.envVars
    .map((name) => env[name]?.trim())
    .find((v) => v !== undefined && v !== '');
  if (value !== undefined) remember(env, value);
  return () => Promise.resolve(value);
}

/** A source that must yield a value: a missing secret is a configuration error. */
export function requiredSecret(spec: SecretSpec, env: Env): () => Promise<string> {
  const source = secretSource(spec, env);
  return async () => {
    const value = await source();
    if (value === undefined) {
      const where = [spec.fileKey, ...spec.envVars].join(', ');
      throw new ConfigError([`${spec.fileKey}: no ${spec.name} configured (set one of ${where})`]);
    }
    return value;
  };
}

// --- the last line of defence -----------------------------------------------------------------
//
// No secret is ever handed to a message, a log field or a report. Should one arrive there
// anyway (an upstream that echoes the credential it was sent in its error text, a field added
// later), the CLI's stdout and stderr take out every secret value this process has read.

/** The variables that hold secrets themselves (not file names). */
const SECRET_VARIABLES = [
  'AFK_TRACKER_TOKEN',
  'GITHUB_TOKEN',
  'AFK_T3_TOKEN',
  'AFK_SLACK_WEBHOOK_URL',
];
/** Shorter values are not looked for: they would cut ordinary words out of the output. */
const MIN_REDACTED_LENGTH = 8;
export const REDACTED = '[redacted]';

/**
 * A secret afk obtained rather than read (a GitHub App's installation token): from now on the
 * CLI's output cannot show it either.
 */
export function rememberSecret(env: Env, value: string): void {
  remember(env, value);
}

/** The secrets read so far, per runtime environment (one CLI run, or one test's run). */
const known = new WeakMap<Env, Set<string>>();

function remember(env: Env, value: string): void {
  let secrets = known.get(env);
  if (secrets === undefined) known.set(env, (secrets = new Set()));
  for (const form of formsOf(value)) {
    if (form.length >= MIN_REDACTED_LENGTH) secrets.add(form);
  }
}

/** A webhook URL is also written normalised, and its secret part is its path. */
function formsOf(value: string): string[] {
  if (!URL.canParse(value)) return [value];
  const url = new URL(value);
  return [value, url.href, `${url.pathname}${url.search}`];
}

/** Replaces every secret of `env` (read so far, or held by a secret variable) in `text`. */
export function redactSecrets(env: Env, text: string): string {
  const secrets = new Set(known.get(env));
  for (const name of SECRET_VARIABLES) {
    const value = env[name]?.trim();
    if (value !== undefined) for (const form of formsOf(value)) secrets.add(form);
  }
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= MIN_REDACTED_LENGTH) out = out.replaceAll(secret, REDACTED);
  }
  return out;
}

interface Stream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** The runtime with its stdout and stderr passing through `redactSecrets`. */
export function redactOutput<R extends { env: Env; stdout: Stream; stderr: Stream }>(
  runtime: R,
): R {
  const wrap = (stream: Stream): Stream => ({
    write: (chunk: string) => stream.write(redactSecrets(runtime.env, chunk)),
    ...(stream.isTTY === undefined ? {} : { isTTY: stream.isTTY }),
  });
  return { ...runtime, stdout: wrap(runtime.stdout), stderr: wrap(runtime.stderr) };
}
