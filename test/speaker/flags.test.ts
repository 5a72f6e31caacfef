import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { memberlistEnabled, parseSpeakerFlags, speakerUsage, SPEAKER_FLAGS } from '../../src/speaker/flags.js';
import { repoRoot } from '../conformance/vectors.js';

const noSaFile = () => undefined;
/** The DaemonSet's args and env (manifests/metallb.yaml). */
const DAEMONSET_ARGS = ['--port=7472', '--config=config', '--log-level=info'];
const DAEMONSET_ENV = {
  METALLB_NODE_NAME: 'node-1', METALLB_HOST: '192.0.2.10', METALLB_ML_BIND_ADDR: '192.0.2.10',
  METALLB_ML_LABELS: 'app=metallb,component=speaker', METALLB_ML_SECRET_KEY: 'c2VjcmV0c2VjcmV0c2VjcmV0',
};

test('speaker flags: the DaemonSet args and env', () => {
  const got = parseSpeakerFlags(DAEMONSET_ARGS, DAEMONSET_ENV, () => 'metallb-system\n');
  assert.deepEqual(got, {
    ok: true,
    args: [],
    flags: {
      nodeName: 'node-1', host: '192.0.2.10', port: 7472, mlBindAddr: '192.0.2.10', mlBindPort: 7946,
      mlLabels: 'app=metallb,component=speaker', mlSecretKey: 'c2VjcmV0c2VjcmV0c2VjcmV0', config: 'config',
      namespace: 'metallb-system', kubeconfig: undefined, logLevel: 'info', disableEpslices: false, enablePprof: false, excludeLb: false,
      layer2CaptureBufferBytes: 32 * 1024 * 1024,
      bgpGracefulRestartSeconds: 120, bgpListen: undefined,
      ml: { probeIntervalMs: 100, probeTimeoutMs: 50, suspicionMult: 1.5, passiveRounds: 4, indirectChecks: 3, handoffGraceMs: 1000 },
    },
  });
});

