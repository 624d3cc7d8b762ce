/**
 * Batched discrete curves in latent space: B curves of T points each with fixed end points, their
 * Riemannian lengths under any Metric, natural cubic splines through them (to resample a curve finer or
 * coarser) and reparametrisation by Riemannian arc length (equal steps of the decoded curve, e.g. for
 * decoding frames of an interpolation).
 *
 * Points live in float64 JS arrays: solver state and end points must not be rounded to float32 (an output
 * curve starts and ends exactly at the given points); only metric evaluations go through tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { Metric, isPullbackMetric } from './metric';
import { metricTensors } from './fields';

/** B curves of T points in R^d, row-major [B, T, d]. */
export interface CurveBatch {
  /** B */
  readonly count: number;
  /** T (>= 2): points per curve, end points included. */
  readonly points: number;
  /** d */
  readonly dim: number;
  /** [B, T, d] */
  readonly data: Float64Array;
}

export function curveBatch(count: number, points: number, dim: number, data?: Float64Array): CurveBatch {
  if (!(Number.isInteger(count) && count >= 0 && Number.isInteger(points) && points >= 2 && Number.isInteger(dim) && dim >= 1)) {
    throw new RangeError(`curveBatch: need count >= 0, points >= 2, dim >= 1 integers, got ${count}, ${points}, ${dim}`);
  }
  const size = count * points * dim;
  if (data && data.length !== size) throw new RangeError(`curveBatch: data has ${data.length} values, expected ${count} x ${points} x ${dim}`);
  return { count, points, dim, data: data ?? new Float64Array(size) };
}

/** Rows of points (number[][] or typed rows) as flat [N, d] float64, checking each row's length. */
export function flattenPoints(rows: ArrayLike<ArrayLike<number>>, dim: number, what = 'points'): Float64Array {
  const out = new Float64Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r.length !== dim) throw new RangeError(`${what}[${i}]: expected ${dim} coordinates, got ${r.length}`);
    for (let j = 0; j < dim; j++) out[i * dim + j] = r[j];
  }
  return out;
}

/** The curves as nested arrays [B][T][d] (for JSON). */
export function curvesToArrays(c: CurveBatch): number[][][] {
  const { count, points, dim, data } = c;
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: points }, (_, i) => Array.from(data.subarray((b * points + i) * dim, (b * points + i + 1) * dim))),
  );
}

/** Straight lines from p0 to p1 ([B, d] each) with T points. End points are copied exactly. */
export function straightLines(p0: Float64Array, p1: Float64Array, dim: number, points: number): CurveBatch {
  if (p0.length !== p1.length || p0.length % dim !== 0) throw new RangeError(`straightLines: p0 has ${p0.length} values, p1 ${p1.length}, d = ${dim}`);
  const count = p0.length / dim;
  const c = curveBatch(count, points, dim);
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < points; i++) {
      const t = i / (points - 1);
      for (let j = 0; j < dim; j++) {
        const a = p0[b * dim + j];
        const e = p1[b * dim + j];
        c.data[(b * points + i) * dim + j] = i === 0 ? a : i === points - 1 ? e : a + t * (e - a);
      }
    }
  }
  return c;
}

/** First and last points of every curve: [B, d] each. */
export function curveEnds(c: CurveBatch): { p0: Float64Array; p1: Float64Array } {
  const { count, points, dim, data } = c;
  const p0 = new Float64Array(count * dim);
  const p1 = new Float64Array(count * dim);
  for (let b = 0; b < count; b++) {
    p0.set(data.subarray(b * points * dim, (b * points + 1) * dim), b * dim);
    p1.set(data.subarray(((b + 1) * points - 1) * dim, (b + 1) * points * dim), b * dim);
  }
  return { p0, p1 };
}

/** The curves with every segment split into `s` equal straight pieces: T' = (T - 1) s + 1. */
export function subdivideCurves(c: CurveBatch, s: number): CurveBatch {
  if (!(Number.isInteger(s) && s >= 1)) throw new RangeError(`subdivideCurves: s must be a positive integer, got ${s}`);
  if (s === 1) return c;
  const { count, points, dim, data } = c;
  const tOut = (points - 1) * s + 1;
  const out = curveBatch(count, tOut, dim);
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < tOut; i++) {
      const seg = Math.min(Math.floor(i / s), points - 2);
      const u = (i - seg * s) / s;
      const a = (b * points + seg) * dim;
      for (let j = 0; j < dim; j++) {
        out.data[(b * tOut + i) * dim + j] = u === 0 ? data[a + j] : u === 1 ? data[a + dim + j] : data[a + j] + u * (data[a + dim + j] - data[a + j]);
      }
    }
  }
  return out;
}

