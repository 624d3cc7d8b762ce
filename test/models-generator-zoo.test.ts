/**
 * The generator zoo: the denoising autoencoder learns, a GAN step moves both players the right way, both
 * generators as Decoders have forward-mode Jacobians equal to finite differences and survive a
 * decoder-json round trip, the model cache reloads what it trained, and nothing leaks.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Dae, DaeConfig, trainDaeOrLoad } from '../src/lib/models/dae';
import { Gan, GanConfig } from '../src/lib/models/gan';
import { trainModel, zooNets } from '../src/lib/models/generator-zoo';
import { GaussianDecoder } from '../src/lib/models/decoder';
import { readDecoderJson, writeDecoderJson } from '../src/lib/io/decoder-json';
import { InputError } from '../src/lib/util/errors';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lso-zoo-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const D = 32;

/** N rows in [0, 1]^D on a curved 2-D sheet, x = sigmoid(A tanh(B u)), u from three blobs (seeded). */
function sheetData(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const structure = new Rng(99);
  const B = structure.normals(6 * 2);
  const A = structure.normals(D * 6).map((v) => 2 * v);
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const blob = rng.int(3);
    const u = [Math.cos((2 * Math.PI * blob) / 3) + 0.3 * rng.normal(), Math.sin((2 * Math.PI * blob) / 3) + 0.3 * rng.normal()];
    const h = Array.from({ length: 6 }, (_, k) => Math.tanh(B[2 * k] * u[0] + B[2 * k + 1] * u[1]));
    for (let j = 0; j < D; j++) out[i * D + j] = 1 / (1 + Math.exp(-h.reduce((s, hk, k) => s + A[j * 6 + k] * hk, 0)));
  }
  return out;
}

const data = sheetData(600, 1);
const nets = zooNets({ hidden: [32, 16], activation: 'tanh' });
const daeConfig: DaeConfig = { inputDim: D, latentDim: 2, encoder: nets.dataSide, decoder: nets.generator, noiseStd: 0.2, seed: 3 };
const ganConfig: GanConfig = { inputDim: D, latentDim: 2, generator: nets.generator, discriminator: nets.dataSide, seed: 3 };

/** max |J_fd - J| / max |J| over a batch: J from meanJet [B, d, D], J_fd by central differences of mean(). */
function jacobianError(dec: GaussianDecoder, z: Float32Array, h = 1e-2): number {
  const d = dec.latentDim;
  const b = z.length / d;
  const jt = tf.tidy(() => dec.meanJet(tf.tensor2d(z, [b, d])).jt.arraySync());
  let worst = 0;
  let scale = 0;
  for (let k = 0; k < d; k++) {
    const shifted = (sign: number) => {
      const zz = Float32Array.from(z);
      for (let i = 0; i < b; i++) zz[i * d + k] += sign * h;
      return tf.tidy(() => dec.mean(tf.tensor2d(zz, [b, d])).arraySync());
    };
    const [plus, minus] = [shifted(1), shifted(-1)];
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < dec.outputDim; j++) {
        const fd = (plus[i][j] - minus[i][j]) / (2 * h);
        worst = Math.max(worst, Math.abs(fd - jt[i][k][j]));
        scale = Math.max(scale, Math.abs(jt[i][k][j]));
      }
    }
  }
  return worst / scale;
}

/** A decoder-json round trip: the file's decoder gives the same means and is deterministic too. */
function assertJsonRoundTrip(dec: GaussianDecoder, file: string): void {
  writeDecoderJson(file, dec, { description: 'zoo test' });
  const back = readDecoderJson(file).decoder;
  const z = new Rng(5).normals(20 * 2);
  const [a, b] = tf.tidy(() => [dec.mean(tf.tensor2d(z, [20, 2])).dataSync(), back.mean(tf.tensor2d(z, [20, 2])).dataSync()]);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `output ${i}: ${a[i]} vs ${b[i]}`);
  assert.equal(back.stdModel.kind, 'none');
  const z0 = tf.zeros([1, 2]) as tf.Tensor2D;
  assert.equal(back.std(z0), null);
  z0.dispose();
  back.dispose();
}

