/**
 * Issue 8, fault 1: a Service waiting for an address is retried when a holder of the address it wants changes in a
 * way that can make the two compatible (traffic policy, selector, sharing key, ports, deletion, move to another
 * address), and only then: a 1,000-Service cluster processes just the waiters a change concerns.
 * The real Controller and reconciler run over an in-memory cache and a synchronous queue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/controller/controller.js';
import { ControllerReconciler, type WorkKey } from '../../src/controller/reconciler.js';
import { parseConfig } from '../../src/core/config/parse.js';
import { NOOP_LOGGER } from '../../src/core/ports.js';
import type { ServiceObject } from '../../src/core/k8s/objects.js';

interface Opts { ip?: string; key?: string; policy?: 'Local' | 'Cluster'; selector?: Record<string, string>; ports?: Array<[string, number]> }

function svcObject(name: string, o: Opts, rv: number, ingress: string[] = []): ServiceObject {
  return {
    metadata: { namespace: 'ns', name, uid: name, resourceVersion: String(rv), annotations: o.key ? { 'metallb.universe.tf/allow-shared-ip': o.key } : {} },
    spec: {
      type: 'LoadBalancer', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], loadBalancerIP: o.ip ?? '',
      externalTrafficPolicy: o.policy ?? 'Cluster', selector: o.selector ?? { app: 'dns' },
      ports: (o.ports ?? [['TCP', 53]]).map(([protocol, port]) => ({ protocol, port })),
    },
    status: { loadBalancer: { ingress: ingress.map((ip) => ({ ip })) } },
  } as ServiceObject;
}

/** A cluster in memory: edits go through the reconciler like informer events; run() drains the queue. */
class Cluster {
  readonly services = new Map<string, ServiceObject>();
  readonly specs = new Map<string, Opts>();
  readonly queue: WorkKey[] = [];
  processed = 0;
  private rv = 1;
  readonly r: ControllerReconciler;

  constructor(poolCidr: string) {
    const core = new Controller({ logger: NOOP_LOGGER });
    const cm = { metadata: { namespace: 'metallb-system', name: 'config', resourceVersion: '1' }, data: { config: `address-pools:\n- name: p\n  protocol: layer2\n  addresses: [${poolCidr}]\n` } };
    this.r = new ControllerReconciler({
      core, logger: NOOP_LOGGER, parseConfig, lbClass: undefined,
      configMap: () => cm, stored: () => undefined, saveApplied: async () => ({ ok: true }),
      service: (k) => this.services.get(k), services: () => this.services.values(),
      writeStatus: async (s, ingress) => {
        const name = s.metadata?.name ?? '';
        const next = svcObject(name, this.specs.get(name)!, this.rv++, ingress.map((e) => e.ip ?? ''));
        this.services.set(`ns/${name}`, next);
        return { ok: true, service: next };
      },
      recordEvent: () => undefined,
      metrics: { setConfigLoaded: () => undefined, setConfigStale: () => undefined, setPoolStats: () => undefined },
      enqueue: (k) => { if (!this.queue.includes(k)) this.queue.push(k); },
    });
  }

  async start(): Promise<void> {
    if ((await this.r.handle('synced')) === 'reprocessAll') this.r.reprocessAll('synced');
    await this.run();
  }

  /** Creates or edits a Service (as the informer would report it) and processes until idle; returns keys processed. */
  async put(name: string, o: Opts): Promise<number> {
    const ingress = (this.services.get(`ns/${name}`)?.status?.loadBalancer?.ingress ?? []).map((e) => e.ip ?? '');
    this.specs.set(name, o);
    this.services.set(`ns/${name}`, svcObject(name, o, this.rv++, ingress));
    this.queue.push(`service:ns/${name}`);
    return this.run();
  }

  async remove(name: string): Promise<number> {
    this.services.delete(`ns/${name}`);
    this.queue.push(`service:ns/${name}`);
    return this.run();
  }

