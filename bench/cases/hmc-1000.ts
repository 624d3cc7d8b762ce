/**
 * hmc-1000: 1,000 samples from the Riemannian uniform distribution sqrt(det G(z)) of a posterior metric of
 * MNIST's size (d = 16, 100 centroids), with the paper's HMC settings: 1,000 chains as one batch, 100
 * iterations of 10 leapfrog steps (step 0.01), so 1,001 gradient evaluations of log sqrt(det G) at 1,000
 * points. The metric is synthetic but of realistic scale: centroids N(0, I), posterior variances
 * log-uniform in [1e-3, 1e-1] (a trained MNIST VAE's lie there), lambda 0.01, rho from the centroids.
 * The paper reports 5.5 min for 1k CelebA samples on a V100 (with its decoder in the loop of nothing: the
 * sampler only evaluates G).
 */
import { initBackend } from '../../src/lib/runtime/backend';
import { PosteriorMetric, largestNearestDistance } from '../../src/lib/geometry/posterior-metric';
import { hmc, riemannianUniform } from '../../src/lib/sampling/hmc';
import { Rng } from '../../src/lib/util/rng';
import type { BenchCase } from '../run';

const DIM = 16;
const CENTROIDS = 100;
const SAMPLES = 1000;

function benchMetric(): PosteriorMetric {
  const rng = new Rng(16);
  const centers = rng.normals(CENTROIDS * DIM);
  const precisions = Float32Array.from({ length: CENTROIDS * DIM }, () => 10 ** (1 + 2 * rng.uniform()));
  return new PosteriorMetric({ dim: DIM, centers, precisions, rho: largestNearestDistance(centers, DIM), lambda: 0.01, tau: 0 });
}

/** Chains start at points near the centroids, as they start at training means in the paper. */
function starts(metric: PosteriorMetric, n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const { centers } = metric.params;
  const out = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    const c = rng.int(CENTROIDS);
    for (let j = 0; j < DIM; j++) out[i * DIM + j] = centers[c * DIM + j] + 0.05 * rng.normal();
  }
  return out;
}

export const benchCase: BenchCase = {
  name: 'hmc-1000',
  unit: 's',
  target: 2.0,
  run: async () => {
    await initBackend({ quiet: true });
    const metric = benchMetric();
    try {
      const target = riemannianUniform(metric);
      const init = starts(metric, SAMPLES, 3);
      hmc(target, init.subarray(0, 10 * DIM), { iterations: 2 }); // warm-up: first calls of each wasm kernel
      const res = hmc(target, init, { seed: 1 });
      return {
        value: res.seconds,
        detail: {
          samples: SAMPLES,
          dim: DIM,
          centroids: CENTROIDS,
          iterations: 100,
          leapfrogSteps: 10,
          stepSize: 0.01,
          gradientEvaluations: res.evaluations,
          acceptanceRate: res.acceptanceRate,
          paperV100Seconds: 330,
        },
      };
    } finally {
      metric.dispose();
    }
  },
};
