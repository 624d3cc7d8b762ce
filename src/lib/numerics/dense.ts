/**
 * Small dense matrices in float64 on the JS side, each routine once: eigen-decompositions, Cholesky
 * factors and solves, triangular products, spectral square roots. The per-point d x d metric and the
 * latent covariances are tiny (d = 2..16), so this is cheaper than thousands of tiny tensor ops.
 * Matrices are row-major flat arrays.
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
  const l = Float64Array.from(a);
  if (!choleskyInPlace(l, n)) return symmetricEigenvalues(a, n).reduce((acc, e) => acc + (e > 0 ? Math.log(e) : -Infinity), 0);
  return logDetFromCholesky(l, n);
}

/**
 * In-place lower Cholesky factor of the symmetric positive definite d x d matrix at a[off..off+d*d)
 * (row-major; the strict upper triangle is zeroed). Returns false when a pivot is not positive.
 */
export function choleskyInPlace(a: Float64Array, d: number, off = 0): boolean {
  for (let j = 0; j < d; j++) {
    let s = a[off + j * d + j];
    for (let k = 0; k < j; k++) s -= a[off + j * d + k] ** 2;
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    a[off + j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = a[off + i * d + j];
      for (let k = 0; k < j; k++) t -= a[off + i * d + k] * a[off + j * d + k];
      a[off + i * d + j] = t / ljj;
    }
    for (let i = 0; i < j; i++) a[off + i * d + j] = 0;
  }
  return true;
}

/**
 * Solves L L^T X = B in place for `cols` right-hand sides stored column-interleaved: B is d x cols
 * row-major at b[boff..), i.e. b[boff + i * cols + c].
 */
export function choleskySolveInPlace(l: Float64Array, d: number, loff: number, b: Float64Array, boff: number, cols: number): void {
  for (let c = 0; c < cols; c++) {
    // Forward: L y = b.
    for (let i = 0; i < d; i++) {
      let s = b[boff + i * cols + c];
      for (let k = 0; k < i; k++) s -= l[loff + i * d + k] * b[boff + k * cols + c];
      b[boff + i * cols + c] = s / l[loff + i * d + i];
    }
    // Backward: L^T x = y.
    for (let i = d - 1; i >= 0; i--) {
      let s = b[boff + i * cols + c];
      for (let k = i + 1; k < d; k++) s -= l[loff + k * d + i] * b[boff + k * cols + c];
      b[boff + i * cols + c] = s / l[loff + i * d + i];
    }
  }
}

/** Lower Cholesky factor L of a symmetric positive definite d x d matrix (L L^T = a); throws if it is not. */
export function choleskyFactor(a: ArrayLike<number>, d: number, what = 'matrix'): Float64Array {
  const l = Float64Array.from(a);
  if (!choleskyInPlace(l, d)) throw new RangeError(`${what} is not positive definite: [${Array.from(a, (x) => x.toPrecision(4)).join(', ')}]`);
  return l;
}

/** log det of L L^T from its lower Cholesky factor L. */
export function logDetFromCholesky(l: ArrayLike<number>, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += 2 * Math.log(l[i * d + i]);
  return s;
}

/** y = L^-1 x (forward substitution) for x at x[off..off+d); writes into out[ooff..]. */
export function forwardSolve(l: ArrayLike<number>, d: number, x: ArrayLike<number>, off: number, out: Float64Array, ooff = 0): void {
  for (let i = 0; i < d; i++) {
    let s = x[off + i];
    for (let k = 0; k < i; k++) s -= l[i * d + k] * out[ooff + k];
    out[ooff + i] = s / l[i * d + i];
  }
}

/** y = L x for a lower-triangular L, x at x[off..off+d); writes into out[ooff..]. */
export function lowerTimes(l: ArrayLike<number>, d: number, x: ArrayLike<number>, off: number, out: Float64Array, ooff = 0): void {
  for (let i = d - 1; i >= 0; i--) {
    let s = 0;
    for (let k = 0; k <= i; k++) s += l[i * d + k] * x[off + k];
    out[ooff + i] = s;
  }
}

/** The squared Mahalanobis lengths |L^-1 v_n|^2 of rows v [N, d] for the covariance L L^T. */
export function mahalanobisSquared(l: ArrayLike<number>, d: number, v: ArrayLike<number>): Float64Array {
  const n = v.length / d;
  const out = new Float64Array(n);
  const y = new Float64Array(d);
  for (let p = 0; p < n; p++) {
    forwardSolve(l, d, v, p * d, y);
    let s = 0;
    for (let j = 0; j < d; j++) s += y[j] * y[j];
    out[p] = s;
  }
  return out;
}

/** L^-1 of a lower-triangular L. */
export function lowerInverse(l: Float64Array, d: number): Float64Array {
  const inv = new Float64Array(d * d);
  const e = new Float64Array(d);
  const col = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    e.fill(0);
    e[j] = 1;
    forwardSolve(l, d, e, 0, col);
    for (let i = 0; i < d; i++) inv[i * d + j] = col[i];
  }
  return inv;
}

export function squareMatMul(x: ArrayLike<number>, y: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) out[i * d + j] += x[i * d + k] * y[k * d + j];
  return out;
}

export function dotProduct(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** M^(-1/2) = V diag(lambda^(-1/2)) V^T of a symmetric d x d matrix; null unless it is positive definite. */
export function inverseSqrtSymmetric(a: ArrayLike<number>, d: number): Float64Array | null {
  const { values, vectors } = symmetricEigen(a, d);
  if (!(values[0] > 0) || !values.every(Number.isFinite)) return null;
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (vectors[i * d + k] * vectors[j * d + k]) / Math.sqrt(values[k]);
      out[i * d + j] = s;
    }
  }
  return out;
}

/** The positive semi-definite square root V sqrt(max(L, 0)) V^T of a symmetric matrix [n, n]. */
export function sqrtSymmetricPsd(a: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n);
  const root = values.map((x) => Math.sqrt(Math.max(0, x)));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[i * n + k] * root[k] * vectors[j * n + k];
      out[i * n + j] = out[j * n + i] = s;
    }
  }
  return out;
}

/** x with A x = y for a small dense A (Gaussian elimination, partial pivoting); null if singular. */
export function solveDense(a: Float64Array, y: Float64Array, d: number): Float64Array | null {
  const m = Float64Array.from(a);
  const x = Float64Array.from(y);
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r * d + c]) > Math.abs(m[piv * d + c])) piv = r;
    if (!(Math.abs(m[piv * d + c]) > 0)) return null;
    if (piv !== c) {
      for (let k = 0; k < d; k++) [m[c * d + k], m[piv * d + k]] = [m[piv * d + k], m[c * d + k]];
      [x[c], x[piv]] = [x[piv], x[c]];
    }
    for (let r = c + 1; r < d; r++) {
      const f = m[r * d + c] / m[c * d + c];
      for (let k = c; k < d; k++) m[r * d + k] -= f * m[c * d + k];
      x[r] -= f * x[c];
    }
  }
  for (let c = d - 1; c >= 0; c--) {
    let s = x[c];
    for (let k = c + 1; k < d; k++) s -= m[c * d + k] * x[k];
    x[c] = s / m[c * d + c];
  }
  return x;
}

/** x^T [cols, rows] of a row-major [rows, cols] array. */
export function transposeRows(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    const o = j * rows;
    for (let i = 0; i < rows; i++) out[o + i] = x[i * cols + j];
  }
  return out;
}
