/**
 * Fitting the RBF precision net of Latent Space Oddity (section 4) to a trained VAE:
 * beta(z) = W v(z) + zeta, v_k(z) = exp(-lambda_k |z - c_k|^2), sigma(z) = beta(z)^(-1/2).
 *
 * - centres c_k: k-means (k-means++, restarts) of the latent means of the training data;
 * - bandwidths lambda_k = 1/2 (a * mean_{j in C_k} |z_j - c_k|)^(-2), a the curvature parameter;
 * - W >= 0 (projected after each step), with the encoder and the mean net frozen, trained either by
 *   regressing the VAE's own log-variance at the training means ('log-variance', the authors' recipe; needs a
 *   Gaussian VAE) or by the expected Gaussian log-likelihood of the data at those means ('elbo': the ELBO
 *   terms that depend on W; works for a Bernoulli VAE too, whose mean it keeps).
 *
 * Away from the data every v_k vanishes, so sigma tends to zeta^(-1/2): the uncertainty the metric needs
 * there, and what a softplus std net fails to extrapolate.
 */
import * as tf from '@tensorflow/tfjs';
import { RbfPrecision, projectNonNegative, rbfFeatures } from '../nn/rbf';
import { kmeans } from '../stats/kmeans';
import { InputError } from '../util/errors';
import { Rng } from '../util/rng';
import { Vae } from './vae';
import { Adam } from '../optim/adam';

export type RbfObjective = 'log-variance' | 'elbo';

export interface RbfFitConfig {
  /** K, the number of centres; default 64. */
  numCenters?: number;
  /** a in the bandwidth formula; larger a, wider kernels, gentler growth of sigma. Default 1.25. */
  curvature?: number;
  /** The precision far from the data (sigma -> zeta^(-1/2) there); default 1e-6, so sigma -> 1000 there. */
  zeta?: number;
  /** Default 'log-variance' for a Gaussian VAE, 'elbo' for a Bernoulli one (fitVaePrecision). */
  objective?: RbfObjective;
  /** Adam steps, default 500. */
  iterations?: number;
  /** Rows a step, default 512. */
  batchSize?: number;
  /**
   * Adam step size in units of each weight's initial scale (W is optimised as W0 * U with U >= 0 and W0 set
   * per output dimension, because precisions span orders of magnitude across pixels). Default 0.05.
   */
  learningRate?: number;
  /** k-means restarts, default 4. */
  kmeansRestarts?: number;
  seed?: number;
}

export interface RbfFitReport {
  objective: RbfObjective;
  numCenters: number;
  /** k-means inertia of the centres. */
  inertia: number;
  iterations: number;
  /** Mean loss per output element on an evaluation subset (up to 8192 rows), before and after the fit. */
  initialLoss: number;
  finalLoss: number;
  seconds: number;
}

/** What the fit needs: latent codes and, for any rows of them, the targets of the objective. */
export interface RbfFitProblem {
  /** [N, d] row-major. */
  latents: Float32Array;
  latentDim: number;
  /** D. */
  outputDim: number;
  objective: RbfObjective;
  /**
   * Targets [b, D] at the given rows (z = those rows of latents, [b, d]): log sigma^2 for 'log-variance',
   * squared residuals (x - mu(z))^2 for 'elbo'.
   */
  targets(rows: Int32Array, z: tf.Tensor2D): tf.Tensor2D;
}

/**
 * lambda_k = 1/2 (a * mean_{j in C_k} |z_j - c_k|)^(-2). A cluster whose points all sit on its centre (one
 * point, or duplicates) would get lambda = infinity; it takes the median mean distance of the other clusters.
 */
export function rbfBandwidths(latents: Float32Array, dim: number, centers: Float32Array, assignments: Int32Array, curvature: number): Float32Array {
  const k = centers.length / dim;
  const sum = new Float64Array(k);
  const count = new Int32Array(k);
  assignments.forEach((c, i) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += (latents[i * dim + j] - centers[c * dim + j]) ** 2;
    sum[c] += Math.sqrt(s);
    count[c]++;
  });
  const meanDist = Array.from(sum, (s, c) => (count[c] > 0 ? s / count[c] : 0));
  const positive = meanDist.filter((m) => m > 0).sort((a, b) => a - b);
  const fallback = positive.length > 0 ? positive[Math.floor(positive.length / 2)] : 1;
  return Float32Array.from(meanDist, (m) => 0.5 / (curvature * (m > 0 ? m : fallback)) ** 2);
}

