// Cold-start probe 2: probe 1, plus reading the config file and parsing its YAML.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

const raw: unknown = parseDocument(readFileSync(process.argv[2] ?? '', 'utf8')).toJS();
if (raw === null) process.exitCode = 2;
