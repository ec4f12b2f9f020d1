// Cold-start probe 3: probe 2, plus validating the config (zod and afk's schema), as a
// disabled poll must.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../../src/core/config.js';

const raw: unknown = parseDocument(readFileSync(process.argv[2] ?? '', 'utf8')).toJS();
if (!parseConfig(raw, process.env).ok) process.exitCode = 2;
