/** The RBF precision fit of Latent Space Oddity: bandwidths, W >= 0, sigma at and away from the data. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { RbfFitProblem, fitRbfPrecision, fitVaePrecision, rbfBandwidths } from '../src/lib/models/rbf-fit';
import { trainVae } from '../src/lib/models/train';
import { Vae } from '../src/lib/models/vae';
import { RbfPrecision, disposeRbf, rbfStd } from '../src/lib/nn/rbf';
import { InputError } from '../src/lib/util/errors';
import { Rng } from '../src/lib/util/rng';
import { setupBackend } from './helpers';

before(setupBackend);

test('bandwidths: lambda_k = 1/2 (a * mean distance to the centre)^-2, with a fallback for a zero spread', () => {
  // Cluster 0 around (0, 0): distances 1, 1, 2, 2, mean 1.5. Cluster 1: one point on its centre.
  const latents = Float32Array.from([1, 0, -1, 0, 0, 2, 0, -2, 10, 10]);
  const centers = Float32Array.from([0, 0, 10, 10]);
  const assignments = Int32Array.from([0, 0, 0, 0, 1]);
  const lambda = rbfBandwidths(latents, 2, centers, assignments, 1.25);
  const want = 0.5 / (1.25 * 1.5) ** 2; // 0.142222...
  assert.ok(Math.abs(lambda[0] - want) < 1e-6, `${lambda[0]} vs ${want}`);
  assert.ok(Math.abs(lambda[1] - want) < 1e-6, 'a zero-spread cluster takes the median spread of the others');
  assert.ok(Math.abs(rbfBandwidths(latents, 2, centers, assignments, 2.5)[0] - want / 4) < 1e-6, 'doubling a quarters lambda');
});

/** 600 codes in three blobs; the "true" sigma varies smoothly with z and per output. */
function syntheticProblem(objective: RbfFitProblem['objective'], D = 8): { problem: RbfFitProblem; trueSigma: (z: number[], j: number) => number } {
  const rng = new Rng(1);
  const n = 600;
  const latents = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const b = i % 3;
    latents[2 * i] = 3 * Math.cos(2 * b) + 0.4 * rng.normal();
    latents[2 * i + 1] = 3 * Math.sin(2 * b) + 0.4 * rng.normal();
  }
  const trueSigma = (z: number[], j: number): number => 0.05 * (1 + j / D) * (1.5 + Math.sin(z[0]));
  // For 'elbo', squared residuals drawn from N(0, sigma^2), fixed per row.
  const residual2 = new Float32Array(n * D);
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) residual2[i * D + j] = (trueSigma([latents[2 * i], latents[2 * i + 1]], j) * rng.normal()) ** 2;
  const problem: RbfFitProblem = {
    latents,
    latentDim: 2,
    outputDim: D,
    objective,
    targets: (rows) => {
      const t = new Float32Array(rows.length * D);
      rows.forEach((r, i) => {
        for (let j = 0; j < D; j++) {
          t[i * D + j] = objective === 'log-variance' ? Math.log(trueSigma([latents[2 * r], latents[2 * r + 1]], j) ** 2) : residual2[r * D + j];
        }
      });
      return tf.tensor2d(t, [rows.length, D]);
    },
  };
  return { problem, trueSigma };
}

function minOf(t: tf.Tensor): number {
  return tf.tidy(() => tf.min(t).dataSync()[0]);
}

/** sigma at `points` [P, 2] as a flat array. */
function sigmaAt(rbf: RbfPrecision, points: number[][]): Float32Array {
  return tf.tidy(() => rbfStd(rbf, tf.tensor2d(points.flat(), [points.length, 2])).dataSync() as Float32Array);
}

