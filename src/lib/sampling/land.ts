/**
 * The locally adaptive normal distribution (LAND; Arvanitidis, Hansen, Hauberg, NeurIPS 2016) and mixtures
 * of LANDs, on a latent space with a Riemannian metric M:
 *
 *   p(z) = C(mu, Sigma)^-1 exp(-1/2 Log_mu(z)^T Sigma^-1 Log_mu(z))   with respect to the Riemannian measure
 *   C(mu, Sigma) = sqrt((2 pi)^d det Sigma) E_{v ~ N(0, Sigma)}[ m(Exp_mu(v)) ],   m = sqrt(det M).
 *
 * is the paper's normaliser, which leaves the exponential map's own Jacobian out (exact for a flat metric);
 * by default the tangent samples are weighted by m(Exp_mu(v)) |det D Exp_mu(v)| instead, the change of
 * variables that makes p integrate to 1 (land-normaliser.ts; options.normaliser = 'paper' for the paper's).
 * Multiply p by m(z) for the density with respect to the Lebesgue measure of the latent coordinates, which
 * is what compares with a Gaussian.
 *
 * Log maps are boundary value solves (logMap without shooting, connectingGeodesics underneath), warm-
 * started from the previous iteration's geodesics. Exp maps are RK4 (expMap) with per-sample failure: a
 * geodesic that leaves the positive definite region or loses its constant speed is integrated again with
 * finer steps, and redrawn (new tangent sample) if it still fails. The Monte Carlo samples are common random
 * numbers for the whole fit: antithetic pairs (+eps, -eps) whitened to unit second moment, with redraws
 * seeded per sample, so the normaliser is a smooth function of (mu, Sigma) where the geodesics are, and
 * exact on a flat metric.
 *
 * Maximum likelihood, per component and iteration, in two accepted-or-rejected parts:
 *   - Sigma: preconditioned gradient steps on the precision factor A (Sigma^-1 = A^T A) with gradient
 *     A (S_log - V_q), S_log the (weighted) second moment of the log maps and V_q the volume-weighted
 *     second moment of the tangent samples reweighted from the Sigma they were drawn at (no new exp maps
 *     while stepping); the proposal is then evaluated with new samples at the same mean;
 *   - mu: mu <- Exp_mu(alpha (mean log map - sum_s q_s v_s)), the average log map minus the Monte Carlo
 *     correction of the normaliser, evaluated with new log maps and samples and halved while it raises the
 *     objective by more than the Monte Carlo resolution (options.noiseTolerance);
 * until the mean negative log-likelihood changes by less than the tolerance; the best iterate is returned.
 * Mixtures by generalised EM: responsibilities from the component densities, then one such step per
 * component on its responsibility-weighted objective; components start at k-medoids of a geodesic
 * distance matrix of a subsample, with hard responsibilities by geodesic distance to the medoids.
 * Samples (sampleLandMixture) by sampling-importance-resampling of tangent samples with weights m.
 */
import type { Metric } from '../geometry/metric';
import { LatentGrid, fieldsAt, metricTensors } from '../geometry/fields';
import { CurveBatch, curveBatch, quadraticForm } from '../geometry/curves';
import { GeodesicOptions, PointsInput, toFlatPoints } from '../geometry/geodesics';
import { logMap } from '../geometry/expmap';
import { LandNormaliserKind, tangentExpMaps } from './land-normaliser';
import { geodesicDistanceMatrix } from '../geometry/distances';
import { kmedoids } from '../stats/kmeans';
import { Rng } from '../util/rng';
import {
  Gaussian,
  Gmm,
  GmmFit,
  choleskyFactor,
  drawIndex,
  fitGaussian,
  fitGmm,
  forwardSolve,
  gaussianLogDensity,
  gmmLogDensity,
  logDetFromCholesky,
  logSumExp,
  lowerTimes,
  mahalanobisSquared,
  sampleGaussian,
  sampleGmm,
  weightedMoments,
} from './gaussian';

/** One LAND: mean, covariance in the tangent space at the mean, and its normaliser. */
export interface Land {
  readonly dim: number;
  /** mu [d] */
  readonly mean: Float64Array;
  /** Sigma [d, d], a covariance of tangent vectors at mu (latent coordinates). */
  readonly cov: Float64Array;
  /** log C(mu, Sigma). */
  readonly logNormaliser: number;
  /** Monte Carlo standard error of log C (the relative standard error of C). */
  readonly logNormaliserSe: number;
}

