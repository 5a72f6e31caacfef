/**
 * Solicited-node memberships beyond one socket's kernel quota: in a namespace of its own, a child process joins
 * 5,000 groups on a veth (one socket stops at ~2,340 with ENOMEM, `net.core.optmem_max`), and `ip -6 maddr`
 * must list every one; leaving half must drop exactly that half. Needs root and iproute2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePrerequisite } from '../../../src/testing/cluster/test-cluster.js';
import { run, runOk } from '../../../src/testing/cluster/processes.js';

const NS = `mct-${process.pid}`;
const GROUPS = 5000;
const moduleUrl = new URL('../../../src/adapters/layer2/multicast.js', import.meta.url).href;

/** ff02::1:ffXX:XXXX for the low 24 bits n (RFC 4291 §2.7.1). */
const group = (n: number) => `ff02::1:ff${(n >> 16).toString(16).padStart(2, '0')}:${(n & 0xffff).toString(16)}`;

/** Runs inside the namespace and counts with `ip` itself, so the parent needs no back-and-forth with it. */
const child = `
const { execFileSync } = await import('node:child_process');
const { openMulticastMemberships } = await import(${JSON.stringify(moduleUrl)});
const group = ${group.toString()};
const count = () => execFileSync('ip', ['-6', 'maddr', 'show', 'dev', 'mc0'], { encoding: 'utf8' }).split('\\n').filter((l) => /ff02::1:ff/.test(l)).length;
const before = count();
const m = await openMulticastMemberships();
const failures = [];
for (let n = 1; n <= ${GROUPS}; n++) { try { m.join(group(n), 'mc0'); } catch (e) { failures.push(String(e)); } }
const joined = count() - before;
for (let n = 1; n <= ${GROUPS}; n += 2) m.leave(group(n), 'mc0');
const afterLeave = count() - before;
await m.close();
console.log(JSON.stringify({ failures: failures.slice(0, 3), failed: failures.length, joined, afterLeave }));
`;

async function groupCount(): Promise<number> {
  const out = await runOk('ip', ['-n', NS, '-6', 'maddr', 'show', 'dev', 'mc0']);
  return out.split('\n').filter((l) => /ff02::1:ff/.test(l)).length;
}

test('solicited-node joins spill over to more sockets: 5,000 groups on one interface, and leaves drop exactly theirs', async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'needs root for a network namespace')) return;
  await run('ip', ['netns', 'del', NS]);
  await runOk('ip', ['netns', 'add', NS]);
  t.after(() => run('ip', ['netns', 'del', NS]));
  await runOk('ip', ['-n', NS, 'link', 'add', 'mc0', 'type', 'veth', 'peer', 'name', 'mc1']);
  await runOk('ip', ['-n', NS, 'link', 'set', 'mc0', 'up']);
  await runOk('ip', ['-n', NS, 'link', 'set', 'mc1', 'up']);
  const before = await groupCount(); // the kernel's own groups for mc0's link-local address
  const out = await runOk('ip', ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e', child], { timeoutMs: 120_000 });
  const result = JSON.parse(out.trim().split('\n').pop()!) as { failures: string[]; failed: number; joined: number; afterLeave: number };
  assert.equal(result.failed, 0, `joins failed: ${JSON.stringify(result.failures)}`);
  assert.equal(result.joined, GROUPS);
  assert.equal(result.afterLeave, GROUPS / 2);
  assert.equal(await groupCount(), before, 'closing the sockets leaves every group');
});
