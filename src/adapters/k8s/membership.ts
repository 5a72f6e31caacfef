/**
 * Feeds the Kubernetes-backed speaker membership (src/core/speaker/kube-membership.ts: a node is alive while its
 * Node is Ready and its speaker Pod, selected by `--ml-labels` in `--namespace`, is Running and Ready) from two
 * informers: all Nodes, and the speaker Pods. The pure state decides; this adapter only forwards events and logs
 * every change of the alive set. With an empty `--ml-labels` there is no way to tell speaker Pods from others, so
 * every Ready Node counts (a stand-in Running and Ready Pod is fed per Node).
 */
import type { NodeObject, PodObject } from '../../core/k8s/objects.js';
import type { Logger } from '../../core/ports.js';
import { KubernetesMembership } from '../../core/speaker/kube-membership.js';
import type { Membership } from '../../core/speaker/membership.js';
import type { Clock } from '../clock.js';
import { ResilientInformer, type ChangeKind, type ListWatchLike } from './informer.js';

export interface MembershipSourceOptions {
  readonly nodes: ListWatchLike<NodeObject>;
  /** The speaker Pods (already selected by label); undefined = no --ml-labels: Node readiness alone. */
  readonly pods: ListWatchLike<PodObject> | undefined;
  readonly labelSelector: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Every Node event, after the membership saw it (the BGP peers' node-selectors read this node's labels). */
  readonly onNode?: ((kind: ChangeKind, node: NodeObject) => void) | undefined;
}

export class KubernetesMembershipSource {
  /** The membership the speaker asks (`alive()`, `onChange`). */
  readonly membership: Membership;
  private readonly state: KubernetesMembership;
  private readonly nodes: ResilientInformer<NodeObject>;
  private readonly pods: ResilientInformer<PodObject> | undefined;

  constructor(options: MembershipSourceOptions) {
    const { logger } = options;
    const state = new KubernetesMembership(options.pods ? options.labelSelector : undefined);
    this.state = state;
    this.membership = state;
    let previous: ReadonlySet<string> = state.alive();
    state.onChange(() => {
      const next = state.alive();
      logger.info({
        event: 'membershipChanged', alive: [...next].sort(),
        joined: [...next].filter((n) => !previous.has(n)).sort(), left: [...previous].filter((n) => !next.has(n)).sort(),
        msg: 'alive speakers changed',
      });
      previous = next;
    });
    const withoutPods = options.pods === undefined;
    this.nodes = new ResilientInformer<NodeObject>({
      name: 'nodes', listWatch: options.nodes, clock: options.clock, logger,
      onChange: (kind, node) => {
        if (kind === 'delete') state.deleteNode(node); else state.setNode(node);
        if (withoutPods) { if (kind === 'delete') state.deletePod(stubSpeakerPod(node)); else state.setPod(stubSpeakerPod(node)); }
        options.onNode?.(kind, node);
      },
    });
    this.pods = options.pods
      ? new ResilientInformer<PodObject>({
        name: 'speakerPods', listWatch: options.pods, clock: options.clock, logger,
        onChange: (kind, pod) => { if (kind === 'delete') state.deletePod(pod); else state.setPod(pod); },
      })
      : undefined;
  }

  /** The speaker Pods as last listed (empty without --ml-labels): where gossip finds its peers. */
  speakerPods(): ReadonlyArray<PodObject> {
    return this.pods?.list() ?? [];
  }

  start(): void {
    this.nodes.start();
    this.pods?.start();
  }

  async whenSynced(): Promise<void> {
    await Promise.all([this.nodes.whenSynced(), this.pods?.whenSynced()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.nodes.stop(), this.pods?.stop()]);
  }
}

/** Without --ml-labels: a stand-in Running and Ready Pod on a Node, so only Node readiness decides. */
function stubSpeakerPod(node: NodeObject): PodObject {
  return {
    metadata: { namespace: '', name: `node/${node.metadata?.name ?? ''}` },
    spec: { nodeName: node.metadata?.name },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}