export interface LandMixture {
  readonly dim: number;
  /** [K], summing to 1. */
  readonly weights: Float64Array;
  readonly components: Land[];
}

export interface TangentMcOptions {
  /** Tangent samples per normaliser (default 1000; rounded up to even for antithetic pairs). */
  samples?: number;
  seed?: number;
  /** Antithetic pairs (+eps, -eps) (default true). */
  antithetic?: boolean;
  /** Whiten the base samples to unit second moment (default true). */
  whiten?: boolean;
  /** Rounds of redrawing samples whose exp map failed (default 4); still failing after them: dropped. */
  maxRedraws?: number;
}

export interface LandGeometryOptions {
  /** RK4 steps of each exp map at first (default 20). */
  expSteps?: number;
  /** Most RK4 steps for a geodesic that fails with fewer (default 8 x expSteps). */
  maxExpSteps?: number;
  /**
   * An exp map counts as failed when the speed |c'(1)|_M of its geodesic differs from its initial speed by
   * more than this fraction (default 0.1): geodesics have constant speed, so a drift means that RK4 did not
   * resolve the metric's variation (it ran into a wall of the metric).
   */
  speedTolerance?: number;
  /** Options of the boundary value solves behind the log maps. */
  geodesic?: GeodesicOptions;
  /**
   * The normaliser's tangent-space integrand (see land-normaliser.ts): 'jacobian' (default) weights each
   * sample by m(Exp v) |det D Exp(v)|, the change of variables, so that the density integrates to 1;
   * 'paper' by m(Exp v) alone, the estimator of the paper and the authors' code. It also sets the
   * resampling weights of sampleLandMixture.
   */
  normaliser?: LandNormaliserKind;
}

export interface LandFitOptions extends LandGeometryOptions {
  mc?: TangentMcOptions;
  /** Outer iterations at most (default 30). */
  maxIterations?: number;
  /** Stop when the mean negative log-likelihood changes by less than this (default 1e-4 nats). */
  tolerance?: number;
  /** Covariance gradient steps per iteration at most (default 50). */
  covarianceSteps?: number;
  /** Halvings of a step that raised the objective before the component stays put (default 4). */
  maxBacktracks?: number;
  /**
   * A step is accepted when it raises the component's objective by at most this many Monte Carlo standard
   * errors of log C (default 2): where the tangent samples reach the metric's walls, log C moves by about its
   * standard error between nearby parameters, and a strict descent test would stall on that noise. The fit
   * returns the iterate with the lowest negative log-likelihood. 0 gives a strictly monotone fit.
   */
  noiseTolerance?: number;
  /** Points of the subsample whose geodesic distance matrix seeds k-medoids (default 40). */
  initSubset?: number;
  /** Start the components here ([K, d]) instead of at geodesic k-medoids. */
  initMeans?: PointsInput;
  /**
   * The starting covariance is this times the second moment of the log maps (default 1). A smaller start
   * keeps the first tangent samples out of the metric's walls, where their exp maps are slow; the
   * covariance steps grow it as the likelihood asks.
   */
  initCovarianceScale?: number;
  /** Called after every iteration. */
  onIteration?: (info: LandIteration) => void;
}

export interface LandIteration {
  iteration: number;
  /** Mean negative log-likelihood (Riemannian measure) of the fitted points. */
  nll: number;
  /** Log maps whose boundary value solve did not converge in this iteration. */
  logMapFailures: number;
  /** Exp maps that failed and were redrawn (or dropped) in this iteration. */
  expMapFailures: number;
  /** Halved steps in this iteration. */
  backtracks: number;
  seconds: number;
}