  ips(name: string): string[] {
    return (this.services.get(`ns/${name}`)?.status?.loadBalancer?.ingress ?? []).map((e) => e.ip ?? '');
  }

  private async run(): Promise<number> {
    const before = this.processed;
    for (let key = this.queue.shift(); key !== undefined; key = this.queue.shift()) {
      this.processed += 1;
      const state = await this.r.handle(key);
      if (state === 'reprocessAll') this.r.reprocessAll(key);
    }
    return this.processed - before;
  }
}

test('the issue\'s reproductions: traffic policy and ports of the holder make a waiting Service compatible again', async () => {
  const c = new Cluster('192.0.2.0/28');
  await c.start();
  await c.put('udp', { ip: '192.0.2.9', key: 'dns', ports: [['UDP', 53]] });
  await c.put('tcp', { ip: '192.0.2.9', key: 'dns', ports: [['TCP', 53]] });
  assert.deepEqual([c.ips('udp'), c.ips('tcp')], [['192.0.2.9'], ['192.0.2.9']]);
  await c.put('tcp', { ip: '192.0.2.9', key: 'dns', ports: [['TCP', 53]], policy: 'Local' });
  assert.deepEqual(c.ips('tcp'), [], 'backends differ: the TCP one loses .9');
  await c.put('udp', { ip: '192.0.2.9', key: 'dns', ports: [['UDP', 53]], policy: 'Local' });
  assert.deepEqual(c.ips('tcp'), ['192.0.2.9'], 'both Local with one selector: the waiting TCP one gets .9 without being edited');

  await c.put('web-x', { ip: '192.0.2.7', key: 'web', ports: [['TCP', 80]] });
  await c.put('web-y', { ip: '192.0.2.7', key: 'web', ports: [['TCP', 80]] });
  assert.deepEqual(c.ips('web-y'), [], 'port TCP/80 is already in use');
  await c.put('web-x', { ip: '192.0.2.7', key: 'web', ports: [['TCP', 8080]] });
  assert.deepEqual(c.ips('web-y'), ['192.0.2.7'], 'the holder moved to TCP/8080: web-y gets .7');
});

test('every way a holder can become compatible retries the waiter: sharing key, selector, deletion, move to another IP', async () => {
  const c = new Cluster('192.0.2.0/27');
  await c.start();
  // Sharing key: the holder has no key, then takes the waiter's.
  await c.put('h1', { ip: '192.0.2.1', ports: [['TCP', 80]] });
  await c.put('w1', { ip: '192.0.2.1', key: 'k', ports: [['TCP', 81]] });
  assert.deepEqual(c.ips('w1'), []);
  await c.put('h1', { ip: '192.0.2.1', key: 'k', ports: [['TCP', 80]] });
  assert.deepEqual(c.ips('w1'), ['192.0.2.1'], 'sharing key');
  // Selector: both Local, different selectors, then the same one.
  await c.put('h2', { ip: '192.0.2.2', key: 'k', policy: 'Local', selector: { app: 'a' }, ports: [['TCP', 80]] });
  await c.put('w2', { ip: '192.0.2.2', key: 'k', policy: 'Local', selector: { app: 'b' }, ports: [['TCP', 81]] });
  assert.deepEqual(c.ips('w2'), []);
  await c.put('h2', { ip: '192.0.2.2', key: 'k', policy: 'Local', selector: { app: 'b' }, ports: [['TCP', 80]] });
  assert.deepEqual(c.ips('w2'), ['192.0.2.2'], 'selector');
  // Deletion of the holder.
  await c.put('h3', { ip: '192.0.2.3' });
  await c.put('w3', { ip: '192.0.2.3' });
  assert.deepEqual(c.ips('w3'), []);
  await c.remove('h3');
  assert.deepEqual(c.ips('w3'), ['192.0.2.3'], 'deletion');
  // The holder moves to another address.
  await c.put('h4', { ip: '192.0.2.4' });
  await c.put('w4', { ip: '192.0.2.4' });
  assert.deepEqual(c.ips('w4'), []);
  await c.put('h4', { ip: '192.0.2.5' });
  assert.deepEqual([c.ips('h4'), c.ips('w4')], [['192.0.2.5'], ['192.0.2.4']], 'move to another IP');
});

