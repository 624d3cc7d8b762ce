/**
 * The Riemannian metric that a trained vanilla VAE's posteriors define (Chadebec & Allassonniere, "A
 * Geometric Perspective on Variational Autoencoders", NeurIPS 2022, Eq. 7):
 *
 *   G(z) = sum_i Sigma_i^(-1) w_i(z) + lambda exp(-tau |z|^2) I,
 *   w_i(z) = exp(-(z - mu_i)^T Sigma_i^(-1) (z - mu_i) / rho^2),
 *
 * over centroids mu_i (k-medoids of the training means) with the encoder's diagonal posterior covariance
 * Sigma_i at each. G is large (the posteriors are narrow) on the data and falls to lambda I away from it,
 * so the Riemannian volume sqrt(det G) is a density that concentrates on the data: sampling it uniformly
 * (HMC, ../sampling/hmc.ts) is the paper's generator, and 1 / sqrt(det G) the potential its interpolations
 * avoid. With tau = 0 that density is improper (it tends to lambda^(d/2) far away): the sampler relies on
 * chains that start on the data and, over a hundred short iterations, almost never cross the floor.
 * Diagonal posteriors make G diagonal: everything here works on the diagonal [B, d], and log det G is a
 * sum of logs.
 *
 * Evaluation uses matMuls only: (z - mu)^T S (z - mu) = (z*z) s^T - 2 z (mu*s)^T + mu^T S mu for all
 * centroids at once, as [B, d] x [d, K] products with 1 / rho^2 folded in, through matMuls whose
 * gradient avoids wasm's slow transposed operands; HMC differentiates log sqrt(det G) by tfjs autodiff
 * about a thousand times per sample batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { LogVolumeWithGrad, Metric } from './metric';
import { valueAndRowGradients } from './log-volume';
import { mapPointBatches } from '../runtime/batch';
import { kmedoids } from '../stats/kmeans';
import { Rng } from '../util/rng';
import { InputError } from '../util/errors';
import { euclideanDistanceMatrix } from './support';

/** The constants of G, plain arrays (float32, as the encoder produced them). */
export interface PosteriorMetricParams {
  /** d */
  dim: number;
  /** mu_i: [K, d]. */
  centers: Float32Array;
  /** The diagonal of Sigma_i^(-1) = exp(-logvar_i): [K, d]. */
  precisions: Float32Array;
  /** rho: the bandwidth of the weights. */
  rho: number;
  /** lambda: the floor of G far from the data. */
  lambda: number;
  /** tau: the decay of the floor (the paper's is ~0). */
  tau: number;
}

export class PosteriorMetric implements Metric {
  readonly dim: number;
  readonly params: PosteriorMetricParams;
  /** -q_i(z) / rho^2 = (z*z) this.squares + z this.linear + this.bias, [B, K]. */
  private readonly squares: ConstantMatMul;
  private readonly linear: ConstantMatMul;
  private readonly bias: tf.Tensor1D;
  /** w [B, K] x S [K, d]. */
  private readonly weighted: ConstantMatMul;

  constructor(params: PosteriorMetricParams) {
    const { dim: d, centers, precisions, rho } = checkParams(params);
    this.dim = d;
    this.params = params;
    const k = centers.length / d;
    // (z - mu)^T S (z - mu) = sum_j s_j z_j^2 - 2 s_j mu_j z_j + s_j mu_j^2, scaled by -1 / rho^2.
    const scale = -1 / (rho * rho);
    const squares = new Float32Array(d * k);
    const linear = new Float32Array(d * k);
    const bias = new Float32Array(k);
    for (let i = 0; i < k; i++) {
      let c = 0;
      for (let j = 0; j < d; j++) {
        const sij = precisions[i * d + j];
        const mu = centers[i * d + j];
        squares[j * k + i] = scale * sij;
        linear[j * k + i] = -2 * scale * mu * sij;
        c += mu * mu * sij;
      }
      bias[i] = scale * c;
    }
    this.squares = constantMatMul(squares, d, k);
    this.linear = constantMatMul(linear, d, k);
    this.bias = tf.tensor1d(bias);
    this.weighted = constantMatMul(precisions, k, d);
  }

  /** K, the number of centroids. */
  get centroidCount(): number {
    return this.params.centers.length / this.dim;
  }

