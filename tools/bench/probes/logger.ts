// Cold-start probe 4: probe 3, plus afk's logger (pino) writing the one line a disabled
// tick writes.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { createLogger } from '../../../src/adapters/log.js';
import { parseConfig } from '../../../src/core/config.js';

const raw: unknown = parseDocument(readFileSync(process.argv[2] ?? '', 'utf8')).toJS();
if (!parseConfig(raw, process.env).ok) process.exitCode = 2;
createLogger({ level: 'info', format: 'json', sink: process.stderr }).info(
  { command: 'poll' },
  'poll: disabled: probe',
);
