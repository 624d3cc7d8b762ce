/**
 * Connecting geodesics against closed forms: flat metrics give the straight line, the Poincare half-plane
 * (a non-pull-back Metric) and the stereographic sphere (a curved pull-back) their known distances; plus
 * the solver's contracts: exact end points, energy never increasing, batching not changing answers,
 * failure flagged rather than hidden, no leaked tensors.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Metric } from '../src/lib/geometry/metric';
import { curveEnergyModel } from '../src/lib/geometry/curve-energy';
import { connectingGeodesics, geodesicInterpolation } from '../src/lib/geometry/geodesics';
import { ConstantMetric, HalfPlaneMetric, LinearPullback, StereographicSphere, halfPlaneDistance, stereographicSphereDistance } from '../src/lib/geometry/reference-metrics';
import { expectedMetric } from '../src/lib/geometry/decoder-metric';
import { GaussianDecoder } from '../src/lib/models/decoder';
import { createMlp } from '../src/lib/nn/mlp';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

const P0 = [
  [-1, 1],
  [0, 0.5],
  [-2, 2],
  [0.3, 0.8],
];
const P1 = [
  [1, 1],
  [3, 2],
  [2, 0.4],
  [0.3, 2.5],
];

function smallDecoder(seed: number): GaussianDecoder {
  const rng = new Rng(seed);
  const mean = createMlp({ sizes: [2, 16, 32], activations: ['tanh', 'sigmoid'] }, rng);
  const std = createMlp({ sizes: [2, 16, 32], activations: ['tanh', 'softplus'] }, rng);
  return new GaussianDecoder(mean, { kind: 'net', net: std });
}

/** K K^T for K [d, e] row-major. */
function gram(k: number[], d: number, e: number): Float64Array {
  return Float64Array.from({ length: d * d }, (_, q) => {
    const [i, j] = [Math.floor(q / d), q % d];
    return k.slice(i * e, (i + 1) * e).reduce((s, x, c) => s + x * k[j * e + c], 0);
  });
}

/** Max distance of the interior points from the chord p0-p1. */
function offLine(data: Float64Array, t: number, b: number): number {
  const [x0, y0, x1, y1] = [data[b * t * 2], data[b * t * 2 + 1], data[(b * t + t - 1) * 2], data[(b * t + t - 1) * 2 + 1]];
  const len = Math.hypot(x1 - x0, y1 - y0);
  let worst = 0;
  for (let i = 1; i < t - 1; i++) {
    const [x, y] = [data[(b * t + i) * 2], data[(b * t + i) * 2 + 1]];
    worst = Math.max(worst, Math.abs((x - x0) * (y1 - y0) - (y - y0) * (x1 - x0)) / len);
  }
  return worst;
}

test('flat metrics: the straight line, with length |K^T (p1 - p0)|, for a pull-back and a plain Metric', async () => {
  const kernel = [1, 2, 0.5, -1, 0, 3]; // K [2, 3]
  const lin = new LinearPullback(kernel, 2);
  // K K^T as a plain (non-pull-back) constant metric: both must give the same straight geodesics.
  const A = gram(kernel, 2, 3);
  for (const metric of [lin, new ConstantMetric(A)]) {
    const res = await expectNoLeak(() => connectingGeodesics(metric, P0, P1, { points: 12 }));
    P0.forEach((p, b) => {
      const dz = [P1[b][0] - p[0], P1[b][1] - p[1]];
      const f = [0, 1, 2].map((e) => dz[0] * kernel[e] + dz[1] * kernel[3 + e]);
      const want = Math.hypot(...f);
      assert.ok(Math.abs(res.lengths[b] - want) < 1e-5 * want, `pair ${b}: length ${res.lengths[b]}, want ${want}`);
      assert.ok(offLine(res.curves.data, 12, b) < 1e-5, `pair ${b} leaves the line by ${offLine(res.curves.data, 12, b)}`);
      assert.ok(res.converged[b]);
    });
  }
  lin.dispose();
});

