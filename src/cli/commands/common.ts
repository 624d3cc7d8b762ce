/**
 * What the commands share: reading and checking input files (every error names the file and the key
 * path), loading a decoder, and writing results either atomically to a file or to stdout.
 */
import * as fs from 'node:fs';
import { BackendChoice, initBackend } from '../../lib/runtime/backend';
import { DecoderJson, LoadedDecoder, decoderFromJson } from '../../lib/io/decoder-json';
import { writeFileAtomicAsync } from '../../lib/util/atomic';
import { InputError } from '../../lib/util/errors';
import { float32Problem } from '../../lib/util/float32';
import { PROGRAM } from '../args';

/** The largest JSON input read: V8 strings end at 2^29 - 24 characters. */
export const MAX_JSON_INPUT_BYTES = 512 * 2 ** 20 - 1024;

/** Parsed JSON of a file; a missing, unreadable or malformed file is an InputError naming it. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new InputError(file, 'is a directory; expected a JSON file');
    if (st.size > MAX_JSON_INPUT_BYTES) throw new InputError(file, `is ${Math.ceil(st.size / 2 ** 20)} MB; a JSON input can be at most ${MAX_JSON_INPUT_BYTES / 2 ** 20} MB`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? String(err)})`);
  }
  try {
    // A byte-order mark (as some Windows editors write) is not part of the JSON.
    return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (err) {
    throw new InputError(file, `malformed JSON (${(err as Error).message})`);
  }
}

/** A short description of a JSON value for error messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `an ${typeof v}`;
}

/** The top level of a JSON input file as an object; `shape` shows what was expected, e.g. {"points": ...}. */
export function expectObject(json: unknown, source: string, shape: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InputError(`${source}: (top level)`, `expected an object ${shape}, got ${describeValue(json)}`);
  }
  return json as Record<string, unknown>;
}

/**
 * The points [[z_1, ..., z_d], ...] at `key` of a JSON object as flat float64 [N, d] (exact for any JSON
 * number a float64 holds). d is the decoder's latent dimension, so a point of the wrong length is caught
 * here, by index; every error names the file and the key path.
 */
export function pointRows(obj: Record<string, unknown>, key: string, source: string, d: number, opts: { nonEmpty?: boolean } = {}): Float64Array {
  const fail = (path: string, problem: string): never => {
    throw new InputError(`${source}: ${path}`, problem);
  };
  const v = obj[key];
  const expected = `${opts.nonEmpty ? 'a non-empty array' : 'an array'} of points, each an array of ${d} numbers`;
  if (v === undefined) fail(key, `missing; expected ${expected}`);
  if (!Array.isArray(v) || (opts.nonEmpty && v.length === 0)) fail(key, `expected ${expected}, got ${describeValue(v)}`);
  const rows = v as unknown[];
  // Every row is checked before anything is allocated.
  rows.forEach((p, i) => {
    if (!Array.isArray(p)) fail(`${key}[${i}]`, `expected an array of ${d} numbers, got ${describeValue(p)}`);
    const row = p as unknown[];
    if (row.length !== d) fail(`${key}[${i}]`, `expected ${d} coordinates (the decoder's latent_dim), got ${row.length}`);
    row.forEach((x, j) => {
      // The decoder computes in float32: a coordinate of 1e39 is infinite there.
      const problem = float32Problem(x);
      if (problem) fail(`${key}[${i}][${j}]`, `${problem}, got ${describeValue(x)}`);
    });
  });
  const out = new Float64Array(rows.length * d);
  rows.forEach((p, i) => out.set(p as number[], i * d));
  return out;
}

/** A points file's JSON, `{"points": [[z_1, ..., z_d], ...]}`, as flat float32 [N, d]. */
export function parsePoints(json: unknown, source: string, d: number): Float32Array {
  return Float32Array.from(pointRows(expectObject(json, source, '{"points": [[...], ...]}'), 'points', source, d));
}

/**
 * The decoder of a decoder-json/v1 file's parsed JSON, with the JSON kept: worker threads are sent it as
 * it is, rather than the weights serialised again. Needs the backend (see startBackend).
 */
export function buildDecoder(json: unknown, file: string): LoadedDecoder & { json: DecoderJson } {
  const loaded = decoderFromJson(json, file);
  // decoderFromJson has checked every key that a worker reads.
  return { ...loaded, json: json as DecoderJson };
}

/**
 * Initialises tfjs quietly: the backend line is printed by announceBackend() once the inputs are known to
 * be good, so that a bad input gives exactly one line on stderr.
 */
export function startBackend(): Promise<BackendChoice> {
  return initBackend({ quiet: true });
}

/** The backend line on stderr (never stdout, which may carry the result), unless LSO_QUIET=1. */
export function announceBackend(choice: BackendChoice): void {
  if (process.env.LSO_QUIET !== '1') process.stderr.write(`${PROGRAM}: tfjs backend ${choice.name}\n`);
}

/**
 * JSON to `file` (see util/atomic.ts: atomic for a file, written through to a FIFO or a device, the
 * temporary file removed on SIGINT / SIGTERM), or to stdout without one. Callers have checked the size
 * (checkJsonOutputSize) and the target (checkOutput) before computing.
 */
export async function writeResult(file: string | undefined, value: unknown): Promise<void> {
  const text = `${JSON.stringify(value)}\n`;
  if (file) await writeFileAtomicAsync(file, text);
  else process.stdout.write(text);
}

/** float32 values printed with the 9 significant digits that identify them, not float64's 17. */
export function float32ToJson(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(9)) : x;
}
