/**
 * Values across the wall between the teacher's checks (trusted process) and the student's code (sandboxed
 * process): a check calls a student's function through a proxy, its arguments go over as data and the
 * result comes back as data, rebuilt from scratch on the other side. Nothing that can run code crosses:
 * no functions, getters, prototypes or objects shared between the processes.
 *
 * What crosses: numbers (NaN and infinities included), strings, booleans, null, undefined, arrays, plain
 * objects, typed arrays, tensors (dtype, shape, data), and, as arguments only, the library objects checks
 * hand to students' functions (a GaussianDecoder as decoder-json/v1, ConstantMetric, HalfPlaneMetric,
 * StereographicSphere), rebuilt with the student's copy of the library. Anything else is refused with a
 * message that says what was passed.
 *
 * The encoding is JSON with tagged objects; binary data is base64. Tags are checked on decoding, so a
 * hostile encoder cannot make the decoder build anything but the plain values above.
 */
import type * as tfTypes from '@tensorflow/tfjs';

/** A value that cannot cross (a function, a class instance, too deep or too big). */
export class TransferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransferError';
  }
}

type Tf = typeof tfTypes;
type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Uint8ClampedArray;

const TYPED: Record<string, new (b: ArrayBufferLike, o: number, n: number) => TypedArray> = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Uint8ClampedArray,
};

const MAX_DEPTH = 32;
const TENSOR_DTYPES = new Set(['float32', 'int32', 'bool']);

/** The library classes a check may pass to a student's function, resolved lazily on each side. */
export interface LibraryCodecs {
  encode(value: object): unknown | undefined;
  decode(tag: string, body: Record<string, unknown>): unknown;
}

function isTensor(v: unknown): v is tfTypes.Tensor {
  const t = v as tfTypes.Tensor;
  return typeof v === 'object' && v !== null && Array.isArray(t.shape) && typeof t.dtype === 'string' && typeof t.dataSync === 'function' && typeof t.dispose === 'function';
}

function describe(v: unknown): string {
  if (typeof v === 'function') return `a function (${v.name || 'anonymous'})`;
  if (typeof v !== 'object' || v === null) return typeof v;
  const name = Object.getPrototypeOf(v)?.constructor?.name;
  return name ? `an instance of ${name}` : 'an object';
}

function b64(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

function fromB64<T extends TypedArray>(text: unknown, Type: new (b: ArrayBufferLike, o: number, n: number) => T, what: string): T {
  if (typeof text !== 'string') throw new TransferError(`${what}: expected base64 data`);
  const bytes = Buffer.from(text, 'base64');
  const size = (Type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) throw new TransferError(`${what}: ${bytes.byteLength} bytes is not a whole number of elements`);
  const copy = new Uint8Array(bytes.byteLength); // aligned, owned
  copy.set(bytes);
  return new Type(copy.buffer, 0, bytes.byteLength / size);
}

/** Encodes `value` for the other side; `where` names it in errors ("argument 2 of f"). */
export function encodeValue(value: unknown, where: string, library?: LibraryCodecs, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new TransferError(`${where}: nested more than ${MAX_DEPTH} levels deep`);
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : { $: 'num', v: String(value) };
    case 'string':
    case 'boolean':
      return value;
    case 'undefined':
      return { $: 'undef' };
    case 'object':
      break;
    default:
      throw new TransferError(`${where}: cannot pass ${describe(value)}; only numbers, strings, booleans, arrays, typed arrays, tensors and plain objects cross to and from the student's code`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((v, i) => encodeValue(v, `${where}[${i}]`, library, depth + 1));
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const type = (value as TypedArray).constructor.name;
    if (!(type in TYPED)) throw new TransferError(`${where}: cannot pass a ${type}`);
    return { $: 'typed', type, data: b64(value) };
  }
  if (isTensor(value)) {
    if (value.isDisposed) throw new TransferError(`${where}: the tensor was disposed`);
    if (!TENSOR_DTYPES.has(value.dtype)) throw new TransferError(`${where}: cannot pass a ${value.dtype} tensor`);
    const data = value.dataSync() as Float32Array | Int32Array | Uint8Array;
    const typed = value.dtype === 'float32' ? Float32Array.from(data) : Int32Array.from(data);
    return { $: 'tensor', dtype: value.dtype, shape: value.shape.slice(), data: b64(typed) };
  }
  const lib = library?.encode(value);
  if (lib !== undefined) return lib;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new TransferError(`${where}: cannot pass ${describe(value)}; only numbers, strings, booleans, arrays, typed arrays, tensors and plain objects cross`);
  const entries: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const desc = Object.getOwnPropertyDescriptor(value, key)!;
    if (!('value' in desc)) throw new TransferError(`${where}.${key}: a getter cannot cross`);
    entries[key] = encodeValue(desc.value, `${where}.${key}`, library, depth + 1);
  }
  return { $: 'obj', entries };
}

