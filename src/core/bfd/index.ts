/** BFD (RFC 5880/5881/5883): codec, session reducer, profile mapping, receive classification, metric names. */
export * from './packet.js';
export * from './session.js';
export * from './profile.js';
export * from './receive.js';
export * from './metrics.js';
export * from './ttl-filter.js';
