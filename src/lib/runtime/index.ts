/** Execution: the tfjs backend choice, point batching, and a generic worker pool (with its protocol and worker host). */
export * from './backend';
export * from './batch';
export * from './pool';
export * from './pool-protocol';
export * from './worker-host';
