/**
 * Issue 13's pieces: the official code's sampler (its gradient against the formula of its sampling.py written
 * out in float64, its clamp), the hmc options it needs, nearest training images by brute force, the
 * memorisation summary, PNG export (CRC check value, decoded back), and the seed spread.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { PosteriorMetric } from '../src/lib/geometry/posterior-metric';
import { autodiffDensity, hmc, riemannianUniform } from '../src/lib/sampling/hmc';
import { OFFICIAL_DET_CLAMP, officialDrift, officialFlooredMetric, officialLogPi, officialRiemannianHmc } from '../src/lib/sampling/official-hmc';
import { nearestNeighbours } from '../src/lib/evaluation/precision-recall';
import { memorisationSummary } from '../src/lib/evaluation/memorisation';
import { crc32, encodeGrayPng, writeImageFolder } from '../src/lib/io/png';
import { seedSpread } from '../src/lib/pipelines/gvae-fidelity';
import { mnistGvaeConfig, mnistGvaeTraining } from '../src/lib/pipelines/geometric-vae';
import { resolveVaeConfig } from '../src/lib/models/vae';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

/** A small posterior metric: K = 4 centroids in d = 3. */
function smallMetric(lambda = 0.05): PosteriorMetric {
  const rng = new Rng(3);
  const d = 3;
  const k = 4;
  const centers = Float32Array.from(rng.normals(k * d));
  const precisions = Float32Array.from({ length: k * d }, () => 1 + 20 * rng.uniform());
  return new PosteriorMetric({ dim: d, centers, precisions, rho: 1.3, lambda, tau: 0 });
}

/**
 * d_log_sqrt_det_G of the official sampling.py, literally, in float64: omega_i = exp(-(z - c_i)^T M_i (z - c_i) / T^2),
 * d omega_i / dz_k = -2 M_ik (z_k - c_ik) / T^2 omega_i, num_jk = sum_i M_ij d_k omega_i,
 * denom_j = sum_i (M_ij omega_i + lambda), grad_k = sum_j num_jk / denom_j.
 */
function officialGradient(p: PosteriorMetric['params'], z: number[]): number[] {
  const d = p.dim;
  const k = p.centers.length / d;
  const omega: number[] = [];
  for (let i = 0; i < k; i++) {
    let q = 0;
    for (let j = 0; j < d; j++) q += p.precisions[i * d + j] * (z[j] - p.centers[i * d + j]) ** 2;
    omega.push(Math.exp(-q / p.rho ** 2));
  }
  const grad = new Array(d).fill(0);
  for (let j = 0; j < d; j++) {
    let denom = 0;
    for (let i = 0; i < k; i++) denom += p.precisions[i * d + j] * omega[i] + p.lambda;
    for (let kk = 0; kk < d; kk++) {
      let num = 0;
      for (let i = 0; i < k; i++) num += p.precisions[i * d + j] * ((-2 * p.precisions[i * d + kk] * (z[kk] - p.centers[i * d + kk])) / p.rho ** 2) * omega[i];
      grad[kk] += num / denom;
    }
  }
  return grad;
}

test('official drift: twice grad log sqrt det of the K-lambda-floored metric equals the official sampling.py gradient', async () => {
  const metric = smallMetric();
  const floored = officialFlooredMetric(metric);
  assert.ok(Math.abs(floored.params.lambda - 4 * 0.05) < 1e-12);
  const rng = new Rng(4);
  const zs = Array.from({ length: 6 }, () => Array.from(rng.normals(3), (v) => 0.7 * v));
  const got = await expectNoLeak(() =>
    tf.tidy(() => {
      const { grad } = officialDrift(floored).withGrad(tf.tensor2d(zs));
      return Array.from(grad.dataSync());
    }),
  );
  zs.forEach((z, b) => {
    const want = officialGradient(metric.params, z);
    const scale = Math.max(1, ...want.map(Math.abs));
    want.forEach((w, k) => assert.ok(Math.abs(got[b * 3 + k] - w) < 1e-4 * scale, `point ${b}, coordinate ${k}: ${got[b * 3 + k]} vs the official ${w}`));
  });
  floored.dispose();
  metric.dispose();
});

test('official log pi: 1/2 log det G, clamped at 1/2 log 1e10', async () => {
  const metric = smallMetric();
  await expectNoLeak(() =>
    tf.tidy(() => {
      const z = tf.tensor2d([Array.from(metric.params.centers.subarray(0, 3)), [30, 30, 30]]);
      const exact = metric.logSqrtDetG(z).dataSync();
      const clamped = officialLogPi(metric, 1e2).withGrad(z).value.dataSync();
      // At a centroid det G > 1e2: clamped; far away det G = lambda^3 < 1e2: unchanged.
      assert.ok(exact[0] > 0.5 * Math.log(1e2));
      assert.ok(Math.abs(clamped[0] - 0.5 * Math.log(1e2)) < 1e-5);
      assert.ok(Math.abs(clamped[1] - exact[1]) < 1e-5);
      assert.ok(Math.abs(exact[1] - 1.5 * Math.log(0.05)) < 1e-4);
    }),
  );
  assert.equal(OFFICIAL_DET_CLAMP, 1e10);
  metric.dispose();
});

