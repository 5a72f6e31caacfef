import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toK8sName, type NameConversion } from '../../../src/core/migrate/names.js';

const cases: { desc: string; input: string; want: NameConversion }[] = [
  { desc: 'a DNS label is kept', input: 'my-ip-space', want: { ok: true, name: 'my-ip-space', renamed: false } },
  { desc: 'leading digits are dropped (upstream testdata)', input: '01-numbered-addresspool', want: { ok: true, name: 'numbered-addresspool', renamed: true } },
  { desc: 'capitals are lowered (upstream testdata)', input: 'Capitalized-AddressPool', want: { ok: true, name: 'capitalized-addresspool', renamed: true } },
  { desc: 'underscores become dashes', input: 'Underscored_BFD_Profile', want: { ok: true, name: 'underscored-bfd-profile', renamed: true } },
  { desc: 'digits and dashes before the first letter go', input: '9_lives', want: { ok: true, name: 'lives', renamed: true } },
  {
    desc: 'truncated to 63 before anything else',
    input: 'TooLongPoolName01-toolongpoolname02-toolongpoolname03-toolongpoolname04',
    want: { ok: true, name: 'toolongpoolname01-toolongpoolname02-toolongpoolname03-toolongpo', renamed: true },
  },
  { desc: 'a dot fails the upstream pattern but converts to itself', input: 'edge.pool', want: { ok: true, name: 'edge.pool', renamed: false } },
  { desc: 'one letter fails the pattern (2+ chars) and converts to itself', input: 'a', want: { ok: true, name: 'a', renamed: false } },
  { desc: 'no letter at all', input: '0123_45', want: { ok: false, reason: 'no-letter', name: '0123-45' } },
  { desc: 'the empty name', input: '', want: { ok: false, reason: 'no-letter', name: '' } },
  { desc: 'a trailing dash after conversion is rejected (upstream emits it)', input: 'pool_', want: { ok: false, reason: 'invalid-after-conversion', name: 'pool-' } },
  { desc: 'a space survives conversion and is rejected', input: 'My Pool', want: { ok: false, reason: 'invalid-after-conversion', name: 'my pool' } },
];

for (const { desc, input, want } of cases) {
  test(`toK8sName: ${desc}`, () => {
    assert.deepEqual(toK8sName(input), want);
  });
}
