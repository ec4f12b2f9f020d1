// The pure core, one import away. Adapters and commands import from here.
export * from './types.js';
export * from './ports.js';
export * from './errors.js';
export * from './ids.js';
export * from './config.js';
export * from './checklist.js';
export * from './prompt.js';
export * from './dispatch.js';
export * from './plan.js';
export * from './poll.js';
export * from './config-doc.js';
export * from './evidence.js';
export * from './watch.js';
export * from './metrics.js';
export * from './status.js';
export * from './doctor.js';
export * from './t3-versions.js';
