/**
 * The exponential and logarithm maps. Exp integrates the geodesic equation c'' = -Gamma(c)[c', c'] by
 * classical RK4, with the Christoffel symbols from derivatives of the metric tensor,
 * Gamma^k_ij = 1/2 M^kl (d_i M_lj + d_j M_li - d_l M_ij). dM/dz comes either from tfjs reverse-mode
 * autodiff of metric.tensor (exact to float32, needs a differentiable metric) or from central differences
 * of M (any Metric); a test checks one against the other. Log solves the boundary value problem (the
 * energy minimiser of geodesics.ts) for a first velocity and refines it by shooting, Newton's method on
 * Exp(v) = p1.
 */
import * as tf from '@tensorflow/tfjs';
import type { Metric } from './metric';
import { metricTensors } from './fields';
import { CurveBatch, curveBatch, quadraticForm } from './curves';
import { GeodesicOptions, GeodesicResult, PointsInput, connectingGeodesics, toFlatPoints } from './geodesics';
import { choleskyInPlace, choleskySolveInPlace, solveDense } from '../numerics/dense';

export interface DerivativeOptions {
  /** 'fd' (default): central differences of M, for any Metric; 'autodiff': tf.grad of metric.tensor. */
  method?: 'fd' | 'autodiff';
  /** Central-difference step, scaled by max(1, |z_k|) (default 5e-3, near the float32 optimum). */
  fdStep?: number;
}

export interface MetricJet {
  /** M(z): [B, d, d]. */
  metric: Float64Array;
  /** dM/dz: [B, d, d, d] with [b, k, i, j] = d M_ij / d z_k. */
  derivative: Float64Array;
}

/** M and dM/dz at points z ([B, d]) in one batched evaluation. */
export function metricDerivatives(metric: Metric, z: Float64Array, opts: DerivativeOptions = {}): MetricJet {
  return (opts.method ?? 'fd') === 'autodiff' ? autodiffJet(metric, z) : centralDifferenceJet(metric, z, opts.fdStep ?? 5e-3);
}

/** Stencil z, z + h e_k, z - h e_k (k = 1..d) per point, one metric evaluation for all. */
function centralDifferenceJet(metric: Metric, z: Float64Array, fdStep: number): MetricJet {
  const d = metric.dim;
  const b = z.length / d;
  const sw = 2 * d + 1;
  const dd = d * d;
  const pts = new Float32Array(b * sw * d);
  const steps = new Float64Array(b * d);
  for (let p = 0; p < b; p++) {
    for (let q = 0; q < sw; q++) for (let j = 0; j < d; j++) pts[(p * sw + q) * d + j] = z[p * d + j];
    for (let k = 0; k < d; k++) {
      const v = z[p * d + k];
      const h = fdStep * Math.max(1, Math.abs(v));
      pts[(p * sw + 1 + 2 * k) * d + k] = v + h;
      pts[(p * sw + 2 + 2 * k) * d + k] = v - h;
      // The step float32 actually took.
      steps[p * d + k] = pts[(p * sw + 1 + 2 * k) * d + k] - pts[(p * sw + 2 + 2 * k) * d + k];
    }
  }
  const g = metricTensors(metric, pts);
  const out: MetricJet = { metric: new Float64Array(b * dd), derivative: new Float64Array(b * d * dd) };
  for (let p = 0; p < b; p++) {
    for (let e = 0; e < dd; e++) out.metric[p * dd + e] = g[p * sw * dd + e];
    for (let k = 0; k < d; k++) {
      const plus = (p * sw + 1 + 2 * k) * dd;
      const minus = plus + dd;
      for (let e = 0; e < dd; e++) out.derivative[(p * d + k) * dd + e] = (g[plus + e] - g[minus + e]) / steps[p * d + k];
    }
  }
  return out;
}

/** d M_ij / dz by one reverse pass per entry i <= j (rows of a batch are independent, so sums are fine). */
function autodiffJet(metric: Metric, z: Float64Array): MetricJet {
  const d = metric.dim;
  const b = z.length / d;
  const dd = d * d;
  const out: MetricJet = { metric: new Float64Array(b * dd), derivative: new Float64Array(b * d * dd) };
  tf.tidy(() => {
    const zt = tf.tensor2d(Float32Array.from(z), [b, d]);
    out.metric.set(metric.tensor(zt).dataSync());
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(metric.tensor(x as tf.Tensor2D), [0, i, j], [b, 1, 1])))(zt).dataSync();
        for (let p = 0; p < b; p++) {
          for (let k = 0; k < d; k++) {
            out.derivative[(p * d + k) * dd + i * d + j] = grad[p * d + k];
            out.derivative[(p * d + k) * dd + j * d + i] = grad[p * d + k];
          }
        }
      }
    }
  });
  return out;
}

