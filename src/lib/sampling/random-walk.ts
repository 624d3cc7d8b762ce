/**
 * Random walks in the latent space (Latent Space Oddity, section 5): the Riemannian walk
 * z_{k+1} = z_k + s M(z_k)^(-1/2) eps_k, a discretised Brownian motion of the expected metric, against the
 * Euclidean walk z_{k+1} = z_k + s eps_k. Where the metric is large (off the data, with an RBF precision
 * net) the Riemannian steps shrink, so the walker stays on the data; the Euclidean walker does not care.
 *
 * The discretisation is the paper's: the Ito drift (1/2 of the Laplace-Beltrami operator's first-order
 * part) of a true Riemannian Brownian motion is left out. Both walks draw eps_k in the same order from
 * the same seeded stream, so with equal seeds they see the same noise: with M = c I the Riemannian walk
 * of step s is the Euclidean walk of step s / sqrt(c), exactly.
 */
import type { Metric } from '../geometry/metric';
import { metricTensors } from '../geometry/fields';
import { PointsInput, toFlatPoints } from '../geometry/geodesics';
import { Rng } from '../util/rng';
import { nearestDistances } from '../geometry/support';
import { quantile } from '../numerics/statistics';
import { inverseSqrtSymmetric } from '../numerics/dense';

export interface WalkOptions {
  /** Steps per walker. */
  steps: number;
  /** s */
  stepSize: number;
  seed?: number;
}

export interface WalkResult {
  dim: number;
  walkers: number;
  steps: number;
  /** Positions [W, steps + 1, d], the start first. */
  paths: Float64Array;
  /** Mean Euclidean length |z_{k+1} - z_k| over all steps and walkers. */
  meanStepLength: number;
  /** Steps at which the metric was not positive definite (float32 round-off far off): the walker stayed put. */
  degenerateSteps: number;
}

/**
 * The walk loop shared by both walks: `increment(z, eps, delta)` turns the positions [W, d] and this
 * step's noise [W, d] into steps [W, d] and returns how many walkers it could not move.
 */
function walk(starts: Float64Array, d: number, opts: WalkOptions, increment: (z: Float64Array, eps: Float64Array, delta: Float64Array) => number): WalkResult {
  const { steps, stepSize } = opts;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`random walk: steps must be a positive integer, got ${steps}`);
  if (!(stepSize > 0 && Number.isFinite(stepSize))) throw new RangeError(`random walk: stepSize must be a positive number, got ${stepSize}`);
  const w = starts.length / d;
  const rng = new Rng(opts.seed ?? 0);
  const paths = new Float64Array(w * (steps + 1) * d);
  const z = Float64Array.from(starts);
  const eps = new Float64Array(w * d);
  const delta = new Float64Array(w * d);
  const record = (k: number) => {
    for (let p = 0; p < w; p++) paths.set(z.subarray(p * d, (p + 1) * d), (p * (steps + 1) + k) * d);
  };
  record(0);
  let length = 0;
  let degenerate = 0;
  for (let k = 1; k <= steps; k++) {
    for (let i = 0; i < eps.length; i++) eps[i] = rng.normal();
    degenerate += increment(z, eps, delta);
    for (let p = 0; p < w; p++) {
      let sq = 0;
      for (let j = 0; j < d; j++) {
        const step = stepSize * delta[p * d + j];
        z[p * d + j] += step;
        sq += step * step;
      }
      length += Math.sqrt(sq);
    }
    record(k);
  }
  return { dim: d, walkers: w, steps, paths, meanStepLength: length / (w * steps), degenerateSteps: degenerate };
}

/** z_{k+1} = z_k + s eps_k for W walkers from starts [W, d]. */
export function euclideanRandomWalk(starts: PointsInput, d: number, opts: WalkOptions): WalkResult {
  return walk(toFlatPoints(starts, d, 'starts'), d, opts, (_z, eps, delta) => {
    delta.set(eps);
    return 0;
  });
}

