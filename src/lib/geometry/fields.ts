/**
 * Scalar fields derived from a metric over batches and grids: the volume element sqrt(det M) (the
 * magnification factor), its log, and the condition number of the Jacobian (sqrt of M's, as M = J^T J).
 */
import * as tf from '@tensorflow/tfjs';
import { Metric, isPullbackMetric } from './metric';
import { tangentR } from './tangent-qr';
import { mapPointBatches } from '../runtime/batch';
import { logDetSymmetric, symmetricEigenvalues } from '../numerics/dense';

export interface LatentGrid {
  /** Grid coordinates along the first and second latent axes. */
  xs: Float64Array;
  ys: Float64Array;
  /** [ny * nx, 2] row-major with x varying fastest, so values[iy * nx + ix] is a heatmap row. */
  points: Float32Array;
}

export interface GridSpec {
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
  /** Points per axis (or [nx, ny]). */
  n: number | [number, number];
}

export function latentGrid(spec: GridSpec): LatentGrid {
  const [nx, ny] = typeof spec.n === 'number' ? [spec.n, spec.n] : spec.n;
  if (!(nx >= 2 && ny >= 2)) throw new RangeError(`latentGrid: n must be at least 2 per axis, got ${JSON.stringify(spec.n)}`);
  const axis = (lo: number, hi: number, m: number) => Float64Array.from({ length: m }, (_, i) => lo + ((hi - lo) * i) / (m - 1));
  const xs = axis(spec.xmin, spec.xmax, nx);
  const ys = axis(spec.ymin, spec.ymax, ny);
  const points = new Float32Array(nx * ny * 2);
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      points[2 * (iy * nx + ix)] = xs[ix];
      points[2 * (iy * nx + ix) + 1] = ys[iy];
    }
  }
  return { xs, ys, points };
}

/** A square grid around points [N, 2], padded by `pad` times their range on each side. */
export function gridAround(points: ArrayLike<number>, n: number, pad = 0.1): LatentGrid {
  let [xmin, xmax, ymin, ymax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i + 1 < points.length; i += 2) {
    xmin = Math.min(xmin, points[i]);
    xmax = Math.max(xmax, points[i]);
    ymin = Math.min(ymin, points[i + 1]);
    ymax = Math.max(ymax, points[i + 1]);
  }
  const px = (xmax - xmin) * pad;
  const py = (ymax - ymin) * pad;
  return latentGrid({ xmin: xmin - px, xmax: xmax + px, ymin: ymin - py, ymax: ymax + py, n });
}

/**
 * G at N points given flat [N, d] (any size: evaluated in batches inside tf.tidy), as flat [N, d, d].
 */
export function metricTensors(metric: Metric, points: Float32Array, opts: { batchSize?: number } = {}): Float32Array {
  const d = metric.dim;
  return mapPointBatches(points, d, opts.batchSize ?? 2048, d * d, (z) => metric.tensor(z));
}

export interface MetricFields {
  /** sqrt(det G) */
  volume: Float64Array;
  /** log sqrt(det G) = 1/2 log det G */
  logVolume: Float64Array;
  /** kappa(J) = s_max / s_min = sqrt(lambda_max / lambda_min) of G */
  conditionNumber: Float64Array;
}

/** The derived fields of flat metric tensors [N, d, d]. */
export function metricFields(tensors: Float32Array, d: number): MetricFields {
  const n = tensors.length / (d * d);
  const volume = new Float64Array(n);
  const logVolume = new Float64Array(n);
  const conditionNumber = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = tensors.subarray(i * d * d, (i + 1) * d * d);
    const ld = logDetSymmetric(g, d);
    logVolume[i] = 0.5 * ld;
    volume[i] = Math.exp(0.5 * ld);
    const ev = symmetricEigenvalues(g, d);
    conditionNumber[i] = ev[0] > 0 ? Math.sqrt(ev[d - 1] / ev[0]) : Infinity;
  }
  return { volume, logVolume, conditionNumber };
}

/**
 * The fields of `metric` at flat points [N, d]. For a pull-back metric they come from the R factor of the
 * Jacobian (see tangent-qr.ts), which stays accurate where G is nearly singular; otherwise from G.
 */
export function fieldsAt(metric: Metric, points: Float32Array, opts: { batchSize?: number } = {}): MetricFields {
  if (!isPullbackMetric(metric)) return metricFields(metricTensors(metric, points, opts), metric.dim);
  const d = metric.dim;
  const rFactors = mapPointBatches(points, d, opts.batchSize ?? 2048, d * d, (z) => tangentR(metric.tangentBlocks(z)));
  return fieldsFromR(rFactors, d);
}

/** Fields from upper-triangular R factors [N, d, d] (G = R^T R), in float64. */
export function fieldsFromR(rFactors: Float32Array, d: number): MetricFields {
  const n = rFactors.length / (d * d);
  const volume = new Float64Array(n);
  const logVolume = new Float64Array(n);
  const conditionNumber = new Float64Array(n);
  const rtr = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const r = rFactors.subarray(i * d * d, (i + 1) * d * d);
    let lv = 0;
    for (let k = 0; k < d; k++) lv += Math.log(Math.abs(r[k * d + k]));
    logVolume[i] = lv;
    volume[i] = Math.exp(lv);
    conditionNumber[i] = conditionOfTriangular(r, d, rtr);
  }
  return { volume, logVolume, conditionNumber };
}

/** s_max / s_min of an upper-triangular R; s_min = |det R| / (product of the other singular values) for d = 2. */
function conditionOfTriangular(r: ArrayLike<number>, d: number, scratch: Float64Array): number {
  if (d === 1) return 1;
  if (d === 2) {
    const det = Math.abs(r[0] * r[3]);
    const fro2 = r[0] * r[0] + r[1] * r[1] + r[3] * r[3];
    // s_max^2 + s_min^2 = |R|_F^2 and s_max s_min = |det R|, without the cancellation of s_max^2 - ...
    const smax = Math.sqrt(0.5 * (fro2 + Math.sqrt(Math.max(0, fro2 * fro2 - 4 * det * det))));
    return det > 0 ? (smax * smax) / det : Infinity;
  }
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += r[k * d + a] * r[k * d + b];
      scratch[a * d + b] = s;
    }
  }
  const ev = symmetricEigenvalues(scratch, d);
  return ev[0] > 0 ? Math.sqrt(ev[d - 1] / ev[0]) : Infinity;
}
