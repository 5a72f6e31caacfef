/**
 * Round trip: the CRs of every valid golden, read from the emitted YAML and turned back into legacy
 * terms, parse (MetalLB's rules) to the same Config as the original ConfigMap, modulo the names the
 * migration converted; and every cross-reference in the output resolves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { parseConfig, parseConfigDocument } from '../../src/core/config/parse.js';
import type { Config } from '../../src/core/config/types.js';
import type { MigratedObject } from '../../src/core/migrate/crds.js';
import { crdsToLegacy, unresolvedReferences } from '../../src/core/migrate/from-crds.js';
import type { Rename } from '../../src/core/migrate/issues.js';
import { migrate } from '../../src/core/migrate/migrate.js';
import { validateLegacy } from '../../src/core/migrate/validator.js';
import { dumpDocument } from '../../src/core/migrate/manifest-yaml.js';
import { goldenCases, goldenDir } from './golden-cases.js';

/** A Config as plain data: selectors without their `matches` closure, aliases as sorted pairs. */
function comparable(config: Config, renames: readonly Rename[] = []) {
  const renamed = (kind: Rename['kind'], name: string) => renames.find((r) => r.kind === kind && r.from === name)?.to ?? name;
  return {
    pools: config.pools.map((p) => ({ ...p, name: renamed('pool', p.name) })),
    peers: config.peers.map((p) => ({
      ...p,
      bfdProfile: p.bfdProfile === '' ? '' : renamed('bfd-profile', p.bfdProfile),
      nodeSelectors: p.nodeSelectors.map((s) => ({ requirements: s.requirements, text: s.text })),
    })),
    bfdProfiles: config.bfdProfiles.map((b) => ({ ...b, name: renamed('bfd-profile', b.name) })),
    communityAliases: [...config.communityAliases].sort(([a], [b]) => (a < b ? -1 : 1)),
  };
}

// lenient.yaml is deliberately not a valid ConfigMap (unknown keys and protocols), so it has no Config to equal.
for (const golden of goldenCases.filter((g) => g.name !== 'lenient')) {
  test(`round trip ${golden.name}: CRs → legacy → parseConfig equals parseConfig(input)`, () => {
    const input = readFileSync(join(goldenDir, `${golden.name}.yaml`), 'utf8');
    const original = parseConfigDocument(input);
    assert.ok(original.ok, JSON.stringify(!original.ok && original.errors));
    const outcome = migrate({ text: input, onlyData: false, passwordSecrets: golden.passwordSecrets }, validateLegacy);
    assert.ok(outcome.ok);
    const objects = (loadAll(outcome.yaml) as MigratedObject[]).filter(Boolean);
    assert.deepEqual(unresolvedReferences(objects), []);
    const legacyText = dumpDocument(crdsToLegacy(objects));
    const readBack = parseConfig(legacyText);
    assert.ok(readBack.ok, `${legacyText}\n${JSON.stringify(!readBack.ok && readBack.errors)}`);
    assert.deepEqual(comparable(readBack.config), comparable(original.config, outcome.renames));
  });
}

const ns = 'metallb-system';
const pool = (name: string) => ({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: ns }, spec: { addresses: ['10.0.0.0/24'] } }) as const;
const brokenReferences: { desc: string; objects: MigratedObject[]; want: string[] }[] = [
  {
    desc: 'an advertisement naming a missing pool',
    objects: [pool('a'), { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'l2advertisement1', namespace: ns }, spec: { ipAddressPools: ['b'] } }],
    want: ['L2Advertisement l2advertisement1: no IPAddressPool "b"'],
  },
  {
    desc: 'a community that is neither a literal nor an alias',
    objects: [
      pool('a'),
      { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'bgpadvertisement1', namespace: ns }, spec: { ipAddressPools: ['a'], communities: ['64512:1', 'no-export'] } },
    ],
    want: ['BGPAdvertisement bgpadvertisement1: no community alias "no-export"'],
  },
  {
    desc: 'a peer naming a missing BFD profile and Secret',
    objects: [
      {
        apiVersion: 'metallb.io/v1beta2',
        kind: 'BGPPeer',
        metadata: { name: 'peer1', namespace: ns },
        spec: { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1', holdTime: '1m30s', bfdProfile: 'fast', passwordSecret: { name: 'peer1-password', namespace: ns } },
      },
    ],
    want: ['BGPPeer peer1: no BFDProfile "fast"', 'BGPPeer peer1: no Secret "peer1-password"'],
  },
];

for (const { desc, objects, want } of brokenReferences) {
  test(`unresolvedReferences finds ${desc}`, () => {
    assert.deepEqual(unresolvedReferences(objects), want);
  });
}
