/**
 * Allocator stories beyond the upstream vectors (sharing rules, dual-stack, config changes with
 * blockers, capacity) and a randomized check that the indexed search picks exactly the address
 * an address-by-address first-fit scan (MetalLB's method) would pick.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Allocator, formatAllocError, type AllocatorPool, type Port } from '../../../src/core/allocator/index.js';
import { formatIp, parseCidr, parseIp, type IpAddr } from '../../../src/core/ip/index.js';

function pool(name: string, cidrs: string[], opts: { avoidBuggyIps?: boolean; autoAssign?: boolean } = {}): AllocatorPool {
  return { name, cidrs: cidrs.map((c) => parseCidr(c)!), avoidBuggyIps: opts.avoidBuggyIps ?? false, autoAssign: opts.autoAssign ?? true };
}
const ip = (s: string): IpAddr => parseIp(s)!;
const tcp = (port: number): Port => ({ proto: 'TCP', port });
const udp = (port: number): Port => ({ proto: 'UDP', port });

interface Share { svc: string; ports: Port[]; sk: string; bk: string }

test('sharing rules: the second service on an address', () => {
  const first: Share = { svc: 'ns/a', ports: [tcp(80)], sk: 'key', bk: '' };
  const cases: { desc: string; second: Share; want: string | undefined }[] = [
    { desc: 'same key, other port', second: { svc: 'ns/b', ports: [tcp(443)], sk: 'key', bk: '' }, want: undefined },
    { desc: 'same port number, other protocol', second: { svc: 'ns/b', ports: [udp(80)], sk: 'key', bk: '' }, want: undefined },
    { desc: 'same port and protocol', second: { svc: 'ns/b', ports: [tcp(80)], sk: 'key', bk: '' }, want: 'port TCP/80 is already in use on "10.0.0.0"' },
    { desc: 'no sharing key', second: { svc: 'ns/b', ports: [tcp(443)], sk: '', bk: '' }, want: 'can\'t change sharing key for "ns/b", address also in use by ns/a: new service does not allow sharing' },
    { desc: 'other sharing key', second: { svc: 'ns/b', ports: [tcp(443)], sk: 'other', bk: '' }, want: 'can\'t change sharing key for "ns/b", address also in use by ns/a: sharing key "other" does not match existing sharing key "key"' },
    { desc: 'Local with a selector vs Cluster', second: { svc: 'ns/b', ports: [tcp(443)], sk: 'key', bk: 'app=x' }, want: 'can\'t change sharing key for "ns/b", address also in use by ns/a: backend key "app=x" does not match existing sharing key ""' },
  ];
  for (const c of cases) {
    const alloc = new Allocator();
    alloc.setPools([pool('p', ['10.0.0.0/30'])]);
    assert.ok(alloc.assign(first.svc, [ip('10.0.0.0')], first.ports, first.sk, first.bk).ok);
    const r = alloc.assign(c.second.svc, [ip('10.0.0.0')], c.second.ports, c.second.sk, c.second.bk);
    assert.equal(r.ok ? undefined : formatAllocError(r.error, 'v0.11'), c.want, c.desc);
  }
});

test('auto allocation joins a shareable address before a free later one, and skips full ones', () => {
  const alloc = new Allocator();
  alloc.setPools([pool('p', ['10.0.0.0/29'])]);
  const steps: { desc: string; svc: string; ports: Port[]; sk: string; want: string }[] = [
    { desc: 'first takes .0', svc: 'a', ports: [tcp(80)], sk: 's', want: '10.0.0.0' },
    { desc: 'no key takes .1', svc: 'b', ports: [tcp(80)], sk: '', want: '10.0.0.1' },
    { desc: 'same key, other port joins .0', svc: 'c', ports: [tcp(443)], sk: 's', want: '10.0.0.0' },
    { desc: 'same key, port taken on .0 → first free .2', svc: 'd', ports: [tcp(80)], sk: 's', want: '10.0.0.2' },
    { desc: 'same key, port 80 free on .2 only for other ports… .0 has 80,443; .2 has 80 → 8080 joins .0', svc: 'e', ports: [tcp(8080)], sk: 's', want: '10.0.0.0' },
  ];
  for (const s of steps) {
    const r = alloc.allocateFromPool(s.svc, 'ipv4', 'p', s.ports, s.sk, '');
    assert.ok(r.ok, s.desc);
    assert.deepEqual(r.ips.map(formatIp), [s.want], s.desc);
  }
  assert.equal(alloc.poolUsage().get('p')?.inUse, 3);
});

test('dual-stack: one address per family from ONE pool, in CIDR order', () => {
  const alloc = new Allocator();
  alloc.setPools([pool('v4only', ['10.0.0.0/30']), pool('both', ['fd00::/126', '10.1.0.0/30'])]);
  const r = alloc.allocate('ns/d', 'dual', [], '', '');
  assert.ok(r.ok);
  assert.deepEqual(r.ips.map(formatIp), ['fd00::', '10.1.0.0']);
  assert.equal(alloc.poolOf('ns/d'), 'both');
  const wrong = alloc.allocateFromPool('ns/d', 'ipv4', 'both', [], '', '');
  assert.equal(wrong.ok ? '' : formatAllocError(wrong.error), 'IP for wrong family assigned alloc dual service family ipv4');
  const other = alloc.assign('ns/e', [ip('10.0.0.1'), ip('fd00::1')], [], '', '');
  assert.equal(other.ok ? '' : formatAllocError(other.error), '["10.0.0.1" "fd00::1"] is not allowed in config');
});

test('setPools: refusal names every blocker and changes nothing', () => {
  const alloc = new Allocator();
  alloc.setPools([pool('a', ['10.0.0.0/30']), pool('b', ['10.0.1.0/30'])]);
  alloc.assign('ns/z', [ip('10.0.0.1')], [], '', '');
  alloc.assign('ns/y', [ip('10.0.0.2')], [], '', '');
  alloc.assign('ns/x', [ip('10.0.1.0')], [], '', '');
  const r = alloc.setPools([pool('b', ['10.0.1.0/30'])]);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.blockers, ['ns/y', 'ns/z']);
  assert.equal(formatAllocError(r.error, 'v0.11'), 'new config not compatible with assigned IPs: service "ns/y" cannot own "10.0.0.2" under new config');
  assert.deepEqual([...alloc.poolUsage().keys()], ['a', 'b']);
  // After the blockers go, the same config applies and the survivor is re-homed by name.
  alloc.unassign('ns/y');
  alloc.unassign('ns/z');
  assert.ok(alloc.setPools([pool('renamed', ['10.0.1.0/30'])]).ok);
  assert.equal(alloc.poolOf('ns/x'), 'renamed');
  assert.equal(alloc.poolUsage().get('renamed')?.inUse, 1);
});

test('pools are tried in config order; auto-assign false only by name', () => {
  const alloc = new Allocator();
  alloc.setPools([pool('manual', ['10.9.0.0/30'], { autoAssign: false }), pool('first', ['10.1.0.0/31']), pool('second', ['10.2.0.0/31'])]);
  const got = ['a', 'b', 'c'].map((s) => {
    const r = alloc.allocate(s, 'ipv4', [], '', '');
    return r.ok ? formatIp(r.ips[0]!) : 'none';
  });
  assert.deepEqual(got, ['10.1.0.0', '10.1.0.1', '10.2.0.0']);
  const named = alloc.allocateFromPool('d', 'ipv4', 'manual', [], '', '');
  assert.deepEqual(named.ok ? named.ips.map(formatIp) : [], ['10.9.0.0']);
});

/** MetalLB's method, independently written: walk every address, test the sharing rule. */
class ReferenceModel {
  readonly uses = new Map<string, { sk: string; bk: string; svcs: Map<string, Port[]> }>();
  readonly held = new Map<string, string>();

