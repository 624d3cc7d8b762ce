/**
 * The trainer's callbacks (trainer.ts), one concern each: KL warm-up, validation loss, learning-rate
 * schedules (step decay, reduce-on-plateau), keeping the best validation epoch with optional early stopping,
 * periodic checkpoints and a per-epoch hook. Each is a small object; the trainer calls them in the order
 * given, so a schedule that reads val_loss comes after the validation callback.
 */
import type * as tf from '@tensorflow/tfjs';
import { InputError } from '../util/errors';
import type { EpochRow, StepContext, TrainerCallback, TrainerState } from './trainer';

/**
 * KL warm-up (Sønderby et al. 2016): before each step, target.klWeight = beta * min(1, step / (warmupEpochs *
 * stepsPerEpoch)) over the global step, so the first steps train an autoencoder and the weight reaches beta
 * after the warm-up epochs.
 */
export function klWarmup<Row extends EpochRow>(target: { klWeight: number }, warmupEpochs: number, beta: number): TrainerCallback<Row> {
  return {
    onStepBegin: (ctx: StepContext) => {
      target.klWeight = klWeightAt(ctx.epoch * ctx.stepsPerEpoch + ctx.step, ctx.stepsPerEpoch, warmupEpochs, beta);
    },
  };
}

/**
 * The KL weight at (0-based) global step `step`: beta * min(1, step / (warmupEpochs * stepsPerEpoch)).
 * It starts at 0, so the first steps train an autoencoder, and reaches beta after the warm-up epochs.
 */
export function klWeightAt(step: number, stepsPerEpoch: number, warmupEpochs: number, beta: number): number {
  if (warmupEpochs <= 0) return beta;
  return beta * Math.min(1, step / (warmupEpochs * stepsPerEpoch));
}

/** Adds val_loss = loss() to every epoch's row. */
export function validationLoss<Row extends EpochRow & { val_loss?: number }>(loss: () => number): TrainerCallback<Row> {
  return {
    onEpochEnd: (row: Row) => {
      row.val_loss = loss();
    },
  };
}

/** Step decay: the rate of epoch e (0-based) is base * factor^floor(e / every). */
export function stepDecay<Row extends EpochRow>(base: number, factor: number, every: number): TrainerCallback<Row> {
  return {
    onEpochBegin: (epoch: number, state: TrainerState<Row>) => {
      state.learningRate = base * factor ** Math.floor(epoch / every);
    },
  };
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

/** Validated plateau settings, errors naming the field under `where`. */
export function checkPlateau(p: LrPlateauConfig, where = 'TrainConfig.lrPlateau'): LrPlateauConfig {
  if (!(p.factor > 0 && p.factor < 1)) throw new InputError(`${where}.factor`, `expected a number in (0, 1), got ${JSON.stringify(p.factor)}`);
  if (!(Number.isInteger(p.patience) && p.patience >= 0)) throw new InputError(`${where}.patience`, `expected an integer >= 0, got ${JSON.stringify(p.patience)}`);
  const threshold = p.threshold ?? 1e-4;
  if (!(threshold >= 0 && threshold < 1)) throw new InputError(`${where}.threshold`, `expected a number in [0, 1), got ${JSON.stringify(p.threshold)}`);
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

/** Reduce-on-plateau on val_loss (place it after validationLoss): records each epoch's rate in the row. */
export function reduceOnPlateau<Row extends EpochRow & { val_loss?: number; learningRate?: number }>(config: LrPlateauConfig): TrainerCallback<Row> {
  let plateau: LrPlateau | null = null;
  return {
    onEpochEnd: (row: Row, state: TrainerState<Row>) => {
      plateau ??= new LrPlateau(config, state.learningRate);
      row.learningRate = plateau.learningRate;
      state.learningRate = plateau.step(row.val_loss!);
    },
  };
}

/** What keepBest needs from a model: copies of its weights, and setting them back. */
export interface WeightAccess {
  snapshot(): tf.Tensor[];
  restore(weights: tf.Tensor[]): void;
}

/**
 * Keeps the weights of the epoch with the lowest val_loss (by more than minDelta) and restores them at the
 * end; with `patience`, stops after that many epochs without such an improvement (early stopping).
 */
export function keepBest<Row extends EpochRow & { val_loss?: number }>(model: WeightAccess, opts: { patience?: number; minDelta?: number } = {}): TrainerCallback<Row> {
  let best: { loss: number; epoch: number; weights: tf.Tensor[] } | null = null;
  let sinceBest = 0;
  const minDelta = opts.minDelta ?? 0;
  return {
    afterEpoch: (row: Row, state: TrainerState<Row>) => {
      if (row.val_loss === undefined) return;
      if (!best || row.val_loss < best.loss - minDelta) {
        best?.weights.forEach((w) => w.dispose());
        best = { loss: row.val_loss, epoch: row.epoch, weights: model.snapshot() };
        sinceBest = 0;
      } else if (++sinceBest >= (opts.patience ?? Infinity)) {
        state.stop = true;
      }
    },
    onTrainEnd: (state: TrainerState<Row>) => {
      if (best) {
        model.restore(best.weights);
        state.bestEpoch = best.epoch;
      }
      if (state.stop) state.notes.push(`stopped early; best epoch ${state.bestEpoch}`);
    },
    dispose: () => {
      best?.weights.forEach((w) => w.dispose());
      best = null;
    },
  };
}

/** Saves with `save(epoch, history)` every `everyEpochs` epochs and once at the end (the epoch the model then holds). */
export function checkpoints<Row extends EpochRow>(save: (epoch: number, history: Row[]) => void, everyEpochs = 1): TrainerCallback<Row> {
  return {
    afterEpoch: (row: Row, state: TrainerState<Row>) => {
      if (row.epoch % everyEpochs === 0) save(row.epoch, state.history);
    },
    onTrainEnd: (state: TrainerState<Row>) => save(state.bestEpoch, state.history),
  };
}

/** Calls f with every recorded row (e.g. to plot the history live). */
export function onEpoch<Row extends EpochRow>(f: (row: Row) => void): TrainerCallback<Row> {
  return { afterEpoch: (row: Row) => f(row) };
}
