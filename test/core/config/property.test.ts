/**
 * Property test over 10,000 generated and mutated configs (seeded, reproducible): at least 30%
 * valid; valid ones round-trip (dump → parse gives an equal Config); targeted mutations return an
 * error whose line:col lies inside the mutated node; nothing throws. The cases run in a worker;
 * a watchdog fails the test if one case makes no progress for 10 s (a hang), naming its seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

const CASES = 10_000;
const FIRST_SEED = Number(process.env['PROPERTY_SEED'] ?? 1);
const HANG_MS = 10_000;

interface Summary {
  readonly count: number;
  readonly valid: number;
  readonly failures: readonly string[];
}

function runInWorker(): Promise<Summary> {
  const progress = new SharedArrayBuffer(4);
  const cursor = new Int32Array(progress);
  const worker = new Worker(new URL('./property-worker.js', import.meta.url), {
    workerData: { first: FIRST_SEED, count: CASES, progress },
  });
  return new Promise((resolve, reject) => {
    let last = -1;
    const watchdog = setInterval(() => {
      const now = Atomics.load(cursor, 0);
      if (now === last) {
        clearInterval(watchdog);
        void worker.terminate();
        reject(new Error(`property case with seed ${FIRST_SEED + now} made no progress for ${HANG_MS / 1000} s (hang)`));
      }
      last = now;
    }, HANG_MS);
    worker.once('message', (summary: Summary) => {
      clearInterval(watchdog);
      resolve(summary);
    });
    worker.once('error', (err) => {
      clearInterval(watchdog);
      reject(err);
    });
  });
}

test(`config property test: ${CASES} generated and mutated configs`, async () => {
  const summary = await runInWorker();
  console.log(`property: ${summary.count} configs, ${summary.valid} valid (${((100 * summary.valid) / summary.count).toFixed(1)}%)`);
  assert.deepEqual(summary.failures, []);
  assert.equal(summary.count, CASES);
  assert.ok(summary.valid >= 0.3 * CASES, `at least 30% valid (got ${summary.valid})`);
});
