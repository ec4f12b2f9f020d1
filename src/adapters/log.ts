// Logs are JSON lines on stderr in a container and readable text on a terminal; the plan and
// the summary go to stdout. pino does the levels and the JSON; on a terminal a small writer
// turns each line into text. Credentials are never passed to the logger; the redact list is
// a second line of defence for a field someone adds later.
import { pino, type Logger } from 'pino';
import { logLevels, type LogLevel } from '../core/index.js';

export type { Logger };

export interface LogSink {
  write(chunk: string): unknown;
}

export function createLogger(options: {
  level: LogLevel;
  format: 'json' | 'text';
  sink: LogSink;
}): Logger {
  const destination =
    options.format === 'json'
      ? options.sink
      : { write: (line: string) => options.sink.write(toText(line)) };
  // The level comes straight from AFK_LOG_LEVEL, before the config is validated; pino throws
  // on a name it does not know. Log at `info` until the config check reports the variable.
  const level = (logLevels as readonly string[]).includes(options.level) ? options.level : 'info';
  return pino(
    {
      level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          '*.headers.authorization',
          'webhookUrl',
          '*.webhookUrl',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

const RESERVED = new Set(['level', 'time', 'msg']);

function toText(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry['time'] === 'string' ? entry['time'].slice(11, 19) : '';
  const level = String(entry['level'] ?? 'info')
    .toUpperCase()
    .padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key]) => !RESERVED.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return `${time} ${level} ${String(entry['msg'] ?? '')}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}\n`;
}
