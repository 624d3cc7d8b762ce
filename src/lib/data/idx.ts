/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type
 * byte, a dimension count, then each dimension as a big-endian uint32, then the values, big-endian,
 * row-major. Files are read raw or gzipped (recognised by content, not by name, since mirrors and users
 * rename files freely).
 */
import * as fs from 'node:fs';
import { gunzipSync, gzipSync, inflateRawSync, constants as zlibConstants } from 'node:zlib';
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

/**
 * The largest IDX file accepted, header included (2 GiB; the largest MNIST file is 47 MB). A header
 * declaring more is refused before anything is allocated.
 */
export const MAX_IDX_BYTES = 2 ** 31;

/** The offset of the deflate data after a gzip member header (RFC 1952), or null when the header is cut short. */
function gzipDataOffset(bytes: Uint8Array): number | null {
  if (bytes.length < 10) return null;
  const flags = bytes[3];
  let at = 10;
  if (flags & 0x04) {
    if (bytes.length < at + 2) return null;
    at += 2 + (bytes[at] | (bytes[at + 1] << 8)); // FEXTRA
  }
  for (const flag of [0x08, 0x10]) {
    if (!(flags & flag)) continue; // FNAME, FCOMMENT: zero-terminated
    while (at < bytes.length && bytes[at] !== 0) at++;
    at++;
  }
  if (flags & 0x02) at += 2; // FHCRC
  return at <= bytes.length ? at : null;
}

/**
 * The first bytes of the gzipped content, enough for an IDX header (at most 4 + 4 * 255 bytes), from a
 * prefix of the deflate data: deflate expands at most ~1032-fold, so this inflates at most ~4 MB.
 */
function gunzipHead(bytes: Uint8Array, nameForErrors: string): Uint8Array {
  const at = gzipDataOffset(bytes);
  if (at === null) throw new InputError(nameForErrors, 'starts like gzip but does not decompress (its gzip header is cut short)');
  const want = 4 + 4 * 255;
  let head = new Uint8Array(0);
  for (let k = 64; ; k *= 4) {
    const prefix = bytes.subarray(at, Math.min(bytes.length, at + k));
    try {
      head = inflateRawSync(prefix, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (err) {
      throw new InputError(nameForErrors, `starts like gzip but does not decompress (${(err as Error).message})`);
    }
    if (head.length >= want || at + k >= bytes.length || k >= 4096) return head;
  }
}

/** The byte size an IDX header declares, or null when `head` is too short to tell (checked in full later). */
function declaredIdxBytes(head: Uint8Array): number | null {
  if (head.length < 4) return null;
  const info = IDX_TYPES.find((t) => t.code === head[2]);
  const ndims = head[3];
  const headerBytes = 4 + 4 * ndims;
  if (!info || head.length < headerBytes) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return headerBytes + product(Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i))) * info.bytes;
}

/**
 * Gunzips IDX bytes with a bound derived from their own header, otherwise returns raw bytes as they are.
 * The header is inflated first (from a short prefix); the whole stream is then inflated with its
 * declared size as the limit, so a small .gz that inflates far beyond its header (a gzip bomb) is refused
 * after inflating at most that size, and a header declaring more than MAX_IDX_BYTES before any of it.
 */
export function maybeGunzip(bytes: Uint8Array, nameForErrors: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  const where = nameForErrors;
  const head = gunzipHead(bytes, where);
  const limit = declaredIdxBytes(head);
  // Not an IDX header (wrong magic or type, cut short): the head alone goes on, for parseIdx to name the problem.
  if (limit === null) return head;
  expectInput(
    limit <= MAX_IDX_BYTES,
    where,
    `IDX header declares ${limit} bytes (${idxHeaderText(head)}); at most ${MAX_IDX_BYTES} bytes are accepted`,
  );
  try {
    return gunzipSync(bytes, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InputError(where, `inflates to more than the ${limit} bytes its IDX header declares (${idxHeaderText(head)}): a corrupt file or a gzip bomb`);
    }
    throw new InputError(where, `starts like gzip but does not decompress (${(err as Error).message})`);
  }
}

function idxHeaderText(head: Uint8Array): string {
  const info = IDX_TYPES.find((t) => t.code === head[2]);
  const ndims = head.length >= 4 ? head[3] : 0;
  if (!info || head.length < 4 + 4 * ndims) return `header bytes ${[...head.subarray(0, 4)].map(hex).join(' ')}`;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return `${info.type} [${Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i)).join(', ')}]`;
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
  expectInput(expected <= MAX_IDX_BYTES, where, `IDX header declares ${expected} bytes (${info.type} [${dims.join(', ')}]); at most ${MAX_IDX_BYTES} bytes are accepted`);
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
