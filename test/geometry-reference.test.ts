/**
 * The expected metric against the Latent Space Oddity authors' own float64 implementation on their trained
 * MNIST decoder (../shared/fixtures): a correct float32 implementation agrees to about 1e-4 relative.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { readDecoderJson } from '../src/lib/io/decoder-json';
import { expectedMetric } from '../src/lib/geometry/decoder-metric';
import { fieldsAt, metricTensors } from '../src/lib/geometry/fields';
import { expectNoLeak, fixtureSkip, maxRelErr, setupBackend, sharedFixture } from './helpers';

const DEC = 'lso-mnist-decoder.json';
const REF = 'lso-mnist-metric-reference.json';

before(setupBackend);

test('expected metric matches the authors reference to 1e-4 relative', { skip: fixtureSkip(DEC) || fixtureSkip(REF) }, async () => {
  const ref = JSON.parse(fs.readFileSync(sharedFixture(REF)!, 'utf8'));
  const { decoder } = readDecoderJson(sharedFixture(DEC)!);
  const metric = expectedMetric(decoder);
  const pts = Float32Array.from(ref.points.flat());
  const g = await expectNoLeak(() => metricTensors(metric, pts));
  const want = Float64Array.from(ref.metric.flat(2));
  // Relative to the scale of each 2x2 matrix: off-diagonal entries may be small against the diagonal.
  for (let i = 0; i < ref.points.length; i++) {
    const got = g.subarray(4 * i, 4 * i + 4);
    const exp = want.subarray(4 * i, 4 * i + 4);
    const scale = Math.max(...Array.from(exp, Math.abs));
    const err = Math.max(...Array.from(exp, (e, j) => Math.abs(got[j] - e))) / scale;
    assert.ok(err < 1e-4, `point ${JSON.stringify(ref.points[i])}: relative error ${err.toExponential(2)}; got ${Array.from(got)} want ${Array.from(exp)}`);
  }
  const vol = fieldsAt(metric, pts).volume;
  assert.ok(maxRelErr(vol, ref.volume) < 1e-4, `volume ${Array.from(vol)} vs ${ref.volume}`);
  decoder.dispose();
});

test('sigma(0) spans the reference range and tends to zeta^(-1/2) far away', { skip: fixtureSkip(DEC) || fixtureSkip(REF) }, async () => {
  const ref = JSON.parse(fs.readFileSync(sharedFixture(REF)!, 'utf8'));
  const { decoder } = readDecoderJson(sharedFixture(DEC)!);
  const s0 = tf.tidy(() => decoder.std(tf.zeros([1, 2]))!.dataSync());
  const min = Math.min(...s0);
  const max = Math.max(...s0);
  assert.ok(Math.abs(min - ref.sigma_at_origin_min) / ref.sigma_at_origin_min < 1e-4, `min sigma(0) ${min} vs ${ref.sigma_at_origin_min}`);
  assert.ok(Math.abs(max - ref.sigma_at_origin_max) / ref.sigma_at_origin_max < 1e-4, `max sigma(0) ${max} vs ${ref.sigma_at_origin_max}`);
  const far = tf.tidy(() => decoder.std(tf.tensor2d([[60, -60]]))!.dataSync());
  const zeta = 1e-10;
  assert.ok(maxRelErr(far, new Float64Array(far.length).fill(zeta ** -0.5)) < 1e-3, `sigma far away ${far[0]} vs ${zeta ** -0.5}`);
  decoder.dispose();
});
