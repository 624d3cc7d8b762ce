/**
 * Notebook 05's study: the four density models (Gaussian, LAND, GMM, LAND mixture) fitted, scored and
 * sampled side by side on a latent space, and the helpers it needs (subsamples, mass on the grid).
 */
import type { Metric } from '../geometry/metric';
import { LatentGrid } from '../geometry/fields';
import { PointsInput, toFlatPoints } from '../geometry/geodesics';
import { Rng } from '../util/rng';
import { Gaussian, Gmm, GmmFit, fitGaussian, fitGmm, gaussianLogDensity, gmmLogDensity, sampleGaussian, sampleGmm } from '../sampling/gaussian';
import { Land, LandMixture, LandGeometryOptions, LandFitOptions, LandFitReport } from '../sampling/land/types';
import { fitLandMixture, fitLand } from '../sampling/land/fit';
import { landMixtureLogDensity, asMixture, sampleLandMixture, sampleLand } from '../sampling/land/density';

export type DensityName = 'gaussian' | 'land' | 'gmm' | 'land_mixture';
export const DENSITY_NAMES: readonly DensityName[] = ['gaussian', 'land', 'gmm', 'land_mixture'];

export interface DensityModels {
  gaussian: Gaussian;
  gmm: Gmm;
  land: Land;
  landMixture: LandMixture;
}

export interface DensityModelFits {
  models: DensityModels;
  gmm: Omit<GmmFit, 'model' | 'responsibilities'>;
  land: LandFitReport;
  landMixture: LandFitReport;
}

/** Fits the Euclidean baselines and the LANDs (K components for both mixtures) to the same codes [N, d]. */
export function fitDensityModels(metric: Metric, codes: PointsInput, opts: { components: number; seed?: number; land?: LandFitOptions }): DensityModelFits {
  const d = metric.dim;
  const x = toFlatPoints(codes, d, 'codes');
  const seed = opts.seed ?? 0;
  const gmmFit = fitGmm(x, d, opts.components, { seed });
  const landOpts: LandFitOptions = { ...opts.land, mc: { seed, ...opts.land?.mc } };
  const single = fitLand(metric, x, landOpts);
  const mixture = fitLandMixture(metric, x, opts.components, landOpts);
  const { model, responsibilities: _r, ...gmmReport } = gmmFit;
  return {
    models: { gaussian: fitGaussian(x, d), gmm: model, land: single.land, landMixture: mixture.mixture },
    gmm: gmmReport,
    land: single.report,
    landMixture: mixture.report,
  };
}

/**
 * log-densities of the four models at points [N, d], all with respect to the Lebesgue measure of the
 * latent coordinates (the LANDs' Riemannian densities times sqrt(det M)), so that they compare.
 */
export function densityLogLikelihoods(metric: Metric, models: DensityModels, points: PointsInput, opts: LandGeometryOptions = {}): { logDensity: Record<DensityName, Float64Array>; logMapFailures: number } {
  const x = toFlatPoints(points, metric.dim, 'points');
  const land = landMixtureLogDensity(metric, asMixture(models.land), x, opts);
  const mixture = landMixtureLogDensity(metric, models.landMixture, x, opts);
  return {
    logDensity: { gaussian: gaussianLogDensity(models.gaussian, x), land: land.lebesgue, gmm: gmmLogDensity(models.gmm, x), land_mixture: mixture.lebesgue },
    logMapFailures: land.logMapFailures + mixture.logMapFailures,
  };
}

/** n samples [n, d] from each model (seeded); the LANDs' by tangent-space resampling (sampleLandMixture). */
export function sampleDensityModels(metric: Metric, models: DensityModels, n: number, opts: { seed?: number } & LandGeometryOptions = {}): Record<DensityName, Float64Array> {
  const seed = opts.seed ?? 0;
  return {
    gaussian: sampleGaussian(models.gaussian, n, new Rng(seed)),
    land: sampleLand(metric, models.land, n, { ...opts, seed: seed + 1 }).points,
    gmm: sampleGmm(models.gmm, n, new Rng(seed + 2)).points,
    land_mixture: sampleLandMixture(metric, models.landMixture, n, { ...opts, seed: seed + 3 }).points,
  };
}

/** `n` rows of points [N, d] drawn without replacement (seeded), e.g. a fitting subset of the codes. */
export function subsampleRows(points: ArrayLike<number>, d: number, n: number, seed: number): Float64Array {
  const total = points.length / d;
  const rows = new Rng(seed).permutation(total).subarray(0, Math.min(n, total));
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) out[i * d + j] = points[r * d + j];
  });
  return out;
}

/**
 * The probability mass a density puts on a latent grid: sum_i exp(log p(z_i)) dx dy (midpoint rule). A
 * check of a normaliser: close to 1 when the grid covers the density's support and the normaliser is right.
 */
export function massOnGrid(logDensity: ArrayLike<number>, grid: LatentGrid): number {
  const dx = (grid.xs[grid.xs.length - 1] - grid.xs[0]) / (grid.xs.length - 1);
  const dy = (grid.ys[grid.ys.length - 1] - grid.ys[0]) / (grid.ys.length - 1);
  let s = 0;
  for (let i = 0; i < logDensity.length; i++) if (Number.isFinite(logDensity[i])) s += Math.exp(logDensity[i]);
  return s * dx * dy;
}