test('Poincare half-plane: lengths match arccosh(1 + |p - q|^2 / (2 y_p y_q)) and curves are circular arcs', async () => {
  const res = await expectNoLeak(() => connectingGeodesics(new HalfPlaneMetric(), P0, P1, { points: 64 }));
  P0.forEach((p, b) => {
    const want = halfPlaneDistance(p, P1[b]);
    assert.ok(Math.abs(res.lengths[b] - want) < 1e-3 * want, `pair ${b}: length ${res.lengths[b]}, want ${want}`);
    assert.ok(res.converged[b]);
  });
  // Pair 0 is symmetric about x = 0: its geodesic is the circle of radius sqrt(2) about the origin.
  for (let i = 0; i < 64; i++) {
    const r = Math.hypot(res.curves.data[2 * i], res.curves.data[2 * i + 1]);
    assert.ok(Math.abs(r - Math.SQRT2) < 1e-3, `point ${i} at radius ${r}`);
  }
  // Pair 3 is vertical: the geodesic is the vertical line itself.
  assert.ok(offLine(res.curves.data, 64, 3) < 1e-6);
});

test('stereographic sphere (a curved pull-back): lengths match great-circle distances', async () => {
  const q0 = [
    [-1, 0.2],
    [0.5, -0.5],
    [2, 1],
  ];
  const q1 = [
    [1, 0.3],
    [-0.3, 1.5],
    [-1, -2],
  ];
  const res = await expectNoLeak(() => connectingGeodesics(new StereographicSphere(), q0, q1, { points: 64 }));
  q0.forEach((p, b) => {
    const want = stereographicSphereDistance(p, q1[b]);
    assert.ok(Math.abs(res.lengths[b] - want) < 1e-3 * want, `pair ${b}: length ${res.lengths[b]}, want ${want}`);
    assert.ok(res.converged[b]);
  });
});

test('curves start and end bit-exactly at their pairs, and coincident ends give the constant curve', () => {
  const p0 = [
    [0.1 + 0.2, 1 / 3],
    [0.5, 0.7],
  ];
  const p1 = [
    [Math.PI / 7, Math.SQRT2],
    [0.5, 0.7],
  ];
  const res = connectingGeodesics(new HalfPlaneMetric(), p0, p1, { points: 9 });
  for (let b = 0; b < 2; b++) {
    assert.deepEqual(Array.from(res.curves.data.subarray(b * 18, b * 18 + 2)), p0[b]);
    assert.deepEqual(Array.from(res.curves.data.subarray(b * 18 + 16, b * 18 + 18)), p1[b]);
  }
  assert.equal(res.lengths[1], 0);
  assert.ok(res.converged[1]);
});

test('the energy never increases across iterations, for Gauss-Newton and Newton steps', () => {
  const decoder = smallDecoder(5);
  const metric = expectedMetric(decoder);
  const p0 = [[-2, -1.5], [1.5, -2], [0, 2]];
  const p1 = [[2, 1.5], [-1, 2.5], [0.2, -2]];
  for (const secondOrder of ['never', 'always', 'auto'] as const) {
    let last: Float64Array | null = null;
    let steps = 0;
    connectingGeodesics(metric, p0, p1, {
      points: 16,
      secondOrder,
      onIteration: ({ energies }) => {
        if (last) energies.forEach((e, b) => assert.ok(e <= last![b], `${secondOrder}: curve ${b} energy rose from ${last![b]} to ${e}`));
        last = energies;
        steps++;
      },
    });
    assert.ok(steps > 0);
  }
  const half = new HalfPlaneMetric();
  let prev: Float64Array | null = null;
  connectingGeodesics(half, P0, P1, {
    points: 32,
    onIteration: ({ energies }) => {
      if (prev) energies.forEach((e, b) => assert.ok(e <= prev![b]));
      prev = energies;
    },
  });
  decoder.dispose();
});

test('a batch gives the same curves as solving each pair alone', async () => {
  const decoder = smallDecoder(9);
  const metric = expectedMetric(decoder);
  const rng = new Rng(4);
  const draw = () => Array.from({ length: 5 }, () => [4 * rng.uniform() - 2, 4 * rng.uniform() - 2]);
  const [p0, p1] = [draw(), draw()];
  const batch = await expectNoLeak(() => connectingGeodesics(metric, p0, p1, { points: 12 }));
  p0.forEach((p, b) => {
    const alone = connectingGeodesics(metric, [p], [p1[b]], { points: 12 });
    assert.ok(Math.abs(alone.lengths[0] - batch.lengths[b]) <= 1e-9 * batch.lengths[b], `pair ${b}: ${alone.lengths[0]} alone, ${batch.lengths[b]} batched`);
    alone.curves.data.forEach((x, i) => assert.ok(Math.abs(x - batch.curves.data[b * 24 + i]) < 1e-9));
    assert.equal(alone.converged[0], batch.converged[b]);
  });
  // Small chunks (many solver calls) change nothing either.
  const chunked = connectingGeodesics(metric, p0, p1, { points: 12, batchPoints: 20 });
  chunked.lengths.forEach((l, b) => assert.ok(Math.abs(l - batch.lengths[b]) <= 1e-9 * l));
  decoder.dispose();
});

