/**
 * Node selectors with Kubernetes semantics (`metav1.LabelSelectorAsSelector` + `labels.Selector`):
 * match-labels become `key=value` requirements, match-expressions In/NotIn/Exists/DoesNotExist;
 * keys and values are validated like Kubernetes does; requirements are sorted by key, values
 * sorted and de-duplicated; `text` is `Selector.String()`. No selector terms = everything.
 */
import type { RawNodeSelector } from './raw-types.js';
import type { NodeSelector, SelectorRequirement } from './types.js';
import { pointerSegment } from './decode.js';

export type SelectorResult =
  | { readonly ok: true; readonly selector: NodeSelector }
  | { readonly ok: false; readonly message: string; readonly value: string; /** JSON pointer below the selector */ readonly path: string };

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const OPERATORS: Readonly<Record<string, SelectorRequirement['operator']>> = {
  In: 'In', NotIn: 'NotIn', Exists: 'Exists', DoesNotExist: 'DoesNotExist',
};

/** Kubernetes qualified-name check of a label key; the problem, or undefined when valid. */
function keyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return 'prefix part must be a lowercase RFC 1123 subdomain';
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

function valueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!VALUE.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

type RequirementResult = { ok: true; requirement: SelectorRequirement } | { ok: false; message: string; value: string };

/** `labels.NewRequirement`: validates key, value count for the operator, and each value. */
function newRequirement(key: string, operator: SelectorRequirement['operator'], values: readonly string[]): RequirementResult {
  const badKey = keyProblem(key);
  if (badKey) return { ok: false, message: `key: Invalid value: ${JSON.stringify(key)}: ${badKey}`, value: key };
  if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
    return { ok: false, message: "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty", value: key };
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length !== 0) {
    return { ok: false, message: 'values: Invalid value: values set must be empty for exists and does not exist', value: key };
  }
  for (const v of values) {
    const badValue = valueProblem(v);
    if (badValue) return { ok: false, message: `values[0][${key}]: Invalid value: ${JSON.stringify(v)}: ${badValue}`, value: v };
  }
  const sorted = [...new Set(values)].sort();
  return { ok: true, requirement: { key, operator, values: sorted } };
}

function requirementText(r: SelectorRequirement): string {
  switch (r.operator) {
    case 'Equals': return `${r.key}=${r.values[0] ?? ''}`;
    case 'In': return `${r.key} in (${r.values.join(',')})`;
    case 'NotIn': return `${r.key} notin (${r.values.join(',')})`;
    case 'Exists': return r.key;
    case 'DoesNotExist': return `!${r.key}`;
  }
}

function requirementMatches(r: SelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'Equals':
    case 'In': return value !== undefined && r.values.includes(value);
    case 'NotIn': return value === undefined || !r.values.includes(value);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
  }
}

/** Builds a selector from already-valid requirements (sorted by key, stable). */
export function makeSelector(requirements: readonly SelectorRequirement[]): NodeSelector {
  const sorted = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    requirements: sorted,
    text: sorted.map(requirementText).join(','),
    matches: (labels) => sorted.every((r) => requirementMatches(r, labels)),
  };
}

/** The selector that matches every node. */
export const EVERYTHING: NodeSelector = makeSelector([]);

/** Compiles one `node-selectors` entry. */
export function compileNodeSelector(raw: RawNodeSelector): SelectorResult {
  const requirements: SelectorRequirement[] = [];
  const labels = raw['match-labels'] ?? {};
  for (const key of Object.keys(labels)) {
    const made = newRequirement(key, 'Equals', [labels[key]!]);
    if (!made.ok) return { ...made, path: `/match-labels/${pointerSegment(key)}` };
    requirements.push(made.requirement);
  }
  const expressions = raw['match-expressions'] ?? [];
  for (const [i, expr] of expressions.entries()) {
    const op = expr.operator ?? '';
    const operator = Object.hasOwn(OPERATORS, op) ? OPERATORS[op] : undefined;
    if (operator === undefined) {
      return { ok: false, message: `${JSON.stringify(op)} is not a valid pod selector operator`, value: op, path: `/match-expressions/${i}/operator` };
    }
    const made = newRequirement(expr.key ?? '', operator, expr.values ?? []);
    if (!made.ok) return { ...made, path: `/match-expressions/${i}` };
    requirements.push(made.requirement);
  }
  return { ok: true, selector: makeSelector(requirements) };
}