test('1,000 Services: a holder edit processes only the waiter it concerns; unrelated edits and deletions process none', async () => {
  const c = new Cluster('10.10.0.0/22'); // 1,024 addresses
  await c.start();
  const HOLDERS = 900;
  const WAITERS = 100;
  const ipOf = (i: number) => `10.10.${Math.floor(i / 256)}.${i % 256}`;
  for (let i = 0; i < HOLDERS; i += 1) await c.put(`h${i}`, { ip: ipOf(i), ports: [['TCP', 80]] });
  // Each waiter wants the address of holder i, same port: blocked until that holder changes.
  for (let i = 0; i < WAITERS; i += 1) await c.put(`w${i}`, { ip: ipOf(i), key: 'k', ports: [['TCP', 80]] });
  assert.equal([...Array(WAITERS).keys()].filter((i) => c.ips(`w${i}`).length === 0).length, WAITERS, 'all waiters wait');

  const perEdit: number[] = [];
  // Unrelated edits: a holder nobody waits for changes ports; another is deleted (releasing an address nobody wants).
  perEdit.push(await c.put('h500', { ip: ipOf(500), ports: [['TCP', 8080]] }));
  perEdit.push(await c.remove('h501'));
  // Related edits: holder 7 takes key k on another port -> waiter 7 (and only it) can share.
  perEdit.push(await c.put('h7', { ip: ipOf(7), key: 'k', ports: [['TCP', 81]] }));
  assert.deepEqual(c.ips('w7'), [ipOf(7)]);
  perEdit.push(await c.remove('h8'));
  assert.deepEqual(c.ips('w8'), [ipOf(8)]);
  perEdit.push(await c.put('h9', { ip: ipOf(950) }));
  assert.deepEqual(c.ips('w9'), [ipOf(9)]);
  // Each edit processed the edited Service and at most the one waiter it concerns (never ~1,000, never 100 waiters).
  assert.deepEqual(perEdit, [1, 1, 2, 2, 2], 'keys processed per edit');
  process.stderr.write(`waiting-retry: 1,000 Services (${HOLDERS} holders, ${WAITERS} waiters): keys processed per edit ${perEdit.join(', ')}\n`);
});

test('a waiting Service logs its reason at error level once per change, not on every retry', () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = {
    debug: (f: Record<string, unknown>) => lines.push({ level: 'debug', ...f }), info: () => undefined, warn: () => undefined,
    error: (f: Record<string, unknown>) => lines.push({ level: 'error', ...f }), child() { return logger; },
  };
  const core = new Controller({ logger });
  const cfg = parseConfig('address-pools:\n- name: p\n  protocol: layer2\n  addresses: [192.0.2.0/30]\n');
  assert.ok(cfg.ok);
  core.setConfig(cfg.config);
  core.markSynced();
  core.setBalancer('ns/h', svcObject('h', { ip: '192.0.2.1' }, 1));
  const errors = () => lines.filter((l) => l['level'] === 'error' && l['op'] === 'allocateIPs').map((l) => l['error']);
  for (let i = 0; i < 5; i += 1) core.setBalancer('ns/w', svcObject('w', { ip: '192.0.2.1' }, 2));
  assert.equal(errors().length, 1, 'five retries, one error line');
  core.setBalancer('ns/w', svcObject('w', { ip: '198.51.100.1' }, 3));
  core.setBalancer('ns/w', svcObject('w', { ip: '198.51.100.1' }, 4));
  assert.equal(errors().length, 2, 'a new reason is logged once');
  assert.ok(lines.filter((l) => l['level'] === 'debug' && l['op'] === 'allocateIPs').length >= 4, 'repeats stay visible at debug');
});
