/**
 * The energy of discrete curves with fixed end points as a sum of squares, S = sum_i |r_i|^2 over the
 * T - 1 segments (the curve energy is E = (T - 1) S, the length sum_i |r_i|), together with its
 * Gauss-Newton system: the block-tridiagonal H = sum_i dr_i^T dr_i over the T - 2 interior points and
 * the half-gradient g = sum_i dr_i^T r_i. Two models share that form:
 *
 * - a pull-back metric: r_i = f(c_{i+1}) - f(c_i) in the embedding, exact and Jacobian-free for S;
 *   dr_i/dc_{i+1} = J(c_{i+1}), dr_i/dc_i = -J(c_i), so H_kk = 2 J_k^T J_k, H_k,k+1 = -J_k^T J_{k+1},
 *   g_k = J_k^T (r_{k-1} - r_k), from the forward-mode tangent rows of the nets at the interior points.
 *   On request it adds Newton's second-order term (see residualCurvature).
 * - any other metric: r_i = L(m_i)^T (c_{i+1} - c_i) with M(m_i) = L L^T at the segment midpoint
 *   m_i. The midpoint rule is second-order and symmetric, where the left-point rule D_i^T M(c_i) D_i
 *   biases the discrete optimum by O(1/T). dL/dm comes from central differences of M, so everything
 *   after one batched metric evaluation is small float64 JS work.
 */
import * as tf from '@tensorflow/tfjs';
import { Metric, PullbackMetric, isPullbackMetric } from './metric';
import { DecoderMetric } from './decoder-metric';
import { metricTensors } from './fields';
import { choleskyInPlace } from './block-tridiagonal';

/** The Gauss-Newton system of m curves with n = T - 2 interior points in R^d. */
export interface GnSystem {
  m: number;
  n: number;
  d: number;
  /** |r_i|^2 per segment: [m, T - 1]. */
  sq: Float64Array;
  /** H_kk: [m, n, d, d]. */
  diag: Float64Array;
  /** H_k,k+1: [m, n - 1, d, d] (the lower blocks are their transposes). */
  upper: Float64Array;
  /** g = J^T r: [m, n, d] (half the gradient of S). */
  grad: Float64Array;
  /**
   * Newton's residual-curvature term W_k = sum_e u_k,e d^2 f_e(c_k) that Gauss-Newton drops: [m, n, d, d]
   * blocks to add to diag, when the evaluation was asked for it; else null.
   */
  curvature: Float64Array | null;
}

/** S and the Gauss-Newton system of discrete curves between fixed end points. */
export interface CurveEnergyModel {
  readonly dim: number;
  /** T: points per curve, end points included. */
  readonly points: number;
  /**
   * The system for the curves numbered `which` (into the batch of end points the model was made for) with
   * interior points [which.length, T - 2, d]. `secondOrder` adds the Newton term that Gauss-Newton drops
   * (d + 1 times the embedding evaluations; models without it ignore the flag).
   */
  evaluate(which: Int32Array, interior: Float64Array, secondOrder?: boolean): GnSystem;
  /** Releases whatever the model holds. */
  dispose(): void;
}

export function emptySystem(m: number, n: number, d: number): GnSystem {
  return {
    m,
    n,
    d,
    sq: new Float64Array(m * (n + 1)),
    diag: new Float64Array(m * n * d * d),
    upper: new Float64Array(m * Math.max(0, n - 1) * d * d),
    grad: new Float64Array(m * n * d),
    curvature: null,
  };
}

export interface EnergyModelOptions {
  /**
   * Finite-difference step (default 1e-3, scaled by max(1, |z_j|)): central differences of M for a
   * non-pull-back metric, forward differences of the tangent rows for a pull-back's Newton term.
   */
  fdStep?: number;
}

/** The model for `metric` between end points p0, p1 ([B, d] each) with T points per curve. */
export function curveEnergyModel(metric: Metric, p0: Float64Array, p1: Float64Array, points: number, opts: EnergyModelOptions = {}): CurveEnergyModel {
  if (!(Number.isInteger(points) && points >= 3)) throw new RangeError(`curveEnergyModel: need at least 3 points per curve, got ${points}`);
  if (p0.length !== p1.length || p0.length % metric.dim !== 0) {
    throw new RangeError(`curveEnergyModel: end points of lengths ${p0.length} and ${p1.length} do not form [B, ${metric.dim}] pairs`);
  }
  return isPullbackMetric(metric) ? new PullbackEnergyModel(metric, p0, p1, points, opts.fdStep ?? 1e-3) : new MidpointEnergyModel(metric, p0, p1, points, opts.fdStep ?? 1e-3);
}

