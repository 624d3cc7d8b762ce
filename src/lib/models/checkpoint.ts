/**
 * VAE checkpoints: one JSON file (vae-checkpoint/v1) with the model config, the training record and the
 * weights as base64 little-endian float32, plus a sha256 of the weight bytes. One file written atomically
 * (temp then rename) cannot be seen half-written; the checksum catches what JSON parsing cannot (a flipped
 * byte inside a base64 string). Every load error names the file and the field.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { writeJsonAtomic } from '../util/atomic';
import { InputError } from '../util/errors';
import { Vae, VaeConfig } from './vae';
import type { EpochRecord, TrainConfig } from './train-config';

export const VAE_CHECKPOINT_FORMAT = 'vae-checkpoint/v1';

export interface WeightJson {
  name: string;
  shape: number[];
  /** base64 of the float32 values, little-endian, row-major. */
  data: string;
}

export interface VaeCheckpointJson {
  format: typeof VAE_CHECKPOINT_FORMAT;
  createdAt: string;
  config: VaeConfig;
  /** Epochs trained when the checkpoint was written. */
  epoch: number;
  history: EpochRecord[];
  training?: TrainConfig;
  /** Set by the model cache: the hash of the config and the data the model was trained on. */
  cacheKey?: string;
  weights: WeightJson[];
  /** sha256 (hex) of all weight bytes in order. */
  sha256: string;
}

export interface CheckpointMeta {
  epoch?: number;
  history?: EpochRecord[];
  training?: TrainConfig;
  cacheKey?: string;
}

export interface LoadedCheckpoint {
  vae: Vae;
  epoch: number;
  history: EpochRecord[];
  training?: TrainConfig;
  cacheKey?: string;
  createdAt: string;
}

if (new Uint8Array(new Float32Array([1]).buffer)[3] !== 0x3f) {
  throw new Error('checkpoint: a big-endian host is not supported (weights are stored little-endian)');
}

export function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export function weightsDigest(arrays: Float32Array[]): string {
  const h = crypto.createHash('sha256');
  for (const a of arrays) h.update(bytesOf(a));
  return h.digest('hex');
}

/** The checkpoint as JSON (reads the weights from the device once). */
export function checkpointToJson(vae: Vae, meta: CheckpointMeta = {}): VaeCheckpointJson {
  const named = vae.namedVariables();
  const values = vae.getWeights();
  return {
    format: VAE_CHECKPOINT_FORMAT,
    createdAt: new Date().toISOString(),
    config: vae.config,
    epoch: meta.epoch ?? 0,
    history: meta.history ?? [],
    ...(meta.training ? { training: meta.training } : {}),
    ...(meta.cacheKey ? { cacheKey: meta.cacheKey } : {}),
    weights: named.map(({ name, variable }, i) => ({ name, shape: [...variable.shape], data: bytesOf(values[i]).toString('base64') })),
    sha256: weightsDigest(values),
  };
}

/** Writes a checkpoint atomically (temp file, then rename). */
export function saveCheckpoint(file: string, vae: Vae, meta: CheckpointMeta = {}): void {
  writeJsonAtomic(file, checkpointToJson(vae, meta), 0);
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

/** Builds the VAE a checkpoint describes; `source` names the file in errors. */
export function checkpointFromJson(json: unknown, source = 'checkpoint'): LoadedCheckpoint {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError(source, 'expected a JSON object');
  const o = json as Partial<VaeCheckpointJson>;
  if (o.format !== VAE_CHECKPOINT_FORMAT) throw new InputError(`${source}: format`, `expected "${VAE_CHECKPOINT_FORMAT}", got ${JSON.stringify(o.format)}`);
  if (!Array.isArray(o.weights)) throw new InputError(`${source}: weights`, 'expected an array');
  if (typeof o.sha256 !== 'string') throw new InputError(`${source}: sha256`, 'expected a hex string');
  let vae: Vae;
  try {
    vae = new Vae(o.config as VaeConfig);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`${source}: config (${err.where})`, err.problem);
    throw err;
  }
  try {
    const named = vae.namedVariables();
    if (o.weights.length !== named.length) throw new InputError(`${source}: weights`, `expected ${named.length} arrays for this config, got ${o.weights.length}`);
    const arrays = named.map(({ name, variable }, i) => decodeWeight(source, o.weights![i], i, { name, shape: variable.shape }));
    if (weightsDigest(arrays) !== o.sha256) throw new InputError(`${source}: sha256`, 'does not match the weights: the checkpoint is corrupt');
    vae.setWeights(arrays);
  } catch (err) {
    vae.dispose();
    throw err;
  }
  return {
    vae,
    epoch: typeof o.epoch === 'number' ? o.epoch : 0,
    history: Array.isArray(o.history) ? o.history : [],
    training: o.training,
    cacheKey: o.cacheKey,
    createdAt: typeof o.createdAt === 'string' ? o.createdAt : '',
  };
}

/** Reads a checkpoint; errors name the file and what is wrong with it. */
export function loadCheckpoint(file: string): LoadedCheckpoint {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read the checkpoint (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `not valid JSON, the checkpoint is corrupt or cut short (${(err as Error).message})`);
  }
  return checkpointFromJson(json, file);
}
