/**
 * Fail-static config choice shared by the controller and the speaker (issue 8, fault 5).
 *
 * MetalLB v0.11 refuses a config that would orphan an assigned address, but only against what the running process
 * has learned: a fresh process accepts whatever the ConfigMap holds, so a refused config is applied by the next
 * process that starts and addresses move. The rule here closes that hole: a candidate config is checked against the
 * addresses Services already show in `status.loadBalancer.ingress` (which survive restarts, unlike process memory)
 * before anything is cleared, allocated or withdrawn. While a candidate is refused, the last applied config runs:
 * the one the process applied itself, else the one persisted in the last-applied store (see
 * docs/design/fail-static.md), else none (nothing is allocated, cleared or withdrawn).
 *
 * Pure: the callers pass the ConfigMap text, the store's text and the held addresses.
 */
import { isBuggyIp } from '../allocator/pool-count.js';
import { formatAllocError } from '../allocator/errors.js';
import { cidrContains, type IpAddr } from '../ip/index.js';
import { toServiceView, type ServiceLike } from '../service/view.js';
import type { ConfigMapObject } from '../k8s/objects.js';
import type { Config, ConfigResult, Pool } from './types.js';

export type { ConfigMapObject } from '../k8s/objects.js';
import { EMPTY_CONFIG } from './types.js';

/** Addresses one Service holds according to its status (`service` = "namespace/name"). */
export interface HeldAddresses {
  readonly service: string;
  readonly ips: readonly IpAddr[];
}

/** A config together with the text it was parsed from (the text is what the store persists). */
export interface AppliedConfig {
  readonly config: Config;
  /** `data.config` as written; undefined = ConfigMap without `data.config` (valid, empty). */
  readonly text: string | undefined;
}

/** What the ConfigMap currently says. */
export type ConfigMapInput =
  | { readonly present: false }
  | { readonly present: true; readonly text: string | undefined };

/** The decision. */
export type ConfigChoice =
  /** The candidate passes: apply it (and persist it). */
  | { readonly kind: 'apply'; readonly applied: AppliedConfig }
  /** The candidate does not parse, or would orphan held addresses: keep `running` (undefined = none yet). */
  | {
      readonly kind: 'refuse';
      readonly reason: string;
      /** Services holding addresses outside every pool of the candidate, sorted ([] for a parse error). */
      readonly blockers: readonly string[];
      readonly running: AppliedConfig | undefined;
      /** The parsed candidate when it parses and only orphans addresses (absent for a parse error). */
      readonly candidate?: Config;
    }
  /** No ConfigMap: hold what exists, allocate and release nothing (v0.11: "configuration is missing"). */
  | { readonly kind: 'missing'; readonly running: AppliedConfig | undefined };

/** The store's content: the applied text (undefined = applied ConfigMap had no `data.config`) and its source. */
export interface StoredConfig {
  readonly text: string | undefined;
  readonly source: string;
}

/** The ConfigMap → fail-static input. */
export function configMapInput(cm: ConfigMapObject | undefined): ConfigMapInput {
  return cm === undefined ? { present: false } : { present: true, text: cm.data?.config };
}

/** The store object → its content; undefined when absent or never written. */
export function storedConfigOf(cm: ConfigMapObject | undefined): StoredConfig | undefined {
  const source = cm?.data?.['source'];
  if (cm === undefined || typeof source !== 'string') return undefined;
  return { text: cm.data?.config, source };
}

/** `<ns>/<name>@<resourceVersion>` of a ConfigMap, for the store's `source`. */
export function sourceOf(cm: ConfigMapObject | undefined): string {
  const m = cm?.metadata;
  return `${m?.namespace ?? ''}/${m?.name ?? ''}@${m?.resourceVersion ?? ''}`;
}

function poolContainsAll(pool: Pool, ips: readonly IpAddr[]): boolean {
  return ips.every((ip) => !(pool.avoidBuggyIps && isBuggyIp(ip.family, ip.value)) && pool.cidrs.some((c) => cidrContains(c, ip)));
}

/**
 * MetalLB's SetPools rule applied to held addresses: a Service blocks the config when no single pool holds all of
 * its addresses (honouring avoid-buggy-ips). Returns the blocking Services, sorted, with the first one's addresses.
 */
