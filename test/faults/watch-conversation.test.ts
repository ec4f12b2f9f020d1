// The fault matrix (docs/faults.md) for the conversation on afk's pull request: a review round
// and a conflict turn, every request their tick makes answered with each fault, then a clean
// tick. See harness.ts.
import { defineMatrix } from './harness.js';
import { allScenarios, watchConflict, watchReviewRound } from './scenarios.js';

await defineMatrix([watchReviewRound, watchConflict], allScenarios);