export interface LandFitReport {
  iterations: number;
  /** The iterate returned: the one with the lowest negative log-likelihood (0: the start). */
  bestIteration: number;
  /** The negative log-likelihood changed by less than the tolerance. */
  converged: boolean;
  /** Every component's step was rejected after all its halvings: no descent found at Monte Carlo resolution. */
  stalled: boolean;
  /** Mean negative log-likelihood after each iteration (the first: at the start). */
  history: LandIteration[];
  /** Totals over the fit. */
  logMapFailures: number;
  expMapFailures: number;
  /** Exp maps dropped after every redraw failed (they count as zero volume). */
  expMapDropped: number;
  /** Monte Carlo standard error of each component's log C at the end. */
  logNormaliserSe: number[];
  seconds: number;
  /** Where the time went: log maps (boundary value solves) and exp maps (RK4, with the mean's steps). */
  logMapSeconds: number;
  expMapSeconds: number;
}

export interface LandFit {
  land: Land;
  report: LandFitReport;
}

export interface LandMixtureFit {
  mixture: LandMixture;
  /** [N, K] responsibilities at the end. */
  responsibilities: Float64Array;
  report: LandFitReport;
}

const LOG_2PI = Math.log(2 * Math.PI);

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
interface TangentSamples {
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
function shootAll(metric: Metric, mu: Float64Array, v: Float64Array, opts: LandGeometryOptions): { endpoints: Float64Array; logVolume: Float64Array; failed: Uint8Array } {
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
function integrateAndCheck(metric: Metric, mu: Float64Array, v: Float64Array, steps: number, tol: number, kind: LandNormaliserKind): { endpoints: Float64Array; logVolume: Float64Array; ok: Uint8Array } {
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
function drawTangentSamples(metric: Metric, mu: Float64Array, cov: Float64Array, base: Float64Array, redrawSeed: number, opts: LandGeometryOptions & { maxRedraws?: number }): TangentSamples {
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

/** L^-1 of a lower-triangular L. */
function lowerInverse(l: Float64Array, d: number): Float64Array {
  const inv = new Float64Array(d * d);
  const e = new Float64Array(d);
  const col = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    e.fill(0);
    e[j] = 1;
    forwardSolve(l, d, e, 0, col);
    for (let i = 0; i < d; i++) inv[i * d + j] = col[i];
  }
  return inv;
}

/** The normaliser at precision factor A from samples drawn at A0: log C, its standard error, weights q. */
interface NormaliserEstimate {
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
function normaliserAt(samples: TangentSamples, a: Float64Array, d: number, antithetic: boolean): NormaliserEstimate {
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
function relativeStandardError(q: Float64Array, antithetic: boolean): number {
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

interface ComponentState {
  mu: Float64Array;
  cov: Float64Array;
  /** Log_mu(x_n) [N, d]. */
  logs: Float64Array;
  /** Log_mu(x_n)^T Sigma^-1 Log_mu(x_n) [N]. */
  mahal: Float64Array;
  /** The geodesics behind the log maps, to warm-start the next solve. */
  curves: CurveBatch;
  logMapFailures: number;
  samples: TangentSamples;
  norm: NormaliserEstimate;
  /** The step size the next update starts from (first 1/2): x 1.5 (up to 1) after an accepted step, halved on a rejected one. */
  alpha: number;
}

/** Log_mu(x_n) for all points, warm-started from earlier geodesics from another mean when given. */
function logMaps(metric: Metric, mu: Float64Array, points: Float64Array, opts: LandGeometryOptions, warm?: { curves: CurveBatch; mu: Float64Array }): { logs: Float64Array; curves: CurveBatch; failures: number; lengths: Float64Array } {
  const d = metric.dim;
  const n = points.length / d;
  const starts = new Float64Array(n * d);
  for (let p = 0; p < n; p++) starts.set(mu, p * d);
  const init = warm ? shiftStarts(warm.curves, warm.mu, mu) : undefined;
  const res = logMap(metric, starts, points, { shooting: false, geodesic: { ...opts.geodesic, ...(init ? { init } : {}) } });
  return { logs: res.velocities, curves: res.geodesics.curves, failures: res.converged.filter((c) => !c).length, lengths: res.lengths };
}

/** Curves from `from` moved to start at `to`: point i shifted by (1 - t_i)(to - from), ends exact. */
function shiftStarts(c: CurveBatch, from: Float64Array, to: Float64Array): CurveBatch {
  const { count, points: t, dim: d } = c;
  const data = Float64Array.from(c.data);
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < t - 1; i++) {
      const w = 1 - i / (t - 1);
      for (let j = 0; j < d; j++) data[(b * t + i) * d + j] += w * (to[j] - from[j]);
    }
    data.set(to, b * t * d);
  }
  return curveBatch(count, t, d, data);
}

interface FitContext {
  metric: Metric;
  points: Float64Array;
  base: Float64Array;
  /** Seed of the redraws of failed tangent samples. */
  redrawSeed: number;
  antithetic: boolean;
  opts: LandFitOptions;
  /** Seconds spent in log maps and exp maps so far. */
  timing: { logMaps: number; expMaps: number };
}

function timed<T>(acc: { logMaps: number; expMaps: number }, key: 'logMaps' | 'expMaps', f: () => T): T {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    acc[key] += (performance.now() - t0) / 1000;
  }
}

function evaluateComponent(ctx: FitContext, mu: Float64Array, cov: Float64Array, warm?: ComponentState, logs?: ReturnType<typeof logMaps>): ComponentState {
  const d = ctx.metric.dim;
  const lm = logs ?? timed(ctx.timing, 'logMaps', () => logMaps(ctx.metric, mu, ctx.points, ctx.opts, warm));
  const l = choleskyFactor(cov, d, 'LAND covariance');
  const samples = timed(ctx.timing, 'expMaps', () => drawTangentSamples(ctx.metric, mu, cov, ctx.base, ctx.redrawSeed, { ...ctx.opts, maxRedraws: ctx.opts.mc?.maxRedraws }));
  return {
    mu,
    cov,
    logs: lm.logs,
    mahal: mahalanobisSquared(l, d, lm.logs),
    curves: lm.curves,
    logMapFailures: lm.failures,
    samples,
    norm: normaliserAt(samples, samples.a0, d, ctx.antithetic),
    alpha: 0.5,
  };
}

/** The component's objective: weighted mean of 1/2 Log^T Sigma^-1 Log, plus log C. */
function componentObjective(st: ComponentState, weights: Float64Array): number {
  let s = 0;
  let w = 0;
  st.mahal.forEach((m, p) => {
    s += weights[p] * 0.5 * m;
    w += weights[p];
  });
  return s / w + st.norm.logC;
}

/**
 * Preconditioned gradient descent on the precision factor A with the samples fixed: f(A) = 1/2 tr(A S A^T)
 * + log C(A), gradient G = A (S - V_q(A)); the step A <- A - alpha G Sigma(A) is scale-free (on a flat
 * metric alpha = 1/2 is Newton's step near the optimum), alpha backtracked (Armijo). Stops early when the
 * reweighted samples' effective size falls below a half: far from the drawing covariance the surrogate
 * is no longer trustworthy, and the next iteration redraws there.
 */
function covarianceSteps(st: ComponentState, scatter: Float64Array, d: number, steps: number, antithetic: boolean): Float64Array {
  const s = st.samples.eps2.length;
  let a = Float64Array.from(st.samples.a0);
  const f = (aa: Float64Array, est: NormaliserEstimate) => 0.5 * traceASAt(aa, scatter, d) + est.logC;
  let est = normaliserAt(st.samples, a, d, antithetic);
  let value = f(a, est);
  let alpha = 0.5;
  for (let it = 0; it < steps; it++) {
    const vq = weightedSecondMoment(st.samples.v, est.q, d);
    const diff = scatter.map((x, i) => x - vq[i]);
    const grad = matMul(a, diff, d);
    const sigma = covFromFactor(a, d);
    if (!sigma) break;
    const dir = matMul(grad, sigma, d);
    const slope = dot(grad, dir);
    if (!(slope > 1e-14 * Math.max(1, Math.abs(value)))) break;
    let accepted = false;
    for (let bt = 0; bt < 20; bt++) {
      const trial = a.map((x, i) => x - alpha * dir[i]);
      const tEst = normaliserAt(st.samples, trial, d, antithetic);
      const tValue = f(trial, tEst);
      if (tValue <= value - 1e-4 * alpha * slope && covFromFactor(trial, d)) {
        a = trial;
        est = tEst;
        value = tValue;
        accepted = true;
        alpha = Math.min(1, alpha * 2);
        break;
      }
      alpha /= 2;
    }
    if (!accepted || est.ess < s / 2) break;
  }
  return covFromFactor(a, d) ?? st.cov;
}

function traceASAt(a: Float64Array, s: Float64Array, d: number): number {
  const as = matMul(a, s, d);
  let t = 0;
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) t += as[i * d + k] * a[i * d + k];
  return t;
}

function matMul(x: ArrayLike<number>, y: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) out[i * d + j] += x[i * d + k] * y[k * d + j];
  return out;
}

function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** Sigma = (A^T A)^-1 = A^-1 A^-T, or null when A is singular. */
function covFromFactor(a: Float64Array, d: number): Float64Array | null {
  const p = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) p[i * d + j] += a[k * d + i] * a[k * d + j];
  try {
    const lp = choleskyFactor(p, d);
    const inv = lowerInverse(lp, d); // P^-1 = L^-T L^-1
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) cov[i * d + j] += inv[k * d + i] * inv[k * d + j];
    return cov.every(Number.isFinite) ? cov : null;
  } catch {
    return null;
  }
}

