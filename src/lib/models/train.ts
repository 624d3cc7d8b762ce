/**
 * The VAE trainer: seeded shuffled mini-batches, KL warm-up, a progress bar, per-epoch history, early
 * stopping on the validation loss (restoring the best weights), atomic checkpoints, and a model cache so
 * that a notebook re-run with the same config and data reloads instead of training.
 *
 * The loss is never read per step: the step accumulates its terms on the device and the trainer reads them
 * once an epoch.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../util/errors';
import { Progress, ProgressMode, fmtSecs, isInNotebook } from '../util/progress';
import { Rng } from '../util/rng';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { AdamOptions, Vae, VaeConfig, resolveVaeConfig } from './vae';
import { checkoutPath } from '../util/paths';

export interface TrainConfig {
  epochs: number;
  /** Default 128. The last batch of an epoch may be smaller. */
  batchSize?: number;
  /** Adam's step size, default 1e-3. */
  learningRate?: number;
  /** Adam's other constants (defaults 0.9, 0.999, 1e-8). */
  adam?: Omit<AdamOptions, 'learningRate'>;
  /**
   * KL warm-up: the KL weight rises linearly, step by step, from 0 to the model's beta over this many
   * epochs (Sønderby et al. 2016), then stays at beta. Default 0 (no warm-up).
   */
  klWarmupEpochs?: number;
  /** Seed of the shuffling and of the reparametrisation noise, default 0. */
  seed?: number;
  /**
   * Early stopping: stop after this many epochs without a validation-loss improvement larger than
   * minDelta, and restore the best epoch's weights. Needs validation data; default none.
   */
  patience?: number;
  minDelta?: number;
  /**
   * Keep the best validation epoch: at the end the model holds the weights of the epoch with the lowest
   * val_loss (the official code's best_model_dict), without stopping early. Needs validation data.
   */
  keepBest?: boolean;
  /** Halve (factor) the learning rate when val_loss stalls, as torch's ReduceLROnPlateau. Needs validation data. */
  lrPlateau?: LrPlateauConfig;
}

/**
 * torch.optim.lr_scheduler.ReduceLROnPlateau with its defaults (mode 'min', threshold 1e-4 'rel', cooldown
 * 0, min_lr 0): an epoch improves when val < best (1 - threshold); after more than `patience` epochs
 * without improvement the rate is multiplied by `factor` and the count restarts.
 */
export interface LrPlateauConfig {
  factor: number;
  patience: number;
  /** Default 1e-4 (torch's). */
  threshold?: number;
}

export type ResolvedTrainConfig = Required<Omit<TrainConfig, 'patience' | 'adam' | 'keepBest' | 'lrPlateau'>> & Pick<TrainConfig, 'patience' | 'adam' | 'keepBest' | 'lrPlateau'>;

export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Mean reconstruction + klWeight * kl over the epoch's examples (the objective minimised). */
  loss: number;
  /** Mean -log p(x|z), nats. */
  reconstruction: number;
  kl: number;
  /** The KL weight at the epoch's last step. */
  klWeight: number;
  /** Mean reconstruction + beta * kl on the validation data (full beta, fixed noise seed): comparable across epochs. */
  val_loss?: number;
  /** The learning rate of the epoch's steps (set when lrPlateau is on). */
  learningRate?: number;
  seconds: number;
}

export interface TrainOptions {
  /** Validation rows [M, D], for val_loss and early stopping. */
  validation?: Float32Array;
  /** Progress display; default detected (bar in a terminal, a live line in a notebook, log lines otherwise). */
  progress?: ProgressMode | false;
  /** Writes a checkpoint every `everyEpochs` (default 1) epochs and at the end. */
  checkpoint?: { file: string; everyEpochs?: number };
  /** Called after each epoch (e.g. to plot the history live). */
  onEpoch?: (record: EpochRecord) => void;
}

export interface TrainResult {
  history: EpochRecord[];
  /** The epoch whose weights the model holds at the end (the best one under early stopping). */
  bestEpoch: number;
  stoppedEarly: boolean;
  seconds: number;
}