/** z_{k+1} = z_k + s M(z_k)^(-1/2) eps_k for W walkers from starts [W, d]: one batched metric evaluation a step. */
export function riemannianRandomWalk(metric: Metric, starts: PointsInput, opts: WalkOptions): WalkResult {
  const d = metric.dim;
  return walk(toFlatPoints(starts, d, 'starts'), d, opts, (z, eps, delta) => {
    const tensors = metricTensors(metric, Float32Array.from(z));
    let failed = 0;
    for (let p = 0; p < z.length / d; p++) {
      const root = inverseSqrtSymmetric(tensors.subarray(p * d * d, (p + 1) * d * d), d);
      if (!root) failed++;
      for (let i = 0; i < d; i++) {
        let s = 0;
        if (root) for (let j = 0; j < d; j++) s += root[i * d + j] * eps[p * d + j];
        delta[p * d + i] = s;
      }
    }
    return failed;
  });
}

/**
 * The step s at which the Riemannian walk's first step from `start` has root-mean-square Euclidean
 * length `length`: E|M^(-1/2) eps|^2 = tr M^-1, so s = length / sqrt(tr M(start)^-1).
 */
export function riemannianStepForLength(metric: Metric, start: ArrayLike<number>, length: number): number {
  const d = metric.dim;
  const m = metricTensors(metric, Float32Array.from(start).subarray(0, d));
  const root = inverseSqrtSymmetric(m, d);
  if (!root) throw new RangeError(`riemannianStepForLength: the metric at [${Array.from(start).slice(0, d)}] is not positive definite`);
  let trace = 0;
  for (let i = 0; i < d * d; i++) trace += root[i] * root[i];
  return length / Math.sqrt(trace);
}

/**
 * The Euclidean step that gives the Euclidean walk (same seed, same walkers and steps) the same mean
 * Euclidean step length as `target`: its mean |eps_k| is measured on the very noise it will draw.
 */
export function matchedEuclideanStep(target: WalkResult, seed?: number): number {
  const starts = target.paths.filter((_, i) => Math.floor(i / target.dim) % (target.steps + 1) === 0);
  const unit = euclideanRandomWalk(starts, target.dim, { steps: target.steps, stepSize: 1, seed });
  return target.meanStepLength / unit.meanStepLength;
}

// ---------------------------------------------------------------------------------------------------------
// The walk comparison of notebook 06

export interface WalkComparison {
  riemannian: WalkResult;
  /** The Euclidean walk with the Riemannian walk's RMS step length at the start (s' = length / sqrt(d)). */
  euclidean: WalkResult;
  /** The Euclidean walk with the Riemannian walk's mean Euclidean step length over the whole walk. */
  euclideanEqualMean: WalkResult;
  stepSize: { riemannian: number; euclidean: number; euclideanEqualMean: number };
  /** Fraction of the positions after each step within `threshold` of a code. */
  onSupport: { riemannian: number; euclidean: number; euclideanEqualMean: number };
  /** How far each walk wanders off: quantiles of the distance from its positions to the nearest code. */
  distanceToData: { riemannian: DistanceSummary; euclidean: DistanceSummary; euclideanEqualMean: DistanceSummary };
  /** The support radius: the `supportQuantile` of the codes' nearest-neighbour distances. */
  threshold: number;
}

export interface WalkComparisonOptions {
  /** The common start [d]. */
  start: ArrayLike<number>;
  walkers: number;
  steps: number;
  /** The Riemannian walk's RMS step length at the start (riemannianStepForLength), in latent units. */
  startStepLength: number;
  seed?: number;
  /** Default 0.99. */
  supportQuantile?: number;
}

/**
 * Both walks from the same start with the same noise, the Riemannian one with the step that makes its
 * first step `startStepLength` long (RMS), and the Euclidean one matched in two ways: the same RMS step
 * length at the start (the Riemannian walk with the metric frozen isotropic at its start value), and the
 * same mean Euclidean step length over the whole walk (matchedEuclideanStep); then the fraction of each
 * walk's positions on the data support (nearest code within the quantile of the codes' nearest-neighbour
 * distances).
 */