/** sum_s q_s v_s v_s^T [d, d]. */
function weightedSecondMoment(v: Float64Array, q: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  q.forEach((w, p) => {
    if (w === 0) return;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] += w * v[p * d + i] * v[p * d + j];
  });
  return out;
}

/** The mean's step direction: weighted mean log map minus sum_s q_s v_s (the normaliser's pull). */
function meanDirection(st: ComponentState, weights: Float64Array, q: Float64Array, d: number): Float64Array {
  const dir = new Float64Array(d);
  let w = 0;
  weights.forEach((wp, p) => {
    w += wp;
    for (let j = 0; j < d; j++) dir[j] += wp * st.logs[p * d + j];
  });
  for (let j = 0; j < d; j++) dir[j] /= w;
  q.forEach((qs, p) => {
    for (let j = 0; j < d; j++) dir[j] -= qs * st.samples.v[p * d + j];
  });
  return dir;
}

interface StepOutcome {
  state: ComponentState;
  moved: boolean;
  backtracks: number;
  expFailures: number;
  logFailures: number;
}

/**
 * One ML step of a component on its weighted objective, in two accepted-or-rejected parts: the covariance
 * (from the covariance steps, evaluated with new tangent samples at the same mean, so the log maps are
 * reused), then the mean along the exp map (evaluated with new log maps and samples), halved while the
 * objective rises. Splitting them keeps a covariance proposal that the reweighted samples misjudged (they
 * cannot see walls that a wider covariance would reach) from blocking the mean's step, and vice versa.
 */
