/**
 * Scalar fields derived from a metric over batches and grids: the volume element sqrt(det M) (the
 * magnification factor), its log, and the condition number of the Jacobian (sqrt of M's, as M = J^T J).
 */
import * as tf from '@tensorflow/tfjs';
import type { Metric } from './metric';
import { logDetSymmetric, symmetricEigenvalues } from './linalg';

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
  if (points.length % d !== 0) throw new RangeError(`metricTensors: ${points.length} coordinates is not a multiple of d = ${d}`);
  const n = points.length / d;
  const bs = opts.batchSize ?? 2048;
  const out = new Float32Array(n * d * d);
  for (let s = 0; s < n; s += bs) {
    const e = Math.min(n, s + bs);
    const g = tf.tidy(() => metric.tensor(tf.tensor2d(points.subarray(s * d, e * d), [e - s, d])));
    out.set(g.dataSync() as Float32Array, s * d * d);
    g.dispose();
  }
  return out;
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

/** The fields of `metric` at flat points [N, d]. */
export function fieldsAt(metric: Metric, points: Float32Array, opts: { batchSize?: number } = {}): MetricFields {
  return metricFields(metricTensors(metric, points, opts), metric.dim);
}
