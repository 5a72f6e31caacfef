/** Layer-2 per-Service leader election: eligible nodes and the hashring owner (spec §5.1). */
export * from './eligible.js';
export * from './owner.js';
