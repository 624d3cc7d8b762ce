/** The VAE: hand-written gradients against autodiff, Adam against tf.train.adam, the exported decoder, leaks. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Adam, OFFICIAL_MSE_STD, Vae, VaeConfig, mnistVaeConfig, reconstructionNll, resolveVaeConfig } from '../src/lib/models/vae';
import { InputError } from '../src/lib/util/errors';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, maxRelErr, setupBackend } from './helpers';

before(setupBackend);

const CONFIGS: Record<string, VaeConfig> = {
  'bernoulli relu/tanh/softplus': {
    inputDim: 12,
    latentDim: 2,
    encoder: { hidden: [16, 8], activations: ['relu', 'tanh'] },
    decoder: { hidden: [8, 16], activations: ['tanh', 'softplus'] },
    likelihood: 'bernoulli',
    seed: 1,
  },
  'gaussian elu/sigmoid/softplus(beta 2)': {
    inputDim: 10,
    latentDim: 3,
    encoder: { hidden: [16], activations: ['elu'] },
    decoder: { hidden: [8, 12], activations: ['sigmoid', { name: 'softplus', beta: 2 }] },
    likelihood: 'gaussian',
    stdDecoder: { hidden: [9], activations: ['tanh'] },
    minStd: 0.05,
    seed: 2,
  },
  'gaussian-fixed relu (the official MSE loss)': {
    inputDim: 11,
    latentDim: 3,
    encoder: { hidden: [14], activations: ['relu'] },
    decoder: { hidden: [10], activations: ['relu'] },
    likelihood: 'gaussian-fixed',
    seed: 4,
  },
  'gaussian, no hidden layers': {
    inputDim: 6,
    latentDim: 2,
    encoder: { hidden: [], activations: [] },
    decoder: { hidden: [], activations: [] },
    likelihood: 'gaussian',
    seed: 3,
  },
};

function batch(rng: Rng, b: number, d: number): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from({ length: b * d }, () => rng.uniform()), [b, d]);
}

for (const [name, config] of Object.entries(CONFIGS)) {
  test(`hand-written gradients equal autodiff of the objective (${name})`, async () => {
    const vae = new Vae(config);
    const rng = new Rng(5);
    const x = batch(rng, 9, config.inputDim);
    const eps = tf.tensor2d(rng.normals(9 * config.latentDim), [9, config.latentDim]);
    await expectNoLeak(() =>
      tf.tidy(() => {
        const auto = tf.variableGrads(() => vae.objective(x, eps, 0.7), vae.variables());
        const mine = vae.lossAndGradients(x, eps, 0.7);
        const [lossSum, rec, kl] = Array.from(mine.sums.dataSync());
        assert.ok(Math.abs(lossSum / 9 - auto.value.dataSync()[0]) < 1e-4 * Math.abs(lossSum / 9), 'objective differs');
        assert.ok(Math.abs(lossSum - (rec + 0.7 * kl)) < 1e-3, 'sums are not [loss, rec, kl]');
        vae.namedVariables().forEach(({ name: vname, variable }, i) => {
          const a = auto.grads[variable.name].dataSync();
          const b = mine.grads[i].dataSync();
          let scale = 0;
          a.forEach((v) => (scale = Math.max(scale, Math.abs(v))));
          assert.ok(maxRelErr(b, a, scale) < 1e-4, `${vname}: gradient differs from autodiff by ${maxRelErr(b, a, scale)}`);
        });
      }),
    );
    tf.dispose([x, eps]);
    vae.dispose();
  });
}

test('Adam matches tf.train.adam step by step', () => {
  const start = tf.memory().numTensors;
  const rng = new Rng(9);
  const init = [tf.tensor2d(rng.normals(12), [3, 4]), tf.tensor1d(rng.normals(4))];
  const target = tf.tensor2d(rng.normals(20), [5, 4]);
  const xs = tf.tensor2d(rng.normals(15), [5, 3]);
  const copy = (t: tf.Tensor): tf.Variable => tf.tidy(() => tf.variable(t.clone()));
  const ours = init.map(copy);
  const theirs = init.map(copy);
  const loss = (p: tf.Variable[]): tf.Scalar => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(xs, p[0] as tf.Tensor2D), p[1]), target)));
  const adam = new Adam(ours, { learningRate: 0.05, epsilon: 1e-7 });
  const ref = tf.train.adam(0.05, 0.9, 0.999, 1e-7);
  for (let i = 0; i < 30; i++) {
    tf.tidy(() => adam.step(tf.grads((a: tf.Tensor, b: tf.Tensor) => loss([a, b] as tf.Variable[]))(ours)));
    ref.minimize(() => loss(theirs), false, theirs);
  }
  ours.forEach((v, i) => assert.ok(maxRelErr(v.dataSync(), theirs[i].dataSync(), 1e-3) < 1e-4, `parameter ${i} differs after 30 steps`));
  assert.equal(adam.iterations, 30);
  adam.dispose();
  ref.dispose();
  tf.dispose([...init, target, xs, ...ours, ...theirs]);
  assert.equal(tf.memory().numTensors, start, 'tensors left behind');
});

test('Bernoulli nll (grouped-product log) equals the textbook cross-entropy, also for extreme logits', () => {
  const rng = new Rng(4);
  const logits = Float32Array.from({ length: 3 * 784 }, (_, i) => (i % 97 === 0 ? 60 * (rng.uniform() - 0.5) * 10 : 8 * rng.normal()));
  const x = Float32Array.from({ length: 3 * 784 }, () => rng.uniform());
  const got = tf.tidy(() => reconstructionNll({ kind: 'bernoulli', logits: tf.tensor2d(logits, [3, 784]) }, tf.tensor2d(x, [3, 784]), 0).dataSync());
  for (let b = 0; b < 3; b++) {
    let want = 0;
    for (let j = 0; j < 784; j++) {
      const l = logits[b * 784 + j];
      want += Math.max(l, 0) - l * x[b * 784 + j] + Math.log1p(Math.exp(-Math.abs(l)));
    }
    assert.ok(Math.abs(got[b] - want) < 1e-4 * want, `row ${b}: ${got[b]} vs ${want}`);
  }
});

test('encode, reconstruct, elbo, decoderMean leave no tensors behind; elbo is seeded', async () => {
  const vae = new Vae(mnistVaeConfig({ inputDim: 20, encoder: { hidden: [8], activations: ['relu'] }, decoder: { hidden: [8], activations: ['tanh'] } }));
  const rng = new Rng(1);
  const data = Float32Array.from({ length: 50 * 20 }, () => rng.uniform());
  const x = tf.tensor2d(data, [50, 20]);
  await expectNoLeak(() => {
    tf.dispose(Object.values(vae.encode(x)));
    vae.reconstruct(x).dispose();
    const a = vae.elbo(data, { seed: 3, batchSize: 16 });
    const b = vae.elbo(x, { seed: 3 });
    assert.ok(Math.abs(a.elbo - b.elbo) < 1e-4 * Math.abs(a.elbo), 'same seed, different ELBO');
    assert.ok(Math.abs(a.elbo + a.reconstruction + a.kl) < 1e-6 * Math.abs(a.elbo));
    assert.equal(vae.encodeMeans(data, 7).length, 50 * 2);
  });
  x.dispose();
  vae.dispose();
});

test('trainStep: the training state is the only thing that stays; the loss is read once', async () => {
  const vae = new Vae(mnistVaeConfig({ inputDim: 16, encoder: { hidden: [8], activations: ['relu'] }, decoder: { hidden: [8], activations: ['softplus'] } }));
  const rng = new Rng(2);
  const b = Float32Array.from({ length: 32 * 16 }, () => rng.uniform());
  vae.resetTraining({ learningRate: 1e-2 });
  await expectNoLeak(() => {
    for (let i = 0; i < 5; i++) vae.trainStep(b, { klWeight: 0.5 });
    const t = tf.tensor2d(b, [32, 16]);
    vae.trainStep(t); // a tensor batch works too, and stays the caller's
    assert.ok(!t.isDisposed);
    t.dispose();
  });
  const stats = vae.takeTrainingStats();
  assert.equal(stats.steps, 6);
  assert.equal(stats.examples, 6 * 32);
  assert.ok(Number.isFinite(stats.loss) && stats.loss > 0);
  assert.equal(vae.takeTrainingStats().steps, 0, 'stats are reset after reading');
  const before = tf.memory().numTensors;
  vae.disposeTraining();
  assert.equal(tf.memory().numTensors, before - (2 * vae.variables().length + 1), 'Adam moments and the loss sums are freed');
  vae.dispose();
});

test('decoder(): a snapshot Decoder; Bernoulli mean = sigmoid(logits), Gaussian std = the softplus net', async () => {
  const rng = new Rng(8);
  for (const config of [CONFIGS['bernoulli relu/tanh/softplus'], CONFIGS['gaussian elu/sigmoid/softplus(beta 2)']]) {
    const vae = new Vae(config);
    const z = tf.tensor2d(rng.normals(4 * config.latentDim), [4, config.latentDim]);
    const dec = vae.decoder();
    await expectNoLeak(() =>
      tf.tidy(() => {
        assert.ok(maxRelErr(dec.mean(z).dataSync(), vae.decoderMean(z).dataSync(), 1e-6) < 1e-6);
        const std = dec.std(z);
        if (config.likelihood === 'bernoulli') assert.equal(std, null);
        else assert.ok(maxRelErr(std!.dataSync(), vae.stdNet!.apply(z).dataSync(), 1e-6) < 1e-6);
        assert.equal(dec.meanJet(z).jt.shape.join(), [4, config.latentDim, config.inputDim].join());
      }),
    );
    dec.dispose();
    // The VAE keeps working after its snapshot is gone.
    tf.tidy(() => assert.ok(Number.isFinite(vae.decoderMean(z).dataSync()[0])));
    z.dispose();
    vae.dispose();
  }
});

test('config errors name the field', () => {
  assert.throws(() => new Vae({ ...CONFIGS['gaussian, no hidden layers'], latentDim: 0 }), (e: unknown) => e instanceof InputError && e.where === 'VaeConfig.latentDim');
  assert.throws(
    () => new Vae({ ...CONFIGS['gaussian, no hidden layers'], encoder: { hidden: [4], activations: ['swish' as 'relu'] } }),
    (e: unknown) => e instanceof InputError && e.where === 'VaeConfig.encoder.activations[0]',
  );
  assert.throws(() => new Vae({ ...CONFIGS['gaussian, no hidden layers'], encoder: { hidden: [4], activations: [] } }), /expected 1 activations/);
});

test('gaussian-fixed: nll = ||x - sigmoid(l)||^2 / (2 s^2) + D log(s sqrt(2 pi)); the default s makes it the official summed MSE', async () => {
  const rng = new Rng(21);
  const [b, D] = [5, 7];
  const x = Float32Array.from({ length: b * D }, () => rng.uniform());
  const l = Float32Array.from({ length: b * D }, () => 3 * rng.normal());
  for (const s of [OFFICIAL_MSE_STD, 0.1]) {
    const got = await expectNoLeak(() =>
      tf.tidy(() => Array.from(reconstructionNll({ kind: 'gaussian-fixed', logits: tf.tensor2d(l, [b, D]), sigma: s }, tf.tensor2d(x, [b, D]), 1e-3).dataSync())),
    );
    for (let i = 0; i < b; i++) {
      let sq = 0;
      for (let j = 0; j < D; j++) sq += (x[i * D + j] - 1 / (1 + Math.exp(-l[i * D + j]))) ** 2;
      const want = sq / (2 * s * s) + D * Math.log(s * Math.sqrt(2 * Math.PI));
      assert.ok(Math.abs(got[i] - want) < 1e-4 * Math.max(1, Math.abs(want)), `sigma ${s} row ${i}: ${got[i]} vs ${want}`);
      // sigma = 1/sqrt(2): the summed squared error (F.mse_loss(..., reduction='none').sum()) plus (D/2) log(pi).
      if (s === OFFICIAL_MSE_STD) assert.ok(Math.abs(got[i] - (sq + (D / 2) * Math.log(Math.PI))) < 1e-4);
    }
  }
});

test('gaussian-fixed: the hand-written gradient equals central finite differences of the objective in a random unit direction', () => {
  // tanh, not relu: a finite difference across a relu kink is not a derivative.
  const config: VaeConfig = { ...CONFIGS['gaussian-fixed relu (the official MSE loss)'], encoder: { hidden: [14], activations: ['tanh'] }, decoder: { hidden: [10], activations: ['tanh'] } };
  const vae = new Vae({ ...config, fixedStd: 0.3 });
  const rng = new Rng(22);
  const x = batch(rng, 6, config.inputDim);
  const eps = tf.tensor2d(rng.normals(6 * config.latentDim), [6, config.latentDim]);
  const vars = vae.variables();
  const w0 = vae.getWeights();
  const raw = w0.map((w) => Float32Array.from({ length: w.length }, () => rng.normal()));
  const norm = Math.sqrt(raw.reduce((a, r) => a + r.reduce((b, v) => b + v * v, 0), 0));
  const dirs = raw.map((r) => r.map((v) => v / norm)); // a unit direction
  const { sums, grads } = vae.lossAndGradients(x, eps, 0.01);
  // Directional derivative of the mean objective: sum_i <g_i, v_i>.
  let analytic = 0;
  grads.forEach((g, i) => g.dataSync().forEach((v, k) => (analytic += v * dirs[i][k])));
  tf.dispose([sums, ...grads]);
  const at = (h: number): number => {
    vae.setWeights(w0.map((w, i) => Float32Array.from(w, (v, k) => v + h * dirs[i][k])));
    return tf.tidy(() => vae.objective(x, eps, 0.01).dataSync()[0]);
  };
  const h = 1e-3;
  const numeric = (at(h) - at(-h)) / (2 * h);
  vae.setWeights(w0);
  assert.equal(vars.length, grads.length);
  assert.ok(Math.abs(numeric - analytic) < 3e-2 * Math.abs(analytic), `finite differences ${numeric} vs hand-written ${analytic}`);
  tf.dispose([x, eps]);
  vae.dispose();
});

test('gaussian-fixed: decoder() has mean sigmoid(logits) and a constant std with zero Jacobian; no std net is trained', async () => {
  const config = CONFIGS['gaussian-fixed relu (the official MSE loss)'];
  const vae = new Vae({ ...config, fixedStd: 0.25 });
  assert.equal(vae.stdNet, null);
  assert.equal(vae.config.fixedStd, 0.25);
  assert.ok(vae.namedVariables().every((v) => !v.name.startsWith('std/')));
  const rng = new Rng(23);
  const z = tf.tensor2d(rng.normals(4 * config.latentDim), [4, config.latentDim]);
  const dec = vae.decoder();
  await expectNoLeak(() =>
    tf.tidy(() => {
      assert.ok(maxRelErr(dec.mean(z).dataSync(), tf.sigmoid(vae.meanNet.apply(z)).dataSync(), 1e-6) < 1e-6);
      assert.ok(dec.std(z)!.dataSync().every((v) => Math.abs(v - 0.25) < 1e-6));
      assert.ok(vae.likelihoodStd(z)!.dataSync().every((v) => Math.abs(v - 0.25) < 1e-6));
      const jet = dec.stdJet(z, { withValue: true })!;
      assert.equal(jet.jt.shape.join(), [4, config.latentDim, config.inputDim].join());
      assert.ok(jet.jt.dataSync().every((v) => v === 0));
    }),
  );
  dec.dispose();
  z.dispose();
  vae.dispose();
});

test('fixedStd: resolved for gaussian-fixed only (other configs keep their cache keys); bad values name the field', () => {
  assert.equal(resolveVaeConfig(CONFIGS['bernoulli relu/tanh/softplus']).fixedStd, undefined);
  assert.ok(!('fixedStd' in resolveVaeConfig(CONFIGS['gaussian, no hidden layers'])));
  assert.equal(resolveVaeConfig(CONFIGS['gaussian-fixed relu (the official MSE loss)']).fixedStd, Math.SQRT1_2);
  assert.throws(
    () => new Vae({ ...CONFIGS['gaussian-fixed relu (the official MSE loss)'], fixedStd: -1 }),
    (e: unknown) => e instanceof InputError && e.where === 'VaeConfig.fixedStd',
  );
  assert.throws(() => new Vae({ ...CONFIGS['gaussian, no hidden layers'], likelihood: 'poisson' as 'gaussian' }), /gaussian-fixed/);
});
