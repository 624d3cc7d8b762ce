/**
 * A denoising autoencoder (Vincent et al. 2008) beside the VAE: the encoder sees the data corrupted by
 * Gaussian noise, x + noiseStd * eps, and the decoder must give back the clean x. The loss is the
 * Bernoulli cross-entropy of the VAE's reconstruction term (pixels in [0, 1]), so the two models differ
 * only by the VAE's posterior noise and KL term. Its generator, z -> sigmoid(decoder(z)), is deterministic:
 * as a Decoder it has no std model and its metric is J^T J.
 */
import * as tf from '@tensorflow/tfjs';
import { createMlp, Mlp } from '../nn/mlp';
import { mapPointBatches } from '../runtime/batch';
import { positiveInt } from '../util/errors';
import { Rng } from '../util/rng';
import { GaussianDecoder } from './decoder';
import { CachedModel, ModelCacheOptions, NoisePool, StatSums, TrainableModel, ZooTrainConfig, namedNetVariables, nonNegativeNumber, trainModelOrLoad } from './generator-zoo';
import { reconstructionNll } from './vae';
import { Adam, AdamOptions } from '../optim/adam';
import { NamedVariable, NetConfig, checkNet, cloneMlp, netSpec } from '../nn/net-config';

export interface DaeConfig {
  /** D, the data dimension. */
  inputDim: number;
  /** d, the code dimension. */
  latentDim: number;
  /** Encoder trunk; a last linear layer gives the code. */
  encoder: NetConfig;
  /** Decoder trunk; a last linear layer gives the logits. */
  decoder: NetConfig;
  /** Std of the Gaussian input corruption (default 0.3, on pixels in [0, 1]). */
  noiseStd?: number;
  /** Seed of the weights and of the corruption noise (default 0). */
  seed?: number;
}

export type ResolvedDaeConfig = Required<DaeConfig>;

/** Defaults filled in, every field checked; the object's key order is fixed (it is hashed by the cache). */
export function resolveDaeConfig(c: DaeConfig): ResolvedDaeConfig {
  return {
    inputDim: positiveInt(c.inputDim, 'DaeConfig.inputDim'),
    latentDim: positiveInt(c.latentDim, 'DaeConfig.latentDim'),
    encoder: checkNet(c.encoder, 'DaeConfig.encoder'),
    decoder: checkNet(c.decoder, 'DaeConfig.decoder'),
    noiseStd: nonNegativeNumber(c.noiseStd ?? 0.3, 'DaeConfig.noiseStd'),
    seed: c.seed ?? 0,
  };
}

export class Dae implements TrainableModel {
  readonly config: ResolvedDaeConfig;
  /** x [B, D] -> code [B, d]. */
  readonly encoder: Mlp;
  /** code [B, d] -> logits [B, D]. */
  readonly decoderNet: Mlp;
  private readonly noise: NoisePool;
  private training: { adam: Adam; stats: StatSums } | null = null;

  constructor(config: DaeConfig) {
    const c = resolveDaeConfig(config);
    this.config = c;
    const rng = new Rng(c.seed);
    this.encoder = createMlp(netSpec(c.inputDim, c.encoder, c.latentDim, 'linear'), rng, 'DAE encoder');
    this.decoderNet = createMlp(netSpec(c.latentDim, c.decoder, c.inputDim, 'linear'), rng, 'DAE decoder');
    this.noise = new NoisePool(new Rng(rng.seed()));
  }

  get inputDim(): number {
    return this.config.inputDim;
  }

  get latentDim(): number {
    return this.config.latentDim;
  }

  namedVariables(): NamedVariable[] {
    return namedNetVariables([
      ['encoder', this.encoder],
      ['decoder', this.decoderNet],
    ]);
  }

  variables(): tf.Variable[] {
    return this.namedVariables().map((v) => v.variable);
  }

  /** The codes of clean rows [N, D] (flat) as [N, d], in batches. */
  encodeMeans(data: Float32Array, batchSize = 2048): Float32Array {
    return mapPointBatches(data, this.inputDim, batchSize, this.latentDim, (x) => this.encoder.apply(x));
  }

  /** The reconstruction sigmoid(decoder(encoder(x))) of clean rows x [B, D]. */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.decoderNet.apply(this.encoder.apply(x))) as tf.Tensor2D);
  }

  /**
   * Mean over the batch of the cross-entropy of x given the reconstruction of its corrupted copy:
   * `eps` [B, D] is the standard normal corruption noise. Differentiable (the trainer's objective).
   */
  objective(x: tf.Tensor2D, eps: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const noisy = this.config.noiseStd > 0 ? (tf.add(x, tf.mul(eps, this.config.noiseStd)) as tf.Tensor2D) : x;
      const logits = this.decoderNet.apply(this.encoder.apply(noisy));
      return tf.mean(reconstructionNll({ kind: 'bernoulli', logits }, x, 0)) as tf.Scalar;
    });
  }

  /** The generator, z -> sigmoid(decoder(z)), as a deterministic Decoder with its own copy of the weights. */
  decoder(): GaussianDecoder {
    return new GaussianDecoder(cloneMlp(this.decoderNet, [{ kind: 'activation', spec: { name: 'sigmoid' } }]));
  }

  resetTraining(adam: AdamOptions): void {
    this.disposeTraining();
    this.training = { adam: new Adam(this.variables(), adam), stats: new StatSums(['loss']) };
  }

  trainStep(batch: Float32Array): void {
    if (!this.training) this.resetTraining({});
    const { adam, stats } = this.training!;
    const D = this.inputDim;
    const b = batch.length / D;
    const vars = this.variables();
    tf.tidy(() => {
      const x = tf.tensor2d(batch, [b, D]);
      const eps = tf.tensor2d(this.noise.take(b * D), [b, D]);
      const { value, grads } = tf.variableGrads(() => this.objective(x, eps), vars);
      adam.step(vars.map((v) => grads[v.name]));
      stats.add(tf.reshape(tf.mul(value, b), [1]) as tf.Tensor1D, b);
    });
  }

  takeTrainingStats(): Record<string, number> {
    return this.training ? this.training.stats.take() : { loss: NaN };
  }

  disposeTraining(): void {
    if (!this.training) return;
    this.training.adam.dispose();
    this.training.stats.dispose();
    this.training = null;
  }

  dispose(): void {
    this.disposeTraining();
    this.encoder.dispose();
    this.decoderNet.dispose();
  }
}

/** The DAE that `training` trains on rows [N, D], from the model cache when trained before. */
export function trainDaeOrLoad(config: DaeConfig, training: ZooTrainConfig, data: Float32Array, opts: ModelCacheOptions = {}): Promise<CachedModel<Dae>> {
  const resolved = resolveDaeConfig(config);
  return trainModelOrLoad({ kind: 'dae', resolvedConfig: resolved, build: () => new Dae(resolved), training }, data, opts);
}
