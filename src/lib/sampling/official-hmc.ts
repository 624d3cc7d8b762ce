/**
 * The sampler of the official code of "A Geometric Perspective on Variational Autoencoders" (Chadebec &
 * Allassonniere, NeurIPS 2022; sampling.py of clementchadebec/geometric_perspective_on_vaes), reproduced
 * so that its output can be set beside the exact sampler (./hmc.ts, riemannianUniform). Per iteration:
 *
 * - momentum rho = 0.5 N(0, I), while the Hamiltonian's kinetic energy is |rho|^2 / 2;
 * - 10 leapfrog steps driven by the gradient of sum_j log(G_jj(z) + (K - 1) lambda), K the number of
 *   centroids: its hand-written d_log_sqrt_det_G divides by sum_i (M_i w_i + lambda), which counts the
 *   floor K times. That is 2 grad log sqrt det G' for the metric G' with floor K lambda;
 * - a Metropolis test on log pi(z) = 1/2 log clamp(det G(z), 0, 1e10) with the true G, the chain going back
 *   to its previous state on rejection.
 *
 * The chain is therefore not invariant for sqrt(det G): the drift is twice too strong and points to a
 * flattened target, the momenta are colder than the kinetic energy assumes, and the clamp makes the test
 * blind wherever det G > 1e10 (on the data, for a 16-D latent space). It is labelled "official" wherever
 * it is used; the exact sampler stays the default.
 */
import * as tf from '@tensorflow/tfjs';
import { PosteriorMetric } from '../geometry/posterior-metric';
import { HmcOptions, HmcResult, LogDensity, autodiffDensity, hmc } from './hmc';

/** The official code's upper clamp of det G in its log pi. */
export const OFFICIAL_DET_CLAMP = 1e10;
/** The official code's momentum scale: rho = 0.5 N(0, I). */
export const OFFICIAL_MOMENTUM_STD = 0.5;

/** log pi(z) = 1/2 log min(det G(z), clamp): the official acceptance test's target [B]. */
export function officialLogPi(metric: PosteriorMetric, clamp = OFFICIAL_DET_CLAMP): LogDensity {
  const cap = 0.5 * Math.log(clamp);
  return autodiffDensity(metric.dim, (z) => tf.minimum(metric.logSqrtDetG(z), cap) as tf.Tensor1D);
}

/**
 * The official drift: sum_j log(G_jj + (K - 1) lambda) and its gradient, i.e. twice log sqrt det of the
 * metric `floored` (the same centroids with floor K lambda). The caller owns `floored`.
 */
export function officialDrift(floored: PosteriorMetric): LogDensity {
  return {
    dim: floored.dim,
    withGrad: (z) =>
      tf.tidy(() => {
        const { value, grad } = floored.logSqrtDetGWithGrad(z);
        return { value: tf.mul(value, 2) as tf.Tensor1D, grad: tf.mul(grad, 2) as tf.Tensor2D };
      }),
  };
}

/** The metric with the floor the official gradient uses: lambda -> K lambda. */
export function officialFlooredMetric(metric: PosteriorMetric): PosteriorMetric {
  return new PosteriorMetric({ ...metric.params, lambda: metric.params.lambda * metric.centroidCount });
}

/**
 * Runs the official sampler from init [C, d] (the official code starts each chain at a random training
 * mean) with its settings (step 0.01, 10 leapfrog steps, 100 iterations unless overridden).
 */
export function officialRiemannianHmc(metric: PosteriorMetric, init: Float32Array, opts: Omit<HmcOptions, 'momentumStd' | 'drift'> = {}): HmcResult {
  const floored = officialFlooredMetric(metric);
  try {
    return hmc(officialLogPi(metric), init, { ...opts, momentumStd: OFFICIAL_MOMENTUM_STD, drift: officialDrift(floored) });
  } finally {
    floored.dispose();
  }
}
