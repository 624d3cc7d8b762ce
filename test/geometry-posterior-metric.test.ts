/** The posterior metric of Chadebec & Allassonniere (Eq. 7): hand computations, autodiff gradients, construction. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { PosteriorMetric, PosteriorMetricParams, largestNearestDistance, logSqrtDetGAt, posteriorMetric } from '../src/lib/geometry/posterior-metric';
import { potentialInterpolation, integratedPotential } from '../src/lib/geometry/potential-interpolation';
import { straightLines } from '../src/lib/geometry/curves';
import { Rng } from '../src/lib/util/rng';
import { ConstantMetric } from '../src/lib/geometry/reference-metrics';
import { latentGrid } from '../src/lib/geometry/fields';
import { expectNoLeak, setupBackend } from './helpers';
import { riemannianDistanceMap } from '../src/lib/geometry/graph';

before(setupBackend);

const TWO: PosteriorMetricParams = {
  dim: 2,
  centers: Float32Array.of(0.5, -0.2, -1.0, 0.8),
  precisions: Float32Array.of(4, 9, 2.5, 1.5),
  rho: 0.9,
  lambda: 0.05,
  tau: 0.3,
};

/** Eq. 7 by hand, in float64: the diagonal of G at z. */
function handDiagonal(p: PosteriorMetricParams, z: number[]): number[] {
  const d = p.dim;
  const k = p.centers.length / d;
  const floor = p.lambda * Math.exp(-p.tau * z.reduce((s, v) => s + v * v, 0));
  const g = new Array<number>(d).fill(floor);
  for (let i = 0; i < k; i++) {
    let q = 0;
    for (let j = 0; j < d; j++) q += (z[j] - p.centers[i * d + j]) ** 2 * p.precisions[i * d + j];
    const w = Math.exp(-q / p.rho ** 2);
    for (let j = 0; j < d; j++) g[j] += w * p.precisions[i * d + j];
  }
  return g;
}

const POINTS = [
  [0, 0],
  [0.5, -0.2],
  [-0.7, 0.5],
  [2.5, 3],
  [-1.1, 0.9],
];