  canTake(svc: string, addr: string, ports: Port[], sk: string, bk: string): boolean {
    const use = this.uses.get(addr);
    if (use === undefined) return true;
    const others = [...use.svcs.keys()].filter((s) => s !== svc);
    const compatible = use.sk !== '' && sk !== '' && use.sk === sk && use.bk === bk;
    if (!compatible && others.length > 0) return false;
    return !ports.some((p) => others.some((o) => use.svcs.get(o)!.some((q) => q.port === p.port && q.proto === p.proto)));
  }

  firstFit(p: AllocatorPool, svc: string, ports: Port[], sk: string, bk: string): string | undefined {
    for (const cidr of p.cidrs) {
      const size = 1n << BigInt(32 - cidr.bits);
      for (let i = 0n; i < size; i++) {
        const value = cidr.base.value + i;
        if (p.avoidBuggyIps && ((value & 0xffn) === 0n || (value & 0xffn) === 255n)) continue;
        const addr = formatIp({ family: 4, value });
        if (this.canTake(svc, addr, ports, sk, bk)) return addr;
      }
    }
    return undefined;
  }

  take(svc: string, addr: string, ports: Port[], sk: string, bk: string): void {
    const use = this.uses.get(addr) ?? { sk, bk, svcs: new Map() };
    use.svcs.set(svc, ports);
    this.uses.set(addr, use);
    this.held.set(svc, addr);
  }