/** A value and its tangent rows for one block of the embedding: [B, E_p] and [B, d, E_p]. */
export type EmbeddingBlock = {
  value: tf.Tensor2D;
  jt: tf.Tensor3D;
};

/**
 * f(z) and its tangent rows in one pass, split into the metric's blocks. A DecoderMetric's nets give
 * both from one forward-mode jet (embed() and tangentBlocks() separately would run every net twice);
 * other pull-backs fall back to those two calls as a single block.
 */
export function embeddingJet(metric: PullbackMetric, z: tf.Tensor2D): EmbeddingBlock[] {
  return tf.tidy(() => {
    if (metric instanceof DecoderMetric) {
      const jets = [metric.decoder.meanJet(z)];
      const s = metric.kind === 'expected' ? metric.decoder.stdJet(z) : null;
      if (s) jets.push(s);
      return jets.map((j) => ({ value: j.value!, jt: j.jt }));
    }
    const jts = metric.tangentBlocks(z);
    return [{ value: metric.embed(z), jt: jts.length === 1 ? jts[0] : (tf.concat(jts, 2) as tf.Tensor3D) }];
  });
}

/** f(z) split as embeddingJet splits it (values only). */
function embeddingValues(metric: PullbackMetric, z: tf.Tensor2D): tf.Tensor2D[] {
  return tf.tidy(() => {
    if (metric instanceof DecoderMetric) {
      const s = metric.kind === 'expected' ? metric.decoder.std(z) : null;
      return s ? [metric.decoder.mean(z), s] : [metric.decoder.mean(z)];
    }
    return [metric.embed(z)];
  });
}

/** Interleaves end points [B, d] as [B, 2, d] in float32 for tensors. */
function endPointRows(p0: Float64Array, p1: Float64Array, d: number): Float32Array {
  const b = p0.length / d;
  const out = new Float32Array(2 * b * d);
  for (let i = 0; i < b; i++) {
    out.set(p0.subarray(i * d, (i + 1) * d), 2 * i * d);
    out.set(p1.subarray(i * d, (i + 1) * d), (2 * i + 1) * d);
  }
  return out;
}

/**
 * The pull-back model. tfjs runs only the nets (one forward-mode jet per evaluation); the residuals and
 * the d x d products then run over the pulled values in float64 JS. That is faster here than tfjs op
 * chains (wasm's batched matMul is a plain loop, and its slices, gathers and transposes each copy), and
 * the float64 sums take the float32 summation noise out of the energy that accept/reject compares.
 */
class PullbackEnergyModel implements CurveEnergyModel {
  readonly dim: number;
  /** Per block f at the end points: [B, 2, E_p], computed once since end points never move. */
  private readonly ends: { values: Float32Array; width: number }[];

  constructor(
    private readonly metric: PullbackMetric,
    p0: Float64Array,
    p1: Float64Array,
    readonly points: number,
    private readonly fdStep: number,
  ) {
    this.dim = metric.dim;
    const b = p0.length / this.dim;
    const values = tf.tidy(() => embeddingValues(metric, tf.tensor2d(endPointRows(p0, p1, this.dim), [2 * b, this.dim])));
    this.ends = values.map((v) => ({ values: v.dataSync() as Float32Array, width: v.shape[1] }));
    tf.dispose(values);
  }

  evaluate(which: Int32Array, interior: Float64Array, secondOrder = false): GnSystem {
    const d = this.dim;
    const n = this.points - 2;
    const m = which.length;
    const sys = emptySystem(m, n, d);
    if (m === 0) return sys;
    const z = Float32Array.from(interior);
    const shifted = secondOrder ? forwardStencil(z, d, this.fdStep) : null;
    const jets = tf.tidy(() => embeddingJet(this.metric, tf.tensor2d(shifted ? shifted.points : z, [(shifted ? d + 1 : 1) * m * n, d])));
    const pulled = jets.map((blk) => ({ value: blk.value.dataSync() as Float32Array, jt: blk.jt.dataSync() as Float32Array }));
    tf.dispose(jets.flatMap((blk) => [blk.value, blk.jt]));
    const shiftedJtU = shifted ? new Float64Array(m * n * d * d) : null;
    pulled.forEach((blk, p) => accumulateBlock(sys, which, blk.value, blk.jt, this.ends[p], shiftedJtU));
    for (let i = 0; i < sys.diag.length; i++) sys.diag[i] *= 2; // H_kk = 2 G_k
    for (let i = 0; i < sys.upper.length; i++) sys.upper[i] = -sys.upper[i]; // H_k,k+1 = -C_k
    if (shifted && shiftedJtU) sys.curvature = residualCurvature(shiftedJtU, shifted.steps, sys);
    return sys;
  }

