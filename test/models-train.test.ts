/** The trainer: the ELBO improves, KL warm-up, early stopping, checkpoints, the model cache, no leaks. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint } from '../src/lib/models/checkpoint';
import { EpochRecord, ExperimentConfig, LrPlateau, cacheKey, klWeightAt, resolveTrainConfig, trainOrLoad, trainVae } from '../src/lib/models/train';
import { Vae, VaeConfig } from '../src/lib/models/vae';
import { InputError } from '../src/lib/util/errors';
import { Rng } from '../src/lib/util/rng';
import { setupBackend } from './helpers';

before(setupBackend);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lso-train-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const D = 64;

/** N points in [0, 1]^D on a curved 2-D sheet: x = sigmoid(A tanh(B u)) with u from three blobs. */
function sheetData(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const structure = new Rng(1234); // the same sheet for every call
  const B = structure.normals(8 * 2);
  const A = structure.normals(D * 8).map((v) => 2 * v);
  const out = new Float32Array(n * D);
  const h = new Float64Array(8);
  for (let i = 0; i < n; i++) {
    const blob = rng.int(3);
    const u = [Math.cos((2 * Math.PI * blob) / 3) + 0.3 * rng.normal(), Math.sin((2 * Math.PI * blob) / 3) + 0.3 * rng.normal()];
    for (let k = 0; k < 8; k++) h[k] = Math.tanh(B[2 * k] * u[0] + B[2 * k + 1] * u[1]);
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let k = 0; k < 8; k++) s += A[j * 8 + k] * h[k];
      out[i * D + j] = 1 / (1 + Math.exp(-s));
    }
  }
  return out;
}

const model: VaeConfig = {
  inputDim: D,
  latentDim: 2,
  encoder: { hidden: [32, 16], activations: ['relu', 'tanh'] },
  decoder: { hidden: [16, 32], activations: ['tanh', 'softplus'] },
  likelihood: 'bernoulli',
  seed: 7,
};
const train = sheetData(2000, 1);
const validation = sheetData(400, 2);

test('the ELBO improves over a few epochs, and training leaves only the model behind', async () => {
  const vae = new Vae(model);
  const before0 = vae.elbo(validation, { seed: 1 });
  const live = tf.memory().numTensors;
  const result = await trainVae(vae, train, { epochs: 4, batchSize: 64, learningRate: 3e-3, seed: 1 }, { validation, progress: false });
  assert.equal(tf.memory().numTensors, live, 'tensors left after training');
  const h = result.history;
  assert.equal(h.length, 4);
  assert.ok(h[3].loss < h[0].loss, `training loss did not fall: ${h.map((r) => r.loss.toFixed(2)).join(' -> ')}`);
  assert.ok(h[3].val_loss! < h[0].val_loss!, 'validation loss did not fall');
  const after0 = vae.elbo(validation, { seed: 1 });
  assert.ok(after0.elbo > before0.elbo + 1, `ELBO ${before0.elbo.toFixed(2)} -> ${after0.elbo.toFixed(2)}`);
  for (const r of h) {
    assert.ok(r.seconds >= 0 && Number.isFinite(r.reconstruction) && r.kl >= 0);
    assert.ok(Math.abs(r.loss - (r.reconstruction + r.kl)) < 1e-3 * r.loss, 'without warm-up, loss = reconstruction + kl');
  }
  vae.dispose();
});

test('training is reproducible from the seeds', async () => {
  const run = async (): Promise<Float32Array[]> => {
    const vae = new Vae(model);
    await trainVae(vae, train.subarray(0, 300 * D), { epochs: 1, batchSize: 50, seed: 3 }, { progress: false });
    const w = vae.getWeights();
    vae.dispose();
    return w;
  };
  const [a, b] = [await run(), await run()];
  a.forEach((w, i) => assert.deepEqual(w, b[i]));
});

test('KL warm-up: the weight rises linearly per step from 0 to beta over the warm-up epochs', async () => {
  assert.equal(klWeightAt(0, 10, 2, 1), 0);
  assert.equal(klWeightAt(5, 10, 2, 1), 0.25);
  assert.equal(klWeightAt(19, 10, 2, 2), 1.9);
  assert.equal(klWeightAt(20, 10, 2, 2), 2);
  assert.equal(klWeightAt(500, 10, 2, 2), 2);
  assert.equal(klWeightAt(0, 10, 0, 0.5), 0.5);

  const vae = new Vae(model);
  const n = 400;
  const res = await trainVae(vae, train.subarray(0, n * D), { epochs: 3, batchSize: 100, klWarmupEpochs: 2, seed: 1 }, { progress: false });
  // 4 steps an epoch; the record holds the weight of the epoch's last step.
  assert.deepEqual(res.history.map((r: EpochRecord) => r.klWeight), [3 / 8, 7 / 8, 1]);
  // During warm-up the objective weighs the KL less than the full ELBO does.
  assert.ok(res.history[0].loss < res.history[0].reconstruction + res.history[0].kl);
  vae.dispose();
});

test('early stopping restores the best epoch and checkpoints are written atomically', async () => {
  const vae = new Vae(model);
  const file = path.join(tmp, 'early.json');
  let epoch1: Float32Array[] = [];
  // minDelta this large means no epoch after the first counts as an improvement.
  const res = await trainVae(
    vae,
    train.subarray(0, 500 * D),
    { epochs: 10, batchSize: 100, seed: 2, patience: 2, minDelta: 1e9 },
    { validation, progress: false, checkpoint: { file }, onEpoch: (r) => r.epoch === 1 && (epoch1 = vae.getWeights()) },
  );
  assert.ok(res.stoppedEarly);
  assert.equal(res.history.length, 3);
  assert.equal(res.bestEpoch, 1);
  vae.getWeights().forEach((w, i) => assert.deepEqual(w, epoch1[i], 'the best weights were not restored'));
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('early')), ['early.json'], 'a temporary file was left');
  const loaded = loadCheckpoint(file);
  assert.equal(loaded.epoch, 1);
  assert.equal(loaded.history.length, 3);
  loaded.vae.getWeights().forEach((w, i) => assert.deepEqual(w, epoch1[i]));
  loaded.vae.dispose();
  vae.dispose();
});

