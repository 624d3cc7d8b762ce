/**
 * Log-densities of fitted LANDs and mixtures at points (by log maps), the normaliser alone, and samples by
 * sampling-importance-resampling of tangent samples.
 */
import type { Metric } from '../../geometry/metric';
import { fieldsAt } from '../../geometry/fields';
import { PointsInput, toFlatPoints } from '../../geometry/geodesics';
import { Rng } from '../../util/rng';
import { drawIndex } from '../gaussian';
import { choleskyFactor, mahalanobisSquared } from '../../numerics/dense';
import { logSumExp } from '../../numerics/statistics';
import { Land, LandMixture, TangentMcOptions, LandGeometryOptions } from './types';
import { tangentBase, drawTangentSamples, normaliserAt } from './normaliser';
import { logMaps } from './fit';

export interface LandDensity {
  /** log p(x_n) with respect to the Riemannian measure. */
  riemannian: Float64Array;
  /** log p(x_n) + log sqrt(det M(x_n)): with respect to the Lebesgue measure of the latent coordinates. */
  lebesgue: Float64Array;
  /** Log maps whose boundary value solve did not converge (their value is still used). */
  logMapFailures: number;
}

/** log-densities of a LAND mixture (a single LAND is a mixture of one) at points [N, d]. */
export function landMixtureLogDensity(metric: Metric, mixture: LandMixture, points: PointsInput, opts: LandGeometryOptions = {}): LandDensity {
  const d = metric.dim;
  const x = toFlatPoints(points, d, 'points');
  const n = x.length / d;
  const k = mixture.components.length;
  const terms = new Float64Array(n * k);
  let failures = 0;
  mixture.components.forEach((c, j) => {
    const lm = logMaps(metric, c.mean, x, opts);
    failures += lm.failures;
    const m = mahalanobisSquared(choleskyFactor(c.cov, d, 'LAND covariance'), d, lm.logs);
    for (let p = 0; p < n; p++) terms[p * k + j] = Math.log(mixture.weights[j]) - 0.5 * m[p] - c.logNormaliser;
  });
  const riemannian = Float64Array.from({ length: n }, (_, p) => logSumExp(terms, p * k, k));
  const logVolume = fieldsAt(metric, Float32Array.from(x)).logVolume;
  return { riemannian, lebesgue: riemannian.map((r, p) => r + logVolume[p]), logMapFailures: failures };
}

export function landLogDensity(metric: Metric, land: Land, points: PointsInput, opts: LandGeometryOptions = {}): LandDensity {
  return landMixtureLogDensity(metric, asMixture(land), points, opts);
}

export function asMixture(land: Land): LandMixture {
  return { dim: land.dim, weights: Float64Array.of(1), components: [land] };
}

/** A fresh estimate of a LAND's normaliser (new samples): log C and its standard error. */
export function landNormaliser(metric: Metric, mean: ArrayLike<number>, cov: ArrayLike<number>, opts: { mc?: TangentMcOptions } & LandGeometryOptions = {}): { logC: number; se: number; failures: number; dropped: number } {
  const d = metric.dim;
  const base = tangentBase(d, opts.mc);
  const samples = drawTangentSamples(metric, Float64Array.from(mean), Float64Array.from(cov), base, (opts.mc?.seed ?? 0) + 1, { ...opts, maxRedraws: opts.mc?.maxRedraws });
  const est = normaliserAt(samples, samples.a0, d, opts.mc?.antithetic ?? true);
  return { logC: est.logC, se: est.se, failures: samples.failures, dropped: samples.dropped };
}

export interface LandSamples {
  /** [n, d] */
  points: Float64Array;
  /** The component each sample came from. */
  components: Int32Array;
  /** Effective sample size of the volume weights behind the resampling (per component, summed). */
  effectiveSize: number;
  /** Exp maps that failed (redrawn). */
  expMapFailures: number;
}

/**
 * Samples by sampling-importance-resampling in the tangent space: the LAND's tangent density is
 * proportional to m(Exp_mu(v)) N(v; 0, Sigma) (the same measure as the normaliser), so draw `oversample`
 * x n tangent vectors from N(0, Sigma), map them by Exp_mu, and resample n of them with probability
 * proportional to m. Mixtures pick each sample's component by the weights first.
 */
export function sampleLandMixture(metric: Metric, mixture: LandMixture, n: number, opts: { seed?: number; oversample?: number } & LandGeometryOptions = {}): LandSamples {
  const d = metric.dim;
  const rng = new Rng(opts.seed ?? 0);
  const components = Int32Array.from({ length: n }, () => drawIndex(mixture.weights, rng));
  const points = new Float64Array(n * d);
  let ess = 0;
  let failures = 0;
  mixture.components.forEach((c, j) => {
    const idx: number[] = [];
    components.forEach((cj, p) => cj === j && idx.push(p));
    if (idx.length === 0) return;
    const pool = Math.max(2, Math.ceil((opts.oversample ?? 4) * idx.length));
    const base = tangentBase(d, { samples: pool, seed: rng.seed(), antithetic: false, whiten: false });
    const samples = drawTangentSamples(metric, c.mean, c.cov, base, rng.seed(), opts);
    failures += samples.failures;
    const est = normaliserAt(samples, samples.a0, d, false);
    ess += est.ess;
    for (const p of idx) {
      const s = drawIndex(est.q, rng);
      points.set(samples.endpoints.subarray(s * d, (s + 1) * d), p * d);
    }
  });
  return { points, components, effectiveSize: ess, expMapFailures: failures };
}

export function sampleLand(metric: Metric, land: Land, n: number, opts: { seed?: number; oversample?: number } & LandGeometryOptions = {}): LandSamples {
  return sampleLandMixture(metric, asMixture(land), n, opts);
}

// ---------------------------------------------------------------------------------------------------------
// The four densities of the LAND study (notebook 05): Gaussian, GMM, LAND, mixture of LANDs
