/**
 * The Frechet distance between Gaussians fitted to two feature sets (Heusel et al. 2017's FID, on the
 * in-repo classifier's features rather than Inception's):
 *
 *   FID = |m1 - m2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)),
 *
 * with Tr (S1 S2)^(1/2) = Tr (S1^(1/2) S2 S1^(1/2))^(1/2): the symmetric form needs one eigen-decomposition
 * (for S1^(1/2)) and the eigenvalues of a symmetric PSD matrix, where scipy's sqrtm of the non-symmetric
 * S1 S2 can return complex rounding noise. Everything in float64; the eigen-decomposition is the cyclic
 * Jacobi of ../numerics/dense.ts (relative stopping rule, so it suits covariances of any scale).
 */
import { symmetricEigen, sqrtSymmetricPsd } from '../numerics/dense';

export interface FeatureStatistics {
  dim: number;
  n: number;
  /** [D] */
  mean: Float64Array;
  /** [D, D], normalised by n - 1 (numpy.cov's default, as the reference FID code uses). */
  cov: Float64Array;
}

/** Mean and covariance of features [N, D]. */
export function featureStatistics(features: ArrayLike<number>, dim: number): FeatureStatistics {
  const n = features.length / dim;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`featureStatistics: need at least 2 rows of ${dim} features, got ${features.length} values`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += features[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  const cov = new Float64Array(dim * dim);
  const c = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) c[j] = features[i * dim + j] - mean[j];
    for (let a = 0; a < dim; a++) {
      const ca = c[a];
      if (ca === 0) continue; // ReLU features are often exactly 0
      const row = a * dim;
      for (let b = 0; b <= a; b++) cov[row + b] += ca * c[b];
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = 0; b <= a; b++) cov[a * dim + b] = cov[b * dim + a] = cov[a * dim + b] / (n - 1);
  }
  return { dim, n, mean, cov };
}

/** Tr (S1 S2)^(1/2) for symmetric PSD S1, S2 [D, D]. */
export function traceSqrtProduct(s1: ArrayLike<number>, s2: ArrayLike<number>, dim: number): number {
  const r = sqrtSymmetricPsd(s1, dim);
  // m = r s2 r, symmetric PSD.
  const tmp = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let k = 0; k < dim; k++) {
      const rik = r[i * dim + k];
      if (rik === 0) continue;
      for (let j = 0; j < dim; j++) tmp[i * dim + j] += rik * s2[k * dim + j];
    }
  }
  const m = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += tmp[i * dim + k] * r[k * dim + j];
      m[i * dim + j] = m[j * dim + i] = s;
    }
  }
  return symmetricEigen(m, dim).values.reduce((acc, v) => acc + Math.sqrt(Math.max(0, v)), 0);
}

/** The Frechet distance between N(m1, S1) and N(m2, S2). */
export function frechetDistance(a: FeatureStatistics, b: FeatureStatistics): number {
  if (a.dim !== b.dim) throw new RangeError(`frechetDistance: feature dimensions ${a.dim} and ${b.dim} differ`);
  const d = a.dim;
  let dm = 0;
  let tr = 0;
  for (let j = 0; j < d; j++) {
    dm += (a.mean[j] - b.mean[j]) ** 2;
    tr += a.cov[j * d + j] + b.cov[j * d + j];
  }
  return dm + tr - 2 * traceSqrtProduct(a.cov, b.cov, d);
}

/** FID between two feature sets [N1, D] and [N2, D]. */
export function fid(featuresA: ArrayLike<number>, featuresB: ArrayLike<number>, dim: number): number {
  return frechetDistance(featureStatistics(featuresA, dim), featureStatistics(featuresB, dim));
}
