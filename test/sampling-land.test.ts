/**
 * The LAND against closed forms. On a flat metric it is exactly a Gaussian: the maximum-likelihood fit is
 * the sample mean and covariance, the normaliser sqrt((2 pi)^d det Sigma) (times sqrt(det A) for a
 * constant metric A), the Lebesgue log-density the Gaussian's. The tangent samples are antithetic and
 * whitened, so these hold to round-off, not only to Monte Carlo error. Also: the exp map's per-geodesic
 * failure mode, a mixture on two blobs, samples, and no tensor leaks on a decoder metric.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fitGaussian, gaussianLogDensity, sampleGaussian } from '../src/lib/sampling/gaussian';
import { ConstantMetric } from '../src/lib/geometry/reference-metrics';
import { expMap } from '../src/lib/geometry/expmap';
import type { Metric } from '../src/lib/geometry/metric';
import { expectedMetric } from '../src/lib/geometry/decoder-metric';
import { GaussianDecoder } from '../src/lib/models/decoder';
import { createMlp } from '../src/lib/nn/mlp';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, maxRelErr, setupBackend } from './helpers';
import { weightedMoments } from '../src/lib/numerics/statistics';
import { fitLand, fitLandMixture } from '../src/lib/sampling/land/fit';
import { landLogDensity, landNormaliser, sampleLand } from '../src/lib/sampling/land/density';
import { tangentBase } from '../src/lib/sampling/land/normaliser';

before(setupBackend);

const identity = new ConstantMetric(Float64Array.of(1, 0, 0, 1));
const FAST = { expSteps: 2, maxExpSteps: 2, initSubset: 12 };

function blob(n: number, seed: number, mean = [0.5, -1], cov = [2, 0.6, 0.6, 0.5]): Float64Array {
  return sampleGaussian({ dim: 2, mean: Float64Array.from(mean), cov: Float64Array.from(cov) }, n, new Rng(seed));
}

const logZ = (cov: ArrayLike<number>) => 0.5 * Math.log((2 * Math.PI) ** 2 * (cov[0] * cov[3] - cov[1] * cov[2]));

test('tangent base samples are antithetic and whitened: mean 0 and second moment I exactly', () => {
  const eps = tangentBase(3, { samples: 101, seed: 4 });
  assert.equal(eps.length, 102 * 3);
  const { mean, scatter } = weightedMoments(eps, 3, undefined, new Float64Array(3));
  mean.forEach((m) => assert.ok(Math.abs(m) < 1e-14));
  scatter.forEach((s, i) => assert.ok(Math.abs(s - (i % 4 === 0 ? 1 : 0)) < 1e-12, `entry ${i}: ${s}`));
});

test('on the identity metric the ML LAND is the sample mean and covariance, with the Gaussian normaliser', async () => {
  const x = blob(60, 3);
  const g = fitGaussian(x, 2);
  const fit = await expectNoLeak(() => fitLand(identity, x, { ...FAST, mc: { samples: 200, seed: 1 }, tolerance: 1e-12, maxIterations: 40 }));
  assert.ok(maxRelErr(fit.land.mean, g.mean) < 1e-9, `mean ${Array.from(fit.land.mean)} vs ${Array.from(g.mean)}`);
  assert.ok(maxRelErr(fit.land.cov, g.cov) < 1e-5, `cov ${Array.from(fit.land.cov)} vs ${Array.from(g.cov)}`);
  assert.ok(Math.abs(fit.land.logNormaliser - logZ(fit.land.cov)) < 1e-9, `log C ${fit.land.logNormaliser} vs ${logZ(fit.land.cov)}`);
  assert.ok(fit.land.logNormaliserSe < 1e-9, 'a constant volume has no Monte Carlo error');
  assert.equal(fit.report.logMapFailures + fit.report.expMapFailures, 0);
  // The negative log-likelihood never rises.
  const h = fit.report.history.map((r) => r.nll);
  for (let i = 1; i < h.length; i++) assert.ok(h[i] <= h[i - 1] + 1e-12, `iteration ${i}: ${h[i]} > ${h[i - 1]}`);
});

test('the normaliser of a fresh sample without antithetic pairs or whitening is still sqrt((2 pi)^d det Sigma)', () => {
  const cov = [0.7, 0.2, 0.2, 0.4];
  const est = landNormaliser(identity, [1, 2], cov, { mc: { samples: 300, seed: 8, antithetic: false, whiten: false }, expSteps: 2 });
  // m = 1: every weight is equal, so the estimate is exact whatever the samples.
  assert.ok(Math.abs(est.logC - logZ(cov)) < 1e-10, `${est.logC} vs ${logZ(cov)}`);
});

test('a LAND under the identity has the Gaussian log-likelihood; under a constant A its Lebesgue density is still Gaussian', () => {
  const x = blob(40, 5);
  const g = fitGaussian(x, 2);
  for (const a of [[1, 0, 0, 1], [2, 0.5, 0.5, 1]]) {
    const metric = new ConstantMetric(Float64Array.from(a));
    const logC = landNormaliser(metric, g.mean, g.cov, { mc: { samples: 16, seed: 2 }, expSteps: 2 }).logC;
    // C = Z sqrt(det A) on a constant metric.
    assert.ok(Math.abs(logC - logZ(g.cov) - 0.5 * Math.log(a[0] * a[3] - a[1] * a[2])) < 1e-6);
    const land = { dim: 2, mean: g.mean, cov: g.cov, logNormaliser: logC, logNormaliserSe: 0 };
    const got = landLogDensity(metric, land, x.subarray(0, 20));
    const want = gaussianLogDensity(g, x.subarray(0, 20));
    got.lebesgue.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `A = ${a}, point ${i}: ${v} vs ${want[i]}`));
  }
});

test('a mixture of two LANDs on the identity finds two separated blobs', () => {
  const x = new Float64Array([...blob(40, 1, [-4, 0], [0.5, 0, 0, 0.5]), ...blob(40, 2, [4, 1], [0.3, 0.1, 0.1, 0.6])]);
  const fit = fitLandMixture(identity, x, 2, { ...FAST, mc: { samples: 32, seed: 3 }, tolerance: 1e-10, maxIterations: 30 });
  const means = fit.mixture.components.map((c) => Array.from(c.mean)).sort((p, q) => p[0] - q[0]);
  const left = fitGaussian(x.subarray(0, 80), 2).mean;
  const right = fitGaussian(x.subarray(80), 2).mean;
  assert.ok(Math.hypot(means[0][0] - left[0], means[0][1] - left[1]) < 1e-3, `left ${means[0]} vs ${Array.from(left)}`);
  assert.ok(Math.hypot(means[1][0] - right[0], means[1][1] - right[1]) < 1e-3, `right ${means[1]} vs ${Array.from(right)}`);
  fit.mixture.weights.forEach((w) => assert.ok(Math.abs(w - 0.5) < 1e-3));
  const h = fit.report.history.map((r) => r.nll);
  for (let i = 1; i < h.length; i++) assert.ok(h[i] <= h[i - 1] + 1e-8, `iteration ${i}: ${h[i]} > ${h[i - 1]}`);
});

test('samples of a LAND on the identity have its mean and covariance', () => {
  const land = { dim: 2, mean: Float64Array.of(1, -2), cov: Float64Array.of(0.5, 0.2, 0.2, 0.3), logNormaliser: 0, logNormaliserSe: 0 };
  const s = sampleLand(identity, land, 4000, { seed: 6, expSteps: 1 });
  const g = fitGaussian(s.points, 2);
  g.mean.forEach((m, i) => assert.ok(Math.abs(m - land.mean[i]) < 0.04, `mean ${i}: ${m}`));
  g.cov.forEach((c, i) => assert.ok(Math.abs(c - land.cov[i]) < 0.04, `cov ${i}: ${c}`));
  assert.ok(s.effectiveSize > 15000, 'equal volumes: every pooled sample counts');
});

/** diag(1, 1 - z_1): positive definite only for z_1 < 1. */
class HalfDefinite implements Metric {
  readonly dim = 2;
  tensor(z: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const x = tf.slice(z, [0, 0], [-1, 1]);
      const zero = tf.zerosLike(x);
      return tf.reshape(tf.concat([tf.onesLike(x), zero, zero, tf.sub(1, x)], 1), [-1, 2, 2]) as tf.Tensor3D;
    });
  }
}

