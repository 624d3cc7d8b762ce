/**
 * Metrics with closed-form geometry, to check the geodesic tools against (and to show them on in the
 * workbook): a constant metric and a linear pull-back (flat: straight geodesics), the Poincare half-plane
 * (a Metric that is not a pull-back: geodesics are circular arcs and vertical lines) and the pull-back of
 * the unit sphere through inverse stereographic projection (great circles).
 */
import * as tf from '@tensorflow/tfjs';
import type { Metric, PullbackMetric } from './metric';

/** M(z) = A for every z (A symmetric positive definite, d x d row-major). Not a pull-back. */
export class ConstantMetric implements Metric {
  readonly dim: number;

  constructor(readonly matrix: Float64Array) {
    this.dim = Math.round(Math.sqrt(matrix.length));
    if (this.dim * this.dim !== matrix.length) throw new RangeError(`ConstantMetric: ${matrix.length} entries is not a square matrix`);
  }

  tensor(z: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => tf.tile(tf.tensor3d(Float32Array.from(this.matrix), [1, this.dim, this.dim]), [z.shape[0], 1, 1]) as tf.Tensor3D);
  }
}

/** The pull-back through f(z) = z K (K [d, E]): the constant metric K K^T, geodesics straight. */
export class LinearPullback implements PullbackMetric {
  readonly dim: number;
  private readonly kernel: tf.Tensor2D;

  constructor(kernel: ArrayLike<number>, dim: number) {
    this.dim = dim;
    this.kernel = tf.tensor2d(Float32Array.from(kernel), [dim, kernel.length / dim]);
  }

  embed(z: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(z, this.kernel);
  }

  tangentBlocks(z: tf.Tensor2D): tf.Tensor3D[] {
    return [tf.tidy(() => tf.tile(tf.expandDims(this.kernel, 0), [z.shape[0], 1, 1]) as tf.Tensor3D)];
  }

  tensor(z: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const jt = this.tangentBlocks(z)[0];
      return tf.matMul(jt, tf.transpose(jt, [0, 2, 1])) as tf.Tensor3D;
    });
  }

  dispose(): void {
    this.kernel.dispose();
  }
}

/** The Poincare half-plane y > 0 with M = I / y^2 (curvature -1). */
export class HalfPlaneMetric implements Metric {
  readonly dim = 2;

  tensor(z: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const y = tf.slice(z, [0, 1], [-1, 1]);
      return tf.mul(tf.reshape(tf.div(1, tf.square(y)), [-1, 1, 1]), tf.expandDims(tf.eye(2), 0)) as tf.Tensor3D;
    });
  }
}

/** Hyperbolic distance arccosh(1 + |p - q|^2 / (2 y_p y_q)) in the half-plane. */
export function halfPlaneDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  return Math.acosh(1 + ((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) / (2 * p[1] * q[1]));
}

/**
 * The pull-back of the unit sphere in R^3 through inverse stereographic projection
 * f(u, v) = (2u, 2v, u^2 + v^2 - 1) / (1 + u^2 + v^2): a curved pull-back with closed-form distances.
 */
export class StereographicSphere implements PullbackMetric {
  readonly dim = 2;

  embed(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [u, v] = tf.split(z, 2, 1);
      const s = tf.add(1, tf.add(tf.square(u), tf.square(v)));
      return tf.div(tf.concat([tf.mul(u, 2), tf.mul(v, 2), tf.sub(s, 2)], 1), s) as tf.Tensor2D;
    });
  }

  /** d f / du and d f / dv as the rows of Jt [B, 2, 3]. */
  tangentBlocks(z: tf.Tensor2D): tf.Tensor3D[] {
    return [
      tf.tidy(() => {
        const [u, v] = tf.split(z, 2, 1);
        const s = tf.add(1, tf.add(tf.square(u), tf.square(v)));
        const s2 = tf.square(s);
        const uv4 = tf.mul(tf.mul(u, v), -4);
        const du = tf.div(tf.concat([tf.sub(tf.mul(s, 2), tf.mul(tf.square(u), 4)), uv4, tf.mul(u, 4)], 1), s2);
        const dv = tf.div(tf.concat([uv4, tf.sub(tf.mul(s, 2), tf.mul(tf.square(v), 4)), tf.mul(v, 4)], 1), s2);
        return tf.stack([du, dv], 1) as tf.Tensor3D;
      }),
    ];
  }

  tensor(z: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const jt = this.tangentBlocks(z)[0];
      return tf.matMul(jt, tf.transpose(jt, [0, 2, 1])) as tf.Tensor3D;
    });
  }
}

/** The great-circle distance between the sphere points of p and q. */
export function stereographicSphereDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const f = (a: ArrayLike<number>) => {
    const s = 1 + a[0] ** 2 + a[1] ** 2;
    return [(2 * a[0]) / s, (2 * a[1]) / s, (s - 2) / s];
  };
  const [x, y] = [f(p), f(q)];
  return Math.acos(Math.min(1, Math.max(-1, x[0] * y[0] + x[1] * y[1] + x[2] * y[2])));
}
