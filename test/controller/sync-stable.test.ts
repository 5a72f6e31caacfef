/**
 * Issue 8, fault 2: allocation and the "is the current address still right?" check must follow one rule, so a
 * Service that was just synced needs no change on the next sync. Property checked exhaustively over the request
 * vectors: pool annotation × spec.loadBalancerIP × loadBalancerIPs annotation × IP families × sharing with a holder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/controller/controller.js';
import type { Config, Pool } from '../../src/core/config/types.js';
import { parseCidr } from '../../src/core/ip/index.js';
import type { LogFields, Logger } from '../../src/core/ports.js';
import type { ServiceLike } from '../../src/core/service/view.js';

function pool(name: string, cidrs: string[], autoAssign = true): Pool {
  return { name, protocol: 'layer2', cidrs: cidrs.map((c) => parseCidr(c)!), addresses: cidrs, avoidBuggyIps: false, autoAssign, bgpAdvertisements: [] };
}
const CONFIG: Config = {
  pools: [pool('a', ['192.0.2.32/29', '2001:db8:a::/125']), pool('b', ['192.0.2.40/29', '2001:db8:b::/125']), pool('manual', ['192.0.2.48/29'], false)],
  peers: [], bfdProfiles: [], communityAliases: new Map(),
};

/** Records every log line (the property also forbids clearAssignment on the second sync). */
class RecordingLogger implements Logger {
  readonly lines: LogFields[];
  private readonly base: LogFields;
  constructor(lines: LogFields[] = [], base: LogFields = {}) { this.lines = lines; this.base = base; }
  debug(f: LogFields) { this.lines.push({ ...this.base, ...f }); }
  info(f: LogFields) { this.lines.push({ ...this.base, ...f }); }
  warn(f: LogFields) { this.lines.push({ ...this.base, ...f }); }
  error(f: LogFields) { this.lines.push({ ...this.base, ...f }); }
  child(f: LogFields): Logger { return new RecordingLogger(this.lines, { ...this.base, ...f }); }
}

const FAMILIES: Record<string, { clusterIPs: string[]; ipFamilies: string[] }> = {
  v4: { clusterIPs: ['10.96.0.1'], ipFamilies: ['IPv4'] },
  v6: { clusterIPs: ['fd00::1'], ipFamilies: ['IPv6'] },
  dual: { clusterIPs: ['10.96.0.1', 'fd00::1'], ipFamilies: ['IPv4', 'IPv6'] },
};
const POOLS = ['', 'a', 'b', 'manual', 'unknown'];
const SPEC_IPS = ['', '192.0.2.33', '192.0.2.41', '192.0.2.49', '198.51.100.1', '2001:db8:b::1', 'not-an-ip'];
const ANNOTATION_IPS = ['', '192.0.2.34', '192.0.2.42', '192.0.2.42,2001:db8:b::2', '192.0.2.34,2001:db8:b::2', '2001:db8:a::3'];
/** Another Service holding 192.0.2.41 (sharing key k, port 80) or nothing; the Service under test uses key k or none. */
const SHARING = ['none', 'holder-same-port', 'holder-other-port', 'holder-no-key'] as const;

function service(o: { family: string; pool: string; specIp: string; annIps: string; sharing: string; port: number; ingress: Array<{ ip?: string }> }): ServiceLike {
  const f = FAMILIES[o.family]!;
  const annotations: Record<string, string> = {};
  if (o.pool) annotations['metallb.universe.tf/address-pool'] = o.pool;
  if (o.annIps) annotations['metallb.universe.tf/loadBalancerIPs'] = o.annIps;
  if (o.sharing !== 'none') annotations['metallb.universe.tf/allow-shared-ip'] = 'k';
  return {
    metadata: { namespace: 'ns', name: 'x', annotations },
    spec: { type: 'LoadBalancer', clusterIP: f.clusterIPs[0]!, clusterIPs: f.clusterIPs, ipFamilies: f.ipFamilies, loadBalancerIP: o.specIp, ports: [{ protocol: 'TCP', port: o.port }] },
    status: { loadBalancer: { ingress: o.ingress } },
  };
}

test('a Service that was just synced needs no change on the next sync, for every request vector', () => {
  let cases = 0;
  let allocated = 0;
  const failures: string[] = [];
  for (const family of Object.keys(FAMILIES)) for (const p of POOLS) for (const specIp of SPEC_IPS) for (const annIps of ANNOTATION_IPS) for (const sharing of SHARING) {
    cases += 1;
    const log = new RecordingLogger();
    const ctl = new Controller({ logger: log });
    assert.equal(ctl.setConfig(CONFIG).kind, 'applied');
    ctl.markSynced();
    if (sharing !== 'none') {
      const holder = service({ family: 'v4', pool: '', specIp: '192.0.2.41', annIps: '', sharing: sharing === 'holder-no-key' ? 'none' : 'k', port: sharing === 'holder-same-port' ? 80 : 443, ingress: [] });
      const r = ctl.setBalancer('ns/holder', holder);
      assert.deepEqual(r.status, [{ ip: '192.0.2.41' }]);
    }
    const input = { family, pool: p, specIp, annIps, sharing, port: 80 };
    const first = ctl.setBalancer('ns/x', service({ ...input, ingress: [] }));
    const ingress = [...(first.status ?? [])];
    if (ingress.length > 0) allocated += 1;
    const mark = log.lines.length;
    const second = ctl.setBalancer('ns/x', service({ ...input, ingress }));
    const third = ctl.setBalancer('ns/x', service({ ...input, ingress }));
    const label = JSON.stringify(input);
    const churn = log.lines.slice(mark).filter((l) => l['event'] === 'clearAssignment' || l['event'] === 'ipAllocated');
    if (second.status !== undefined || third.status !== undefined) failures.push(`${label}: status ${JSON.stringify(ingress)} rewritten to ${JSON.stringify(second.status ?? third.status)}`);
    else if (churn.length > 0) failures.push(`${label}: ${churn.map((l) => l['event']).join(', ')} on a re-sync`);
    else if ([...second.events, ...third.events].some((e) => e.reason === 'IPAllocated')) failures.push(`${label}: IPAllocated on a re-sync`);
  }
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${cases} request vectors change on the next sync`);
  assert.ok(cases === 3 * 5 * 7 * 6 * 4 && allocated > 50, `${cases} cases, ${allocated} allocated: the vectors exercise allocation`);
});

test('the issue\'s reproduction: pool a with loadBalancerIPs in pool b is refused with a Warning and no address', () => {
  const ctl = new Controller({ logger: new RecordingLogger() });
  ctl.setConfig(CONFIG);
  ctl.markSynced();
  const r = ctl.setBalancer('ns/x', service({ family: 'v4', pool: 'a', specIp: '', annIps: '192.0.2.41', sharing: 'none', port: 80, ingress: [] }));
  assert.equal(r.status, undefined, 'no address (the status was already empty)');
  assert.deepEqual(r.events, [{ type: 'Warning', reason: 'AllocationFailed', message: 'Failed to allocate IP for "ns/x": requested loadBalancer IP(s) ["192.0.2.41"] is not in the requested pool "a"' }]);
  // A status left by an older controller (the address .41) is cleared, once.
  const held = ctl.setBalancer('ns/x', service({ family: 'v4', pool: 'a', specIp: '', annIps: '192.0.2.41', sharing: 'none', port: 80, ingress: [{ ip: '192.0.2.41' }] }));
  assert.deepEqual(held.status, []);
});
