/**
 * The client's side of a failover trial, run inside the client namespace
 * (`ip netns exec <client> node probe-child.js <ip> <port> <avoidNode> <intervalMs> <deadlineMs>`):
 * every `intervalMs` it starts a new TCP connect to ip:port and one HTTP GET (the lab's kube-proxy stand-in
 * answers with its node's name), without waiting for the previous attempts (each gives up after 1 s).
 * It prints `{"ready":true,"at":…,"node":…}` after its first answer, then, at the first answer from a node other
 * than `avoidNode`, `{"ok":true,"at":…,"node":…,"attempts":n,"failures":f}` and exits 0; at the deadline
 * `{"ok":false,…}` and exits 1. `at` is wall-clock milliseconds (performance.timeOrigin + now, sub-ms), so the
 * parent can subtract its own fault time; attempts that failed (timeout, refused, reset) are counted.
 */
import { request } from 'node:http';

const [ip, portText, avoid, intervalText, deadlineText] = process.argv.slice(2);
const port = Number(portText);
const intervalMs = Number(intervalText ?? 10);
const deadlineMs = Number(deadlineText ?? 60_000);
const nowMs = (): number => performance.timeOrigin + performance.now();
const print = (o: unknown): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };

let attempts = 0;
let failures = 0;
let readySent = false;
let done = false;

function attempt(): void {
  attempts++;
  const req = request({ host: ip, port, path: '/', agent: false, timeout: 1000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => { body += d; });
    res.on('end', () => {
      if (done) return;
      const node = body.trim();
      const at = nowMs();
      if (!readySent) { readySent = true; print({ ready: true, at, node }); }
      if (node !== '' && node !== avoid) finish({ ok: true, at, node, attempts, failures });
    });
    res.on('error', () => { failures++; });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => { failures++; });
  req.end();
}

function finish(result: Record<string, unknown>): void {
  done = true;
  print(result);
  process.exit(result['ok'] === true ? 0 : 1);
}

const timer = setInterval(attempt, intervalMs);
attempt();
setTimeout(() => { clearInterval(timer); finish({ ok: false, at: nowMs(), attempts, failures }); }, deadlineMs);
