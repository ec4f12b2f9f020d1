#!/usr/bin/env node
// The built CLI lives in dist/; `npm run build` makes it.
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv);
