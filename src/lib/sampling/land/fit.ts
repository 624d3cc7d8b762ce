/**
 * Maximum-likelihood fits of a LAND and of LAND mixtures (generalised EM): per component, accepted-or-
 * rejected steps of the covariance (on the precision factor) and of the mean (an exp map of the mean log map
 * minus the normaliser's pull).
 */
import type { Metric } from '../../geometry/metric';
import { CurveBatch, curveBatch } from '../../geometry/curves';
import { PointsInput, toFlatPoints } from '../../geometry/geodesics';
import { logMap } from '../../geometry/expmap';
import { geodesicDistanceMatrix } from '../../geometry/distances';
import { kmedoids } from '../../stats/kmeans';
import { Rng } from '../../util/rng';
import { choleskyFactor, mahalanobisSquared, lowerInverse, squareMatMul, dotProduct } from '../../numerics/dense';
import { logSumExp, weightedMoments } from '../../numerics/statistics';
import { Land, LandMixture, LandGeometryOptions, LandFitOptions, LandIteration, LandFit, LandMixtureFit } from './types';
import { tangentBase, TangentSamples, shootAll, drawTangentSamples, NormaliserEstimate, normaliserAt } from './normaliser';

export interface ComponentState {
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
export function logMaps(metric: Metric, mu: Float64Array, points: Float64Array, opts: LandGeometryOptions, warm?: { curves: CurveBatch; mu: Float64Array }): { logs: Float64Array; curves: CurveBatch; failures: number; lengths: Float64Array } {
  const d = metric.dim;
  const n = points.length / d;
  const starts = new Float64Array(n * d);
  for (let p = 0; p < n; p++) starts.set(mu, p * d);
  const init = warm ? shiftStarts(warm.curves, warm.mu, mu) : undefined;
  const res = logMap(metric, starts, points, { shooting: false, geodesic: { ...opts.geodesic, ...(init ? { init } : {}) } });
  return { logs: res.velocities, curves: res.geodesics.curves, failures: res.converged.filter((c) => !c).length, lengths: res.lengths };
}

/** Curves from `from` moved to start at `to`: point i shifted by (1 - t_i)(to - from), ends exact. */
export function shiftStarts(c: CurveBatch, from: Float64Array, to: Float64Array): CurveBatch {
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

export interface FitContext {
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

export function timed<T>(acc: { logMaps: number; expMaps: number }, key: 'logMaps' | 'expMaps', f: () => T): T {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    acc[key] += (performance.now() - t0) / 1000;
  }
}

export function evaluateComponent(ctx: FitContext, mu: Float64Array, cov: Float64Array, warm?: ComponentState, logs?: ReturnType<typeof logMaps>): ComponentState {
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
export function componentObjective(st: ComponentState, weights: Float64Array): number {
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
export function covarianceSteps(st: ComponentState, scatter: Float64Array, d: number, steps: number, antithetic: boolean): Float64Array {
  const s = st.samples.eps2.length;
  let a = Float64Array.from(st.samples.a0);
  const f = (aa: Float64Array, est: NormaliserEstimate) => 0.5 * traceASAt(aa, scatter, d) + est.logC;
  let est = normaliserAt(st.samples, a, d, antithetic);
  let value = f(a, est);
  let alpha = 0.5;
  for (let it = 0; it < steps; it++) {
    const vq = weightedSecondMoment(st.samples.v, est.q, d);
    const diff = scatter.map((x, i) => x - vq[i]);
    const grad = squareMatMul(a, diff, d);
    const sigma = covFromFactor(a, d);
    if (!sigma) break;
    const dir = squareMatMul(grad, sigma, d);
    const slope = dotProduct(grad, dir);
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

export function traceASAt(a: Float64Array, s: Float64Array, d: number): number {
  const as = squareMatMul(a, s, d);
  let t = 0;
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) t += as[i * d + k] * a[i * d + k];
  return t;
}

/** Sigma = (A^T A)^-1 = A^-1 A^-T, or null when A is singular. */
export function covFromFactor(a: Float64Array, d: number): Float64Array | null {
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
export function weightedSecondMoment(v: Float64Array, q: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  q.forEach((w, p) => {
    if (w === 0) return;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] += w * v[p * d + i] * v[p * d + j];
  });
  return out;
}

/** The mean's step direction: weighted mean log map minus sum_s q_s v_s (the normaliser's pull). */
export function meanDirection(st: ComponentState, weights: Float64Array, q: Float64Array, d: number): Float64Array {
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

export interface StepOutcome {
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
export function stepComponent(ctx: FitContext, st: ComponentState, weights: Float64Array): StepOutcome {
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
export function logTerms(states: ComponentState[], weights: Float64Array, n: number): Float64Array {
  const k = states.length;
  const out = new Float64Array(n * k);
  states.forEach((st, j) => {
    for (let p = 0; p < n; p++) out[p * k + j] = Math.log(weights[j]) - 0.5 * st.mahal[p] - st.norm.logC;
  });
  return out;
}

/** The E-step: responsibilities [N, K], mixture weights, and the mean negative log-likelihood. */
export function eStep(states: ComponentState[], weights: Float64Array, n: number): { resp: Float64Array; weights: Float64Array; nll: number } {
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
export function initialMeans(metric: Metric, points: Float64Array, k: number, opts: LandFitOptions): Float64Array {
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

export function asLand(st: ComponentState, d: number): Land {
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