test('log-variance fit: W >= 0, sigma matches the target at the codes and tends to zeta^-1/2 far away', () => {
  const { problem, trueSigma } = syntheticProblem('log-variance');
  const live = tf.memory().numTensors;
  const { rbf, report } = fitRbfPrecision(problem, { numCenters: 12, iterations: 300, batchSize: 128, seed: 1, zeta: 1e-4 });
  assert.equal(tf.memory().numTensors, live + 3, 'the fit should leave only the net (centres, bandwidths, W)');
  assert.equal(report.iterations, 300);
  assert.ok(report.finalLoss < 0.25 * report.initialLoss, `loss ${report.initialLoss} -> ${report.finalLoss}`);
  assert.ok(minOf(rbf.weightT) >= 0, 'W has negative entries');

  const codes = Array.from({ length: 600 }, (_, i) => [problem.latents[2 * i], problem.latents[2 * i + 1]]);
  const s = sigmaAt(rbf, codes);
  // |log(sigma / true sigma)|; the kernels thin out at the blobs' rims, where sigma grows by design.
  const factors = codes.flatMap((z, i) => Array.from({ length: 8 }, (_, j) => Math.exp(Math.abs(Math.log(s[i * 8 + j] / trueSigma(z, j)))))).sort((a, b) => a - b);
  const median = factors[factors.length >> 1];
  const p90 = factors[Math.floor(0.9 * factors.length)];
  assert.ok(median < 1.3 && p90 < 2, `sigma off by a factor ${median.toFixed(2)} (median), ${p90.toFixed(2)} (90%) at the codes`);
  assert.ok([...s].sort((a, b) => a - b)[s.length >> 1] < 0.3, 'sigma should be small at the training codes');

  const far = sigmaAt(rbf, [
    [60, 60],
    [-80, 10],
  ]);
  far.forEach((v) => assert.ok(Math.abs(v - 1e-4 ** -0.5) < 1e-3 * 100, `sigma far away is ${v}, expected ${1e-4 ** -0.5}`));
  disposeRbf(rbf);
});

test('ELBO fit on residuals: W >= 0, the loss falls, sigma grows away from the data', () => {
  const { problem } = syntheticProblem('elbo');
  const { rbf, report } = fitRbfPrecision(problem, { numCenters: 12, iterations: 200, batchSize: 128, seed: 2 });
  assert.equal(report.objective, 'elbo');
  assert.ok(report.finalLoss < report.initialLoss, `loss ${report.initialLoss} -> ${report.finalLoss}`);
  assert.ok(minOf(rbf.weightT) >= 0);
  const [atData, between, far] = sigmaAt(rbf, [
    [3 * Math.cos(0), 3 * Math.sin(0)],
    [0, 0],
    [100, 0],
  ]).filter((_, i) => i % 8 === 0);
  assert.ok(atData < 0.3 && atData < between && between < far, `sigma ${atData} (data) ${between} (between blobs) ${far} (far)`);
  assert.ok(Math.abs(far - 1000) < 1, 'default zeta 1e-6 gives sigma -> 1000');
  disposeRbf(rbf);
});

test('fitVaePrecision on a trained Gaussian VAE plugs into its decoder; a Bernoulli VAE needs the elbo objective', async () => {
  const rng = new Rng(3);
  const D = 16;
  const data = Float32Array.from({ length: 500 * D }, (_, i) => 0.5 + 0.4 * Math.sin(i % D) * Math.tanh(rng.normal()));
  const vae = new Vae({ inputDim: D, latentDim: 2, encoder: { hidden: [16], activations: ['relu'] }, decoder: { hidden: [16], activations: ['tanh'] }, likelihood: 'gaussian', seed: 1 });
  await trainVae(vae, data, { epochs: 3, batchSize: 50, learningRate: 3e-3 }, { progress: false });
  const live = tf.memory().numTensors;
  const { rbf, report, latents } = fitVaePrecision(vae, data, { numCenters: 8, iterations: 100, batchSize: 100 });
  assert.equal(report.objective, 'log-variance');
  assert.equal(latents.length, 500 * 2);
  assert.ok(report.finalLoss < report.initialLoss);
  const dec = vae.decoder();
  dec.setStdModel({ kind: 'rbf', rbf });
  tf.tidy(() => {
    const s = dec.std(tf.tensor2d([latents[0], latents[1], 1e3, 1e3], [2, 2]))!.dataSync();
    assert.ok(s[0] < 1, `sigma at a code: ${s[0]}`);
    assert.ok(Math.abs(s[D] - 1000) < 1, `sigma far away: ${s[D]}`);
    assert.equal(dec.stdJet(tf.tensor2d([0, 0], [1, 2]))!.jt.shape.join(), [1, 2, D].join());
  });
  dec.dispose();
  assert.equal(tf.memory().numTensors, live, 'tensors left after disposing the decoder and its RBF net');
  vae.dispose();

  const bern = new Vae({ inputDim: D, latentDim: 2, encoder: { hidden: [8], activations: ['relu'] }, decoder: { hidden: [8], activations: ['tanh'] }, likelihood: 'bernoulli' });
  assert.throws(() => fitVaePrecision(bern, data, { objective: 'log-variance' }), (e: unknown) => e instanceof InputError && /Bernoulli/.test(e.message));
  const fit = fitVaePrecision(bern, data, { numCenters: 6, iterations: 50 });
  assert.equal(fit.report.objective, 'elbo');
  assert.ok(minOf(fit.rbf.weightT) >= 0);
  disposeRbf(fit.rbf);
  bern.dispose();
});
