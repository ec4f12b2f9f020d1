#!/usr/bin/env node
// The bundle's entry (dist/afk.mjs, built by `npm run bundle`): the same as bin/afk.js, but
// importing the source so esbuild can follow it into one file.
import { main } from './cli.js';

process.exitCode = await main(process.argv);
