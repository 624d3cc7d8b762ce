/**
 * Exp and Log maps: Christoffel symbols by autodiff against central differences (and the half-plane's
 * closed form), the geodesic ODE against known geodesics, Exp(Log) round trips and exact lengths.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { christoffelSymbols, expMap, logMap } from '../src/lib/geometry/expmap';
import { curveLengths } from '../src/lib/geometry/curves';
import { HalfPlaneMetric, halfPlaneDistance } from '../src/lib/geometry/reference-metrics';
import { expectedMetric } from '../src/lib/geometry/decoder-metric';
import { GaussianDecoder } from '../src/lib/models/decoder';
import { createMlp } from '../src/lib/nn/mlp';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

function smallDecoder(seed: number): GaussianDecoder {
  const rng = new Rng(seed);
  const mean = createMlp({ sizes: [2, 16, 32], activations: ['tanh', 'sigmoid'] }, rng);
  const std = createMlp({ sizes: [2, 16, 32], activations: ['tanh', 'softplus'] }, rng);
  return new GaussianDecoder(mean, { kind: 'net', net: std });
}

test('half-plane Christoffel symbols, by autodiff and by central differences, match the closed form', async () => {
  const z = Float64Array.of(0.3, 0.7, -1, 2);
  for (const method of ['autodiff', 'fd'] as const) {
    const g = await expectNoLeak(() => christoffelSymbols(new HalfPlaneMetric(), z, { method }));
    for (let p = 0; p < 2; p++) {
      const y = z[2 * p + 1];
      // [k, i, j]: Gamma^x_xy = Gamma^x_yx = -1/y, Gamma^y_xx = 1/y, Gamma^y_yy = -1/y, the rest 0.
      const want = [0, -1 / y, -1 / y, 0, 1 / y, 0, 0, -1 / y];
      want.forEach((w, q) => assert.ok(Math.abs(g[p * 8 + q] - w) < (method === 'fd' ? 2e-4 : 1e-6) * (1 / y), `${method} point ${p} entry ${q}: ${g[p * 8 + q]} vs ${w}`));
    }
  }
});

test('decoder metric: Christoffel symbols by autodiff agree with central differences', async () => {
  const decoder = smallDecoder(2);
  const metric = expectedMetric(decoder);
  const z = Float64Array.of(0.1, -0.4, 1.2, 0.8, -1.5, 0.3);
  const [ad, fd] = await expectNoLeak(() => [christoffelSymbols(metric, z, { method: 'autodiff' }), christoffelSymbols(metric, z, { method: 'fd' })]);
  const scale = Math.max(...Array.from(ad, Math.abs));
  ad.forEach((a, i) => assert.ok(Math.abs(a - fd[i]) < 5e-4 * scale, `entry ${i}: autodiff ${a}, differences ${fd[i]} (scale ${scale})`));
  decoder.dispose();
});

test('Exp follows known half-plane geodesics: vertical lines and circles about the x axis', async () => {
  const res = await expectNoLeak(() => expMap(new HalfPlaneMetric(), [[0, 1], [0, 1]], [[0, 1], [1, 0]], { steps: 40, method: 'autodiff' }));
  // (0, 1) with velocity (0, 1): c(t) = (0, e^t).
  assert.ok(Math.abs(res.endpoints[0]) < 1e-12 && Math.abs(res.endpoints[1] - Math.E) < 1e-5, `vertical: ${Array.from(res.endpoints.subarray(0, 2))}`);
  // (0, 1) with velocity (1, 0): the unit circle about the origin, reaching (tanh 1, 1 / cosh 1) at t = 1.
  assert.ok(Math.abs(res.endpoints[2] - Math.tanh(1)) < 1e-5 && Math.abs(res.endpoints[3] - 1 / Math.cosh(1)) < 1e-5, `circle: ${Array.from(res.endpoints.subarray(2))}`);
  for (let s = 0; s <= 40; s++) {
    const [x, y] = [res.curves.data[(41 + s) * 2], res.curves.data[(41 + s) * 2 + 1]];
    assert.ok(Math.abs(Math.hypot(x, y) - 1) < 1e-6);
  }
});

test('Exp(Log(p1)) returns to p1, and Log lengths match the half-plane distance', async () => {
  const p0 = [[-1, 1], [0, 0.5], [-2, 2]];
  const p1 = [[1, 1], [3, 2], [2, 0.4]];
  const metric = new HalfPlaneMetric();
  const log = await expectNoLeak(() => logMap(metric, p0, p1, { geodesic: { points: 32 } }));
  const back = expMap(metric, p0, log.velocities);
  p0.forEach((p, b) => {
    assert.ok(log.converged[b]);
    const miss = Math.hypot(back.endpoints[2 * b] - p1[b][0], back.endpoints[2 * b + 1] - p1[b][1]);
    assert.ok(miss < 1e-5, `pair ${b}: Exp(Log) misses by ${miss}`);
    const want = halfPlaneDistance(p, p1[b]);
    assert.ok(Math.abs(log.lengths[b] - want) < 1e-3 * want, `pair ${b}: |Log| = ${log.lengths[b]}, distance ${want}`);
  });
});

test('Exp(Log) round trip on a decoder metric', async () => {
  const decoder = smallDecoder(6);
  const metric = expectedMetric(decoder);
  const p0 = [[-1, -0.5], [0.5, 1]];
  const p1 = [[1, 0.5], [-0.5, -1.2]];
  const log = await expectNoLeak(() => logMap(metric, p0, p1));
  const back = expMap(metric, p0, log.velocities);
  p0.forEach((_, b) => {
    assert.ok(log.converged[b], `pair ${b}: shooting did not converge (residual ${log.residuals[b]})`);
    const miss = Math.hypot(back.endpoints[2 * b] - p1[b][0], back.endpoints[2 * b + 1] - p1[b][1]);
    assert.ok(miss < 1e-5, `pair ${b}: Exp(Log) misses by ${miss}`);
    // Shooting and the boundary value solve describe the same geodesic.
    assert.ok(Math.abs(log.lengths[b] - log.geodesics.lengths[b]) < 5e-3 * log.lengths[b]);
  });
  decoder.dispose();
});

test('Exp with exact lengths: the geodesic has the requested length', () => {
  const metric = new HalfPlaneMetric();
  const res = expMap(metric, [[0, 1], [1, 2]], [[3, 1], [-0.2, 0.1]], { lengths: [0.7, 1.3], steps: 60 });
  assert.deepEqual(Array.from(res.lengths), [0.7, 1.3]);
  const measured = curveLengths(metric, res.curves, { subdivisions: 4 });
  measured.forEach((l, b) => assert.ok(Math.abs(l - res.lengths[b]) < 1e-4 * res.lengths[b], `curve ${b}: length ${l}`));
});
