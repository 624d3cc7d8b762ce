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
  const m = Float64Array.from(a as ArrayLike<number>);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += m[i * n + j] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p];
          const akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k];
          const aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  const ev = new Float64Array(n);
  for (let i = 0; i < n; i++) ev[i] = m[i * n + i];
  return ev.sort();
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
