/**
 * Improved precision and recall (Kynkaanniemi et al., NeurIPS 2019): each feature set's manifold is the
 * union of balls around its points, each ball reaching the point's k-th nearest neighbour in its own set.
 * Precision = the fraction of generated samples inside the real manifold (quality); recall = the fraction
 * of real samples inside the generated manifold (coverage). k = 3 as in the paper.
 *
 * Distances between 10k x 10k feature vectors are matMuls in chunks of query rows, |q|^2 + |r|^2 - 2 q r^T
 * with r^T transposed once; only per-row reductions (the k + 1 smallest, or the ball test) leave the
 * device.
 */
import * as tf from '@tensorflow/tfjs';
import { mapPointBatches } from '../runtime/batch';

/** Reference points prepared for chunked distance queries. */
interface Reference {
  n: number;
  dim: number;
  /** r^T [D, N]. */
  t: tf.Tensor2D;
  /** |r|^2 [1, N]. */
  norms: tf.Tensor2D;
}

function reference(points: Float32Array, dim: number): Reference {
  const n = points.length / dim;
  return tf.tidy(() => {
    const r = tf.tensor2d(points, [n, dim]);
    return { n, dim, t: tf.transpose(r), norms: tf.reshape(tf.sum(tf.square(r), 1), [1, n]) as tf.Tensor2D };
  });
}

/** Squared distances from query rows [c, D] to every reference point: [c, N], clamped at 0. */
function squaredDistances(q: tf.Tensor2D, ref: Reference): tf.Tensor2D {
  return tf.tidy(() => {
    const qn = tf.sum(tf.square(q), 1, true);
    return tf.relu(tf.add(tf.sub(qn, tf.mul(tf.matMul(q, ref.t), 2)), ref.norms)) as tf.Tensor2D;
  });
}

/** Distance from every point [N, D] to its k-th nearest other point of the same set: [N]. */
export function knnRadii(points: Float32Array, dim: number, k = 3, chunk = 500): Float64Array {
  const n = points.length / dim;
  if (!(Number.isInteger(k) && k >= 1 && k < n)) throw new RangeError(`knnRadii: k must be an integer in [1, ${n - 1}], got ${k}`);
  const ref = reference(points, dim);
  try {
    // The k + 1 smallest include the point itself (at distance ~0).
    const kth = mapPointBatches(points, dim, chunk, 1, (q) => {
      const { values } = tf.topk(tf.neg(squaredDistances(q, ref)), k + 1);
      return tf.slice(values, [0, k], [-1, 1]);
    });
    return Float64Array.from(kth, (v) => Math.sqrt(Math.max(0, -v)));
  } finally {
    tf.dispose([ref.t, ref.norms]);
  }
}

/** The fraction of queries [M, D] inside some ball (centre points[j], radius radii[j]). */
export function manifoldCoverage(queries: Float32Array, points: Float32Array, radii: ArrayLike<number>, dim: number, chunk = 500): number {
  const ref = reference(points, dim);
  const r2 = tf.tensor2d(Float32Array.from(radii, (r) => r * r), [1, ref.n]);
  try {
    const slack = mapPointBatches(queries, dim, chunk, 1, (q) => tf.min(tf.sub(squaredDistances(q, ref), r2), 1));
    let inside = 0;
    for (const s of slack) if (s <= 0) inside++;
    return inside / slack.length;
  } finally {
    tf.dispose([ref.t, ref.norms, r2]);
  }
}

export interface PrecisionRecall {
  precision: number;
  recall: number;
  k: number;
}

/**
 * Improved precision and recall of generated features against real ones (both [*, D]). `realRadii`
 * (knnRadii(real, dim, k)) can be passed when the same real set scores several generators.
 */
export function precisionRecall(real: Float32Array, generated: Float32Array, dim: number, k = 3, realRadii: ArrayLike<number> = knnRadii(real, dim, k)): PrecisionRecall {
  const genRadii = knnRadii(generated, dim, k);
  return {
    precision: manifoldCoverage(generated, real, realRadii, dim),
    recall: manifoldCoverage(real, generated, genRadii, dim),
    k,
  };
}

/** For each query [M, D], its nearest point [N, D]: the index and the Euclidean distance. */
export function nearestNeighbours(queries: Float32Array, points: Float32Array, dim: number, chunk = 250): { index: Int32Array; distance: Float64Array } {
  const ref = reference(points, dim);
  try {
    // [value, index] per row; indices < 2^24 are exact in float32.
    const pairs = mapPointBatches(queries, dim, chunk, 2, (q) => {
      const { values, indices } = tf.topk(tf.neg(squaredDistances(q, ref)), 1);
      return tf.concat([values, tf.cast(indices, 'float32')], 1);
    });
    const m = pairs.length / 2;
    return {
      index: Int32Array.from({ length: m }, (_, i) => pairs[2 * i + 1]),
      distance: Float64Array.from({ length: m }, (_, i) => Math.sqrt(Math.max(0, -pairs[2 * i]))),
    };
  } finally {
    tf.dispose([ref.t, ref.norms]);
  }
}
