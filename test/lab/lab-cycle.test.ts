// The lab end to end, for real: up, down, up, down, then nothing of it may be left — no namespace, no
// namespace mount, no process it recorded, no port it listened on. Uses its own state dir and netns prefix so
// a developer's running lab is untouched. Needs root and BIRD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
import { fileURLToPath } from 'node:url';
import { repoRoot, binaryDir } from '../../src/testing/cluster/binaries.js';
import { isAlive, portIsFree, commandLineMentions, run } from '../../src/testing/cluster/processes.js';
import { labTestPrefix } from './lab-harness.js';

// mltt- unless METALLB_TS_LAB_TEST_PREFIX says otherwise (see labTestPrefix).
const PREFIX = labTestPrefix('tt-');
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
const here = dirname(fileURLToPath(import.meta.url));
const labMain = join(repoRoot(), 'dist', 'src', 'lab', 'main.js');

function lab(dir: string, command: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [labMain, command], {
      env: { ...process.env, METALLB_TS_LAB_DIR: dir, METALLB_TS_LAB_PREFIX: PREFIX, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => { output += String(d); });
    child.stderr.on('data', (d) => { output += String(d); });
    child.on('error', reject);
    // 'close' (not 'exit'): if a daemon kept our pipe open, this would hang and the test would time out.
    child.on('close', (code) => resolve({ code: code ?? 1, output, seconds: (Date.now() - t0) / 1000 }));
  });
}

function netnsList(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort();
}

interface Recorded { pids: number[]; ports: number[] }

function recorded(dir: string): Recorded {
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { pids: Record<string, number>; ports: number[]; clusterInfo: string };
  const cluster = JSON.parse(readFileSync(state.clusterInfo, 'utf8')) as { pids: { etcd: number; apiserver: number; controllerManager: number; relays: number[] } };
  const { etcd, apiserver, controllerManager, relays } = cluster.pids;
  return { pids: [...Object.values(state.pids), etcd, apiserver, controllerManager, ...relays], ports: state.ports };
}

/**
 * The lab's processes still listening on a TCP port: [] when it is free, or when whoever holds it now is not
 * ours — other helpers and test clusters on this machine pick free ports too, and may take one the lab freed.
 * A holder is ours if it was recorded or its arguments mention the lab dir; a holder ss cannot name counts as ours.
 */
