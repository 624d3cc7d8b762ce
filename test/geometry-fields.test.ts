/** Metric fields against closed forms: a linear decoder f(z) = A z has the constant metric A^T A. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Mlp } from '../src/lib/nn/mlp';
import { GaussianDecoder } from '../src/lib/models/decoder';
import { expectedMetric, meanMetric } from '../src/lib/geometry/decoder-metric';
import { fieldsAt, latentGrid, metricTensors } from '../src/lib/geometry/fields';
import { createMlp } from '../src/lib/nn/mlp';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

test('linear decoder: volume sqrt(det A^T A) and condition number s_max/s_min everywhere', async () => {
  // A = [[3, 0], [0, 1], [0, 0]] -> A^T A = diag(9, 1): volume 3, kappa 3.
  const kernel = tf.variable(tf.tensor2d([[3, 0, 0], [0, 1, 0]])) as tf.Variable<tf.Rank.R2>;
  const bias = tf.variable(tf.zeros([3])) as tf.Variable<tf.Rank.R1>;
  const dec = new GaussianDecoder(new Mlp([{ kind: 'dense', kernel, bias }]));
  const grid = latentGrid({ xmin: -1, xmax: 1, ymin: -2, ymax: 2, n: [4, 3] });
  const f = await expectNoLeak(() => fieldsAt(meanMetric(dec), grid.points, { batchSize: 5 }));
  assert.equal(f.volume.length, 12);
  f.volume.forEach((v) => assert.ok(Math.abs(v - 3) < 1e-5, `volume ${v}`));
  f.conditionNumber.forEach((k) => assert.ok(Math.abs(k - 3) < 1e-5, `kappa ${k}`));
  f.logVolume.forEach((l) => assert.ok(Math.abs(l - Math.log(3)) < 1e-5));
  dec.dispose();
});

test('expected metric = mean part + std part, batched in any chunk size without leaks', async () => {
  const rng = new Rng(5);
  const mean = createMlp({ sizes: [2, 8, 6], activations: ['tanh', 'sigmoid'] }, rng);
  const std = createMlp({ sizes: [2, 8, 6], activations: ['tanh', 'softplus'] }, rng);
  const dec = new GaussianDecoder(mean, { kind: 'net', net: std });
  const pts = rng.normals(2 * 9);
  const full = await expectNoLeak(() => metricTensors(expectedMetric(dec), pts, { batchSize: 4 }));
  const mOnly = metricTensors(meanMetric(dec), pts, { batchSize: 100 });
  const sOnly = tf.tidy(() => {
    const jt = std.jet(tf.tensor2d(pts, [9, 2])).jt;
    return tf.matMul(jt, tf.transpose(jt, [0, 2, 1])).dataSync();
  });
  full.forEach((g, i) => assert.ok(Math.abs(g - (mOnly[i] + sOnly[i])) < 1e-5 * Math.max(1, Math.abs(g)), `entry ${i}`));
  dec.dispose();
});

test('volume stays accurate where the metric is nearly rank one (float32 Gram determinants cancel to 0)', async () => {
  // Columns j1 = (1e4, 0, 0), j2 = (1e4, 0.1, 0): det(J^T J) = (1e4 * 0.1)^2, volume 1e3, kappa ~ 2e5;
  // the float32 Gram matrix [[1e8, 1e8], [1e8, 1e8 + 0.01]] has determinant 0.
  const kernel = tf.variable(tf.tensor2d([[1e4, 0, 0], [1e4, 0.1, 0]])) as tf.Variable<tf.Rank.R2>;
  const bias = tf.variable(tf.zeros([3])) as tf.Variable<tf.Rank.R1>;
  const dec = new GaussianDecoder(new Mlp([{ kind: 'dense', kernel, bias }]));
  const f = await expectNoLeak(() => fieldsAt(meanMetric(dec), new Float32Array([0, 0, 1, -1])));
  f.volume.forEach((v) => assert.ok(Math.abs(v - 1e3) / 1e3 < 1e-4, `volume ${v}`));
  // kappa^2 = s_max^2 / s_min^2 with s_max s_min = 1e3 and s_max^2 + s_min^2 = 2e8 + 0.01
  const smax = Math.sqrt(0.5 * (2e8 + 0.01 + Math.sqrt((2e8 + 0.01) ** 2 - 4e6)));
  f.conditionNumber.forEach((k) => assert.ok(Math.abs(k - (smax * smax) / 1e3) / k < 1e-4, `kappa ${k}`));
  dec.dispose();
});
