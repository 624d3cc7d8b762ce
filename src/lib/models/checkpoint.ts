/**
 * VAE checkpoints: one JSON file (vae-checkpoint/v1) with the model config, the training record and the
 * weights in the models' one weights format (weights.ts: base64 little-endian float32 and a sha256). One file written atomically
 * (temp then rename) cannot be seen half-written; the checksum catches what JSON parsing cannot (a flipped
 * byte inside a base64 string). Every load error names the file and the field.
 */
import * as fs from 'node:fs';
import { writeJsonAtomic } from '../util/atomic';
import { InputError } from '../util/errors';
import { Vae, VaeConfig } from './vae';
import { WeightJson, decodeWeights, encodeWeights } from './weights';
import type { EpochRecord, TrainConfig } from './train-config';

export const VAE_CHECKPOINT_FORMAT = 'vae-checkpoint/v1';

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
    ...encodeWeights(named, values),
  };
}

/** Writes a checkpoint atomically (temp file, then rename). */
export function saveCheckpoint(file: string, vae: Vae, meta: CheckpointMeta = {}): void {
  writeJsonAtomic(file, checkpointToJson(vae, meta), 0);
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
    vae.setWeights(decodeWeights(vae.namedVariables(), o.weights, o.sha256, source, 'checkpoint'));
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
