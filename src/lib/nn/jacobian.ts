/**
 * A Jacobian for any differentiable tfjs function f: [B, d] -> [B, D] whose rows are independent (a
 * decoder applied point-wise), for models that do not carry forward-mode tangents. Each of the d
 * Jacobian-vector products comes from two reverse passes (the double-VJP trick): with
 * g(u) = <vjp_f(x)(u), v>, grad_u g = J v. Slower than the forward-mode jets, but it works for every model whose ops tfjs can differentiate twice
 * (not ELU: tfjs has no gradient for EluGrad; use jacobianTangentsFd there).
 */
import * as tf from '@tensorflow/tfjs';

/** Tangent rows J^T [B, d, D] of f at x [B, d]. */
export function jacobianTangents(f: (x: tf.Tensor2D) => tf.Tensor2D, x: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, d] = x.shape;
    const y = f(x);
    const outDim = y.shape[1];
    const rows: tf.Tensor2D[] = [];
    for (let i = 0; i < d; i++) {
      // v = e_i at every batch row; the rows of f are independent, so summing over the batch is harmless.
      const v = tf.oneHot(tf.fill([b], i, 'int32'), d) as tf.Tensor2D;
      const jv = tf.grad((u: tf.Tensor) => {
        const vjp = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(f(xx as tf.Tensor2D), u)))(x);
        return tf.sum(tf.mul(vjp, v));
      })(tf.zeros([b, outDim]));
      rows.push(jv as tf.Tensor2D);
    }
    return tf.stack(rows, 1) as tf.Tensor3D;
  });
}

/** The same by central differences, for tests and for checking user models: O(h^2) truncation error. */
export function jacobianTangentsFd(f: (x: tf.Tensor2D) => tf.Tensor2D, x: tf.Tensor2D, h = 1e-2): tf.Tensor3D {
  return tf.tidy(() => {
    const d = x.shape[1];
    const rows: tf.Tensor2D[] = [];
    for (let i = 0; i < d; i++) {
      const e = tf.mul(tf.oneHot(tf.fill([x.shape[0]], i, 'int32'), d), h);
      rows.push(tf.div(tf.sub(f(tf.add(x, e) as tf.Tensor2D), f(tf.sub(x, e) as tf.Tensor2D)), 2 * h) as tf.Tensor2D);
    }
    return tf.stack(rows, 1) as tf.Tensor3D;
  });
}
