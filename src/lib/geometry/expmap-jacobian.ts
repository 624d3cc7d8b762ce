/**
 * The exponential map with its Jacobian D Exp_z0(v) = d Exp_z0(v) / dv, by batched finite differences of the
 * integrated map: every velocity and its d perturbed copies go through one expMap call with the same RK4
 * step schedule, so the Jacobian is that of the discrete map whose end points are used (no mismatch between
 * the map and its derivative), and the cost is (1 + d) exp maps (forward differences) or (1 + 2d) (central).
 *
 * Why: a density defined through the exp map, p(Exp v) on the manifold from a tangent density q(v), has
 * latent (Lebesgue) density q(v) / |det D Exp(v)|; integrals over the latent space pulled back to the tangent
 * space need |det D Exp(v)| as the change of variables. The LAND's normaliser (sampling/land.ts) is one.
 */
import type { Metric } from './metric';
import { ExpMapOptions, ExpMapResult, expMap } from './expmap';
import { PointsInput, toFlatPoints } from './geodesics';
import { CurveBatch, curveBatch } from './curves';

export interface ExpMapJacobianOptions extends Omit<ExpMapOptions, 'lengths'> {
  /** 'forward' (default: 1 + d exp maps per velocity) or 'central' (1 + 2d, second-order accurate). */
  scheme?: 'forward' | 'central';
  /**
   * Finite-difference step relative to max(|v|, floor) (default 1e-3): large against the float32 rounding of
   * the positions the metric is evaluated at (~1e-7), small against the scale on which the map bends.
   */
  relativeStep?: number;
  /** The smallest |v| the step is scaled by (default 1e-2), so that v = 0 gets a usable step. */
  stepFloor?: number;
}

export interface ExpMapJacobianResult extends ExpMapResult {
  /** D Exp_z0(v): [B, d, d], row i column j = d Exp_i / d v_j (NaN where a perturbed geodesic failed). */
  jacobians: Float64Array;
  /** log |det D Exp_z0(v)|: [B] (NaN where the Jacobian is not finite). */
  logAbsDet: Float64Array;
}

/** Exp_z0(v0) for B points and velocities ([B, d] each) with the Jacobians of the map v -> Exp_z0(v). */
export function expMapJacobian(metric: Metric, z0: PointsInput, v0: PointsInput, opts: ExpMapJacobianOptions = {}): ExpMapJacobianResult {
  const d = metric.dim;
  const c = toFlatPoints(z0, d, 'z0');
  const v = toFlatPoints(v0, d, 'v0');
  if (c.length !== v.length) throw new RangeError(`expMapJacobian: ${c.length / d} points but ${v.length / d} velocities`);
  const b = c.length / d;
  const central = (opts.scheme ?? 'forward') === 'central';
  const rows = 1 + (central ? 2 : 1) * d;
  const rel = opts.relativeStep ?? 1e-3;
  const floor = opts.stepFloor ?? 1e-2;
  // Rows per velocity: v, then v + h e_j (and v - h e_j) for j = 1..d.
  const starts = new Float64Array(b * rows * d);
  const vels = new Float64Array(b * rows * d);
  const steps = new Float64Array(b);
  for (let p = 0; p < b; p++) {
    const vp = v.subarray(p * d, (p + 1) * d);
    steps[p] = rel * Math.max(Math.hypot(...vp), floor);
    for (let r = 0; r < rows; r++) {
      starts.set(c.subarray(p * d, (p + 1) * d), (p * rows + r) * d);
      vels.set(vp, (p * rows + r) * d);
    }
    for (let j = 0; j < d; j++) {
      vels[(p * rows + 1 + j) * d + j] += steps[p];
      if (central) vels[(p * rows + 1 + d + j) * d + j] -= steps[p];
    }
  }
  const all = expMap(metric, starts, vels, { ...opts, lengths: undefined });
  const t = all.curves.points;
  const endpoints = new Float64Array(b * d);
  const lengths = new Float64Array(b);
  const velocities = new Float64Array(b * d);
  const curves: CurveBatch = curveBatch(b, t, d);
  const jacobians = new Float64Array(b * d * d);
  const logAbsDet = new Float64Array(b);
  const jac = new Float64Array(d * d);
  for (let p = 0; p < b; p++) {
    const base = p * rows;
    endpoints.set(all.endpoints.subarray(base * d, (base + 1) * d), p * d);
    velocities.set(all.velocities.subarray(base * d, (base + 1) * d), p * d);
    lengths[p] = all.lengths[base];
    curves.data.set(all.curves.data.subarray(base * t * d, (base + 1) * t * d), p * t * d);
    const end = (r: number, i: number) => all.endpoints[(base + r) * d + i];
    for (let j = 0; j < d; j++) {
      for (let i = 0; i < d; i++) {
        jac[i * d + j] = central ? (end(1 + j, i) - end(1 + d + j, i)) / (2 * steps[p]) : (end(1 + j, i) - end(0, i)) / steps[p];
      }
    }
    jacobians.set(jac, p * d * d);
    logAbsDet[p] = jac.every(Number.isFinite) ? logAbsDeterminant(jac, d) : NaN;
  }
  return { endpoints, curves, lengths, velocities, jacobians, logAbsDet };
}

/** log |det A| of a small dense d x d matrix by Gaussian elimination with partial pivoting (-Infinity if singular). */
export function logAbsDeterminant(a: ArrayLike<number>, d: number): number {
  const m = Float64Array.from(a);
  let logDet = 0;
  for (let col = 0; col < d; col++) {
    let piv = col;
    for (let r = col + 1; r < d; r++) if (Math.abs(m[r * d + col]) > Math.abs(m[piv * d + col])) piv = r;
    const pv = m[piv * d + col];
    if (!(Math.abs(pv) > 0)) return -Infinity;
    if (piv !== col) for (let k = 0; k < d; k++) [m[col * d + k], m[piv * d + k]] = [m[piv * d + k], m[col * d + k]];
    logDet += Math.log(Math.abs(pv));
    for (let r = col + 1; r < d; r++) {
      const f = m[r * d + col] / pv;
      for (let k = col; k < d; k++) m[r * d + k] -= f * m[col * d + k];
    }
  }
  return logDet;
}
