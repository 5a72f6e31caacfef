/**
 * Runs property cases in a worker so the test's watchdog can stop a hang. Publishes the index of
 * the case in progress through shared memory and posts a summary at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCase } from './property-cases.js';

const { first, count, progress } = workerData as { first: number; count: number; progress: SharedArrayBuffer };
const cursor = new Int32Array(progress);
let valid = 0;
const failures: string[] = [];
for (let i = 0; i < count; i++) {
  Atomics.store(cursor, 0, i);
  let outcome;
  try {
    outcome = runCase(first + i);
  } catch (err) {
    outcome = { valid: false, failure: `seed ${first + i} threw: ${(err as Error).stack ?? String(err)}` };
  }
  if (outcome.valid) valid++;
  if (outcome.failure && failures.length < 5) failures.push(`seed ${first + i}: ${outcome.failure}`);
}
parentPort!.postMessage({ count, valid, failures });