test('hmc: drift = target and momentumStd = 1 are the defaults, bit for bit; the official sampler runs and leaks nothing', async () => {
  const metric = smallMetric();
  const target = riemannianUniform(metric);
  const init = Float32Array.from(metric.params.centers);
  const a = hmc(target, init, { seed: 5, iterations: 5 });
  const b = hmc(target, init, { seed: 5, iterations: 5, drift: target, momentumStd: 1 });
  assert.deepEqual(Array.from(a.samples), Array.from(b.samples));
  const c = hmc(target, init, { seed: 5, iterations: 5, momentumStd: 0.5 });
  assert.notDeepEqual(Array.from(a.samples), Array.from(c.samples));
  const off = await expectNoLeak(() => officialRiemannianHmc(metric, init, { seed: 5, iterations: 20 }));
  assert.equal(off.samples.length, init.length);
  assert.ok(off.samples.every(Number.isFinite));
  assert.ok(off.acceptanceRate >= 0 && off.acceptanceRate <= 1);
  assert.throws(() => hmc(target, init, { momentumStd: 0 }), /momentumStd/);
  assert.throws(() => hmc(target, init, { drift: autodiffDensity(2, (z) => tf.sum(z, 1) as tf.Tensor1D) }), /drift/);
  metric.dispose();
});

test('nearestNeighbours matches brute force (index and distance); memorisationSummary counts against the test quantiles', async () => {
  const rng = new Rng(6);
  const [n, m, dim] = [300, 40, 7];
  const pts = Float32Array.from(rng.normals(n * dim));
  const qs = Float32Array.from(rng.normals(m * dim));
  const got = await expectNoLeak(() => nearestNeighbours(qs, pts, dim, 16));
  for (let i = 0; i < m; i++) {
    let best = Infinity;
    let arg = -1;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += (qs[i * dim + k] - pts[j * dim + k]) ** 2;
      if (s < best) [best, arg] = [s, j];
    }
    assert.equal(got.index[i], arg);
    assert.ok(Math.abs(got.distance[i] - Math.sqrt(best)) < 1e-4 * Math.sqrt(best) + 1e-4);
  }
  const test = Array.from({ length: 101 }, (_, i) => i); // quantiles: 1% -> 1, 5% -> 5
  const s = memorisationSummary([0.5, 2, 4, 6, 50], test);
  assert.equal(s.count, 5);
  assert.equal(s.median, 4);
  assert.equal(s.below_test_p01, 1 / 5);
  assert.equal(s.below_test_p05, 3 / 5);
});

/** Decodes our own 8-bit grayscale PNG: checks every chunk's CRC and returns the pixels. */
function decodeGray(png: Buffer): { width: number; height: number; pixels: Uint8Array } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    assert.equal(png.readUInt32BE(off + 8 + len), crc32(png.subarray(off + 4, off + 8 + len)), `${type} CRC`);
    if (type === 'IHDR') [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width + 1)], 0, 'filter type');
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, pixels };
}

test('PNG: CRC-32 check value; a padded grayscale image decodes back to floor(255 x)', () => {
  assert.equal(crc32(Buffer.from('123456789', 'latin1')), 0xcbf43926);
  assert.equal(crc32(Buffer.from('IEND', 'latin1')), 0xae426082);
  const img = Float32Array.from({ length: 6 }, (_, i) => i / 5); // 2 x 3, 0 .. 1
  const { width, height, pixels } = decodeGray(encodeGrayPng(img, 2, 3, 1));
  assert.deepEqual([width, height], [5, 4]);
  assert.deepEqual(Array.from(pixels.subarray(0, 5)), [0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(pixels.subarray(6, 9)), [0, 51, 102]);
  assert.deepEqual(Array.from(pixels.subarray(11, 14)), [153, 204, 255]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lso-png-'));
  try {
    const bytes = writeImageFolder(dir, Float32Array.from([...img, ...img]), 2, 3);
    assert.deepEqual(fs.readdirSync(dir), ['00000000.png', '00000001.png']);
    assert.ok(bytes > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => encodeGrayPng(img, 3, 3), /encodeGrayPng.pixels/);
});

test('seedSpread: mean and sample standard deviation', () => {
  const s = seedSpread([1, 2, 3, 6]);
  assert.equal(s.mean, 3);
  assert.ok(Math.abs(s.sd - Math.sqrt(14 / 3)) < 1e-12);
  assert.equal(seedSpread([4]).sd, 0);
});

test('the paper\'s MNIST training: MSE + 0.01 KL, batch 100, plateau schedule, best epoch kept, 100 epochs under the step budget', () => {
  const c = resolveVaeConfig(mnistGvaeConfig());
  assert.equal(c.likelihood, 'gaussian-fixed');
  assert.equal(c.beta, 0.01);
  assert.equal(c.fixedStd, Math.SQRT1_2);
  assert.equal(resolveVaeConfig(mnistGvaeConfig('bernoulli')).beta, 1);
  const full = mnistGvaeTraining(50000, 'full');
  assert.deepEqual(full, { epochs: 20, batchSize: 100, learningRate: 1e-3, seed: 1, keepBest: true, lrPlateau: { factor: 0.5, patience: 5 } });
  assert.equal(mnistGvaeTraining(1000, 'full').epochs, 100);
  assert.equal(mnistGvaeTraining(10000, 'full').epochs, 100);
  assert.equal(mnistGvaeTraining(50000, 'full', { maxSteps: 1e9 }).epochs, 100);
  assert.equal(mnistGvaeTraining(5000, 'quick').epochs, 12);
});
