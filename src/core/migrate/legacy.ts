/**
 * The legacy ConfigMap payload as the converter reads it: the config stage's RawConfig (kebab-case
 * keys exactly as written, every key optional, no defaults applied; a null list item decodes to `{}`).
 * The converter needs "as written" facts the validated domain `Config` no longer has (was
 * `auto-assign` set? was `keepalive-time` set? which community alias was used?), so it works on this
 * shape, after MetalLB's semantic checks accepted it.
 */
export type {
  RawConfig as LegacyConfig,
  RawPeer as LegacyPeer,
  RawAddressPool as LegacyPool,
  RawBgpAdvertisement as LegacyBgpAdvertisement,
  RawBfdProfile as LegacyBfdProfile,
  RawNodeSelector as LegacyNodeSelector,
  RawSelectorRequirement as LegacySelectorRequirement,
} from '../config/raw-types.js';
