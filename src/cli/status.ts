/**
 * `metallb-ts status [--kubeconfig PATH] [--namespace NS] [--config NAME] [--speaker-labels SELECTOR] [--json]
 * [--watch [--interval SECONDS]]`: where every VIP is and why, from the Kubernetes API only (issue 13 §2).
 * Reads the config ConfigMap and its last-applied store, all Services, Nodes and the speaker Pods; the pure report
 * is src/cli/status-report.ts. Tables by cli-table3, colour only on a TTY. `--watch` re-reads every interval and
 * redraws only when the report changed. Exit: 0 shown, 1 the API could not be read, 2 usage error or no kubeconfig
 * at all (NO_KUBECONFIG; validate --cluster exits 2 too).
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { describeApiError, httpStatusOf, KUBECONFIG_DEFAULT, type KubeClients } from '../adapters/k8s/client.js';
import { lastAppliedName } from '../adapters/k8s/config-source.js';
import { parseConfig } from '../core/config/parse.js';
import type { ConfigMapObject, ServiceObject } from '../core/k8s/objects.js';
import { connect } from './migrate-cluster.js';
import { buildStatus, type StatusReport } from './status-report.js';

export const STATUS_USAGE = `usage: metallb-ts status [--kubeconfig PATH] [--namespace NS] [--config NAME] [--speaker-labels SEL] [--json]
                         [--watch [--interval SECONDS]]

Shows, from the Kubernetes API only: the address pools (size, used, free per family), every LoadBalancer
Service with its IPs, pool, protocol and the nodes announcing it now (or why nobody does), the config state
(applied, or refused and which Services block it) and the speakers alive.

  --kubeconfig PATH        kubeconfig to use (${KUBECONFIG_DEFAULT})
  --namespace NS           MetalLB's namespace (default metallb-system)
  --config NAME            the config ConfigMap's name (default config)
  --speaker-labels SEL     label selector of the speaker Pods (default app=metallb,component=speaker)
  --json                   print the report as JSON
  --watch                  keep watching; redraw when something changes (Ctrl-C to stop)
  --interval SECONDS       --watch polling interval (default 2)
  -h, --help               this help

Exit status: 0 shown, 1 the cluster could not be read, 2 usage error or no kubeconfig (as validate --cluster).
`;

interface StatusOptions {
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly config: string;
  readonly speakerLabels: string;
  readonly json: boolean;
  readonly watch: boolean;
  readonly intervalMs: number;
}

export async function run(argv: string[]): Promise<number> {
  // -help as well, as Go's flag package (and the other subcommands) accept it.
  if (argv.some((a) => a === '-h' || a === '-help' || a === '--help')) { process.stdout.write(STATUS_USAGE); return 0; }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' }, namespace: { type: 'string' }, config: { type: 'string' },
        'speaker-labels': { type: 'string' }, json: { type: 'boolean' }, watch: { type: 'boolean' },
        interval: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`metallb-ts status: ${err instanceof Error ? err.message : String(err)}\n\n${STATUS_USAGE}`);
    return 2;
  }
  const interval = Number(values['interval'] ?? '2');
  if (!Number.isFinite(interval) || interval <= 0) {
    process.stderr.write(`metallb-ts status: --interval must be a positive number of seconds\n`);
    return 2;
  }
  const opts: StatusOptions = {
    kubeconfig: values['kubeconfig'] as string | undefined, namespace: (values['namespace'] as string | undefined) ?? 'metallb-system',
    config: (values['config'] as string | undefined) ?? 'config', speakerLabels: (values['speaker-labels'] as string | undefined) ?? 'app=metallb,component=speaker',
    json: values['json'] === true, watch: values['watch'] === true, intervalMs: interval * 1000,
  };
  const connected = await connect(opts.kubeconfig);
  if (!connected.ok) {
    process.stderr.write(`metallb-ts status: ${connected.error}\n`);
    return connected.noKubeconfig ? 2 : 1;
  }
  const clients = connected.value;
  const tty = process.stdout.isTTY === true;
  if (!opts.watch) {
    const report = await read(clients, opts);
    if (!report.ok) { process.stderr.write(`metallb-ts status: ${report.error}\n`); return 1; }
    process.stdout.write(render(report.value, opts.json, tty));
    return 0;
  }
  return watch(clients, opts, tty);
}

async function watch(clients: KubeClients, opts: StatusOptions, tty: boolean): Promise<number> {
  let stop = false;
  let wake: (() => void) | undefined;
  const onSignal = () => { stop = true; wake?.(); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let last = '';
  while (!stop) {
    const report = await read(clients, opts);
    const text = report.ok ? render(report.value, opts.json, tty) : `metallb-ts status: ${report.error}\n`;
    if (text !== last) {
      // On a terminal the screen is redrawn; elsewhere each new report follows the last one.
      process.stdout.write(tty ? `\x1b[2J\x1b[H${text}` : `${last === '' ? '' : '\n'}${opts.json ? '' : `--- ${new Date().toISOString()}\n`}${text}`);
      last = text;
    }
    await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, opts.intervalMs); });
  }
  return 0;
}

type ReadResult = { ok: true; value: StatusReport } | { ok: false; error: string };

async function read(clients: KubeClients, opts: StatusOptions): Promise<ReadResult> {
  const { core } = clients;
  const optional = async (name: string): Promise<ConfigMapObject | undefined> => {
    try { return (await core.readNamespacedConfigMap({ name, namespace: opts.namespace })) as ConfigMapObject; } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw err;
    }
  };
  try {
    const [configMap, store, services, nodes, pods] = await Promise.all([
      optional(opts.config), optional(lastAppliedName(opts.config)),
      core.listServiceForAllNamespaces().then((l) => l.items as ServiceObject[]),
      core.listNode().then((l) => l.items as unknown[]),
      core.listNamespacedPod({ namespace: opts.namespace, labelSelector: opts.speakerLabels }).then((l) => l.items as unknown[]),
    ]);
    return {
      ok: true,
      value: buildStatus({ namespace: opts.namespace, configMap, store, services, nodes, speakerPods: pods, speakerLabels: opts.speakerLabels, parse: (t) => parseConfig(t) }),
    };
  } catch (err) {
    return { ok: false, error: `reading the cluster: ${describeApiError(err)}` };
  }
}

/** ` (eth0)` for a layer-2 entry, ` (to 192.0.2.1:179)` for a BGP one, from the annotation's text. */
function whereTo(detail: string): string {
  const m = /^announcing \w+(?: to (\S+))?(?: on (\S+))?$/.exec(detail);
  if (!m) return '';
  const parts = [...(m[1] ? [`to ${m[1]}`] : []), ...(m[2] ? [m[2]] : [])];
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

const ANSI = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1 } as const;

