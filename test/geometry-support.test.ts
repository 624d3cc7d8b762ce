import { test } from 'node:test';
import assert from 'node:assert/strict';
import { farOverNear, medianNearestNeighbourDistance, nearestDistances } from '../src/lib/geometry/support';
import { latentGrid } from '../src/lib/geometry/fields';
import { quantile } from '../src/lib/numerics/statistics';
import { symmetricEigenvalues, logDetSymmetric } from '../src/lib/numerics/dense';

test('nearest distances and the median nearest-neighbour distance on a unit lattice', () => {
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) codes.push(i, j);
  assert.equal(medianNearestNeighbourDistance(codes, 2), 1);
  assert.deepEqual(Array.from(nearestDistances([10, 4, 2.5, 2], codes, 2)), [6, 0.5]);
  assert.equal(quantile([3, 1, 2], 0.5), 2);
});

test('farOverNear: a field that grows with distance from the data gives a ratio > 1, a constant one 1', () => {
  const codes = [0, 0, 0.1, 0, 0, 0.1, 0.1, 0.1];
  const grid = latentGrid({ xmin: -2, xmax: 2, ymin: -2, ymax: 2, n: 21 });
  const dist = nearestDistances(grid.points, codes, 2);
  const grows = farOverNear({ gridPoints: grid.points, gridValues: dist.map((r) => 1 + r), codes, codeValues: [1, 1, 1, 1], d: 2 });
  assert.ok(grows.ratio > 2 && grows.farCount > 0, JSON.stringify(grows));
  const flat = farOverNear({ gridPoints: grid.points, gridValues: new Float64Array(dist.length).fill(5), codes, codeValues: [5, 5, 5, 5], d: 2 });
  assert.equal(flat.ratio, 1);
});

test('symmetric eigenvalues and log det against closed forms', () => {
  // diag(1, 2, 3) rotated: eigenvalues are invariant.
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const r = [c, -s, 0, s, c, 0, 0, 0, 1];
  const dg = [1, 2, 3];
  const a = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) a[i * 3 + j] += r[i * 3 + k] * dg[k] * r[j * 3 + k];
  const ev = symmetricEigenvalues(a, 3);
  [1, 2, 3].forEach((v, i) => assert.ok(Math.abs(ev[i] - v) < 1e-12, `eigenvalue ${i}: ${ev[i]}`));
  assert.ok(Math.abs(logDetSymmetric(a, 3) - Math.log(6)) < 1e-12);
  const ev2 = symmetricEigenvalues([2, 1, 1, 2], 2);
  assert.deepEqual(Array.from(ev2), [1, 3]);
});
