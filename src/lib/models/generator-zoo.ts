/**
 * What the generator zoo (the denoising autoencoder of dae.ts and the GAN of gan.ts, beside the VAE) has in
 * common: one way to state a generator's shape, training through the shared trainer (trainer.ts) for any
 * model with a `trainStep`, and an entry in the one model store (model-store.ts, weights.ts).
 *
 * The VAE steps with hand-written backprop; DAE and GAN steps use
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
import { writeJsonAtomic } from '../util/atomic';
import { InputError } from '../util/errors';
import { ProgressMode, fmtSecs } from '../util/progress';
import { Rng } from '../util/rng';
import { StepContext, TrainerModel, gatherBatch, rowsOf, train } from './trainer';
import { WeightJson, assignWeights, encodeWeights } from './weights';
import { fingerprintData, loadOrTrain, storeFile } from './model-store';
import { type AdamOptions } from '../optim/adam';
import { type NamedVariable, type NetConfig } from '../nn/net-config';
import { TrainConfig, resolveTrainConfig } from './train-config';

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

/** A TrainableModel as the shared trainer sees it. */
class ZooTrainee implements TrainerModel<ZooEpochRecord> {
  readonly rows: number;
  private readonly buffer: Float32Array;

  constructor(
    private readonly model: TrainableModel,
    private readonly data: Float32Array,
    private readonly adam: AdamOptions,
    batchSize: number,
  ) {
    this.rows = rowsOf(data, model.inputDim, 'trainModel: data');
    this.buffer = new Float32Array(Math.min(batchSize, this.rows) * model.inputDim);
  }

  begin(): void {
    this.model.resetTraining(this.adam);
  }

  step(ctx: StepContext): void {
    this.model.trainStep(gatherBatch(this.data, this.model.inputDim, ctx.rows, this.buffer));
  }

  endEpoch(epoch: number): ZooEpochRecord {
    return { epoch, ...this.model.takeTrainingStats(), seconds: 0 };
  }

  end(): void {
    this.model.disposeTraining();
  }
}

/**
 * Trains `model` on rows [N, D] with the shared trainer (seeded shuffled mini-batches, the last one of an
 * epoch may be smaller, a progress bar, one history row an epoch). A non-finite stat stops training with an
 * error that names the epoch: at the learning rates of the course report that is how divergence shows.
 */
export async function trainModel(
  model: TrainableModel,
  data: Float32Array,
  config: ZooTrainConfig,
  opts: { label?: string; progress?: ProgressMode | false } = {},
): Promise<ZooTrainResult> {
  const c = resolveZooTrainConfig(config);
  const trainee = new ZooTrainee(model, data, { ...c.adam, learningRate: c.learningRate }, c.batchSize);
  const result = await train(trainee, { epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate, seed: c.seed, label: opts.label ?? 'train', progress: opts.progress, status: epochStatus });
  return { history: result.history, seconds: result.seconds };
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

/** The weights of `model` in the models' one weights format (weights.ts). */
export function encodeModelWeights(model: TrainableModel): { weights: WeightJson[]; sha256: string } {
  return encodeWeights(model.namedVariables());
}

/** Sets `model`'s weights from their JSON form; errors name the source, the entry and the problem. */
export function decodeModelWeights(model: TrainableModel, weights: unknown, sha256: unknown, source: string): void {
  assignWeights(model.namedVariables(), weights, sha256, source);
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
 * The model that `build()` creates and `training` trains on `data`, from the model store when this kind,
 * config, training and data were trained before; else trains it and stores it. An unusable store file is
 * reported and replaced.
 */
export async function trainModelOrLoad<M extends TrainableModel>(
  spec: { kind: string; resolvedConfig: unknown; build: () => M; training: ZooTrainConfig },
  data: Float32Array,
  opts: ModelCacheOptions = {},
): Promise<CachedModel<M>> {
  const key = zooCacheKey(spec.kind, spec.resolvedConfig, spec.training, data);
  type Stored = { model: M; history: ZooEpochRecord[]; createdAt?: string; seconds?: number };
  const { value, fromCache, file } = await loadOrTrain<Stored>({
    file: storeFile(opts.cacheDir ?? path.join('.cache', 'models'), spec.kind, key),
    label: spec.kind,
    force: opts.force,
    log: opts.log,
    load: (f) => loadCached(f, key, spec.kind, spec.build),
    train: async () => {
      const model = spec.build();
      try {
        const result = await trainModel(model, data, spec.training, { label: `train ${spec.kind.toUpperCase()}`, progress: opts.progress });
        return { model, history: result.history, seconds: result.seconds };
      } catch (err) {
        model.dispose();
        throw err;
      }
    },
    save: (f, v) => {
      const json: ZooCheckpointJson = {
        format: ZOO_CHECKPOINT_FORMAT,
        kind: spec.kind,
        createdAt: new Date().toISOString(),
        config: spec.resolvedConfig,
        training: spec.training,
        cacheKey: key,
        history: v.history,
        ...encodeModelWeights(v.model),
      };
      writeJsonAtomic(f, json, 0);
    },
    dispose: (v) => v.model.dispose(),
    loadedLine: (v, f) => `${spec.kind}: loaded from ${f} (trained ${v.history.length} epochs, ${v.createdAt})`,
    trainedLine: (v, f) => `${spec.kind}: trained for ${fmtSecs(v.seconds ?? 0)} and saved to ${f}`,
  });
  return { model: value.model, history: value.history, fromCache, file, key };
}
