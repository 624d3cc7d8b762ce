/**
 * Symmetric block-tridiagonal solves in float64 JS. The Gauss-Newton normal matrix of a discrete curve
 * couples each point only with its neighbours, so per curve it is n diagonal d x d blocks plus n - 1
 * off-diagonal ones; with d = 2..16 a block Thomas sweep (O(n d^3)) in plain JS costs microseconds,
 * far less than the dispatch overhead of the same work as tfjs ops.
 */
import { choleskyInPlace, choleskySolveInPlace } from './dense';

/** One curve's symmetric block-tridiagonal matrix, as views into larger batched arrays. */
export interface BlockTridiagonal {
  /** Number of diagonal blocks. */
  n: number;
  /** Block size. */
  d: number;
  /** Diagonal blocks H_kk: n * d * d values from diagOffset. */
  diag: Float64Array;
  diagOffset: number;
  /** Upper blocks H_k,k+1 ((n - 1) * d * d values from upperOffset); the lower ones are their transposes. */
  upper: Float64Array;
  upperOffset: number;
}

/** Reusable scratch space so that the solver loop allocates nothing per curve. */
export class BlockTridiagonalWorkspace {
  private c = new Float64Array(0);
  private w = new Float64Array(0);
  private rhsW = new Float64Array(0);

  /** Grows the buffers for n blocks of size d and returns them. */
  buffers(n: number, d: number): { c: Float64Array; w: Float64Array; rhsW: Float64Array } {
    const need = n * d * d;
    if (this.c.length < need) {
      this.c = new Float64Array(need);
      this.w = new Float64Array(need);
    }
    // One block of d x (d + 1): the coupling block and the right-hand side solved together.
    if (this.rhsW.length < d * (d + 1)) this.rhsW = new Float64Array(d * (d + 1));
    return { c: this.c, w: this.w, rhsW: this.rhsW };
  }
}

/**
 * Solves (H + diag(shift)) x = rhs by the block Thomas algorithm (block LU without pivoting across blocks,
 * valid for symmetric positive definite H). `shift` (n * d values, may be null) adds the damping of
 * Levenberg-Marquardt to the diagonal without copying H. rhs and x are n * d values; x may alias rhs.
 * Returns false when a pivot block is not positive definite (the caller damps more).
 */
export function solveBlockTridiagonal(
  h: BlockTridiagonal,
  shift: Float64Array | null,
  rhs: Float64Array,
  x: Float64Array,
  ws: BlockTridiagonalWorkspace,
): boolean {
  const { n, d, diag, diagOffset, upper, upperOffset } = h;
  const dd = d * d;
  const { c, w, rhsW } = ws.buffers(n, d);
  // y_k (the eliminated right-hand side, then z_k = C_k^-1 y_k) lives in x.
  if (x !== rhs) for (let i = 0; i < n * d; i++) x[i] = rhs[i];
  for (let k = 0; k < n; k++) {
    const ck = k * dd;
    for (let i = 0; i < dd; i++) c[ck + i] = diag[diagOffset + ck + i];
    if (shift) for (let i = 0; i < d; i++) c[ck + i * d + i] += shift[k * d + i];
    if (k > 0) {
      // C_k -= U_{k-1}^T W_{k-1};  y_k -= U_{k-1}^T z_{k-1}, with W_{k-1} = C_{k-1}^-1 U_{k-1}.
      const u = upperOffset + (k - 1) * dd;
      const wk = (k - 1) * dd;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          let s = 0;
          for (let m = 0; m < d; m++) s += upper[u + m * d + i] * w[wk + m * d + j];
          c[ck + i * d + j] -= s;
        }
        let t = 0;
        for (let m = 0; m < d; m++) t += upper[u + m * d + i] * x[(k - 1) * d + m];
        x[k * d + i] -= t;
      }
    }
    if (!choleskyInPlace(c, d, ck)) return false;
    // Solve C_k [W_k | z_k] = [U_k | y_k] in one go (d + 1 columns).
    const cols = k < n - 1 ? d + 1 : 1;
    const u = upperOffset + k * dd;
    for (let i = 0; i < d; i++) {
      if (cols > 1) for (let j = 0; j < d; j++) rhsW[i * cols + j] = upper[u + i * d + j];
      rhsW[i * cols + cols - 1] = x[k * d + i];
    }
    choleskySolveInPlace(c, d, ck, rhsW, 0, cols);
    for (let i = 0; i < d; i++) {
      if (cols > 1) for (let j = 0; j < d; j++) w[ck + i * d + j] = rhsW[i * cols + j];
      x[k * d + i] = rhsW[i * cols + cols - 1];
    }
  }
  // Back substitution: x_k = z_k - W_k x_{k+1}.
  for (let k = n - 2; k >= 0; k--) {
    const wk = k * dd;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += w[wk + i * d + j] * x[(k + 1) * d + j];
      x[k * d + i] -= s;
    }
  }
  return true;
}

/** y = H v for the block-tridiagonal H (used for the predicted decrease of a step). */
export function multiplyBlockTridiagonal(h: BlockTridiagonal, v: Float64Array, y: Float64Array): void {
  const { n, d, diag, diagOffset, upper, upperOffset } = h;
  const dd = d * d;
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += diag[diagOffset + k * dd + i * d + j] * v[k * d + j];
      if (k < n - 1) for (let j = 0; j < d; j++) s += upper[upperOffset + k * dd + i * d + j] * v[(k + 1) * d + j];
      if (k > 0) for (let j = 0; j < d; j++) s += upper[upperOffset + (k - 1) * dd + j * d + i] * v[(k - 1) * d + j];
      y[k * d + i] = s;
    }
  }
}
