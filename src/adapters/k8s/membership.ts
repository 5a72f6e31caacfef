/**
 * Kubernetes-backed speaker membership (issue 9; MetalLB v0.11 used memberlist, spec §5.3): a node is alive while
 * its Node is Ready and its speaker Pod (selected by `--ml-labels` in `--namespace`) is Running and Ready. Two
 * informers (all Nodes; the speaker Pods) feed the pure rule `aliveFromKubernetes` (src/core/speaker/membership.ts);
 * listeners hear about every change of the alive set, not about every object update.
 * With an empty `--ml-labels` there is no way to tell speaker Pods from others, so every Ready Node counts.
 */
import type { NodeObject, PodObject } from '../../core/k8s/objects.js';
import type { Logger } from '../../core/ports.js';
import { aliveFromKubernetes, type Membership } from '../../core/speaker/membership.js';
import type { Clock } from '../clock.js';
import { ResilientInformer, type ListWatchLike } from './informer.js';

export interface KubernetesMembershipOptions {
  readonly nodes: ListWatchLike<NodeObject>;
  /** The speaker Pods (already selected by label); undefined = no --ml-labels: Node readiness alone. */
  readonly pods: ListWatchLike<PodObject> | undefined;
  readonly labelSelector: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class KubernetesMembership implements Membership {
  private readonly options: KubernetesMembershipOptions;
  private readonly nodes: ResilientInformer<NodeObject>;
  private readonly pods: ResilientInformer<PodObject> | undefined;
  private current: ReadonlySet<string> = new Set();
  private readonly listeners = new Set<() => void>();
  private started = false;

  constructor(options: KubernetesMembershipOptions) {
    this.options = options;
    const onChange = () => this.recompute();
    this.nodes = new ResilientInformer<NodeObject>({ name: 'nodes', listWatch: options.nodes, onChange, clock: options.clock, logger: options.logger });
    this.pods = options.pods
      ? new ResilientInformer<PodObject>({ name: 'speakerPods', listWatch: options.pods, onChange, clock: options.clock, logger: options.logger })
      : undefined;
  }

  start(): void {
    this.started = true;
    this.nodes.start();
    this.pods?.start();
  }

  async whenSynced(): Promise<void> {
    await Promise.all([this.nodes.whenSynced(), this.pods?.whenSynced()]);
    this.recompute();
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([this.nodes.stop(), this.pods?.stop()]);
  }

  alive(): ReadonlySet<string> {
    return this.current;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private recompute(): void {
    if (!this.started || !this.nodes.hasSynced || (this.pods && !this.pods.hasSynced)) return;
    const nodes = this.nodes.list();
    const next = this.pods
      ? aliveFromKubernetes(nodes, this.pods.list(), this.options.labelSelector)
      : aliveFromKubernetes(nodes, nodes.map(stubSpeakerPod));
    if (sameSet(next, this.current)) return;
    const joined = [...next].filter((n) => !this.current.has(n)).sort();
    const left = [...this.current].filter((n) => !next.has(n)).sort();
    this.current = next;
    this.options.logger.info({ event: 'membershipChanged', alive: [...next].sort(), joined, left, msg: 'alive speakers changed' });
    for (const listener of this.listeners) listener();
  }
}

/** Without --ml-labels: a stand-in Running and Ready Pod on every Node, so only Node readiness decides. */
function stubSpeakerPod(node: NodeObject): PodObject {
  return {
    metadata: { name: `node-${node.metadata?.name ?? ''}` },
    spec: { nodeName: node.metadata?.name },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
