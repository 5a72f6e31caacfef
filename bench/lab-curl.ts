/**
 * Issue 9 (lab): time from a Service getting its IP to the client's first successful curl, in the real lab
 * (apiserver, controller, three speakers, the kube-proxy stand-in, a client on the L2 segment).
 *
 * Per trial: create a LoadBalancer Service; a `kubectl get -w` stamps the moment its status first carries an IP
 * (the client could learn it no earlier); from then on the client curls http://IP:port/ back to back
 * (1 s timeout each) and the first success is stamped. The figure is the difference — the speakers' reaction to
 * the status (watch, decide, announce), the client's ARP resolution and one HTTP exchange. The same-run
 * reference is one curl from the same client to the demo, announced long before (one HTTP exchange plus curl's
 * process start), so the ratio shows what announcing adds. Needs root and a built speaker; `npm run bench -- lab-curl` runs it alone.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster } from '../src/testing/cluster/cluster.js';
import { repoRoot } from '../src/testing/cluster/binaries.js';
import { topologyNames } from '../src/lab/topology.js';
import { curlOnce } from '../src/lab/observe.js';
import type { BenchResult } from './types.js';

const PREFIX = process.env['METALLB_TS_LAB_PREFIX'] ?? 'mlb-';
const TRIALS = Number(process.env['LAB_CURL_TRIALS'] ?? 10);
const labMain = join(repoRoot(), 'dist', 'src', 'lab', 'main.js');

function lab(dir: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [labMain, ...args], {
      env: { ...process.env, METALLB_TS_LAB_DIR: dir, METALLB_TS_LAB_PREFIX: PREFIX }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => { output += String(d); });
    child.stderr.on('data', (d) => { output += String(d); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Resolves with [the IP, Date.now() when the watch first showed it]. */
function watchFirstIp(cluster: TestCluster, name: string): { ip: Promise<[string, number]> } {
  const child = spawn(cluster.kubectlPath, ['--kubeconfig', cluster.adminKubeconfig, 'get', 'service', name, '-n', 'default', '-w',
    '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}{"\\n"}'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  const ip = new Promise<[string, number]>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`no IP on ${name} within 60 s`)); }, 60_000);
    child.stdout.on('data', (d) => {
      buffered += String(d);
      const found = buffered.split('\n').map((l) => l.trim()).find((l) => /^[0-9a-f.:]+$/.test(l));
      if (found) {
        const at = Date.now();
        clearTimeout(timer);
        child.kill();
        resolve([found, at]);
      }
    });
    child.on('error', reject);
  });
  return { ip };
}

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('the lab bench needs root (ip netns)');
  // METALLB_TS_LAB_DIR / METALLB_TS_LAB_PREFIX: a lab of its own beside concurrent runs (the lab is taken down after).
  const given = process.env['METALLB_TS_LAB_DIR'];
  const dir = given ?? join(tmpdir(), `metallb-ts-${PREFIX}bench`);
  await lab(dir, ['down']);
  const up = await lab(dir, ['up']);
  try {
    if (up.code !== 0) throw new Error(`lab up failed: ${up.output.slice(-500)}`);
    if (!/^speaker: running/m.test(up.output)) throw new Error('the lab has no speakers (is the speaker built?)');
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { clusterInfo: string };
    const cluster = TestCluster.attach(state.clusterInfo);
    const topo = topologyNames(PREFIX);

    const times: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const name = `bench-${i}`;
      // The watch starts right after the create (a watch on a missing object fails); the controller's write
      // comes later than that in practice, and if not, the stamp is late and the figure errs on the short side.
      // Backed by the demo's Pods (a Service without ready endpoints is never announced).
      const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
        spec: { type: 'LoadBalancer', selector: { app: 'demo' }, ports: [{ port: 80, targetPort: 8080 }] } };
      await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(svc) });
      const watch = watchFirstIp(cluster, name);
      const [ip, gotIp] = await watch.ip;
      let ok: number | undefined;
      while (ok === undefined && Date.now() - gotIp < 60_000) {
        if ((await curlOnce(topo.client, ip, 80, 1)) !== undefined) ok = Date.now();
      }
      if (ok === undefined) throw new Error(`no curl answer from ${ip} within 60 s`);
      times.push(ok - gotIp);
      await cluster.kubectl(['delete', 'service', name, '--wait=false']);
    }
    // Reference: one curl to the demo, announced long ago and with the client's neighbour entry in place.
    const demo = (await cluster.kubectl(['get', 'service', 'demo', '-n', 'default', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).trim();
    const plain: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const t0 = Date.now();
      if ((await curlOnce(topo.client, demo, 80, 2)) === undefined) throw new Error(`the demo ${demo} does not answer`);
      plain.push(Date.now() - t0);
    }
    times.sort((a, b) => a - b);
    plain.sort((a, b) => a - b);
    const refP50 = percentile(plain, 50);
    return [
      { name: 'Service IP in status → first successful curl from the client, p50', value: percentile(times, 50), unit: 'ms',
        reference: { name: 'one curl to an announced IP (p50)', value: refP50 }, note: `${TRIALS} Services, IPv4, one at a time` },
      { name: 'Service IP in status → first successful curl from the client, max', value: times[times.length - 1]!, unit: 'ms',
        note: `all: ${times.join(' ')} ms` },
    ];
  } finally {
    await lab(dir, ['down']);
    if (given === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
