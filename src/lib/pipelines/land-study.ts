/**
 * Notebook 05's checks of the LAND's normaliser: each fitted density's probability mass over the latent
 * plane by the adaptive quadrature (sampling/density-quadrature.ts), and the paper's normaliser beside the
 * Jacobian-weighted one at the same fitted parameters (sampling/land-normaliser.ts), with what the held-out
 * log-likelihood and the mass would be under the paper's.
 */
import type { Metric } from '../geometry/metric';
import type { LatentGrid } from '../geometry/fields';
import { AdaptiveMassOptions, AdaptiveMassResult, adaptiveMass } from '../sampling/density-quadrature';
import { gaussianLogDensity, gmmLogDensity } from '../sampling/gaussian';
import type { PointsInput } from '../geometry/geodesics';
import { DensityModels } from './density-study';
import { LandGeometryOptions, LandMixture, TangentMcOptions } from '../sampling/land/types';
import { asMixture, landMixtureLogDensity, landNormaliser } from '../sampling/land/density';
import { mean } from '../numerics/statistics';

export interface LandMass {
  /** sum_j w_j mass_j: the mixture's mass from its components' (each integrated by itself). */
  mass: number;
  weights: number[];
  components: AdaptiveMassResult[];
}

/**
 * The mass of each fitted density over the grid's cells, refined adaptively: the Gaussian's and the GMM's
 * (closed forms: a check of the quadrature and of the box), and every LAND component's by itself (its
 * Lebesgue density, log maps at each new midpoint), so that a component's normaliser can be swapped
 * afterwards by rescaling (paperNormaliserEffect).
 */
export function densityMasses(metric: Metric, models: DensityModels, grid: LatentGrid, geometry: LandGeometryOptions, opts: AdaptiveMassOptions = {}): { gaussian: AdaptiveMassResult; gmm: AdaptiveMassResult; land: LandMass; land_mixture: LandMass } {
  const land = (m: LandMixture): LandMass => {
    const components = m.components.map((c) => adaptiveMass((pts) => landMixtureLogDensity(metric, asMixture(c), pts, geometry).lebesgue, grid, undefined, opts));
    const weights = Array.from(m.weights);
    return { mass: components.reduce((a, c, j) => a + weights[j] * c.mass, 0), weights, components };
  };
  return {
    gaussian: adaptiveMass((pts) => gaussianLogDensity(models.gaussian, pts), grid, undefined, opts),
    gmm: adaptiveMass((pts) => gmmLogDensity(models.gmm, pts), grid, undefined, opts),
    land: land(asMixture(models.land)),
    land_mixture: land(models.landMixture),
  };
}

export interface NormaliserComparison {
  model: 'land' | 'land_mixture';
  component: number;
  /** log C with the Jacobian (a fresh estimate) and its Monte Carlo standard error. */
  logCJacobian: number;
  seJacobian: number;
  /** log C by the paper's estimator E[m(Exp v)] at the same mu, Sigma. */
  logCPaper: number;
  sePaper: number;
}

/** Both normalisers of every fitted LAND component, with fresh tangent samples. */
export function compareNormalisers(metric: Metric, models: DensityModels, geometry: LandGeometryOptions, mc: TangentMcOptions): NormaliserComparison[] {
  const rows: NormaliserComparison[] = [];
  const add = (model: 'land' | 'land_mixture', m: LandMixture) =>
    m.components.forEach((c, j) => {
      const jac = landNormaliser(metric, c.mean, c.cov, { ...geometry, mc, normaliser: 'jacobian' });
      const paper = landNormaliser(metric, c.mean, c.cov, { ...geometry, mc, normaliser: 'paper' });
      rows.push({ model, component: j, logCJacobian: jac.logC, seJacobian: jac.se, logCPaper: paper.logC, sePaper: paper.se });
    });
  add('land', asMixture(models.land));
  add('land_mixture', models.landMixture);
  return rows;
}

/** The mixture with every component's log C replaced by the paper's estimate from `rows`. */
export function withPaperNormalisers(m: LandMixture, rows: NormaliserComparison[], model: 'land' | 'land_mixture'): LandMixture {
  return { ...m, components: m.components.map((c, j) => ({ ...c, logNormaliser: rows.find((r) => r.model === model && r.component === j)!.logCPaper })) };
}

/**
 * What the paper's normaliser would give at the fitted parameters: the mean held-out log-likelihood
 * (Lebesgue measure; new log maps of the test points) and the mass, each component's rescaled by
 * C_fit / C_paper.
 */
export function paperNormaliserEffect(metric: Metric, models: DensityModels, rows: NormaliserComparison[], masses: { land: LandMass; land_mixture: LandMass }, test: PointsInput, geometry: LandGeometryOptions): { meanTestLogLikelihood: Record<'land' | 'land_mixture', number>; mass: Record<'land' | 'land_mixture', number> } {
  const fitted = { land: asMixture(models.land), land_mixture: models.landMixture };
  const out = { meanTestLogLikelihood: { land: NaN, land_mixture: NaN }, mass: { land: NaN, land_mixture: NaN } };
  for (const model of ['land', 'land_mixture'] as const) {
    const paper = withPaperNormalisers(fitted[model], rows, model);
    out.meanTestLogLikelihood[model] = mean(landMixtureLogDensity(metric, paper, test, geometry).lebesgue);
    const m = masses[model];
    out.mass[model] = m.components.reduce((a, c, j) => a + m.weights[j] * c.mass * Math.exp(fitted[model].components[j].logNormaliser - paper.components[j].logNormaliser), 0);
  }
  return out;
}