test("expMap with onFailure 'nan' loses only the geodesics that leave the positive definite region", async () => {
  const z0 = [[0, 0], [0, 0]];
  const v0 = [[3, 0], [0.1, 0.2]];
  assert.throws(() => expMap(new HalfDefinite(), z0, v0, { steps: 20 }), /not positive definite/);
  const res = await expectNoLeak(() => expMap(new HalfDefinite(), z0, v0, { steps: 20, onFailure: 'nan' }));
  assert.ok(Number.isNaN(res.endpoints[0]) && Number.isNaN(res.endpoints[1]));
  assert.ok(Number.isFinite(res.endpoints[2]) && Number.isFinite(res.endpoints[3]));
  const ok = expMap(new HalfDefinite(), [[0, 0]], [[0.1, 0.2]], { steps: 20 });
  assert.deepEqual(Array.from(res.endpoints.subarray(2)), Array.from(ok.endpoints));
});

test('fitting a LAND on a decoder metric leaks no tensors and reports its Monte Carlo error', async () => {
  const rng = new Rng(7);
  const mean = createMlp({ sizes: [2, 8, 16], activations: ['tanh', 'sigmoid'] }, rng);
  const std = createMlp({ sizes: [2, 8, 16], activations: ['tanh', 'softplus'] }, rng);
  const decoder = new GaussianDecoder(mean, { kind: 'net', net: std });
  try {
    const metric = expectedMetric(decoder);
    const x = blob(12, 9, [0, 0], [0.2, 0, 0, 0.2]);
    const fit = await expectNoLeak(() => fitLand(metric, x, { mc: { samples: 16, seed: 1 }, expSteps: 4, maxIterations: 2, initSubset: 6, geodesic: { points: 6 } }));
    assert.ok(fit.land.logNormaliserSe > 0 && fit.land.logNormaliserSe < 1, `se ${fit.land.logNormaliserSe}`);
    assert.ok(Number.isFinite(fit.land.logNormaliser));
    assert.ok(fit.report.iterations >= 1 && fit.report.history.length === fit.report.iterations + 1);
    assert.ok(fit.report.logMapSeconds > 0 && fit.report.expMapSeconds > 0);
  } finally {
    decoder.dispose();
  }
});