/**
 * Natural cubic splines x(t), t in [0, 1], through each curve's points at t_i = i / (T - 1), one per
 * coordinate, built from the second derivatives at the knots (the moment form). The end points are
 * interpolated exactly. Second-derivative continuity holds by construction; in stochman's coefficient
 * form the C2 row of a cubic a + b t + c t^2 + e t^3 must read [0, 0, 2, 6t] (its issue #29), which this
 * form does not need.
 */
export class CubicSplineBatch {
  /** Second derivatives with respect to t at the knots: [B, T, d]. */
  private readonly moments: Float64Array;

  constructor(readonly knots: CurveBatch) {
    this.moments = naturalSplineMoments(knots);
  }

  /**
   * The splines (or their first or second derivatives) at parameters ts in [0, 1]: [B, ts.length, d].
   * Knot values are returned exactly at the knots' parameters.
   */
  at(ts: ArrayLike<number>, derivative: 0 | 1 | 2 = 0): CurveBatch {
    if (ts.length < 2) throw new RangeError('CubicSplineBatch.at: need at least 2 parameters');
    const { count, points, dim, data } = this.knots;
    const h = 1 / (points - 1);
    const out = new Float64Array(count * ts.length * dim);
    for (let q = 0; q < ts.length; q++) {
      const x = Math.min(1, Math.max(0, ts[q])) * (points - 1);
      // A parameter within rounding of a knot gives the knot itself (t = i / (T - 1) is inexact in binary).
      const knot = Math.round(x);
      const atKnot = Math.abs(x - knot) <= 1e-9;
      const seg = Math.min(points - 2, atKnot ? knot : Math.floor(x));
      const u = atKnot ? knot - seg : x - seg;
      for (let b = 0; b < count; b++) {
        const k0 = (b * points + seg) * dim;
        const k1 = k0 + dim;
        const o = (b * ts.length + q) * dim;
        for (let j = 0; j < dim; j++) {
          const [y0, y1, m0, m1] = [data[k0 + j], data[k1 + j], this.moments[k0 + j], this.moments[k1 + j]];
          out[o + j] = splinePiece(y0, y1, m0, m1, h, u, derivative);
        }
      }
    }
    return curveBatch(count, ts.length, dim, out);
  }
}

/** One cubic piece of the moment form at local u in [0, 1] of a knot interval of length h. */
function splinePiece(y0: number, y1: number, m0: number, m1: number, h: number, u: number, derivative: 0 | 1 | 2): number {
  const v = 1 - u;
  switch (derivative) {
    case 0:
      if (u === 0) return y0;
      if (u === 1) return y1;
      return v * y0 + u * y1 + ((h * h) / 6) * ((v * v * v - v) * m0 + (u * u * u - u) * m1);
    case 1:
      return (y1 - y0) / h + (h / 6) * (-(3 * v * v - 1) * m0 + (3 * u * u - 1) * m1);
    case 2:
      return v * m0 + u * m1;
  }
}

/** Solves the tridiagonal system of a natural spline's knot second derivatives (zero at both ends). */
function naturalSplineMoments(c: CurveBatch): Float64Array {
  const { count, points, dim, data } = c;
  const m = new Float64Array(data.length);
  const n = points - 2;
  if (n <= 0) return m;
  const h = 1 / (points - 1);
  const cp = new Float64Array(n);
  const rhs = new Float64Array(n);
  for (let b = 0; b < count; b++) {
    for (let j = 0; j < dim; j++) {
      const y = (i: number) => data[(b * points + i) * dim + j];
      // m_{i-1} + 4 m_i + m_{i+1} = 6 (y_{i+1} - 2 y_i + y_{i-1}) / h^2, by the Thomas algorithm.
      for (let i = 0; i < n; i++) {
        const r = (6 * (y(i + 2) - 2 * y(i + 1) + y(i))) / (h * h);
        const denom = 4 - (i > 0 ? cp[i - 1] : 0);
        cp[i] = 1 / denom;
        rhs[i] = (r - (i > 0 ? rhs[i - 1] : 0)) / denom;
      }
      for (let i = n - 1; i >= 0; i--) {
        const next = i < n - 1 ? m[(b * points + i + 2) * dim + j] : 0;
        m[(b * points + i + 1) * dim + j] = rhs[i] - cp[i] * next;
      }
    }
  }
  return m;
}

