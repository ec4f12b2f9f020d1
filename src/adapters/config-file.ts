// Reads the config file and hands its content, with the environment, to the pure parser.
// `--config` and AFK_CONFIG name a file explicitly, and a named file that is missing is an
// error (a forgotten ConfigMap mount must not look like "all defaults"); the implicit
// ./afk.yaml may be absent, which means all defaults: disabled.
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, parseConfig, type Config, type Env } from '../core/index.js';

export interface LoadedConfig {
  config: Config;
  /** The file read, or null when the defaults were used. */
  source: string | null;
}

export async function loadConfig(options: {
  flag: string | undefined;
  env: Env;
  cwd: string;
}): Promise<LoadedConfig> {
  const named = options.flag ?? nonEmpty(options.env['AFK_CONFIG']);
  const origin = options.flag !== undefined ? '--config' : 'AFK_CONFIG';
  const path = resolve(options.cwd, named ?? 'afk.yaml');

  const key = named === undefined ? 'afk.yaml' : origin;

  let text: string | null;
  try {
    // A config is a few hundred bytes; a file far larger is the wrong file (a log, an image).
    const { size } = await stat(path);
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError([
        `${key}: ${path} is ${size} bytes; a config file is at most ${MAX_CONFIG_BYTES} bytes`,
      ]);
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    if (code !== 'ENOENT') throw new ConfigError([`${key}: cannot read ${path} (${code})`]);
    if (named !== undefined) throw new ConfigError([`${key}: no such file: ${path}`]);
    text = null;
  }

  const raw = text === null ? undefined : parseYaml(text, path);
  const parsed = parseConfig(raw, options.env);
  if (!parsed.ok) {
    const file = text === null ? 'the defaults' : path;
    const where = { file, environment: 'the environment', both: `${file} and the environment` };
    throw new ConfigError(parsed.problems, where[parsed.origin]);
  }
  return { config: parsed.config, source: text === null ? null : path };
}

const MAX_CONFIG_BYTES = 1024 * 1024;

function parseYaml(text: string, path: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const at = e.linePos?.[0];
      const where = at === undefined ? '' : `line ${at.line}, column ${at.col}: `;
      const message = (e.message.split('\n')[0] ?? e.code).replace(
        / at line \d+, column \d+:?$/,
        '',
      );
      return `(yaml) ${where}${message}`;
    });
    throw new ConfigError(problems, path);
  }
  try {
    // Resolving aliases can still fail: the yaml library refuses a document whose aliases
    // expand past its limit (a "billion laughs" file) by throwing here, not in `errors`.
    return doc.toJS({ maxAliasCount: 100 }) ?? undefined;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new ConfigError([`(yaml): ${message ?? 'the document cannot be read'}`], path);
  }
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value;
