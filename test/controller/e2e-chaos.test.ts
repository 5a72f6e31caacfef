/**
 * Chaos against a private cluster (etcd and the apiserver get restarted, which a shared cluster must not see):
 * the controller is SIGKILLed 3 times within 1 s of starting (during its sync) and 7 more times at random moments
 * while 500 Services are created and deleted concurrently in a pool more than twice the live Services, and
 * etcd + apiserver restart mid-run. Fail-static (issue 8, fault 5): 5 Services hold addresses of pool `probe`; a
 * config without `probe` is put into the ConfigMap while a controller runs, then, each while the controller is down,
 * another refused one, an accepted one (the next controller applies and stores it) and a refused one again, so five
 * controllers start with a refused config in the ConfigMap. An outside watcher records each Service UID's first IP and fails on any
 * change, loss or duplicate (no sharing is declared). At the end every live Service has an IP.
 * The seed is printed; rerun with METALLB_TS_CHAOS_SEED=<seed> to replay the same schedule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { TestCluster } from '../../src/testing/cluster/test-cluster.js';
import { ensureBinaries } from '../../src/testing/cluster/binaries.js';
import { ResilientInformer } from '../../src/adapters/k8s/informer.js';
import { realClock } from '../../src/adapters/clock.js';
import { NOOP_LOGGER } from '../../src/core/ports.js';
import { METALLB_NS, installMetallb, startController, eventually, type ControllerProcess } from '../../src/testing/metallb/process.js';
import { adminClients, ipsOf, layer2Config, putConfig, serviceBody } from '../../src/testing/metallb/kube.js';
import { restartEtcdAndApiserver } from './helpers/control-plane.js';
import { prng } from '../helpers/prng.js';

const TOTAL_SERVICES = Number(process.env['METALLB_TS_CHAOS_SERVICES'] ?? 500);
const t0 = Date.now();
const progress = (msg: string) => process.stderr.write(`chaos +${((Date.now() - t0) / 1000).toFixed(1)}s ${msg}\n`);
// IPv6 Services: the test cluster's IPv4 ServiceCIDR is a /25 (128 ClusterIPs), its IPv6 one a /112.
const POOL = 'fc00:c4a0::/118'; // 1024 addresses ≥ 2 × 500
const V6 = { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' };
const PROBES = 5;
const CHAOS_POOL = { name: 'chaos', addresses: [POOL] };
const PROBE_POOL = { name: 'probe', addresses: ['fc00:c4a1::/124'], autoAssign: false };
/** Both refuse: they drop `probe`, which the probe Services hold. */
const REFUSED_WHILE_RUNNING = layer2Config([CHAOS_POOL]);
const REFUSED_WHILE_DOWN = layer2Config([CHAOS_POOL, { name: 'other', addresses: ['fc00:c4a2::/124'] }]);
/** Accepted: it keeps `probe` and only adds a pool nothing is auto-assigned from. */
const ACCEPTED_WHILE_DOWN = layer2Config([CHAOS_POOL, PROBE_POOL, { name: 'spare', addresses: ['fc00:c4a3::/124'], autoAssign: false }]);


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records each UID's first IP; any later different IP, a lost IP, or an IP held by two live UIDs is a violation. */
class IpWatcher {
  readonly firstIp = new Map<string, string>();
  readonly holder = new Map<string, string>();
  readonly live = new Map<string, V1Service>();
  readonly violations: string[] = [];

  observe(kind: 'add' | 'update' | 'delete', svc: V1Service): void {
    const uid = svc.metadata?.uid ?? '';
    const name = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    if (kind === 'delete') {
      this.live.delete(uid);
      const ip = this.firstIp.get(uid);
      if (ip && this.holder.get(ip) === uid) this.holder.delete(ip);
      return;
    }
    this.live.set(uid, svc);
    const ips = ipsOf(svc);
    const first = this.firstIp.get(uid);
    if (first === undefined) {
      if (ips.length === 0) return;
      const ip = ips[0] as string;
      const other = this.holder.get(ip);
      if (other && other !== uid && this.live.has(other)) this.violations.push(`duplicate: ${ip} given to ${name} while live ${other} holds it`);
      this.firstIp.set(uid, ip);
      this.holder.set(ip, uid);
      return;
    }
    if (ips.length !== 1 || ips[0] !== first) this.violations.push(`changed: ${name} (${uid}) had ${first}, now [${ips.join(',')}]`);
  }
}

