/**
 * What the generator zoo (the denoising autoencoder of dae.ts and the GAN of gan.ts, beside the VAE) has in
 * common: one way to state a generator's shape, a trainer for any model with a `trainStep`, and a model
 * cache that works like trainOrLoad's (same key recipe: the resolved configs plus the data's fingerprint;
 * same weight encoding and checksum as the VAE checkpoints; atomic writes).
 *
 * The VAE keeps its own trainer (KL warm-up, early stopping, hand-written backprop); DAE and GAN steps use
 * tf.variableGrads over Mlp.apply, whose dense layers have the transpose-free gradient of ../nn/linear:
 * measured on MNIST 784-256-64-2 nets, batch 128, one DAE step takes ~21 ms and one GAN step (a
 * discriminator and a generator update) ~31 ms, against ~16 ms for the hand-written VAE step.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ActivationName } from '../nn/activations';
import type { Mlp } from '../nn/mlp';
import { gatherRows } from '../data/subsets';
import { writeJsonAtomic } from '../util/atomic';
import { InputError } from '../util/errors';
import { Progress, ProgressMode, fmtSecs, isInNotebook } from '../util/progress';
import { Rng } from '../util/rng';
import { WeightJson, bytesOf, decodeWeight, weightsDigest } from './checkpoint';
import { TrainConfig, fingerprintData, resolveTrainConfig } from './train';
import type { AdamOptions, NamedVariable, NetConfig } from './vae';
import { checkoutPath } from '../util/paths';

// ---------------------------------------------------------------------------------------------------------
// Shapes

/** The generator options every model of the zoo shares. */
export interface GeneratorOptions {
  /**
   * Hidden widths from the data side, e.g. [256, 64]: the encoder (or discriminator) is D-256-64-out and
   * the generator mirrors it, d-64-256-D, as in the papers' MNIST VAE.
   */
  hidden: number[];
  /** The activation of every hidden layer, in both nets. */
  activation: ActivationName;
}

/** The data-side net (encoder, discriminator) and the generator of `g`, as NetConfigs. */
export function zooNets(g: GeneratorOptions): { dataSide: NetConfig; generator: NetConfig } {
  const acts = g.hidden.map(() => g.activation);
  return { dataSide: { hidden: [...g.hidden], activations: acts }, generator: { hidden: [...g.hidden].reverse(), activations: [...acts] } };
}

/** A short name such as "256-64 tanh". */
export function generatorLabel(g: GeneratorOptions): string {
  return `${g.hidden.join('-')} ${g.activation}`;
}

/** The variables of named nets as "<net>/<layer>/kernel|bias", the VAE checkpoints' naming. */
export function namedNetVariables(nets: [string, Mlp][]): NamedVariable[] {
  return nets.flatMap(([prefix, net]) =>
    net.denseLayers().flatMap((l, i) => [
      { name: `${prefix}/${i}/kernel`, variable: l.kernel },
      { name: `${prefix}/${i}/bias`, variable: l.bias },
    ]),
  );
}

