/**
 * Euclidean baselines for the densities on the learned manifold: a Gaussian fitted by maximum likelihood
 * and a Gaussian mixture fitted by EM (k-means++ start), with log-densities, samples, and the small dense
 * d x d linear algebra (Cholesky factors, triangular solves) that the LAND shares. Everything runs in
 * float64 on plain arrays: latent spaces are low-dimensional, so tensors would only add dispatch overhead.
 */
import { Rng } from '../util/rng';
import { choleskyInPlace } from '../geometry/block-tridiagonal';
import { kmeans } from '../stats/kmeans';

/** N(mean, cov) in R^d. */
export interface Gaussian {
  readonly dim: number;
  /** [d] */
  readonly mean: Float64Array;
  /** [d, d] row-major, symmetric positive definite. */
  readonly cov: Float64Array;
}

/** Lower Cholesky factor L of a symmetric positive definite d x d matrix (L L^T = a); throws if it is not. */
export function choleskyFactor(a: ArrayLike<number>, d: number, what = 'matrix'): Float64Array {
  const l = Float64Array.from(a);
  if (!choleskyInPlace(l, d)) throw new RangeError(`${what} is not positive definite: [${Array.from(a, (x) => x.toPrecision(4)).join(', ')}]`);
  return l;
}

/** log det of L L^T from its lower Cholesky factor L. */
export function logDetFromCholesky(l: ArrayLike<number>, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += 2 * Math.log(l[i * d + i]);
  return s;
}

/** y = L^-1 x (forward substitution) for x at x[off..off+d); writes into out[ooff..]. */
export function forwardSolve(l: ArrayLike<number>, d: number, x: ArrayLike<number>, off: number, out: Float64Array, ooff = 0): void {
  for (let i = 0; i < d; i++) {
    let s = x[off + i];
    for (let k = 0; k < i; k++) s -= l[i * d + k] * out[ooff + k];
    out[ooff + i] = s / l[i * d + i];
  }
}

/** y = L x for a lower-triangular L, x at x[off..off+d); writes into out[ooff..]. */
export function lowerTimes(l: ArrayLike<number>, d: number, x: ArrayLike<number>, off: number, out: Float64Array, ooff = 0): void {
  for (let i = d - 1; i >= 0; i--) {
    let s = 0;
    for (let k = 0; k <= i; k++) s += l[i * d + k] * x[off + k];
    out[ooff + i] = s;
  }
}

/** The squared Mahalanobis lengths |L^-1 v_n|^2 of rows v [N, d] for the covariance L L^T. */
export function mahalanobisSquared(l: ArrayLike<number>, d: number, v: ArrayLike<number>): Float64Array {
  const n = v.length / d;
  const out = new Float64Array(n);
  const y = new Float64Array(d);
  for (let p = 0; p < n; p++) {
    forwardSolve(l, d, v, p * d, y);
    let s = 0;
    for (let j = 0; j < d; j++) s += y[j] * y[j];
    out[p] = s;
  }
  return out;
}

/** log sum_i exp(x_i), stable; -Infinity for an empty or all -Infinity input. */
export function logSumExp(x: ArrayLike<number>, off = 0, len = x.length - off): number {
  let m = -Infinity;
  for (let i = 0; i < len; i++) m = Math.max(m, x[off + i]);
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < len; i++) s += Math.exp(x[off + i] - m);
  return m + Math.log(s);
}

/**
 * Weighted mean [d] and second moment about `center` (default: the weighted mean) [d, d] of rows [N, d];
 * weights default to 1. The ML covariance when centred at the mean (divides by the total weight).
 */
export function weightedMoments(points: ArrayLike<number>, d: number, weights?: ArrayLike<number>, center?: ArrayLike<number>): { mean: Float64Array; scatter: Float64Array; total: number } {
  const n = points.length / d;
  const mean = new Float64Array(d);
  let total = 0;
  for (let p = 0; p < n; p++) {
    const w = weights ? weights[p] : 1;
    total += w;
    for (let j = 0; j < d; j++) mean[j] += w * points[p * d + j];
  }
  if (!(total > 0)) throw new RangeError('weightedMoments: the weights sum to zero');
  for (let j = 0; j < d; j++) mean[j] /= total;
  const c = center ?? mean;
  const scatter = new Float64Array(d * d);
  for (let p = 0; p < n; p++) {
    const w = weights ? weights[p] : 1;
    for (let i = 0; i < d; i++) {
      const a = points[p * d + i] - c[i];
      for (let j = 0; j <= i; j++) scatter[i * d + j] += w * a * (points[p * d + j] - c[j]);
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      scatter[i * d + j] /= total;
      scatter[j * d + i] = scatter[i * d + j];
    }
  }
  return { mean, scatter, total };
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
