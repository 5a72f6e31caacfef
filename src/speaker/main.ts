/**
 * Composition root of `metallb-ts speaker`: flags and env, logger, Kubernetes clients (loaded lazily), the layer-2
 * announcer, informers on all Services, on EndpointSlices (discovery.k8s.io/v1, whenever the apiserver serves them)
 * or v1 Endpoints (`--disable-epslices`), on the config ConfigMap and its last-applied store, and on Nodes and speaker Pods (membership), one
 * de-duplicating work queue, the reconcile loop over the pure Speaker, /metrics, /healthz and /readyz on
 * `--host:--port`, and SIGTERM/SIGINT/SIGQUIT handling.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { realClock } from '../adapters/clock.js';
import { createJsonLogger } from '../adapters/log/json-logger.js';
import { startFromFlags } from '../adapters/log/startup.js';
import { loadKubeClients, type KubeClients } from '../adapters/k8s/client.js';
import { ResilientInformer, type ListWatchLike } from '../adapters/k8s/informer.js';
import { ConfigSource, configSourceListWatches } from '../adapters/k8s/config-source.js';
import {
  endpointSlicesListWatch, endpointsListWatch, nodesListWatch, podsListWatch, servesEndpointSlices, servicesListWatch,
} from '../adapters/k8s/list-watches.js';
import { KubernetesMembershipSource } from '../adapters/k8s/membership.js';
import { createAnnounceWriter, createPodAnnotationWriter } from '../adapters/k8s/announce-writer.js';
import { membersPatch } from '../core/speaker/members-annotation.js';
import { interfacesHolding } from '../core/speaker/announce-annotation.js';
import { WorkQueue } from '../adapters/k8s/workqueue.js';
import { ReconcileLoop } from '../adapters/k8s/reconcile-loop.js';
import { EventRecorder, createEventApi } from '../adapters/k8s/event-recorder.js';
import { createK8sClientMetrics, createRegistry, createSpeakerMetrics } from '../adapters/metrics/registry.js';
import { startMonitoringServer } from '../adapters/metrics/http-server.js';
import { startLayer2Announcer, type Layer2Announcer } from '../adapters/layer2/announcer.js';
import { createLayer2Metrics } from '../adapters/layer2/metrics.js';
import { responderMuteAfterMs } from '../core/layer2/responder-watchdog.js';
import { BgpAnnouncer } from '../adapters/bgp/announcer.js';
import { startBgpListener, type BgpListener } from '../adapters/bgp/listener.js';
import { createBgpMetrics } from '../adapters/bgp/metrics.js';
import { SpeakerBfd } from '../adapters/bfd/speaker-bfd.js';
import { createBfdMetrics } from '../adapters/bfd/metrics.js';
import { attachSocketFilter } from '../adapters/bfd/socket-filter.js';
import { Gossip } from '../adapters/membership/gossip.js';
import { scanInterfaces } from '../adapters/layer2/interfaces.js';
import { readStrictArpInput } from '../adapters/checks/environment.js';
import { checkMemberlistBind } from '../core/speaker/env-checks.js';
import { StartupChecks } from './startup-checks.js';
import { parseConfig } from '../core/config/parse.js';
import { backoffDelay } from '../core/backoff.js';
import { heldAddresses } from '../core/config/fail-static.js';
import { nodeTarget, nsNameOf, objectTarget, serviceTarget, type EndpointSliceObject, type EndpointsObject, type ServiceObject } from '../core/k8s/objects.js';
import type { Logger } from '../core/ports.js';
import { endpointsFromEndpoints, endpointsFromSlices, type EndpointsView } from '../core/service/endpoints.js';
import { parseLabelSelector } from '../core/speaker/membership.js';
import { memberlistEnabled, parseSpeakerFlags, speakerUsage, type SpeakerFlags } from './flags.js';
import { SliceIndex } from './slice-index.js';
import { SplitBrainWatch } from './split-brain-watch.js';
import { ConfirmedHandoff } from './confirmed-handoff.js';
import { Layer2Handoff } from './handoff.js';
import { EXCLUDE_LB_LABEL, NodeExclusions } from '../core/speaker/exclude-lb.js';
import { Speaker } from './speaker.js';
import { CONFIG_KEY, MEMBERSHIP_KEY, SPEAKER_WORKERS, SYNCED_KEY, SpeakerReconciler, serviceKey, type WorkKey } from './reconciler.js';

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const EVENT_COMPONENT = 'metallb-speaker';
/** How long the EndpointSlice discovery is retried while the apiserver does not answer, ms. */
const DISCOVERY_DEADLINE_MS = 60_000;
/** How long a starting speaker waits for gossip to reach the speakers Kubernetes lists before it elects, ms. */
const JOIN_WAIT_MS = 3_000;
/**
 * How long a starting speaker holds its announce annotations until gossip has every speaker Kubernetes lists alive,
 * ms: each Service is then written once, from the converged view, not once per intermediate view.
 */
