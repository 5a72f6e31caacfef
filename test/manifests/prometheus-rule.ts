/** The PrometheusRule of manifests/prometheus-operator.yaml, for the rules and metric-name tests. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { repoRoot } from '../../src/testing/cluster/binaries.js';

export interface Rule { alert?: string; record?: string; expr: string }
export interface RuleGroup { name: string; rules: Rule[] }

/** The PrometheusRule's groups, as the prometheus-operator hands them to Prometheus. */
export function ruleGroups(): RuleGroup[] {
  const docs = yaml.loadAll(readFileSync(join(repoRoot(), 'manifests', 'prometheus-operator.yaml'), 'utf8')) as Array<{ kind?: string; spec?: { groups?: RuleGroup[] } }>;
  const rule = docs.find((d) => d?.kind === 'PrometheusRule');
  assert.ok(rule?.spec?.groups, 'manifests/prometheus-operator.yaml has a PrometheusRule with groups');
  return rule.spec.groups;
}
