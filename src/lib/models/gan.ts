/**
 * A GAN (Goodfellow et al. 2014) with MLP generator and discriminator and the non-saturating generator
 * loss: the discriminator minimises softplus(-D(x)) + softplus(D(G(z))) (cross-entropy on its logits),
 * the generator minimises softplus(-D(G(z))) rather than -softplus(D(G(z))), whose gradient vanishes while
 * the discriminator wins. Codes come from the prior z ~ N(0, I); the generator ends in a sigmoid (pixels
 * in [0, 1]) and, as a Decoder, has no std model: its metric is J^T J.
 */
import * as tf from '@tensorflow/tfjs';
import { createMlp, Mlp } from '../nn/mlp';
import { InputError, positiveInt } from '../util/errors';
import { Rng } from '../util/rng';
import { GaussianDecoder } from './decoder';
import { CachedModel, ModelCacheOptions, NoisePool, StatSums, TrainableModel, ZooTrainConfig, namedNetVariables, nonNegativeNumber, trainModelOrLoad } from './generator-zoo';
import { Adam, AdamOptions, NamedVariable, NetConfig, checkNet, cloneMlp, netSpec } from './vae';

export interface GanConfig {
  /** D, the data dimension. */
  inputDim: number;
  /** d, the latent (prior) dimension. */
  latentDim: number;
  /** Generator trunk; a last layer with a sigmoid gives the D outputs. */
  generator: NetConfig;
  /** Discriminator trunk; a last linear layer gives one logit. */
  discriminator: NetConfig;
  /**
   * Std of the Gaussian "instance noise" added to every row the discriminator sees, real or generated
   * (Sønderby et al. 2017; Arjovsky & Bottou 2017), default 0. It blurs the two distributions so that
   * they overlap and the discriminator cannot separate them perfectly, which keeps the generator's
   * gradient alive; on MNIST with these small MLPs the discriminator otherwise wins within an epoch.
   */
  discriminatorNoise?: number;
  /**
   * One-sided label smoothing (Salimans et al. 2016): the discriminator's target for real rows, default 1.
   * Below 1 (0.9 is usual) it keeps D from growing over-confident on the data; generated rows keep the
   * target 0 and the generator's objective is unchanged, so G is left alone.
   */
  realLabel?: number;
  /** Seed of the weights, the prior samples and the instance noise (default 0). */
  seed?: number;
}

export type ResolvedGanConfig = Required<Omit<GanConfig, 'realLabel'>> & Pick<GanConfig, 'realLabel'>;

/** Defaults filled in, every field checked; the object's key order is fixed (it is hashed by the cache). */
export function resolveGanConfig(c: GanConfig): ResolvedGanConfig {
  return {
    inputDim: positiveInt(c.inputDim, 'GanConfig.inputDim'),
    latentDim: positiveInt(c.latentDim, 'GanConfig.latentDim'),
    generator: checkNet(c.generator, 'GanConfig.generator'),
    discriminator: checkNet(c.discriminator, 'GanConfig.discriminator'),
    discriminatorNoise: nonNegativeNumber(c.discriminatorNoise ?? 0, 'GanConfig.discriminatorNoise'),
    ...realLabelField(c.realLabel),
    seed: c.seed ?? 0,
  };
}

/**
 * realLabel only when it differs from 1, so that the resolved config (hashed by the model cache) of a GAN
 * without label smoothing stays what it was before the option existed.
 */
function realLabelField(v: number | undefined): { realLabel?: number } {
  if (v === undefined || v === 1) return {};
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw new InputError('GanConfig.realLabel', `expected a number in (0, 1], got ${JSON.stringify(v)}`);
  return { realLabel: v };
}

/**
 * The stats a GAN step accumulates: the two objectives and the discriminator's mean probability of "real"
 * on real and on generated rows (1/2 each at the game's equilibrium).
 */
const GAN_STATS = ['d_loss', 'd_real', 'd_fake', 'g_loss'] as const;

