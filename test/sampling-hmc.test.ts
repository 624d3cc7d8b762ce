/** HMC: recovers known moments (Gaussian, a 1-D Riemannian uniform density), corrects a coarse integrator, reports acceptance. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { autodiffDensity, hmc, riemannianUniform } from '../src/lib/sampling/hmc';
import { PosteriorMetric } from '../src/lib/geometry/posterior-metric';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

// A correlated 2-D Gaussian: mean M, covariance S, precision P = S^-1.
const M = [1.5, -0.5];
const S = [
  [1.0, 0.6],
  [0.6, 0.5],
];
const DET = S[0][0] * S[1][1] - S[0][1] * S[1][0];
const P = [
  [S[1][1] / DET, -S[0][1] / DET],
  [-S[1][0] / DET, S[0][0] / DET],
];

const gaussian = autodiffDensity(2, (z) =>
  tf.tidy(() => {
    const c = tf.sub(z, tf.tensor1d(M));
    return tf.mul(tf.sum(tf.mul(tf.matMul(c, tf.tensor2d(P)), c), 1), -0.5) as tf.Tensor1D;
  }),
);

function moments(x: Float32Array): { mean: number[]; cov: number[][] } {
  const n = x.length / 2;
  const mean = [0, 1].map((j) => x.reduce((s, v, i) => (i % 2 === j ? s + v : s), 0) / n);
  const cov = [0, 1].map((a) => [0, 1].map((b) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (x[2 * i + a] - mean[a]) * (x[2 * i + b] - mean[b]);
    return s / (n - 1);
  }));
  return { mean, cov };
}

/** Within 4.5 standard errors, for C independent chains' final states. */
function assertMoments(x: Float32Array, what: string): void {
  const n = x.length / 2;
  const { mean, cov } = moments(x);
  for (let j = 0; j < 2; j++) {
    const se = Math.sqrt(S[j][j] / n);
    assert.ok(Math.abs(mean[j] - M[j]) < 4.5 * se, `${what}: mean[${j}] = ${mean[j]}, want ${M[j]} +- ${se}`);
    const seVar = S[j][j] * Math.sqrt(2 / n);
    assert.ok(Math.abs(cov[j][j] - S[j][j]) < 4.5 * seVar, `${what}: var[${j}] = ${cov[j][j]}, want ${S[j][j]} +- ${seVar}`);
  }
  const seCov = Math.sqrt((S[0][0] * S[1][1] + S[0][1] ** 2) / n);
  assert.ok(Math.abs(cov[0][1] - S[0][1]) < 4.5 * seCov, `${what}: cov = ${cov[0][1]}, want ${S[0][1]}`);
}

test('HMC from a wrong start recovers the mean and covariance of a correlated Gaussian', async () => {
  const chains = 2000;
  const init = new Float32Array(2 * chains).fill(-2); // far from the mode
  const res = await expectNoLeak(() => hmc(gaussian, init, { stepSize: 0.15, leapfrogSteps: 10, iterations: 60, seed: 4 }));
  assert.equal(res.samples.length, 2 * chains);
  assert.equal(res.acceptancePerIteration.length, 60);
  assert.ok(res.acceptanceRate > 0.8 && res.acceptanceRate <= 1, `acceptance ${res.acceptanceRate}`);
  assertMoments(res.samples, 'step 0.15');
});

test('the Metropolis correction keeps the target exact with a coarse step (acceptance < 1)', async () => {
  const chains = 2000;
  // Start in the target: draw z = M + L eps with S = L L^T.
  const l00 = Math.sqrt(S[0][0]);
  const l10 = S[1][0] / l00;
  const l11 = Math.sqrt(S[1][1] - l10 * l10);
  const init = new Float32Array(2 * chains);
  const eps = tf.tidy(() => tf.randomNormal([chains, 2], 0, 1, 'float32', 7).dataSync());
  for (let i = 0; i < chains; i++) {
    init[2 * i] = M[0] + l00 * eps[2 * i];
    init[2 * i + 1] = M[1] + l10 * eps[2 * i] + l11 * eps[2 * i + 1];
  }
  // Without the correction a step this large inflates the variance along the stiff direction.
  const res = hmc(gaussian, init, { stepSize: 0.6, leapfrogSteps: 3, iterations: 40, seed: 5 });
  assert.ok(res.acceptanceRate < 0.9 && res.acceptanceRate > 0.2, `acceptance ${res.acceptanceRate}`);
  assertMoments(res.samples, 'step 0.6');
});

test('the Riemannian uniform target of a 1-D posterior metric: HMC matches moments by quadrature', () => {
  // sqrt(G(z)) with G = s exp(-s (z - mu)^2 / rho^2) + lambda exp(-tau z^2): proper because tau > 0.
  const p = { dim: 1, centers: Float32Array.of(1), precisions: Float32Array.of(4), rho: 1, lambda: 0.5, tau: 0.5 };
  const density = (z: number) => Math.sqrt(4 * Math.exp(-4 * (z - 1) ** 2) + 0.5 * Math.exp(-0.5 * z * z));
  let [z0, z1, z2] = [0, 0, 0];
  for (let z = -15; z <= 15; z += 1e-3) {
    const w = density(z);
    z0 += w;
    z1 += w * z;
    z2 += w * z * z;
  }
  const mean = z1 / z0;
  const variance = z2 / z0 - mean * mean;
  const metric = new PosteriorMetric(p);
  try {
    const chains = 3000;
    const res = hmc(riemannianUniform(metric), new Float32Array(chains).fill(1), { stepSize: 0.25, leapfrogSteps: 10, iterations: 80, seed: 2 });
    const m = res.samples.reduce((s, v) => s + v, 0) / chains;
    const v = res.samples.reduce((s, x) => s + (x - m) ** 2, 0) / (chains - 1);
    assert.ok(Math.abs(m - mean) < 4.5 * Math.sqrt(variance / chains), `mean ${m} vs ${mean}`);
    assert.ok(Math.abs(v - variance) < 0.12 * variance, `variance ${v} vs ${variance}`);
    assert.ok(res.acceptanceRate > 0.5);
  } finally {
    metric.dispose();
  }
});

test('hmc rejects bad options and starting points', () => {
  assert.throws(() => hmc(gaussian, new Float32Array(3)), /hmc.init/);
  assert.throws(() => hmc(gaussian, new Float32Array(2), { stepSize: 0 }), /stepSize/);
  assert.throws(() => hmc(gaussian, new Float32Array(2), { leapfrogSteps: 1.5 }), /leapfrogSteps/);
});
