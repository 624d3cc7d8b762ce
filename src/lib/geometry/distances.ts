/**
 * Geodesic distance matrices: all N(N-1)/2 pairs solved in batched chunks, with a progress bar whose ETA
 * is the time estimate. Cluster on them with kmedoids (stats/kmeans.ts): k-means needs means, which a
 * Riemannian latent space does not give for free, while medoids need only the distances.
 */
import type { Metric } from './metric';
import { DEFAULT_POINTS, GeodesicOptions, PointsInput, connectingGeodesics, toFlatPoints } from './geodesics';
import { GraphOptions, LatentGraph, graphInitialCurves } from './graph';
import { Progress, ProgressMode } from '../util/progress';

export interface DistanceMatrixOptions extends Omit<GeodesicOptions, 'init' | 'onProgress'> {
  /** Pairs per solver call (default 256). */
  chunkPairs?: number;
  /** Start every geodesic on its shortest path in this graph (default: straight lines). */
  graph?: LatentGraph;
  graphOptions?: GraphOptions;
  /** The progress bar's label and mode, or false for none (default label 'geodesic distances'). */
  progress?: false | { label?: string; mode?: ProgressMode; stream?: NodeJS.WritableStream };
}

export interface DistanceMatrix {
  n: number;
  /** [N, N]: symmetric, zero diagonal; the lengths of the discrete geodesics. */
  distances: Float64Array;
  /** [N, N]: 1 where the pair's geodesic converged (the diagonal counts as converged). */
  converged: Uint8Array;
  /** Number of pairs whose geodesic did not converge (their distance is still the best curve found). */
  unconverged: number;
  /** Wall time of the solves. */
  seconds: number;
}

/** Index pairs (i < j) of N points in row order: [P, 2]. */
export function upperPairs(n: number): Int32Array {
  const out = new Int32Array(n * (n - 1));
  let q = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      out[q++] = i;
      out[q++] = j;
    }
  }
  return out;
}

/** Geodesic distances between all pairs of N points ([N, d]). */
export function geodesicDistanceMatrix(metric: Metric, points: PointsInput, opts: DistanceMatrixOptions = {}): DistanceMatrix {
  const d = metric.dim;
  const z = toFlatPoints(points, d, 'points');
  const n = z.length / d;
  const pairs = upperPairs(n);
  const total = pairs.length / 2;
  const chunk = opts.chunkPairs ?? 256;
  const out: DistanceMatrix = { n, distances: new Float64Array(n * n), converged: new Uint8Array(n * n), unconverged: 0, seconds: 0 };
  for (let i = 0; i < n; i++) out.converged[i * n + i] = 1;
  const bar = opts.progress === false ? null : new Progress({ label: opts.progress?.label ?? 'geodesic distances', total, unit: 'pair', mode: opts.progress?.mode, stream: opts.progress?.stream });
  const t0 = performance.now();
  for (let q0 = 0; q0 < total; q0 += chunk) {
    const q1 = Math.min(total, q0 + chunk);
    const p0 = new Float64Array((q1 - q0) * d);
    const p1 = new Float64Array((q1 - q0) * d);
    for (let q = q0; q < q1; q++) {
      p0.set(z.subarray(pairs[2 * q] * d, (pairs[2 * q] + 1) * d), (q - q0) * d);
      p1.set(z.subarray(pairs[2 * q + 1] * d, (pairs[2 * q + 1] + 1) * d), (q - q0) * d);
    }
    const init = opts.graph ? graphInitialCurves(metric, opts.graph, p0, p1, opts.points ?? DEFAULT_POINTS, opts.graphOptions) : undefined;
    const res = connectingGeodesics(metric, p0, p1, { ...opts, init });
    for (let q = q0; q < q1; q++) {
      const [i, j] = [pairs[2 * q], pairs[2 * q + 1]];
      const len = res.lengths[q - q0];
      out.distances[i * n + j] = out.distances[j * n + i] = len;
      const ok = res.converged[q - q0] ? 1 : 0;
      out.converged[i * n + j] = out.converged[j * n + i] = ok;
      if (!ok) out.unconverged++;
    }
    bar?.tick(q1 - q0, out.unconverged > 0 ? `${out.unconverged} unconverged` : undefined);
  }
  bar?.finish();
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}
