/**
 * geometry/log-volume.ts: the log-volume of any metric and its gradient, against closed forms, and the
 * generic route (Cholesky through tfjs ops) against a metric's own closed form; HMC takes any Metric.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { logSqrtDet, logVolumeWithGrad } from '../src/lib/geometry/log-volume';
import { HalfPlaneMetric } from '../src/lib/geometry/reference-metrics';
import { PosteriorMetric } from '../src/lib/geometry/posterior-metric';
import type { Metric } from '../src/lib/geometry/metric';
import { hmc, riemannianUniform } from '../src/lib/sampling/hmc';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

test('logSqrtDet equals 1/2 log det of random SPD matrices (d = 1..5)', async () => {
  const rng = new Rng(4);
  await expectNoLeak(() => {
    for (const d of [1, 2, 3, 5]) {
      const a = rng.normals(d * d);
      // G = A A^T + I/2, and its determinant by Gaussian elimination in float64.
      const g = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) g[i * d + j] += a[i * d + k] * a[j * d + k];
      for (let i = 0; i < d; i++) g[i * d + i] += 0.5;
      const m = Float64Array.from(g);
      let logDet = 0;
      for (let c = 0; c < d; c++) {
        logDet += Math.log(m[c * d + c]);
        for (let r = c + 1; r < d; r++) {
          const f = m[r * d + c] / m[c * d + c];
          for (let k = c; k < d; k++) m[r * d + k] -= f * m[c * d + k];
        }
      }
      const got = tf.tidy(() => logSqrtDet(tf.tensor3d(Float32Array.from(g), [1, d, d])).dataSync()[0]);
      assert.ok(Math.abs(got - 0.5 * logDet) < 1e-4 * Math.max(1, Math.abs(logDet)), `d = ${d}: ${got} vs ${0.5 * logDet}`);
    }
  });
});

test('half-plane: log sqrt det G = -2 log y with gradient (0, -2 / y), by the generic route', async () => {
  const metric = new HalfPlaneMetric();
  const pts = [0.3, 0.5, -1, 1, 2, 3.5];
  await expectNoLeak(() => {
    const { value, grad } = tf.tidy(() => logVolumeWithGrad(metric, tf.tensor2d(pts, [3, 2])));
    const v = value.dataSync();
    const g = grad.dataSync();
    tf.dispose([value, grad]);
    for (let b = 0; b < 3; b++) {
      const y = pts[2 * b + 1];
      assert.ok(Math.abs(v[b] + 2 * Math.log(y)) < 1e-5, `value at y = ${y}: ${v[b]}`);
      assert.ok(Math.abs(g[2 * b]) < 1e-6);
      assert.ok(Math.abs(g[2 * b + 1] + 2 / y) < 1e-4 * (2 / y), `d/dy at y = ${y}: ${g[2 * b + 1]}`);
    }
  });
});

test("a metric's own log-volume is used when declared, and the generic route agrees with it", async () => {
  const rng = new Rng(5);
  const d = 3;
  const k = 6;
  const posterior = new PosteriorMetric({ dim: d, centers: rng.normals(k * d), precisions: Float32Array.from({ length: k * d }, () => 0.5 + 2 * rng.uniform()), rho: 1.5, lambda: 0.05, tau: 0 });
  // The same metric with only tensor(): the samplers must work from that alone.
  const plain: Metric = { dim: d, tensor: (z) => posterior.tensor(z) };
  const pts = rng.normals(5 * d);
  try {
    await expectNoLeak(() => {
      const own = tf.tidy(() => logVolumeWithGrad(posterior, tf.tensor2d(pts, [5, d])));
      const generic = tf.tidy(() => logVolumeWithGrad(plain, tf.tensor2d(pts, [5, d])));
      const [ov, og, gv, gg] = [own.value, own.grad, generic.value, generic.grad].map((t) => t.dataSync());
      tf.dispose([own.value, own.grad, generic.value, generic.grad]);
      ov.forEach((x, i) => assert.ok(Math.abs(x - gv[i]) < 1e-4 * Math.max(1, Math.abs(x)), `value ${i}: ${x} vs ${gv[i]}`));
      og.forEach((x, i) => assert.ok(Math.abs(x - gg[i]) < 1e-3 * Math.max(1, Math.abs(x)), `grad ${i}: ${x} vs ${gg[i]}`));
    });
    // HMC on the plain metric gives the chains HMC gives on the posterior metric (same seed, same target).
    const starts = rng.normals(8 * d);
    const a = hmc(riemannianUniform(posterior), starts, { iterations: 5, seed: 3 });
    const b = hmc(riemannianUniform(plain), starts, { iterations: 5, seed: 3 });
    a.samples.forEach((x, i) => assert.ok(Math.abs(x - b.samples[i]) < 1e-3, `sample ${i}: ${x} vs ${b.samples[i]}`));
  } finally {
    posterior.dispose();
  }
});