function stepComponent(ctx: FitContext, st: ComponentState, weights: Float64Array): StepOutcome {
  const d = ctx.metric.dim;
  const out: StepOutcome = { state: st, moved: false, backtracks: 0, expFailures: 0, logFailures: 0 };
  const tryState = (next: ComponentState): boolean => {
    out.expFailures += next.samples.failures;
    out.logFailures += next.logMapFailures;
    const before = componentObjective(out.state, weights);
    // Within the Monte Carlo resolution of the two normalisers a step counts as no worse.
    const slack = (ctx.opts.noiseTolerance ?? 2) * Math.max(out.state.norm.se, next.norm.se) + 1e-9 * Math.abs(before);
    if (!(componentObjective(next, weights) <= before + slack)) return false;
    out.state = next;
    out.moved = true;
    return true;
  };
  // The covariance at the current mean: the proposal, then halfway to it.
  const scatter = weightedMoments(st.logs, d, weights, new Float64Array(d)).scatter;
  const covNew = covarianceSteps(st, scatter, d, ctx.opts.covarianceSteps ?? 50, ctx.antithetic);
  const same = { logs: st.logs, curves: st.curves, failures: 0, lengths: new Float64Array(0) };
  if (covNew.some((c, i) => Math.abs(c - st.cov[i]) > 1e-12 * Math.abs(st.cov[i]))) {
    for (const t of [1, 0.5]) {
      if (tryState({ ...evaluateComponent(ctx, st.mu, st.cov.map((c, i) => c + t * (covNew[i] - c)), undefined, same), alpha: st.alpha })) break;
      out.backtracks++;
    }
  }
  // The mean along the exp map at the (new) covariance. A step whose own exp map fails costs nothing to
  // halve; only evaluated steps count as backtracks.
  const cur = out.state;
  const dir = meanDirection(cur, weights, cur.norm.q, d);
  const maxEvaluations = (ctx.opts.maxBacktracks ?? 4) + 1;
  let alpha = cur.alpha;
  for (let tries = 0, evaluations = 0; tries < maxEvaluations + 10 && evaluations < maxEvaluations; tries++, alpha /= 2) {
    const mu = Float64Array.from(timed(ctx.timing, 'expMaps', () => shootAll(ctx.metric, cur.mu, dir.map((x) => alpha * x), ctx.opts)).endpoints);
    if (!mu.every(Number.isFinite)) continue;
    evaluations++;
    if (tryState({ ...evaluateComponent(ctx, mu, cur.cov, cur), alpha: Math.min(1, 1.5 * alpha) })) return out;
    out.backtracks++;
  }
  out.state = { ...out.state, alpha };
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Fitting

/** log(pi_k p_k(x_n)) (Riemannian measure) for every point and component: [N, K]. */
function logTerms(states: ComponentState[], weights: Float64Array, n: number): Float64Array {
  const k = states.length;
  const out = new Float64Array(n * k);
  states.forEach((st, j) => {
    for (let p = 0; p < n; p++) out[p * k + j] = Math.log(weights[j]) - 0.5 * st.mahal[p] - st.norm.logC;
  });
  return out;
}

/** The E-step: responsibilities [N, K], mixture weights, and the mean negative log-likelihood. */
function eStep(states: ComponentState[], weights: Float64Array, n: number): { resp: Float64Array; weights: Float64Array; nll: number } {
  const k = states.length;
  const resp = logTerms(states, weights, n);
  let total = 0;
  for (let p = 0; p < n; p++) {
    const lse = logSumExp(resp, p * k, k);
    total += lse;
    for (let j = 0; j < k; j++) resp[p * k + j] = Math.exp(resp[p * k + j] - lse);
  }
  const w = Float64Array.from({ length: k }, (_, j) => {
    let s = 0;
    for (let p = 0; p < n; p++) s += resp[p * k + j];
    return s / n;
  });
  return { resp, weights: w, nll: -total / n };
}

/** Starting means: geodesic k-medoids of a subsample (seeded). */
function initialMeans(metric: Metric, points: Float64Array, k: number, opts: LandFitOptions): Float64Array {
  const d = metric.dim;
  if (opts.initMeans) {
    const m = toFlatPoints(opts.initMeans, d, 'initMeans');
    if (m.length !== k * d) throw new RangeError(`initMeans: expected ${k} means, got ${m.length / d}`);
    return m;
  }
  const n = points.length / d;
  const size = Math.min(n, Math.max(k, opts.initSubset ?? 40));
  const pick = new Rng(opts.mc?.seed ?? 0).permutation(n).subarray(0, size);
  const sub = new Float64Array(size * d);
  pick.forEach((p, q) => sub.set(points.subarray(p * d, (p + 1) * d), q * d));
  const dist = geodesicDistanceMatrix(metric, sub, { ...opts.geodesic, progress: false });
  const { medoids } = kmedoids(dist.distances, k, { seed: opts.mc?.seed ?? 0 });
  const out = new Float64Array(k * d);
  medoids.forEach((m, j) => out.set(sub.subarray(m * d, (m + 1) * d), j * d));
  return out;
}

function asLand(st: ComponentState, d: number): Land {
  return { dim: d, mean: st.mu, cov: st.cov, logNormaliser: st.norm.logC, logNormaliserSe: st.norm.se };
}

/** A mixture of K LANDs by generalised EM (K = 1: a single LAND by maximum likelihood). */
export function fitLandMixture(metric: Metric, points: PointsInput, k: number, opts: LandFitOptions = {}): LandMixtureFit {
  const t0 = performance.now();
  const d = metric.dim;
  const x = toFlatPoints(points, d, 'points');
  const n = x.length / d;
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new RangeError(`fitLandMixture: k must be an integer in [1, ${n}], got ${k}`);
  const timing = { logMaps: 0, expMaps: 0 };
  const ctx: FitContext = { metric, points: x, base: tangentBase(d, opts.mc), redrawSeed: (opts.mc?.seed ?? 0) + 1, antithetic: opts.mc?.antithetic ?? true, opts, timing };
  const means = timed(timing, 'logMaps', () => initialMeans(metric, x, k, opts));
  // Hard responsibilities by geodesic distance to the starting means; Sigma_k the scatter of the log maps.
  const logs = Array.from({ length: k }, (_, j) => timed(timing, 'logMaps', () => logMaps(metric, means.slice(j * d, (j + 1) * d), x, opts)));
  let resp: Float64Array = new Float64Array(n * k);
  for (let p = 0; p < n; p++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logs[j].lengths[p] < logs[best].lengths[p]) best = j;
    resp[p * k + best] = 1;
  }
  const column = (r: Float64Array, j: number) => Float64Array.from({ length: n }, (_, p) => r[p * k + j]);
  let states = logs.map((lm, j) => {
    const w = column(resp, j);
    const mu = means.slice(j * d, (j + 1) * d);
    const scatter = weightedMoments(lm.logs, d, w, new Float64Array(d)).scatter.map((x) => x * (opts.initCovarianceScale ?? 1));
    return evaluateComponent(ctx, mu, scatter, undefined, lm);
  });
  let weights: Float64Array = Float64Array.from({ length: k }, (_, j) => column(resp, j).reduce((a, b) => a + b, 0) / n);
  const history: LandIteration[] = [];
  let e = eStep(states, weights, n);
  const record = (iteration: number, logF: number, expF: number, backtracks: number, t: number) => {
    const info = { iteration, nll: e.nll, logMapFailures: logF, expMapFailures: expF, backtracks, seconds: (performance.now() - t) / 1000 };
    history.push(info);
    opts.onIteration?.(info);
  };
  record(0, states.reduce((a, s) => a + s.logMapFailures, 0), states.reduce((a, s) => a + s.samples.failures, 0), 0, t0);
  if (k > 1) {
    resp = e.resp;
    weights = e.weights;
  }
  let best = { nll: e.nll, states, weights, resp, iteration: 0 };
  let converged = false;
  let stalled = false;
  let iterations = 0;
  for (let it = 1; it <= (opts.maxIterations ?? 30); it++) {
    const ti = performance.now();
    iterations = it;
    const steps = states.map((st, j) => stepComponent(ctx, st, column(resp, j)));
    states = steps.map((s) => s.state);
    const prev = e.nll;
    e = eStep(states, weights, n);
    if (k > 1) {
      resp = e.resp;
      weights = e.weights;
    }
    record(it, steps.reduce((a, s) => a + s.logFailures, 0), steps.reduce((a, s) => a + s.expFailures, 0), steps.reduce((a, s) => a + s.backtracks, 0), ti);
    if (e.nll < best.nll) best = { nll: e.nll, states, weights, resp, iteration: it };
    if (steps.every((s) => !s.moved)) {
      stalled = true;
      break;
    }
    if (Math.abs(prev - e.nll) < (opts.tolerance ?? 1e-4)) {
      converged = true;
      break;
    }
  }
  const mixture: LandMixture = { dim: d, weights: best.weights, components: best.states.map((st) => asLand(st, d)) };
  return {
    mixture,
    responsibilities: best.resp,
    report: {
      iterations,
      bestIteration: best.iteration,
      converged,
      stalled,
      history,
      logMapFailures: history.reduce((a, h) => a + h.logMapFailures, 0),
      expMapFailures: history.reduce((a, h) => a + h.expMapFailures, 0),
      expMapDropped: best.states.reduce((a, s) => a + s.samples.dropped, 0),
      logNormaliserSe: best.states.map((s) => s.norm.se),
      seconds: (performance.now() - t0) / 1000,
      logMapSeconds: timing.logMaps,
      expMapSeconds: timing.expMaps,
    },
  };
}

