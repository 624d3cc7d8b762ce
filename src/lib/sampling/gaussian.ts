/**
 * Euclidean baselines for the densities on the learned manifold: a Gaussian fitted by maximum likelihood
 * and a Gaussian mixture fitted by EM (k-means++ start), with log-densities, samples, and the small dense
 * d x d linear algebra (Cholesky factors, triangular solves) that the LAND shares. Everything runs in
 * float64 on plain arrays: latent spaces are low-dimensional, so tensors would only add dispatch overhead.
 */
import { Rng } from '../util/rng';
import { kmeans } from '../stats/kmeans';
import { choleskyFactor, logDetFromCholesky, lowerTimes, mahalanobisSquared } from '../numerics/dense';
import { logSumExp, weightedMoments } from '../numerics/statistics';

/** N(mean, cov) in R^d. */
export interface Gaussian {
  readonly dim: number;
  /** [d] */
  readonly mean: Float64Array;
  /** [d, d] row-major, symmetric positive definite. */
  readonly cov: Float64Array;
}

/** The maximum-likelihood Gaussian of rows [N, d] (covariance divided by N), optionally weighted. */
export function fitGaussian(points: ArrayLike<number>, d: number, opts: { weights?: ArrayLike<number>; ridge?: number } = {}): Gaussian {
  const { mean, scatter } = weightedMoments(points, d, opts.weights);
  for (let i = 0; i < d; i++) scatter[i * d + i] += opts.ridge ?? 0;
  return { dim: d, mean, cov: scatter };
}

const LOG_2PI = Math.log(2 * Math.PI);

/** log N(x_n; mean, cov) for rows x [N, d]. */
export function gaussianLogDensity(g: Gaussian, points: ArrayLike<number>): Float64Array {
  const d = g.dim;
  const l = choleskyFactor(g.cov, d, 'gaussianLogDensity: the covariance');
  const norm = -0.5 * (d * LOG_2PI + logDetFromCholesky(l, d));
  const centred = Float64Array.from(points, (x, i) => x - g.mean[i % d]);
  return mahalanobisSquared(l, d, centred).map((q) => norm - 0.5 * q);
}

/** One draw mean + L eps into out[off..off+d), eps standard normal from rng. */
function drawRow(l: Float64Array, mean: ArrayLike<number>, d: number, rng: Rng, out: Float64Array, off: number, eps: Float64Array): void {
  for (let j = 0; j < d; j++) eps[j] = rng.normal();
  lowerTimes(l, d, eps, 0, out, off);
  for (let j = 0; j < d; j++) out[off + j] += mean[j];
}

/** n draws from N(mean, cov): [n, d]. */
export function sampleGaussian(g: Gaussian, n: number, rng: Rng): Float64Array {
  const d = g.dim;
  const l = choleskyFactor(g.cov, d, 'sampleGaussian: the covariance');
  const out = new Float64Array(n * d);
  const eps = new Float64Array(d);
  for (let p = 0; p < n; p++) drawRow(l, g.mean, d, rng, out, p * d, eps);
  return out;
}

/** sum_k weights_k N(mean_k, cov_k). */
export interface Gmm {
  readonly dim: number;
  /** [K], summing to 1. */
  readonly weights: Float64Array;
  readonly components: Gaussian[];
}

export interface GmmOptions {
  seed?: number;
  /** EM iterations at most (default 500). */
  maxIterations?: number;
  /** Stop when the mean log-likelihood rises by less than this (default 1e-8). */
  tolerance?: number;
  /**
   * Added to each covariance's diagonal, divided by the component's weight N_k (default 1e-6 x the data's
   * mean variance): the M-step of the log-likelihood penalised by -ridge/2 tr(Sigma_k^-1), so EM still
   * increases that objective monotonically while no component can collapse onto a single point.
   */
  ridge?: number;
}

export interface GmmFit {
  model: Gmm;
  /** Mean log-likelihood of the data after each E-step (the first: at the k-means start). */
  meanLogLikelihoods: number[];
  iterations: number;
  converged: boolean;
  /** [N, K] posterior component probabilities at the end. */
  responsibilities: Float64Array;
}

