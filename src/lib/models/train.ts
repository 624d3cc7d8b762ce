/**
 * Training the VAE with the shared trainer (trainer.ts, training-callbacks.ts): KL warm-up, validation
 * loss, reduce-on-plateau, the best epoch with early stopping, atomic checkpoints; and its entry in the
 * model store, so that a notebook re-run with the same config and data reloads instead of training.
 *
 * The loss is never read per step: the step accumulates its terms on the device and the trainer reads them
 * once an epoch.
 */
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../util/errors';
import { ProgressMode, fmtSecs } from '../util/progress';
import { canonicalJson, fingerprintData, loadOrTrain, storeFile } from './model-store';
import { Rng } from '../util/rng';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { Vae, VaeConfig, resolveVaeConfig } from './vae';
import { TrainConfig, EpochRecord, resolveTrainConfig } from './train-config';
import type { AdamOptions } from '../optim/adam';
import { StepContext, TrainerCallback, TrainerModel, gatherBatch, rowsOf, train } from './trainer';
import { checkpoints, keepBest, klWarmup, onEpoch, reduceOnPlateau, validationLoss } from './training-callbacks';

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

/** The VAE as the trainer sees it: its hand-written step with the warm-up's KL weight and the schedule's rate. */
class VaeTrainee implements TrainerModel<EpochRecord> {
  readonly rows: number;
  /** Set before each step by the klWarmup callback (beta without warm-up). */
  klWeight: number;
  private noise: Rng | null = null;
  private readonly buffer: Float32Array;

  constructor(
    private readonly vae: Vae,
    private readonly data: Float32Array,
    private readonly adam: AdamOptions,
    batchSize: number,
  ) {
    this.rows = rowsOf(data, vae.inputDim, 'trainVae: data');
    this.klWeight = vae.config.beta;
    this.buffer = new Float32Array(Math.min(batchSize, this.rows) * vae.inputDim);
  }

  begin(rng: Rng): void {
    this.noise = new Rng(rng.seed());
    this.vae.resetTraining(this.adam);
  }

  step(ctx: StepContext): void {
    this.vae.trainStep(gatherBatch(this.data, this.vae.inputDim, ctx.rows, this.buffer), { klWeight: this.klWeight, noise: this.noise!, learningRate: ctx.learningRate });
  }

  endEpoch(epoch: number): EpochRecord {
    const stats = this.vae.takeTrainingStats();
    return { epoch, loss: stats.loss, reconstruction: stats.reconstruction, kl: stats.kl, klWeight: this.klWeight, seconds: 0 };
  }

  end(): void {
    this.vae.disposeTraining();
  }
}

/**
 * Trains `vae` on data [N, D] (row-major) with the shared trainer: KL warm-up, then as configured the
 * validation loss, reduce-on-plateau, the best validation epoch (with early stopping under `patience`),
 * checkpoints. Starts a fresh Adam and frees it at the end, so the live tensors are those of the model alone
 * afterwards.
 */
export async function trainVae(vae: Vae, data: Float32Array, config: TrainConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const c = resolveTrainConfig(config);
  const model = new VaeTrainee(vae, data, { ...c.adam, learningRate: c.learningRate }, c.batchSize);
  const validation = opts.validation;
  if (validation) rowsOf(validation, vae.inputDim, 'trainVae: validation');
  for (const [field, on, what] of [
    ['patience', c.patience !== undefined, 'early stopping'],
    ['keepBest', c.keepBest === true, 'keeping the best epoch'],
    ['lrPlateau', c.lrPlateau !== undefined, 'the plateau schedule'],
  ] as const) {
    if (on && !validation) throw new InputError(`TrainConfig.${field}`, `${what} needs validation data (options.validation)`);
  }
  const callbacks: TrainerCallback<EpochRecord>[] = [klWarmup(model, c.klWarmupEpochs, vae.config.beta)];
  if (validation) callbacks.push(validationLoss(() => vae.elbo(validation, { seed: c.seed }).loss));
  if (c.lrPlateau) callbacks.push(reduceOnPlateau(c.lrPlateau));
  if (c.patience !== undefined || c.keepBest) {
    const weights = { snapshot: () => vae.variables().map((v) => v.clone()), restore: (w: tf.Tensor[]) => vae.setWeights(w) };
    callbacks.push(keepBest(weights, { patience: c.patience, minDelta: c.minDelta }));
  }
  if (opts.onEpoch) callbacks.push(onEpoch(opts.onEpoch));
  const checkpoint = opts.checkpoint;
  if (checkpoint) callbacks.push(checkpoints((epoch, history) => saveCheckpoint(checkpoint.file, vae, { epoch, history, training: config }), checkpoint.everyEpochs ?? 1));
  const result = await train(model, {
    epochs: c.epochs,
    batchSize: c.batchSize,
    learningRate: c.learningRate,
    seed: c.seed,
    label: 'train VAE',
    progress: opts.progress,
    status: epochStatus,
    finite: (r) => [['loss', r.loss]],
    callbacks,
  });
  return { history: result.history, bestEpoch: result.bestEpoch, stoppedEarly: result.stoppedEarly, seconds: result.seconds };
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

/**
 * Returns the VAE that `config` trains on `data`, from the model store when this config and data were
 * trained before (reported on the log), else trains it and stores it. A store file that cannot be read is
 * reported and replaced.
 */
export async function trainOrLoad(config: ExperimentConfig, data: Float32Array, opts: TrainOrLoadOptions = {}): Promise<TrainOrLoadResult> {
  const key = cacheKey(config, data, opts.validation);
  type Stored = { vae: Vae; history: EpochRecord[]; createdAt?: string; seconds?: number; bestEpoch?: number };
  const { value, fromCache, file } = await loadOrTrain<Stored>({
    file: storeFile(opts.cacheDir ?? path.join('.cache', 'models'), 'vae', key),
    label: 'trainOrLoad',
    force: opts.force,
    log: opts.log,
    load: (f) => {
      const loaded = loadCheckpoint(f);
      if (loaded.cacheKey !== key) {
        loaded.vae.dispose();
        throw new InputError(f, 'its cache key does not match its name');
      }
      return loaded;
    },
    train: async () => {
      const vae = new Vae(config.model);
      try {
        const result = await trainVae(vae, data, config.training, { validation: opts.validation, progress: opts.progress });
        return { vae, history: result.history, seconds: result.seconds, bestEpoch: result.bestEpoch };
      } catch (err) {
        vae.dispose();
        throw err;
      }
    },
    save: (f, v) => saveCheckpoint(f, v.vae, { epoch: v.bestEpoch, history: v.history, training: config.training, cacheKey: key }),
    dispose: (v) => v.vae.dispose(),
    loadedLine: (v, f) => `trainOrLoad: loaded the cached VAE from ${f} (trained ${v.history.length} epochs, ${v.createdAt}); delete the file or pass force: true to retrain`,
    trainedLine: (v, f) => `trainOrLoad: trained for ${fmtSecs(v.seconds ?? 0)} and saved to ${f}`,
  });
  return { vae: value.vae, history: value.history, fromCache, file, key };
}
