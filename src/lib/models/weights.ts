/**
 * The one weights format of the trained models (VAE checkpoints, the generator zoo, the classifier): a
 * list of named float32 arrays, each base64 little-endian with its shape, plus a sha256 over all bytes in
 * order. The checksum catches what JSON parsing cannot (a flipped byte inside a base64 string); every
 * decoding error names the file, the entry and the field. (The decoders shipped to the CLI and by the
 * authors travel as decoder-json/v1, io/decoder-json.ts: plain JSON numbers, readable by any tool.)
 */
import * as crypto from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../util/errors';
import type { NamedVariable } from '../nn/net-config';

export interface WeightJson {
  name: string;
  shape: number[];
  /** base64 of the float32 values, little-endian, row-major. */
  data: string;
}

if (new Uint8Array(new Float32Array([1]).buffer)[3] !== 0x3f) {
  throw new Error('weights: a big-endian host is not supported (weights are stored little-endian)');
}

export function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export function weightsDigest(arrays: Float32Array[]): string {
  const h = crypto.createHash('sha256');
  for (const a of arrays) h.update(bytesOf(a));
  return h.digest('hex');
}

/** Named variables with their values (read from the device once unless given) in the weights format. */
export function encodeWeights(named: NamedVariable[], values: Float32Array[] = named.map(({ variable }) => variable.dataSync() as Float32Array)): { weights: WeightJson[]; sha256: string } {
  return {
    weights: named.map(({ name, variable }, i) => ({ name, shape: [...variable.shape], data: bytesOf(values[i]).toString('base64') })),
    sha256: weightsDigest(values),
  };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeWeight(file: string, w: unknown, i: number, expected: { name: string; shape: number[] }): Float32Array {
  const where = `${file}: weights[${i}]`;
  const o = w as Partial<WeightJson>;
  if (typeof w !== 'object' || w === null) throw new InputError(where, 'expected an object { name, shape, data }');
  if (o.name !== expected.name) throw new InputError(`${where}.name`, `expected "${expected.name}", got ${JSON.stringify(o.name)}`);
  if (!Array.isArray(o.shape) || o.shape.join(',') !== expected.shape.join(',')) {
    throw new InputError(`${where}.shape`, `expected [${expected.shape.join(', ')}] for ${expected.name} (from the config), got ${JSON.stringify(o.shape)}`);
  }
  if (typeof o.data !== 'string' || o.data.length % 4 !== 0 || !BASE64.test(o.data)) {
    throw new InputError(`${where}.data`, 'not a base64 string: the checkpoint is corrupt');
  }
  const bytes = Buffer.from(o.data, 'base64');
  const size = expected.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== 4 * size) throw new InputError(`${where}.data`, `holds ${bytes.length} bytes; ${expected.name} needs ${4 * size}`);
  const out = new Float32Array(size);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * The arrays of `weights` for the named variables, checked one by one and against `sha256`; `what` names
 * the file kind in the corruption message ("checkpoint", "file").
 */
export function decodeWeights(named: { name: string; variable: { shape: number[] } }[], weights: unknown, sha256: unknown, source: string, what = 'file'): Float32Array[] {
  if (!Array.isArray(weights) || weights.length !== named.length) {
    throw new InputError(`${source}: weights`, `expected ${named.length} arrays for this config, got ${Array.isArray(weights) ? weights.length : typeof weights}`);
  }
  const arrays = named.map(({ name, variable }, i) => decodeWeight(source, weights[i], i, { name, shape: variable.shape }));
  if (weightsDigest(arrays) !== sha256) throw new InputError(`${source}: sha256`, `does not match the weights: the ${what} is corrupt`);
  return arrays;
}

/** Decodes `weights` (see decodeWeights) into the named variables. */
export function assignWeights(named: NamedVariable[], weights: unknown, sha256: unknown, source: string, what = 'file'): void {
  const arrays = decodeWeights(named, weights, sha256, source, what);
  tf.tidy(() => named.forEach(({ variable }, i) => variable.assign(tf.tensor(arrays[i], variable.shape))));
}
