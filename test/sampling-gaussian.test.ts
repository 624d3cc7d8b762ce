/**
 * Euclidean baselines: the ML Gaussian against closed forms, the log-density against the 2-D formula, and
 * EM for a Gaussian mixture increasing the likelihood monotonically (with and without the ridge, which
 * makes EM monotone for the penalised objective only, so the plain check runs without it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitGaussian, fitGmm, gaussianLogDensity, gmmLogDensity, sampleGaussian, sampleGmm } from '../src/lib/sampling/gaussian';
import { Rng } from '../src/lib/util/rng';
import { logSumExp } from '../src/lib/numerics/statistics';

test('the ML Gaussian is the sample mean and the 1/N covariance', () => {
  const x = Float64Array.of(0, 0, 2, 0, 0, 4, 2, 4);
  const g = fitGaussian(x, 2);
  assert.deepEqual(Array.from(g.mean), [1, 2]);
  assert.deepEqual(Array.from(g.cov), [1, 0, 0, 4]);
});

test('gaussianLogDensity matches the bivariate normal formula', () => {
  const g = { dim: 2, mean: Float64Array.of(1, -1), cov: Float64Array.of(2, 0.5, 0.5, 1) };
  const x = Float64Array.of(0.3, 0.2, 3, -2);
  const det = 2 * 1 - 0.25;
  const inv = [1 / det, -0.5 / det, -0.5 / det, 2 / det];
  const got = gaussianLogDensity(g, x);
  for (let p = 0; p < 2; p++) {
    const a = x[2 * p] - 1;
    const b = x[2 * p + 1] + 1;
    const q = a * a * inv[0] + 2 * a * b * inv[1] + b * b * inv[3];
    const want = -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * q;
    assert.ok(Math.abs(got[p] - want) < 1e-12, `${got[p]} vs ${want}`);
  }
});

test('samples of a Gaussian have its mean and covariance (to sampling error)', () => {
  const g = { dim: 2, mean: Float64Array.of(3, -1), cov: Float64Array.of(1, -0.6, -0.6, 2) };
  const fit = fitGaussian(sampleGaussian(g, 40000, new Rng(5)), 2);
  fit.mean.forEach((m, i) => assert.ok(Math.abs(m - g.mean[i]) < 0.03, `mean ${i}: ${m}`));
  fit.cov.forEach((c, i) => assert.ok(Math.abs(c - g.cov[i]) < 0.05, `cov ${i}: ${c}`));
});

test('logSumExp is stable for large and -Infinity entries', () => {
  assert.ok(Math.abs(logSumExp([1000, 1000]) - (1000 + Math.LN2)) < 1e-12);
  assert.equal(logSumExp([-Infinity, -Infinity]), -Infinity);
  assert.ok(Math.abs(logSumExp([-Infinity, 0]) - 0) < 1e-15);
});

function threeBlobs(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const blobs = [
    { dim: 2, mean: Float64Array.of(0, 0), cov: Float64Array.of(1, 0.3, 0.3, 0.5) },
    { dim: 2, mean: Float64Array.of(4, 1), cov: Float64Array.of(0.3, 0, 0, 2) },
    { dim: 2, mean: Float64Array.of(1, 5), cov: Float64Array.of(0.8, -0.4, -0.4, 0.8) },
  ];
  return sampleGmm({ dim: 2, weights: Float64Array.of(0.5, 0.3, 0.2), components: blobs }, n, rng).points;
}

test('GMM EM increases the mean log-likelihood at every iteration', () => {
  const x = threeBlobs(600, 1);
  for (const ridge of [0, undefined]) {
    const fit = fitGmm(x, 2, 3, { seed: 2, ridge, tolerance: 1e-12, maxIterations: 200 });
    const h = fit.meanLogLikelihoods;
    assert.ok(h.length >= 3, `only ${h.length} iterations`);
    // The default ridge is 1e-6 of the data variance: its penalty moves the likelihood by far less than 1e-9.
    for (let i = 1; i < h.length; i++) assert.ok(h[i] >= h[i - 1] - 1e-9, `ridge ${ridge}: iteration ${i}: ${h[i]} < ${h[i - 1]}`);
    // The reported model's density reproduces the last entry.
    const ll = gmmLogDensity(fit.model, x).reduce((a, b) => a + b, 0) / (x.length / 2);
    assert.ok(ll >= h[h.length - 1] - 1e-9, `final ${ll} vs ${h[h.length - 1]}`);
  }
});

test('a one-component GMM is the ML Gaussian', () => {
  const x = threeBlobs(300, 3);
  const fit = fitGmm(x, 2, 1, { ridge: 0 });
  const g = fitGaussian(x, 2);
  fit.model.components[0].cov.forEach((c, i) => assert.ok(Math.abs(c - g.cov[i]) < 1e-10));
  const a = gmmLogDensity(fit.model, x);
  const b = gaussianLogDensity(g, x);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-9));
});
