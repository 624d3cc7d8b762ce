/**
 * FID (closed forms), the PSD square root, improved precision/recall, the full-covariance GMM baseline (the
 * shared one of sampling/gaussian.ts, with the settings the geometric-VAE pipeline uses), the classifier's cache.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FeatureStatistics, featureStatistics, fid, frechetDistance } from '../src/lib/evaluation/fid';
import { knnRadii, precisionRecall } from '../src/lib/evaluation/precision-recall';
import { trainOrLoadClassifier } from '../src/lib/evaluation/classifier';
import { fitGmm, gmmLogDensity, sampleGmm } from '../src/lib/sampling/gaussian';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';
import { sqrtSymmetricPsd } from '../src/lib/numerics/dense';

before(setupBackend);

function randomSpd(n: number, rng: Rng): Float64Array {
  const a = Float64Array.from({ length: n * n }, () => rng.normal());
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) s[i * n + j] += a[i * n + k] * a[j * n + k];
  for (let i = 0; i < n; i++) s[i * n + i] += 0.1;
  return s;
}

test('sqrtSymmetricPsd: the square root of a 24 x 24 SPD matrix squares back to it and is symmetric', () => {
  const n = 24;
  const a = randomSpd(n, new Rng(1));
  const r = sqrtSymmetricPsd(a, n);
  let errS = 0;
  let asym = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += r[i * n + k] * r[k * n + j];
      errS = Math.max(errS, Math.abs(s - a[i * n + j]));
      asym = Math.max(asym, Math.abs(r[i * n + j] - r[j * n + i]));
    }
  }
  assert.ok(errS < 1e-9, `sqrt^2 - A: ${errS}`);
  assert.equal(asym, 0);
});

/** A 2-D covariance rotated by angle a with axis variances u, v. */
function rotated(a: number, u: number, v: number): Float64Array {
  const [c, s] = [Math.cos(a), Math.sin(a)];
  return Float64Array.of(c * c * u + s * s * v, c * s * (u - v), c * s * (u - v), s * s * u + c * c * v);
}

test('frechetDistance matches the closed form for 2-D Gaussians (Tr sqrt M = sqrt(Tr M + 2 sqrt det M))', () => {
  const cases: [number, number, number, number, number, number][] = [
    [0.3, 2, 0.5, 1.2, 1, 3],
    [0, 1, 1, 0, 1, 1],
    [1.1, 4, 0.1, -0.7, 0.2, 5],
  ];
  for (const [a1, u1, v1, a2, u2, v2] of cases) {
    const s1 = rotated(a1, u1, v1);
    const s2 = rotated(a2, u2, v2);
    const A: FeatureStatistics = { dim: 2, n: 100, mean: Float64Array.of(1, -2), cov: s1 };
    const B: FeatureStatistics = { dim: 2, n: 100, mean: Float64Array.of(0.5, 0.5), cov: s2 };
    // S1 S2 has the same trace and determinant as S1^(1/2) S2 S1^(1/2), whose square root's trace is closed-form.
    const p = [s1[0] * s2[0] + s1[1] * s2[2], s1[0] * s2[1] + s1[1] * s2[3], s1[2] * s2[0] + s1[3] * s2[2], s1[2] * s2[1] + s1[3] * s2[3]];
    const trSqrt = Math.sqrt(p[0] + p[3] + 2 * Math.sqrt(p[0] * p[3] - p[1] * p[2]));
    const want = 0.5 ** 2 + 2.5 ** 2 + s1[0] + s1[3] + s2[0] + s2[3] - 2 * trSqrt;
    const got = frechetDistance(A, B);
    assert.ok(Math.abs(got - want) < 1e-10 * Math.max(1, want), `${got} vs ${want}`);
  }
});

test('FID of a set with itself is ~0; of samples of two Gaussians, close to their closed form', () => {
  const rng = new Rng(2);
  const d = 6;
  const n = 20000;
  const x = rng.normals(n * d);
  assert.ok(Math.abs(fid(x, x, d)) < 1e-8, `FID(x, x) = ${fid(x, x, d)}`);
  // N(0, I) against N(m, diag(s^2)): FID = |m|^2 + sum (1 - s)^2.
  const s = [0.5, 1, 2, 1.5, 0.8, 1.2];
  const m = [1, 0, -1, 0.5, 0, 0];
  const y = rng.normals(n * d).map((v, i) => m[i % d] + s[i % d] * v);
  const want = m.reduce((acc, v) => acc + v * v, 0) + s.reduce((acc, v) => acc + (1 - v) ** 2, 0);
  const got = fid(x, y, d);
  assert.ok(Math.abs(got - want) < 0.05 * want, `FID ${got} vs closed form ${want}`);
  const stats = featureStatistics(Float32Array.of(1, 2, 3, 5), 2);
  assert.deepEqual(Array.from(stats.mean), [2, 3.5]);
  assert.deepEqual(Array.from(stats.cov), [2, 3, 3, 4.5]);
});