export function compareRandomWalks(metric: Metric, codes: ArrayLike<number>, opts: WalkComparisonOptions): WalkComparison {
  const d = metric.dim;
  const starts = new Float64Array(opts.walkers * d);
  for (let w = 0; w < opts.walkers; w++) for (let j = 0; j < d; j++) starts[w * d + j] = opts.start[j];
  const walkOpts = { steps: opts.steps, seed: opts.seed };
  const sR = riemannianStepForLength(metric, opts.start, opts.startStepLength);
  const riemannian = riemannianRandomWalk(metric, starts, { ...walkOpts, stepSize: sR });
  const sE = opts.startStepLength / Math.sqrt(d);
  const euclidean = euclideanRandomWalk(starts, d, { ...walkOpts, stepSize: sE });
  const sM = matchedEuclideanStep(riemannian, opts.seed);
  const euclideanEqualMean = euclideanRandomWalk(starts, d, { ...walkOpts, stepSize: sM });
  const threshold = quantile(nearestDistances(codes, codes, d, { excludeSelf: true }), opts.supportQuantile ?? 0.99);
  const dist = [riemannian, euclidean, euclideanEqualMean].map((w) => nearestDistances(walkPositions(w), codes, d));
  const on = (r: Float64Array) => r.reduce((n, x) => n + (x <= threshold ? 1 : 0), 0) / r.length;
  return {
    riemannian,
    euclidean,
    euclideanEqualMean,
    stepSize: { riemannian: sR, euclidean: sE, euclideanEqualMean: sM },
    onSupport: { riemannian: on(dist[0]), euclidean: on(dist[1]), euclideanEqualMean: on(dist[2]) },
    distanceToData: { riemannian: summarise(dist[0]), euclidean: summarise(dist[1]), euclideanEqualMean: summarise(dist[2]) },
    threshold,
  };
}

export interface DistanceSummary {
  median: number;
  q90: number;
  max: number;
}

function summarise(r: Float64Array): DistanceSummary {
  return { median: quantile(r, 0.5), q90: quantile(r, 0.9), max: r.reduce((m, x) => Math.max(m, x), 0) };
}

/** Positions after each step (starts left out) of all walkers: [W * steps, d]. */
export function walkPositions(walk: WalkResult): Float64Array {
  const { dim: d, walkers, steps, paths } = walk;
  const out = new Float64Array(walkers * steps * d);
  for (let w = 0; w < walkers; w++) out.set(paths.subarray((w * (steps + 1) + 1) * d, (w + 1) * (steps + 1) * d), w * steps * d);
  return out;
}

/** The fraction of a walk's positions (after each step) whose nearest code is at most `threshold` away. */
export function fractionOnSupport(walk: WalkResult, codes: ArrayLike<number>, threshold: number): number {
  const dist = nearestDistances(walkPositions(walk), codes, walk.dim);
  return dist.reduce((n, r) => n + (r <= threshold ? 1 : 0), 0) / dist.length;
}

/** `frames` positions [frames, d] evenly spaced along one walker's path, start and end included. */
export function walkFrames(walk: WalkResult, walker: number, frames: number): Float64Array {
  const { dim: d, steps, paths } = walk;
  const out = new Float64Array(frames * d);
  for (let f = 0; f < frames; f++) {
    const k = Math.round((f * steps) / Math.max(1, frames - 1));
    out.set(paths.subarray((walker * (steps + 1) + k) * d, (walker * (steps + 1) + k + 1) * d), f * d);
  }
  return out;
}

/** One walker's path as coordinate lists (every `stride`-th position), for plotting over a field. */
export function walkPath(walk: WalkResult, walker: number, stride = 1): { x: number[]; y: number[] } {
  const { dim: d, steps, paths } = walk;
  const x: number[] = [];
  const y: number[] = [];
  for (let k = 0; k <= steps; k += stride) {
    x.push(paths[(walker * (steps + 1) + k) * d]);
    y.push(paths[(walker * (steps + 1) + k) * d + 1]);
  }
  return { x, y };
}

/** The row of points [N, d] nearest to `target` (e.g. a walk's start on the data). */
export function nearestRow(points: ArrayLike<number>, d: number, target: ArrayLike<number>): Float64Array {
  const dist = nearestDistances(points, target, d);
  let best = 0;
  dist.forEach((r, i) => {
    if (r < dist[best]) best = i;
  });
  return Float64Array.from({ length: d }, (_, j) => points[best * d + j]);
}