/** The curves resampled to `points` points at equal parameter steps of their natural cubic splines. */
export function resampleCurves(c: CurveBatch, points: number): CurveBatch {
  if (points === c.points) return c;
  return new CubicSplineBatch(c).at(uniformParameters(points));
}

export function uniformParameters(points: number): Float64Array {
  return Float64Array.from({ length: points }, (_, i) => i / (points - 1));
}

export interface LengthOptions {
  /**
   * Straight pieces per segment for the quadrature (default 1). For a pull-back metric a segment's length
   * is the chord |f(b) - f(a)|, a lower bound that converges as pieces are added; for any other metric the
   * midpoint rule sqrt(D^T M((a + b)/2) D).
   */
  subdivisions?: number;
  /** Points per metric evaluation (default 8192), bounding memory. */
  batchPoints?: number;
}

/** Riemannian lengths of every straight segment of the curves: [B, T - 1]. */
export function segmentLengths(metric: Metric, c: CurveBatch, opts: LengthOptions = {}): Float64Array {
  const s = opts.subdivisions ?? 1;
  const fine = pieceLengths(metric, subdivideCurves(c, s), opts.batchPoints ?? 8192);
  if (s === 1) return fine;
  const segs = c.points - 1;
  const out = new Float64Array(c.count * segs);
  for (let i = 0; i < out.length; i++) {
    let acc = 0;
    for (let p = 0; p < s; p++) acc += fine[i * s + p];
    out[i] = acc;
  }
  return out;
}

/** Riemannian lengths of the curves (piecewise straight between their points): [B]. */
export function curveLengths(metric: Metric, c: CurveBatch, opts: LengthOptions = {}): Float64Array {
  return sumRows(segmentLengths(metric, c, opts), c.count, c.points - 1);
}

export function sumRows(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += a[r * cols + k];
    out[r] = s;
  }
  return out;
}

/** Lengths of consecutive straight pieces without subdivision, batched over curves: [B, T - 1]. */
function pieceLengths(metric: Metric, c: CurveBatch, batchPoints: number): Float64Array {
  const { count, points, dim, data } = c;
  const out = new Float64Array(count * (points - 1));
  const perChunk = Math.max(1, Math.floor(batchPoints / points));
  for (let b0 = 0; b0 < count; b0 += perChunk) {
    const b1 = Math.min(count, b0 + perChunk);
    const chunk = data.subarray(b0 * points * dim, b1 * points * dim);
    const lens = isPullbackMetric(metric)
      ? chordLengths(metric, chunk, b1 - b0, points, dim)
      : midpointLengths(metric, chunk, b1 - b0, points, dim);
    out.set(lens, b0 * (points - 1));
  }
  return out;
}

/** |f(c_{i+1}) - f(c_i)| for a pull-back metric: no Jacobians needed. */
function chordLengths(metric: Metric & { embed(z: tf.Tensor2D): tf.Tensor2D }, pts: Float64Array, b: number, t: number, d: number): Float64Array {
  const lens = tf.tidy(() => {
    const f = metric.embed(tf.tensor2d(Float32Array.from(pts), [b * t, d]));
    const e = f.shape[1];
    const f3 = tf.reshape(f, [b, t, e]);
    const diff = tf.sub(tf.slice(f3, [0, 1, 0], [b, t - 1, e]), tf.slice(f3, [0, 0, 0], [b, t - 1, e]));
    return tf.sqrt(tf.sum(tf.square(diff), 2));
  });
  const out = Float64Array.from(lens.dataSync());
  lens.dispose();
  return out;
}

