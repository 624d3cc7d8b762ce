/**
 * Geodesic distance matrices against the half-plane's closed form, the progress bar's output, and
 * k-medoids clustering (stats/kmeans.ts) on the distances.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { geodesicDistanceMatrix } from '../src/lib/geometry/distances';
import { kmedoids } from '../src/lib/stats/kmeans';
import { HalfPlaneMetric, halfPlaneDistance } from '../src/lib/geometry/reference-metrics';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

test('half-plane distance matrix: symmetric, zero diagonal, closed-form entries, progress with an ETA', async () => {
  const pts = [
    [-1, 1],
    [0, 0.5],
    [2, 0.4],
    [0.3, 2.5],
    [-2, 2],
  ];
  const stream = new PassThrough();
  let log = '';
  stream.on('data', (chunk) => (log += String(chunk)));
  const res = await expectNoLeak(() => geodesicDistanceMatrix(new HalfPlaneMetric(), pts, { points: 48, chunkPairs: 4, progress: { mode: 'log', stream } }));
  const n = pts.length;
  assert.equal(res.unconverged, 0);
  for (let i = 0; i < n; i++) {
    assert.equal(res.distances[i * n + i], 0);
    for (let j = 0; j < n; j++) {
      assert.equal(res.distances[i * n + j], res.distances[j * n + i]);
      if (i === j) continue;
      const want = halfPlaneDistance(pts[i], pts[j]);
      assert.ok(Math.abs(res.distances[i * n + j] - want) < 2e-3 * want, `(${i}, ${j}): ${res.distances[i * n + j]} vs ${want}`);
    }
  }
  // The log mode prints a line per tenth, each with elapsed<remaining time.
  assert.match(log, /geodesic distances \[#+\] 100% 10\/10 pair \d+\.\ds<0\.0s/);
});

test('k-medoids on geodesic distances separates two clusters', () => {
  const rng = new Rng(8);
  const a = Array.from({ length: 6 }, () => [-2 + 0.2 * rng.normal(), 1 + 0.1 * rng.normal()]);
  const b = Array.from({ length: 6 }, () => [2 + 0.2 * rng.normal(), 1 + 0.1 * rng.normal()]);
  const pts = [...a, ...b];
  const res = geodesicDistanceMatrix(new HalfPlaneMetric(), pts, { points: 16, progress: false });
  const { assignments: labels, medoids } = kmedoids(res.distances, 2, { seed: 1 });
  assert.equal(new Set(labels.slice(0, 6)).size, 1);
  assert.equal(new Set(labels.slice(6)).size, 1);
  assert.notEqual(labels[0], labels[6]);
  assert.equal(medoids.length, 2);
});
