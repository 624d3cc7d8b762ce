/** k-means and k-medoids on well-separated blobs: recovery, seeding, edge cases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kmeans, kmeansPlusPlus, kmedoids } from '../src/lib/stats/kmeans';
import { Rng } from '../src/lib/util/rng';

/** n points in each of the blobs around `centres` (dim 2) with spread `sd`; labels give the true blob. */
function blobs(centres: number[][], n: number, sd: number, seed: number): { data: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const data = new Float32Array(centres.length * n * 2);
  const labels = new Int32Array(centres.length * n);
  centres.forEach((c, b) => {
    for (let i = 0; i < n; i++) {
      const r = b * n + i;
      data[2 * r] = c[0] + sd * rng.normal();
      data[2 * r + 1] = c[1] + sd * rng.normal();
      labels[r] = b;
    }
  });
  return { data, labels };
}

/** True if the two labelings are the same partition (up to renaming). */
function samePartition(a: Int32Array, b: Int32Array): boolean {
  const map = new Map<number, number>();
  const used = new Set<number>();
  for (let i = 0; i < a.length; i++) {
    const m = map.get(a[i]);
    if (m === undefined) {
      if (used.has(b[i])) return false;
      map.set(a[i], b[i]);
      used.add(b[i]);
    } else if (m !== b[i]) return false;
  }
  return true;
}

const CENTRES = [
  [0, 0],
  [10, 0],
  [0, 10],
  [10, 10],
  [5, 20],
];

test('k-means recovers well-separated blobs, with centres at the blob means', () => {
  const { data, labels } = blobs(CENTRES, 200, 0.5, 1);
  const r = kmeans(data, 2, 5, { seed: 3 });
  assert.ok(samePartition(r.assignments, labels), 'wrong partition');
  for (let c = 0; c < 5; c++) {
    const cx = r.centers[2 * c];
    const cy = r.centers[2 * c + 1];
    const nearest = Math.min(...CENTRES.map(([x, y]) => Math.hypot(cx - x, cy - y)));
    assert.ok(nearest < 0.15, `centre ${c} (${cx}, ${cy}) is ${nearest} from every blob`);
  }
  let inertia = 0;
  for (let i = 0; i < labels.length; i++) {
    const c = r.assignments[i];
    inertia += (data[2 * i] - r.centers[2 * c]) ** 2 + (data[2 * i + 1] - r.centers[2 * c + 1]) ** 2;
  }
  assert.ok(Math.abs(inertia - r.inertia) < 1e-3 * inertia, 'inertia is not the sum of squared distances');
  assert.ok(r.iterations >= 1 && r.iterations <= 100);
});

test('k-means is reproducible from its seed, and restarts keep the lowest inertia', () => {
  const { data } = blobs(CENTRES, 100, 2.5, 2); // overlapping: starts disagree
  const a = kmeans(data, 2, 5, { seed: 11 });
  const b = kmeans(data, 2, 5, { seed: 11 });
  assert.deepEqual(a.centers, b.centers);
  assert.deepEqual(a.assignments, b.assignments);
  const singles = [1, 2, 3, 4, 5, 6].map((s) => kmeans(data, 2, 5, { seed: s, restarts: 1 }).inertia);
  const many = kmeans(data, 2, 5, { seed: 1, restarts: 6 }).inertia;
  assert.ok(many <= Math.max(...singles) + 1e-9, 'six restarts did worse than the worst single start');
});

test('k-means++ seeding picks distinct points, and k-means copes with duplicate points and k = n', () => {
  const { data } = blobs(CENTRES, 50, 0.5, 3);
  const seeds = kmeansPlusPlus(data, 2, 5, new Rng(1));
  const keys = new Set<string>();
  for (let c = 0; c < 5; c++) keys.add(`${seeds[2 * c]},${seeds[2 * c + 1]}`);
  assert.equal(keys.size, 5);

  // 3 distinct points, each 4 times, k = 3: zero inertia.
  const dup = Float32Array.from([0, 0, 5, 5, 9, 1].flatMap((v, i, a) => (i % 2 === 0 ? [] : Array(4).fill([a[i - 1], v]).flat())));
  const r = kmeans(dup, 2, 3, { seed: 1 });
  assert.ok(r.inertia < 1e-9);
  // More clusters than distinct points: centres coincide, clusters go empty and are re-seeded; it ends.
  const few = kmeans(Float32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2, 2]), 2, 5, { seed: 1 });
  assert.ok(few.inertia < 1e-12 && few.iterations < 100);
  const all = kmeans(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3, { seed: 1 });
  assert.equal(new Set(all.assignments).size, 3);
  assert.throws(() => kmeans(data, 2, 0), /k must be an integer/);
  assert.throws(() => kmeans(data.subarray(1), 2, 3), /not rows of 2/);
});

test('k-means on 60,000 2-D codes with k = 64 is fast enough for the RBF fit', () => {
  const rng = new Rng(5);
  const data = Float32Array.from({ length: 60000 * 2 }, () => 3 * rng.normal());
  const t0 = Date.now();
  const r = kmeans(data, 2, 64, { seed: 1, restarts: 2, maxIterations: 30 });
  const ms = Date.now() - t0;
  assert.equal(r.assignments.length, 60000);
  assert.ok(ms < 10000, `${ms} ms`);
});

function distanceMatrix(data: Float32Array): Float64Array {
  const n = data.length / 2;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i * n + j] = Math.hypot(data[2 * i] - data[2 * j], data[2 * i + 1] - data[2 * j + 1]);
  return d;
}

test('k-medoids on a distance matrix recovers blobs; medoids are central members; seeded', () => {
  const { data, labels } = blobs(CENTRES, 40, 0.5, 4);
  const dist = distanceMatrix(data);
  const r = kmedoids(dist, 5, { seed: 2 });
  assert.ok(samePartition(r.assignments, labels), 'wrong partition');
  const n = labels.length;
  r.medoids.forEach((m, c) => {
    assert.equal(r.assignments[m], c, 'a medoid belongs to its own cluster');
    // No member of the cluster has a smaller total distance to the others.
    const members = Array.from(r.assignments.keys()).filter((i) => r.assignments[i] === c);
    const total = (i: number): number => members.reduce((s, j) => s + dist[i * n + j], 0);
    assert.ok(members.every((i) => total(i) >= total(m) - 1e-9));
  });
  let cost = 0;
  for (let i = 0; i < n; i++) cost += dist[i * n + r.medoids[r.assignments[i]]];
  assert.ok(Math.abs(cost - r.cost) < 1e-6 * cost);
  assert.deepEqual(kmedoids(dist, 5, { seed: 2 }), r);
  assert.throws(() => kmedoids(new Float64Array(10), 2), /not N x N/);
});