test('chaos: SIGKILLs during sync and under load, an etcd+apiserver restart; no IP moves or duplicates', { timeout: 600_000 }, async (t) => {
  const seed = Number(process.env['METALLB_TS_CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`chaos seed ${seed} (replay: METALLB_TS_CHAOS_SEED=${seed})`);
  process.stderr.write(`chaos seed ${seed}\n`);
  const rand = prng(seed);
  ensureBinaries();
  const cluster = await TestCluster.start();
  let current: ControllerProcess | undefined;
  try {
    const kubeconfig = await installMetallb(cluster);
    const k = await adminClients(cluster);
    await putConfig(k, layer2Config([CHAOS_POOL, PROBE_POOL]));
    const ns = await cluster.createNamespace('chaos');

    const watcher = new IpWatcher();
    const lw = new k.k8s.ListWatch<V1Service>(`/api/v1/namespaces/${ns}/services`, new k.k8s.Watch(k.kc), () => k.core.listNamespacedService({ namespace: ns }), false);
    const informer = new ResilientInformer<V1Service>({ name: 'chaos-watcher', listWatch: lw, clock: realClock, logger: NOOP_LOGGER, onChange: (kind, s) => watcher.observe(kind, s) });
    informer.start();
    await informer.whenSynced();

    const storedConfig = async () => (await k.core.readNamespacedConfigMap({ namespace: METALLB_NS, name: 'config-last-applied' })).data?.['config'];
    const kills: string[] = [];
    const configEdits: string[] = [];
    const spawn = async () => {
      assert.ok(!current || current.child.exitCode !== null || current.child.signalCode !== null, 'never two controllers at once');
      current = await startController(kubeconfig);
      return current;
    };
    const killAfter = async (ms: number, label: string) => {
      await sleep(ms);
      current?.kill('SIGKILL');
      await current?.exited;
      kills.push(`${label}@${ms}ms`);
      progress(`killed ${label} after ${ms} ms; ${created.length} created, ${deleted.size} deleted`);
    };

    // Until the workload is done, any create/delete is retried (the apiserver goes away mid-run).
    const retry = async (what: string, op: () => Promise<unknown>, okCodes: number[]) => {
      for (let attempt = 1; ; attempt += 1) {
        try { await op(); return; } catch (err) {
          const code = (err as { code?: number }).code ?? 0;
          if (okCodes.includes(code)) return;
          if (attempt % 25 === 0) progress(`${what}: still failing (${code}): ${String(err).slice(0, 200)}`);
          await sleep(200);
        }
      }
    };
    const created: string[] = [];
    const deleted = new Set<string>();
    const next = { i: 0 };
    const runWorkload = async (upTo: number, pauseMs: number) => {
      const worker = async () => {
        while (next.i < upTo) {
          const name = `svc-${next.i++}`;
          await retry(`create ${name}`, () => k.core.createNamespacedService({ namespace: ns, body: serviceBody(ns, name, V6) }), [409]);
          created.push(name);
          if (rand() < 0.4) {
            const victim = created[Math.floor(rand() * created.length)] as string;
            if (!deleted.has(victim)) { deleted.add(victim); await retry(`delete ${victim}`, () => k.core.deleteNamespacedService({ namespace: ns, name: victim }), [404]); }
          }
          await sleep(Math.floor(rand() * pauseMs));
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    };
    // The probe Services get their `probe` addresses from a first controller, which is then killed.
    await spawn();
    for (let i = 0; i < PROBES; i += 1) {
      await k.core.createNamespacedService({ namespace: ns, body: serviceBody(ns, `probe-${i}`, { ...V6, annotations: { 'metallb.universe.tf/address-pool': 'probe' } }) });
    }
    await eventually(async () => (await k.core.listNamespacedService({ namespace: ns })).items.filter((s) => ipsOf(s).length === 1).length === PROBES,
      30_000, 'the probe Services have their addresses');
    await killAfter(0, 'probe-setup');

    // Paced so the creates and deletes span the whole kill schedule.
    const workload = runWorkload(TOTAL_SERVICES - 50, 700);

    await eventually(() => created.length >= 30, 60_000, '30 Services created before the first controller starts');
    for (let i = 0; i < 3; i += 1) { // during sync: within 1 s of start
      await spawn();
      await killAfter(50 + Math.floor(rand() * 900), `sync-${i}`);
    }
    for (let i = 0; i < 7; i += 1) {
      const c = await spawn();
      if (i === 1) { // a refused config arrives while the controller runs
        await c.waitReady(60_000);
        await putConfig(k, REFUSED_WHILE_RUNNING);
        configEdits.push(`refused while running before load-${i}`);
        progress('refused config put while the controller runs');
      }
      if (i === 5) { // started after the accepted edit: evidence that it applied it before it is killed
        await eventually(async () => (await storedConfig()) === ACCEPTED_WHILE_DOWN, 60_000, 'the accepted config is applied and stored');
        await eventually(async () => (await c.metric('metallb_k8s_client_config_stale_bool')) === 0, 30_000, 'the accepted config is not stale');
      }
      await killAfter(300 + Math.floor(rand() * 2500), `load-${i}`);
      if (i === 3 || i === 5) { // another refused config arrives while the controller is down
        await putConfig(k, REFUSED_WHILE_DOWN);
        configEdits.push(`refused while down after load-${i}`);
        progress('refused config put while the controller is down');
      }
      if (i === 4) { // an accepted config arrives while the controller is down: the next one applies and stores it
        await putConfig(k, ACCEPTED_WHILE_DOWN);
        configEdits.push(`accepted while down after load-${i}`);
        progress('accepted config put while the controller is down');
      }
    }
    const survivor = await spawn();
    await workload;
    await survivor.waitReady();
    // etcd and the apiserver restart under the running controller; the last 50 Services prove it recovered.
    progress('restarting etcd and kube-apiserver');
    await restartEtcdAndApiserver(cluster);
    progress('control plane back');
    await runWorkload(TOTAL_SERVICES, 50);
    t.diagnostic(`kills: ${kills.join(' ')}; config edits: ${configEdits.join('; ')}; created ${created.length}, deleted ${deleted.size}`);

    progress('workload done; waiting for every live Service to have an IP');
    const liveNames = new Set(created.filter((n) => !deleted.has(n)));
    await eventually(async () => {
      const list = await k.core.listNamespacedService({ namespace: ns });
      return list.items.length === liveNames.size + PROBES && list.items.every((s) => ipsOf(s).length === 1);
    }, 120_000, `every live Service has an IP (controller: ${survivor.tail(3)})`, 500);
    await eventually(() => [...watcher.live.values()].every((s) => ipsOf(s).length === 1), 30_000, 'the watcher saw every IP');

    assert.equal(kills.length, 11);
    // Fail-static held across 5 restarts under a refused config and an accepted edit made while down: the probes
    // kept their addresses (the watcher saw no change), the last controller still refuses the ConfigMap's config
    // and runs the last applied one, the accepted edit.
    const probeIps = (await k.core.listNamespacedService({ namespace: ns })).items.filter((s) => s.metadata?.name?.startsWith('probe-')).map((s) => ipsOf(s)[0] ?? '');
    assert.equal(probeIps.filter((ip) => ip.startsWith('fc00:c4a1::')).length, PROBES, `probe addresses kept: ${probeIps.join(',')}`);
    await eventually(async () => (await survivor.metric('metallb_k8s_client_config_stale_bool')) === 1, 30_000, 'the survivor still refuses the config');
    assert.ok(survivor.lines.some((l) => l['op'] === 'setConfig' && String(l['error']).includes('cannot own')), 'the survivor logged the refusal itself');
    assert.equal(await storedConfig(), ACCEPTED_WHILE_DOWN, 'the last applied config is the accepted edit');
    assert.equal(await survivor.metric('metallb_allocator_addresses_total', 'pool="spare"'), 16, 'the survivor runs it');
    assert.deepEqual(watcher.violations, [], `seed ${seed}`);
    const finalIps = (await k.core.listNamespacedService({ namespace: ns })).items.map((s) => ipsOf(s)[0]);
    assert.equal(new Set(finalIps).size, finalIps.length, 'no duplicate among live Services');
    assert.equal(survivor.child.exitCode, null, 'the last controller recovered on its own and keeps running');
    assert.deepEqual(survivor.nonJson, []);
    await informer.stop();
  } finally {
    current?.kill('SIGKILL');
    await cluster.stop();
  }
});
