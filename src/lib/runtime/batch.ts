import * as tf from '@tensorflow/tfjs';

/**
 * Applies f to [b, d] batches of flat points [N, d] and collects `width` float32 outputs a point, so that
 * fields over 10^4-10^5 points run in bounded memory with one tidy scope per batch.
 */
export function mapPointBatches(points: Float32Array, d: number, batchSize: number, width: number, f: (z: tf.Tensor2D) => tf.Tensor): Float32Array {
  if (points.length % d !== 0) throw new RangeError(`${points.length} coordinates is not a multiple of d = ${d}`);
  const n = points.length / d;
  const out = new Float32Array(n * width);
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const t = tf.tidy(() => f(tf.tensor2d(points.subarray(s * d, e * d), [e - s, d])));
    out.set(t.dataSync() as Float32Array, s * width);
    t.dispose();
  }
  return out;
}
