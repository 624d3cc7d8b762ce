/**
 * Small dense symmetric matrices in float64 on the JS side: the per-point d x d metric is tiny (d = 2..16),
 * so eigenvalues and log-determinants are cheaper here than as thousands of tiny tensor ops.
 */

/** Eigenvalues (ascending) of a symmetric n x n matrix given row-major, by cyclic Jacobi rotations. */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  if (n === 1) return Float64Array.of(a[0]);
  if (n === 2) {
    const p = a[0];
    const q = a[3];
    const r = 0.5 * (a[1] + a[2]);
    const mid = 0.5 * (p + q);
    const rad = Math.hypot(0.5 * (p - q), r);
    return Float64Array.of(mid - rad, mid + rad);
  }
  return symmetricEigen(a, n).values;
}

/** Eigenvalues (ascending) and orthonormal eigenvectors (columns of a row-major [d, d]) by cyclic Jacobi. */
export function symmetricEigen(a: ArrayLike<number>, d: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 64; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < d; i++) {
      diag += m[i * d + i] ** 2;
      for (let j = i + 1; j < d; j++) off += m[i * d + j] ** 2;
    }
    if (!(off > 1e-30 * diag)) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (apq === 0) continue;
        // The rotation that zeroes m[p][q] (Golub & Van Loan, sym.schur2).
        const theta = (m[q * d + q] - m[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const mkp = m[k * d + p];
          const mkq = m[k * d + q];
          m[k * d + p] = c * mkp - s * mkq;
          m[k * d + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          const mpk = m[p * d + k];
          const mqk = m[q * d + k];
          m[p * d + k] = c * mpk - s * mqk;
          m[q * d + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => m[i * d + i] - m[j * d + j]);
  const values = Float64Array.from(order, (i) => m[i * d + i]);
  const vectors = new Float64Array(d * d);
  order.forEach((src, dst) => {
    for (let k = 0; k < d; k++) vectors[k * d + dst] = v[k * d + src];
  });
  return { values, vectors };
}

/** log det of a symmetric positive semi-definite matrix (-Infinity when singular). */
export function logDetSymmetric(a: ArrayLike<number>, n: number): number {
  if (n === 2) {
    const det = a[0] * a[3] - a[1] * a[2];
    return det > 0 ? Math.log(det) : -Infinity;
  }
  // Cholesky; fall back to eigenvalues when rounding makes a pivot non-positive.
  const l = new Float64Array(n * n);
  let logdet = 0;
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let k = 0; k < j; k++) s -= l[j * n + k] ** 2;
    if (!(s > 0)) return symmetricEigenvalues(a, n).reduce((acc, e) => acc + (e > 0 ? Math.log(e) : -Infinity), 0);
    const ljj = Math.sqrt(s);
    l[j * n + j] = ljj;
    logdet += 2 * Math.log(ljj);
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j];
      for (let k = 0; k < j; k++) t -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = t / ljj;
    }
  }
  return logdet;
}