function defineData(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, not assignment: a key "__proto__" stays a plain key.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Decodes what encodeValue made on the other side. Tensors are built with `tf` of this side (the caller
 * owns them); library tags only when `library` is given (the student's side, for arguments).
 */
export function decodeValue(data: unknown, where: string, tf: Tf, library?: LibraryCodecs, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new TransferError(`${where}: nested more than ${MAX_DEPTH} levels deep`);
  if (data === null || typeof data === 'number' || typeof data === 'string' || typeof data === 'boolean') return data;
  if (Array.isArray(data)) return data.map((v, i) => decodeValue(v, `${where}[${i}]`, tf, library, depth + 1));
  if (typeof data !== 'object') throw new TransferError(`${where}: malformed value`);
  const o = data as Record<string, unknown>;
  switch (o.$) {
    case 'num':
      if (o.v !== 'NaN' && o.v !== 'Infinity' && o.v !== '-Infinity') throw new TransferError(`${where}: malformed number`);
      return Number(o.v);
    case 'undef':
      return undefined;
    case 'typed': {
      const Type = typeof o.type === 'string' && Object.hasOwn(TYPED, o.type) ? TYPED[o.type] : undefined;
      if (!Type) throw new TransferError(`${where}: unknown typed array ${String(o.type)}`);
      return fromB64(o.data, Type, where);
    }
    case 'tensor': {
      const dtype = o.dtype;
      if (typeof dtype !== 'string' || !TENSOR_DTYPES.has(dtype)) throw new TransferError(`${where}: unknown tensor dtype ${String(dtype)}`);
      const shape = o.shape;
      if (!Array.isArray(shape) || shape.length > 8 || !shape.every((s) => Number.isInteger(s) && s >= 0)) throw new TransferError(`${where}: malformed tensor shape`);
      const values = dtype === 'float32' ? fromB64(o.data, Float32Array, where) : fromB64(o.data, Int32Array, where);
      const size = (shape as number[]).reduce((a, b) => a * b, 1);
      if (values.length !== size) throw new TransferError(`${where}: a tensor of shape [${shape.join(', ')}] needs ${size} values, got ${values.length}`);
      return tf.tensor(values, shape as number[], dtype as 'float32' | 'int32' | 'bool');
    }
    case 'obj': {
      const entries = o.entries;
      if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) throw new TransferError(`${where}: malformed object`);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(entries)) defineData(out, key, decodeValue((entries as Record<string, unknown>)[key], `${where}.${key}`, tf, library, depth + 1));
      return out;
    }
    default:
      if (library && typeof o.$ === 'string' && o.$.startsWith('lib:')) return library.decode(o.$, o);
      throw new TransferError(`${where}: malformed value`);
  }
}

/** Tensors (and disposable library objects) in a decoded value, to dispose after a call. */
export function disposables(value: unknown, out: { dispose(): void }[] = [], depth = 0): { dispose(): void }[] {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return out;
  if (typeof (value as { dispose?: unknown }).dispose === 'function') {
    out.push(value as { dispose(): void });
    return out;
  }
  if (Array.isArray(value)) value.forEach((v) => disposables(v, out, depth + 1));
  else if (Object.getPrototypeOf(value) === Object.prototype) Object.values(value).forEach((v) => disposables(v, out, depth + 1));
  return out;
}