test('precision and recall: 1 for identical sets, 0 for disjoint ones, k-NN radii by brute force', async () => {
  const rng = new Rng(3);
  const d = 4;
  const n = 300;
  const a = rng.normals(n * d);
  const far = rng.normals(n * d).map((v) => v + 50);
  await expectNoLeak(() => {
    const same = precisionRecall(a, a, d, 3);
    assert.equal(same.precision, 1);
    assert.equal(same.recall, 1);
    const apart = precisionRecall(a, far, d, 3);
    assert.equal(apart.precision, 0);
    assert.equal(apart.recall, 0);
    const radii = knnRadii(a, d, 3);
    for (const i of [0, 17, 299]) {
      const dist = Array.from({ length: n }, (_, j) => Math.hypot(...Array.from({ length: d }, (_, k) => a[i * d + k] - a[j * d + k]))).sort((x, y) => x - y);
      assert.ok(Math.abs(radii[i] - dist[3]) < 1e-3 * dist[3], `radius ${radii[i]} vs ${dist[3]}`);
    }
  });
  // A generator that covers half the real data: precision 1, recall well below 1.
  const half = a.filter((_, i) => a[i - (i % d)] > 0);
  const pr = precisionRecall(a, half, d, 3);
  assert.ok(pr.precision > 0.95 && pr.recall < 0.8, JSON.stringify(pr));
});

test('full-covariance GMM: EM recovers separated blobs; samples and density agree with the fit', () => {
  const rng = new Rng(4);
  const truth = [
    { w: 0.5, m: [0, 0], L: [1, 0, 0.8, 0.4] },
    { w: 0.3, m: [8, 1], L: [0.3, 0, -0.2, 1.2] },
    { w: 0.2, m: [2, 9], L: [0.7, 0, 0, 0.7] },
  ];
  const n = 6000;
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    const c = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
    const [e0, e1] = [rng.normal(), rng.normal()];
    const { m, L } = truth[c];
    x[2 * i] = m[0] + L[0] * e0;
    x[2 * i + 1] = m[1] + L[2] * e0 + L[3] * e1;
  }
  const fit = fitGmm(x, 2, 3, { seed: 1, tolerance: 1e-3, maxIterations: 100 });
  assert.ok(fit.converged, `EM did not converge in ${fit.iterations} iterations`);
  const g = fit.model;
  for (const t of truth) {
    const dist = (k: number) => Math.hypot(g.components[k].mean[0] - t.m[0], g.components[k].mean[1] - t.m[1]);
    const c = [0, 1, 2].reduce((best, k) => (dist(k) < dist(best) ? k : best), 0);
    assert.ok(Math.abs(g.weights[c] - t.w) < 0.03, `weight ${g.weights[c]} vs ${t.w}`);
    assert.ok(dist(c) < 0.1);
    const cov = [t.L[0] ** 2, t.L[0] * t.L[2], t.L[0] * t.L[2], t.L[2] ** 2 + t.L[3] ** 2];
    for (let j = 0; j < 4; j++) assert.ok(Math.abs(g.components[c].cov[j] - cov[j]) < 0.12 * Math.max(0.5, Math.abs(cov[j])), `cov ${g.components[c].cov[j]} vs ${cov[j]}`);
  }
  const ll = gmmLogDensity(g, x).reduce((s, v) => s + v, 0) / n;
  assert.ok(ll >= fit.meanLogLikelihoods[0] - 1e-9, 'EM does not lower the likelihood of its k-means start');
  const y = sampleGmm(g, 20000, new Rng(5)).points;
  const meanX = [0, 1].map((j) => x.reduce((s, v, i) => (i % 2 === j ? s + v : s), 0) / n);
  const meanY = [0, 1].map((j) => y.reduce((s, v, i) => (i % 2 === j ? s + v : s), 0) / 20000);
  for (let j = 0; j < 2; j++) assert.ok(Math.abs(meanX[j] - meanY[j]) < 0.15, `sample mean ${meanY[j]} vs data ${meanX[j]}`);
});

test('classifier: learns separable classes, caches its weights and reloads them identically', async () => {
  const rng = new Rng(6);
  const n = 600;
  const h = 6;
  const w = 6;
  const images = new Float32Array(n * h * w);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    // Class 0 lights the left half, class 1 the right half, plus noise.
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) images[i * h * w + r * w + c] = ((c < w / 2) === (labels[i] === 0) ? 0.8 : 0.1) + 0.1 * rng.uniform();
  }
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gvae-classifier-'));
  try {
    const config = { hidden: [16, 8], classes: 2, epochs: 3, batchSize: 64, shift: 0, seed: 1 };
    const opts = { height: h, width: w, cacheDir, progress: false as const, log: () => {} };
    const first = await trainOrLoadClassifier(images, labels, config, opts);
    assert.equal(first.fromCache, false);
    assert.ok(first.classifier.accuracy(images, labels) > 0.98);
    const second = await trainOrLoadClassifier(images, labels, config, opts);
    assert.equal(second.fromCache, true);
    assert.deepEqual(Array.from(second.classifier.features(images.subarray(0, 10 * h * w))), Array.from(first.classifier.features(images.subarray(0, 10 * h * w))));
    assert.equal(first.classifier.featureDim, 8);
    first.classifier.dispose();
    second.classifier.dispose();
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});