  release(svc: string): void {
    const addr = this.held.get(svc);
    if (addr === undefined) return;
    this.held.delete(svc);
    const use = this.uses.get(addr)!;
    use.svcs.delete(svc);
    if (use.svcs.size === 0) this.uses.delete(addr);
  }
}

test('indexed first fit equals an address-by-address scan (random sharing, ports, releases, avoid-buggy)', () => {
  for (const avoid of [false, true]) {
    let seed = avoid ? 7 : 3;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const p = pool('p', ['10.0.0.250/31', '10.0.0.0/30', '10.0.1.0/24'], { avoidBuggyIps: avoid });
    const alloc = new Allocator();
    alloc.setPools([p]);
    const model = new ReferenceModel();
    const portChoices = [[tcp(80)], [tcp(443)], [udp(80)], [tcp(80), tcp(443)], []];
    for (let step = 0; step < 3000; step++) {
      const svc = `s${rand(300)}`;
      if (model.held.has(svc) && rand(2) === 0) {
        alloc.unassign(svc);
        model.release(svc);
        continue;
      }
      if (model.held.has(svc)) continue;
      const ports = portChoices[rand(portChoices.length)]!;
      const sk = ['', 'a', 'b'][rand(3)]!;
      const bk = ['', 'app=x'][rand(2)]!;
      const want = model.firstFit(p, svc, ports, sk, bk);
      const r = alloc.allocateFromPool(svc, 'ipv4', 'p', ports, sk, bk);
      const got = r.ok ? formatIp(r.ips[0]!) : undefined;
      assert.equal(got, want, `avoid=${avoid} step ${step}: ${svc} ${JSON.stringify(ports)} sk=${sk} bk=${bk}`);
      if (want !== undefined) model.take(svc, want, ports, sk, bk);
    }
  }
});

test('a port-less shared address keeps its sharing key while any Service remains on it', () => {
  const alloc = new Allocator();
  alloc.setPools([pool('p', ['10.0.0.0/30'])]);
  assert.ok(alloc.assign('a', [ip('10.0.0.0')], [], 'k', '').ok);
  assert.ok(alloc.assign('b', [ip('10.0.0.0')], [], 'k', '').ok);
  alloc.unassign('a');
  const c = alloc.assign('c', [ip('10.0.0.0')], [], '', '');
  assert.equal(c.ok ? '' : formatAllocError(c.error, 'v0.11'), 'can\'t change sharing key for "c", address also in use by b: new service does not allow sharing');
  alloc.unassign('b');
  assert.ok(alloc.assign('c', [ip('10.0.0.0')], [], '', '').ok);
});
