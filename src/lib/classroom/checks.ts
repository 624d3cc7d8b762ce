/**
 * Assertions for the check cells of assignments (classroom/), in the spirit of nbgrader's `assert`s but
 * with messages a student can act on: what was checked, what came out, what was expected, where they
 * differ most and, from the teacher, a hint at the usual mistake.
 */
import * as tf from '@tensorflow/tfjs';

/** A failed check: its message is what the grading report shows the student. */
export class CheckFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailure';
  }
}

/** What checks compare: numbers, flat or nested arrays of them, typed arrays or tensors. */
export type CheckValue = number | ArrayLike<number> | readonly CheckValue[] | tf.Tensor;

export interface CloseOptions {
  /** Relative tolerance, default 1e-4. */
  rtol?: number;
  /** Absolute tolerance, default 1e-6. */
  atol?: number;
  /** The usual mistake behind a failure, appended to the message. */
  hint?: string;
}

function fail(what: string, problem: string, hint?: string): never {
  throw new CheckFailure(`${what}: ${problem}${hint ? `\nHint: ${hint}` : ''}`);
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (x instanceof tf.Tensor) return `a tensor of shape [${x.shape.join(', ')}]`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  return typeof x;
}

/** Flat values and shape; null when `x` is not numeric. */
function flatten(x: unknown): { data: number[]; shape: number[] } | null {
  if (typeof x === 'number') return { data: [x], shape: [] };
  if (x instanceof tf.Tensor) {
    if (x.isDisposed) return null;
    return { data: Array.from(x.dataSync() as ArrayLike<number>), shape: x.shape.slice() };
  }
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return { data: Array.from(x as unknown as ArrayLike<number>), shape: [(x as unknown as ArrayLike<number>).length] };
  if (Array.isArray(x)) {
    const parts = x.map(flatten);
    if (parts.some((p) => p === null)) return null;
    const inner = parts[0]?.shape ?? [];
    if (parts.some((p) => p!.shape.join() !== inner.join())) return null; // ragged
    return { data: parts.flatMap((p) => p!.data), shape: [x.length, ...inner] };
  }
  return null;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(5);
}

function preview(data: number[]): string {
  const shown = data.slice(0, 8).map(fmt).join(', ');
  return `[${shown}${data.length > 8 ? `, ... (${data.length} values)` : ''}]`;
}

/** Index [i, j, ...] of a flat position in `shape`. */
function multiIndex(flat: number, shape: number[]): string {
  const idx: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(flat % shape[k]);
    flat = Math.floor(flat / shape[k]);
  }
  return `[${idx.join(', ')}]`;
}

/** Asserts that a tensor (or array) has `shape`. */
export function expectShape(actual: unknown, shape: readonly number[], what: string, hint?: string): void {
  const got = actual instanceof tf.Tensor ? actual.shape : flatten(actual)?.shape;
  if (!got) fail(what, `expected a tensor of shape [${shape.join(', ')}], got ${describe(actual)}`, hint);
  if (got.join() !== shape.join()) fail(what, `expected shape [${shape.join(', ')}], got [${got.join(', ')}]`, hint);
}

/** Asserts |actual - expected| <= atol + rtol |expected| elementwise, with equal shapes. */
export function expectClose(actual: unknown, expected: CheckValue, what: string, opts: CloseOptions = {}): void {
  const rtol = opts.rtol ?? 1e-4;
  const atol = opts.atol ?? 1e-6;
  const a = flatten(actual);
  const e = flatten(expected);
  if (!e) throw new Error(`expectClose(${what}): the expected value is not numeric`);
  if (!a) fail(what, `expected numbers of shape [${e.shape.join(', ')}], got ${describe(actual)}`, opts.hint);
  // A scalar compares with a one-element array: shapes are a convenience there, not the point.
  if (a.data.length !== e.data.length || (a.shape.join() !== e.shape.join() && e.data.length !== 1)) {
    fail(what, `expected shape [${e.shape.join(', ')}], got [${a.shape.join(', ')}]`, opts.hint);
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < e.data.length; i++) {
    const diff = Math.abs(a.data[i] - e.data[i]);
    const excess = Number.isNaN(diff) ? Infinity : diff - (atol + rtol * Math.abs(e.data[i]));
    if (excess > worstExcess || (Number.isNaN(a.data[i]) && worst < 0)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst < 0) return;
  const at = e.shape.length ? ` at ${multiIndex(worst, e.shape)}` : '';
  fail(
    what,
    `got ${a.data.length > 1 ? preview(a.data) : fmt(a.data[0])}, expected ${e.data.length > 1 ? preview(e.data) : fmt(e.data[0])}` +
      (e.data.length > 1 ? `; the largest difference is${at}: ${fmt(a.data[worst])} instead of ${fmt(e.data[worst])}` : '') +
      ` (tolerance ${atol} + ${rtol} x |expected|)`,
    opts.hint,
  );
}

/** Asserts a condition; `message` says what should hold (and why it matters). */
export function expectThat(condition: unknown, what: string, message: string, hint?: string): asserts condition {
  if (!condition) fail(what, message, hint);
}

/**
 * Calls fn, disposes the tensors it returns, and asserts that no other tensor was left behind (a missing
 * tf.tidy): a leak per call would exhaust memory in a training loop.
 */
export function expectNoTensorLeak<T>(fn: () => T, what: string): void {
  const before = tf.memory().numTensors;
  const out = fn();
  tf.dispose(out as tf.TensorContainer);
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) fail(what, `${leaked} intermediate tensor(s) were left allocated`, 'wrap the tensor work in tf.tidy(() => ...) and return the result from it');
}
