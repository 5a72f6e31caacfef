/**
 * Every subcommand answers -h, -help and --help with its flags, defaults and environment variables on stdout and
 * exit 0, as Go's flag package does (issue 8). Subcommands are discovered from `metallb-ts --help`, so a new one
 * (the speaker) is covered as soon as it is listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../conformance/vectors.js';

const cli = (args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), ...args], { encoding: 'utf8', timeout: 20_000 });

/** What each known subcommand's help must name (flags, a default, an environment variable). */
const EXPECT: Record<string, RegExp[]> = {
  controller: [/-port int/, /default 7472/, /-config string/, /default "config"/, /env METALLB_NAMESPACE/, /env METALLB_ML_SECRET_NAME/, /-lb-class string/],
  validate: [/--json/, /--print-schema/],
  migrate: [/--only-data/, /--from-cluster/, /metallb-system/],
  status: [/--kubeconfig/, /--json/, /--watch/, /metallb-system/],
};

test('every subcommand answers -h, -help and --help with its flags, exit 0', () => {
  const top = cli(['--help']);
  assert.equal(top.status, 0);
  const names = [...top.stdout.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!);
  for (const known of Object.keys(EXPECT)) assert.ok(names.includes(known), `${known} listed in ${top.stdout}`);
  for (const name of names) {
    for (const flag of ['-h', '-help', '--help']) {
      const r = cli([name, flag]);
      assert.equal(r.status, 0, `${name} ${flag}: exit ${r.status}, stderr ${r.stderr}`);
      assert.match(r.stdout, /-{1,2}[a-z]/, `${name} ${flag} lists flags`);
      for (const re of EXPECT[name] ?? []) assert.match(r.stdout, re, `${name} ${flag}`);
    }
  }
});

test('help says what each subcommand does and agrees across subcommands', () => {
  const top = cli(['--help']).stdout;
  assert.match(top, /^ {2}speaker +.*layer 2 and BGP/m, 'the speaker announces by BGP too');
  // The usage synopsis names every option the status help lists.
  const status = cli(['status', '--help']).stdout;
  const synopsis = status.slice(0, status.indexOf('\n\n'));
  for (const flag of [...status.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!)) {
    if (flag !== '--help') assert.ok(synopsis.includes(`[${flag}`), `${flag} in the synopsis:\n${synopsis}`);
  }
  // One wording, in loadKubeClients' order, for where the configuration comes from without --kubeconfig.
  const defaults = ['validate', 'status', 'migrate'].map((name) => /^ {2}--kubeconfig .*\((default: [^)]*)\)$/m.exec(cli([name, '--help']).stdout)?.[1]);
  assert.deepEqual(defaults, Array(3).fill('default: the in-cluster config in a Pod, else $KUBECONFIG, else ~/.kube/config'));
});

test('controller and speaker exit as v0.11 does: 2 with the usage on stderr for a bad command line, 1 for a bad value', () => {
  const env = { ...process.env, METALLB_NAMESPACE: 'metallb-system', METALLB_NODE_NAME: 'node1' };
  const run = (args: string[], extra: Record<string, string | undefined> = {}) =>
    spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), ...args], { encoding: 'utf8', timeout: 20_000, env: { ...env, ...extra } });
  for (const daemon of ['controller', 'speaker']) {
    for (const args of [['--bogus'], ['--port'], ['--port=http'], ['--log-level']]) {
      const r = run([daemon, ...args]);
      assert.equal(r.status, 2, `${daemon} ${args.join(' ')}: exit ${r.status}`);
      assert.match(r.stdout, /"op":"startup".*"msg":"invalid command line"/, `${daemon} ${args.join(' ')}: the JSON line`);
      assert.match(r.stderr, /^(flag provided but not defined|flag needs an argument|invalid value)[^\n]*\n[\s\S]*-port int/, `${daemon} ${args.join(' ')}: error and usage on stderr`);
    }
    const badLevel = run([daemon, '--log-level=loud']);
    assert.equal(badLevel.status, 1, `${daemon} --log-level=loud`);
    assert.equal(badLevel.stderr, '', 'no usage for a bad value');
  }
  assert.equal(run(['speaker', '--ml-probe-interval=fast']).status, 2, 'a duration flag Go could not parse');
  assert.equal(run(['speaker', '--ml-probe-interval=5ms']).status, 1, 'a parsed duration out of range');
  assert.equal(run(['speaker'], { METALLB_NODE_NAME: undefined }).status, 1, 'no node name: exit 1 as v0.11');
  // Go's flag.Parse stops at the first non-flag and v0.11 runs on: ours too (it then fails for want of a cluster).
  const stray = run(['controller', 'extra', '--bogus'], { KUBECONFIG: '/nonexistent', HOME: '/nonexistent' });
  assert.match(stray.stdout, /"args":\["extra","--bogus"\],"msg":"arguments after the flags are ignored/, stray.stdout);
  assert.notEqual(stray.status, 2, 'not a command-line error');
  assert.equal(run(['speaker', '--bgp-graceful-restart-time=-1']).status, 1, 'a negative int parses as Go\'s flag.Int does; its range is refused after parsing');
  const badEnv = run(['speaker'], { METALLB_ML_BIND_PORT: 'abc' });
  assert.equal(badEnv.status, 1, 'a bad METALLB_* value is no command-line error: v0.11 reads them as strings after flag.Parse');
  assert.equal(badEnv.stderr, '', 'no usage for a bad environment variable');
  assert.match(badEnv.stdout, /"error":"METALLB_ML_BIND_PORT: invalid value/);
});