test('speaker flags: flags beat env, every v0.11 flag is accepted, errors', () => {
  const all = parseSpeakerFlags(['--node-name=n', '--host=127.0.0.1', '--port', '9000', '--ml-bindaddr=a', '--ml-bindport=7947', '--ml-labels=x=y',
    '--ml-secret-key=k', '--config=cfg', '--namespace=ns', '--kubeconfig=/k', '--log-level=debug', '--disable-epslices', '--enable-pprof',
    '--layer2-capture-buffer-mib=8', '--bgp-graceful-restart-time=15', '--bgp-listen=[::]:1790', '--exclude-lb'], { METALLB_NODE_NAME: 'env-node', METALLB_NAMESPACE: 'env-ns' }, noSaFile);
  assert.ok(all.ok);
  assert.deepEqual({ ...all.flags }, {
    nodeName: 'n', host: '127.0.0.1', port: 9000, mlBindAddr: 'a', mlBindPort: 7947, mlLabels: 'x=y', mlSecretKey: 'k', config: 'cfg',
    namespace: 'ns', kubeconfig: '/k', logLevel: 'debug', disableEpslices: true, enablePprof: true, excludeLb: true, layer2CaptureBufferBytes: 8 * 1024 * 1024, bgpGracefulRestartSeconds: 15,
    bgpListen: { host: '::', port: 1790 },
    ml: { probeIntervalMs: 100, probeTimeoutMs: 50, suspicionMult: 1.5, passiveRounds: 4, indirectChecks: 3, handoffGraceMs: 1000 },
  });
  const cases: Array<[string[], Record<string, string>, string]> = [
    [[], { METALLB_NAMESPACE: 'ns' }, 'must specify --node-name or METALLB_NODE_NAME'],
    [[], { METALLB_NAMESPACE: 'ns', METALLB_NODE_NAME: '' }, 'must specify --node-name or METALLB_NODE_NAME'],
    [['--node-name=n'], {}, 'failed to get namespace: set --namespace or METALLB_NAMESPACE'],
    [['--node-name=n', '--namespace=ns', '--port=70000'], {}, 'invalid --port 70000'],
    [['--node-name=n', '--namespace=ns', '--layer2-capture-buffer-mib=0'], {}, 'invalid --layer2-capture-buffer-mib 0: want 1 to 4096'],
    [['--node-name=n', '--namespace=ns', '--bgp-graceful-restart-time=4096'], {}, 'invalid --bgp-graceful-restart-time 4096: want 0 to 4095 seconds'],
    [['--node-name=n', '--namespace=ns', '--lb-class=x'], {}, 'flag provided but not defined: -lb-class'],
    ...['::179', '0.0.0.0', '0.0.0.0:0', '0.0.0.0:65536', '[192.0.2.1]:179', 'node1:179', '[::1]179'].map((v): [string[], Record<string, string>, string] =>
      [['--node-name=n', '--namespace=ns', `--bgp-listen=${v}`], {}, `invalid --bgp-listen ${JSON.stringify(v)}: want ADDR:PORT or [IPv6]:PORT, e.g. 0.0.0.0:179 or [::]:179`]),
    [['--node-name=n', '--namespace=ns', '--ml-probe-interval=fast'], {}, 'invalid --ml-probe-interval: time: invalid duration "fast"'],
    [['--node-name=n', '--namespace=ns', '--ml-probe-interval=5ms'], {}, 'invalid --ml-probe-interval 5ms: want 10ms to 1m'],
    [['--node-name=n', '--namespace=ns', '--ml-probe-timeout=100ms'], {}, 'invalid --ml-probe-timeout 100ms: want at least 1ms and below --ml-probe-interval'],
    [['--node-name=n', '--namespace=ns', '--ml-suspicion-mult=0'], {}, 'invalid --ml-suspicion-mult 0: want 1 to 100'],
    [['--node-name=n', '--namespace=ns', '--ml-suspicion-mult=0.5'], {}, 'invalid --ml-suspicion-mult 0.5: want 1 to 100'],
    [['--node-name=n', '--namespace=ns', '--ml-suspicion-mult=1,5'], {}, 'invalid value "1,5" for flag -ml-suspicion-mult: parse error'],
    [['--node-name=n', '--namespace=ns', '--ml-indirect-checks=17'], {}, 'invalid --ml-indirect-checks 17: want 0 to 16'],
    [['--node-name=n', '--namespace=ns', '--ml-passive-rounds=101'], {}, 'invalid --ml-passive-rounds 101: want 0 to 100'],
    [['--node-name=n', '--namespace=ns', '--ml-passive-rounds=-1'], {}, 'invalid --ml-passive-rounds -1: want 0 to 100'],
    [['--node-name=n', '--namespace=ns', '--ml-suspicion-mult=-1'], {}, 'invalid --ml-suspicion-mult -1: want 1 to 100'],
    [['--node-name=n', '--namespace=ns', '--ml-suspicion-mult=1e3'], {}, 'invalid --ml-suspicion-mult 1000: want 1 to 100'],
    [['--node-name=n', '--namespace=ns', '--ml-passive-rounds=0x2'], {}, 'invalid value "0x2" for flag -ml-passive-rounds: parse error'],
    [['--node-name=n', '--namespace=ns', '--ml-handoff-grace=1m'], {}, 'invalid --ml-handoff-grace 1m: want 0 to 30s'],
    // Go's flag.Int takes a sign: a negative value is refused by the range check after parsing (exit 1), as v0.11's.
    [['--node-name=n', '--namespace=ns', '--port=-1'], {}, 'invalid --port -1'],
    [['--node-name=n', '--namespace=ns', '--ml-bindport=-1'], {}, 'invalid --ml-bindport -1'],
    [['--node-name=n', '--namespace=ns', '--bgp-graceful-restart-time=-1'], {}, 'invalid --bgp-graceful-restart-time -1: want 0 to 4095 seconds'],
    [['--node-name=n', '--namespace=ns', '--ml-indirect-checks=-1'], {}, 'invalid --ml-indirect-checks -1: want 0 to 16'],
    [['--node-name=n', '--namespace=ns', '--layer2-capture-buffer-mib=-5'], {}, 'invalid --layer2-capture-buffer-mib -5: want 1 to 4096'],
    [['--node-name=n', '--namespace=ns', '--port=99999999999999999999'], {}, 'invalid value "99999999999999999999" for flag -port: value out of range'],
    // A bad environment variable is no command-line error either: it names the variable, exit 1.
    [['--node-name=n', '--namespace=ns'], { METALLB_ML_BIND_PORT: 'abc' }, 'METALLB_ML_BIND_PORT: invalid value "abc" for flag -ml-bindport: parse error'],
    [['--node-name=n', '--namespace=ns'], { METALLB_ML_PROBE_INTERVAL: 'fast' }, 'METALLB_ML_PROBE_INTERVAL: invalid --ml-probe-interval: time: invalid duration "fast"'],
  ];
  // Errors of the command line itself (Go's flag.Parse fails: exit 2) carry `usage`; values refused after parsing (exit 1) do not.
  const parseError = /^(flag provided but not defined|flag needs an argument|invalid value|invalid boolean value|unexpected argument|invalid --[a-z-]+: time: invalid duration)/;
  for (const [argv, env, error] of cases) {
    assert.deepEqual(parseSpeakerFlags(argv, env, noSaFile), { ok: false, error, ...(parseError.test(error) ? { usage: true } : {}) }, argv.join(' '));
  }
  // Go's float syntax: sign and exponent, as flag.Float64 takes them.
  const goFloats = parseSpeakerFlags(['--node-name=n', '--namespace=ns', '--ml-suspicion-mult=1e1', '--ml-passive-rounds=+2.5'], {}, noSaFile);
  assert.ok(goFloats.ok);
  assert.equal(goFloats.flags.ml.suspicionMult, 10);
  assert.equal(goFloats.flags.ml.passiveRounds, 2.5);
  // The gossip knobs from env, as a DaemonSet would set them; memberlist needs both --ml-bindaddr and --ml-labels.
  const tuned = parseSpeakerFlags([], { ...DAEMONSET_ENV, METALLB_NAMESPACE: 'ns', METALLB_ML_PROBE_INTERVAL: '1s', METALLB_ML_PROBE_TIMEOUT: '500ms',
    METALLB_ML_SUSPICION_MULT: '2.5', METALLB_ML_PASSIVE_ROUNDS: '0', METALLB_ML_INDIRECT_CHECKS: '0', METALLB_ML_HANDOFF_GRACE: '0s' }, noSaFile);
  assert.ok(tuned.ok);
  assert.deepEqual(tuned.flags.ml, { probeIntervalMs: 1000, probeTimeoutMs: 500, suspicionMult: 2.5, passiveRounds: 0, indirectChecks: 0, handoffGraceMs: 0 });
  assert.equal(memberlistEnabled(tuned.flags), true);
  assert.equal(memberlistEnabled({ ...tuned.flags, mlLabels: '' }), false);
  assert.equal(memberlistEnabled({ ...tuned.flags, mlBindAddr: undefined }), false);
  for (const help of ['-h', '-help', '--help']) {
    const got = parseSpeakerFlags([help], {}, noSaFile);
    assert.ok(!got.ok && got.help === true, help);
  }
});