/** A single LAND by maximum likelihood. */
export function fitLand(metric: Metric, points: PointsInput, opts: LandFitOptions = {}): LandFit {
  const fit = fitLandMixture(metric, points, 1, opts);
  return { land: fit.mixture.components[0], report: fit.report };
}

// ---------------------------------------------------------------------------------------------------------
// Densities and samples

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

export type DensityName = 'gaussian' | 'land' | 'gmm' | 'land_mixture';
export const DENSITY_NAMES: readonly DensityName[] = ['gaussian', 'land', 'gmm', 'land_mixture'];

export interface DensityModels {
  gaussian: Gaussian;
  gmm: Gmm;
  land: Land;
  landMixture: LandMixture;
}

export interface DensityModelFits {
  models: DensityModels;
  gmm: Omit<GmmFit, 'model' | 'responsibilities'>;
  land: LandFitReport;
  landMixture: LandFitReport;
}

/** Fits the Euclidean baselines and the LANDs (K components for both mixtures) to the same codes [N, d]. */
export function fitDensityModels(metric: Metric, codes: PointsInput, opts: { components: number; seed?: number; land?: LandFitOptions }): DensityModelFits {
  const d = metric.dim;
  const x = toFlatPoints(codes, d, 'codes');
  const seed = opts.seed ?? 0;
  const gmmFit = fitGmm(x, d, opts.components, { seed });
  const landOpts: LandFitOptions = { ...opts.land, mc: { seed, ...opts.land?.mc } };
  const single = fitLand(metric, x, landOpts);
  const mixture = fitLandMixture(metric, x, opts.components, landOpts);
  const { model, responsibilities: _r, ...gmmReport } = gmmFit;
  return {
    models: { gaussian: fitGaussian(x, d), gmm: model, land: single.land, landMixture: mixture.mixture },
    gmm: gmmReport,
    land: single.report,
    landMixture: mixture.report,
  };
}