  dispose(): void {}
}

/**
 * Adds one embedding block's share to the system: |r_i|^2 into sq, G_k = J_k^T J_k into diag,
 * C_k = J_k^T J_{k+1} into upper and J_k^T u_k (u_k = r_{k-1} - r_k = 2 f_k - f_{k-1} - f_{k+1}) into grad,
 * from values [mn, E] and tangent rows [mn, d, E] of the interior points (followed, for Newton steps, by
 * the tangent rows at the d shifted copies, whose products with u_k go to shiftedJtU [mn, d, d]).
 */
function accumulateBlock(
  sys: GnSystem,
  which: Int32Array,
  values: Float32Array,
  jt: Float32Array,
  ends: { values: Float32Array; width: number },
  shiftedJtU: Float64Array | null,
): void {
  const { m, n, d, sq, diag, upper, grad } = sys;
  const e = ends.width;
  const t = n + 2;
  const dd = d * d;
  const de = d * e;
  const shiftStride = m * n * de; // tangent rows of the j-th shifted copy start at (j + 1) * shiftStride
  const u = new Float64Array(e);
  // Row i (0..T-1) of curve c: an end point from the cache or an interior value.
  const rowArray = (i: number) => (i === 0 || i === t - 1 ? ends.values : values);
  const rowOffset = (c: number, i: number) => (i === 0 ? 2 * which[c] * e : i === t - 1 ? (2 * which[c] + 1) * e : (c * n + i - 1) * e);
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < t - 1; i++) {
      const a = rowArray(i);
      const b = rowArray(i + 1);
      const ao = rowOffset(c, i);
      const bo = rowOffset(c, i + 1);
      let s = 0;
      for (let x = 0; x < e; x++) {
        const r = b[bo + x] - a[ao + x];
        s += r * r;
      }
      sq[c * (t - 1) + i] += s;
    }
    for (let k = 1; k <= n; k++) {
      const q = c * n + k - 1;
      const [pa, ca, na] = [rowArray(k - 1), rowArray(k), rowArray(k + 1)];
      const [po, co, no] = [rowOffset(c, k - 1), rowOffset(c, k), rowOffset(c, k + 1)];
      for (let x = 0; x < e; x++) u[x] = 2 * ca[co + x] - pa[po + x] - na[no + x];
      const jo = q * de;
      for (let a = 0; a < d; a++) {
        const ra = jo + a * e;
        grad[q * d + a] += dot(jt, ra, u, e);
        for (let b = 0; b <= a; b++) {
          const g = dot2(jt, ra, jo + b * e, e);
          diag[q * dd + a * d + b] += g;
          if (b !== a) diag[q * dd + b * d + a] += g;
        }
        if (k < n) for (let b = 0; b < d; b++) upper[(c * (n - 1) + k - 1) * dd + a * d + b] += dot2(jt, ra, jo + de + b * e, e);
        if (shiftedJtU) for (let j = 0; j < d; j++) shiftedJtU[q * dd + a * d + j] += dot(jt, (j + 1) * shiftStride + ra, u, e);
      }
    }
  }
}

/** sum_x a[ao + x] * u[x]. */
function dot(a: Float32Array, ao: number, u: Float64Array, e: number): number {
  let s = 0;
  for (let x = 0; x < e; x++) s += a[ao + x] * u[x];
  return s;
}

/** sum_x a[ao + x] * a[bo + x]. */
function dot2(a: Float32Array, ao: number, bo: number, e: number): number {
  let s = 0;
  for (let x = 0; x < e; x++) s += a[ao + x] * a[bo + x];
  return s;
}

/**
 * Points z and z + h_j e_j for j = 1..d, in that order: [(d + 1) N, d], with the steps h_j as float32
 * actually represents them ([N, d]), the step being fdStep * max(1, |z_j|).
 */
function forwardStencil(z: Float32Array, d: number, fdStep: number): { points: Float32Array; steps: Float64Array } {
  const n = z.length / d;
  const points = new Float32Array((d + 1) * n * d);
  const steps = new Float64Array(n * d);
  for (let j = 0; j <= d; j++) points.set(z, j * n * d);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < d; j++) {
      const v = z[k * d + j];
      const up = Math.fround(v + fdStep * Math.max(1, Math.abs(v)));
      points[((j + 1) * n + k) * d + j] = up;
      steps[k * d + j] = up - v;
    }
  }
  return { points, steps };
}

