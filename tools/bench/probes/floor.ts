// Cold-start probe 5: probe 4 behind a commander program, as the CLI parses
// `poll --config FILE`. Everything a disabled poll cannot do without, and nothing else: its
// time is the floor for a disabled poll with these libraries.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parseDocument } from 'yaml';
import { createLogger } from '../../../src/adapters/log.js';
import { parseConfig } from '../../../src/core/config.js';

const program = new Command('afk');
program
  .command('poll')
  .option('--config <file>')
  .action((options: { config: string }) => {
    const raw: unknown = parseDocument(readFileSync(options.config, 'utf8')).toJS();
    if (!parseConfig(raw, process.env).ok) process.exitCode = 2;
    createLogger({ level: 'info', format: 'json', sink: process.stderr }).info(
      { command: 'poll' },
      'poll: disabled: probe',
    );
  });
program.parse(['node', 'afk', 'poll', '--config', process.argv[2] ?? '']);
