/** v0.11's interface rules (spec §5.2) as qualifyInterface applies them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qualifyInterface, IFF_UP, IFF_BROADCAST, IFF_NOARP } from '../../../src/core/layer2/interfaces.js';

const mac = '02:00:00:00:00:12';
const UP_BCAST = IFF_UP | IFF_BROADCAST | 0x1000; // + IFF_MULTICAST, as /sys shows 0x1003

test('an up, broadcast, ARP-capable, unenslaved Ethernet interface gets ARP, and NDP with a link-local', () => {
  assert.deepEqual(qualifyInterface({ flags: UP_BCAST, enslaved: false, hasLinkLocal: true, mac }), { arp: true, ndp: true });
  assert.deepEqual(qualifyInterface({ flags: UP_BCAST, enslaved: false, hasLinkLocal: false, mac }), { arp: true, ndp: false });
});

test('down, enslaved, NOARP, no broadcast, loopback or non-Ethernet interfaces are refused as v0.11 does', () => {
  const no = { arp: false, ndp: false };
  assert.deepEqual(qualifyInterface({ flags: IFF_BROADCAST, enslaved: false, hasLinkLocal: true, mac }), no);
  assert.deepEqual(qualifyInterface({ flags: UP_BCAST, enslaved: true, hasLinkLocal: true, mac }), no);
  assert.deepEqual(qualifyInterface({ flags: UP_BCAST | IFF_NOARP, enslaved: false, hasLinkLocal: true, mac }), no);
  assert.deepEqual(qualifyInterface({ flags: IFF_UP, enslaved: false, hasLinkLocal: true, mac }), { arp: false, ndp: true });
  assert.deepEqual(qualifyInterface({ flags: 0x9, enslaved: false, hasLinkLocal: false, mac: '00:00:00:00:00:00' }), no); // lo
  assert.deepEqual(qualifyInterface({ flags: UP_BCAST, enslaved: false, hasLinkLocal: true, mac: '' }), no); // tun
});