/** mean softplus(-l): the cross-entropy of logits l [B, 1] against the label "real". */
function realLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.softplus(tf.neg(logits))) as tf.Scalar;
}

/** The cross-entropy of logits l [B, 1] against the soft target t: t softplus(-l) + (1 - t) softplus(l). */
function smoothedRealLoss(logits: tf.Tensor2D, t: number): tf.Scalar {
  return t === 1 ? realLoss(logits) : (tf.add(tf.mul(realLoss(logits), t), tf.mul(fakeLoss(logits), 1 - t)) as tf.Scalar);
}

/** mean softplus(l): the cross-entropy of logits l [B, 1] against the label "fake". */
function fakeLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.softplus(logits)) as tf.Scalar;
}

export class Gan implements TrainableModel {
  readonly config: ResolvedGanConfig;
  /** z [B, d] -> x [B, D] in [0, 1]. */
  readonly generator: Mlp;
  /** x [B, D] -> logit [B, 1]. */
  readonly discriminator: Mlp;
  private readonly noise: Rng;
  /** The instance noise. */
  private readonly pool: NoisePool;
  private training: { dAdam: Adam; gAdam: Adam; stats: StatSums } | null = null;

  constructor(config: GanConfig) {
    const c = resolveGanConfig(config);
    this.config = c;
    const rng = new Rng(c.seed);
    this.generator = createMlp(netSpec(c.latentDim, c.generator, c.inputDim, 'sigmoid'), rng, 'GAN generator');
    this.discriminator = createMlp(netSpec(c.inputDim, c.discriminator, 1, 'linear'), rng, 'GAN discriminator');
    this.noise = new Rng(rng.seed());
    this.pool = new NoisePool(new Rng(rng.seed()));
  }

  get inputDim(): number {
    return this.config.inputDim;
  }

  get latentDim(): number {
    return this.config.latentDim;
  }

  namedVariables(): NamedVariable[] {
    return namedNetVariables([
      ['generator', this.generator],
      ['discriminator', this.discriminator],
    ]);
  }

  /** `n` codes from the prior N(0, I) [n, d], from `rng` (default the model's own stream). */
  samplePrior(n: number, rng: Rng = this.noise): Float32Array {
    return rng.normals(n * this.latentDim);
  }

  /** The discriminator's objective on real rows x [B, D] and generated G(z), z [B', d] (no instance noise). */
  discriminatorLoss(x: tf.Tensor2D, z: tf.Tensor2D): tf.Scalar {
    const t = this.config.realLabel ?? 1;
    return tf.tidy(() => tf.add(smoothedRealLoss(this.discriminator.apply(x), t), fakeLoss(this.discriminator.apply(this.generator.apply(z)))) as tf.Scalar);
  }

