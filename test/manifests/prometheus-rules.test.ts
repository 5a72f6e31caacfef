/**
 * The PrometheusRule in manifests/prometheus-operator.yaml (issue 13 §4), run through the real promtool: the alerts
 * the issue asks for; `promtool check rules --lint-fatal` over its groups (extracted to rules.yaml, as the
 * prometheus-operator hands them to Prometheus) and over the chart's copy; `promtool test rules` over
 * test/manifests/prometheus-rules.test.yaml, where each alert has a case where it fires and one where it must not;
 * and mutants that show those cases can fail: each alert made never to fire must fail its firing cases, made to fire
 * always (no `for`) must fail its quiet cases.
 *
 * promtool is the pinned build of scripts/build-promtool.sh (scripts/setup.sh builds it). A missing binary FAILS
 * these tests with how to build it, in CI and elsewhere: they never skip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import yaml from 'js-yaml';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { ruleGroups, type RuleGroup } from './prometheus-rule.js';

const root = repoRoot();
const ALERTS = ['MetalLBAddressPoolExhausted', 'MetalLBAddressPoolHighUsage', 'MetalLBBGPSessionDown', 'MetalLBConfigStale',
  'MetalLBSpeakerDown', 'MetalLBSpeakerUnreachable', 'MetalLBSplitBrain'];

/** One `alert_rule_test` entry of promtool's unit-test format; `exp_alerts: []` means "must not fire". */
interface AlertCase { eval_time: string; alertname: string; exp_alerts: unknown[] }
/** One test group of the unit-test file (input series and the cases evaluated over them). */
interface TestGroup { name: string; alert_rule_test?: AlertCase[]; [key: string]: unknown }
interface TestFile { rule_files: string[]; tests: TestGroup[]; [key: string]: unknown }

function unitTests(): TestFile {
  return yaml.load(readFileSync(join(root, 'test', 'manifests', 'prometheus-rules.test.yaml'), 'utf8')) as TestFile;
}