const PUBLISH_HOLD_MS = 30_000;
/** Retries of a memberlist bind that found the port in use: 1 s doubling to 10 s. */
const MEMBERLIST_BIND_RETRY = { baseMs: 1000, maxMs: 10_000 };

/** Runs the speaker until SIGTERM/SIGINT/SIGQUIT; resolves to the exit code. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const parsed = parseSpeakerFlags(argv, env, readServiceAccountNamespace);
  const start = startFromFlags(parsed, speakerUsage);
  if ('exitCode' in start) return start.exitCode;
  const { flags, logger } = start;
  const selector = parseLabelSelector(flags.mlLabels);
  if (!selector.ok) {
    createJsonLogger({ level: 'info' }).error({ op: 'startup', error: selector.error, msg: 'invalid --ml-labels' });
    return 1;
  }
  logger.info({ event: 'startUpdate', version: '0.1.0', node: flags.nodeName, namespace: flags.namespace, config: flags.config, msg: 'MetalLB speaker starting' });
  if (flags.mlLabels === '') logger.warn({ event: 'membership', msg: 'no --ml-labels: every Ready Node counts as a live speaker; memberlist gossip is off' });
  else if (!memberlistEnabled(flags)) logger.warn({ event: 'membership', labels: flags.mlLabels, msg: 'no --ml-bindaddr: memberlist gossip is off; a node is alive while its Node is Ready and its speaker Pod is Running and Ready' });
  else logger.info({ event: 'membership', labels: flags.mlLabels, bindAddr: flags.mlBindAddr, bindPort: flags.mlBindPort, msg: 'a node is alive while gossip has it alive and its Node is Ready and its speaker Pod is Running and Ready' });
  if (flags.excludeLb) logger.info({ event: 'excludeLB', label: EXCLUDE_LB_LABEL, msg: 'nodes with the label announce nothing (--exclude-lb; MetalLB >= 0.14 without --ignore-exclude-lb)' });
  let clients: KubeClients;
  try {
    clients = await loadKubeClients(flags.kubeconfig);
  } catch (err) {
    logger.error({ op: 'startup', error: String(err), msg: 'failed to create k8s client' });
    return 1;
  }
  return runSpeaker(flags, clients, logger);
}

async function runSpeaker(flags: SpeakerFlags, clients: KubeClients, logger: Logger): Promise<number> {
  const registry = createRegistry();
  const clientMetrics = createK8sClientMetrics(registry);
  const speakerMetrics = createSpeakerMetrics(registry, flags.nodeName);
  clientMetrics.setConfigStale(false);
  clientMetrics.setConfigLoaded(false);

  const source = await chooseEndpointsSource(flags, clients, logger);
  if (source === undefined) return 1;

  let announcer: Layer2Announcer;
  try {
    announcer = await startLayer2Announcer({
      logger: logger.child({ component: 'layer2' }), metrics: createLayer2Metrics(registry), captureBufferTotalBytes: flags.layer2CaptureBufferBytes,
      // A frozen speaker's responder host falls silent once gossip has surely declared the node dead (issue 11).
      responderMuteAfterMs: responderMuteAfterMs(memberlistEnabled(flags) ? flags.ml.probeIntervalMs : undefined),
    });
  } catch (err) {
    logger.error({ op: 'startup', error: String(err), msg: 'failed to start the layer-2 announcer (needs CAP_NET_RAW)' });
    return 1;
  }

  const queue = new WorkQueue<WorkKey>(realClock);
  const recorder = new EventRecorder({ api: createEventApi(clients), component: EVENT_COMPONENT, logger });
  const enqueueService = (obj: { metadata?: { namespace?: string | null; name?: string | null } | null }) => queue.add(serviceKey(nsNameOf(obj)));
  const services = new ResilientInformer<ServiceObject>({ name: 'services', listWatch: servicesListWatch(clients), onChange: (_k, o) => enqueueService(o), clock: realClock, logger });
  const configSource = new ConfigSource({
    listWatches: configSourceListWatches(clients, flags.namespace, flags.config), namespace: flags.namespace, configName: flags.config,
    onChange: () => queue.add(CONFIG_KEY), clock: realClock, logger,
  });
  const endpoints = source === 'EndpointSlices' ? slicesSource(clients, queue, logger) : endpointsSource(clients, queue, logger);
  // Node events are recorded as kubelets record theirs, so `kubectl describe node` lists them.
  const myNodeTarget = nodeTarget(flags.nodeName);
  const bfd = new SpeakerBfd({ logger: logger.child({ component: 'bfd' }), metrics: createBfdMetrics(registry), attachTtlFilter: attachSocketFilter });
  const bgp = new BgpAnnouncer({
    nodeName: flags.nodeName, logger: logger.child({ component: 'bgp' }), metrics: createBgpMetrics(registry), clock: realClock,
    gracefulRestartSeconds: flags.bgpGracefulRestartSeconds, bfd,
    recordNodeEvent: (e) => recorder.record(myNodeTarget, e),
    passive: flags.bgpListen !== undefined,
  });
  let bgpListener: BgpListener | undefined;
  if (flags.bgpListen !== undefined) {
    try {
      bgpListener = await startBgpListener({ ...flags.bgpListen, logger: logger.child({ component: 'bgp' }), onConnection: (socket) => bgp.acceptConnection(socket) });
    } catch (err) {
      logger.error({ op: 'startup', error: String(err), msg: `failed to listen for BGP on ${flags.bgpListen.host}:${flags.bgpListen.port} (--bgp-listen)` });
      await announcer.close();
      return 1;
    }
  }
  // The exclude-from-external-load-balancers label: honoured with --exclude-lb, otherwise only logged (v0.11).
  const exclusions = new NodeExclusions();
  const NONE: ReadonlySet<string> = new Set();
  exclusions.onChange((node, excluded) => {
    if (!flags.excludeLb) {
      if (excluded) logger.info({ event: 'nodeExcludeLabelIgnored', node, label: EXCLUDE_LB_LABEL, msg: 'node has the exclude-from-external-load-balancers label; ignored as in MetalLB v0.11 (--exclude-lb is off)' });
      return;
    }
    logger.info({ event: excluded ? 'nodeExcluded' : 'nodeIncluded', node, label: EXCLUDE_LB_LABEL, msg: excluded ? 'node excluded from announcing: its layer-2 IPs are handed off, its BGP routes withdrawn' : 'node may announce again' });
    queue.add(MEMBERSHIP_KEY);
  });
  const members = new KubernetesMembershipSource({
    nodes: nodesListWatch(clients),
    pods: flags.mlLabels === '' ? undefined : podsListWatch(clients, flags.namespace, flags.mlLabels),
    labelSelector: flags.mlLabels, clock: realClock, logger,
    // v0.11 keeps the last labels when the Node goes away; so do we.
    onNode: (kind, node) => {
      if (kind === 'delete') exclusions.deleteNode(node); else exclusions.setNode(node);
      if (kind !== 'delete' && node.metadata?.name === flags.nodeName) bgp.setNodeLabels(node.metadata?.labels ?? {});
    },
  });
  const core = new Speaker({ myNode: flags.nodeName, protocols: new Set(['layer2', 'bgp']) });
  const signalled = waitForSignal();
  let gossip: Gossip | undefined;
  const checks = new StartupChecks({
    registry, logger: logger.child({ component: 'checks' }), clock: realClock,
    recordNodeEvent: (e) => recorder.record(myNodeTarget, e),
    scan: scanInterfaces, strictArp: readStrictArpInput,
    layer2InUse: () => core.runningConfig?.pools.some((p) => p.protocol === 'layer2'),
    bgpPeers: () => bgp.peerStates(),
    gossipMissing: memberlistEnabled(flags) ? () => gossip?.membership.missingFromGossip() ?? [] : undefined,
    memberlistPort: flags.mlBindPort,
  });
  checks.start();
  // /metrics and the probes serve from here on (ready once the reconciler synced), so a speaker waiting for its
  // memberlist port shows why in its metrics.
  let ready: () => boolean = () => false;
  let server: Awaited<ReturnType<typeof startMonitoringServer>>;
  try {
    server = await startMonitoringServer({ port: flags.port, host: flags.host, registry, ready: () => ready(), logger });
  } catch (err) {
    logger.error({ op: 'startup', error: String(err), msg: `failed to listen on ${flags.host ?? ''}:${flags.port}` });
    checks.stop();
    await announcer.close();
    await bgpListener?.close();
    bgp.close(false);
    return 1;
  }
  const giveUp = async (code: number): Promise<number> => {
    checks.stop();
    await Promise.race([recorder.flush(), delay(1500)]);
    await announcer.close();
    await bgpListener?.close();
    bgp.close(false);
    await server.close();
    return code;
  };
  if (memberlistEnabled(flags)) {
    // v0.11 exits when the port is taken (a crash loop that says nothing where users look); we wait for it,
    // announcing nothing meanwhile, with the MemberlistPortInUse finding on the Node and in the metrics.
    for (let attempt = 1; gossip === undefined; attempt += 1) {
      try {
        gossip = await Gossip.start({
          nodeName: flags.nodeName, bindAddr: flags.mlBindAddr!, bindPort: flags.mlBindPort, secret: flags.mlSecretKey,
          knobs: flags.ml, kubernetes: members, registry, logger,
        });
        checks.report('memberlistPort', []);
      } catch (err) {
        const findings = checkMemberlistBind({ error: err as NodeJS.ErrnoException, addr: flags.mlBindAddr!, port: flags.mlBindPort });
        if (findings.length === 0) {
          logger.error({ op: 'startup', error: String(err), msg: `failed to start memberlist on ${flags.mlBindAddr}:${flags.mlBindPort}` });
          return giveUp(1);
        }
        checks.report('memberlistPort', findings);
        const wait = backoffDelay(attempt, MEMBERLIST_BIND_RETRY);
        const signal = await Promise.race([signalled, delay(wait).then(() => undefined)]);
        if (signal !== undefined) {
          logger.info({ event: 'shutdown', signal, msg: 'stopping' });
          return giveUp(0);
        }
      }
    }
  }
  const membership = gossip?.membership ?? members.membership;
  let publishing = gossip === undefined;
  membership.onChange(() => queue.add(MEMBERSHIP_KEY));
  // Others declared us dead (a freeze, a partition) and may have taken our IPs: re-announce (gratuitous bursts).
  gossip?.node.onRefuted(() => queue.add(MEMBERSHIP_KEY));
  membership.onChange(() => checks.recheckMembers());
  const getService = (nsName: string) => { const i = nsName.indexOf('/'); return services.get(nsName.slice(i + 1), nsName.slice(0, i)); };
  // The minority rule (src/core/speaker/quorum.ts): only with gossip, which tells a partition from a death.
  const claimNew = (): boolean => gossip?.quorum().quorum ?? true;
  let lastQuorum = true;
  membership.onChange(() => {
    const q = gossip?.quorum();
    if (q === undefined || q.quorum === lastQuorum) return;
    lastQuorum = q.quorum;
    if (q.quorum) logger.info({ event: 'quorum', alive: q.alive, known: q.known, msg: 'this speaker sees a majority of the speakers it knows again; it may take new layer-2 IPs' });
    else logger.warn({ event: 'quorum', alive: q.alive, known: q.known, msg: 'this speaker sees fewer than a majority of the speakers it knows: it keeps the layer-2 IPs it announces and takes no new ones' });
  });
  // Make-before-break on SIGTERM: each IP is answered for until its successor's announcement is seen (or the grace).
  const handoff = new ConfirmedHandoff({
    myNode: flags.nodeName, clock: realClock, graceMs: flags.ml.handoffGraceMs,
    onClaim: (l) => announcer.onClaim(l), nodeByMac: (mac) => gossip?.nodeByMac(mac), stop: (ip) => announcer.withdraw([ip]),
    registry, logger: logger.child({ component: 'layer2' }),
  });
  // ... and while running: IPs another node is elected for go through the same confirmed handoff.
  const layer2Handoff = new Layer2Handoff({ announcer, confirmer: handoff, clock: realClock, graceMs: flags.ml.handoffGraceMs });
  const splitBrain = new SplitBrainWatch({
    myNode: flags.nodeName, clock: realClock,
    announcer: {
      probe: (ips) => announcer.probe(ips), reannounce: (ip) => announcer.reannounce(ip), onClaim: (l) => announcer.onClaim(l),
      stats: () => ({ owned: layer2Handoff.splitBrainOwned() }),
    },
    nodeByMac: (mac) => gossip?.nodeByMac(mac), alive: () => membership.alive(), quorum: claimNew,
    servicesAnnouncing: (ip) => core.announcedNames().filter((n) => core.announcement(n)?.protocol === 'layer2' && core.announcement(n)!.ips.includes(ip))
      .map((n) => { const svc = getService(n); const i = n.indexOf('/'); return svc ? serviceTarget(svc) : objectTarget('Service', { namespace: n.slice(0, i), name: n.slice(i + 1) }); }),
    recordEvent: (target, event) => recorder.record(target, event), registry, logger: logger.child({ component: 'layer2' }),
  });
  const reconciler = new SpeakerReconciler({
    core,
    myNode: flags.nodeName,
    parseConfig: (text) => parseConfig(text),
    configMap: () => configSource.configMap(),
    stored: () => configSource.stored(),
    held: () => heldAddresses(services.list(), undefined),
    service: getService,
    serviceNames: () => services.list().map(nsNameOf),
    endpoints: endpoints.view,
    alive: () => membership.alive(),
    claimNew,
    excluded: () => (flags.excludeLb ? exclusions.excluded() : NONE),
    announcer: layer2Handoff,
    bgp,
    recordEvent: (target, event) => recorder.record(target, event),
    metrics: {
      // A config change may add or drop the layer2 pools (the NoAnnounceInterface check) or BGP peers.
      setConfigLoaded: (b) => { clientMetrics.setConfigLoaded(b); setImmediate(() => checks.recheck()); },
      setConfigStale: (b) => clientMetrics.setConfigStale(b),
      setAnnounced: (svc, protocol, ip, on) => speakerMetrics.setAnnounced(svc, protocol, ip, on),
    },
    enqueue: (key) => queue.add(key),
    logger,
    announcements: {
      interfacesFor: (ips) => interfacesHolding(ips, networkInterfaces()), write: createAnnounceWriter(clients, flags.nodeName),
      peers: () => bgp.sessionKeys(),
      ...(gossip ? { kubernetes: () => members.membership.alive(), publishing: () => publishing } : {}),
    },
  });
  // With gossip, the speakers this one has alive go on its own Pod for `metallb-ts status` (members-annotation.ts).
  const writePod = createPodAnnotationWriter(clients, flags.nodeName);
  let membersInFlight = false;
  let membersAgain = false;
  // What we last wrote: the Pod cache lags our own writes, and a view that flaps back to the cached value would
  // otherwise leave the in-between one published.
  let membersWritten: Record<string, string> | undefined;
  const publishMembers = (): void => {
    if (!gossip || !publishing) return;
    if (membersInFlight) { membersAgain = true; return; }
    const pod = members.speakerPods().find((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === flags.nodeName);
    const name = pod?.metadata?.name;
    if (!pod || !name) return;
    const patch = membersPatch(membersWritten ?? (pod.metadata as { annotations?: Record<string, string> | null }).annotations, membership.alive());
    if (patch === undefined) return;
    membersInFlight = true;
    void writePod(pod.metadata?.namespace ?? flags.namespace, name, patch).then((r) => {
      membersInFlight = false;
      membersWritten = r.ok ? patch : undefined;
      if (!r.ok && !r.gone) {
        logger.warn({ op: 'writeMembersAnnotation', error: r.error, msg: 'failed to publish the alive speakers on our Pod; retrying' });
        setTimeout(publishMembers, 5000).unref();
      } else if (r.ok) logger.debug({ event: 'membersAnnotationWritten', patch, msg: 'alive speakers published on our Pod' });
      if (membersAgain) { membersAgain = false; publishMembers(); }
    });
  };
  membership.onChange(publishMembers);
  const loop = new ReconcileLoop<WorkKey>({
    queue, workers: SPEAKER_WORKERS, counters: clientMetrics, logger,
    handle: (key) => reconciler.handle(key),
    reprocessAll: (key) => reconciler.reprocessAll(key),
  });
  ready = () => reconciler.synced;
  loop.start();
  services.start();
  configSource.start();
  endpoints.informer.start();
  members.start();
  void Promise.all([services.whenSynced(), configSource.whenSynced(), endpoints.informer.whenSynced(), members.whenSynced()]).then(async () => {
    if (gossip) {
      const missing = await gossip.joinAndWait(JOIN_WAIT_MS);
      if (missing.length > 0) logger.warn({ event: 'memberlistJoin', missing, msg: 'gossip did not reach every speaker Kubernetes lists; electing without them' });
    }
    logger.info({ event: 'cachesSynced', alive: [...membership.alive()].sort(), msg: 'informer caches synced' });
    queue.add(SYNCED_KEY);
    if (gossip) {
      // Alive, not merely met: a peer that gossip wrongly found dead while everyone was starting (busy) would
      // otherwise be written out of every Service and back in a moment later.
      const missing = await gossip.joinAndWait(PUBLISH_HOLD_MS);
      publishing = true;
      publishMembers();
      logger.info({ event: 'announcePublishing', alive: [...membership.alive()].sort(), missing, msg: missing.length === 0 ? 'gossip has every listed speaker alive; writing announce annotations' : 'gossip lacks some listed speakers; writing announce annotations anyway' });
      queue.add(MEMBERSHIP_KEY);
    }
  });
  const signal = await signalled;
  logger.info({ event: 'shutdown', signal, msg: 'stopping' });
  checks.stop();
  splitBrain.stop();
  queue.shutdown();
  // No NOTIFICATION: routers helping graceful restart keep our routes until the next speaker's End-of-RIB.
  bgp.close(true);
  void bgpListener?.close(); // no new connections; the closed sessions' sockets end on their own
  // BFD ends with AdminDown (RFC 5880 §6.8.16); what each router then does with our paths: docs/design/bfd.md.
  await bfd.close();
  if (gossip) {
    // Make-before-break: the others hear we leave and the successors announce (gratuitous ARP / unsolicited NA)
    // while we still answer for our IPs; we stop answering for each once its successor's announcement is seen, or
    // after the grace (the upper bound). Claims are listened to from before the leave.
    const ips = announcer.stats().owned;
    const stopped = handoff.handOff(ips);
    // No more gratuitous bursts of ours for them (as in a handoff while running, src/speaker/handoff.ts).
    announcer.silence(ips);
    await gossip.leave();
    logger.info({ event: 'handoff', ips: ips.length, graceMs: flags.ml.handoffGraceMs, msg: 'left the memberlist; answering for each of our IPs until its successor announces it, at most for the handoff grace' });
    const stops = await stopped;
    const confirmed = stops.filter((x) => x.result === 'confirmed').length;
    logger.info({ event: 'handoffOver', confirmed, timeout: stops.length - confirmed, msg: 'handoff over: no longer answering for our IPs' });
  }
  handoff.close();
  await Promise.all([services.stop(), configSource.stop(), endpoints.informer.stop(), members.stop()]);
  await Promise.race([Promise.all([loop.stopped(), recorder.flush()]), delay(1500)]);
  layer2Handoff.close();
  await announcer.close();
  await server.close();
  return 0;
}

type EndpointsSourceName = 'EndpointSlices' | 'Endpoints';

/**
 * EndpointSlices whenever the apiserver serves discovery.k8s.io/v1 (asked through API discovery, retried while the
 * apiserver does not answer), Endpoints with `--disable-epslices` or when it does not. Logged either way.
 */
