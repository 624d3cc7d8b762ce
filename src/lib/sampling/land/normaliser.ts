/**
 * The LAND normaliser by Monte Carlo in the tangent space: common random numbers (antithetic, whitened),
 * exp maps with per-sample failure handling, and the importance-reweighted estimate at a new covariance.
 */
import type { Metric } from '../../geometry/metric';
import { fieldsAt, metricTensors } from '../../geometry/fields';
import { quadraticForm } from '../../geometry/curves';
import { LandNormaliserKind, tangentExpMaps } from './tangent-exp';
import { Rng } from '../../util/rng';
import { choleskyFactor, forwardSolve, logDetFromCholesky, lowerTimes, lowerInverse } from '../../numerics/dense';
import { logSumExp, weightedMoments } from '../../numerics/statistics';
import { TangentMcOptions, LandGeometryOptions } from './types';

export const LOG_2PI = Math.log(2 * Math.PI);

// ---------------------------------------------------------------------------------------------------------
// Tangent-space Monte Carlo

/** Base standard normals [S, d]: antithetic and whitened as asked. */
export function tangentBase(d: number, opts: TangentMcOptions = {}): Float64Array {
  const antithetic = opts.antithetic ?? true;
  const s = Math.max(2, (opts.samples ?? 1000) + (antithetic ? (opts.samples ?? 1000) % 2 : 0));
  const rng = new Rng(opts.seed ?? 0);
  const eps = new Float64Array(s * d);
  const half = antithetic ? s / 2 : s;
  for (let i = 0; i < half * d; i++) eps[i] = rng.normal();
  if (antithetic) for (let i = 0; i < half * d; i++) eps[half * d + i] = -eps[i];
  if (opts.whiten ?? true) {
    // Second moment about 0 (the mean is 0 for antithetic pairs), then eps <- L^-1 eps.
    const { scatter } = weightedMoments(eps, d, undefined, new Float64Array(d));
    const l = choleskyFactor(scatter, d, 'tangentBase: the sample second moment');
    const y = new Float64Array(d);
    for (let p = 0; p < s; p++) {
      forwardSolve(l, d, eps, p * d, y);
      eps.set(y, p * d);
    }
  }
  return eps;
}

/** Exp_mu(v_s) for tangent samples drawn at one covariance, with their volumes. */
export interface TangentSamples {
  /** v_s = L eps_s [S, d]. */
  v: Float64Array;
  /** |eps_s|^2 = v_s^T Sigma0^-1 v_s [S]. */
  eps2: Float64Array;
  /** Exp_mu(v_s) [S, d] (NaN for dropped samples). */
  endpoints: Float64Array;
  /** log m(Exp_mu(v_s)), plus log |det D Exp_mu(v_s)| unless normaliser = 'paper' [S]; -Infinity for dropped samples. */
  logVolume: Float64Array;
  /** log sqrt((2 pi)^d det Sigma0). */
  logZ: number;
  /** The precision factor A0 = L0^-1 of the drawing covariance. */
  a0: Float64Array;
  failures: number;
  dropped: number;
}

/**
 * Exp maps from mu of many velocities at once. Each geodesic is integrated with `expSteps` RK4 steps,
 * then again with twice as many while it fails, up to `maxExpSteps`: RK4 with a fixed step cannot follow
 * a geodesic into a wall of the metric, and only those few geodesics pay for the finer steps. Failed:
 * NaN (the metric stopped being positive definite), a non-finite volume at the end, or a speed drift
 * beyond `speedTolerance`.
 */