/**
 * Newton's term of the Hessian that Gauss-Newton drops, W_k = sum_e u_k,e d^2 f_e(c_k) (only diagonal
 * blocks: r_i has no mixed second derivative in c_i, c_{i+1}), from forward differences of the tangent
 * rows: W[:, j] = (Jt(z + h_j e_j) u - Jt(z) u) / h_j, symmetrised. It matters when the embedded curve
 * bends strongly (large residuals), where Gauss-Newton alone converges only linearly.
 */
function residualCurvature(shiftedJtU: ArrayLike<number>, steps: Float64Array, sys: GnSystem): Float64Array {
  const { m, n, d, grad } = sys;
  const dd = d * d;
  const w = new Float64Array(m * n * dd);
  for (let k = 0; k < m * n; k++) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        const wij = (shiftedJtU[k * dd + i * d + j] - grad[k * d + i]) / steps[k * d + j];
        const wji = (shiftedJtU[k * dd + j * d + i] - grad[k * d + j]) / steps[k * d + i];
        w[k * dd + i * d + j] = w[k * dd + j * d + i] = 0.5 * (wij + wji);
      }
    }
  }
  return w;
}

class MidpointEnergyModel implements CurveEnergyModel {
  readonly dim: number;

  constructor(
    private readonly metric: Metric,
    private readonly p0: Float64Array,
    private readonly p1: Float64Array,
    readonly points: number,
    private readonly fdStep: number,
  ) {
    this.dim = metric.dim;
  }

  evaluate(which: Int32Array, interior: Float64Array): GnSystem {
    const d = this.dim;
    const t = this.points;
    const n = t - 2;
    const m = which.length;
    const sys = emptySystem(m, n, d);
    if (m === 0) return sys;
    const segs = m * (t - 1);
    const pts = this.fullCurves(which, interior); // [m, T, d]
    // Stencil per segment: the midpoint, then midpoint +- h_j e_j for each j: [segs, 2d + 1, d].
    const sw = 2 * d + 1;
    const stencil = new Float32Array(segs * sw * d);
    const steps = new Float64Array(segs * d);
    const deltas = new Float64Array(segs * d);
    for (let s = 0; s < segs; s++) {
      const c = Math.floor(s / (t - 1));
      const a = (c * t + (s % (t - 1))) * d;
      for (let j = 0; j < d; j++) {
        const mid = 0.5 * (pts[a + j] + pts[a + d + j]);
        deltas[s * d + j] = pts[a + d + j] - pts[a + j];
        // The step must be representable in float32 at the midpoint: take the actual float32 difference.
        const up = Math.fround(mid + this.fdStep * Math.max(1, Math.abs(mid)));
        const down = Math.fround(mid - this.fdStep * Math.max(1, Math.abs(mid)));
        steps[s * d + j] = up - down;
        for (let q = 0; q < sw; q++) stencil[(s * sw + q) * d + j] = mid;
        stencil[(s * sw + 1 + 2 * j) * d + j] = up;
        stencil[(s * sw + 2 + 2 * j) * d + j] = down;
      }
    }
    const g = Float64Array.from(metricTensors(this.metric, stencil));
    const dd = d * d;
    // Per segment: r = L^T D [d], A = dr/dc_i, B = dr/dc_{i+1} [d, d] (row = residual component).
    const r = new Float64Array(segs * d);
    const A = new Float64Array(segs * dd);
    const B = new Float64Array(segs * dd);
    const lt = new Float64Array(d);
    const plus = new Float64Array(d);
    const minus = new Float64Array(d);
    for (let s = 0; s < segs; s++) {
      for (let q = 0; q < sw; q++) factorPsd(g, (s * sw + q) * dd, d);
      const l0 = s * sw * dd;
      ltTimes(g, l0, deltas, s * d, d, lt);
      let sqs = 0;
      for (let i = 0; i < d; i++) {
        r[s * d + i] = lt[i];
        sqs += lt[i] * lt[i];
      }
      sys.sq[s] = sqs;
      for (let j = 0; j < d; j++) {
        // Column j of K = d(L^T D)/dm_j by central differences.
        ltTimes(g, (s * sw + 1 + 2 * j) * dd, deltas, s * d, d, plus);
        ltTimes(g, (s * sw + 2 + 2 * j) * dd, deltas, s * d, d, minus);
        const h = steps[s * d + j];
        for (let i = 0; i < d; i++) {
          const k = (plus[i] - minus[i]) / h;
          const ltij = g[l0 + j * d + i]; // (L^T)_ij = L_ji
          A[s * dd + i * d + j] = -ltij + 0.5 * k;
          B[s * dd + i * d + j] = ltij + 0.5 * k;
        }
      }
    }
    assembleFromSegments(sys, r, A, B);
    return sys;
  }