async function chooseEndpointsSource(flags: SpeakerFlags, clients: KubeClients, logger: Logger): Promise<EndpointsSourceName | undefined> {
  if (flags.disableEpslices) {
    logger.info({ event: 'endpointsSource', source: 'Endpoints', reason: '--disable-epslices', msg: 'watching v1 Endpoints' });
    return 'Endpoints';
  }
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    const served = await servesEndpointSlices(clients);
    if (served.ok) {
      const source = served.served ? 'EndpointSlices' : 'Endpoints';
      logger.info({
        event: 'endpointsSource', source,
        reason: served.served ? 'discovery.k8s.io/v1 is served' : 'discovery.k8s.io/v1 endpointslices are not served',
        msg: served.served ? 'watching discovery.k8s.io/v1 EndpointSlices' : 'watching v1 Endpoints',
      });
      return source;
    }
    if (Date.now() - started > DISCOVERY_DEADLINE_MS) {
      logger.error({ op: 'startup', error: served.error, msg: 'cannot ask the apiserver whether it serves EndpointSlices' });
      return undefined;
    }
    const wait = backoffDelay(attempt, { baseMs: 200, maxMs: 5000 });
    logger.warn({ op: 'discovery', error: served.error, retryInMs: wait, msg: 'API discovery failed; retrying' });
    await new Promise((resolve) => setTimeout(resolve, wait)); // ref'd: nothing else keeps the process alive yet
  }
}

