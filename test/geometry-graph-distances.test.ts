/**
 * k-NN graph distances against the half-plane's closed-form distances: never shorter than the geodesic
 * (a graph path is a curve), and within a few per cent on a dense cloud; a cloud of two far clusters
 * gets a connected graph by raising k.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { graphDistanceMatrix } from '../src/lib/geometry/graph-distances';
import { HalfPlaneMetric, halfPlaneDistance } from '../src/lib/geometry/reference-metrics';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

test('half-plane: graph distances bound the hyperbolic distance from above, a few per cent above it on a dense cloud', async () => {
  const rng = new Rng(2);
  const n = 150;
  const pts = new Float64Array(2 * n);
  for (let p = 0; p < n; p++) {
    pts[2 * p] = 4 * rng.uniform() - 2;
    pts[2 * p + 1] = 0.5 + 1.5 * rng.uniform();
  }
  const g = await expectNoLeak(() => graphDistanceMatrix(new HalfPlaneMetric(), pts, { neighbors: 12, quadrature: 16 }));
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) {
    assert.equal(g.distances[i * n + i], 0);
    for (let j = i + 1; j < n; j++) {
      const exact = halfPlaneDistance(pts.subarray(2 * i, 2 * i + 2), pts.subarray(2 * j, 2 * j + 2));
      const r = g.distances[i * n + j] / exact;
      assert.equal(g.distances[i * n + j], g.distances[j * n + i]);
      assert.ok(r >= 1 - 5e-4, `pair ${i}, ${j}: graph ${g.distances[i * n + j]} < exact ${exact}`);
      ratios.push(r);
    }
  }
  ratios.sort((a, b) => a - b);
  const [median, q90] = [ratios[Math.floor(0.5 * ratios.length)], ratios[Math.floor(0.9 * ratios.length)]];
  // Detours: a few per cent typically, more for close pairs that are not neighbours (zig-zags).
  assert.ok(median < 1.04 && q90 < 1.1, `graph / exact: median ${median}, q90 ${q90}, max ${ratios[ratios.length - 1]}`);
});

test('two far clusters: k is raised until the graph is connected', () => {
  const rng = new Rng(3);
  const pts = new Float64Array(2 * 40);
  for (let p = 0; p < 40; p++) {
    pts[2 * p] = (p < 20 ? -3 : 3) + 0.1 * rng.normal();
    pts[2 * p + 1] = 1 + 0.1 * rng.uniform();
  }
  const g = graphDistanceMatrix(new HalfPlaneMetric(), pts, { neighbors: 3 });
  assert.ok(g.neighbors >= 20, `k = ${g.neighbors}`);
  assert.ok(g.distances.every(Number.isFinite));
});
