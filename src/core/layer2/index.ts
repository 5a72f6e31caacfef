/** Layer-2 codecs and responder decisions (spec §5.2). */
export * from './mac.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv6.js';
export * from './ndp.js';
export * from './responder.js';
export * from './conflict.js';
