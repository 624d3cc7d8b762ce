/**
 * Where the data lives in latent space: distances to the nearest latent code, and masks of points on or
 * off the data support. The papers' claims ("sigma grows away from the data", "the Riemannian walk stays on
 * the data") are all statements relative to these.
 */
import { quantile, mean } from '../numerics/statistics';

/** For each query point [M, d], the Euclidean distance to the nearest of the codes [N, d]. */
export function nearestDistances(queries: ArrayLike<number>, codes: ArrayLike<number>, d: number, opts: { excludeSelf?: boolean } = {}): Float64Array {
  const m = queries.length / d;
  const n = codes.length / d;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let best = Infinity;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = queries[i * d + k] - codes[j * d + k];
        s += t * t;
      }
      if (s < best && !(opts.excludeSelf && s === 0 && i === j)) best = s;
    }
    out[i] = Math.sqrt(best);
  }
  return out;
}

/** The median distance from each code to its nearest other code: the data's own length scale. */
export function medianNearestNeighbourDistance(codes: ArrayLike<number>, d: number): number {
  return quantile(nearestDistances(codes, codes, d, { excludeSelf: true }), 0.5);
}

export interface FarNearRatio {
  ratio: number;
  meanFar: number;
  meanNear: number;
  /** How many grid points counted as far from the data. */
  farCount: number;
  /** Distance beyond which a grid point is far: `factor` x the median nearest-neighbour distance of the codes. */
  threshold: number;
}

/**
 * mean(field at grid points farther than factor x the median nearest-neighbour distance between codes from
 * every code) / mean(field at the codes). Used for sigma and for the volume element (issue definitions:
 * factor 3).
 */
export function farOverNear(args: {
  gridPoints: ArrayLike<number>;
  gridValues: ArrayLike<number>;
  codes: ArrayLike<number>;
  codeValues: ArrayLike<number>;
  d: number;
  factor?: number;
}): FarNearRatio {
  const threshold = (args.factor ?? 3) * medianNearestNeighbourDistance(args.codes, args.d);
  const dist = nearestDistances(args.gridPoints, args.codes, args.d);
  let sum = 0;
  let count = 0;
  dist.forEach((r, i) => {
    if (r > threshold) {
      sum += args.gridValues[i];
      count++;
    }
  });
  const meanFar = count > 0 ? sum / count : NaN;
  const meanNear = mean(args.codeValues);
  return { ratio: meanFar / meanNear, meanFar, meanNear, farCount: count, threshold };
}

/** All pairwise Euclidean distances of points [N, d] as a symmetric N x N matrix (zero diagonal). */
export function euclideanDistanceMatrix(x: ArrayLike<number>, d: number): Float32Array {
  const n = x.length / d;
  const out = new Float32Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x[a * d + j] - x[b * d + j]) ** 2;
      out[a * n + b] = out[b * n + a] = Math.sqrt(s);
    }
  }
  return out;
}
