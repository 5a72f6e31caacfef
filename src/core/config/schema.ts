/**
 * The JSON Schema of MetalLB's legacy ConfigMap payload (`data.config`), v0.11 keys plus the
 * v0.12.1 additions. It describes SHAPE only (keys, types, Go integer widths), exactly what Go's
 * yaml.v2 `UnmarshalStrict` enforces; value rules (protocol names, CIDR syntax, ranges of BFD
 * timers…) are MetalLB's semantic checks, done afterwards in MetalLB's order so the first error
 * is the one MetalLB reports. `x-go-type` names the Go type for yaml.v2-style messages.
 * Shipped verbatim as manifests/config.schema.json (`metallb-ts validate --print-schema`).
 */

const uint32 = (description: string) =>
  ({ type: 'integer', minimum: 0, maximum: 4294967295, 'x-go-type': 'uint32', description }) as const;
const str = (description: string) => ({ type: 'string', 'x-go-type': 'string', description }) as const;
const bool = (description: string) => ({ type: 'boolean', 'x-go-type': 'bool', description }) as const;
const stringList = (description: string) =>
  ({ type: 'array', items: { type: 'string', 'x-go-type': 'string' }, 'x-go-type': '[]string', description }) as const;
const stringMap = (description: string) =>
  ({
    type: 'object',
    additionalProperties: { type: 'string', 'x-go-type': 'string' },
    'x-go-type': 'map[string]string',
    description,
  }) as const;

export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/metallb-ts/metallb-ts/manifests/config.schema.json',
  title: 'MetalLB ConfigMap configuration (data.config)',
  description:
    'The YAML document in the `config` key of the `config` ConfigMap in `metallb-system` (MetalLB v0.11 format with v0.12.1 additions).',
  type: 'object',
  additionalProperties: false,
  'x-go-type': 'config.configFile',
  properties: {
    peers: { type: 'array', items: { $ref: '#/definitions/peer' }, 'x-go-type': '[]config.peer', description: 'BGP routers to peer with.' },
    'bgp-communities': stringMap('Community aliases: name -> "<16-bit>:<16-bit>".'),
    'address-pools': {
      type: 'array',
      items: { $ref: '#/definitions/addressPool' },
      'x-go-type': '[]config.addressPool',
      description: 'Address pools, in allocation order.',
    },
    'bfd-profiles': {
      type: 'array',
      items: { $ref: '#/definitions/bfdProfile' },
      'x-go-type': '[]config.bfdProfile',
      description: '(v0.12) BFD profiles referenced by peers.',
    },
  },
  definitions: {
    peer: {
      type: 'object',
      additionalProperties: false,
      'x-go-type': 'config.peer',
      properties: {
        'my-asn': uint32('Local AS number (required, 1-4294967295).'),
        'peer-asn': uint32('Peer AS number (required, 1-4294967295).'),
        'peer-address': str('Peer IPv4 or IPv6 address (required).'),
        'source-address': str('Local address to connect from (must exist on the node).'),
        'peer-port': { type: 'integer', minimum: 0, maximum: 65535, 'x-go-type': 'uint16', description: 'TCP port, default 179 (0 = default).' },
        'hold-time': str('Go duration, default "90s"; 0 or at least 3s; truncated to whole seconds.'),
        'keepalive-time': str('(v0.12) Go duration, default hold-time/3; at most hold-time.'),
        'router-id': str('BGP router ID (an IPv4 address); default: derived from the node.'),
        'node-selectors': {
          type: 'array',
          items: { $ref: '#/definitions/nodeSelector' },
          'x-go-type': '[]config.nodeSelector',
          description: 'The peer applies to nodes matching ANY selector; default all nodes.',
        },
        password: str('TCP MD5 password (RFC 2385).'),
        'bfd-profile': str('(v0.12) Name of an entry of bfd-profiles.'),
        'ebgp-multihop': bool('(v0.12) Allow multi-hop eBGP (not valid when my-asn equals peer-asn).'),
      },
    },
    nodeSelector: {
      type: 'object',
      additionalProperties: false,
      'x-go-type': 'config.nodeSelector',
      properties: {
        'match-labels': stringMap('Labels that must all be present with these values.'),
        'match-expressions': {
          type: 'array',
          items: { $ref: '#/definitions/selectorRequirement' },
          'x-go-type': '[]config.selectorRequirements',
          description: 'Kubernetes label-selector requirements, AND-ed.',
        },
      },
    },
    selectorRequirement: {
      type: 'object',
      additionalProperties: false,
      'x-go-type': 'config.selectorRequirements',
      properties: {
        key: str('Label key.'),
        operator: str('In, NotIn, Exists or DoesNotExist.'),
        values: stringList('Values for In/NotIn (must be empty for Exists/DoesNotExist).'),
      },
    },
    addressPool: {
      type: 'object',
      additionalProperties: false,
      'x-go-type': 'config.addressPool',
      properties: {
        name: str('Pool name (required, unique); used by the metallb.universe.tf/address-pool annotation.'),
        protocol: str('"layer2" or "bgp" (required).'),
        addresses: stringList('CIDRs ("192.168.10.0/24") or ranges ("192.168.1.240-192.168.1.250"); at least one.'),
        'avoid-buggy-ips': bool('Skip .0 and .255 addresses (default false).'),
        'auto-assign': bool('Allocate from this pool automatically (default true).'),
        'bgp-advertisements': {
          type: 'array',
          items: { $ref: '#/definitions/bgpAdvertisement' },
          'x-go-type': '[]config.bgpAdvertisement',
          description: 'BGP pools only; default one advertisement (aggregation 32/128, no communities).',
        },
      },
    },
    bgpAdvertisement: {
      type: 'object',
      additionalProperties: false,
      'x-go-type': 'config.bgpAdvertisement',
      properties: {
        'aggregation-length': { type: 'integer', 'x-go-type': 'int', description: 'IPv4 prefix length to advertise (default 32).' },
        'aggregation-length-v6': { type: 'integer', 'x-go-type': 'int', description: '(v0.12) IPv6 prefix length to advertise (default 128).' },
        localpref: uint32('LOCAL_PREF (sent on iBGP sessions only).'),
        communities: stringList('Community literals "hi:lo" or names from bgp-communities.'),
      },
    },
    bfdProfile: {
      type: 'object',
      additionalProperties: false,
      'x-go-type': 'config.bfdProfile',
      properties: {
        name: str('Profile name (required, unique).'),
        'receive-interval': uint32('Milliseconds, 10-60000.'),
        'transmit-interval': uint32('Milliseconds, 10-60000.'),
        'detect-multiplier': uint32('2-255.'),
        'echo-interval': uint32('Milliseconds, 10-60000.'),
        'echo-mode': bool('Enable echo mode.'),
        'passive-mode': bool('Wait for the peer to start the session.'),
        'minimum-ttl': uint32('1-254.'),
      },
    },
  },
} as const;

/** A schema node as the decoder reads it. */
export interface SchemaNode {
  readonly type?: string;
  readonly $ref?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly 'x-go-type'?: string;
}

/** Follows a local `#/definitions/x` reference. */
export function resolveRef(node: SchemaNode): SchemaNode {
  if (node.$ref === undefined) return node;
  const name = node.$ref.replace('#/definitions/', '');
  const definitions = CONFIG_SCHEMA.definitions as Readonly<Record<string, SchemaNode>>;
  const target = definitions[name];
  if (!target) throw new Error(`schema: unknown $ref ${node.$ref}`);
  return target;
}
