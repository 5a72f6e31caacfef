/** The allocator: pools, allocations and sharing rules (see allocator.ts). */
export * from './allocator.js';
export * from './errors.js';
export * from './pool-count.js';
export * from './types.js';
