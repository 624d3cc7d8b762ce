/**
 * The pieces of issue 14's controls: the GAN's one-sided label smoothing against its closed form, the
 * VAE's frozen std net (its weights do not move while the mean net learns), and the collapse check's
 * measures on cases with known answers.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Gan, resolveGanConfig } from '../src/lib/models/gan';
import { Vae, resolveVaeConfig } from '../src/lib/models/vae';
import { createClassifier } from '../src/lib/evaluation/classifier';
import { classCoverage, collapseCheck, meanPairwiseDistance } from '../src/lib/evaluation/collapse';
import { InputError } from '../src/lib/util/errors';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

const D = 12;
const net = { hidden: [8], activations: ['tanh' as const] };

function uniforms(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform());
}

function softplus(v: number): number {
  return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
}

test('with realLabel t the discriminator loss is mean[t sp(-D(x)) + (1 - t) sp(D(x))] + mean sp(D(G(z)))', async () => {
  const gan = new Gan({ inputDim: D, latentDim: 2, generator: net, discriminator: net, realLabel: 0.9, seed: 3 });
  const x = tf.tensor2d(uniforms(new Rng(1), 16 * D), [16, D]);
  const z = tf.tensor2d(new Rng(2).normals(16 * 2), [16, 2]);
  const loss = await expectNoLeak(() => tf.tidy(() => gan.discriminatorLoss(x, z).dataSync()[0]));
  const real = Array.from(tf.tidy(() => gan.discriminator.apply(x).dataSync()));
  const fake = Array.from(tf.tidy(() => gan.discriminator.apply(gan.generator.apply(z)).dataSync()));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const expected = mean(real.map((l) => 0.9 * softplus(-l) + 0.1 * softplus(l))) + mean(fake.map(softplus));
  assert.ok(Math.abs(loss - expected) < 1e-5, `${loss} vs ${expected}`);
  tf.dispose([x, z]);
  gan.dispose();
});

test('realLabel 1 (or absent) leaves the resolved GAN config as before; a label outside (0, 1] is refused by name', () => {
  const base = { inputDim: D, latentDim: 2, generator: net, discriminator: net };
  assert.equal('realLabel' in resolveGanConfig(base), false);
  assert.equal('realLabel' in resolveGanConfig({ ...base, realLabel: 1 }), false);
  assert.equal(resolveGanConfig({ ...base, realLabel: 0.9 }).realLabel, 0.9);
  assert.throws(() => resolveGanConfig({ ...base, realLabel: 1.5 }), (e: unknown) => e instanceof InputError && /GanConfig\.realLabel/.test(e.message));
});

test('a Gaussian VAE with freezeStd trains its mean net but leaves the std net at its initial weights', async () => {
  const config = { inputDim: D, latentDim: 2, encoder: net, decoder: net, likelihood: 'gaussian' as const, freezeStd: true, seed: 5 };
  assert.equal(resolveVaeConfig(config).freezeStd, true);
  assert.equal('freezeStd' in resolveVaeConfig({ ...config, freezeStd: false }), false, 'false keeps the learned-variance config (and its cache key) as it was');
  const vae = new Vae(config);
  const std0 = vae.stdNet!.variables().map((v) => v.dataSync().slice());
  const mean0 = vae.meanNet.variables().map((v) => v.dataSync().slice());
  const batch = uniforms(new Rng(7), 32 * D);
  await expectNoLeak(() => {
    vae.resetTraining({ learningRate: 1e-2 });
    for (let i = 0; i < 5; i++) vae.trainStep(batch);
    vae.disposeTraining();
  });
  vae.stdNet!.variables().forEach((v, i) => assert.deepEqual(v.dataSync(), std0[i], `std net variable ${i} moved`));
  assert.ok(vae.meanNet.variables().some((v, i) => v.dataSync().some((w, j) => w !== mean0[i][j])), 'the mean net did not learn');
  vae.dispose();
});

test('meanPairwiseDistance and classCoverage on known cases', () => {
  // Three points on a line at 0, 3, 4: distances 3, 4, 1, mean 8/3.
  assert.ok(Math.abs(meanPairwiseDistance(Float32Array.of(0, 0, 3, 0, 4, 0), 2) - 8 / 3) < 1e-6);
  assert.throws(() => meanPairwiseDistance(Float32Array.of(1, 2), 2), InputError);
  const even = classCoverage([0, 1, 2, 3, 0, 1, 2, 3], 10, 0.02);
  assert.ok(Math.abs(even.entropyBits - 2) < 1e-12, 'four equal classes: 2 bits');
  assert.equal(even.covered, 4);
  const one = classCoverage([5, 5, 5, 5, 5, 5, 5, 5, 5, 1], 10, 0.2);
  assert.equal(one.covered, 1, 'class 1 has 10% < 20%');
  assert.deepEqual(one.counts, [0, 1, 0, 0, 0, 9, 0, 0, 0, 0]);
});

test('collapseCheck: one repeated image is collapsed (diversity 0); the data against itself has diversity 1', async () => {
  const classifier = createClassifier(D, { hidden: [6], seed: 1 });
  const data = uniforms(new Rng(3), 40 * D);
  const same = new Float32Array(40 * D);
  for (let i = 0; i < 40; i++) same.set(data.subarray(0, D), i * D);
  const spread = meanPairwiseDistance(data, D);
  const collapsed = await expectNoLeak(() => collapseCheck(same, spread, D, classifier));
  assert.equal(collapsed.diversity_ratio, 0);
  assert.equal(collapsed.classes_covered, 1, 'one image, one predicted class');
  assert.equal(collapsed.class_entropy_bits, 0);
  assert.equal(collapsed.collapsed, true);
  const itself = collapseCheck(data, spread, D, classifier);
  assert.ok(Math.abs(itself.diversity_ratio - 1) < 1e-12);
  classifier.dispose();
});