test('the DAE loss decreases on small data, and training leaves only the model behind', async () => {
  const dae = new Dae(daeConfig);
  const live = tf.memory().numTensors;
  const res = await trainModel(dae, data, { epochs: 6, batchSize: 50, learningRate: 3e-3, seed: 1 }, { progress: false });
  assert.equal(tf.memory().numTensors, live, 'tensors left after training');
  const losses = res.history.map((r) => r.loss);
  assert.ok(losses[5] < 0.97 * losses[0], `loss did not fall: ${losses.map((l) => l.toFixed(3)).join(' -> ')}`);
  // The clean reconstruction error falls below that of the constant mean image.
  const mse = tf.tidy(() => {
    const x = tf.tensor2d(data, [600, D]);
    return [tf.mean(tf.square(tf.sub(dae.reconstruct(x), x))).dataSync()[0], tf.mean(tf.square(tf.sub(x, tf.mean(x, 0)))).dataSync()[0]];
  });
  assert.ok(mse[0] < 0.8 * mse[1], `reconstruction MSE ${mse[0]} vs variance ${mse[1]}`);
  dae.dispose();
});

test('a GAN discriminator step lowers its loss with the generator frozen, and a generator step lowers the generator loss', async () => {
  await expectNoLeak(() => {
    const gan = new Gan(ganConfig);
    gan.resetTraining({ learningRate: 1e-2, beta1: 0.5, beta2: 0.99 });
    const x = tf.tensor2d(data.subarray(0, 128 * D), [128, D]);
    const z = tf.tensor2d(new Rng(4).normals(128 * 2), [128, 2]);
    const gWeights = gan.generator.variables().map((v) => v.dataSync().slice());
    const dBefore = tf.tidy(() => gan.discriminatorLoss(x, z).dataSync()[0]);
    for (let i = 0; i < 10; i++) gan.discriminatorStep(x, z).dispose();
    const dAfter = tf.tidy(() => gan.discriminatorLoss(x, z).dataSync()[0]);
    assert.ok(dAfter < dBefore - 0.05, `discriminator loss ${dBefore} -> ${dAfter}`);
    gan.generator.variables().forEach((v, i) => assert.deepEqual(v.dataSync(), gWeights[i], 'the discriminator step changed the generator'));

    const dWeights = gan.discriminator.variables().map((v) => v.dataSync().slice());
    const gBefore = tf.tidy(() => gan.generatorLoss(z).dataSync()[0]);
    for (let i = 0; i < 10; i++) gan.generatorStep(z).dispose();
    const gAfter = tf.tidy(() => gan.generatorLoss(z).dataSync()[0]);
    assert.ok(gAfter < gBefore - 0.05, `generator loss ${gBefore} -> ${gAfter}`);
    gan.discriminator.variables().forEach((v, i) => assert.deepEqual(v.dataSync(), dWeights[i], 'the generator step changed the discriminator'));
    tf.dispose([x, z]);
    gan.dispose(); // with its optimiser state
  });
});

test('GAN training records the two objectives and D(x) in (0, 1) each epoch', async () => {
  const gan = new Gan(ganConfig);
  const live = tf.memory().numTensors;
  const res = await trainModel(gan, data, { epochs: 2, batchSize: 100, learningRate: 2e-3, adam: { beta1: 0.5, beta2: 0.99 }, seed: 1 }, { progress: false });
  assert.equal(tf.memory().numTensors, live);
  for (const r of res.history) {
    assert.deepEqual(Object.keys(r).sort(), ['d_fake', 'd_loss', 'd_real', 'epoch', 'g_loss', 'seconds']);
    assert.ok(r.d_real > 0 && r.d_real < 1 && r.d_fake > 0 && r.d_fake < 1);
    // With D(x) = p on real and q on fake rows, the loss is at least -log p - log(1 - q) by Jensen.
    assert.ok(r.d_loss >= -Math.log(r.d_real) - Math.log(1 - r.d_fake) - 1e-3);
  }
  gan.dispose();
});