  /** The diagonal of G(z): [B, d] -> [B, d]. */
  diagonal(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { lambda, tau } = this.params;
      // Two products rather than one of [z*z, z]: wasm's concat along columns copies row by row.
      const w = fastExp(tf.add(tf.add(this.squares.apply(tf.square(z)), this.linear.apply(z)), this.bias) as tf.Tensor2D);
      const floor = tau === 0 ? tf.scalar(lambda) : tf.expandDims(tf.mul(tf.exp(tf.mul(tf.sum(tf.square(z), 1), -tau)), lambda), 1);
      return tf.add(this.weighted.apply(w), floor) as tf.Tensor2D;
    });
  }

  /** G(z) [B, d, d]: the diagonal on the diagonal. */
  tensor(z: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => tf.mul(tf.expandDims(this.diagonal(z), 2), tf.expandDims(tf.eye(this.dim), 0)) as tf.Tensor3D);
  }

  /** log sqrt(det G(z)) = 1/2 sum_j log G_jj: [B]. */
  logSqrtDetG(z: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.mul(tf.sum(tf.log(this.diagonal(z)), 1), 0.5) as tf.Tensor1D);
  }

  /**
   * log sqrt(det G) and its gradient by tfjs autodiff, in one forward and one backward pass. The points are
   * independent, so the gradient of the sum is every point's own gradient.
   */
  logVolumeWithGrad(z: tf.Tensor2D): LogVolumeWithGrad {
    return valueAndRowGradients((x) => this.logSqrtDetG(x), z);
  }

  dispose(): void {
    this.squares.dispose();
    this.linear.dispose();
    this.weighted.dispose();
    this.bias.dispose();
  }
}

/**
 * exp(x) as sigmoid(x) / sigmoid(-x), with the gradient dy exp(x). On wasm tf.exp is a scalar loop (~6 ns
 * an element) while sigmoid is vectorised (~1 ns): over the [B, K] weights of an HMC batch this is the
 * largest single cost. Both sigmoids stay within float32 range down to exp(x) ~ 1e-38, below which the
 * weight is 0 either way; for the exponents here (x <= 0) the quotient is exact to a few ulp.
 */
const fastExp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
  const y = tf.div(tf.sigmoid(x), tf.sigmoid(tf.neg(x)));
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0])] };
}) as (x: tf.Tensor2D) => tf.Tensor2D;

/** x -> x K for a constant K, differentiable in x only. */
interface ConstantMatMul {
  apply(x: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

/**
 * x K with K [rows, cols] held with its transpose, so that the gradient dy K^T is a plain matMul: neither
 * wasm's slow transposed operands nor linear()'s unneeded kernel and bias gradients (which would
 * transpose the [B, K] activations at every HMC step).
 */
function constantMatMul(values: Float32Array, rows: number, cols: number): ConstantMatMul {
  const k = tf.tensor2d(values, [rows, cols]);
  const kT = tf.tidy(() => tf.transpose(k));
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    return { value: tf.matMul(x, k), gradFunc: (dy: tf.Tensor) => [tf.matMul(dy as tf.Tensor2D, kT)] };
  });
  return { apply: (x) => op(x) as tf.Tensor2D, dispose: () => tf.dispose([k, kT]) };
}