  /** The non-saturating generator objective at codes z [B, d] (no instance noise). */
  generatorLoss(z: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => realLoss(this.discriminator.apply(this.generator.apply(z))));
  }

  /**
   * One discriminator update on real rows x and codes z (the generator fixed). Returns the per-batch stat
   * sums [d_loss, d_real, d_fake] * B for the accumulator, which the caller disposes.
   */
  discriminatorStep(x: tf.Tensor2D, z: tf.Tensor2D): tf.Tensor1D {
    const { dAdam } = this.trainingState();
    const vars = this.discriminator.variables();
    return tf.tidy(() => {
      // G(z) outside the gradient scope: the tape then records the discriminator only.
      const fake = this.generator.apply(z);
      // The mean probabilities of "real" [2], kept out of variableGrads' scope, which frees everything else.
      let probs: tf.Tensor1D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const real = this.discriminator.apply(this.blur(x));
        const faked = this.discriminator.apply(this.blur(fake));
        probs = tf.keep(tf.stack([tf.mean(tf.sigmoid(real)), tf.mean(tf.sigmoid(faked))]) as tf.Tensor1D);
        return tf.add(smoothedRealLoss(real, this.config.realLabel ?? 1), fakeLoss(faked)) as tf.Scalar;
      }, vars);
      dAdam.step(vars.map((v) => grads[v.name]));
      const out = tf.mul(tf.concat([tf.reshape(value, [1]), probs!]), x.shape[0]) as tf.Tensor1D;
      probs!.dispose();
      return out;
    });
  }

  /** One generator update at codes z (the discriminator fixed); returns the batch's g_loss * B. */
  generatorStep(z: tf.Tensor2D): tf.Scalar {
    const { gAdam } = this.trainingState();
    const vars = this.generator.variables();
    return tf.tidy(() => {
      const noise = this.instanceNoise(z.shape[0]);
      const { value, grads } = tf.variableGrads(() => {
        const x = this.generator.apply(z);
        return realLoss(this.discriminator.apply(noise ? (tf.add(x, noise) as tf.Tensor2D) : x));
      }, vars);
      gAdam.step(vars.map((v) => grads[v.name]));
      return tf.mul(value, z.shape[0]) as tf.Scalar;
    });
  }

  /** A discriminator step then a generator step on fresh prior samples of the same batch size. */
  trainStep(batch: Float32Array): void {
    const { stats } = this.trainingState();
    const D = this.inputDim;
    const b = batch.length / D;
    tf.tidy(() => {
      const x = tf.tensor2d(batch, [b, D]);
      const d = this.discriminatorStep(x, tf.tensor2d(this.samplePrior(b), [b, this.latentDim]));
      const g = this.generatorStep(tf.tensor2d(this.samplePrior(b), [b, this.latentDim]));
      stats.add(tf.concat([d, tf.reshape(g, [1])]) as tf.Tensor1D, b); // GAN_STATS order
    });
  }

  /** Instance noise for b rows [b, D] from the model's stream, or null when the config has none. */
  private instanceNoise(b: number): tf.Tensor2D | null {
    const s = this.config.discriminatorNoise;
    return s > 0 ? tf.tidy(() => tf.mul(tf.tensor2d(this.pool.take(b * this.inputDim), [b, this.inputDim]), s) as tf.Tensor2D) : null;
  }

  /** x plus instance noise (x itself without it). */
  private blur(x: tf.Tensor2D): tf.Tensor2D {
    const noise = this.instanceNoise(x.shape[0]);
    return noise ? (tf.add(x, noise) as tf.Tensor2D) : x;
  }

  /** The generator as a deterministic Decoder with its own copy of the weights. */
  decoder(): GaussianDecoder {
    return new GaussianDecoder(cloneMlp(this.generator));
  }

  resetTraining(adam: AdamOptions): void {
    this.disposeTraining();
    this.training = {
      dAdam: new Adam(this.discriminator.variables(), adam),
      gAdam: new Adam(this.generator.variables(), adam),
      stats: new StatSums(GAN_STATS),
    };
  }

  takeTrainingStats(): Record<string, number> {
    return this.training ? this.training.stats.take() : Object.fromEntries(GAN_STATS.map((k) => [k, NaN]));
  }

  disposeTraining(): void {
    if (!this.training) return;
    this.training.dAdam.dispose();
    this.training.gAdam.dispose();
    this.training.stats.dispose();
    this.training = null;
  }

  dispose(): void {
    this.disposeTraining();
    this.generator.dispose();
    this.discriminator.dispose();
  }

  private trainingState(): NonNullable<Gan['training']> {
    if (!this.training) this.resetTraining({});
    return this.training!;
  }
}

/** The GAN that `training` trains on rows [N, D], from the model cache when trained before. */
export function trainGanOrLoad(config: GanConfig, training: ZooTrainConfig, data: Float32Array, opts: ModelCacheOptions = {}): Promise<CachedModel<Gan>> {
  const resolved = resolveGanConfig(config);
  return trainModelOrLoad({ kind: 'gan', resolvedConfig: resolved, build: () => new Gan(resolved), training }, data, opts);
}
