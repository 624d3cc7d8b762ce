/**
 * The RBF precision network of Latent Space Oddity (section 4): beta(z) = W v(z) + zeta with
 * v_k(z) = exp(-lambda_k |z - c_k|^2) and W >= 0, so that sigma(z) = beta(z)^(-1/2) grows to zeta^(-1/2)
 * away from the centres (the data). Its Jacobian is closed-form, carried as tangent rows like the MLPs'.
 */
import * as tf from '@tensorflow/tfjs';
import type { Jet } from './mlp';

export interface RbfPrecision {
  /** [K, d] */
  centers: tf.Tensor2D;
  /** [K] */
  bandwidths: tf.Tensor1D;
  /** [K, D]: the transpose of the paper's W [D, K], kept >= 0 by projection after each step. */
  weightT: tf.Variable<tf.Rank.R2>;
  zeta: number;
}

/** Squared distances |z_b - c_k|^2: [B, K]. */
function squaredDistances(z: tf.Tensor2D, centers: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const zz = tf.sum(tf.square(z), 1, true); // [B, 1]
    const cc = tf.reshape(tf.sum(tf.square(centers), 1), [1, -1]); // [1, K]
    const zc = tf.matMul(z, tf.transpose(centers)); // [B, K]
    // Clamp: the expansion can go slightly negative by rounding.
    return tf.relu(tf.sub(tf.add(zz, cc), tf.mul(zc, 2))) as tf.Tensor2D;
  });
}

/** v(z): [B, K]. */
export function rbfFeatures(net: RbfPrecision, z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.exp(tf.mul(tf.neg(squaredDistances(z, net.centers)), net.bandwidths)) as tf.Tensor2D);
}

/** beta(z) = W v(z) + zeta: [B, D]. */
export function rbfPrecision(net: RbfPrecision, z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(rbfFeatures(net, z), net.weightT), net.zeta) as tf.Tensor2D);
}

/** sigma(z) = beta(z)^(-1/2): [B, D]. */
export function rbfStd(net: RbfPrecision, z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.rsqrt(rbfPrecision(net, z)) as tf.Tensor2D);
}

/**
 * sigma(z) and its tangent rows [B, d, D]:
 * d v_k / dz = -2 lambda_k (z - c_k) v_k, d beta / dz = W dv/dz, d sigma / dz = -1/2 beta^(-3/2) d beta / dz.
 */
export function rbfStdJet(net: RbfPrecision, z: tf.Tensor2D): Jet {
  return tf.tidy(() => {
    const [b, d] = z.shape;
    const k = net.centers.shape[0];
    const v = rbfFeatures(net, z); // [B, K]
    const diff = tf.sub(tf.expandDims(z, 1), tf.expandDims(net.centers, 0)); // [B, K, d]
    const coeff = tf.mul(tf.mul(v, net.bandwidths), -2); // [B, K]
    const jtV = tf.transpose(tf.mul(diff, tf.expandDims(coeff, 2)), [0, 2, 1]); // [B, d, K]
    const jtBeta = tf.reshape(tf.matMul(tf.reshape(jtV, [b * d, k]), net.weightT), [b, d, -1]); // [B, d, D]
    const beta = tf.add(tf.matMul(v, net.weightT), net.zeta); // [B, D]
    const sigma = tf.rsqrt(beta);
    const dSigma = tf.mul(tf.div(sigma, beta), -0.5); // -1/2 beta^(-3/2)
    return { value: sigma as tf.Tensor2D, jt: tf.mul(jtBeta, tf.expandDims(dSigma, 1)) as tf.Tensor3D };
  });
}

/** Projects W onto W >= 0 in place (after an optimiser step). */
export function projectNonNegative(net: RbfPrecision): void {
  tf.tidy(() => net.weightT.assign(tf.relu(net.weightT)));
}

export function disposeRbf(net: RbfPrecision): void {
  net.centers.dispose();
  net.bandwidths.dispose();
  net.weightT.dispose();
}