interface EndpointsInformer {
  readonly informer: ResilientInformer<unknown>;
  readonly view: (nsName: string) => EndpointsView;
}

function slicesSource(clients: KubeClients, queue: WorkQueue<WorkKey>, logger: Logger): EndpointsInformer {
  const index = new SliceIndex();
  const informer = new ResilientInformer<EndpointSliceObject>({
    name: 'endpointslices', listWatch: endpointSlicesListWatch(clients), clock: realClock, logger,
    onChange: (kind, slice) => { for (const svc of index.apply(kind, slice)) queue.add(serviceKey(svc)); },
  });
  return { informer: informer as ResilientInformer<unknown>, view: (nsName) => endpointsFromSlices(index.slicesOf(nsName)) };
}

function endpointsSource(clients: KubeClients, queue: WorkQueue<WorkKey>, logger: Logger): EndpointsInformer {
  const listWatch: ListWatchLike<EndpointsObject> = endpointsListWatch(clients);
  const informer = new ResilientInformer<EndpointsObject>({
    name: 'endpoints', listWatch, clock: realClock, logger, onChange: (_kind, ep) => queue.add(serviceKey(nsNameOf(ep))),
  });
  return {
    informer: informer as ResilientInformer<unknown>,
    view: (nsName) => { const i = nsName.indexOf('/'); return endpointsFromEndpoints(informer.get(nsName.slice(i + 1), nsName.slice(0, i))); },
  };
}

function readServiceAccountNamespace(): string | undefined {
  try { return readFileSync(SA_NAMESPACE_FILE, 'utf8'); } catch { return undefined; }
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) process.once(sig, () => resolve(sig));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, ms).unref(); });
}