/** Gamma^k_ij at points z: [B, d, d, d] with [b, k, i, j]. */
export function christoffelSymbols(metric: Metric, z: Float64Array, opts: DerivativeOptions = {}): Float64Array {
  const d = metric.dim;
  const dd = d * d;
  const b = z.length / d;
  const jet = metricDerivatives(metric, z, opts);
  const out = new Float64Array(b * d * dd);
  const chol = new Float64Array(dd);
  const first = new Float64Array(d * dd); // [l, i, j]: 1/2 (d_i M_lj + d_j M_li - d_l M_ij), then M^-1 applied over l
  for (let p = 0; p < b; p++) {
    const dm = (k: number, i: number, j: number) => jet.derivative[(p * d + k) * dd + i * d + j];
    for (let l = 0; l < d; l++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) first[i * d * d + j * d + l] = 0.5 * (dm(i, l, j) + dm(j, l, i) - dm(l, i, j));
    chol.set(jet.metric.subarray(p * dd, (p + 1) * dd));
    if (!choleskyInPlace(chol, d)) throw new Error(`christoffelSymbols: the metric at point ${p} is not positive definite`);
    // Solve M x = first[i, j, :] for every (i, j) at once: d columns of d*d right-hand sides.
    const rhs = new Float64Array(d * dd);
    for (let l = 0; l < d; l++) for (let ij = 0; ij < dd; ij++) rhs[l * dd + ij] = first[ij * d + l];
    choleskySolveInPlace(chol, d, 0, rhs, 0, dd);
    for (let k = 0; k < d; k++) for (let ij = 0; ij < dd; ij++) out[(p * d + k) * dd + ij] = rhs[k * dd + ij];
  }
  return out;
}

/**
 * The geodesic acceleration -Gamma(c)[v, v] at B states, without forming Gamma:
 * M a = -(d_v M) v + 1/2 grad_z (v^T M v).
 */
function geodesicAcceleration(metric: Metric, c: Float64Array, v: Float64Array, opts: DerivativeOptions & Pick<ExpMapOptions, 'onFailure'>): Float64Array {
  const d = metric.dim;
  const dd = d * d;
  const b = c.length / d;
  const jet = metricDerivatives(metric, c, opts);
  const a = new Float64Array(b * d);
  const chol = new Float64Array(dd);
  const w = new Float64Array(d);
  for (let p = 0; p < b; p++) {
    for (let l = 0; l < d; l++) {
      let s = 0;
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) s += jet.derivative[(p * d + i) * dd + l * d + j] * v[p * d + i] * v[p * d + j];
      w[l] = -s + 0.5 * quadraticForm(jet.derivative, (p * d + l) * dd, v, p * d, d);
    }
    chol.set(jet.metric.subarray(p * dd, (p + 1) * dd));
    if (!choleskyInPlace(chol, d)) {
      if (opts.onFailure !== 'nan') throw new Error(`expMap: the metric is not positive definite at [${Array.from(c.subarray(p * d, (p + 1) * d))}]`);
      a.fill(NaN, p * d, (p + 1) * d);
      continue;
    }
    choleskySolveInPlace(chol, d, 0, w, 0, 1);
    a.set(w, p * d);
  }
  return a;
}

export interface ExpMapOptions extends DerivativeOptions {
  /** RK4 steps over t in [0, 1] (default 50). */
  steps?: number;
  /**
   * Exact lengths: each v0 is rescaled so that |v0|_M(z0) = lengths[b], the length of the geodesic over
   * t in [0, 1] (geodesics have constant speed).
   */
  lengths?: ArrayLike<number>;
  /**
   * A geodesic along which the metric stops being positive definite (it ran far off, or a step was too
   * long for the metric's variation): 'throw' (default) aborts the batch; 'nan' makes that geodesic NaN
   * from there on and integrates the others, for Monte Carlo callers that redraw failed samples.
   */
  onFailure?: 'throw' | 'nan';
}

export interface ExpMapResult {
  /** Exp_z0(v0): [B, d]. */
  endpoints: Float64Array;
  /** The integrated geodesics at the RK4 steps: [B, steps + 1, d]. */
  curves: CurveBatch;
  /** |v0|_M(z0) after any rescaling, the geodesic lengths: [B]. */
  lengths: Float64Array;
  /** The initial velocities used: [B, d]. */
  velocities: Float64Array;
}

