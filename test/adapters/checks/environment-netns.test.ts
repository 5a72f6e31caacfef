/**
 * The environment checks' adapter on a real kernel (issue 13 §3): a node network namespace of this file's own
 * (prefix METALLB_TS_CHECKS_TEST_PREFIX, default `chk-`) with a veth pair named `kube-ipvs0` / `eth0` (this kernel
 * has no `dummy`, the kind kube-proxy creates), the ARP sysctls set both ways with sysctl(8), and the adapter plus the
 * pure checks run by a child process inside the namespace (sysfs and /proc/sys/net are per namespace). Needs root.
 * A new namespace inherits the host's conf/all values (net.core.devconf_inherit_init_net=0), so every value the test
 * relies on is written first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { requirePrerequisite } from '../../../src/testing/cluster/test-cluster.js';
import { repoRoot } from '../../../src/testing/cluster/binaries.js';
import { run, runOk } from '../../../src/testing/cluster/processes.js';
import type { Finding } from '../../../src/core/speaker/env-checks.js';

const NS = `${process.env['METALLB_TS_CHECKS_TEST_PREFIX'] ?? 'chk-'}node`;

/** Runs the adapter and the checks inside the namespace; `layer2InUse` for the announce-interface check. */
async function findingsInNs(): Promise<{ strictArp: Finding[]; announce: Finding[]; arp: string[]; all: unknown }> {
  const dist = (p: string) => pathToFileURL(join(repoRoot(), 'dist', 'src', p)).href;
  const script = `
    const env = await import(${JSON.stringify(dist('adapters/checks/environment.js'))});
    const checks = await import(${JSON.stringify(dist('core/speaker/env-checks.js'))});
    const l2 = await import(${JSON.stringify(dist('adapters/layer2/interfaces.js'))});
    const scan = l2.scanInterfaces();
    const input = env.readStrictArpInput(scan);
    console.log(JSON.stringify({
      strictArp: checks.checkStrictArp(input),
      announce: checks.checkAnnounceInterfaces({ layer2InUse: true, interfaces: scan.interfaces }),
      arp: input.arpInterfaces.map((i) => i.name), all: input.all,
    }));`;
  const out = await runOk('ip', ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e', script]);
  return JSON.parse(out) as { strictArp: Finding[]; announce: Finding[]; arp: string[]; all: unknown };
}

async function sysctl(key: string, value: number): Promise<void> {
  await runOk('ip', ['netns', 'exec', NS, 'sysctl', '-q', '-w', `net.ipv4.conf.${key}=${value}`]);
}

test('strict-ARP check on a real kernel: kube-ipvs0 and the conf/all and conf/<if> values, both ways', { timeout: 60_000 }, async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'needs root for a network namespace')) return;
  await run('ip', ['netns', 'del', NS]);
  try {
    await runOk('ip', ['netns', 'add', NS]);
    await runOk('ip', ['-n', NS, 'link', 'add', 'kube-ipvs0', 'type', 'veth', 'peer', 'name', 'eth0']);
    await runOk('ip', ['-n', NS, 'link', 'set', 'eth0', 'address', '02:00:00:00:c4:01', 'up']);
    for (const key of ['all', 'eth0']) { await sysctl(`${key}.arp_ignore`, 0); await sysctl(`${key}.arp_announce`, 0); }

    let r = await findingsInNs();
    assert.deepEqual(r.all, { arpIgnore: 0, arpAnnounce: 0 }, 'the adapter reads conf/all');
    assert.ok(r.arp.includes('eth0'), `eth0 answers ARP (${r.arp.join(', ')})`);
    assert.deepEqual(r.strictArp.map((f) => f.reason), ['StrictARPMissing'], 'IPVS with the kernel defaults');
    assert.match(r.strictArp[0]!.message, /eth0 \(arp_ignore 0, arp_announce 0\)/);

    // kube-proxy's strictARP: the `all` values.
    await sysctl('all.arp_ignore', 1);
    await sysctl('all.arp_announce', 2);
    r = await findingsInNs();
    assert.deepEqual(r.strictArp, [], 'all.arp_ignore=1, all.arp_announce=2 clears it');

    // Half of it: arp_announce back to 0 on all, 2 on eth0 only (the kernel takes the max): still strict.
    await sysctl('all.arp_announce', 0);
    r = await findingsInNs();
    assert.match(r.strictArp[0]?.message ?? '', /eth0 \(arp_announce 0\)/, 'all.arp_announce=0 alone is a finding');
    await sysctl('eth0.arp_announce', 2);
    r = await findingsInNs();
    assert.deepEqual(r.strictArp, [], 'eth0.arp_announce=2 counts (max of all and the interface)');

    // Without kube-ipvs0 (kube-proxy in iptables mode) the sysctls do not matter.
    await sysctl('all.arp_ignore', 0);
    await sysctl('eth0.arp_announce', 0);
    assert.equal((await findingsInNs()).strictArp.length, 1);
    await runOk('ip', ['-n', NS, 'link', 'set', 'kube-ipvs0', 'name', 'veth-other']);
    r = await findingsInNs();
    assert.deepEqual(r.strictArp, [], 'no kube-ipvs0: no finding');

    // No interface that answers ARP or NDP (eth0 down) with a layer2 pool: NoAnnounceInterface.
    assert.deepEqual(r.announce, [], 'eth0 up answers');
    await runOk('ip', ['-n', NS, 'link', 'set', 'eth0', 'down']);
    r = await findingsInNs();
    assert.deepEqual(r.announce.map((f) => f.reason), ['NoAnnounceInterface']);
  } finally {
    await run('ip', ['netns', 'del', NS]);
  }
});
