// Secrets come from a file (a mounted Secret or an injector's output, which may rotate at any
// time) or from the environment. A file is read afresh on every call so a rotated token is
// used at once; the value is never logged, and errors name the file, never its content.
import { readFile } from 'node:fs/promises';
import { ConfigError, type Env } from '../core/index.js';

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
  /**
   * A file that may be absent: an optional key of a mounted Secret (the Slack webhook) is
   * simply not there when the operator left it out, and that means "not configured".
   */
  optional?: boolean;
}

export function secretSource(spec: SecretSpec, env: Env): SecretSource {
  if (spec.file !== undefined) {
    const file = spec.file;
    return async () => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        if (code === 'ENOENT' && spec.optional === true) return undefined;
        throw new ConfigError([
          `${spec.fileKey}: cannot read the ${spec.name} file ${file} (${code})`,
        ]);
      }
      const value = text.trim();
      if (value === '')
        throw new ConfigError([`${spec.fileKey}: the ${spec.name} file ${file} is empty`]);
      return value;
    };
  }
  const value = spec.envVars
    .map((name) => env[name]?.trim())
    .find((v) => v !== undefined && v !== '');
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