/** Exp_z0(v0) for B points and velocities, integrated together. */
export function expMap(metric: Metric, z0: PointsInput, v0: PointsInput, opts: ExpMapOptions = {}): ExpMapResult {
  const d = metric.dim;
  const c = toFlatPoints(z0, d, 'z0');
  const v = toFlatPoints(v0, d, 'v0');
  if (c.length !== v.length) throw new RangeError(`expMap: ${c.length / d} points but ${v.length / d} velocities`);
  const b = c.length / d;
  const steps = opts.steps ?? 50;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`expMap: steps must be a positive integer, got ${steps}`);
  const lengths = metricNorms(metric, c, v);
  if (opts.lengths) {
    if (opts.lengths.length !== b) throw new RangeError(`expMap: ${opts.lengths.length} lengths for ${b} velocities`);
    for (let p = 0; p < b; p++) {
      const want = opts.lengths[p];
      if (want === 0) v.fill(0, p * d, (p + 1) * d);
      else if (!(lengths[p] > 0)) throw new RangeError(`expMap: velocity ${p} is zero and cannot be scaled to length ${want}`);
      else for (let j = 0; j < d; j++) v[p * d + j] *= want / lengths[p];
      lengths[p] = want;
    }
  }
  const curves = curveBatch(b, steps + 1, d);
  const record = (s: number, pos: Float64Array) => {
    for (let p = 0; p < b; p++) curves.data.set(pos.subarray(p * d, (p + 1) * d), (p * (steps + 1) + s) * d);
  };
  const velocities = Float64Array.from(v);
  let pos = Float64Array.from(c);
  let vel = v;
  record(0, pos);
  const h = 1 / steps;
  const axpy = (x: Float64Array, y: Float64Array, s: number) => x.map((xi, i) => xi + s * y[i]);
  for (let s = 1; s <= steps; s++) {
    const k1v = geodesicAcceleration(metric, pos, vel, opts);
    const p2 = axpy(pos, vel, h / 2);
    const v2 = axpy(vel, k1v, h / 2);
    const k2v = geodesicAcceleration(metric, p2, v2, opts);
    const p3 = axpy(pos, v2, h / 2);
    const v3 = axpy(vel, k2v, h / 2);
    const k3v = geodesicAcceleration(metric, p3, v3, opts);
    const p4 = axpy(pos, v3, h);
    const v4 = axpy(vel, k3v, h);
    const k4v = geodesicAcceleration(metric, p4, v4, opts);
    pos = pos.map((x, i) => x + (h / 6) * (vel[i] + 2 * v2[i] + 2 * v3[i] + v4[i]));
    vel = vel.map((x, i) => x + (h / 6) * (k1v[i] + 2 * k2v[i] + 2 * k3v[i] + k4v[i]));
    record(s, pos);
  }
  return { endpoints: pos, curves, lengths, velocities };
}

export interface LogMapOptions extends ExpMapOptions {
  /** Options of the boundary value solve that gives the first guess (see connectingGeodesics). */
  geodesic?: GeodesicOptions;
  /** Refine the velocity by shooting so that Exp(v) hits p1 (default true). */
  shooting?: boolean;
  /** Newton iterations of the shooting (default 20). */
  maxShooting?: number;
  /** Shooting converges when |Exp(v) - p1| <= tol * |p1 - p0| (default 1e-6). */
  tol?: number;
}

export interface LogMapResult {
  /** Log_p0(p1): [B, d]. */
  velocities: Float64Array;
  /** |v|_M(p0), the geodesic distance estimate: [B]. */
  lengths: Float64Array;
  /** |Exp(v) - p1| in latent coordinates (NaN without shooting): [B]. */
  residuals: Float64Array;
  /** Shooting met its tolerance (without shooting: the boundary value solve converged): [B]. */
  converged: boolean[];
  /** The boundary value solve behind the first guess. */
  geodesics: GeodesicResult;
}

/** Log_p0(p1) for B pairs: the initial velocity of the connecting geodesic. */
export function logMap(metric: Metric, p0: PointsInput, p1: PointsInput, opts: LogMapOptions = {}): LogMapResult {
  const d = metric.dim;
  const a = toFlatPoints(p0, d, 'p0');
  const e = toFlatPoints(p1, d, 'p1');
  const geodesics = connectingGeodesics(metric, a, e, opts.geodesic);
  // c'(0) by a one-sided difference, scaled to |v|_M(p0) = L, the curve's length (geodesics have
  // constant speed), which the difference alone gets only to O(h^2).
  const v = initialVelocities(geodesics.curves);
  const norms = metricNorms(metric, a, v);
  const scaled = v.map((x, i) => {
    const p = Math.floor(i / d);
    return norms[p] > 0 ? (x * geodesics.lengths[p]) / norms[p] : x;
  });
  const b = a.length / d;
  if (opts.shooting === false) {
    return { velocities: scaled, lengths: Float64Array.from(geodesics.lengths), residuals: new Float64Array(b).fill(NaN), converged: [...geodesics.converged], geodesics };
  }
  const shot = shoot(metric, a, e, scaled, opts);
  return { velocities: shot.v, lengths: metricNorms(metric, a, shot.v), residuals: shot.residuals, converged: shot.converged, geodesics };
}