/** Mean loss per element and d(loss)/d(beta) [b, D] for one batch. */
function lossAndBetaGrad(objective: RbfObjective, beta: tf.Tensor2D, target: tf.Tensor2D): { loss: tf.Scalar; dBeta: tf.Tensor2D } {
  const count = beta.size;
  if (objective === 'log-variance') {
    const r = tf.add(tf.log(beta), target); // log beta - log(1 / sigma^2)
    return { loss: tf.mean(tf.square(r)), dBeta: tf.div(tf.mul(r, 2 / count), beta) as tf.Tensor2D };
  }
  // 1/2 (beta (x - mu)^2 - log beta): -log N(x | mu, 1/beta) up to a constant.
  return {
    loss: tf.mul(tf.mean(tf.sub(tf.mul(beta, target), tf.log(beta))), 0.5),
    dBeta: tf.mul(tf.sub(target, tf.reciprocal(beta)), 0.5 / count) as tf.Tensor2D,
  };
}

function gatherLatents(latents: Float32Array, dim: number, rows: Int32Array): tf.Tensor2D {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(latents.subarray(r * dim, (r + 1) * dim), i * dim));
  return tf.tensor2d(out, [rows.length, dim]);
}

/** Mean loss per element over `rows`, in batches. */
function meanLoss(problem: RbfFitProblem, precisionAt: (z: tf.Tensor2D) => tf.Tensor2D, rows: Int32Array, batchSize: number): number {
  let total = 0;
  for (let s = 0; s < rows.length; s += batchSize) {
    const part = rows.subarray(s, Math.min(rows.length, s + batchSize));
    total += tf.tidy(() => {
      const z = gatherLatents(problem.latents, problem.latentDim, part);
      return lossAndBetaGrad(problem.objective, precisionAt(z), problem.targets(part, z)).loss.dataSync()[0] * part.length;
    });
  }
  return total / rows.length;
}

/**
 * Per output dimension, the weight that makes beta equal the targets' typical precision at the data:
 * W0_j = P_j / mean_i sum_k v_k(z_i), with P_j the geometric-mean precision (log-variance) or 1 / mean
 * squared residual (elbo) of dimension j on a sample. [1, D].
 */
function initialScale(problem: RbfFitProblem, features: (z: tf.Tensor2D) => tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
  return tf.tidy(() => {
    const z = gatherLatents(problem.latents, problem.latentDim, rows);
    const t = problem.targets(rows, z);
    const precision = problem.objective === 'log-variance' ? tf.exp(tf.neg(tf.mean(t, 0, true))) : tf.reciprocal(tf.add(tf.mean(t, 0, true), 1e-12));
    const vSum = tf.mean(tf.sum(features(z), 1));
    return tf.div(precision, tf.add(vSum, 1e-12)) as tf.Tensor2D;
  });
}

