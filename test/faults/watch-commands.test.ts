// The fault matrix (docs/faults.md) for these scenarios: every request their tick makes,
// answered with each fault, then a clean tick. See harness.ts.
import { defineMatrix } from './harness.js';
import { allScenarios, watchCommands } from './scenarios.js';

await defineMatrix([watchCommands], allScenarios);
