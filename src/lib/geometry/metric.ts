/**
 * The Riemannian metric interface that every algorithm (fields, geodesics, LAND, samplers) is written
 * against, kept apart from the models that induce a metric (as geomstats keeps manifold and metric apart).
 *
 * A metric declares what more it can do through optional capabilities (as stochman's
 * `EmbeddedManifold.embed(..., jacobian=True)` and `log_volume` do): an embedding with its Jacobian in one
 * pass, an exact log-volume with its gradient, a description a worker thread can rebuild it from.
 * Algorithms ask for a capability and fall back to the generic route when it is absent; none tests classes.
 */
import * as tf from '@tensorflow/tfjs';

/** log sqrt(det G(z)) [B] and its gradient [B, d]; the caller disposes both. */
export type LogVolumeWithGrad = {
  value: tf.Tensor1D;
  grad: tf.Tensor2D;
};

/**
 * What a worker thread needs to rebuild a metric (see geometry/parallel-fields.ts): a structured-clonable
 * payload in a named format, and the identity of the weights so that workers keep their copy until the
 * weights change.
 */
export interface MetricWorkerDescription {
  /** The payload's format; the metric worker knows 'decoder-json/v1'. */
  format: string;
  /** The object the payload describes: with version() it keys the copy the workers keep. */
  owner: object;
  /** Identities that change whenever the payload would (e.g. the weight tensors' data ids). */
  version(): unknown[];
  /** The payload (called at most once per version). */
  payload(): unknown;
  /** Per-job options the worker needs besides the payload (e.g. a decoder metric's kind). */
  options: unknown;
}

export interface Metric {
  /** Latent dimension d. */
  readonly dim: number;
  /** The metric tensor at a batch of points: z [B, d] -> G(z) [B, d, d]. */
  tensor(z: tf.Tensor2D): tf.Tensor3D;
  /**
   * Optional: log sqrt(det G(z)) and its gradient where the metric has a closed or cheaper form than
   * differentiating tensor() (see geometry/log-volume.ts for the generic route).
   */
  logVolumeWithGrad?(z: tf.Tensor2D): LogVolumeWithGrad;
  /** Optional: how a worker thread rebuilds this metric; null (or absent) keeps it on the main thread. */
  workerDescription?(): MetricWorkerDescription | null;
}

/** A value and its tangent rows for one block of an embedding: [B, E_p] and [B, d, E_p]. */
export type EmbeddingBlock = {
  value: tf.Tensor2D;
  jt: tf.Tensor3D;
};

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
  /**
   * Optional: f(z) and its tangent rows in one pass, split into blocks (a decoder's nets give both from one
   * forward-mode jet, where embed() and tangentBlocks() would run every net twice).
   */
  embedWithJacobian?(z: tf.Tensor2D): EmbeddingBlock[];
  /** Optional: f(z) split into the blocks of embedWithJacobian (values only). */
  embedBlocks?(z: tf.Tensor2D): tf.Tensor2D[];
}

export function isPullbackMetric(m: Metric): m is PullbackMetric {
  return typeof (m as PullbackMetric).embed === 'function' && typeof (m as PullbackMetric).tangentBlocks === 'function';
}

/** f(z) and its tangent rows in one pass: the metric's own when it has one, else embed() and tangentBlocks() as one block. */
export function embeddingJet(metric: PullbackMetric, z: tf.Tensor2D): EmbeddingBlock[] {
  return tf.tidy(() => {
    if (metric.embedWithJacobian) return metric.embedWithJacobian(z);
    const jts = metric.tangentBlocks(z);
    return [{ value: metric.embed(z), jt: jts.length === 1 ? jts[0] : (tf.concat(jts, 2) as tf.Tensor3D) }];
  });
}

/** f(z) split as embeddingJet splits it (values only). */
export function embeddingValues(metric: PullbackMetric, z: tf.Tensor2D): tf.Tensor2D[] {
  return tf.tidy(() => (metric.embedBlocks ? metric.embedBlocks(z) : [metric.embed(z)]));
}

/** G = sum_p Jt_p Jt_p^T: [B, d, d]. The explicit transpose keeps wasm off its slow transposed matMul. */
export function gramFromTangents(blocks: tf.Tensor3D[]): tf.Tensor3D {
  if (blocks.length === 0) throw new Error('gramFromTangents: no tangent blocks');
  return tf.tidy(() => {
    const parts = blocks.map((jt) => tf.matMul(jt, tf.transpose(jt, [0, 2, 1])));
    return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Tensor3D;
  });
}
