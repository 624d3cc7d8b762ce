/** VAE checkpoints: exact round trip, and clear errors naming the file for damaged ones. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { VaeCheckpointJson, loadCheckpoint, saveCheckpoint } from '../src/lib/models/checkpoint';
import { Vae, VaeConfig } from '../src/lib/models/vae';
import { InputError } from '../src/lib/util/errors';
import { Rng } from '../src/lib/util/rng';
import { setupBackend } from './helpers';

before(setupBackend);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lso-ckpt-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const config: VaeConfig = {
  inputDim: 20,
  latentDim: 2,
  encoder: { hidden: [12], activations: ['relu'] },
  decoder: { hidden: [10], activations: ['tanh'] },
  likelihood: 'gaussian',
  stdDecoder: { hidden: [6], activations: [{ name: 'softplus', beta: 2 }] },
  minStd: 0.01,
  seed: 3,
};

function trainedVae(): Vae {
  const vae = new Vae(config);
  const rng = new Rng(1);
  const batch = Float32Array.from({ length: 16 * 20 }, () => rng.uniform());
  for (let i = 0; i < 3; i++) vae.trainStep(batch, { learningRate: 0.05 });
  vae.disposeTraining();
  return vae;
}

test('save then load gives a VAE with identical outputs and the training record', () => {
  const vae = trainedVae();
  const file = path.join(tmp, 'sub', 'vae.json');
  const history = [{ epoch: 1, loss: 3, reconstruction: 2, kl: 1, klWeight: 1, seconds: 0.5 }];
  saveCheckpoint(file, vae, { epoch: 1, history, training: { epochs: 1 } });
  const before0 = tf.memory().numTensors;
  const l = loadCheckpoint(file);
  assert.equal(tf.memory().numTensors, before0 + vae.variables().length, 'loading adds more than the model');
  assert.equal(l.epoch, 1);
  assert.deepEqual(l.history, history);
  assert.deepEqual(l.training, { epochs: 1 });
  assert.deepEqual(l.vae.config, vae.config);
  const rng = new Rng(2);
  const x = tf.tensor2d(Float32Array.from({ length: 5 * 20 }, () => rng.uniform()), [5, 20]);
  const z = tf.tensor2d(rng.normals(10), [5, 2]);
  tf.tidy(() => {
    assert.deepEqual(l.vae.encode(x).mu.dataSync(), vae.encode(x).mu.dataSync());
    assert.deepEqual(l.vae.decoderMean(z).dataSync(), vae.decoderMean(z).dataSync());
    assert.deepEqual(l.vae.likelihoodStd(z)!.dataSync(), vae.likelihoodStd(z)!.dataSync());
  });
  assert.deepEqual(l.vae.elbo(x, { seed: 1 }), vae.elbo(x, { seed: 1 }));
  tf.dispose([x, z]);
  l.vae.dispose();
  vae.dispose();
});

function expectInputError(file: string, pattern: RegExp): void {
  const live = tf.memory().numTensors;
  assert.throws(
    () => loadCheckpoint(file),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
      assert.ok(e.message.startsWith(file), `the message does not name the file: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
  assert.equal(tf.memory().numTensors, live, 'a failed load left tensors behind');
}

test('damaged checkpoints give an error that names the file and what is wrong', () => {
  const vae = trainedVae();
  const file = path.join(tmp, 'good.json');
  saveCheckpoint(file, vae);
  vae.dispose();
  const text = fs.readFileSync(file, 'utf8');
  const json = JSON.parse(text) as VaeCheckpointJson;
  const write = (name: string, content: string): string => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, content);
    return f;
  };

  expectInputError(write('cut.json', text.slice(0, text.length / 2)), /not valid JSON.*corrupt or cut short/);
  expectInputError(path.join(tmp, 'missing.json'), /cannot read the checkpoint \(ENOENT\)/);

  // One base64 character changed: still valid JSON and base64, caught by the checksum.
  const w = json.weights[1].data;
  const flipped = { ...json, weights: json.weights.map((x, i) => (i === 1 ? { ...x, data: (w[0] === 'A' ? 'B' : 'A') + w.slice(1) } : x)) };
  expectInputError(write('flipped.json', JSON.stringify(flipped)), /sha256: does not match the weights: the checkpoint is corrupt/);

  const truncated = { ...json, weights: json.weights.map((x, i) => (i === 2 ? { ...x, data: x.data.slice(0, 8) } : x)) };
  expectInputError(write('short.json', JSON.stringify(truncated)), /weights\[2\]\.data: holds 6 bytes/);

  const wrongShape = { ...json, weights: json.weights.map((x, i) => (i === 0 ? { ...x, shape: [3, 3] } : x)) };
  expectInputError(write('shape.json', JSON.stringify(wrongShape)), /weights\[0\]\.shape: expected \[20, 12\]/);

  expectInputError(write('format.json', JSON.stringify({ ...json, format: 'other' })), /format: expected "vae-checkpoint\/v1"/);
  expectInputError(write('config.json', JSON.stringify({ ...json, config: { ...json.config, latentDim: -1 } })), /config \(VaeConfig\.latentDim\)/);
});
