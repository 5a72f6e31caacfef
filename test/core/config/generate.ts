/**
 * Seeded generator of valid legacy configs, written as YAML in varied styles (quoted and plain
 * strings, YAML 1.1 booleans, hex and `_` integers), recording the line and columns of every value
 * so a mutation knows exactly which node an error must point at.
 */

import { prng } from '../../helpers/prng.js';

export { prng };

export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** What a leaf holds, so mutations pick a fitting invalid value. */
export type LeafKind =
  | 'pool-name' | 'protocol' | 'address' | 'bool' | 'agg' | 'agg6' | 'localpref' | 'community' | 'alias-value'
  | 'asn' | 'ip' | 'port' | 'hold' | 'keepalive' | 'password' | 'operator' | 'label-value' | 'bfd-name' | 'bfd-ms' | 'bfd-ref';

/** A written scalar: 1-based line, 1-based first column, length in characters. */
export interface Leaf {
  readonly kind: LeafKind;
  readonly line: number;
  readonly column: number;
  readonly length: number;
  readonly text: string;
  /** Indentation of the mapping this leaf's key belongs to (for inserting sibling keys). */
  readonly keyIndent: number;
}

export interface Generated {
  readonly lines: string[];
  readonly leaves: Leaf[];
  readonly poolNameLeaves: Leaf[];
  readonly poolAddressLeaves: Leaf[][];
}

const NULL_WORDS = new Set(['', '~', 'null', 'Null', 'NULL']);

class Writer {
  readonly lines: string[] = [];
  readonly leaves: Leaf[] = [];
  private readonly rng: Rng;
  constructor(rng: Rng) {
    this.rng = rng;
  }

  /** Writes `prefix` + value; records the value as a leaf. */
  value(prefix: string, text: string, kind: LeafKind, keyIndent: number): Leaf {
    const leaf: Leaf = { kind, line: this.lines.length + 1, column: prefix.length + 1, length: text.length, text, keyIndent };
    this.lines.push(prefix + text);
    this.leaves.push(leaf);
    return leaf;
  }

  raw(line: string): void {
    this.lines.push(line);
  }

  /** A string scalar, plain when that stays a non-null string, else quoted. */
  str(s: string): string {
    const plainOk = /^[A-Za-z0-9][A-Za-z0-9./_-]*(:[A-Za-z0-9][A-Za-z0-9./_:-]*)?$/.test(s) && !NULL_WORDS.has(s);
    if (plainOk && this.rng.chance(0.6)) return s;
    return this.rng.chance(0.5) ? JSON.stringify(s) : `'${s.replaceAll("'", "''")}'`;
  }

  bool(b: boolean): string {
    return this.rng.pick(b ? ['true', 'True', 'yes', 'Yes', 'on', 'ON', 'y'] : ['false', 'False', 'no', 'NO', 'off', 'n']);
  }

  int(n: number): string {
    const r = this.rng.next();
    if (r < 0.15) return `0x${n.toString(16)}`;
    if (r < 0.3 && n >= 1000) return String(n).replace(/(\d)(?=(\d{3})+$)/g, '$1_');
    return String(n);
  }
}

function genAddresses(rng: Rng, poolIndex: number, bgp: boolean): string[] {
  const out: string[] = [];
  const count = rng.int(1, 3);
  for (let k = 0; k < count; k++) {
    const third = k * 64;
    const v6 = rng.chance(0.25);
    if (v6) out.push(`2001:db8:${(poolIndex * 4 + k).toString(16)}::/${rng.pick([64, 96, 120])}`);
    else if (bgp || rng.chance(0.5)) out.push(`10.${poolIndex}.${third}.0/${rng.pick([18, 20, 24, 26])}`);
    else {
      const lo = rng.int(0, 100);
      const hi = rng.int(lo, 250);
      const sep = rng.pick(['-', ' - ']);
      out.push(`10.${poolIndex}.${third}.${lo}${sep}10.${poolIndex}.${third}.${hi}`);
    }
  }
  return out;
}

function writePools(w: Writer, rng: Rng, aliases: string[], names: Leaf[], addressLeaves: Leaf[][]): void {
  const count = rng.int(1, 4);
  w.raw('address-pools:');
  for (let i = 0; i < count; i++) {
    const bgp = rng.chance(0.5);
    names.push(w.value('- name: ', w.str(rng.pick(['pool', 'p', 'default', '2024', 'yes', 'lab']) + `-${i}`), 'pool-name', 2));
    w.value('  protocol: ', w.str(bgp ? 'bgp' : 'layer2'), 'protocol', 2);
    w.raw('  addresses:');
    const leaves: Leaf[] = [];
    for (const a of genAddresses(rng, i, bgp)) leaves.push(w.value('  - ', w.str(a), 'address', 2));
    addressLeaves.push(leaves);
    if (rng.chance(0.5)) w.value('  auto-assign: ', w.bool(rng.chance(0.5)), 'bool', 2);
    if (rng.chance(0.5)) w.value('  avoid-buggy-ips: ', w.bool(rng.chance(0.5)), 'bool', 2);
    if (bgp && rng.chance(0.7)) {
      w.raw('  bgp-advertisements:');
      const ads = rng.int(1, 2);
      for (let j = 0; j < ads; j++) {
        w.value('  - aggregation-length: ', w.int(32 - j), 'agg', 4);
        w.value('    aggregation-length-v6: ', w.int(128 - j), 'agg6', 4);
        if (rng.chance(0.6)) w.value('    localpref: ', w.int(rng.int(0, 200000)), 'localpref', 4);
        if (rng.chance(0.6)) {
          w.raw('    communities:');
          const chosen = new Set<string>([rng.pick([...aliases, '64512:1', '65535:65281'])]);
          if (rng.chance(0.5)) chosen.add(`${rng.int(0, 65535)}:${rng.int(0, 65535)}`);
          for (const c of chosen) w.value('    - ', w.str(c), 'community', 4);
        }
      }
    }
  }
}

