/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type
 * byte, a dimension count, then each dimension as a big-endian uint32, then the values, big-endian,
 * row-major. Files are read raw or gzipped (recognised by content, not by name, since mirrors and users
 * rename files freely).
 */
import * as fs from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { writeFileAtomic } from '../util/atomic';
import { InputError, expectInput } from '../util/errors';

export type IdxDataType = 'ubyte' | 'sbyte' | 'short' | 'int' | 'float' | 'double';
export type IdxValues = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** An n-dimensional array as stored in an IDX file. */
export interface IdxArray {
  type: IdxDataType;
  /** Sizes, outermost first, e.g. [60000, 28, 28]. */
  dims: number[];
  /** product(dims) values, row-major. */
  data: IdxValues;
}

interface IdxTypeInfo {
  type: IdxDataType;
  code: number;
  bytes: number;
  make: (n: number) => IdxValues;
  read: (view: DataView, offset: number) => number;
  write: (view: DataView, offset: number, value: number) => void;
}

const IDX_TYPES: readonly IdxTypeInfo[] = [
  {
    type: 'ubyte', code: 0x08, bytes: 1, make: (n) => new Uint8Array(n),
    read: (v, o) => v.getUint8(o), write: (v, o, x) => v.setUint8(o, x),
  },
  {
    type: 'sbyte', code: 0x09, bytes: 1, make: (n) => new Int8Array(n),
    read: (v, o) => v.getInt8(o), write: (v, o, x) => v.setInt8(o, x),
  },
  {
    type: 'short', code: 0x0b, bytes: 2, make: (n) => new Int16Array(n),
    read: (v, o) => v.getInt16(o), write: (v, o, x) => v.setInt16(o, x),
  },
  {
    type: 'int', code: 0x0c, bytes: 4, make: (n) => new Int32Array(n),
    read: (v, o) => v.getInt32(o), write: (v, o, x) => v.setInt32(o, x),
  },
  {
    type: 'float', code: 0x0d, bytes: 4, make: (n) => new Float32Array(n),
    read: (v, o) => v.getFloat32(o), write: (v, o, x) => v.setFloat32(o, x),
  },
  {
    type: 'double', code: 0x0e, bytes: 8, make: (n) => new Float64Array(n),
    read: (v, o) => v.getFloat64(o), write: (v, o, x) => v.setFloat64(o, x),
  },
];

const SUPPORTED = IDX_TYPES.map((t) => `0x${hex(t.code)} ${t.type}`).join(', ');

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

function typeInfo(type: IdxDataType): IdxTypeInfo {
  const info = IDX_TYPES.find((t) => t.type === type);
  if (!info) throw new RangeError(`unknown IDX type ${type}`);
  return info;
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Gunzips when the bytes are gzip, otherwise returns them as they are. */
export function maybeGunzip(bytes: Uint8Array, nameForErrors: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new InputError(nameForErrors, `starts like gzip but does not decompress (${(err as Error).message})`);
  }
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Parses IDX bytes (raw or gzip). `nameForErrors` (usually the file) starts every error message. */
export function parseIdx(bytes: Uint8Array, nameForErrors: string): IdxArray {
  const raw = maybeGunzip(bytes, nameForErrors);
  const where = nameForErrors;
  expectInput(raw.length >= 4, where, `truncated IDX header: expected at least 4 bytes, got ${raw.length}`);
  expectInput(
    raw[0] === 0 && raw[1] === 0,
    where,
    `wrong magic number: expected bytes 00 00 <type> <ndims>, got ${[...raw.subarray(0, 4)].map(hex).join(' ')}` +
      ' (not an IDX file?)',
  );
  const info = IDX_TYPES.find((t) => t.code === raw[2]);
  expectInput(info, where, `unsupported IDX data type 0x${hex(raw[2])} (supported: ${SUPPORTED})`);
  const ndims = raw[3];
  expectInput(ndims >= 1, where, 'IDX header declares 0 dimensions');
  const headerBytes = 4 + 4 * ndims;
  expectInput(
    raw.length >= headerBytes,
    where,
    `truncated IDX header: expected ${headerBytes} bytes for ${ndims} dimensions, got ${raw.length}`,
  );
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i));
  const count = product(dims);
  const expected = headerBytes + count * info.bytes;
  expectInput(
    raw.length === expected,
    where,
    `${raw.length < expected ? 'truncated' : 'trailing bytes'}: ` +
      `expected ${expected} bytes for ${info.type} [${dims.join(', ')}], got ${raw.length}`,
  );
  return { type: info.type, dims, data: decodeValues(view, headerBytes, count, info) };
}

function decodeValues(view: DataView, offset: number, count: number, info: IdxTypeInfo): IdxValues {
  if (info.bytes === 1) {
    // One-byte values need no byte swapping: copy, so the result does not pin the (possibly pooled) buffer.
    const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, count).slice();
    return info.type === 'ubyte' ? bytes : new Int8Array(bytes.buffer);
  }
  const out = info.make(count);
  for (let i = 0; i < count; i++) out[i] = info.read(view, offset + i * info.bytes);
  return out;
}

/** Reads an IDX file, raw or gzipped. */
export function readIdx(file: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new InputError(file, `cannot read IDX file (${reason})`);
  }
  return parseIdx(bytes, file);
}

/** Serialises to raw (uncompressed) IDX bytes. */
export function encodeIdx(array: IdxArray, nameForErrors = 'IDX array'): Uint8Array {
  const info = typeInfo(array.type);
  const where = nameForErrors;
  const ndims = array.dims.length;
  expectInput(ndims >= 1 && ndims <= 255, where, `expected 1..255 dimensions, got ${ndims}`);
  expectInput(
    array.dims.every((d) => Number.isInteger(d) && d >= 0 && d <= 0xffffffff),
    where,
    `dimensions must be integers in 0..2^32-1, got [${array.dims.join(', ')}]`,
  );
  const count = product(array.dims);
  expectInput(
    array.data.length === count,
    where,
    `data has ${array.data.length} values but dims [${array.dims.join(', ')}] need ${count}`,
  );
  const headerBytes = 4 + 4 * array.dims.length;
  const out = new Uint8Array(headerBytes + count * info.bytes);
  const view = new DataView(out.buffer);
  out[2] = info.code;
  out[3] = array.dims.length;
  array.dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  for (let i = 0; i < count; i++) info.write(view, headerBytes + i * info.bytes, array.data[i]);
  return out;
}

/**
 * Writes an IDX file atomically (a reader never sees half a file). Gzipped when `gzip` is set, which
 * defaults to whether the name ends in `.gz`.
 */
export function writeIdx(file: string, array: IdxArray, opts: { gzip?: boolean } = {}): void {
  const raw = encodeIdx(array, file);
  const gzip = opts.gzip ?? file.endsWith('.gz');
  writeFileAtomic(file, gzip ? gzipSync(raw) : raw);
}
