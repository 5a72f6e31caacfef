import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoFlags, type FlagSpec } from '../../../src/core/go/flags.js';

const SPECS: Record<string, FlagSpec> = {
  port: { kind: 'int', default: 7472 },
  host: { kind: 'string', env: 'METALLB_HOST' },
  'disable-epslices': { kind: 'bool', default: false },
};

test('Go flag forms: -name, --name, --name=value, --name value; bools without a value', () => {
  for (const argv of [['-port', '1'], ['--port', '1'], ['--port=1'], ['-port=1']]) {
    const r = parseGoFlags(argv, SPECS, {});
    assert.deepEqual(r.ok && r.flags['port'], 1, argv.join(' '));
  }
  const b = parseGoFlags(['--disable-epslices'], SPECS, {});
  assert.equal(b.ok && b.flags['disable-epslices'], true);
  const f = parseGoFlags(['--disable-epslices=false'], SPECS, {});
  assert.equal(f.ok && f.flags['disable-epslices'], false);
});

test('a flag beats its environment variable, which beats the default; empty env counts as unset', () => {
  const flag = parseGoFlags(['--host=a'], SPECS, { METALLB_HOST: 'b' });
  assert.equal(flag.ok && flag.flags['host'], 'a');
  const env = parseGoFlags([], SPECS, { METALLB_HOST: 'b' });
  assert.equal(env.ok && env.flags['host'], 'b');
  const empty = parseGoFlags([], SPECS, { METALLB_HOST: '' });
  assert.equal(empty.ok && empty.flags['host'], undefined);
  const dflt = parseGoFlags([], SPECS, {});
  assert.equal(dflt.ok && dflt.flags['port'], 7472);
});

test('errors use Go flag package wording', () => {
  assert.deepEqual(parseGoFlags(['--nope'], SPECS, {}), { ok: false, usage: true, error: 'flag provided but not defined: -nope' });
  assert.deepEqual(parseGoFlags(['--port'], SPECS, {}), { ok: false, usage: true, error: 'flag needs an argument: -port' });
  assert.deepEqual(parseGoFlags(['--port=x'], SPECS, {}), { ok: false, usage: true, error: 'invalid value "x" for flag -port: parse error' });
  assert.deepEqual(parseGoFlags(['--disable-epslices=maybe'], SPECS, {}), { ok: false, usage: true, error: 'invalid boolean value "maybe" for -disable-epslices: parse error' });
  assert.deepEqual(parseGoFlags(['---x'], SPECS, {}), { ok: false, usage: true, error: 'bad flag syntax: ---x' });
  assert.deepEqual(parseGoFlags(['-=x'], SPECS, {}), { ok: false, usage: true, error: 'bad flag syntax: -=x' });
});

test('flags end as flag.Parse ends them: at the first non-flag, at "-", or after "--"; the rest is returned unparsed', () => {
  const cases: Array<[string[], number, boolean, string[]]> = [
    [['stray'], 7472, false, ['stray']],
    // A bool takes no separate value: "false" is the first argument, and -port after it is never parsed (as in Go).
    [['--disable-epslices', 'false', '--port=1'], 7472, true, ['false', '--port=1']],
    [['--port=9', '-', '--port=1'], 9, false, ['-', '--port=1']],
    [['--port=9', '--', '--port=1'], 9, false, ['--port=1']],
    [['--port', '9', '--'], 9, false, []],
  ];
  for (const [argv, port, epslices, args] of cases) {
    const r = parseGoFlags(argv, SPECS, {});
    assert.ok(r.ok, argv.join(' '));
    assert.deepEqual([r.flags['port'], r.flags['disable-epslices'], r.args], [port, epslices, args], argv.join(' '));
  }
});

test('ints take Go\'s flag.Int syntax (strconv.ParseInt base 0): sign, 0x/0o/0b/0 prefixes, _ separators; int64 range', () => {
  const port = (v: string) => { const r = parseGoFlags([`--port=${v}`], SPECS, {}); return r.ok ? r.flags['port'] : r.error; };
  for (const [text, want] of [['-1', -1], ['+80', 80], ['0x1d30', 7472], ['0X1D30', 7472], ['0o17', 15], ['017', 15], ['0b101', 5], ['1_000', 1000], ['0x_1f', 31], ['0', 0], ['-0', 0]] as const) {
    assert.equal(port(text), want, text);
  }
  for (const text of ['', '-', '+-1', '1_', '_1', '1__0', '08', '0x', '0b2', '1.5', '1e3', ' 1', 'http']) {
    assert.equal(port(text), `invalid value "${text}" for flag -port: parse error`, JSON.stringify(text));
  }
  assert.equal(port('9223372036854775807'), 9223372036854775807);
  assert.equal(port('9223372036854775808'), 'invalid value "9223372036854775808" for flag -port: value out of range');
  assert.equal(port('-0x8000000000000001'), 'invalid value "-0x8000000000000001" for flag -port: value out of range');
});

test('an environment variable that does not parse is a value error naming the variable, not a command-line error', () => {
  const specs: Record<string, FlagSpec> = { ...SPECS, 'ml-bindport': { kind: 'int', env: 'METALLB_ML_BIND_PORT', default: 7946 }, 'exclude-lb': { kind: 'bool', env: 'METALLB_EXCLUDE_LB', default: false } };
  assert.deepEqual(parseGoFlags([], specs, { METALLB_ML_BIND_PORT: 'abc' }), { ok: false, error: 'METALLB_ML_BIND_PORT: invalid value "abc" for flag -ml-bindport: parse error' });
  assert.deepEqual(parseGoFlags([], specs, { METALLB_EXCLUDE_LB: 'yes' }), { ok: false, error: 'METALLB_EXCLUDE_LB: invalid boolean value "yes" for -exclude-lb: parse error' });
  assert.deepEqual(parseGoFlags(['--ml-bindport=abc'], specs, {}), { ok: false, usage: true, error: 'invalid value "abc" for flag -ml-bindport: parse error' });
  const flagWins = parseGoFlags(['--ml-bindport=7947'], specs, { METALLB_ML_BIND_PORT: 'abc' });
  assert.ok(flagWins.ok && flagWins.flags['ml-bindport'] === 7947, 'a flag beats a bad env value');
  const env = parseGoFlags([], specs, { METALLB_ML_BIND_PORT: '7948' });
  assert.ok(env.ok && env.flags['ml-bindport'] === 7948 && env.flags['port'] === 7472);
  // Durations (flag.Duration) follow the same rules: a command-line error with usage, or a value error naming the variable.
  const grace: Record<string, FlagSpec> = { 'ml-handoff-grace': { kind: 'duration', env: 'METALLB_ML_HANDOFF_GRACE', default: '1s' } };
  assert.deepEqual(parseGoFlags(['--ml-handoff-grace=soon'], grace, {}), { ok: false, usage: true, error: 'invalid --ml-handoff-grace: time: invalid duration "soon"' });
  assert.deepEqual(parseGoFlags([], grace, { METALLB_ML_HANDOFF_GRACE: 'soon' }), { ok: false, error: 'METALLB_ML_HANDOFF_GRACE: invalid --ml-handoff-grace: time: invalid duration "soon"' });
  const dflt = parseGoFlags([], grace, {});
  assert.ok(dflt.ok && dflt.flags['ml-handoff-grace'] === '1s');
});
