/**
 * The checks every command makes before it computes anything, in one place: where the output goes
 * (resolved, not over an input, writable), whether the result fits one JSON output, and how many threads
 * the machine has. Each failure is an InputError naming the option, printed as one line with exit code 2.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { refuseOutputOverInput, resolveOutputTarget } from '../lib/util/atomic';
import { threadCount } from '../lib/runtime/pool';
import { InputError } from '../lib/util/errors';

/**
 * The most JSON one call writes. V8 strings end at 2^29 - 24 characters (512 MiB), and the nested arrays
 * of numbers behind the text take as much again; half of that keeps a call well inside a default heap.
 */
export const MAX_JSON_OUTPUT_BYTES = 256 * 2 ** 20;

/** Characters of the longest JSON number of a float32 printed with 9 digits, and its comma: -1.23456789e-38, */
export const FLOAT32_JSON_CHARS = 16;
/** The same for a float64 printed in full: -1.2345678901234567e-100, */
export const FLOAT64_JSON_CHARS = 25;

/**
 * Checks `--out` before any compute: its target (links followed) is a file name, a FIFO or a character
 * device (see util/atomic.ts); it is none of the input files; and the folder it goes into can be written.
 * `inputs` maps option names to the files they name.
 */
export function checkOutput(out: string | undefined, inputs: Record<string, string>): void {
  if (out === undefined) return;
  const target = resolveOutputTarget(out, '--out');
  refuseOutputOverInput(out, '--out', inputs);
  if (target.kind === 'stream') {
    if (!canWrite(target.path)) throw new InputError('--out', `${out} is not writable`);
    return;
  }
  // The nearest folder that exists must be a folder we may write in (missing ones below it are created).
  let dir = path.dirname(target.path);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  if (!fs.statSync(dir).isDirectory()) throw new InputError('--out', `${out}: ${dir} is not a folder`);
  if (!canWrite(dir)) throw new InputError('--out', `${out}: cannot create files in ${dir} (permission denied)`);
}

function canWrite(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses a result whose JSON would exceed MAX_JSON_OUTPUT_BYTES, before the compute: `bytes` is an upper
 * bound of its size, `items` the count the user controls (named `option`, e.g. '--points') and
 * `bytesPerItem` what each adds, so the message can say how many fit.
 */
export function checkJsonOutputSize(bytes: number, option: string, items: { count: number; noun: string; bytesPerItem: number }): void {
  if (bytes <= MAX_JSON_OUTPUT_BYTES) return;
  const mb = (x: number) => `${Math.ceil(x / 2 ** 20)} MB`;
  const fit = Math.max(1, Math.floor(MAX_JSON_OUTPUT_BYTES / items.bytesPerItem));
  throw new InputError(
    option,
    `${items.count} ${items.noun} would write up to ${mb(bytes)} of JSON, more than the ${mb(MAX_JSON_OUTPUT_BYTES)} one call writes to --out or stdout; ` +
      `pass at most ${fit} ${items.noun} per call (there is no binary .npy output yet)`,
  );
}

/** The most threads --threads and LSO_THREADS may ask for: the cores this process may use. */
export function maxThreads(): number {
  return os.availableParallelism();
}

/** LSO_THREADS (else all cores), refused when it asks for more threads than there are cores. */
export function threadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = threadCount(env);
  if (n > maxThreads()) throw new InputError('LSO_THREADS', `expected at most ${maxThreads()} (the cores this process may use), got ${n}`);
  return n;
}

/** A number in (0, 1) given as text, e.g. a tolerance. */
export function numberInOpenUnitInterval(raw: string, option: string): number {
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x) || x <= 0 || x >= 1) throw new InputError(option, `expected a number in (0, 1), got ${JSON.stringify(raw)}`);
  return x;
}
