/**
 * Decides every CR name derived from a legacy name before any object is built, so that collisions
 * (which upstream does not detect: the later object silently replaces the earlier on apply) are errors.
 */
import type { LegacyConfig } from './legacy.js';
import type { MigrationError, MigrationWarning, Rename } from './issues.js';
import { toK8sName } from './names.js';

export interface RenamePlan {
  /** Legacy pool name → CR name. */
  readonly pools: ReadonlyMap<string, string>;
  /** Legacy BFD profile name → CR name. */
  readonly bfdProfiles: ReadonlyMap<string, string>;
  readonly renames: readonly Rename[];
  readonly warnings: readonly MigrationWarning[];
  readonly errors: readonly MigrationError[];
}

interface NamedItem {
  readonly name: string;
  readonly path: string;
}

const KINDS = {
  pool: { crKind: 'IPAddressPool', label: 'pool', warning: 'pool-renamed' },
  'bfd-profile': { crKind: 'BFDProfile', label: 'BFD profile', warning: 'bfd-profile-renamed' },
} as const;

/** Plans the names of IPAddressPools and BFDProfiles. */
export function planNames(legacy: LegacyConfig): RenamePlan {
  const pools = (legacy['address-pools'] ?? []).map((p, i) => ({
    name: p.name ?? '',
    path: `/address-pools/${i}/name`,
  }));
  const profiles = (legacy['bfd-profiles'] ?? []).map((b, i) => ({
    name: b.name ?? '',
    path: `/bfd-profiles/${i}/name`,
  }));
  const poolPlan = planKind('pool', pools);
  const bfdPlan = planKind('bfd-profile', profiles);
  return {
    pools: poolPlan.names,
    bfdProfiles: bfdPlan.names,
    renames: [...poolPlan.renames, ...bfdPlan.renames],
    warnings: [...poolPlan.warnings, ...bfdPlan.warnings],
    errors: [...poolPlan.errors, ...bfdPlan.errors],
  };
}

function planKind(kind: keyof typeof KINDS, items: readonly NamedItem[]) {
  const { crKind, label, warning } = KINDS[kind];
  const names = new Map<string, string>();
  const ownerOf = new Map<string, string>();
  const renames: Rename[] = [];
  const warnings: MigrationWarning[] = [];
  const errors: MigrationError[] = [];
  for (const { name, path } of items) {
    if (names.has(name)) continue; // a duplicate legacy name is a validation error, reported there
    const converted = toK8sName(name);
    if (!converted.ok) {
      errors.push({
        code: 'name-not-convertible',
        message: `failed to make ${crKind} K8S compatible: ${label} "${name}" ${
          converted.reason === 'no-letter' ? 'has no letter a-z' : `would become "${converted.name}", which Kubernetes rejects`
        }`,
        path,
        hint: `rename the ${label} in the ConfigMap to a lowercase DNS label (a-z, 0-9, "-"; starting with a letter)`,
      });
      continue;
    }
    const owner = ownerOf.get(converted.name);
    if (owner !== undefined) {
      errors.push({
        code: 'name-collision',
        message: `${label}s "${owner}" and "${name}" would both become ${crKind} "${converted.name}"`,
        path,
        hint: `rename one of them in the ConfigMap`,
      });
      continue;
    }
    ownerOf.set(converted.name, name);
    names.set(name, converted.name);
    if (converted.renamed) {
      renames.push({ kind, from: name, to: converted.name, path });
      warnings.push(renameWarning(kind, warning, name, converted.name, path));
    }
  }
  return { names, renames, warnings, errors };
}

function renameWarning(
  kind: keyof typeof KINDS,
  code: MigrationWarning['code'],
  from: string,
  to: string,
  path: string,
): MigrationWarning {
  if (kind === 'pool') {
    return {
      code,
      message: `pool "${from}" is not a valid Kubernetes name: IPAddressPool "${to}"`,
      path,
      hint: `Services annotated metallb.universe.tf/address-pool: ${from} must be re-annotated with ${to} (--from-cluster lists them)`,
    };
  }
  return {
    code,
    message: `BFD profile "${from}" is not a valid Kubernetes name: BFDProfile "${to}"`,
    path,
    hint: `peers referencing it are converted to reference "${to}"`,
  };
}
