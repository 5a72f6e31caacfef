/**
 * The semantic validation `migrate` runs before converting: the same checks as `metallb-ts validate`.
 * PROVISIONAL: accepts everything until the config stage publishes its raw-level validator
 * (src/core/config/parse.ts); every caller goes through this one function, so swapping it is one edit.
 */
import type { RawValidator } from './migrate.js';

export const validateLegacy: RawValidator = () => [];
