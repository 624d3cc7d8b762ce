/**
 * The locally adaptive normal distribution (LAND; Arvanitidis, Hansen, Hauberg, NeurIPS 2016) and mixtures
 * of LANDs, on a latent space with a Riemannian metric M:
 *
 *   p(z) = C(mu, Sigma)^-1 exp(-1/2 Log_mu(z)^T Sigma^-1 Log_mu(z))   with respect to the Riemannian measure
 *   C(mu, Sigma) = sqrt((2 pi)^d det Sigma) E_{v ~ N(0, Sigma)}[ m(Exp_mu(v)) ],   m = sqrt(det M).
 *
 * is the paper's normaliser, which leaves the exponential map's own Jacobian out (exact for a flat metric);
 * by default the tangent samples are weighted by m(Exp_mu(v)) |det D Exp_mu(v)| instead, the change of
 * variables that makes p integrate to 1 (tangent-exp.ts; options.normaliser = 'paper' for the paper's).
 * Multiply p by m(z) for the density with respect to the Lebesgue measure of the latent coordinates, which
 * is what compares with a Gaussian.
 *
 * Log maps are boundary value solves (logMap without shooting, connectingGeodesics underneath), warm-
 * started from the previous iteration's geodesics. Exp maps are RK4 (expMap) with per-sample failure: a
 * geodesic that leaves the positive definite region or loses its constant speed is integrated again with
 * finer steps, and redrawn (new tangent sample) if it still fails. The Monte Carlo samples are common random
 * numbers for the whole fit: antithetic pairs (+eps, -eps) whitened to unit second moment, with redraws
 * seeded per sample, so the normaliser is a smooth function of (mu, Sigma) where the geodesics are, and
 * exact on a flat metric.
 *
 * Maximum likelihood, per component and iteration, in two accepted-or-rejected parts:
 *   - Sigma: preconditioned gradient steps on the precision factor A (Sigma^-1 = A^T A) with gradient
 *     A (S_log - V_q), S_log the (weighted) second moment of the log maps and V_q the volume-weighted
 *     second moment of the tangent samples reweighted from the Sigma they were drawn at (no new exp maps
 *     while stepping); the proposal is then evaluated with new samples at the same mean;
 *   - mu: mu <- Exp_mu(alpha (mean log map - sum_s q_s v_s)), the average log map minus the Monte Carlo
 *     correction of the normaliser, evaluated with new log maps and samples and halved while it raises the
 *     objective by more than the Monte Carlo resolution (options.noiseTolerance);
 * until the mean negative log-likelihood changes by less than the tolerance; the best iterate is returned.
 * Mixtures by generalised EM: responsibilities from the component densities, then one such step per
 * component on its responsibility-weighted objective; components start at k-medoids of a geodesic
 * distance matrix of a subsample, with hard responsibilities by geodesic distance to the medoids.
 * Samples (sampleLandMixture) by sampling-importance-resampling of tangent samples with weights m.
 */
export type { Land, LandMixture, TangentMcOptions, LandGeometryOptions, LandFitOptions, LandIteration, LandFitReport, LandFit, LandMixtureFit } from './types';
export { tangentBase } from './normaliser';
export { fitLandMixture, fitLand } from './fit';
export { type LandDensity, landMixtureLogDensity, landLogDensity, asMixture, landNormaliser, type LandSamples, sampleLandMixture, sampleLand } from './density';
export { type LandNormaliserKind, type TangentExpMaps, tangentExpMaps } from './tangent-exp';
