/**
 * Random walks: M^(-1/2) by eigen-decomposition against a hand-computed 2 x 2 case, the Riemannian walk
 * with M = c I against the Euclidean walk of step s / sqrt(c) (same seed, same noise), the matched step
 * length, the step covariance s^2 M^-1 on a constant anisotropic metric, and no tensor leaks on a decoder.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { compareRandomWalks, euclideanRandomWalk, matchedEuclideanStep, riemannianRandomWalk, riemannianStepForLength, walkFrames } from '../src/lib/sampling/random-walk';
import { ConstantMetric } from '../src/lib/geometry/reference-metrics';
import { expectedMetric } from '../src/lib/geometry/decoder-metric';
import { GaussianDecoder } from '../src/lib/models/decoder';
import { createMlp } from '../src/lib/nn/mlp';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';
import { inverseSqrtSymmetric, symmetricEigen } from '../src/lib/numerics/dense';

before(setupBackend);

test('M^(-1/2) of [[2, 1], [1, 2]] by hand: eigenvalues 1 and 3 on (1, -1) and (1, 1)', () => {
  const r3 = 1 / Math.sqrt(3);
  // 1 * (1/2)[[1, -1], [-1, 1]] + 3^(-1/2) * (1/2)[[1, 1], [1, 1]]
  const want = [(1 + r3) / 2, (-1 + r3) / 2, (-1 + r3) / 2, (1 + r3) / 2];
  const got = inverseSqrtSymmetric([2, 1, 1, 2], 2)!;
  want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) < 1e-14, `entry ${i}: ${got[i]} vs ${w}`));
  const { values } = symmetricEigen([2, 1, 1, 2], 2);
  assert.ok(Math.abs(values[0] - 1) < 1e-14 && Math.abs(values[1] - 3) < 1e-14);
  assert.equal(inverseSqrtSymmetric([1, 2, 2, 1], 2), null, 'indefinite');
});

test('M^(-1/2) M M^(-1/2) = I for a random symmetric positive definite 4 x 4', () => {
  const rng = new Rng(4);
  const b = Array.from({ length: 16 }, () => rng.normal());
  const m = new Float64Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) m[i * 4 + j] += b[i * 4 + k] * b[j * 4 + k] + (i === j && k === 0 ? 0.5 : 0);
  const r = inverseSqrtSymmetric(m, 4)!;
  const prod = (x: ArrayLike<number>, y: ArrayLike<number>) => Float64Array.from({ length: 16 }, (_, q) => [0, 1, 2, 3].reduce((s, k) => s + x[Math.floor(q / 4) * 4 + k] * y[k * 4 + (q % 4)], 0));
  const id = prod(prod(r, m), r);
  id.forEach((v, q) => assert.ok(Math.abs(v - (q % 5 === 0 ? 1 : 0)) < 1e-10, `entry ${q}: ${v}`));
});

test('the Riemannian walk with M = c I is the Euclidean walk with step s / sqrt(c)', async () => {
  const c = 4;
  const metric = new ConstantMetric(Float64Array.of(c, 0, 0, c));
  const starts = [[0, 0], [1, -2], [3, 3]];
  const s = 0.3;
  const rw = await expectNoLeak(() => riemannianRandomWalk(metric, starts, { steps: 200, stepSize: s, seed: 9 }));
  const ew = euclideanRandomWalk(starts, 2, { steps: 200, stepSize: s / Math.sqrt(c), seed: 9 });
  assert.equal(rw.paths.length, 3 * 201 * 2);
  rw.paths.forEach((v, i) => assert.ok(Math.abs(v - ew.paths[i]) < 1e-12, `coordinate ${i}: ${v} vs ${ew.paths[i]}`));
  assert.equal(rw.degenerateSteps, 0);
  // riemannianStepForLength inverts E|M^(-1/2) eps|^2 = tr M^-1 = 2 / c.
  assert.ok(Math.abs(riemannianStepForLength(metric, [0, 0], 1) - Math.sqrt(c / 2)) < 1e-12);
});

test('matchedEuclideanStep gives the Euclidean walk the same mean step length', () => {
  const metric = new ConstantMetric(Float64Array.of(3, 1, 1, 2));
  const rw = riemannianRandomWalk(metric, [[0, 0], [2, 2]], { steps: 300, stepSize: 0.5, seed: 2 });
  const s = matchedEuclideanStep(rw, 2);
  const ew = euclideanRandomWalk([[0, 0], [2, 2]], 2, { steps: 300, stepSize: s, seed: 2 });
  assert.ok(Math.abs(ew.meanStepLength - rw.meanStepLength) < 1e-12 * rw.meanStepLength);
});

test('on an isotropic constant metric the three walks of compareRandomWalks coincide', () => {
  const metric = new ConstantMetric(Float64Array.of(9, 0, 0, 9));
  const codes = Float64Array.of(0, 0, 0.1, 0, 0, 0.1, 0.1, 0.1, 5, 5);
  const cmp = compareRandomWalks(metric, codes, { start: [0, 0], walkers: 2, steps: 50, startStepLength: 0.02, seed: 3 });
  cmp.riemannian.paths.forEach((v, i) => {
    assert.ok(Math.abs(v - cmp.euclidean.paths[i]) < 1e-12);
    assert.ok(Math.abs(v - cmp.euclideanEqualMean.paths[i]) < 1e-12);
  });
  assert.equal(cmp.onSupport.riemannian, cmp.onSupport.euclidean);
  // Nearest-neighbour distances 0.1, 0.1, 0.1, 0.1 and 5 sqrt(2) - 0.1 sqrt(2): the 0.99 quantile interpolates between them.
  assert.ok(cmp.threshold > 0.1 && cmp.threshold < 7);
  const frames = walkFrames(cmp.riemannian, 1, 3);
  assert.deepEqual(Array.from(frames.subarray(0, 2)), [0, 0]);
  assert.deepEqual(Array.from(frames.subarray(4)), Array.from(cmp.riemannian.paths.subarray((51 + 50) * 2, (51 + 51) * 2)));
});

test('on a constant anisotropic metric the steps have covariance s^2 M^-1', () => {
  const m = [2, 0.6, 0.6, 0.5];
  const det = m[0] * m[3] - m[1] * m[2];
  const inv = [m[3] / det, -m[1] / det, -m[2] / det, m[0] / det];
  const steps = 20000;
  const s = 0.1;
  const rw = riemannianRandomWalk(new ConstantMetric(Float64Array.from(m)), [[0, 0]], { steps, stepSize: s, seed: 1 });
  const cov = [0, 0, 0, 0];
  for (let k = 0; k < steps; k++) {
    const dx = rw.paths[2 * (k + 1)] - rw.paths[2 * k];
    const dy = rw.paths[2 * (k + 1) + 1] - rw.paths[2 * k + 1];
    cov[0] += (dx * dx) / steps;
    cov[1] += (dx * dy) / steps;
    cov[3] += (dy * dy) / steps;
  }
  cov[2] = cov[1];
  // 20,000 steps: relative sampling error about sqrt(2 / 20000) = 1%.
  cov.forEach((v, i) => assert.ok(Math.abs(v / (s * s) - inv[i]) < 0.05 * Math.max(inv[0], inv[3]), `entry ${i}: ${v / (s * s)} vs ${inv[i]}`));
});

test('the Riemannian walk on a decoder metric leaks no tensors and moves every walker', async () => {
  const rng = new Rng(3);
  const mean = createMlp({ sizes: [2, 8, 12], activations: ['tanh', 'sigmoid'] }, rng);
  const std = createMlp({ sizes: [2, 8, 12], activations: ['tanh', 'softplus'] }, rng);
  const decoder = new GaussianDecoder(mean, { kind: 'net', net: std });
  try {
    const rw = await expectNoLeak(() => riemannianRandomWalk(expectedMetric(decoder), [[0, 0], [0.5, -0.5]], { steps: 20, stepSize: 0.05, seed: 1 }));
    assert.ok(rw.meanStepLength > 0 && Number.isFinite(rw.meanStepLength));
    assert.ok(rw.paths.every(Number.isFinite));
  } finally {
    decoder.dispose();
  }
});
