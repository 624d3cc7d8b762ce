/**
 * sampling/sampler.ts: the samplers behind one fit/sample interface draw what the routines they wrap draw
 * from the same stream, and the chains start at training codes.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GmmSampler, NormalPrior, randomRows, riemannianUniformSampler } from '../src/lib/sampling/sampler';
import { fitGmm, sampleGmm } from '../src/lib/sampling/gaussian';
import { hmc, riemannianUniform } from '../src/lib/sampling/hmc';
import { ConstantMetric } from '../src/lib/geometry/reference-metrics';
import { Rng } from '../src/lib/util/rng';
import { setupBackend } from './helpers';

before(setupBackend);

const codes = (() => {
  const rng = new Rng(1);
  const z = rng.normals(400 * 2);
  for (let i = 0; i < 200; i++) z[2 * i] += 4; // two clusters
  return z;
})();

test('NormalPrior draws N(0, I) rows of the fitted dimension', () => {
  const z = new NormalPrior().fit(codes, 2).sample(20000, new Rng(2)).z;
  assert.equal(z.length, 40000);
  let m = 0;
  let v = 0;
  z.forEach((x) => ((m += x), (v += x * x)));
  assert.ok(Math.abs(m / z.length) < 0.02 && Math.abs(v / z.length - 1) < 0.03);
});

test('GmmSampler fits and samples as fitGmm and sampleGmm do', () => {
  const fitted = new GmmSampler(2, { seed: 3 }).fit(codes, 2);
  const direct = fitGmm(codes, 2, 2, { seed: 3 }).model;
  assert.deepEqual(Array.from(fitted.model.weights), Array.from(direct.weights));
  assert.deepEqual(Array.from(GmmSampler.of(direct).sample(50, new Rng(4)).z), Array.from(Float32Array.from(sampleGmm(direct, 50, new Rng(4)).points)));
});

test('riemannianUniformSampler runs HMC from training codes drawn with replacement, for any Metric', () => {
  const metric = new ConstantMetric(Float64Array.from([2, 0.5, 0.5, 1]));
  const draw = riemannianUniformSampler(metric, { iterations: 3 }).fit(codes, 2).sample(16, new Rng(5));
  const rng = new Rng(5);
  const starts = randomRows(codes, 2, 16, rng);
  for (let i = 0; i < 16; i++) {
    const row = Array.from(starts.subarray(2 * i, 2 * i + 2));
    assert.ok([...Array(400).keys()].some((r) => codes[2 * r] === row[0] && codes[2 * r + 1] === row[1]), `start ${i} is a training code`);
  }
  const direct = hmc(riemannianUniform(metric), starts, { seed: rng.seed(), iterations: 3 });
  assert.deepEqual(Array.from(draw.z), Array.from(direct.samples));
  assert.equal(draw.acceptanceRate, direct.acceptanceRate);
});
