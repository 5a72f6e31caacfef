/** The speaker's pure core: per-Service decision (spec §4) and membership (spec §5.1, §5.3). */
export * from './decide.js';
export * from './membership.js';
export * from './kube-membership.js';
