/**
 * The Riemannian metric interface that every algorithm (fields, geodesics, LAND, samplers) is written
 * against, kept apart from the models that induce a metric (as geomstats keeps manifold and metric apart).
 */
import * as tf from '@tensorflow/tfjs';

export interface Metric {
  /** Latent dimension d. */
  readonly dim: number;
  /** The metric tensor at a batch of points: z [B, d] -> G(z) [B, d, d]. */
  tensor(z: tf.Tensor2D): tf.Tensor3D;
}

/**
 * A metric that is the pull-back of the Euclidean metric through an embedding f: R^d -> R^E,
 * G = J_f^T J_f. Curve energies can then be computed from f alone, without Jacobians.
 */
export interface PullbackMetric extends Metric {
  /** f(z): [B, d] -> [B, E]. */
  embed(z: tf.Tensor2D): tf.Tensor2D;
  /**
   * Blocks of tangent rows of J_f^T, each [B, d, E_p] with sum_p E_p = E, so that G = sum_p Jt_p Jt_p^T.
   * Blocks avoid concatenating e.g. the mean and std parts of a Gaussian decoder.
   */
  tangentBlocks(z: tf.Tensor2D): tf.Tensor3D[];
}

export function isPullbackMetric(m: Metric): m is PullbackMetric {
  return typeof (m as PullbackMetric).embed === 'function' && typeof (m as PullbackMetric).tangentBlocks === 'function';
}

/** G = sum_p Jt_p Jt_p^T: [B, d, d]. The explicit transpose keeps wasm off its slow transposed matMul. */
export function gramFromTangents(blocks: tf.Tensor3D[]): tf.Tensor3D {
  if (blocks.length === 0) throw new Error('gramFromTangents: no tangent blocks');
  return tf.tidy(() => {
    const parts = blocks.map((jt) => tf.matMul(jt, tf.transpose(jt, [0, 2, 1])));
    return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Tensor3D;
  });
}