/** sqrt(D^T M(mid) D) per segment, the metric evaluated at the segments' midpoints. */
function midpointLengths(metric: Metric, pts: Float64Array, b: number, t: number, d: number): Float64Array {
  const segs = b * (t - 1);
  const mids = new Float32Array(segs * d);
  const deltas = new Float64Array(segs * d);
  for (let c = 0; c < b; c++) {
    for (let i = 0; i < t - 1; i++) {
      const a = (c * t + i) * d;
      const s = (c * (t - 1) + i) * d;
      for (let j = 0; j < d; j++) {
        mids[s + j] = 0.5 * (pts[a + j] + pts[a + d + j]);
        deltas[s + j] = pts[a + d + j] - pts[a + j];
      }
    }
  }
  const g = metricTensors(metric, mids);
  const out = new Float64Array(segs);
  for (let s = 0; s < segs; s++) out[s] = Math.sqrt(Math.max(0, quadraticForm(g, s * d * d, deltas, s * d, d)));
  return out;
}

/** v^T M v for M at m[moff..] (d x d row-major) and v at v[voff..]. */
export function quadraticForm(m: ArrayLike<number>, moff: number, v: ArrayLike<number>, voff: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) {
    let r = 0;
    for (let j = 0; j < d; j++) r += m[moff + i * d + j] * v[voff + j];
    s += v[voff + i] * r;
  }
  return s;
}

export interface ArcLengthResult {
  /** [B, n, d]: points at equal Riemannian arc length, end points exact. */
  curves: CurveBatch;
  /** [B] total lengths. */
  lengths: Float64Array;
}

/**
 * Points at equal Riemannian arc length along each (piecewise straight) curve: what decoding frames of an
 * interpolation needs, as equal latent steps bunch up the frames where the decoder changes little.
 * `subdivisions` (default 4) refines the length quadrature within each segment.
 */
export function arcLengthReparametrize(metric: Metric, c: CurveBatch, n: number, opts: LengthOptions = {}): ArcLengthResult {
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`arcLengthReparametrize: n must be an integer >= 2, got ${n}`);
  const fine = subdivideCurves(c, opts.subdivisions ?? 4);
  const pieces = pieceLengths(metric, fine, opts.batchPoints ?? 8192);
  const out = curveBatch(c.count, n, c.dim);
  const lengths = new Float64Array(c.count);
  const segs = fine.points - 1;
  const cumulative = new Float64Array(fine.points);
  for (let b = 0; b < c.count; b++) {
    for (let i = 0; i < segs; i++) cumulative[i + 1] = cumulative[i] + pieces[b * segs + i];
    lengths[b] = cumulative[segs];
    const verts = fine.data.subarray(b * fine.points * c.dim, (b + 1) * fine.points * c.dim);
    out.data.set(resampleAtCumulative(verts, cumulative, c.dim, n), b * n * c.dim);
  }
  return { curves: out, lengths };
}

/**
 * n points at equal steps of a cumulative length along a polyline (vertices [m, d], cumulative[0] = 0,
 * non-decreasing), interpolating linearly within each piece. The first and last vertices are copied
 * exactly. A polyline of zero or non-finite total length (a degenerate metric) is resampled by vertex index.
 */
export function resampleAtCumulative(verts: Float64Array, cumulative: ArrayLike<number>, d: number, n: number): Float64Array {
  const m = verts.length / d;
  if (!(cumulative[m - 1] > 0 && Number.isFinite(cumulative[m - 1]))) cumulative = Float64Array.from({ length: m }, (_, i) => i);
  const total = cumulative[m - 1];
  const out = new Float64Array(n * d);
  let seg = 0;
  for (let k = 0; k < n; k++) {
    if (k === n - 1) {
      out.set(verts.subarray((m - 1) * d, m * d), k * d);
      continue;
    }
    const target = (total * k) / (n - 1);
    while (seg < m - 2 && cumulative[seg + 1] <= target) seg++;
    const span = cumulative[seg + 1] - cumulative[seg];
    const u = k === 0 || !(span > 0) ? 0 : Math.min(1, Math.max(0, (target - cumulative[seg]) / span));
    for (let j = 0; j < d; j++) {
      const a = verts[seg * d + j];
      out[k * d + j] = u === 0 ? a : a + u * (verts[(seg + 1) * d + j] - a);
    }
  }
  return out;
}
