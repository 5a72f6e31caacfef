/**
 * The client's side of a failover trial, run inside the client namespace
 * (`ip netns exec <client> node probe-child.js <ip> <port> <avoidNode> <intervalMs> <deadlineMs> [holdMs]`):
 * every `intervalMs` it starts a new TCP connect to ip:port and one HTTP GET (the lab's kube-proxy stand-in
 * answers with its node's name), without waiting for the previous attempts (each gives up after 1 s).
 * It prints `{"ready":true,"at":…,"node":…}` after its first answer, then, at the first answer from a node other
 * than `avoidNode`, `{"ok":true,"at":…,"node":…,"attempts":n,"failures":f}` and exits 0; at the deadline
 * `{"ok":false,…}` and exits 1. `at` is wall-clock milliseconds (performance.timeOrigin + now, sub-ms), so the
 * parent can subtract its own fault time; attempts that failed (timeout, refused, reset) are counted.
 * With `holdMs` > 0 it keeps connecting for that long after the first answer from another node (a handoff: the old
 * node may still answer meanwhile), waits for the attempts in flight, and only then prints the `ok` line, whose
 * `failures` then cover the whole run (the first ten listed in `failed`), `lastNode` is the node that answered last
 * and `switchStartedAt` when the first attempt answered by another node began.
 */
import { request } from 'node:http';

const [ip, portText, avoid, intervalText, deadlineText, holdText] = process.argv.slice(2);
const port = Number(portText);
const intervalMs = Number(intervalText ?? 10);
const deadlineMs = Number(deadlineText ?? 60_000);
const holdMs = Number(holdText ?? 0);
const nowMs = (): number => performance.timeOrigin + performance.now();
const print = (o: unknown): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };

let attempts = 0;
let failures = 0;
let readySent = false;
let done = false;
let inFlight = 0;
let lastNode = '';
/** The first answer from another node, while holding. */
let switched: { at: number; node: string; startedAt: number } | undefined;
/** The first failed attempts (start and end times, error code), for diagnosis. */
const failed: Array<{ startedAt: number; at: number; error: string }> = [];

function attempt(): void {
  attempts++;
  inFlight++;
  const startedAt = nowMs();
  let settled = false;
  const settle = (err?: Error): void => {
    if (settled) return;
    settled = true;
    inFlight--;
    if (err === undefined) return;
    failures++;
    if (failed.length < 10) failed.push({ startedAt, at: nowMs(), error: (err as NodeJS.ErrnoException).code ?? err.message });
  };
  const req = request({ host: ip, port, path: '/', agent: false, timeout: 1000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => { body += d; });
    res.on('end', () => {
      settle();
      if (done) return;
      const node = body.trim();
      const at = nowMs();
      if (node !== '') lastNode = node;
      if (!readySent) { readySent = true; print({ ready: true, at, node }); }
      if (node === '' || node === avoid || switched !== undefined) return;
      if (holdMs <= 0) { finish({ ok: true, at, node, attempts, failures }); return; }
      switched = { at, node, startedAt };
      setTimeout(() => { clearInterval(timer); drain(Date.now() + 1500); }, holdMs);
    });
    res.on('error', (err) => { settle(err); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (err) => { settle(err); });
  req.end();
}

/** After the hold: waits (up to `until`) for the attempts in flight, then prints the result. */
function drain(until: number): void {
  if (done) return;
  if (inFlight > 0 && Date.now() < until) { setTimeout(() => drain(until), 20); return; }
  finish({ ok: true, at: switched!.at, node: switched!.node, switchStartedAt: switched!.startedAt, attempts, failures, lastNode, unsettled: inFlight, failed });
}

function finish(result: Record<string, unknown>): void {
  done = true;
  print(result);
  process.exit(result['ok'] === true ? 0 : 1);
}

const timer = setInterval(attempt, intervalMs);
attempt();
setTimeout(() => { clearInterval(timer); finish({ ok: false, at: nowMs(), attempts, failures }); }, deadlineMs);