test('early stopping without validation data is an input error', async () => {
  const vae = new Vae(model);
  await assert.rejects(trainVae(vae, train, { epochs: 1, patience: 1 }, { progress: false }), (e: unknown) => e instanceof InputError && /validation/.test(e.message));
  await assert.rejects(trainVae(vae, train.subarray(0, 10), { epochs: 1 }, { progress: false }), /rows of 64/);
  vae.dispose();
});

test('trainOrLoad trains once, then reloads from the cache (and says so)', async () => {
  const config: ExperimentConfig = { model, training: { epochs: 2, batchSize: 100, seed: 4 } };
  const data = train.subarray(0, 600 * D);
  const cacheDir = path.join(tmp, 'cache');
  const lines: string[] = [];
  const log = (l: string): void => void lines.push(l);

  const t0 = Date.now();
  const first = await trainOrLoad(config, data, { cacheDir, log, progress: false });
  const trainMs = Date.now() - t0;
  assert.equal(first.fromCache, false);
  assert.ok(fs.existsSync(first.file));

  const live = tf.memory().numTensors;
  const t1 = Date.now();
  const second = await trainOrLoad({ training: { seed: 4, batchSize: 100, epochs: 2 }, model: { ...model } }, Float32Array.from(data), { cacheDir, log, progress: false });
  const loadMs = Date.now() - t1;
  assert.equal(second.fromCache, true);
  assert.equal(second.file, first.file);
  assert.match(lines[1], /loaded the cached VAE/);
  assert.ok(loadMs < trainMs, `loading (${loadMs} ms) is not faster than training (${trainMs} ms)`);
  assert.deepEqual(second.history, first.history);
  second.vae.getWeights().forEach((w, i) => assert.deepEqual(w, first.vae.getWeights()[i]));
  assert.equal(tf.memory().numTensors, live + second.vae.variables().length, 'loading left more than the model');

  // A different config or different data is a different model.
  assert.notEqual(cacheKey({ ...config, training: { ...config.training, epochs: 3 } }, data), first.key);
  const other = Float32Array.from(data);
  other[5] += 1e-3;
  assert.notEqual(cacheKey(config, other), first.key);

  // A damaged cache file is reported and replaced.
  fs.writeFileSync(first.file, '{"format": "vae-checkpoint/v1", "weights": [');
  const third = await trainOrLoad(config, data, { cacheDir, log, progress: false });
  assert.equal(third.fromCache, false);
  assert.match(lines.join('\n'), /ignoring an unusable cache file .*not valid JSON/);
  for (const r of [first, second, third]) r.vae.dispose();
});

test('LrPlateau follows torch ReduceLROnPlateau (mode min, rel threshold 1e-4): halves after more than `patience` flat epochs', () => {
  const p = new LrPlateau({ factor: 0.5, patience: 2 }, 1e-3);
  // 10 improves, 9 improves, then flat (8.9995 is within the 1e-4 relative threshold of 9, so not better).
  const vals = [10, 9, 9, 8.9995, 9, 9, 9, 9, 5, 5];
  const rates = vals.map((v) => p.step(v));
  // torch: num_bad_epochs > patience at the 3rd flat epoch (epoch 5) and again 3 epochs later (epoch 8).
  assert.deepEqual(rates, [1e-3, 1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 5e-4, 2.5e-4, 2.5e-4, 2.5e-4]);
  assert.throws(() => resolveTrainConfig({ epochs: 1, lrPlateau: { factor: 2, patience: 5 } }), (e: unknown) => e instanceof InputError && e.where === 'TrainConfig.lrPlateau.factor');
});

test('keepBest restores the best validation epoch without stopping early; lrPlateau lowers the rate; old configs keep their keys', async () => {
  const vae = new Vae(model);
  let epoch1: Float32Array[] = [];
  const res = await trainVae(
    vae,
    train.subarray(0, 500 * D),
    { epochs: 4, batchSize: 100, seed: 2, keepBest: true, minDelta: 1e9, lrPlateau: { factor: 0.5, patience: 0, threshold: 0.9 } },
    { validation, progress: false, onEpoch: (r) => r.epoch === 1 && (epoch1 = vae.getWeights()) },
  );
  assert.equal(res.stoppedEarly, false);
  assert.equal(res.history.length, 4);
  assert.equal(res.bestEpoch, 1);
  vae.getWeights().forEach((w, i) => assert.deepEqual(w, epoch1[i], 'the best weights were not restored'));
  // threshold 0.9: no later epoch beats 10% of the first one's loss, so with patience 0 the rate halves after
  // every epoch but the first (which always improves on +infinity).
  assert.deepEqual(res.history.map((r) => r.learningRate), [1e-3, 1e-3, 5e-4, 2.5e-4]);
  await assert.rejects(trainVae(vae, train, { epochs: 1, keepBest: true }, { progress: false }), (e: unknown) => e instanceof InputError && e.where === 'TrainConfig.keepBest');
  const plain = resolveTrainConfig({ epochs: 3, patience: 2 });
  assert.ok(!('keepBest' in plain) && !('lrPlateau' in plain));
  vae.dispose();
});
