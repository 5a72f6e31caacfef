// A stand-in for `metallb-ts controller`, used by the lab test through METALLB_TS_CLI to prove the lab's
// wiring (ServiceAccount token kubeconfig, metrics wait, EXTERNAL-IP wait) independently of the real
// controller. It serves /metrics and writes 192.0.2.100 into default/demo's status the way the real
// controller must: GET the Service, PUT services/status (the only status verb the manifests grant).
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';

const args = process.argv.slice(2);
if (args[0] !== 'controller') process.exit(2);
const kubeconfig = args[args.indexOf('--kubeconfig') + 1]!;
const port = Number(args[args.indexOf('--port') + 1]);
const kubectl = process.env.STAND_IN_KUBECTL!;
const k = (a: string[], input?: string) => execFileSync(kubectl, ['--kubeconfig', kubeconfig, ...a], { input, encoding: 'utf8' });

createServer((_req, res) => res.end('# stand-in\n')).listen(port, '127.0.0.1');
setInterval(() => {
  try {
    const svc = JSON.parse(k(['get', 'service', 'demo', '-n', 'default', '-o', 'json'])) as { status?: unknown };
    svc.status = { loadBalancer: { ingress: [{ ip: '192.0.2.100' }] } };
    k(['replace', '--subresource=status', '-f', '-'], JSON.stringify(svc));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
  }
}, 300);