function checkParams(p: PosteriorMetricParams): PosteriorMetricParams {
  const d = p.dim;
  if (!(Number.isInteger(d) && d >= 1)) throw new InputError('PosteriorMetricParams.dim', `expected a positive integer, got ${d}`);
  if (p.centers.length === 0 || p.centers.length % d !== 0) throw new InputError('PosteriorMetricParams.centers', `expected [K, ${d}] values, got ${p.centers.length}`);
  if (p.precisions.length !== p.centers.length) throw new InputError('PosteriorMetricParams.precisions', `expected ${p.centers.length} values (one per centre coordinate), got ${p.precisions.length}`);
  if (!p.precisions.every((s) => s > 0 && Number.isFinite(s))) throw new InputError('PosteriorMetricParams.precisions', 'expected finite positive values');
  if (!(p.rho > 0 && Number.isFinite(p.rho))) throw new InputError('PosteriorMetricParams.rho', `expected a positive number, got ${p.rho}`);
  if (!(p.lambda > 0)) throw new InputError('PosteriorMetricParams.lambda', `expected a positive number (G must stay invertible), got ${p.lambda}`);
  if (!(p.tau >= 0)) throw new InputError('PosteriorMetricParams.tau', `expected a number >= 0, got ${p.tau}`);
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// Building the metric from a VAE's posteriors

export interface PosteriorMetricOptions {
  /** K, the number of centroids (the official code's 100). */
  centroids?: number;
  /** The floor lambda (MNIST: 0.01). */
  lambda?: number;
  /** The floor's decay tau (default 0). */
  tau?: number;
  /** Overrides rho (default: the largest distance from a centroid to its nearest other centroid). */
  rho?: number;
  /**
   * k-medoids runs on a distance matrix, so at most this many training means (a seeded random subset) are
   * clustered (default 3000: a 36 MB float32 matrix).
   */
  maxMedoidPoints?: number;
  seed?: number;
}

/** The largest distance from a centre [K, d] to its nearest other centre: the paper's rho. */
export function largestNearestDistance(centers: ArrayLike<number>, d: number): number {
  const k = centers.length / d;
  if (k < 2) throw new RangeError('largestNearestDistance: needs at least 2 centres');
  let worst = 0;
  for (let a = 0; a < k; a++) {
    let best = Infinity;
    for (let b = 0; b < k; b++) {
      if (a === b) continue;
      let s = 0;
      for (let j = 0; j < d; j++) s += (centers[a * d + j] - centers[b * d + j]) ** 2;
      best = Math.min(best, s);
    }
    worst = Math.max(worst, best);
  }
  return Math.sqrt(worst);
}

/**
 * Indices of K training points whose means are k-medoids centroids: on a seeded random subset of at most
 * maxPoints means when there are more (the distance matrix is N^2).
 */
export function medoidIndices(means: Float32Array, d: number, k: number, opts: { maxPoints?: number; seed?: number } = {}): Int32Array {
  const n = means.length / d;
  const maxPoints = opts.maxPoints ?? 3000;
  const rng = new Rng(opts.seed ?? 0);
  const subset = n > maxPoints ? rng.permutation(n).subarray(0, maxPoints) : Int32Array.from({ length: n }, (_, i) => i);
  const x = new Float32Array(subset.length * d);
  subset.forEach((row, i) => x.set(means.subarray(row * d, (row + 1) * d), i * d));
  const { medoids } = kmedoids(euclideanDistanceMatrix(x, d), Math.min(k, subset.length), { seed: rng.seed() });
  return medoids.map((m) => subset[m]);
}

/**
 * The metric of Eq. 7 from the encoder's posteriors on the training data: means and log-variances [N, d].
 * Centroids are k-medoids of the means; Sigma_i is the posterior covariance at each centroid's data point.
 */
export function posteriorMetric(means: Float32Array, logvars: Float32Array, d: number, opts: PosteriorMetricOptions = {}): PosteriorMetric {
  if (means.length !== logvars.length || means.length % d !== 0) {
    throw new InputError('posteriorMetric', `means (${means.length} values) and logvars (${logvars.length}) must both be [N, ${d}]`);
  }
  const idx = medoidIndices(means, d, opts.centroids ?? 100, { maxPoints: opts.maxMedoidPoints, seed: opts.seed });
  const k = idx.length;
  const centers = new Float32Array(k * d);
  const precisions = new Float32Array(k * d);
  idx.forEach((row, i) => {
    for (let j = 0; j < d; j++) {
      centers[i * d + j] = means[row * d + j];
      precisions[i * d + j] = Math.exp(-logvars[row * d + j]);
    }
  });
  const rho = opts.rho ?? largestNearestDistance(centers, d);
  return new PosteriorMetric({ dim: d, centers, precisions, rho, lambda: opts.lambda ?? 0.01, tau: opts.tau ?? 0 });
}

/** log sqrt(det G) at flat points [N, d], in batches: a host array [N]. */
export function logSqrtDetGAt(metric: PosteriorMetric, points: Float32Array, batchSize = 4096): Float64Array {
  return Float64Array.from(mapPointBatches(points, metric.dim, batchSize, 1, (z) => metric.logSqrtDetG(z)));
}
