/** The native BGP speaker's pure core: codec, framer, RFC 7606 UPDATE handling, session FSM, rib-out. */
export * from './attributes.js';
export * from './capabilities.js';
export * from './constants.js';
export * from './error.js';
export * from './framer.js';
export * from './header.js';
export * from './messages.js';
export * from './notification.js';
export * from './open.js';
export * from './open-check.js';
export * from './rib-out.js';
export * from './router-id.js';
export * from './session-types.js';
export * from './update.js';
export * from './update-decode.js';
export * from './wire.js';
