/**
 * The log-volume log sqrt(det G(z)) of any metric with its gradient, the target of the Riemannian uniform
 * distribution that the samplers draw from. A metric with a closed form declares it
 * (Metric.logVolumeWithGrad); for any other the log-determinant goes through a Cholesky factor built from
 * tfjs ops, so that autodiff reaches z through G(z) = metric.tensor(z).
 */
import * as tf from '@tensorflow/tfjs';
import type { LogVolumeWithGrad, Metric } from './metric';

/**
 * f(z) [B] and d f_b / d z_b [B, d] for a row-wise function f (row b depends on z_b only), by one reverse
 * pass of sum_b f_b. The values survive the gradient scope through tf.keep.
 */
export function valueAndRowGradients(f: (z: tf.Tensor2D) => tf.Tensor1D, z: tf.Tensor2D): { value: tf.Tensor1D; grad: tf.Tensor2D } {
  let kept: tf.Tensor1D | null = null;
  const grad = tf.grad((x: tf.Tensor) => {
    const v = f(x as tf.Tensor2D);
    kept = tf.keep(v);
    return tf.sum(v);
  })(z) as tf.Tensor2D;
  // A kept tensor escapes every tidy scope: hand the caller a normal copy and free the kept one.
  const value = (kept as unknown as tf.Tensor1D).clone();
  (kept as unknown as tf.Tensor1D).dispose();
  return { value, grad };
}

/**
 * 1/2 log det G = sum_j log L_jj for symmetric positive definite G [B, d, d], by a Cholesky factor over
 * [B] columns of tfjs ops (differentiable; d is small). NaN where G is not positive definite.
 */
export function logSqrtDet(g: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    const d = g.shape[1];
    const entry = (i: number, j: number) => tf.reshape(tf.slice(g, [0, i, j], [-1, 1, 1]), [-1]) as tf.Tensor1D;
    const l: tf.Tensor1D[][] = Array.from({ length: d }, () => []);
    let sum: tf.Tensor1D | null = null;
    for (let j = 0; j < d; j++) {
      let s: tf.Tensor1D = entry(j, j);
      for (let k = 0; k < j; k++) s = tf.sub(s, tf.square(l[j][k]));
      l[j][j] = tf.sqrt(s);
      const logPivot = tf.mul(tf.log(s), 0.5) as tf.Tensor1D;
      sum = (sum ? tf.add(sum, logPivot) : logPivot) as tf.Tensor1D;
      for (let i = j + 1; i < d; i++) {
        let t: tf.Tensor1D = entry(i, j);
        for (let k = 0; k < j; k++) t = tf.sub(t, tf.mul(l[i][k], l[j][k]));
        l[i][j] = tf.div(t, l[j][j]);
      }
    }
    return sum as tf.Tensor1D;
  });
}

/** log sqrt(det G(z)) [B] and its gradient [B, d]: the metric's own form when it has one, else autodiff through logSqrtDet. */
export function logVolumeWithGrad(metric: Metric, z: tf.Tensor2D): LogVolumeWithGrad {
  if (metric.logVolumeWithGrad) return metric.logVolumeWithGrad(z);
  // + 0 x keeps z on the tape when G does not depend on it (a constant metric): the gradient is then 0.
  return valueAndRowGradients((x) => tf.add(logSqrtDet(metric.tensor(x)), tf.sum(tf.mul(x, 0), 1)) as tf.Tensor1D, z);
}