  /** [m, T, d] curves from the interior points and the model's end points. */
  private fullCurves(which: Int32Array, interior: Float64Array): Float64Array {
    const d = this.dim;
    const t = this.points;
    const n = t - 2;
    const out = new Float64Array(which.length * t * d);
    which.forEach((b, c) => {
      out.set(this.p0.subarray(b * d, (b + 1) * d), c * t * d);
      out.set(interior.subarray(c * n * d, (c + 1) * n * d), (c * t + 1) * d);
      out.set(this.p1.subarray(b * d, (b + 1) * d), (c * t + t - 1) * d);
    });
    return out;
  }

  dispose(): void {}
}

/**
 * Replaces the symmetric matrix at a[off..] by its lower Cholesky factor; a matrix that is only positive
 * semi-definite by rounding gets a tiny ridge first (a metric is PD but float32 may not show it), and one
 * with a non-finite entry becomes NaN.
 */
function factorPsd(a: Float64Array, off: number, d: number): void {
  const copy = a.slice(off, off + d * d);
  // A NaN or infinite metric has no factor: NaN makes the curve's energy NaN, which the solver reports as
  // a failure of that curve (geodesics.ts) instead of aborting the whole batch.
  if (copy.some((x) => !Number.isFinite(x))) return void a.fill(NaN, off, off + d * d);
  if (choleskyInPlace(a, d, off)) return;
  let scale = 0;
  for (let i = 0; i < d; i++) scale = Math.max(scale, Math.abs(copy[i * d + i]));
  for (let ridge = 1e-12 * (scale || 1); ; ridge *= 100) {
    a.set(copy, off);
    for (let i = 0; i < d; i++) a[off + i * d + i] += ridge;
    if (choleskyInPlace(a, d, off)) return;
    if (!Number.isFinite(ridge) || ridge > 1e300) throw new Error(`metric tensor is not positive semi-definite: [${Array.from(copy)}]`);
  }
}

/** out = L^T v for the lower factor L at l[off..]. */
function ltTimes(l: Float64Array, off: number, v: Float64Array, voff: number, d: number, out: Float64Array): void {
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = i; j < d; j++) s += l[off + j * d + i] * v[voff + j];
    out[i] = s;
  }
}

/**
 * H and g from per-segment residuals r_i [d_r] and their Jacobians A_i = dr_i/dc_i, B_i = dr_i/dc_{i+1}
 * ([d_r, d] row-major, here d_r = d): H_kk = B_{k-1}^T B_{k-1} + A_k^T A_k, H_k,k+1 = A_k^T B_k,
 * g_k = B_{k-1}^T r_{k-1} + A_k^T r_k, where interior point k (1..T-2) sits between segments k - 1 and k.
 */
function assembleFromSegments(sys: GnSystem, r: Float64Array, A: Float64Array, B: Float64Array): void {
  const { m, n, d, diag, upper, grad } = sys;
  const dd = d * d;
  const segs = n + 1;
  for (let c = 0; c < m; c++) {
    for (let k = 0; k < n; k++) {
      const before = (c * segs + k) * dd; // segment k - 1 in point numbering, k in 0-based interior numbering
      const after = (c * segs + k + 1) * dd;
      const o = (c * n + k) * dd;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          let h = 0;
          let u = 0;
          for (let q = 0; q < d; q++) {
            h += B[before + q * d + i] * B[before + q * d + j] + A[after + q * d + i] * A[after + q * d + j];
            if (k < n - 1) u += A[after + q * d + i] * B[after + q * d + j];
          }
          diag[o + i * d + j] = h;
          if (k < n - 1) upper[(c * (n - 1) + k) * dd + i * d + j] = u;
        }
        let gi = 0;
        for (let q = 0; q < d; q++) gi += B[before + q * d + i] * r[(c * segs + k) * d + q] + A[after + q * d + i] * r[(c * segs + k + 1) * d + q];
        grad[(c * n + k) * d + i] = gi;
      }
    }
  }
}
