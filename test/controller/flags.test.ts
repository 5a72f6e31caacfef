import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseControllerFlags } from '../../src/controller/flags.js';

const noSaFile = () => undefined;

test('controller flags: v0.11/v0.12 manifest forms, env fallbacks and errors', () => {
  const table: Array<{ desc: string; argv: string[]; env?: Record<string, string>; sa?: string; want: Record<string, unknown> | string }> = [
    { desc: 'v0.11 manifest args + env', argv: ['--port=7472', '--config=config', '--log-level=info'],
      env: { METALLB_NAMESPACE: 'metallb-system', METALLB_ML_SECRET_NAME: 'memberlist', METALLB_DEPLOYMENT: 'controller' },
      want: { port: 7472, config: 'config', logLevel: 'info', namespace: 'metallb-system', mlSecretName: 'memberlist', deployment: 'controller', disableEpslices: false, enablePprof: false, lbClass: undefined, kubeconfig: undefined } },
    { desc: 'space-separated values, single dash, booleans', argv: ['-port', '9000', '--namespace', 'ns1', '--kubeconfig', '/k', '--enable-pprof', '--disable-epslices=false', '--lb-class=x'],
      want: { port: 9000, namespace: 'ns1', kubeconfig: '/k', enablePprof: true, disableEpslices: false, lbClass: 'x' } },
    { desc: 'flag beats env', argv: ['--namespace=a', '--ml-secret-name=s'], env: { METALLB_NAMESPACE: 'b', METALLB_ML_SECRET_NAME: 't' },
      want: { namespace: 'a', mlSecretName: 's' } },
    { desc: 'ServiceAccount namespace file as last resort (trimmed)', argv: [], sa: 'metallb-system\n', want: { namespace: 'metallb-system', port: 7472, config: 'config' } },
    { desc: 'no namespace anywhere', argv: [], want: 'failed to get namespace: set --namespace or METALLB_NAMESPACE' },
    { desc: 'unknown flag', argv: ['--namespace=a', '--bogus'], want: 'flag provided but not defined: -bogus' },
    { desc: 'missing value', argv: ['--namespace'], want: 'flag needs an argument: -namespace' },
    { desc: 'bad int', argv: ['--namespace=a', '--port=http'], want: 'invalid value "http" for flag -port: parse error' },
    { desc: 'bad bool', argv: ['--namespace=a', '--enable-pprof=yes'], want: 'invalid boolean value "yes" for -enable-pprof: parse error' },
    { desc: 'positional argument ends the flags, as flag.Parse', argv: ['--namespace=a', 'extra', '--port=1'], want: { namespace: 'a', port: 7472 } },
    { desc: 'negative port (Go\'s flag.Int parses it; the range check refuses it)', argv: ['--namespace=a', '--port=-1'], want: 'invalid --port -1' },
  ];
  for (const c of table) {
    const got = parseControllerFlags(c.argv, c.env ?? {}, c.sa === undefined ? noSaFile : () => c.sa);
    if (typeof c.want === 'string') {
      // A command line Go's flag.Parse refuses (exit 2) carries `usage`; a missing namespace (exit 1) does not.
      assert.deepEqual(got, { ok: false, error: c.want, ...(c.desc === 'no namespace anywhere' || c.desc.startsWith('negative port') ? {} : { usage: true }) }, c.desc);
      continue;
    }
    assert.ok(got.ok, `${c.desc}: ${got.ok ? '' : got.error}`);
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual((got.flags as unknown as Record<string, unknown>)[k], v, `${c.desc}: ${k}`);
  }
});