export function resolveTrainConfig(c: TrainConfig): ResolvedTrainConfig {
  const posInt = (v: unknown, where: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new InputError(`TrainConfig.${where}`, `expected a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const nonNeg = (v: number, where: string): number => {
    if (!(v >= 0) || !Number.isFinite(v)) throw new InputError(`TrainConfig.${where}`, `expected a number >= 0, got ${JSON.stringify(v)}`);
    return v;
  };
  const lr = c.learningRate ?? 1e-3;
  if (!(lr > 0)) throw new InputError('TrainConfig.learningRate', `expected a positive number, got ${JSON.stringify(c.learningRate)}`);
  return {
    epochs: posInt(c.epochs, 'epochs'),
    batchSize: posInt(c.batchSize ?? 128, 'batchSize'),
    learningRate: lr,
    ...(c.adam ? { adam: c.adam } : {}),
    klWarmupEpochs: nonNeg(c.klWarmupEpochs ?? 0, 'klWarmupEpochs'),
    seed: c.seed ?? 0,
    ...(c.patience !== undefined ? { patience: posInt(c.patience, 'patience') } : {}),
    minDelta: nonNeg(c.minDelta ?? 0, 'minDelta'),
    // Set only when on, so that the other configs (and their model-cache keys) are unchanged.
    ...(c.keepBest ? { keepBest: true } : {}),
    ...(c.lrPlateau ? { lrPlateau: checkPlateau(c.lrPlateau) } : {}),
  };
}

function checkPlateau(p: LrPlateauConfig): LrPlateauConfig {
  if (!(p.factor > 0 && p.factor < 1)) throw new InputError('TrainConfig.lrPlateau.factor', `expected a number in (0, 1), got ${JSON.stringify(p.factor)}`);
  if (!(Number.isInteger(p.patience) && p.patience >= 0)) throw new InputError('TrainConfig.lrPlateau.patience', `expected an integer >= 0, got ${JSON.stringify(p.patience)}`);
  const threshold = p.threshold ?? 1e-4;
  if (!(threshold >= 0 && threshold < 1)) throw new InputError('TrainConfig.lrPlateau.threshold', `expected a number in [0, 1), got ${JSON.stringify(p.threshold)}`);
  return { factor: p.factor, patience: p.patience, threshold };
}

/** ReduceLROnPlateau's state: feed it each epoch's val_loss, read the rate for the next epoch. */
export class LrPlateau {
  private best = Infinity;
  private bad = 0;

  constructor(
    private readonly config: LrPlateauConfig,
    public learningRate: number,
  ) {}

  /** Records an epoch's validation loss; returns the learning rate for the next epoch. */
  step(valLoss: number): number {
    if (valLoss < this.best * (1 - (this.config.threshold ?? 1e-4))) {
      this.best = valLoss;
      this.bad = 0;
    } else if (++this.bad > this.config.patience) {
      this.learningRate *= this.config.factor;
      this.bad = 0;
    }
    return this.learningRate;
  }
}

/**
 * The KL weight at (0-based) global step `step`: beta * min(1, step / (warmupEpochs * stepsPerEpoch)).
 * It starts at 0, so the first steps train an autoencoder, and reaches beta after the warm-up epochs.
 */
export function klWeightAt(step: number, stepsPerEpoch: number, warmupEpochs: number, beta: number): number {
  if (warmupEpochs <= 0) return beta;
  return beta * Math.min(1, step / (warmupEpochs * stepsPerEpoch));
}

/** Copies rows `order[start .. start + count)` of data [N, D] into out [count, D]. */
function gatherRows(data: Float32Array, dim: number, order: Int32Array, start: number, count: number, out: Float32Array): Float32Array {
  for (let i = 0; i < count; i++) {
    const r = order[start + i];
    out.set(data.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return count * dim === out.length ? out : out.subarray(0, count * dim);
}

function rowsOf(data: Float32Array, dim: number, where: string): number {
  if (data.length === 0 || data.length % dim !== 0) throw new InputError(where, `expected rows of ${dim} values, got an array of length ${data.length}`);
  return data.length / dim;
}

/** Lets the event loop run (notebook output, timers) from inside a long synchronous loop. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Trains `vae` on data [N, D] (row-major). Starts a fresh Adam and frees it at the end, so the live
 * tensors are those of the model alone afterwards.
 */
export async function trainVae(vae: Vae, data: Float32Array, config: TrainConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const c = resolveTrainConfig(config);
  const dim = vae.inputDim;
  const n = rowsOf(data, dim, 'trainVae: data');
  if (opts.validation) rowsOf(opts.validation, dim, 'trainVae: validation');
  if (c.patience !== undefined && !opts.validation) throw new InputError('TrainConfig.patience', 'early stopping needs validation data (options.validation)');
  if (c.keepBest && !opts.validation) throw new InputError('TrainConfig.keepBest', 'keeping the best epoch needs validation data (options.validation)');
  if (c.lrPlateau && !opts.validation) throw new InputError('TrainConfig.lrPlateau', 'the plateau schedule needs validation data (options.validation)');
  const plateau = c.lrPlateau ? new LrPlateau(c.lrPlateau, c.learningRate) : null;
  const tracksBest = c.patience !== undefined || c.keepBest === true;

  const rng = new Rng(c.seed);
  const noise = new Rng(rng.seed());
  const stepsPerEpoch = Math.ceil(n / c.batchSize);
  const buffer = new Float32Array(Math.min(c.batchSize, n) * dim);
  const progress = new Progress({ label: 'train VAE', total: c.epochs * stepsPerEpoch, unit: 'batch', ...(opts.progress !== undefined ? { mode: opts.progress || 'off' } : {}) });
  const history: EpochRecord[] = [];
  const start = Date.now();
  let best: { loss: number; epoch: number; weights: tf.Tensor[] } | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;
  let lastYield = Date.now();

  vae.resetTraining({ ...c.adam, learningRate: c.learningRate });
  try {
    for (let epoch = 0; epoch < c.epochs && !stoppedEarly; epoch++) {
      const t0 = Date.now();
      const order = rng.permutation(n);
      let klWeight = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        klWeight = klWeightAt(epoch * stepsPerEpoch + s, stepsPerEpoch, c.klWarmupEpochs, vae.config.beta);
        const count = Math.min(c.batchSize, n - s * c.batchSize);
        vae.trainStep(gatherRows(data, dim, order, s * c.batchSize, count, buffer), { klWeight, noise, ...(plateau ? { learningRate: plateau.learningRate } : {}) });
        // The epoch's last tick waits for its status line (log mode prints only every tenth of the way).
        if (s < stepsPerEpoch - 1) progress.tick(1);
        if (Date.now() - lastYield > 250) {
          await yieldToEventLoop();
          lastYield = Date.now();
        }
      }
      const stats = vae.takeTrainingStats();
      const record: EpochRecord = { epoch: epoch + 1, loss: stats.loss, reconstruction: stats.reconstruction, kl: stats.kl, klWeight, seconds: 0 };
      if (opts.validation) record.val_loss = vae.elbo(opts.validation, { seed: c.seed }).loss;
      if (plateau) {
        record.learningRate = plateau.learningRate;
        plateau.step(record.val_loss!);
      }
      record.seconds = (Date.now() - t0) / 1000;
      history.push(record);
      if (!Number.isFinite(record.loss)) throw new Error(`trainVae: the loss became ${record.loss} in epoch ${record.epoch}; lower the learning rate`);

      if (tracksBest && record.val_loss !== undefined) {
        if (!best || record.val_loss < best.loss - c.minDelta) {
          best?.weights.forEach((w) => w.dispose());
          best = { loss: record.val_loss, epoch: record.epoch, weights: vae.variables().map((v) => v.clone()) };
          sinceBest = 0;
        } else if (++sinceBest >= (c.patience ?? Infinity)) {
          stoppedEarly = true;
        }
      }
      progress.tick(1, epochStatus(record, c.epochs));
      opts.onEpoch?.(record);
      const every = opts.checkpoint?.everyEpochs ?? 1;
      if (opts.checkpoint && record.epoch % every === 0) saveCheckpoint(opts.checkpoint.file, vae, { epoch: record.epoch, history, training: config });
      await yieldToEventLoop();
    }
    let bestEpoch = history.length;
    if (best) {
      vae.setWeights(best.weights);
      bestEpoch = best.epoch;
    }
    if (opts.checkpoint) saveCheckpoint(opts.checkpoint.file, vae, { epoch: bestEpoch, history, training: config });
    const last = history[history.length - 1];
    progress.finish(`${epochStatus(last, c.epochs)}${stoppedEarly ? `, stopped early; best epoch ${bestEpoch}` : ''}`);
    return { history, bestEpoch, stoppedEarly, seconds: (Date.now() - start) / 1000 };
  } finally {
    best?.weights.forEach((w) => w.dispose());
    vae.disposeTraining();
  }
}

function epochStatus(r: EpochRecord, epochs: number): string {
  const val = `${r.val_loss !== undefined ? ` val ${r.val_loss.toFixed(2)}` : ''}${r.learningRate !== undefined ? ` lr ${r.learningRate.toPrecision(2)}` : ''}`;
  return `epoch ${r.epoch}/${epochs} loss ${r.loss.toFixed(2)} (rec ${r.reconstruction.toFixed(2)}, kl ${r.kl.toFixed(2)})${val}`;
}

// ---------------------------------------------------------------------------------------------------------
// Model cache

export interface ExperimentConfig {
  model: VaeConfig;
  training: TrainConfig;
}

export interface TrainOrLoadOptions {
  /** Default '.cache/models' (relative to the working directory). */
  cacheDir?: string;
  validation?: Float32Array;
  progress?: ProgressMode | false;
  /** Train even if a cached model exists (and overwrite it). */
  force?: boolean;
  /** Where the "loaded from cache" / "trained and saved" lines go; default stderr (stdout in a notebook). */
  log?: (line: string) => void;
}

export interface TrainOrLoadResult {
  vae: Vae;
  history: EpochRecord[];
  fromCache: boolean;
  /** The cache file. */
  file: string;
  key: string;
}

/** sha256 (hex) of the array's bytes: two arrays get the same fingerprint exactly when their values are equal. */
export function fingerprintData(x: Float32Array): string {
  return crypto.createHash('sha256').update(Buffer.from(x.buffer, x.byteOffset, x.byteLength)).digest('hex');
}

/** JSON with object keys sorted, so that key order does not change a hash. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const CACHE_SALT = 'latent-geometry vae cache v1';

/**
 * The cache key: sha256 of the resolved configs (so that a default spelled out or left out hash the same)
 * and of the training and validation data's fingerprints.
 */
export function cacheKey(config: ExperimentConfig, data: Float32Array, validation?: Float32Array): string {
  const payload = canonicalJson({
    salt: CACHE_SALT,
    model: resolveVaeConfig(config.model),
    training: resolveTrainConfig(config.training),
    data: fingerprintData(data),
    validation: validation ? fingerprintData(validation) : null,
  });
  return crypto.createHash('sha256').update(payload).digest('hex');
}

function defaultLog(line: string): void {
  if (process.env.LSO_QUIET === '1') return;
  (isInNotebook() ? process.stdout : process.stderr).write(`${line}\n`);
}

/**
 * Returns the VAE that `config` trains on `data`, from the cache when this config and data were trained
 * before (reported on the log), else trains it and stores it in the cache. A cache file that cannot be read
 * is reported and replaced.
 */
export async function trainOrLoad(config: ExperimentConfig, data: Float32Array, opts: TrainOrLoadOptions = {}): Promise<TrainOrLoadResult> {
  const log = opts.log ?? defaultLog;
  const key = cacheKey(config, data, opts.validation);
  const file = path.join(opts.cacheDir ?? path.join('.cache', 'models'), `vae-${key.slice(0, 24)}.json`);
  if (!opts.force && fs.existsSync(file)) {
    try {
      const loaded = loadCheckpoint(file);
      if (loaded.cacheKey !== key) {
        loaded.vae.dispose();
        throw new InputError(file, 'its cache key does not match its name');
      }
      log(`trainOrLoad: loaded the cached VAE from ${checkoutPath(file)} (trained ${loaded.history.length} epochs, ${loaded.createdAt}); delete the file or pass force: true to retrain`);
      return { vae: loaded.vae, history: loaded.history, fromCache: true, file, key };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      log(`trainOrLoad: ignoring an unusable cache file (${err.message}); training again`);
    }
  }
  const vae = new Vae(config.model);
  try {
    const result = await trainVae(vae, data, config.training, { validation: opts.validation, progress: opts.progress });
    saveCheckpoint(file, vae, { epoch: result.bestEpoch, history: result.history, training: config.training, cacheKey: key });
    log(`trainOrLoad: trained for ${fmtSecs(result.seconds)} and saved to ${checkoutPath(file)}`);
    return { vae, history: result.history, fromCache: false, file, key };
  } catch (err) {
    vae.dispose();
    throw err;
  }
}
