/**
 * The LAND's data: one LAND and mixtures of them, their options, and what a fit reports.
 */
import { GeodesicOptions, PointsInput } from '../../geometry/geodesics';
import type { LandNormaliserKind } from './tangent-exp';

/** One LAND: mean, covariance in the tangent space at the mean, and its normaliser. */
export interface Land {
  readonly dim: number;
  /** mu [d] */
  readonly mean: Float64Array;
  /** Sigma [d, d], a covariance of tangent vectors at mu (latent coordinates). */
  readonly cov: Float64Array;
  /** log C(mu, Sigma). */
  readonly logNormaliser: number;
  /** Monte Carlo standard error of log C (the relative standard error of C). */
  readonly logNormaliserSe: number;
}

export interface LandMixture {
  readonly dim: number;
  /** [K], summing to 1. */
  readonly weights: Float64Array;
  readonly components: Land[];
}

export interface TangentMcOptions {
  /** Tangent samples per normaliser (default 1000; rounded up to even for antithetic pairs). */
  samples?: number;
  seed?: number;
  /** Antithetic pairs (+eps, -eps) (default true). */
  antithetic?: boolean;
  /** Whiten the base samples to unit second moment (default true). */
  whiten?: boolean;
  /** Rounds of redrawing samples whose exp map failed (default 4); still failing after them: dropped. */
  maxRedraws?: number;
}

export interface LandGeometryOptions {
  /** RK4 steps of each exp map at first (default 20). */
  expSteps?: number;
  /** Most RK4 steps for a geodesic that fails with fewer (default 8 x expSteps). */
  maxExpSteps?: number;
  /**
   * An exp map counts as failed when the speed |c'(1)|_M of its geodesic differs from its initial speed by
   * more than this fraction (default 0.1): geodesics have constant speed, so a drift means that RK4 did not
   * resolve the metric's variation (it ran into a wall of the metric).
   */
  speedTolerance?: number;
  /** Options of the boundary value solves behind the log maps. */
  geodesic?: GeodesicOptions;
  /**
   * The normaliser's tangent-space integrand (see tangent-exp.ts): 'jacobian' (default) weights each
   * sample by m(Exp v) |det D Exp(v)|, the change of variables, so that the density integrates to 1;
   * 'paper' by m(Exp v) alone, the estimator of the paper and the authors' code. It also sets the
   * resampling weights of sampleLandMixture.
   */
  normaliser?: LandNormaliserKind;
}

export interface LandFitOptions extends LandGeometryOptions {
  mc?: TangentMcOptions;
  /** Outer iterations at most (default 30). */
  maxIterations?: number;
  /** Stop when the mean negative log-likelihood changes by less than this (default 1e-4 nats). */
  tolerance?: number;
  /** Covariance gradient steps per iteration at most (default 50). */
  covarianceSteps?: number;
  /** Halvings of a step that raised the objective before the component stays put (default 4). */
  maxBacktracks?: number;
  /**
   * A step is accepted when it raises the component's objective by at most this many Monte Carlo standard
   * errors of log C (default 2): where the tangent samples reach the metric's walls, log C moves by about its
   * standard error between nearby parameters, and a strict descent test would stall on that noise. The fit
   * returns the iterate with the lowest negative log-likelihood. 0 gives a strictly monotone fit.
   */
  noiseTolerance?: number;
  /** Points of the subsample whose geodesic distance matrix seeds k-medoids (default 40). */
  initSubset?: number;
  /** Start the components here ([K, d]) instead of at geodesic k-medoids. */
  initMeans?: PointsInput;
  /**
   * The starting covariance is this times the second moment of the log maps (default 1). A smaller start
   * keeps the first tangent samples out of the metric's walls, where their exp maps are slow; the
   * covariance steps grow it as the likelihood asks.
   */
  initCovarianceScale?: number;
  /** Called after every iteration. */
  onIteration?: (info: LandIteration) => void;
}

export interface LandIteration {
  iteration: number;
  /** Mean negative log-likelihood (Riemannian measure) of the fitted points. */
  nll: number;
  /** Log maps whose boundary value solve did not converge in this iteration. */
  logMapFailures: number;
  /** Exp maps that failed and were redrawn (or dropped) in this iteration. */
  expMapFailures: number;
  /** Halved steps in this iteration. */
  backtracks: number;
  seconds: number;
}

export interface LandFitReport {
  iterations: number;
  /** The iterate returned: the one with the lowest negative log-likelihood (0: the start). */
  bestIteration: number;
  /** The negative log-likelihood changed by less than the tolerance. */
  converged: boolean;
  /** Every component's step was rejected after all its halvings: no descent found at Monte Carlo resolution. */
  stalled: boolean;
  /** Mean negative log-likelihood after each iteration (the first: at the start). */
  history: LandIteration[];
  /** Totals over the fit. */
  logMapFailures: number;
  expMapFailures: number;
  /** Exp maps dropped after every redraw failed (they count as zero volume). */
  expMapDropped: number;
  /** Monte Carlo standard error of each component's log C at the end. */
  logNormaliserSe: number[];
  seconds: number;
  /** Where the time went: log maps (boundary value solves) and exp maps (RK4, with the mean's steps). */
  logMapSeconds: number;
  expMapSeconds: number;
}

export interface LandFit {
  land: Land;
  report: LandFitReport;
}

export interface LandMixtureFit {
  mixture: LandMixture;
  /** [N, K] responsibilities at the end. */
  responsibilities: Float64Array;
  report: LandFitReport;
}