/**
 * log-densities of the four models at points [N, d], all with respect to the Lebesgue measure of the
 * latent coordinates (the LANDs' Riemannian densities times sqrt(det M)), so that they compare.
 */
export function densityLogLikelihoods(metric: Metric, models: DensityModels, points: PointsInput, opts: LandGeometryOptions = {}): { logDensity: Record<DensityName, Float64Array>; logMapFailures: number } {
  const x = toFlatPoints(points, metric.dim, 'points');
  const land = landMixtureLogDensity(metric, asMixture(models.land), x, opts);
  const mixture = landMixtureLogDensity(metric, models.landMixture, x, opts);
  return {
    logDensity: { gaussian: gaussianLogDensity(models.gaussian, x), land: land.lebesgue, gmm: gmmLogDensity(models.gmm, x), land_mixture: mixture.lebesgue },
    logMapFailures: land.logMapFailures + mixture.logMapFailures,
  };
}

/** n samples [n, d] from each model (seeded); the LANDs' by tangent-space resampling (sampleLandMixture). */
export function sampleDensityModels(metric: Metric, models: DensityModels, n: number, opts: { seed?: number } & LandGeometryOptions = {}): Record<DensityName, Float64Array> {
  const seed = opts.seed ?? 0;
  return {
    gaussian: sampleGaussian(models.gaussian, n, new Rng(seed)),
    land: sampleLand(metric, models.land, n, { ...opts, seed: seed + 1 }).points,
    gmm: sampleGmm(models.gmm, n, new Rng(seed + 2)).points,
    land_mixture: sampleLandMixture(metric, models.landMixture, n, { ...opts, seed: seed + 3 }).points,
  };
}

/** `n` rows of points [N, d] drawn without replacement (seeded), e.g. a fitting subset of the codes. */
export function subsampleRows(points: ArrayLike<number>, d: number, n: number, seed: number): Float64Array {
  const total = points.length / d;
  const rows = new Rng(seed).permutation(total).subarray(0, Math.min(n, total));
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) out[i * d + j] = points[r * d + j];
  });
  return out;
}

/**
 * The probability mass a density puts on a latent grid: sum_i exp(log p(z_i)) dx dy (midpoint rule). A
 * check of a normaliser: close to 1 when the grid covers the density's support and the normaliser is right.
 */
export function massOnGrid(logDensity: ArrayLike<number>, grid: LatentGrid): number {
  const dx = (grid.xs[grid.xs.length - 1] - grid.xs[0]) / (grid.xs.length - 1);
  const dy = (grid.ys[grid.ys.length - 1] - grid.ys[0]) / (grid.ys.length - 1);
  let s = 0;
  for (let i = 0; i < logDensity.length; i++) if (Number.isFinite(logDensity[i])) s += Math.exp(logDensity[i]);
  return s * dx * dy;
}
