/**
 * The semantic validation `migrate` runs before converting: exactly MetalLB's checks as
 * `metallb-ts validate` runs them (configFromRaw, first error in MetalLB's order), positioned in the
 * user's file.
 */
import { configFromRaw } from '../config/parse.js';
import type { RawValidator } from './migrate.js';

export const validateLegacy: RawValidator = (raw, positionOf) => {
  const result = configFromRaw(raw);
  if (result.ok) return [];
  const { kind, message, value, path } = result.error;
  const position = positionOf(path);
  return [{ kind, message, value, path, ...(position ? { position } : {}) }];
};