export function shootAll(metric: Metric, mu: Float64Array, v: Float64Array, opts: LandGeometryOptions): { endpoints: Float64Array; logVolume: Float64Array; failed: Uint8Array } {
  const d = metric.dim;
  const s = v.length / d;
  const endpoints = new Float64Array(s * d).fill(NaN);
  const logVolume = new Float64Array(s).fill(-Infinity);
  const failed = new Uint8Array(s).fill(1);
  let steps = opts.expSteps ?? 20;
  const maxSteps = opts.maxExpSteps ?? 8 * steps;
  let pending = Int32Array.from({ length: s }, (_, p) => p);
  while (pending.length > 0) {
    const vs = new Float64Array(pending.length * d);
    pending.forEach((p, q) => vs.set(v.subarray(p * d, (p + 1) * d), q * d));
    const shot = integrateAndCheck(metric, mu, vs, steps, opts.speedTolerance ?? 0.1, opts.normaliser ?? 'jacobian');
    const next: number[] = [];
    pending.forEach((p, q) => {
      if (!shot.ok[q]) {
        next.push(p);
        return;
      }
      failed[p] = 0;
      logVolume[p] = shot.logVolume[q];
      endpoints.set(shot.endpoints.subarray(q * d, (q + 1) * d), p * d);
    });
    steps *= 2;
    if (steps > maxSteps) break;
    pending = Int32Array.from(next);
  }
  return { endpoints, logVolume, failed };
}

/** One batch of RK4 exp maps from mu with the end checks of shootAll. */
export function integrateAndCheck(metric: Metric, mu: Float64Array, v: Float64Array, steps: number, tol: number, kind: LandNormaliserKind): { endpoints: Float64Array; logVolume: Float64Array; ok: Uint8Array } {
  const d = metric.dim;
  const s = v.length / d;
  const starts = new Float64Array(s * d);
  for (let p = 0; p < s; p++) starts.set(mu, p * d);
  const res = tangentExpMaps(metric, starts, v, steps, kind);
  const ends = res.endpoints;
  const finite = Uint8Array.from({ length: s }, (_, p) => (ends.subarray(p * d, (p + 1) * d).every(Number.isFinite) ? 1 : 0));
  // The end metric only where the curve survived (NaN rows would go through the network for nothing).
  const safe = Float32Array.from(ends, (x, i) => (finite[Math.floor(i / d)] ? x : mu[i % d]));
  const tensors = metricTensors(metric, safe);
  const logVolume = fieldsAt(metric, safe).logVolume.map((lv, p) => lv + res.logWeight[p]);
  const ok = new Uint8Array(s);
  const t = steps + 1;
  const vel = new Float64Array(d);
  for (let p = 0; p < s; p++) {
    if (!finite[p] || !Number.isFinite(logVolume[p])) continue;
    // c'(1) by the second-order backward difference of the last three RK4 points.
    const at = (i: number, j: number) => res.curves.data[(p * t + i) * d + j];
    for (let j = 0; j < d; j++) vel[j] = steps >= 2 ? ((3 * at(steps, j) - 4 * at(steps - 1, j) + at(steps - 2, j)) * steps) / 2 : (at(1, j) - at(0, j)) * steps;
    const speed = Math.sqrt(Math.max(0, quadraticForm(tensors, p * d * d, vel, 0, d)));
    const start = res.lengths[p];
    // The absolute floor keeps (nearly) zero velocities, whose relative drift is all round-off.
    ok[p] = Math.abs(speed - start) <= tol * start + 1e-12 ? 1 : 0;
  }
  return { endpoints: ends, logVolume, ok };
}

/**
 * Tangent samples v = L eps at mu with their volumes. A failed sample is redrawn from a generator seeded by
 * (redrawSeed, sample, round), so that nearby (mu, Sigma) redraw the same replacements: the normaliser
 * stays a smooth function of the parameters and the step acceptance compares like with like.
 */
