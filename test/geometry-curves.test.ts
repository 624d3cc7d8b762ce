/**
 * Discrete curves: the block-tridiagonal solver, natural cubic splines, lengths under metrics with closed
 * forms and reparametrisation by arc length.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { CubicSplineBatch, arcLengthReparametrize, curveBatch, curveLengths, resampleCurves, straightLines } from '../src/lib/geometry/curves';
import { ConstantMetric, HalfPlaneMetric, LinearPullback } from '../src/lib/geometry/reference-metrics';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';
import { BlockTridiagonalWorkspace, solveBlockTridiagonal } from '../src/lib/numerics/block-tridiagonal';

before(setupBackend);

test('block Thomas solve matches a dense solve of a random SPD block-tridiagonal system', () => {
  const rng = new Rng(3);
  const [n, d] = [7, 3];
  const dd = d * d;
  const N = n * d;
  // H = B^T B + I for a random block-bidiagonal B, so H is SPD and block-tridiagonal.
  const dense = new Float64Array(N * N);
  const bmat = new Float64Array(N * N);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        bmat[(k * d + i) * N + k * d + j] = rng.normal();
        if (k + 1 < n) bmat[(k * d + i) * N + (k + 1) * d + j] = rng.normal();
      }
    }
  }
  for (let r = 0; r < N; r++) for (let c = 0; c < N; c++) {
    let s = r === c ? 1 : 0;
    for (let q = 0; q < N; q++) s += bmat[q * N + r] * bmat[q * N + c];
    dense[r * N + c] = s;
  }
  const diag = new Float64Array(n * dd);
  const upper = new Float64Array((n - 1) * dd);
  for (let k = 0; k < n; k++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    diag[k * dd + i * d + j] = dense[(k * d + i) * N + k * d + j];
    if (k + 1 < n) upper[k * dd + i * d + j] = dense[(k * d + i) * N + (k + 1) * d + j];
  }
  const want = Float64Array.from({ length: N }, () => rng.normal());
  const rhs = Float64Array.from({ length: N }, (_, r) => want.reduce((s, x, c) => s + dense[r * N + c] * x, 0));
  const x = new Float64Array(N);
  assert.ok(solveBlockTridiagonal({ n, d, diag, diagOffset: 0, upper, upperOffset: 0 }, null, rhs, x, new BlockTridiagonalWorkspace()));
  x.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-9, `x[${i}] = ${v}, want ${want[i]}`));
});

test('natural cubic splines interpolate the knots, are C2 and keep straight lines straight', () => {
  const knots = curveBatch(1, 6, 2, Float64Array.from([0, 0, 1, 2, 2, 1, 3, 3, 4, 0, 5, 2]));
  const spline = new CubicSplineBatch(knots);
  const at = spline.at(Float64Array.from({ length: 6 }, (_, i) => i / 5));
  assert.deepEqual(Array.from(at.data), Array.from(knots.data));
  for (let i = 1; i < 5; i++) {
    const t = i / 5;
    const [left, right] = [spline.at([t - 1e-9, t], 2), spline.at([t, t + 1e-9], 2)];
    for (let j = 0; j < 2; j++) assert.ok(Math.abs(left.data[j] - right.data[2 + j]) < 1e-4, `second derivative jumps at knot ${i}`);
  }
  const line = straightLines(Float64Array.of(-1, 2), Float64Array.of(3, -2), 2, 5);
  const fine = resampleCurves(line, 17);
  for (let i = 0; i < 17; i++) {
    const t = i / 16;
    assert.ok(Math.abs(fine.data[2 * i] - (-1 + 4 * t)) < 1e-12 && Math.abs(fine.data[2 * i + 1] - (2 - 4 * t)) < 1e-12);
  }
  assert.equal(fine.data[0], -1);
  assert.equal(fine.data[33], -2);
});

test('lengths: constant metric exactly, linear pull-back exactly, half-plane vertical segment ln(y1/y0)', async () => {
  await expectNoLeak(() => {
    const seg = straightLines(Float64Array.of(0.5, 1), Float64Array.of(2, -1), 2, 4);
    const A = Float64Array.of(2, 0.5, 0.5, 1);
    const D = [1.5, -2];
    const want = Math.sqrt(D[0] * (A[0] * D[0] + A[1] * D[1]) + D[1] * (A[2] * D[0] + A[3] * D[1]));
    assert.ok(Math.abs(curveLengths(new ConstantMetric(A), seg)[0] - want) < 1e-5 * want);
    const lin = new LinearPullback([1, 2, 0, 0, 1, 3], 2);
    const f = [D[0] * 1 + D[1] * 0, D[0] * 2 + D[1] * 1, D[0] * 0 + D[1] * 3];
    assert.ok(Math.abs(curveLengths(lin, seg)[0] - Math.hypot(...f)) < 1e-5 * Math.hypot(...f));
    lin.dispose();
    const vertical = straightLines(Float64Array.of(0, 1), Float64Array.of(0, Math.E), 2, 2);
    const len = curveLengths(new HalfPlaneMetric(), vertical, { subdivisions: 64 })[0];
    assert.ok(Math.abs(len - 1) < 1e-4, `half-plane length ${len}`);
  });
});

test('arc-length reparametrisation gives equal hyperbolic steps: y_k = e^(k / (n - 1)) on a vertical segment', async () => {
  await expectNoLeak(() => {
    const vertical = straightLines(Float64Array.of(0.25, 1), Float64Array.of(0.25, Math.E), 2, 3);
    const { curves, lengths } = arcLengthReparametrize(new HalfPlaneMetric(), vertical, 12, { subdivisions: 64 });
    assert.ok(Math.abs(lengths[0] - 1) < 1e-4);
    for (let k = 0; k < 12; k++) {
      assert.equal(curves.data[2 * k], 0.25);
      assert.ok(Math.abs(curves.data[2 * k + 1] - Math.exp(k / 11)) < 2e-4, `frame ${k}: y = ${curves.data[2 * k + 1]}`);
    }
    assert.equal(curves.data[1], 1);
    assert.equal(curves.data[23], Math.E);
  });
});
