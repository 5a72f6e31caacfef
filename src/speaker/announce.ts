/**
 * Which entry this speaker's annotation should hold for one Service (issue 13 §1; the carrier and its key/value
 * format are src/core/speaker/announce-annotation.ts, the design docs/design/announce-annotations.md), from the
 * pure Speaker's result. Pure.
 */
import { eligibleNodes, trafficPolicyOf } from '../core/election/eligible.js';
import type { ServiceObject } from '../core/k8s/objects.js';
import type { EndpointsView } from '../core/service/endpoints.js';
import type { NodeAnnouncement } from '../core/speaker/announce-annotation.js';
import type { Announcement } from '../core/speaker/decide.js';
import type { SkipReason } from './speaker.js';

export interface AnnouncementInput {
  readonly service: ServiceObject | undefined;
  /** What this node announces for the Service after the sync. */
  readonly announced: Announcement | undefined;
  /** Why it is not announced here (the sync's skip reason). */
  readonly skipped: SkipReason | undefined;
  readonly endpoints: EndpointsView;
  readonly alive: ReadonlySet<string>;
  /** Nodes excluded from announcing (`--exclude-lb`); default none. */
  readonly excluded?: ReadonlySet<string>;
  /** True while the ConfigMap is refused or missing and an older config runs. */
  readonly configStale: boolean;
  /** Interfaces whose subnet holds one of the IPs (sorted). */
  readonly interfacesFor: (ips: readonly string[]) => string[];
  /** BGP peers (`host:port`) this node keeps sessions with: who receives its routes. */
  readonly peers?: () => readonly string[];
}

/**
 * The entry, or undefined for none: not a LoadBalancer with an IP (nothing to explain), or a reason that is this
 * node's alone (`notOwner` or `nodeExcluded` while some node is eligible and not excluded, `noLocalEndpoints`):
 * another node's entry tells the story.
 */
export function nodeAnnouncementFor(i: AnnouncementInput): NodeAnnouncement | undefined {
  const svc = i.service;
  if (svc === undefined || svc.spec?.type !== 'LoadBalancer') return undefined;
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (!Array.isArray(ingress) || ingress.length === 0) return undefined;
  if (i.announced !== undefined) {
    if (i.announced.protocol === 'bgp') return { kind: 'announcing', protocol: 'bgp', interfaces: [], peers: [...(i.peers?.() ?? [])].sort() };
    return { kind: 'announcing', protocol: i.announced.protocol, interfaces: i.interfacesFor(i.announced.ips) };
  }
  switch (i.skipped) {
    case 'notOwner':
    case 'nodeExcluded': {
      const eligible = eligibleNodes(trafficPolicyOf(svc.spec?.externalTrafficPolicy), i.endpoints, i.alive).filter((n) => !i.excluded?.has(n));
      if (eligible.length > 0) return undefined;
      return { kind: 'notAnnouncing', reason: i.endpoints.anyReady ? 'noEligibleNode' : 'noEndpoints' };
    }
    case 'serviceDeleted': // the Service exists: it has no Endpoints object / no slice (v0.11 reads that as deleted)
    case 'noEndpoints':
      return { kind: 'notAnnouncing', reason: 'noEndpoints' };
    case 'ipNotAllowed':
      return { kind: 'notAnnouncing', reason: i.configStale ? 'staleConfig' : 'noPool' };
    case 'noConfig':
      return { kind: 'notAnnouncing', reason: 'noConfig' };
    case 'invalidIP':
      return { kind: 'notAnnouncing', reason: 'invalidIP' };
    case 'internalError':
    case 'protocolNotImplemented':
      return { kind: 'notAnnouncing', reason: 'protocolNotImplemented' };
    default:
      return undefined;
  }
}
