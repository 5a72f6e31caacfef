/** IP math: addresses, prefixes and ranges. Pure, exact (bigint), no per-address loops. */
export * from './addr.js';
export * from './cidr.js';
export * from './range.js';
