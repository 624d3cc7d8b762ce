/**
 * What a VAE training run is configured with and what it records per epoch: the shared vocabulary of the
 * trainer (train.ts) and the checkpoints (checkpoint.ts), apart from both so that neither imports the other.
 */
import { InputError } from '../util/errors';
import type { AdamOptions } from '../optim/adam';
import { LrPlateauConfig, checkPlateau } from './training-callbacks';

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
  /** Multiply the learning rate by a factor when val_loss stalls, as torch's ReduceLROnPlateau. Needs validation data. */
  lrPlateau?: LrPlateauConfig;
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
