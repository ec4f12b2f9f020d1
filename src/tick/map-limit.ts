export { mapLimit } from '../adapters/map-limit.js';

/** Concurrent reads per tick: well under GitHub's 100-concurrent secondary limit. */
export const READ_CONCURRENCY = 8;