test('an unfinished solve is flagged converged: false and still returns its best curve', () => {
  const res = connectingGeodesics(new HalfPlaneMetric(), [[-2, 0.5]], [[2, 0.5]], { points: 32, maxIter: 1 });
  assert.equal(res.converged[0], false);
  assert.equal(res.iterations, 1);
  // Not the straight line: one step already bends the curve up toward the geodesic.
  assert.ok(offLine(res.curves.data, 32, 0) > 0.1);
  const straight = 4 / 0.5;
  assert.ok(res.lengths[0] < straight);
});

test('geodesic interpolation frames sit at equal arc length along the geodesic', () => {
  const { frames, geodesics } = geodesicInterpolation(new HalfPlaneMetric(), [[0, 1]], [[0, Math.E]], 12, { points: 16 });
  assert.ok(Math.abs(geodesics.lengths[0] - 1) < 1e-3);
  for (let k = 0; k < 12; k++) assert.ok(Math.abs(frames.data[2 * k + 1] - Math.exp(k / 11)) < 1e-3, `frame ${k}: ${frames.data[2 * k + 1]}`);
});

test('bad input: mismatched pairs, wrong dimension, too few points', () => {
  const half = new HalfPlaneMetric();
  assert.throws(() => connectingGeodesics(half, [[0, 1]], [[1, 1], [2, 1]]), /p0 has 1 points but p1 has 2/);
  assert.throws(() => connectingGeodesics(half, [[0, 1, 2]], [[1, 1]]), /p0\[0\]: expected 2 coordinates/);
  assert.throws(() => connectingGeodesics(half, [[0, 1]], [[1, 1]], { points: 2 }), /points must be an integer >= 3/);
});

test('the model gradient is the gradient of the discrete energy, for pull-back and plain metrics', async () => {
  const decoder = smallDecoder(12);
  const metrics = [expectedMetric(decoder), new AnisotropicMetric()];
  const x = Float64Array.of(-0.9, 0.4, -0.2, 0.9, 0.5, 0.6, 1.1, -0.2); // 4 interior points of a T = 6 curve
  for (const metric of metrics) {
    const model = curveEnergyModel(metric, Float64Array.of(-1.5, -0.5), Float64Array.of(1.5, 0.5), 6);
    const energy = (xx: Float64Array) => model.evaluate(Int32Array.of(0), xx).sq.reduce((a, b) => a + b, 0);
    const sys = await expectNoLeak(() => model.evaluate(Int32Array.of(0), x));
    const h = 1e-3;
    const scale = Math.max(...Array.from(sys.grad, Math.abs));
    x.forEach((_, i) => {
      const [xp, xm] = [Float64Array.from(x), Float64Array.from(x)];
      xp[i] += h;
      xm[i] -= h;
      const numeric = (energy(xp) - energy(xm)) / (2 * h);
      assert.ok(Math.abs(numeric - 2 * sys.grad[i]) < 2e-3 * 2 * scale, `coordinate ${i}: numeric ${numeric}, model ${2 * sys.grad[i]}`);
    });
    model.dispose();
  }
  decoder.dispose();
});

/** M(z) = s(z) [[2, 0.5], [0.5, 1]] with s varying in both coordinates: not a pull-back. */
class AnisotropicMetric implements Metric {
  readonly dim = 2;

  tensor(z: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [x, y] = tf.split(z, 2, 1);
      const s = tf.add(1, tf.mul(2, tf.sigmoid(tf.add(tf.mul(x, 1.5), tf.mul(y, -0.7)))));
      return tf.mul(tf.reshape(s, [-1, 1, 1]), tf.tensor3d([2, 0.5, 0.5, 1], [1, 2, 2])) as tf.Tensor3D;
    });
  }
}
