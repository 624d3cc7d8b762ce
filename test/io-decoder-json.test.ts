/** decoder-json/v1: round trips, the shared fixture, and errors that name the key path without leaking tensors. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { DecoderJson, decoderFromJson, decoderToJson, readDecoderJson } from '../src/lib/io/decoder-json';
import { GaussianDecoder, StdModel } from '../src/lib/models/decoder';
import { createMlp } from '../src/lib/nn/mlp';
import { RbfPrecision } from '../src/lib/nn/rbf';
import { InputError } from '../src/lib/util/errors';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, fixtureSkip, setupBackend, sharedFixture } from './helpers';

before(setupBackend);

const D = 3;
const OUT = 7;

function rbf(rng: Rng, k = 5): RbfPrecision {
  return {
    centers: tf.tensor2d(rng.normals(k * D), [k, D]),
    bandwidths: tf.tensor1d(Float32Array.from({ length: k }, () => 0.5 + rng.uniform())),
    weightT: tf.variable(tf.tensor2d(Float32Array.from({ length: k * OUT }, () => rng.uniform()), [k, OUT])),
    zeta: 1e-3,
  };
}

function decoderWith(std: 'none' | 'net' | 'rbf', seed = 1): GaussianDecoder {
  const rng = new Rng(seed);
  const mean = createMlp({ sizes: [D, 8, OUT], activations: ['tanh', 'sigmoid'] }, rng);
  const model: StdModel =
    std === 'net'
      ? { kind: 'net', net: createMlp({ sizes: [D, 6, OUT], activations: ['elu', { name: 'softplus', beta: 2, threshold: 10 }] }, rng) }
      : std === 'rbf'
        ? { kind: 'rbf', rbf: rbf(rng) }
        : { kind: 'none' };
  return new GaussianDecoder(mean, model);
}

/** A small valid decoder-json (RBF precision net) to break in the error tests. */
function validJson(): DecoderJson {
  const dec = decoderWith('rbf');
  const json = JSON.parse(JSON.stringify(decoderToJson(dec))) as DecoderJson;
  dec.dispose();
  return json;
}

function outputs(dec: GaussianDecoder, z: tf.Tensor2D): { mean: Float32Array; std: Float32Array | null } {
  const [mean, std] = [dec.mean(z), dec.std(z)];
  const out = { mean: mean.dataSync() as Float32Array, std: (std?.dataSync() as Float32Array | undefined) ?? null };
  tf.dispose([mean, ...(std ? [std] : [])]);
  return out;
}

for (const std of ['none', 'net', 'rbf'] as const) {
  test(`round trip through JSON text keeps mean and std outputs identical (std model ${std})`, async () => {
    const dec = decoderWith(std);
    const codes = new Rng(9).normals(4 * D);
    const text = JSON.stringify(decoderToJson(dec, { description: 'test', latentCodes: codes }));
    const back = decoderFromJson(JSON.parse(text), 'roundtrip.json');
    const z = tf.tensor2d(new Rng(5).normals(16 * D), [16, D]);
    const [a, b] = [outputs(dec, z), outputs(back.decoder, z)];
    assert.deepEqual(b.mean, a.mean);
    assert.deepEqual(b.std, a.std);
    assert.equal(back.decoder.stdModel.kind, std);
    assert.deepEqual(back.latentCodes, codes);
    assert.equal(back.description, 'test');
    z.dispose();
    dec.dispose();
    back.decoder.dispose();
  });
}

test('a decoder read from JSON and disposed leaves no tensors behind', async () => {
  const json = validJson();
  await expectNoLeak(() => decoderFromJson(json, 'ok.json').decoder.dispose());
});

test('the shared MNIST fixture loads', { skip: fixtureSkip('lso-mnist-decoder.json') }, () => {
  const loaded = readDecoderJson(sharedFixture('lso-mnist-decoder.json')!);
  assert.equal(loaded.decoder.latentDim, 2);
  assert.equal(loaded.decoder.outputDim, 784);
  assert.equal(loaded.decoder.stdModel.kind, 'rbf');
  assert.equal(loaded.latentCodes?.length, 16640 * 2);
  loaded.decoder.dispose();
});

/** Each case breaks the valid JSON one way; the error must name `path` and say what was expected. */
const BROKEN: { what: string; path: string; expect: RegExp; edit: (j: Record<string, any>) => void }[] = [
  { what: 'wrong format string', path: 'format', expect: /decoder-json\/v1/, edit: (j) => (j.format = 'decoder-json/v2') },
  { what: 'missing mean_net', path: 'mean_net', expect: /expected an object/, edit: (j) => delete j.mean_net },
  { what: 'bad layer kind', path: 'mean_net.layers[1].kind', expect: /"linear" or "activation"/, edit: (j) => (j.mean_net.layers[1].kind = 'conv') },
  { what: 'wrong weight shape', path: 'mean_net.layers[2].weight[0]', expect: /expected 8 numbers, got 9/, edit: (j) => j.mean_net.layers[2].weight[0].push(0) },
  { what: 'bias of the wrong length', path: 'mean_net.layers[0].bias', expect: /expected 8 numbers/, edit: (j) => j.mean_net.layers[0].bias.pop() },
  { what: 'negative RBF weight', path: 'precision_net.weight[2][3]', expect: />= 0/, edit: (j) => (j.precision_net.weight[2][3] = -0.5) },
  { what: 'unknown activation name', path: 'mean_net.layers[3].name', expect: /one of tanh, sigmoid/, edit: (j) => (j.mean_net.layers[3].name = 'swish') },
  { what: 'non-number weight', path: 'mean_net.layers[2].weight[1][4]', expect: /finite number, got null/, edit: (j) => (j.mean_net.layers[2].weight[1][4] = null) },
  { what: 'output width that does not match output_dim', path: 'output_dim', expect: /./, edit: (j) => (j.output_dim = 5) },
];

for (const b of BROKEN) {
  test(`decoderFromJson: ${b.what} is an InputError naming ${b.path}, and leaks no tensors`, async () => {
    const json = validJson() as unknown as Record<string, any>;
    b.edit(json);
    await expectNoLeak(() => {
      assert.throws(
        () => decoderFromJson(json, 'broken.json'),
        (err: unknown) => {
          assert.ok(err instanceof InputError, `not an InputError: ${String(err)}`);
          assert.ok(err.message.startsWith('broken.json: '), err.message);
          if (b.path !== 'output_dim') assert.ok(err.message.includes(`: ${b.path}: `), `${err.message} does not name ${b.path}`);
          assert.match(err.message, b.expect);
          assert.ok(!err.message.includes('\n'), 'the message must be one line');
          return true;
        },
      );
    });
  });
}

test('readDecoderJson: a missing file is an InputError naming the file', () => {
  assert.throws(() => readDecoderJson('/nonexistent/decoder.json'), (e: unknown) => e instanceof InputError && e.message.startsWith('/nonexistent/decoder.json: '));
});