/** Checks a finite number >= 0 (a noise level), naming the field when it is not one. */
export function nonNegativeNumber(v: unknown, where: string): number {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new InputError(where, `expected a number >= 0, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Standard normal noise for training steps, cut from one pool drawn once. A step of the DAE needs B x D
 * fresh normals (the GAN's instance noise three times that): ~100k for an MNIST batch, which costs
 * ~5-13 ms with Rng.normals, as much as the step's arithmetic. A window of the pool at a random offset
 * costs nothing; every entry is still N(0, 1), and with a pool 32 times the request two steps share a
 * window only by chance (an offset that is not a multiple of D also pairs the values with other pixels).
 */
export class NoisePool {
  private pool: Float32Array | null = null;

  constructor(
    private readonly rng: Rng,
    /** The largest pool, in values (default 2^22, 16 MB). */
    readonly maxSize = 1 << 22,
  ) {}

  /** n standard normals (a view into the pool: read it before the next call, do not write it). */
  take(n: number): Float32Array {
    this.pool ??= this.rng.normals(Math.min(this.maxSize, Math.max(32 * n, 1 << 16)));
    if (n > this.pool.length) return this.rng.normals(n);
    const offset = this.rng.int(this.pool.length - n + 1);
    return this.pool.subarray(offset, offset + n);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Training

/** What the zoo trainer needs from a model. */
export interface TrainableModel {
  /** D, the width of a data row. */
  readonly inputDim: number;
  /** In a fixed order, named for the cache file. */
  namedVariables(): NamedVariable[];
  /** Starts a fresh optimiser (and fresh on-device loss sums). */
  resetTraining(adam: AdamOptions): void;
  /** One optimisation step on a batch of rows [B, D]; the stats accumulate on the device. */
  trainStep(batch: Float32Array): void;
  /** Means per example of the model's stats since the last call (one device read), then resets them. */
  takeTrainingStats(): Record<string, number>;
  /** Frees the optimiser state. */
  disposeTraining(): void;
  dispose(): void;
}

/** The trainer's options of the VAE's TrainConfig that mean something for every model. */
export type ZooTrainConfig = Pick<TrainConfig, 'epochs' | 'batchSize' | 'learningRate' | 'adam' | 'seed'>;

/** One history row: the epoch, the model's stats (loss, or d_loss and g_loss, ...), and its duration. */
export interface ZooEpochRecord {
  epoch: number;
  seconds: number;
  [stat: string]: number;
}

export interface ZooTrainResult {
  history: ZooEpochRecord[];
  seconds: number;
}

/** Validated and with defaults: the same checks and defaults as the VAE trainer's. */
export function resolveZooTrainConfig(c: ZooTrainConfig): Required<Omit<ZooTrainConfig, 'adam'>> & Pick<ZooTrainConfig, 'adam'> {
  const r = resolveTrainConfig(c);
  return { epochs: r.epochs, batchSize: r.batchSize, learningRate: r.learningRate, ...(r.adam ? { adam: r.adam } : {}), seed: r.seed };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Trains `model` on rows [N, D] in seeded shuffled mini-batches (the last one of an epoch may be smaller),
 * with a progress bar and one history row an epoch. A non-finite stat stops training with an error that
 * names the epoch: at the learning rates of the course report that is how divergence shows.
 */
export async function trainModel(
  model: TrainableModel,
  data: Float32Array,
  config: ZooTrainConfig,
  opts: { label?: string; progress?: ProgressMode | false } = {},
): Promise<ZooTrainResult> {
  const c = resolveZooTrainConfig(config);
  const dim = model.inputDim;
  if (data.length === 0 || data.length % dim !== 0) throw new InputError('trainModel: data', `expected rows of ${dim} values, got an array of length ${data.length}`);
  const n = data.length / dim;
  const rng = new Rng(c.seed);
  const stepsPerEpoch = Math.ceil(n / c.batchSize);
  const label = opts.label ?? 'train';
  const progress = new Progress({ label, total: c.epochs * stepsPerEpoch, unit: 'batch', ...(opts.progress !== undefined ? { mode: opts.progress || 'off' } : {}) });
  const history: ZooEpochRecord[] = [];
  const start = Date.now();
  let lastYield = Date.now();
  model.resetTraining({ ...c.adam, learningRate: c.learningRate });
  try {
    for (let epoch = 1; epoch <= c.epochs; epoch++) {
      const t0 = Date.now();
      const order = rng.permutation(n);
      for (let s = 0; s < stepsPerEpoch; s++) {
        model.trainStep(gatherRows(data, dim, order.subarray(s * c.batchSize, Math.min(n, (s + 1) * c.batchSize))));
        if (s < stepsPerEpoch - 1) progress.tick(1);
        if (Date.now() - lastYield > 250) {
          await yieldToEventLoop();
          lastYield = Date.now();
        }
      }
      const record: ZooEpochRecord = { epoch, ...model.takeTrainingStats(), seconds: (Date.now() - t0) / 1000 };
      history.push(record);
      const bad = Object.entries(record).find(([, v]) => !Number.isFinite(v));
      if (bad) throw new Error(`${label}: ${bad[0]} became ${bad[1]} in epoch ${epoch}; lower the learning rate`);
      progress.tick(1, epochStatus(record, c.epochs));
      await yieldToEventLoop();
    }
    progress.finish(epochStatus(history[history.length - 1], c.epochs));
    return { history, seconds: (Date.now() - start) / 1000 };
  } finally {
    model.disposeTraining();
  }
}

function epochStatus(r: ZooEpochRecord, epochs: number): string {
  const stats = Object.entries(r)
    .filter(([k]) => k !== 'epoch' && k !== 'seconds')
    .map(([k, v]) => `${k} ${v.toFixed(3)}`);
  return `epoch ${r.epoch}/${epochs} ${stats.join(' ')}`;
}

/** Sums of per-example stats kept on the device between reads: one small variable, no per-step reads. */
export class StatSums {
  private readonly sums: tf.Variable<tf.Rank.R1>;
  private examples = 0;

  constructor(readonly names: readonly string[]) {
    this.sums = tf.tidy(() => tf.variable(tf.zeros([names.length]), false));
  }

  /** Adds `values` (per-batch sums, one per name, [k]) for `examples` rows. */
  add(values: tf.Tensor1D, examples: number): void {
    tf.tidy(() => this.sums.assign(tf.add(this.sums, values)));
    this.examples += examples;
  }

  /** Means per example since the last call, then zeros the sums. */
  take(): Record<string, number> {
    const n = this.examples;
    const values = this.sums.dataSync();
    tf.tidy(() => this.sums.assign(tf.zeros([this.names.length])));
    this.examples = 0;
    return Object.fromEntries(this.names.map((name, i) => [name, n > 0 ? values[i] / n : NaN]));
  }

  dispose(): void {
    this.sums.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Model cache

export const ZOO_CHECKPOINT_FORMAT = 'zoo-model/v1';

export interface ZooCheckpointJson {
  format: typeof ZOO_CHECKPOINT_FORMAT;
  /** 'dae', 'gan', ...: which model class the weights belong to. */
  kind: string;
  createdAt: string;
  /** The resolved model config (what `build` was called with). */
  config: unknown;
  training: ZooTrainConfig;
  cacheKey: string;
  history: ZooEpochRecord[];
  weights: WeightJson[];
  /** sha256 (hex) of all weight bytes in order. */
  sha256: string;
}

export interface ModelCacheOptions {
  /** Default .cache/models relative to the working directory (pipelines pass the checkout's). */
  cacheDir?: string;
  force?: boolean;
  progress?: ProgressMode | false;
  log?: (line: string) => void;
}

export interface CachedModel<M> {
  model: M;
  history: ZooEpochRecord[];
  fromCache: boolean;
  file: string;
  key: string;
}

const CACHE_SALT = 'latent-geometry zoo cache v2';

/**
 * sha256 of the model kind, its resolved config, the resolved training config and the data's fingerprint.
 * The configs come from resolve functions that build their objects in a fixed key order, so equal
 * configurations serialise alike.
 */
export function zooCacheKey(kind: string, resolvedModel: unknown, training: ZooTrainConfig, data: Float32Array): string {
  const payload = JSON.stringify({ salt: CACHE_SALT, kind, model: resolvedModel, training: resolveZooTrainConfig(training), data: fingerprintData(data) });
  return crypto.createHash('sha256').update(payload).digest('hex');
}

function defaultLog(line: string): void {
  if (process.env.LSO_QUIET === '1') return;
  (isInNotebook() ? process.stdout : process.stderr).write(`${line}\n`);
}

/** The weights of `model` with the VAE checkpoints' encoding (base64 float32, sha256 over all bytes). */
export function encodeModelWeights(model: TrainableModel): { weights: WeightJson[]; sha256: string } {
  const named = model.namedVariables();
  const values = named.map(({ variable }) => variable.dataSync() as Float32Array);
  return {
    weights: named.map(({ name, variable }, i) => ({ name, shape: [...variable.shape], data: bytesOf(values[i]).toString('base64') })),
    sha256: weightsDigest(values),
  };
}

/** Sets `model`'s weights from their JSON form; errors name the source, the entry and the problem. */
export function decodeModelWeights(model: TrainableModel, weights: unknown, sha256: unknown, source: string): void {
  const named = model.namedVariables();
  if (!Array.isArray(weights) || weights.length !== named.length) {
    throw new InputError(`${source}: weights`, `expected ${named.length} arrays for this config, got ${Array.isArray(weights) ? weights.length : typeof weights}`);
  }
  const arrays = named.map(({ name, variable }, i) => decodeWeight(source, weights[i], i, { name, shape: variable.shape }));
  if (weightsDigest(arrays) !== sha256) throw new InputError(`${source}: sha256`, 'does not match the weights: the file is corrupt');
  tf.tidy(() => named.forEach(({ variable }, i) => variable.assign(tf.tensor(arrays[i], variable.shape))));
}

function loadCached<M extends TrainableModel>(file: string, key: string, kind: string, build: () => M): { model: M; history: ZooEpochRecord[]; createdAt: string } {
  let json: Partial<ZooCheckpointJson>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(file, `unreadable cache file (${(err as Error).message})`);
  }
  if (json.format !== ZOO_CHECKPOINT_FORMAT || json.kind !== kind || json.cacheKey !== key) {
    throw new InputError(file, `not a ${ZOO_CHECKPOINT_FORMAT} ${kind} file with this cache key`);
  }
  const model = build();
  try {
    decodeModelWeights(model, json.weights, json.sha256, file);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, history: Array.isArray(json.history) ? json.history : [], createdAt: String(json.createdAt ?? '') };
}

/**
 * The model that `build()` creates and `training` trains on `data`, from the cache when this kind, config,
 * training and data were trained before; else trains it and stores it (temp file then rename). An
 * unusable cache file is reported and replaced.
 */
export async function trainModelOrLoad<M extends TrainableModel>(
  spec: { kind: string; resolvedConfig: unknown; build: () => M; training: ZooTrainConfig },
  data: Float32Array,
  opts: ModelCacheOptions = {},
): Promise<CachedModel<M>> {
  const log = opts.log ?? defaultLog;
  const key = zooCacheKey(spec.kind, spec.resolvedConfig, spec.training, data);
  const file = path.join(opts.cacheDir ?? path.join('.cache', 'models'), `${spec.kind}-${key.slice(0, 24)}.json`);
  if (!opts.force && fs.existsSync(file)) {
    try {
      const loaded = loadCached(file, key, spec.kind, spec.build);
      log(`${spec.kind}: loaded from ${checkoutPath(file)} (trained ${loaded.history.length} epochs, ${loaded.createdAt})`);
      return { model: loaded.model, history: loaded.history, fromCache: true, file, key };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      log(`${spec.kind}: ignoring an unusable cache file (${err.message}); training again`);
    }
  }
  const model = spec.build();
  try {
    const result = await trainModel(model, data, spec.training, { label: `train ${spec.kind.toUpperCase()}`, progress: opts.progress });
    const json: ZooCheckpointJson = {
      format: ZOO_CHECKPOINT_FORMAT,
      kind: spec.kind,
      createdAt: new Date().toISOString(),
      config: spec.resolvedConfig,
      training: spec.training,
      cacheKey: key,
      history: result.history,
      ...encodeModelWeights(model),
    };
    writeJsonAtomic(file, json, 0);
    log(`${spec.kind}: trained for ${fmtSecs(result.seconds)} and saved to ${checkoutPath(file)}`);
    return { model, history: result.history, fromCache: false, file, key };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