export function drawTangentSamples(metric: Metric, mu: Float64Array, cov: Float64Array, base: Float64Array, redrawSeed: number, opts: LandGeometryOptions & { maxRedraws?: number }): TangentSamples {
  const d = metric.dim;
  const s = base.length / d;
  const l = choleskyFactor(cov, d, 'LAND covariance');
  const eps = Float64Array.from(base);
  const v = new Float64Array(s * d);
  for (let p = 0; p < s; p++) lowerTimes(l, d, eps, p * d, v, p * d);
  const logVolume = new Float64Array(s).fill(-Infinity);
  const endpoints = new Float64Array(s * d).fill(NaN);
  let pending = Int32Array.from({ length: s }, (_, p) => p);
  let failures = 0;
  for (let round = 0; pending.length > 0; round++) {
    const vs = new Float64Array(pending.length * d);
    pending.forEach((p, q) => vs.set(v.subarray(p * d, (p + 1) * d), q * d));
    const shot = shootAll(metric, mu, vs, opts);
    const next: number[] = [];
    pending.forEach((p, q) => {
      if (shot.failed[q]) {
        next.push(p);
        return;
      }
      logVolume[p] = shot.logVolume[q];
      endpoints.set(shot.endpoints.subarray(q * d, (q + 1) * d), p * d);
    });
    failures += next.length;
    if (round >= (opts.maxRedraws ?? 4)) break;
    for (const p of next) {
      const rng = new Rng(redrawSeed * 7919 + p * 64 + round);
      for (let j = 0; j < d; j++) eps[p * d + j] = rng.normal();
      lowerTimes(l, d, eps, p * d, v, p * d);
    }
    pending = Int32Array.from(next);
  }
  const eps2 = Float64Array.from({ length: s }, (_, p) => {
    let q = 0;
    for (let j = 0; j < d; j++) q += eps[p * d + j] ** 2;
    return q;
  });
  return { v, eps2, endpoints, logVolume, logZ: 0.5 * (d * LOG_2PI + logDetFromCholesky(l, d)), a0: lowerInverse(l, d), failures, dropped: pending.length };
}

/** The normaliser at precision factor A from samples drawn at A0: log C, its standard error, weights q. */
export interface NormaliserEstimate {
  logC: number;
  se: number;
  /** q_s = m_s r_s / sum: self-normalised weights [S]. */
  q: Float64Array;
  /** Effective sample size of q. */
  ess: number;
}

/**
 * C(A) = integral of m(Exp_mu(v)) exp(-1/2 |A v|^2) dv, estimated by importance sampling from the samples
 * v_s ~ N(0, Sigma0) (Sigma0 = L0 L0^T, v_s = L0 eps_s): C(A) = Z0 mean_s[m_s exp(-1/2 |A v_s|^2 + 1/2 |eps_s|^2)],
 * Z0 = sqrt((2 pi)^d det Sigma0). At A = A0 the exponent vanishes and this is the plain estimate.
 */
export function normaliserAt(samples: TangentSamples, a: Float64Array, d: number, antithetic: boolean): NormaliserEstimate {
  const s = samples.eps2.length;
  const logw = new Float64Array(s);
  const av = new Float64Array(d);
  for (let p = 0; p < s; p++) {
    let q = 0;
    for (let i = 0; i < d; i++) {
      let r = 0;
      for (let j = 0; j < d; j++) r += a[i * d + j] * samples.v[p * d + j];
      av[i] = r;
      q += r * r;
    }
    logw[p] = samples.logVolume[p] - 0.5 * q + 0.5 * samples.eps2[p];
  }
  const lse = logSumExp(logw);
  const q = logw.map((x) => Math.exp(x - lse));
  let sq = 0;
  q.forEach((x) => (sq += x * x));
  return { logC: samples.logZ + lse - Math.log(s), se: relativeStandardError(q, antithetic), q, ess: 1 / sq };
}

/**
 * The standard error of log(mean w) from normalised weights q = w / sum w: sqrt(var(w)) / (sqrt(S) mean w).
 * With antithetic pairs the pair means are the independent draws.
 */
export function relativeStandardError(q: Float64Array, antithetic: boolean): number {
  const s = q.length;
  const units = antithetic ? Float64Array.from({ length: s / 2 }, (_, i) => q[i] + q[i + s / 2]) : q;
  const n = units.length;
  const m = 1 / n;
  let v = 0;
  units.forEach((x) => (v += (x - m) ** 2));
  return Math.sqrt(v / Math.max(1, n - 1)) / (Math.sqrt(n) * m);
}

// ---------------------------------------------------------------------------------------------------------
// One component: its log maps, samples and normaliser at (mu, Sigma)