function writePeers(w: Writer, rng: Rng, bfdNames: string[]): void {
  const count = rng.int(0, 3);
  if (count === 0) return;
  w.raw('peers:');
  for (let i = 0; i < count; i++) {
    const myAsn = rng.int(1, 4294967295);
    w.value('- my-asn: ', w.int(myAsn), 'asn', 2);
    w.value('  peer-asn: ', w.int(rng.chance(0.3) ? myAsn : rng.int(1, 65535)), 'asn', 2);
    w.value('  peer-address: ', w.str(rng.chance(0.7) ? `192.0.2.${i + 1}` : `2001:db8::${i + 1}`), 'ip', 2);
    if (rng.chance(0.4)) w.value('  peer-port: ', w.int(rng.int(1, 65535)), 'port', 2);
    const hold = rng.pick(['90s', '0s', '3s', '2m', '180s', '100s', '4.5s']);
    if (rng.chance(0.6)) w.value('  hold-time: ', w.str(hold), 'hold', 2);
    if (rng.chance(0.6)) w.value('  router-id: ', w.str(`10.255.0.${i + 1}`), 'ip', 2);
    if (rng.chance(0.3)) w.value('  source-address: ', w.str(`192.0.2.${100 + i}`), 'ip', 2);
    if (rng.chance(0.3)) w.value('  password: ', w.str(rng.pick(['s3cret', 'p@ss word', 'yes', '1234'])), 'password', 2);
    if (bfdNames.length > 0 && rng.chance(0.5)) w.value('  bfd-profile: ', w.str(rng.pick(bfdNames)), 'bfd-ref', 2);
    if (rng.chance(0.5)) {
      w.raw('  node-selectors:');
      w.raw('  - match-labels:');
      w.value('      kubernetes.io/hostname: ', w.str(`node-${i}`), 'label-value', 6);
      if (rng.chance(0.6)) {
        w.raw('    match-expressions:');
        w.raw('    - key: rack');
        w.value('      operator: ', rng.pick(['In', 'NotIn']), 'operator', 6);
        w.raw('      values: [a, b]');
      }
    }
  }
}

/** A valid config in varied YAML styles. */
export function generateValid(rng: Rng): Generated {
  const w = new Writer(rng);
  const bfdNames: string[] = [];
  if (rng.chance(0.3)) {
    w.raw('bfd-profiles:');
    for (let i = 0; i < rng.int(1, 2); i++) {
      bfdNames.push(`bfd-${i}`);
      w.value('- name: ', w.str(`bfd-${i}`), 'bfd-name', 2);
      if (rng.chance(0.7)) w.value('  receive-interval: ', w.int(rng.int(10, 60000)), 'bfd-ms', 2);
      if (rng.chance(0.5)) w.value('  echo-mode: ', w.bool(rng.chance(0.5)), 'bool', 2);
    }
  }
  writePeers(w, rng, bfdNames);
  const aliases: string[] = [];
  if (rng.chance(0.5)) {
    w.raw('bgp-communities:');
    aliases.push('no-export');
    w.value('  no-export: ', w.str('65535:65281'), 'alias-value', 2);
  }
  const poolNameLeaves: Leaf[] = [];
  const poolAddressLeaves: Leaf[][] = [];
  writePools(w, rng, aliases, poolNameLeaves, poolAddressLeaves);
  return { lines: w.lines, leaves: w.leaves, poolNameLeaves, poolAddressLeaves };
}

/** Invalid replacement texts per leaf kind (each must make the config invalid at that leaf). */
export const INVALID_VALUES: Readonly<Record<LeafKind, readonly string[]>> = {
  'pool-name': ['""', '~'],
  protocol: ['babel', '""', '[bgp]'],
  address: ['10.0.0.0/33', '"10.0.0.9-10.0.0.1"', '1.2.3.400/24', 'nope', '{a: b}'],
  bool: ['maybe', '"true"', '1', '[true]'],
  agg: ['33', '"32"', '0x21', '1e9'],
  agg6: ['129', '"128"'],
  localpref: ['4294967296', '-1', '"100"', 'many'],
  community: ['"99999999:1"', '"1:99999999"', 'flarb', '"1:2:3"'],
  'alias-value': ['"1:99999999"', 'nope'],
  asn: ['0', '"64500"', '4294967296', '-5', 'big'],
  ip: ['1.2.3.400', 'nope', '[1.2.3.4]'],
  port: ['65536', '"179"', 'http'],
  hold: ['1s', 'foo', '90', '-5s'],
  keepalive: ['foo'],
  password: ['{a: b}', '[x]'],
  operator: ['Surrounds', '""', 'in'],
  'label-value': ['"bad value!"', '[a]'],
  'bfd-name': ['""', '[x]'],
  'bfd-ms': ['5', '60001', '"50"'],
  'bfd-ref': ['no-such-profile'],
};
