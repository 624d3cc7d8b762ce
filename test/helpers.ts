/** Shared test set-up: the backend, the shared fixtures beside the checkout, and leak checks. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/runtime/backend';

export async function setupBackend(): Promise<void> {
  await initBackend({ quiet: true });
}

/** ../shared/fixtures/<name> beside the repository, or null when this clone has no shared/ folder. */
export function sharedFixture(name: string): string | null {
  const dir = process.env.LSO_SHARED_DIR ?? path.resolve(__dirname, '..', '..', 'shared');
  const file = path.join(dir, 'fixtures', name);
  return fs.existsSync(file) ? file : null;
}

/** The skip reason for node:test when a shared fixture is absent. */
export function fixtureSkip(name: string): string | false {
  return sharedFixture(name) ? false : `../shared/fixtures/${name} is absent (it ships with CI, not with a clone)`;
}

/** Runs fn and asserts that the number of live tensors is the same afterwards. */
export async function expectNoLeak<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`tensor leak: ${before} tensors before, ${after} after`);
  return out;
}

/** Max |a - b| / max(|b|, floor) over two arrays. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return m;
}