test('both generators as Decoders: forward-mode Jacobians equal finite differences', async () => {
  const dae = new Dae(daeConfig);
  const gan = new Gan(ganConfig);
  const z = new Rng(7).normals(6 * 2);
  await expectNoLeak(() => {
    for (const dec of [dae.decoder(), gan.decoder()]) {
      assert.equal(dec.stdModel.kind, 'none');
      const err = jacobianError(dec, z);
      assert.ok(err < 2e-3, `relative Jacobian error ${err}`);
      dec.dispose();
    }
  });
  // The DAE generator is sigmoid(decoder(z)), the decoder net's logits squashed.
  const dec = dae.decoder();
  const [p, logits] = tf.tidy(() => [dec.mean(tf.tensor2d(z, [6, 2])).dataSync(), dae.decoderNet.apply(tf.tensor2d(z, [6, 2])).dataSync()]);
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - 1 / (1 + Math.exp(-logits[i]))) < 1e-6);
  dec.dispose();
  dae.dispose();
  gan.dispose();
});

test('decoder-json round trip of a DAE and a GAN generator; the snapshot outlives its model', async () => {
  const dae = new Dae(daeConfig);
  const gan = new Gan(ganConfig);
  const decs = [dae.decoder(), gan.decoder()];
  dae.dispose();
  gan.dispose();
  await expectNoLeak(() => {
    assertJsonRoundTrip(decs[0], path.join(tmp, 'dae.json'));
    assertJsonRoundTrip(decs[1], path.join(tmp, 'gan.json'));
  });
  decs.forEach((d) => d.dispose());
});

test('the zoo cache trains a DAE once, then reloads it; a corrupt file is replaced', async () => {
  const cacheDir = path.join(tmp, 'cache');
  const lines: string[] = [];
  const opts = { cacheDir, log: (l: string) => void lines.push(l), progress: false as const };
  const training = { epochs: 1, batchSize: 100, seed: 2 };
  const first = await trainDaeOrLoad(daeConfig, training, data, opts);
  assert.equal(first.fromCache, false);
  const live = tf.memory().numTensors;
  const second = await trainDaeOrLoad({ ...daeConfig }, { ...training }, Float32Array.from(data), opts);
  assert.equal(second.fromCache, true);
  assert.match(lines[1], /loaded from/);
  assert.equal(tf.memory().numTensors, live + second.model.variables().length, 'loading left more than the model');
  second.model.variables().forEach((v, i) => assert.deepEqual(v.dataSync(), first.model.variables()[i].dataSync()));
  assert.deepEqual(second.history, first.history);
  // Another noise level is another model.
  assert.notEqual((await trainDaeOrLoad({ ...daeConfig, noiseStd: 0.1 }, training, data, opts)).key, first.key);

  const text = fs.readFileSync(first.file, 'utf8');
  fs.writeFileSync(first.file, text.replace(/"data":"[A-Za-z]/, '"data":"+'));
  const third = await trainDaeOrLoad(daeConfig, training, data, opts);
  assert.equal(third.fromCache, false);
  assert.match(lines.join('\n'), /ignoring an unusable cache file .*sha256/);
  for (const r of [first, second, third]) r.model.dispose();
});

test('config errors name the field', () => {
  assert.throws(() => new Dae({ ...daeConfig, noiseStd: -1 }), (e: unknown) => e instanceof InputError && /DaeConfig\.noiseStd/.test(e.message));
  assert.throws(() => new Gan({ ...ganConfig, generator: { hidden: [8], activations: [] } }), (e: unknown) => e instanceof InputError && /GanConfig\.generator\.activations/.test(e.message));
});
