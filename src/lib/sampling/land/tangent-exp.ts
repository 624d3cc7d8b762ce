/**
 * The LAND's normaliser with the exponential map's Jacobian. The LAND density with respect to the Riemannian
 * measure is p(z) = C^-1 exp(-1/2 Log_mu(z)^T Sigma^-1 Log_mu(z)), so
 *
 *   C = integral over the latent space of exp(-1/2 Log_mu(z)^T Sigma^-1 Log_mu(z)) m(z) dz     (m = sqrt(det M))
 *     = integral over the tangent space of exp(-1/2 v^T Sigma^-1 v) m(Exp_mu(v)) |det D Exp_mu(v)| dv
 *
 * (z = Exp_mu(v), inside the injectivity domain of Exp_mu), a Gaussian expectation of
 * m(Exp_mu(v)) |det D Exp_mu(v)|. The LAND paper (Arvanitidis et al. 2016, and the authors' code) estimates
 * E[m(Exp_mu(v))] instead: the Jacobian is left out, which is exact for a constant metric but not where the
 * metric varies: where geodesics run into a wall of high m they bunch up (|det D Exp| small) as m grows,
 * and the paper's estimate counts the wall's volume without the compression. Both are kept: 'jacobian'
 * (the default of land.ts) and 'paper', to show the difference.
 *
 * |det D Exp_mu(v)| comes from batched finite differences of the RK4 exp map with the same step schedule
 * (geometry/expmap-jacobian.ts), so it is the derivative of the very map whose end points are used.
 * In two dimensions the product has the closed form m(mu) J(r) / r along a unit-speed geodesic of length
 * r = |v|_M(mu), J the solution of the Jacobi equation J'' + K J = 0 (K the Gaussian curvature), J(0) = 0,
 * J'(0) = 1: sinh(r) / r on the hyperbolic plane, sin(r) / r on the unit sphere; the tests check both.
 */
import type { Metric } from '../../geometry/metric';
import { ExpMapResult, expMap } from '../../geometry/expmap';
import { expMapJacobian } from '../../geometry/expmap-jacobian';

/** 'jacobian': weights m(Exp v) |det D Exp(v)| (integrates to 1); 'paper': m(Exp v) alone (the LAND paper's). */
export type LandNormaliserKind = 'jacobian' | 'paper';

export interface TangentExpMaps extends Pick<ExpMapResult, 'endpoints' | 'curves' | 'lengths'> {
  /** log |det D Exp_mu(v)| for 'jacobian' (NaN where a perturbed geodesic failed), 0 for 'paper': [S]. */
  logWeight: Float64Array;
}

/**
 * Exp_mu(v_s) for tangent samples v [S, d] from the starts [S, d] (all mu) with `steps` RK4 steps, failed
 * geodesics NaN, and the log of the factor the normaliser's integrand carries besides m(Exp v).
 */
export function tangentExpMaps(metric: Metric, starts: Float64Array, v: Float64Array, steps: number, kind: LandNormaliserKind): TangentExpMaps {
  if (kind === 'paper') {
    const res = expMap(metric, starts, v, { steps, onFailure: 'nan' });
    return { endpoints: res.endpoints, curves: res.curves, lengths: res.lengths, logWeight: new Float64Array(v.length / metric.dim) };
  }
  const res = expMapJacobian(metric, starts, v, { steps, onFailure: 'nan' });
  return { endpoints: res.endpoints, curves: res.curves, lengths: res.lengths, logWeight: res.logAbsDet };
}