/** log(weight_k N(x_n; k)) for every point and component: [N, K]. */
function componentLogTerms(m: Gmm, points: ArrayLike<number>): Float64Array {
  const n = points.length / m.dim;
  const k = m.components.length;
  const out = new Float64Array(n * k);
  m.components.forEach((c, j) => {
    const lw = Math.log(m.weights[j]);
    gaussianLogDensity(c, points).forEach((v, p) => (out[p * k + j] = lw + v));
  });
  return out;
}

/** log p(x_n) under the mixture: [N]. */
export function gmmLogDensity(m: Gmm, points: ArrayLike<number>): Float64Array {
  const k = m.components.length;
  const terms = componentLogTerms(m, points);
  return Float64Array.from({ length: points.length / m.dim }, (_, p) => logSumExp(terms, p * k, k));
}

/** Responsibilities [N, K] from log terms (in place) and the mean log-likelihood. */
function normaliseRows(terms: Float64Array, k: number): number {
  const n = terms.length / k;
  let total = 0;
  for (let p = 0; p < n; p++) {
    const lse = logSumExp(terms, p * k, k);
    total += lse;
    for (let j = 0; j < k; j++) terms[p * k + j] = Math.exp(terms[p * k + j] - lse);
  }
  return total / n;
}

/** Gaussian mixture by EM from a k-means start; seeded. */
export function fitGmm(points: ArrayLike<number>, d: number, k: number, opts: GmmOptions = {}): GmmFit {
  const n = points.length / d;
  const data = Float32Array.from(points);
  const { scatter } = weightedMoments(points, d);
  let meanVar = 0;
  for (let i = 0; i < d; i++) meanVar += scatter[i * d + i] / d;
  const ridge = opts.ridge ?? 1e-6 * meanVar;
  const start = kmeans(data, d, k, { seed: opts.seed ?? 0 });
  let resp: Float64Array = new Float64Array(n * k);
  start.assignments.forEach((a, p) => (resp[p * k + a] = 1));
  let model = mStep(points, d, resp, k, ridge);
  const history: number[] = [];
  let converged = false;
  let iterations = 0;
  for (; iterations < (opts.maxIterations ?? 500); iterations++) {
    resp = componentLogTerms(model, points);
    history.push(normaliseRows(resp, k));
    const h = history.length;
    if (h >= 2 && history[h - 1] - history[h - 2] < (opts.tolerance ?? 1e-8)) {
      converged = true;
      break;
    }
    model = mStep(points, d, resp, k, ridge);
  }
  return { model, meanLogLikelihoods: history, iterations, converged, responsibilities: resp };
}

/** Weights, means and (ridge-penalised) covariances from responsibilities [N, K]. */
function mStep(points: ArrayLike<number>, d: number, resp: Float64Array, k: number, ridge: number): Gmm {
  const n = points.length / d;
  const weights = new Float64Array(k);
  const components: Gaussian[] = [];
  for (let j = 0; j < k; j++) {
    const w = Float64Array.from({ length: n }, (_, p) => resp[p * k + j]);
    const { mean, scatter, total } = weightedMoments(points, d, w);
    for (let i = 0; i < d; i++) scatter[i * d + i] += ridge / total;
    weights[j] = total / n;
    components.push({ dim: d, mean, cov: scatter });
  }
  return { dim: d, weights, components };
}

/** Index drawn with probability weights[i] / sum(weights). */
export function drawIndex(weights: ArrayLike<number>, rng: Rng): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i];
  let u = rng.uniform() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** n draws from the mixture: points [n, d] and the component of each. */
export function sampleGmm(m: Gmm, n: number, rng: Rng): { points: Float64Array; components: Int32Array } {
  const d = m.dim;
  const factors = m.components.map((c, j) => choleskyFactor(c.cov, d, `sampleGmm: covariance ${j}`));
  const components = new Int32Array(n);
  const points = new Float64Array(n * d);
  const eps = new Float64Array(d);
  for (let p = 0; p < n; p++) {
    const j = (components[p] = drawIndex(m.weights, rng));
    drawRow(factors[j], m.components[j].mean, d, rng, points, p * d, eps);
  }
  return { points, components };
}
