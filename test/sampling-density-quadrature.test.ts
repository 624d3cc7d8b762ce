/** The adaptive midpoint rule against densities whose mass is known: a narrow Gaussian a coarse grid misses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptiveMass } from '../src/lib/sampling/density-quadrature';
import { latentGrid } from '../src/lib/geometry/fields';

/** log N(z; m, s^2 I) in 2-D at points [N, 2]. */
const gaussian = (m: number[], s: number) => (pts: Float64Array) =>
  Float64Array.from({ length: pts.length / 2 }, (_, p) => -((pts[2 * p] - m[0]) ** 2 + (pts[2 * p + 1] - m[1]) ** 2) / (2 * s * s) - Math.log(2 * Math.PI * s * s));

test('a narrow Gaussian between grid nodes: the fixed grid is off, the adaptive rule gets 1', () => {
  const grid = latentGrid({ xmin: -1, xmax: 1, ymin: -1, ymax: 1, n: 12 });
  const f = gaussian([0.13, -0.31], 0.04);
  const res = adaptiveMass(f, grid, undefined, { cellTolerance: 1e-4, maxLevels: 6, maxEvaluations: 20000 });
  assert.ok(Math.abs(res.history[0] - 1) > 0.05, `the 12 x 12 grid alone: ${res.history[0]}`);
  assert.ok(Math.abs(res.mass - 1) < 2e-3, `adaptive: ${res.mass} (history ${res.history.map((m) => m.toFixed(4)).join(', ')})`);
  assert.ok(res.lastChange < 5e-3);
});

test('a mixture with half its mass outside the box counts only the inside; initial values are reused', () => {
  const grid = latentGrid({ xmin: -1, xmax: 1, ymin: -1, ymax: 1, n: 21 });
  const inside = gaussian([0, 0], 0.1);
  const outside = gaussian([5, 5], 0.1);
  const f = (pts: Float64Array) => inside(pts).map((a, i) => Math.log(0.5 * Math.exp(a) + 0.5 * Math.exp(outside(pts)[i])));
  const init = f(Float64Array.from(grid.points));
  const res = adaptiveMass(f, grid, init, { cellTolerance: 1e-4, maxLevels: 5 });
  assert.ok(Math.abs(res.mass - 0.5) < 2e-3, `mass ${res.mass}`);
  assert.ok(res.evaluations < 20000 && res.evaluations % 4 === 0, `${res.evaluations} evaluations, none for the initial grid`);
  assert.deepEqual(res.box, { xmin: -1.05, xmax: 1.05, ymin: -1.05, ymax: 1.05 });
});
