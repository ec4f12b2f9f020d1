// Rewrites the README's config reference from the schema (run `npm run docs` after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigReference } from '../dist/core/config-doc.js';

const BEGIN = '<!-- config-reference:begin (generated from src/core/config.ts; npm run docs) -->';
const END = '<!-- config-reference:end -->';
const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = readme.indexOf(BEGIN);
const end = readme.indexOf(END);
if (start < 0 || end < start) throw new Error('README.md lacks the config reference markers');
writeFileSync(
  path,
  `${readme.slice(0, start + BEGIN.length)}\n\n${renderConfigReference()}\n\n${readme.slice(end)}`,
);
