/**
 * The R factor of J = QR for a pull-back metric, from the tangent rows directly. Far from the data the
 * expected metric is nearly rank one (every pixel's sigma grows radially), and det(J^T J) formed from a
 * float32 Gram matrix loses the small eigenvalue entirely (ad - bc cancels to 0 or below). Gram-Schmidt on
 * the columns of J keeps the relative error near eps * |J| / s_min instead of eps * (|J| / s_min)^2.
 * Each column is orthogonalised twice ("twice is enough", Giraud et al. 2005).
 */
import * as tf from '@tensorflow/tfjs';

/** <a, b> over all blocks for one tangent row each: [B]. */
function dot(a: tf.Tensor2D[], b: tf.Tensor2D[]): tf.Tensor1D {
  return tf.addN(a.map((ab, p) => tf.sum(tf.mul(ab, b[p]), 1))) as tf.Tensor1D;
}

/**
 * R [B, d, d] (upper triangular, non-negative diagonal) with J^T J = R^T R, where J^T is given as tangent
 * blocks [B, d, E_p].
 */
export function tangentR(blocks: tf.Tensor3D[]): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, d] = blocks[0].shape;
    // cols[i][p]: tangent row i of block p, [B, E_p]
    const cols = Array.from({ length: d }, (_, i) => blocks.map((blk) => tf.squeeze(tf.slice(blk, [0, i, 0], [b, 1, -1]), [1]) as tf.Tensor2D));
    const q: tf.Tensor2D[][] = [];
    const r: tf.Tensor1D[][] = Array.from({ length: d }, () => Array.from({ length: d }, () => tf.zeros([b]) as tf.Tensor1D));
    for (let i = 0; i < d; i++) {
      let v = cols[i];
      for (let pass = 0; pass < 2; pass++) {
        for (let j = 0; j < i; j++) {
          const c = dot(q[j], v);
          r[j][i] = tf.add(r[j][i], c) as tf.Tensor1D;
          const ce = tf.expandDims(c, 1);
          v = v.map((vp, p) => tf.sub(vp, tf.mul(ce, q[j][p])) as tf.Tensor2D);
        }
      }
      const norm = tf.sqrt(dot(v, v)) as tf.Tensor1D;
      r[i][i] = norm;
      // A zero column (rank-deficient J) leaves q_i = 0 instead of NaN; R then has r_ii = 0.
      const inv = tf.expandDims(tf.divNoNan(tf.onesLike(norm), norm), 1);
      q.push(v.map((vp) => tf.mul(vp, inv) as tf.Tensor2D));
    }
    return tf.stack(r.map((row) => tf.stack(row, 1)), 1) as tf.Tensor3D;
  });
}