/** The report as JSON or as tables; `colour` only on a TTY. */
export function render(report: StatusReport, json: boolean, colour: boolean): string {
  if (json) return `${JSON.stringify(report, null, 2)}\n`;
  const paint = (text: string, c: keyof typeof ANSI) => (colour ? `\x1b[${ANSI[c]}m${text}\x1b[0m` : text);
  const table = (head: string[]) => new Table({ head, style: { head: colour ? ['bold'] : [], border: [], compact: true } });
  const out: string[] = [];

  const c = report.config;
  if (c.state === 'applied') out.push(`Config: ${paint('applied', 'green')} (ConfigMap ${report.namespace}/config)`);
  else if (c.state === 'refused') {
    out.push(`Config: ${paint('REFUSED', 'red')}: ${c.reason}`);
    if (c.blockers.length > 0) out.push(`  blocked by Services: ${c.blockers.join(', ')}`);
    out.push(`  running: ${c.running === 'last-applied' ? 'the last applied config (config-last-applied)' : 'nothing yet'}`);
  } else out.push(`Config: ${paint('MISSING', 'red')}; running: ${c.running === 'last-applied' ? 'the last applied config' : 'nothing'}`);

  const pools = table(['POOL', 'PROTOCOL', 'ADDRESSES', 'IPv4 USED/SIZE', 'IPv4 FREE', 'IPv6 USED/SIZE', 'IPv6 FREE']);
  for (const p of report.pools) {
    pools.push([p.name, p.protocol, p.addresses.join(' '),
      p.ipv4 ? `${p.ipv4.used}/${p.ipv4.size}` : '-', p.ipv4?.free ?? '-', p.ipv6 ? `${p.ipv6.used}/${p.ipv6.size}` : '-', p.ipv6?.free ?? '-']);
  }
  out.push('', 'Pools', report.pools.length > 0 ? pools.toString() : '  (none)');

  const services = table(['SERVICE', 'IPS', 'POOL', 'PROTOCOL', 'ANNOUNCED BY / WHY NOT']);
  for (const s of report.services) {
    const by = s.announcedBy.length > 0
      ? s.announcedBy.map((a) => paint(`${a.node}${whereTo(a.detail)}`, 'green')).join(', ')
      : paint(`not announced: ${s.reasons.join(', ')}`, 'yellow');
    services.push([s.service, s.ips.join(' ') || '-', s.pool ?? '-', s.protocol ?? '-', by]);
  }
  out.push('', 'LoadBalancer Services', report.services.length > 0 ? services.toString() : '  (none)');

  const alive = report.speakers.filter((s) => s.alive).map((s) => s.node);
  const down = report.speakers.filter((s) => !s.alive).map((s) => s.node);
  out.push('', `Speakers alive (${alive.length}): ${alive.join(', ') || '-'}${down.length > 0 ? `; ${paint(`not alive (${down.length}): ${down.join(', ')}`, 'red')}` : ''}`);
  if (report.speakers.some((s) => s.sees !== undefined)) {
    const speakers = table(['SPEAKER', 'ALIVE', 'KUBERNETES', 'SEEN BY', 'SEES (GOSSIP)']);
    for (const s of report.speakers) {
      speakers.push([s.node, s.alive ? paint('yes', 'green') : paint('no', 'red'), s.kubernetes ? 'Ready' : 'not Ready',
        `${s.seenBy}/${s.reporters}`, s.sees === undefined ? '-' : s.sees.join(', ') || '(nobody)']);
    }
    out.push(speakers.toString());
  }
  return `${out.join('\n')}\n`;
}
