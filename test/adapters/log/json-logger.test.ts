import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJsonLogger, parseLogLevel } from '../../../src/adapters/log/json-logger.js';

function capture(level: Parameters<typeof createJsonLogger>[0]['level']) {
  const lines: string[] = [];
  const logger = createJsonLogger({ level, write: (l) => lines.push(l), now: () => '2026-01-01T00:00:00.000Z' });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('each call is one JSON line with ts, level, caller, bindings and fields', () => {
  const { logger, lines, parsed } = capture('info');
  logger.child({ service: 'ns/a' }).info({ event: 'ipAllocated', ip: '192.168.1.230', msg: 'IP address assigned by controller' });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('}\n'));
  const line = parsed()[0]!;
  assert.deepEqual({ ...line, caller: 'X' }, {
    ts: '2026-01-01T00:00:00.000Z', level: 'info', caller: 'X', service: 'ns/a', event: 'ipAllocated', ip: '192.168.1.230', msg: 'IP address assigned by controller',
  });
  assert.match(String(line['caller']), /^log\/json-logger\.test\.js:\d+$/, 'caller is the call site, not the logger');
});

test('msg defaults to the event or op so every line has one; odd values never throw', () => {
  const { logger, parsed } = capture('all');
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  logger.error({ op: 'setConfig', error: 'bad' });
  logger.debug({ event: 'x', big: 10n, err: new Error('e1'), cyclic });
  const [a, b] = parsed();
  assert.equal(a!['msg'], 'setConfig');
  assert.deepEqual([b!['msg'], b!['big'], b!['err'], (b!['cyclic'] as Record<string, unknown>)['self']], ['x', '10', 'e1', '[circular]']);
});

test('levels filter as MetalLB --log-level does', () => {
  const table = [
    { level: 'all', want: ['debug', 'info', 'warn', 'error'] },
    { level: 'debug', want: ['debug', 'info', 'warn', 'error'] },
    { level: 'info', want: ['info', 'warn', 'error'] },
    { level: 'warn', want: ['warn', 'error'] },
    { level: 'error', want: ['error'] },
    { level: 'none', want: [] },
  ] as const;
  for (const { level, want } of table) {
    const { logger, parsed } = capture(level);
    logger.debug({ msg: 'd' }); logger.info({ msg: 'i' }); logger.warn({ msg: 'w' }); logger.error({ msg: 'e' });
    assert.deepEqual(parsed().map((l) => l['level']), want, level);
  }
});

test('parseLogLevel accepts the six names and reports MetalLB\'s error otherwise', () => {
  assert.deepEqual(parseLogLevel('warn'), { ok: true, level: 'warn' });
  assert.deepEqual(parseLogLevel('verbose'), { ok: false, error: 'failed to parse log level: verbose' });
});