test('speaker -h, -help and --help print every flag with its default and env, exit 0; a missing node name exits 1', () => {
  const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  const usage = speakerUsage();
  for (const name of Object.keys(SPEAKER_FLAGS)) assert.match(usage, new RegExp(`^  -${name}\\b`, 'm'), name);
  assert.match(usage, /-port int\n\s+\tHTTP listening port for Prometheus metrics \(default 7472\)/);
  assert.match(usage, /env METALLB_NODE_NAME/);
  for (const help of ['-h', '-help', '--help']) {
    const r = spawnSync(process.execPath, [cli, 'speaker', help], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    assert.equal(r.status, 0, help);
    assert.equal(r.stdout, usage, help);
  }
  const r = spawnSync(process.execPath, [cli, 'speaker', ...DAEMONSET_ARGS], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', METALLB_NAMESPACE: 'metallb-system' } });
  assert.equal(r.status, 1);
  const line = JSON.parse(r.stdout.trim().split('\n')[0]!) as Record<string, unknown>;
  assert.equal(line['error'], 'must specify --node-name or METALLB_NODE_NAME');
});

test('speaker flags: --bgp-listen from METALLB_BGP_LISTEN, off by default', () => {
  const on = parseSpeakerFlags([], { ...DAEMONSET_ENV, METALLB_NAMESPACE: 'ns', METALLB_BGP_LISTEN: '192.0.2.10:179' }, noSaFile);
  assert.ok(on.ok);
  assert.deepEqual(on.flags.bgpListen, { host: '192.0.2.10', port: 179 });
  const off = parseSpeakerFlags(DAEMONSET_ARGS, DAEMONSET_ENV, () => 'ns');
  assert.ok(off.ok);
  assert.equal(off.flags.bgpListen, undefined);
});

test('speaker flags: --exclude-lb from METALLB_EXCLUDE_LB, off by default (v0.11 ignores the label)', () => {
  const base = { ...DAEMONSET_ENV, METALLB_NAMESPACE: 'ns' };
  const off = parseSpeakerFlags([], base, noSaFile);
  assert.ok(off.ok);
  assert.equal(off.flags.excludeLb, false);
  for (const v of ['true', '1', 'T']) {
    const on = parseSpeakerFlags([], { ...base, METALLB_EXCLUDE_LB: v }, noSaFile);
    assert.ok(on.ok, v);
    assert.equal(on.flags.excludeLb, true, v);
  }
  const flagBeatsEnv = parseSpeakerFlags(['--exclude-lb=false'], { ...base, METALLB_EXCLUDE_LB: 'true' }, noSaFile);
  assert.ok(flagBeatsEnv.ok);
  assert.equal(flagBeatsEnv.flags.excludeLb, false);
  const flag = parseSpeakerFlags(['-exclude-lb'], base, noSaFile);
  assert.ok(flag.ok);
  assert.equal(flag.flags.excludeLb, true);
  // Not a command-line error (no usage, exit 1): the error names the variable.
  assert.deepEqual(parseSpeakerFlags([], { ...base, METALLB_EXCLUDE_LB: 'yes' }, noSaFile), { ok: false, error: 'METALLB_EXCLUDE_LB: invalid boolean value "yes" for -exclude-lb: parse error' });
  assert.match(speakerUsage(), /-exclude-lb\n[\s\S]*exclude-from-external-load-balancers[\s\S]*METALLB_EXCLUDE_LB/);
});