async function ourListeners(port: number, dir: string, recordedPids: readonly number[]): Promise<string[]> {
  if (await portIsFree(port)) return [];
  const ss = await run('ss', ['-Hltnp', `sport = :${port}`]);
  const pids = [...ss.stdout.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  if (pids.length === 0) return [`unknown holder (ss: ${ss.stdout.trim() || ss.stderr.trim() || 'nothing'})`];
  return pids.filter((pid) => recordedPids.includes(pid) || commandLineMentions(pid, dir)).map((pid) => `pid ${pid}`);
}

test('lab up, down, up, down leaves nothing behind', { timeout: 300_000 }, async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'the lab needs root (ip netns)')) return;
  const hasBird = spawnSync('sh', ['-c', 'command -v bird && command -v birdc']).status === 0;
  if (!requirePrerequisite(t, hasBird, 'the lab needs BIRD 2 (apt-get install bird2)')) return;

  // A fixed dir, cleaned first: a run killed half-way (where no finally runs) is undone by the next one.
  const dir = join(tmpdir(), `metallb-ts-${PREFIX}lab-e2e`);
  const cleanup = await lab(dir, 'down');
  assert.equal(cleanup.code, 0, cleanup.output);
  // Only this test's prefix: other labs (a developer's, other suites') may come and go meanwhile.
  const before = netnsList().filter((n) => n.startsWith(PREFIX));
  const seen: Recorded = { pids: [], ports: [] };
  try {
    for (const round of [1, 2]) {
      // Round 1 runs this checkout's controller and speakers; round 2 a stand-in controller, to check the lab's
      // wiring on its own (and that `up` still works when the CLI has no speaker).
      const standIn = round === 2 ? { METALLB_TS_CLI: join(here, 'stand-in-controller.js'), STAND_IN_KUBECTL: join(binaryDir(), 'kubectl') } : {};
      const upResult = await lab(dir, 'up', standIn);
      assert.equal(upResult.code, 0, upResult.output);
      assert.match(upResult.output, /EXTERNAL-IP/);
      assert.match(upResult.output, /lab: network ok/);
      // Whichever controller ran, with only the manifests' RBAC it must have given the demo a pool address.
      assert.match(upResult.output, /controller: running as system:serviceaccount:metallb-system:controller/);
      assert.match(upResult.output, /kube-proxy stand-ins running; Pods speaker-node1\.\.3 and demo-node1\.\.3 Running and Ready/);
      if (round === 1) {
        // The real controller gives the PreferDualStack demo one IP per family ...
        assert.match(upResult.output, /demo\s+LoadBalancer\s+\S+\s+192\.0\.2\.1\d\d,2001:db8::1[0-9a-f]{2}\s/);
        // ... and the real speakers make the demo answer the client over both families, from one of the nodes.
        assert.equal(upResult.output.match(new RegExp(`speaker: running in ${esc(PREFIX)}node\\d as system:serviceaccount:metallb-system:speaker`, 'g'))?.length, 3, upResult.output);
        assert.match(upResult.output, new RegExp(`curl http://192\\.0\\.2\\.1\\d\\d/ from ${esc(PREFIX)}client: answered by node[123]\\n`));
        assert.match(upResult.output, new RegExp(`curl http://\\[2001:db8::1[0-9a-f]{2}\\]/ from ${esc(PREFIX)}client: answered by node[123]\\n`));
      } else {
        assert.match(upResult.output, /demo\s+LoadBalancer\s+\S+\s+192\.0\.2\.100\s/);
        // The stand-in controller creates no memberlist Secret and has no speaker subcommand.
        assert.match(upResult.output, /speaker: not implemented yet \(no speaker subcommand in /);
      }
      assert.ok(existsSync(join(dir, 'kubeconfig')) && existsSync(join(dir, 'bin', 'kubectl')));
      const now = recorded(dir);
      for (const pid of now.pids) assert.ok(isAlive(pid), `pid ${pid} recorded but not running after up`);
      seen.pids.push(...now.pids);
      seen.ports.push(...now.ports);
      assert.equal(netnsList().filter((n) => n.startsWith(PREFIX)).length, 7);

      const status = await lab(dir, 'status');
      assert.equal(status.code, 0, status.output);
      assert.match(status.output, /node3\s+Ready/);
      assert.match(status.output, /SERVICE\s+IP\s+OWNER \(metallb_speaker_announced\)\n.*default\/demo\s+192\.0\.2\.100\s/);
      // With the real speakers, one node owns it; the stand-in round has no speakers, so nobody does.
      assert.match(status.output, round === 1 ? /default\/demo\s+192\.0\.2\.100\s+node[123]\n/ : /default\/demo\s+192\.0\.2\.100\s+<none>\n/);

      const downResult = await lab(dir, 'down');
      assert.equal(downResult.code, 0, downResult.output);
      t.diagnostic(`round ${round}: lab up ${upResult.seconds.toFixed(2)} s, lab down ${downResult.seconds.toFixed(2)} s`);
    }
    const again = await lab(dir, 'down');
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /nothing to stop/);

    assert.deepEqual(netnsList().filter((n) => n.startsWith(PREFIX)), before);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`/run/netns/${PREFIX}`));
    assert.deepEqual(mounts, []);
    assert.deepEqual(seen.pids.filter(isAlive), [], 'processes from the lab still running');
    for (const port of seen.ports) {
      const holders = await ourListeners(port, dir, seen.pids);
      assert.deepEqual(holders, [], `port ${port} still held by the lab's processes`);
    }
    assert.ok(!existsSync(join(dir, 'state.json')));
  } finally {
    if (existsSync(join(dir, 'state.json'))) await lab(dir, 'down');
    rmSync(dir, { recursive: true, force: true });
  }
});