/** v0 ~ c'(0) of discrete constant-speed curves on t in [0, 1]: the second-order one-sided difference. */
function initialVelocities(c: CurveBatch): Float64Array {
  const { count, points: t, dim: d, data } = c;
  const h = 1 / (t - 1);
  const v = new Float64Array(count * d);
  for (let b = 0; b < count; b++) {
    const at = (i: number, j: number) => data[(b * t + i) * d + j];
    for (let j = 0; j < d; j++) v[b * d + j] = t >= 3 ? (-3 * at(0, j) + 4 * at(1, j) - at(2, j)) / (2 * h) : (at(1, j) - at(0, j)) / h;
  }
  return v;
}

/** |v_b|_M(z_b) for B points and vectors ([B, d] each). */
function metricNorms(metric: Metric, z: Float64Array, v: Float64Array): Float64Array {
  const d = metric.dim;
  const m = metricTensors(metric, Float32Array.from(z));
  return Float64Array.from({ length: z.length / d }, (_, p) => Math.sqrt(Math.max(0, quadraticForm(m, p * d * d, v, p * d, d))));
}

/**
 * Newton's method on F(v) = Exp_p0(v) - p1 with a forward-difference Jacobian: each iteration integrates
 * v and its d perturbations for all unfinished pairs in one batch. A step that does not lower |F| is
 * halved back toward the best velocity so far.
 */
function shoot(metric: Metric, p0: Float64Array, p1: Float64Array, v0: Float64Array, opts: LogMapOptions): { v: Float64Array; residuals: Float64Array; converged: boolean[] } {
  const d = metric.dim;
  const b = p0.length / d;
  const tol = opts.tol ?? 1e-6;
  const v = Float64Array.from(v0);
  const best = Float64Array.from(v0);
  const bestRes = new Float64Array(b).fill(Infinity);
  const done = new Array<boolean>(b).fill(false);
  const scale = Float64Array.from({ length: b }, (_, p) => Math.max(norm(p1.subarray(p * d, (p + 1) * d), p0.subarray(p * d, (p + 1) * d)), 1e-12));
  const expOpts: ExpMapOptions = { steps: opts.steps, method: opts.method, fdStep: opts.fdStep };
  for (let it = 0; it <= (opts.maxShooting ?? 20); it++) {
    const active = Array.from({ length: b }, (_, p) => p).filter((p) => !done[p]);
    if (active.length === 0) break;
    // Rows: for each active pair, v then v + eps e_j.
    const starts = new Float64Array(active.length * (d + 1) * d);
    const vels = new Float64Array(active.length * (d + 1) * d);
    const eps = active.map((p) => 1e-4 * Math.max(1e-3, Math.hypot(...v.subarray(p * d, (p + 1) * d))));
    active.forEach((p, q) => {
      for (let r = 0; r <= d; r++) {
        starts.set(p0.subarray(p * d, (p + 1) * d), (q * (d + 1) + r) * d);
        vels.set(v.subarray(p * d, (p + 1) * d), (q * (d + 1) + r) * d);
        if (r > 0) vels[(q * (d + 1) + r) * d + r - 1] += eps[q];
      }
    });
    const ends = expMap(metric, starts, vels, expOpts).endpoints;
    active.forEach((p, q) => {
      const base = q * (d + 1) * d;
      const f = Float64Array.from({ length: d }, (_, j) => ends[base + j] - p1[p * d + j]);
      const res = Math.hypot(...f);
      if (!(res < bestRes[p])) {
        // No better than the best so far: halve back toward it.
        for (let j = 0; j < d; j++) v[p * d + j] = 0.5 * (v[p * d + j] + best[p * d + j]);
        return;
      }
      bestRes[p] = res;
      best.set(v.subarray(p * d, (p + 1) * d), p * d);
      if (res <= tol * scale[p]) {
        done[p] = true;
        return;
      }
      // J[:, j] = (Exp(v + eps e_j) - Exp(v)) / eps; the Newton step solves J delta = -F.
      const jac = new Float64Array(d * d);
      for (let j = 0; j < d; j++) for (let i = 0; i < d; i++) jac[i * d + j] = (ends[base + (j + 1) * d + i] - ends[base + i]) / eps[q];
      const delta = solveDense(jac, f.map((x) => -x), d);
      if (delta) for (let j = 0; j < d; j++) v[p * d + j] += delta[j];
    });
  }
  return { v: best, residuals: bestRes, converged: Array.from({ length: b }, (_, p) => bestRes[p] <= tol * scale[p]) };
}

function norm(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] - b[j]) ** 2;
  return Math.sqrt(s);
}