export function orphanedBy(config: Config, held: Iterable<HeldAddresses>): { readonly blockers: readonly string[]; readonly first?: HeldAddresses } {
  const orphans: HeldAddresses[] = [];
  for (const h of held) {
    if (h.ips.length === 0) continue;
    if (!config.pools.some((p) => poolContainsAll(p, h.ips))) orphans.push(h);
  }
  orphans.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  return orphans.length === 0 ? { blockers: [] } : { blockers: orphans.map((o) => o.service), first: orphans[0]! };
}

/**
 * The held addresses of the Services this MetalLB handles: type LoadBalancer, `spec.loadBalancerClass` equal to
 * `lbClass` (undefined = unset), with parsable status IPs. Entries whose IPs do not parse are skipped (the
 * controller clears them anyway; they cannot be in any pool).
 */
export function heldAddresses(services: Iterable<ServiceLike & { readonly metadata?: { readonly namespace?: string | null; readonly name?: string | null } | null }>,
  lbClass: string | undefined): HeldAddresses[] {
  const out: HeldAddresses[] = [];
  const wanted = lbClass === '' ? undefined : lbClass;
  for (const svc of services) {
    const view = toServiceView(svc);
    if (!view.isLoadBalancer || view.lbClass !== wanted || view.statusIps.kind !== 'ok') continue;
    out.push({ service: `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`, ips: view.statusIps.ips });
  }
  return out;
}

/**
 * Chooses the config to run. `running` is the last applied config: the process's own, else the persisted one.
 * The candidate is refused when it does not parse or orphans any held address; then `running` stays.
 * Never throws.
 */
export function chooseConfig(input: {
  readonly configMap: ConfigMapInput;
  readonly parse: (text: string) => ConfigResult;
  readonly running: AppliedConfig | undefined;
  readonly held: Iterable<HeldAddresses>;
}): ConfigChoice {
  const { configMap, running } = input;
  if (!configMap.present) return { kind: 'missing', running };
  const text = configMap.text;
  const parsed: ConfigResult = text === undefined ? { ok: true, config: EMPTY_CONFIG } : input.parse(text);
  if (!parsed.ok) {
    return { kind: 'refuse', reason: parsed.errors.map((e) => e.message).join('; '), blockers: [], running };
  }
  const orphaned = orphanedBy(parsed.config, input.held);
  if (orphaned.first) {
    const reason = formatAllocError({ kind: 'orphan', svc: orphaned.first.service, ips: orphaned.first.ips }, 'v0.11');
    return { kind: 'refuse', reason, blockers: orphaned.blockers, running, candidate: parsed.config };
  }
  return { kind: 'apply', applied: { config: parsed.config, text } };
}

/**
 * Parses the persisted last-applied text (store absent = undefined). A store that no longer parses (e.g. written by
 * a newer version) is ignored: undefined.
 */
export function parseStored(stored: { readonly text: string | undefined } | undefined, parse: (text: string) => ConfigResult): AppliedConfig | undefined {
  if (!stored) return undefined;
  if (stored.text === undefined) return { config: EMPTY_CONFIG, text: undefined };
  const parsed = parse(stored.text);
  return parsed.ok ? { config: parsed.config, text: stored.text } : undefined;
}


/**
 * The fail-static state of one process: remembers the config it applied itself, falls back to the persisted one.
 * The speaker drives it on every ConfigMap, store or Service-status change while a candidate is refused; the
 * controller uses the same rule through its reconciler.
 */
export class FailStaticConfig {
  private own: AppliedConfig | undefined;
  private readonly parse: (text: string) => ConfigResult;

  constructor(parse: (text: string) => ConfigResult) {
    this.parse = parse;
  }

  /** The config in force: the last one this process applied, undefined before the first decision. */
  get running(): AppliedConfig | undefined {
    return this.own;
  }

  /**
   * Decides for the current inputs. `stored` is the last-applied store's content (undefined = not written yet);
   * it is used only while this process has applied nothing itself. On `apply` the choice becomes `running`; on
   * `refuse`/`missing` with a running config from the store, that becomes this process's running config.
   */
  decide(configMap: ConfigMapInput, stored: { readonly text: string | undefined } | undefined, held: Iterable<HeldAddresses>): ConfigChoice {
    const running = this.own ?? parseStored(stored, this.parse);
    const choice = chooseConfig({ configMap, parse: this.parse, running, held });
    this.own = choice.kind === 'apply' ? choice.applied : running;
    return choice;
  }
}