test('G(z) matches a hand computation of Eq. 7 with 2 centroids: diagonal, tensor and log sqrt det', async () => {
  await expectNoLeak(() => {
    const m = new PosteriorMetric(TWO);
    try {
      const z = tf.tensor2d(POINTS);
      const [gt, lt] = [m.tensor(z), m.logSqrtDetG(z)];
      const [g, lv] = [gt.arraySync(), lt.arraySync()];
      tf.dispose([z, gt, lt]);
      POINTS.forEach((p, b) => {
        const h = handDiagonal(TWO, p);
        for (let i = 0; i < 2; i++) {
          for (let j = 0; j < 2; j++) {
            const want = i === j ? h[i] : 0;
            assert.ok(Math.abs(g[b][i][j] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `G[${b}][${i}][${j}] = ${g[b][i][j]}, want ${want}`);
          }
        }
        const wantLv = 0.5 * Math.log(h[0] * h[1]);
        assert.ok(Math.abs(lv[b] - wantLv) < 1e-5, `log sqrt det G at ${p}: ${lv[b]} vs ${wantLv}`);
      });
      // At a far point only the floor is left.
      assert.ok(Math.abs(g[3][0][0] - TWO.lambda * Math.exp(-TWO.tau * (2.5 ** 2 + 9))) < 1e-7);
    } finally {
      m.dispose();
    }
  });
});

test('the gradient of log sqrt det G by autodiff matches central differences (d = 5, 7 centroids)', async () => {
  const rng = new Rng(3);
  const d = 5;
  const k = 7;
  const params: PosteriorMetricParams = {
    dim: d,
    centers: rng.normals(k * d),
    precisions: Float32Array.from({ length: k * d }, () => 0.5 + 3 * rng.uniform()),
    rho: 1.7,
    lambda: 0.01,
    tau: 0.05,
  };
  const pts = rng.normals(6 * d);
  await expectNoLeak(() => {
    const m = new PosteriorMetric(params);
    try {
      const { value, grad } = tf.tidy(() => m.logVolumeWithGrad(tf.tensor2d(pts, [6, d])));
      const g = grad.dataSync();
      const v = value.dataSync();
      tf.dispose([value, grad]);
      const base = logSqrtDetGAt(m, pts);
      const h = 1e-2;
      for (let b = 0; b < 6; b++) {
        assert.ok(Math.abs(v[b] - base[b]) < 1e-5, 'the value beside the gradient is log sqrt det G');
        for (let j = 0; j < d; j++) {
          const plus = Float32Array.from(pts.subarray(b * d, (b + 1) * d));
          const minus = Float32Array.from(plus);
          plus[j] += h;
          minus[j] -= h;
          const [fp, fm] = [logSqrtDetGAt(m, plus)[0], logSqrtDetGAt(m, minus)[0]];
          const fd = (fp - fm) / (2 * h);
          assert.ok(Math.abs(g[b * d + j] - fd) < 2e-3 * Math.max(1, Math.abs(fd)), `point ${b}, coordinate ${j}: autodiff ${g[b * d + j]}, central difference ${fd}`);
        }
      }
    } finally {
      m.dispose();
    }
  });
});

test('posteriorMetric: centroids are training means, Sigma^-1 = exp(-logvar) there, rho the largest nearest-centroid distance', () => {
  const rng = new Rng(5);
  const n = 400;
  const d = 3;
  const means = rng.normals(n * d);
  const logvars = Float32Array.from({ length: n * d }, () => -2 + rng.normal());
  const m = posteriorMetric(means, logvars, d, { centroids: 12, lambda: 0.02, seed: 1 });
  try {
    const { centers, precisions, rho, lambda, tau } = m.params;
    assert.equal(m.centroidCount, 12);
    assert.equal(lambda, 0.02);
    assert.equal(tau, 0);
    for (let i = 0; i < 12; i++) {
      const row = Array.from({ length: n }, (_, r) => r).find((r) => [0, 1, 2].every((j) => means[r * d + j] === centers[i * d + j]));
      assert.ok(row !== undefined, `centroid ${i} is not a training mean`);
      for (let j = 0; j < d; j++) assert.ok(Math.abs(precisions[i * d + j] - Math.exp(-logvars[row * d + j])) < 1e-4 * precisions[i * d + j]);
    }
    let worst = 0;
    for (let a = 0; a < 12; a++) {
      let best = Infinity;
      for (let b = 0; b < 12; b++) if (a !== b) best = Math.min(best, Math.hypot(...[0, 1, 2].map((j) => centers[a * d + j] - centers[b * d + j])));
      worst = Math.max(worst, best);
    }
    assert.ok(Math.abs(rho - worst) < 1e-6);
    assert.equal(largestNearestDistance(Float32Array.of(0, 0, 3, 4, 3, 5), 2), 5);
  } finally {
    m.dispose();
  }
});

test('potential-minimising interpolation goes around a gap in the data and lowers the integral of V', async () => {
  // Codes on two arcs of a ring: the straight line between the arcs' far ends crosses the empty middle.
  const rng = new Rng(9);
  const n = 15;
  const centers = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = Math.PI * (0.15 + 0.7 * (i / (n - 1)));
    centers[2 * i] = 2 * Math.cos(a) + 0.02 * rng.normal();
    centers[2 * i + 1] = 2 * Math.sin(a);
  }
  const m = new PosteriorMetric({ dim: 2, centers, precisions: new Float32Array(2 * n).fill(4), rho: largestNearestDistance(centers, 2), lambda: 0.01, tau: 0 });
  try {
    const p0 = Float64Array.from(centers.subarray(0, 2));
    const p1 = Float64Array.from(centers.subarray(2 * (n - 1), 2 * n));
    const res = await expectNoLeak(() => potentialInterpolation(m, p0, p1, { iterations: 300 }));
    const c = res.curves;
    assert.deepEqual(Array.from(c.data.subarray(0, 2)), Array.from(p0));
    assert.deepEqual(Array.from(c.data.subarray((c.points - 1) * 2)), Array.from(p1));
    const line = integratedPotential(m, straightLines(p0, p1, 2, c.points));
    assert.ok(Math.abs(line[0] - res.straightPotential[0]) < 1e-6 * line[0]);
    assert.ok(res.potential[0] < 0.2 * line[0], `potential ${res.potential[0]} vs straight line ${line[0]}`);
    // The curve bends towards the arc (upwards), where the line runs along y ~ 0.9.
    const mid = c.data[Math.floor(c.points / 2) * 2 + 1];
    assert.ok(mid > 1.5, `midpoint height ${mid}`);
    assert.ok(res.history[res.history.length - 1] < res.history[0]);
  } finally {
    m.dispose();
  }
});

test('the grid-graph distance map is within the 16-neighbour stencil\'s 2.8% of the exact distance in a flat metric', async () => {
  // G = 4 I: distances are 2 |dz| (an isotropic metric keeps the stencil's angles).
  const metric = new ConstantMetric(Float64Array.of(4, 0, 0, 4));
  const grid = latentGrid({ xmin: -1, xmax: 1, ymin: -1, ymax: 1, n: 21 });
  const map = await expectNoLeak(() => riemannianDistanceMap(metric, grid, [0.02, -0.01]));
  assert.deepEqual(map.source, [0, 0]);
  map.distances.forEach((dist, i) => {
    const exact = 2 * Math.hypot(grid.points[2 * i], grid.points[2 * i + 1]);
    if (exact === 0) return assert.equal(dist, 0);
    const r = dist / exact;
    assert.ok(r >= 1 - 1e-6 && r <= 1.0276, `node ${i}: graph ${dist}, exact ${exact}`);
  });
  assert.ok(map.refinement.maxRatio < 1.0001 && map.refinement.maxRatio > 0.9999, JSON.stringify(map.refinement));
});
