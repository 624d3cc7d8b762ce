/**
 * Notebook 05's normaliser checks end to end on a constant metric, where the LAND is a Gaussian: the
 * adaptive masses are 1 for every density inside a wide box, both normalisers agree, and so the paper's
 * estimator changes neither the held-out log-likelihood nor the mass.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { sampleGaussian } from '../src/lib/sampling/gaussian';
import { densityMasses, compareNormalisers, paperNormaliserEffect } from '../src/lib/pipelines/land-study';
import { ConstantMetric } from '../src/lib/geometry/reference-metrics';
import { latentGrid } from '../src/lib/geometry/fields';
import { Rng } from '../src/lib/util/rng';
import { setupBackend } from './helpers';
import { fitDensityModels } from '../src/lib/pipelines/density-study';

before(setupBackend);

test('constant metric: masses 1, both normalisers equal, the paper\'s changes nothing', () => {
  const metric = new ConstantMetric(Float64Array.of(1.5, 0.2, 0.2, 0.8));
  const x = sampleGaussian({ dim: 2, mean: Float64Array.of(0, 0), cov: Float64Array.of(0.3, 0.05, 0.05, 0.2) }, 30, new Rng(1));
  const geometry = { expSteps: 2, maxExpSteps: 2, geodesic: { points: 6, maxIter: 10 } };
  const fits = fitDensityModels(metric, x, { components: 2, seed: 1, land: { ...geometry, mc: { samples: 20 }, maxIterations: 2, initSubset: 8 } });
  const grid = latentGrid({ xmin: -3, xmax: 3, ymin: -3, ymax: 3, n: 16 });
  const masses = densityMasses(metric, fits.models, grid, geometry, { cellTolerance: 1e-3, maxLevels: 2, maxEvaluations: 800 });
  for (const m of [masses.gaussian.mass, masses.gmm.mass, masses.land.mass, masses.land_mixture.mass]) assert.ok(Math.abs(m - 1) < 0.02, `mass ${m}`);
  const rows = compareNormalisers(metric, fits.models, geometry, { samples: 20, seed: 3 });
  assert.equal(rows.length, 3);
  for (const r of rows) assert.ok(Math.abs(r.logCJacobian - r.logCPaper) < 1e-5, `${r.model} ${r.component}: ${r.logCJacobian} vs ${r.logCPaper}`);
  const effect = paperNormaliserEffect(metric, fits.models, rows, masses, x, geometry);
  assert.ok(Math.abs(effect.mass.land - masses.land.mass) < 1e-3 && Math.abs(effect.mass.land_mixture - masses.land_mixture.mass) < 1e-3);
  assert.ok(Number.isFinite(effect.meanTestLogLikelihood.land) && Number.isFinite(effect.meanTestLogLikelihood.land_mixture));
});