/** The pinned promtool's path; throws (the test fails) with how to build it when it is not there. */
function requirePromtool(): string {
  const r = spawnSync('bash', [join(root, 'scripts', 'build-promtool.sh'), '--path'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const bin = r.stdout.trim();
  if (!existsSync(bin)) {
    throw new Error(`missing prerequisite: promtool is not built at ${bin}: run scripts/setup.sh (or bash scripts/build-promtool.sh; ` +
      'a cold build takes minutes, see docs/monitoring.md)');
  }
  return bin;
}

/** The Prometheus release the pin is (PROMETHEUS_VERSION in scripts/build-promtool.sh), e.g. `3.16.0`. */
function pinnedRelease(): string {
  const m = /^PROMETHEUS_VERSION=(\S+)/m.exec(readFileSync(join(root, 'scripts', 'build-promtool.sh'), 'utf8'));
  assert.ok(m, 'scripts/build-promtool.sh sets PROMETHEUS_VERSION');
  return m[1]!;
}

/** Runs promtool in `cwd`; exit code and both outputs. */
function promtool(bin: string, args: string[], cwd: string): { code: number | null; out: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd, timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
}

/** A temp dir holding rules.yaml (the given groups) and tests.yaml (the given unit tests); removed after `fn`. */
function withFiles<T>(groups: RuleGroup[], tests: TestFile, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'mlts-promtool-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), yaml.dump({ groups }, { lineWidth: -1 }));
    writeFileSync(join(dir, 'tests.yaml'), yaml.dump(tests, { lineWidth: -1 }));
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The unit tests reduced to `alert`'s cases that fire (`firing`) or must stay quiet (`!firing`). */
function casesOf(alert: string, firing: boolean): TestFile {
  const file = unitTests();
  const tests = file.tests
    .map((g) => ({ ...g, alert_rule_test: (g.alert_rule_test ?? []).filter((c) => c.alertname === alert && (c.exp_alerts.length > 0) === firing) }))
    .filter((g) => g.alert_rule_test.length > 0);
  return { ...file, tests };
}

/** The rule groups with `alert`'s rule changed by `edit`. */
function mutate(alert: string, edit: (rule: Record<string, unknown>) => void): RuleGroup[] {
  const groups = structuredClone(ruleGroups());
  const rule = groups.flatMap((g) => g.rules).find((r) => r.alert === alert);
  assert.ok(rule, `${alert} is in the PrometheusRule`);
  edit(rule as unknown as Record<string, unknown>);
  return groups;
}

test('PrometheusRule: the alerts the issue asks for, each with a firing and a quiet unit test', () => {
  const alerts = ruleGroups().flatMap((g) => g.rules.map((r) => r.alert)).filter((a): a is string => a !== undefined).sort();
  assert.deepEqual(alerts, ALERTS);
  for (const a of alerts) {
    assert.ok(casesOf(a, true).tests.length > 0, `${a} has a unit test where it fires`);
    assert.ok(casesOf(a, false).tests.length > 0, `${a} has a unit test where it must not fire`);
  }
});

test('promtool check rules --lint-fatal passes on the PrometheusRule groups and the chart\'s copy', () => {
  const bin = requirePromtool();
  const version = promtool(bin, ['--version'], root);
  assert.match(version.out, new RegExp(`^promtool, version ${pinnedRelease().replaceAll('.', '\\.')} `), 'the pinned build');
  withFiles(ruleGroups(), unitTests(), (dir) => {
    const chartGroups = join(root, 'charts', 'metallb-ts', 'files', 'prometheus-rule-groups.yaml');
    const r = promtool(bin, ['check', 'rules', '--lint=all', '--lint-fatal', 'rules.yaml', chartGroups], dir);
    assert.equal(r.code, 0, r.out);
    assert.equal([...r.out.matchAll(new RegExp(`SUCCESS: ${ALERTS.length} rules found`, 'g'))].length, 2, r.out);
  });
});

test('promtool test rules passes test/manifests/prometheus-rules.test.yaml', () => {
  const bin = requirePromtool();
  const tests = unitTests();
  assert.deepEqual(tests.rule_files, ['rules.yaml'], 'the unit tests read the extracted groups');
  withFiles(ruleGroups(), tests, (dir) => {
    const r = promtool(bin, ['test', 'rules', '--junit=junit.xml', 'tests.yaml'], dir);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
    // Every test group ran (promtool's JUnit report has one testcase per group, none failed).
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    assert.equal([...junit.matchAll(/<testcase /g)].length, tests.tests.length, junit);
    assert.doesNotMatch(junit, /<failure/, junit);
  });
});

test('each alert\'s unit tests can fail: a never-firing mutant fails its firing cases, an always-firing one its quiet cases', () => {
  const bin = requirePromtool();
  for (const alert of ALERTS) {
    for (const firing of [true, false]) {
      const cases = casesOf(alert, firing);
      const what = `${alert}'s ${firing ? 'firing' : 'quiet'} cases`;
      withFiles(ruleGroups(), cases, (dir) => {
        const r = promtool(bin, ['test', 'rules', 'tests.yaml'], dir);
        assert.equal(r.code, 0, `${what} pass on the real rules: ${r.out}`);
      });
      const mutant = mutate(alert, firing
        ? (rule) => { rule['expr'] = 'vector(1) == 0'; }
        : (rule) => { rule['expr'] = 'vector(1)'; delete rule['for']; });
      withFiles(mutant, cases, (dir) => {
        const r = promtool(bin, ['test', 'rules', 'tests.yaml'], dir);
        assert.equal(r.code, 1, `${what} fail when ${alert} ${firing ? 'never fires' : 'always fires'}: ${r.out}`);
        assert.match(r.out, new RegExp(`alertname: ${alert}`), r.out);
      });
    }
  }
});
