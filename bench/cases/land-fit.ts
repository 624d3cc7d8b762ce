/**
 * land-fit: one LAND fitted by maximum likelihood to 500 latent codes (seeded subsample) of the Latent
 * Space Oddity authors' trained MNIST decoder (../shared/fixtures/lso-mnist-decoder.json, its expected
 * metric), 200 tangent samples, at most 4 iterations, with the geometry settings of notebook 05. Skipped,
 * with the reason in the detail, when the fixture is absent.
 *
 * Where the time goes (logMapSeconds / expMapSeconds in the detail): each evaluation of the LAND at a new
 * mean solves 500 boundary value problems for the log maps (warm-started from the previous geodesics)
 * and integrates 200 exp maps for the normaliser, with finer RK4 steps for the geodesics that run into
 * the metric's walls; a covariance step needs new exp maps only. Both are metric evaluations at bottom
 * (see expmap-1000). First measurement, on an idle machine: 34 s (14 s log maps, 20 s exp maps; 3 iterations,
 * the third step rejected at Monte Carlo resolution, so the fit stopped as stalled). The target, 60 s,
 * leaves headroom for load.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../../src/lib/runtime/backend';
import { readDecoderJson } from '../../src/lib/io/decoder-json';
import { expectedMetric } from '../../src/lib/geometry/decoder-metric';
import type { BenchCase } from '../run';
import { subsampleRows } from '../../src/lib/pipelines/density-study';
import { fitLand } from '../../src/lib/sampling/land/fit';

const CODES = 500;
const SAMPLES = 200;
const ITERATIONS = 4;

function fixturePath(): string | null {
  const dir = process.env.LSO_SHARED_DIR ?? path.resolve(__dirname, '..', '..', '..', 'shared');
  const file = path.join(dir, 'fixtures', 'lso-mnist-decoder.json');
  return fs.existsSync(file) ? file : null;
}

export const benchCase: BenchCase = {
  name: 'land-fit',
  unit: 's',
  target: 60,
  async run() {
    const file = fixturePath();
    if (!file) return { value: 0, detail: { skipped: 'lso-mnist-decoder.json is absent from ../shared/fixtures: nothing was measured (value 0)' } };
    await initBackend({ quiet: true });
    const { decoder, latentCodes } = readDecoderJson(file);
    try {
      if (!latentCodes) return { value: 0, detail: { skipped: `${file} has no latent_codes: nothing was measured (value 0)` } };
      const codes = subsampleRows(latentCodes, 2, CODES, 1);
      const t0 = performance.now();
      // The geometry settings of notebook 05.
      const fit = fitLand(expectedMetric(decoder), codes, {
        mc: { samples: SAMPLES, seed: 1, maxRedraws: 1 },
        expSteps: 8,
        maxExpSteps: 32,
        geodesic: { points: 12, maxIter: 40 },
        initCovarianceScale: 0.25,
        maxBacktracks: 1,
        maxIterations: ITERATIONS,
        tolerance: 1e-3,
      });
      const value = (performance.now() - t0) / 1000;
      const r = fit.report;
      return {
        value,
        detail: {
          codes: CODES,
          tangentSamples: SAMPLES,
          iterations: r.iterations,
          converged: r.converged,
          stalled: r.stalled,
          nll: r.history.map((h) => Number(h.nll.toFixed(4))),
          logMapFailures: r.logMapFailures,
          expMapFailures: r.expMapFailures,
          expMapDropped: r.expMapDropped,
          logNormaliserSe: Number(fit.land.logNormaliserSe.toFixed(4)),
          logMapSeconds: Number(r.logMapSeconds.toFixed(1)),
          expMapSeconds: Number(r.expMapSeconds.toFixed(1)),
          mean: Array.from(fit.land.mean, (x) => Number(x.toFixed(4))),
          cov: Array.from(fit.land.cov, (x) => Number(x.toFixed(4))),
        },
      };
    } finally {
      decoder.dispose();
    }
  },
};