/** Fits centres, bandwidths and W >= 0; the caller owns (disposes) the returned net. */
export function fitRbfPrecision(problem: RbfFitProblem, config: RbfFitConfig = {}): { rbf: RbfPrecision; report: RbfFitReport } {
  const t0 = Date.now();
  const { latents, latentDim: d, outputDim: D } = problem;
  const n = latents.length / d;
  if (!Number.isInteger(n) || n < 1) throw new InputError('fitRbfPrecision: latents', `expected rows of ${d} values, got length ${latents.length}`);
  const k = Math.min(config.numCenters ?? 64, n);
  const zeta = config.zeta ?? 1e-6;
  if (!(zeta > 0)) throw new InputError('RbfFitConfig.zeta', `expected > 0, got ${zeta}`);
  const iterations = config.iterations ?? 500;
  const batchSize = Math.min(config.batchSize ?? 512, n);
  const rng = new Rng(config.seed ?? 0);

  const km = kmeans(latents, d, k, { restarts: config.kmeansRestarts ?? 4, seed: rng.seed() });
  const bandwidths = rbfBandwidths(latents, d, km.centers, km.assignments, config.curvature ?? 1.25);
  const centersT = tf.tensor2d(km.centers, [k, d]);
  const bandwidthsT = tf.tensor1d(bandwidths);
  // W is optimised as U * scale with U >= 0 [K, D]: `uNet` holds U, so rbfFeatures and projectNonNegative
  // apply to it, while the precision uses W^T = U * scale.
  const u = tf.tidy(() => tf.variable(tf.ones([k, D]), true)) as tf.Variable<tf.Rank.R2>;
  const uNet: RbfPrecision = { centers: centersT, bandwidths: bandwidthsT, weightT: u, zeta };
  const features = (z: tf.Tensor2D): tf.Tensor2D => rbfFeatures(uNet, z); // [b, K]
  const evalRows = n <= 8192 ? Int32Array.from({ length: n }, (_, i) => i) : rng.permutation(n).subarray(0, 8192);
  const scale = initialScale(problem, features, evalRows.subarray(0, Math.min(evalRows.length, 4 * batchSize))); // [1, D]
  const weightT = (): tf.Tensor2D => tf.mul(u, scale) as tf.Tensor2D;
  const precisionFrom = (v: tf.Tensor2D): tf.Tensor2D => tf.add(tf.matMul(v, weightT()), zeta) as tf.Tensor2D; // beta [b, D]
  const precisionAt = (z: tf.Tensor2D): tf.Tensor2D => precisionFrom(features(z));

  const adam = new Adam([u], { learningRate: config.learningRate ?? 0.05 });
  try {
    const initialLoss = meanLoss(problem, precisionAt, evalRows, 2048);
    let order = rng.permutation(n);
    let cursor = 0;
    for (let it = 0; it < iterations; it++) {
      if (cursor + batchSize > n) {
        order = rng.permutation(n);
        cursor = 0;
      }
      const rows = order.subarray(cursor, cursor + batchSize);
      cursor += batchSize;
      tf.tidy(() => {
        const z = gatherLatents(latents, d, rows);
        const v = features(z);
        const { dBeta } = lossAndBetaGrad(problem.objective, precisionFrom(v), problem.targets(rows, z));
        // dL/dU = (v^T dBeta) * scale; an explicit transpose (see nn/linear.ts).
        adam.step([tf.mul(tf.matMul(tf.transpose(v), dBeta), scale)]);
      });
      projectNonNegative(uNet);
    }
    const finalLoss = meanLoss(problem, precisionAt, evalRows, 2048);
    const rbf: RbfPrecision = { centers: centersT, bandwidths: bandwidthsT, weightT: tf.tidy(() => tf.variable(weightT(), true)) as tf.Variable<tf.Rank.R2>, zeta };
    const report: RbfFitReport = { objective: problem.objective, numCenters: k, inertia: km.inertia, iterations, initialLoss, finalLoss, seconds: (Date.now() - t0) / 1000 };
    return { rbf, report };
  } catch (err) {
    centersT.dispose();
    bandwidthsT.dispose();
    throw err;
  } finally {
    adam.dispose();
    u.dispose();
    scale.dispose();
  }
}

/** The fit problem of a trained VAE on its training data [N, D]: latents are the encoder means. */
export function vaePrecisionProblem(vae: Vae, data: Float32Array, objective: RbfObjective): RbfFitProblem {
  const D = vae.inputDim;
  if (objective === 'log-variance' && !vae.stdNet) {
    throw new InputError('RbfFitConfig.objective', "'log-variance' regresses the VAE's own variance, which a Bernoulli VAE does not have; use 'elbo'");
  }
  const latents = vae.encodeMeans(data);
  return {
    latents,
    latentDim: vae.latentDim,
    outputDim: D,
    objective,
    targets: (rows, z) =>
      tf.tidy(() => {
        if (objective === 'log-variance') return tf.mul(tf.log(vae.likelihoodStd(z)!), 2) as tf.Tensor2D;
        const x = new Float32Array(rows.length * D);
        rows.forEach((r, i) => x.set(data.subarray(r * D, (r + 1) * D), i * D));
        return tf.square(tf.sub(tf.tensor2d(x, [rows.length, D]), vae.decoderMean(z))) as tf.Tensor2D;
      }),
  };
}

/**
 * The RBF precision net for a trained VAE, to plug into its decoder:
 * `const dec = vae.decoder(); dec.setStdModel({ kind: 'rbf', rbf })`. Also returns the latent means.
 */
export function fitVaePrecision(vae: Vae, data: Float32Array, config: RbfFitConfig = {}): { rbf: RbfPrecision; report: RbfFitReport; latents: Float32Array } {
  const problem = vaePrecisionProblem(vae, data, config.objective ?? (vae.stdNet ? 'log-variance' : 'elbo'));
  return { ...fitRbfPrecision(problem, config), latents: problem.latents };
}
