import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertToCrds } from '../../../src/core/migrate/to-crds.js';
import type { LegacyConfig } from '../../../src/core/migrate/legacy.js';

const options = { namespace: 'ns', passwordSecrets: false };
const peer = { 'my-asn': 64512, 'peer-asn': 64512, 'peer-address': '10.0.0.1' };

const cases: { desc: string; input: LegacyConfig; want: { errors?: string[]; warnings?: string[]; objects?: string[] } }[] = [
  {
    desc: 'an empty payload gives no objects',
    input: {},
    want: { objects: [], warnings: [] },
  },
  {
    desc: 'order: peers, pools, BGP ads, L2 ads, BFD profiles, Community',
    input: {
      'bgp-communities': { b: '1:2', a: '3:4' },
      'bfd-profiles': [{ name: 'x' }],
      'address-pools': [
        { name: 'l', protocol: 'layer2', addresses: ['10.0.0.0/24'] },
        { name: 'g', protocol: 'bgp', addresses: ['10.0.1.0/24'] },
      ],
      peers: [peer, { ...peer, 'peer-address': '10.0.0.2' }],
    },
    want: {
      objects: [
        'BGPPeer/peer1', 'BGPPeer/peer2', 'IPAddressPool/l', 'IPAddressPool/g', 'BGPAdvertisement/bgpadvertisement1',
        'L2Advertisement/l2advertisement1', 'BFDProfile/x', 'Community/communities',
      ],
      warnings: [],
    },
  },
  {
    desc: 'plain passwords warn; --password-secrets would not',
    input: { peers: [{ ...peer, password: 'pw' }, peer] },
    want: { warnings: ['plain-password /peers/0/password'] },
  },
  {
    desc: 'unknown protocols: pool kept, no L2Advertisement, advertisements still converted',
    input: {
      'address-pools': [
        { name: 'a', protocol: 'l2', addresses: ['10.0.0.0/24'] },
        { name: 'b', protocol: 'Layer2', addresses: ['10.0.1.0/24'], 'bgp-advertisements': [{ localpref: 5 }] },
      ],
    },
    want: {
      objects: ['IPAddressPool/a', 'IPAddressPool/b', 'BGPAdvertisement/bgpadvertisement1'],
      warnings: ['unknown-protocol /address-pools/0/protocol', 'unknown-protocol /address-pools/1/protocol'],
    },
  },
  {
    desc: 'aggregation-length 0 is below the CRD minimum',
    input: { 'address-pools': [{ name: 'all', protocol: 'bgp', addresses: ['0.0.0.0/0'], 'bgp-advertisements': [{ 'aggregation-length': 0 }] }] },
    want: { errors: ['crd-range /address-pools/0/bgp-advertisements/0/aggregation-length'] },
  },
  {
    desc: 'peer port 16384 is the CRD maximum; 16385 is not',
    input: { peers: [{ ...peer, 'peer-port': 16384 }, { ...peer, 'peer-port': 16385 }] },
    want: { errors: ['crd-range /peers/1/peer-port'] },
  },
  {
    desc: 'BFD profile names collide after conversion',
    input: { 'bfd-profiles': [{ name: 'Fast' }, { name: 'fast' }] },
    want: { errors: ['name-collision /bfd-profiles/1/name'] },
  },
];

for (const { desc, input, want } of cases) {
  test(`convertToCrds: ${desc}`, () => {
    const got = convertToCrds(input, options);
    if (want.errors) {
      assert.equal(got.ok, false);
      assert.deepEqual(!got.ok && got.errors.map((e) => `${e.code} ${e.path}`), want.errors);
      return;
    }
    assert.ok(got.ok, JSON.stringify(!got.ok && got.errors));
    if (want.objects) assert.deepEqual(got.objects.map((o) => `${o.kind}/${o.metadata.name}`), want.objects);
    if (want.warnings) assert.deepEqual(got.warnings.map((w) => `${w.code} ${w.path}`), want.warnings);
  });
}

test('convertToCrds: every object is in the requested namespace', () => {
  const got = convertToCrds({ peers: [{ ...peer, password: 'x' }], 'bgp-communities': { a: '1:1' } }, { namespace: 'elsewhere', passwordSecrets: true });
  assert.ok(got.ok);
  assert.deepEqual(got.objects.map((o) => o.metadata.namespace), ['elsewhere', 'elsewhere', 'elsewhere']);
  const bgpPeer = got.objects.find((o) => o.kind === 'BGPPeer');
  assert.deepEqual(bgpPeer?.kind === 'BGPPeer' && bgpPeer.spec.passwordSecret, { name: 'peer1-password', namespace: 'elsewhere' });
});
