/**
 * One property-test case per seed: a generated valid config, a targeted mutation whose error
 * must point inside the mutated node, or a random text mutation that must merely not throw.
 * Returns a failure description, or undefined when the case holds.
 */
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/core/config/parse.js';
import { dumpConfig } from '../../../src/core/config/dump.js';
import type { Config } from '../../../src/core/config/types.js';
import { INVALID_VALUES, Rng, generateValid, type Generated, type Leaf } from './generate.js';
import { vectorForm } from './vector-form.js';

export interface CaseOutcome {
  readonly valid: boolean;
  readonly failure?: string;
}

/** Where an error must point: a line and a column range [from, to). */
interface Target {
  readonly line: number;
  readonly from: number;
  readonly to: number;
  readonly what: string;
}

function comparable(c: Config): unknown {
  return { form: vectorForm(c), addresses: c.pools.map((p) => p.addresses), aliases: [...c.communityAliases] };
}

function replaceLeaf(lines: string[], leaf: Leaf, text: string): string[] {
  const out = [...lines];
  const line = out[leaf.line - 1]!;
  out[leaf.line - 1] = line.slice(0, leaf.column - 1) + text + line.slice(leaf.column - 1 + leaf.length);
  return out;
}

/** A mutation that must make the config invalid at a known node. */
function targeted(rng: Rng, g: Generated): { lines: string[]; target: Target } {
  const choice = rng.next();
  const pools = g.poolNameLeaves.length;
  if (choice < 0.1 && pools > 1) {
    const j = rng.int(1, pools - 1);
    const leaf = g.poolNameLeaves[j]!;
    const text = g.poolNameLeaves[0]!.text;
    return { lines: replaceLeaf(g.lines, leaf, text), target: { line: leaf.line, from: leaf.column, to: leaf.column + text.length, what: 'duplicate pool name' } };
  }
  const firstAddress = g.poolAddressLeaves[0]![0]!;
  if (choice < 0.2 && pools > 1 && !firstAddress.text.includes('-')) {
    const j = rng.int(1, pools - 1);
    const leaf = rng.pick(g.poolAddressLeaves[j]!);
    return { lines: replaceLeaf(g.lines, leaf, firstAddress.text), target: { line: leaf.line, from: leaf.column, to: leaf.column + firstAddress.text.length, what: 'overlap' } };
  }
  const leaf = rng.pick(g.leaves);
  const indent = ' '.repeat(leaf.keyIndent);
  const isSeqItem = leaf.kind === 'address' || leaf.kind === 'community';
  if (choice < 0.3 && !isSeqItem && leaf.kind !== 'label-value' && leaf.kind !== 'alias-value') {
    const lines = [...g.lines];
    lines.splice(leaf.line, 0, `${indent}bogus-key: 1`);
    return { lines, target: { line: leaf.line + 1, from: leaf.keyIndent + 1, to: leaf.keyIndent + 10, what: 'unknown key' } };
  }
  if (choice < 0.4 && !isSeqItem) {
    const lines = [...g.lines];
    const original = lines[leaf.line - 1]!;
    const copy = indent + original.slice(leaf.keyIndent).replace(/^- /, '');
    lines.splice(leaf.line, 0, original.startsWith(`${' '.repeat(leaf.keyIndent - 2)}- `) ? copy : original);
    return { lines, target: { line: leaf.line + 1, from: leaf.keyIndent + 1, to: leaf.column, what: 'duplicate key' } };
  }
  const text = rng.pick(INVALID_VALUES[leaf.kind]);
  return { lines: replaceLeaf(g.lines, leaf, text), target: { line: leaf.line, from: leaf.column, to: leaf.column + text.length, what: `${leaf.kind} := ${text}` } };
}

const NOISE = [':', '-', '[', ']', '{', '}', '#', '&a ', '*a', '!', '|', '>', "'", '"', '\n', '\t', ' ', 'x', '0', ',', '?'];

function randomTextMutation(rng: Rng, lines: string[]): string {
  const text = `${lines.join('\n')}\n`;
  const at = rng.int(0, text.length);
  switch (rng.int(0, 3)) {
    case 0: return text.slice(0, at) + text.slice(at + rng.int(1, 3));
    case 1: return text.slice(0, at) + rng.pick(NOISE) + text.slice(at);
    case 2: return text.slice(0, at);
    default: {
      const copy = [...lines];
      const i = rng.int(0, copy.length - 1);
      copy.splice(rng.int(0, copy.length), 0, copy[i]!);
      return `${copy.join('\n')}\n`;
    }
  }
}

function roundTrip(text: string, config: Config): string | undefined {
  const again = parseConfig(dumpConfig(config));
  if (!again.ok) return `round trip failed to parse: ${JSON.stringify(again.errors)}\n${dumpConfig(config)}\n--- from ---\n${text}`;
  try {
    assert.deepStrictEqual(comparable(again.config), comparable(config));
  } catch (err) {
    return `round trip differs: ${(err as Error).message}`;
  }
  return undefined;
}

/** Runs the case for `seed`. */
export function runCase(seed: number): CaseOutcome {
  const rng = new Rng(seed);
  const g = generateValid(rng);
  const mode = rng.next();
  if (mode < 0.4) {
    const text = `${g.lines.join('\n')}\n`;
    const got = parseConfig(text);
    if (!got.ok) return { valid: false, failure: `generated config rejected: ${JSON.stringify(got.errors)}\n${text}` };
    return { valid: true, failure: roundTrip(text, got.config) };
  }
  if (mode < 0.8) {
    const { lines, target } = targeted(rng, g);
    const text = `${lines.join('\n')}\n`;
    const got = parseConfig(text);
    if (got.ok) return { valid: true, failure: `mutation ${target.what} was accepted\n${text}` };
    const inside = got.errors.some((e) => e.position && e.position.line === target.line && e.position.column >= target.from && e.position.column < Math.max(target.to, target.from + 1));
    if (!inside) return { valid: false, failure: `no error inside ${target.what} at ${target.line}:${target.from}-${target.to}: ${JSON.stringify(got.errors)}\n${text}` };
    return { valid: false };
  }
  const text = randomTextMutation(rng, g.lines);
  const got = parseConfig(text);
  const lineCount = text.split('\n').length;
  if (got.ok) return { valid: true, failure: roundTrip(text, got.config) };
  for (const e of got.errors) {
    if (!e.position || e.position.line < 1 || e.position.line > lineCount || e.position.column < 1) {
      return { valid: false, failure: `error without a position inside the text: ${JSON.stringify(e)}\n${text}` };
    }
  }
  return { valid: false };
}
