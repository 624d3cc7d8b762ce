/**
 * The geodesic-study pipeline end to end on closed-form metrics: on a linear pull-back (flat, straight
 * geodesics) the length ratio is 1 and geodesic k-medoids sees the stretched axis that Euclidean
 * k-medoids does not; on a bump metric the graph restart finds the way around that a straight start
 * cannot leave.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Metric } from '../src/lib/geometry/metric';
import { HalfPlaneMetric, LinearPullback } from '../src/lib/geometry/reference-metrics';
import { latentGrid } from '../src/lib/geometry/fields';
import { latentGraph } from '../src/lib/geometry/graph';
import { chooseCodePairs, clusteringRun, clusteringSummary, compareWithStraightLines, confusionRows, pairEnds, ratioSummary } from '../src/lib/pipelines/geodesic-study';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';
import { checkGraphDistances, graphCheckSummary } from '../src/lib/pipelines/graph-distance-check';

before(setupBackend);

/** f(z) = (z1, 10 z2): lengths along z2 count ten times. */
function stretchedPlane(): LinearPullback {
  return new LinearPullback([1, 0, 0, 10], 2);
}

test('code pairs: the asked numbers within and across classes, distinct codes, seeded', () => {
  const labels = [0, 0, 0, 1, 1, 2, 2, 2, 2];
  const a = chooseCodePairs(labels, 5, 4, 3);
  assert.equal(a.i.length, 9);
  for (let b = 0; b < 9; b++) {
    assert.notEqual(a.i[b], a.j[b]);
    assert.equal(a.across[b], b < 5 ? 0 : 1);
    assert.equal(labels[a.i[b]] !== labels[a.j[b]], b >= 5);
  }
  assert.deepEqual(chooseCodePairs(labels, 5, 4, 3), a);
  assert.throws(() => chooseCodePairs([0, 1], 1, 0, 1), /cannot find 1 within-class pairs/);
});

test('on a linear pull-back geodesics are the straight lines: ratio 1, converged', async () => {
  const metric = stretchedPlane();
  try {
    const rng = new Rng(2);
    const codes = Float32Array.from({ length: 20 }, () => 4 * rng.uniform() - 2);
    const pairs = chooseCodePairs([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], 3, 3, 1);
    const { p0, p1 } = pairEnds(codes, 2, pairs);
    const cmp = await expectNoLeak(() => compareWithStraightLines(metric, p0, p1, { points: 24 }));
    for (let b = 0; b < 6; b++) {
      assert.ok(cmp.converged[b]);
      const want = Math.hypot(p1[2 * b] - p0[2 * b], 10 * (p1[2 * b + 1] - p0[2 * b + 1]));
      assert.ok(Math.abs(cmp.straightLength[b] - want) < 1e-4 * want, `straight ${cmp.straightLength[b]} vs ${want}`);
      assert.ok(Math.abs(cmp.ratio[b] - 1) < 1e-4, `pair ${b}: ratio ${cmp.ratio[b]}`);
    }
    const s = ratioSummary(cmp.ratio);
    assert.ok(Math.abs(s.mean - 1) < 1e-4 && s.max < 1 + 1e-4 && s.pairs === 6);
  } finally {
    metric.dispose();
  }
});

/** A conformal metric (1 + h exp(-|z|^2 / w)) I: a costly bump of height h and width w at the origin. */
function bumpMetric(h: number, w: number): Metric {
  const factor = (z: tf.Tensor2D) => tf.add(1, tf.mul(h, tf.exp(tf.div(tf.neg(tf.sum(tf.square(z), 1)), w))));
  return { dim: 2, tensor: (z) => tf.tidy(() => tf.mul(tf.reshape(factor(z), [-1, 1, 1]), tf.expandDims(tf.eye(2), 0)) as tf.Tensor3D) };
}

test('a straight start stuck on the bump is re-solved from the graph and goes around', async () => {
  const metric = bumpMetric(50, 0.5);
  const graph = latentGraph(metric, latentGrid({ xmin: -3, xmax: 3, ymin: -3, ymax: 3, n: 11 }).points);
  const [p0, p1] = [Float64Array.of(-2, 0, -2, 2.5), Float64Array.of(2, 0, 2, 2.5)];
  const cmp = await expectNoLeak(() => compareWithStraightLines(metric, p0, p1, { points: 24, graph }));
  // Pair 0 runs through the bump's centre: the straight start converges onto the line itself.
  assert.equal(cmp.init[0], 'graph');
  assert.ok(cmp.converged[0]);
  assert.ok(cmp.ratio[0] < 0.6, `ratio ${cmp.ratio[0]}`);
  // Pair 1 passes far above the bump: nearly straight, and the graph cannot do better.
  assert.ok(cmp.ratio[1] <= 1 && cmp.ratio[1] > 0.97, `ratio ${cmp.ratio[1]}`);
});

test('geodesic k-medoids follows the metric where Euclidean k-medoids follows the spread', async () => {
  // Two classes 0.6 apart in z2 but spread over 6 units of z1: Euclidean medoids cut along z1, while
  // the metric stretches z2 tenfold and separates the classes.
  const rng = new Rng(4);
  const n = 16;
  const codes = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let q = 0; q < n; q++) {
    labels[q] = q % 2;
    codes[2 * q] = 6 * rng.uniform() - 3;
    codes[2 * q + 1] = 0.6 * labels[q] + 0.05 * rng.normal();
  }
  const metric = stretchedPlane();
  try {
    const runs = await expectNoLeak(() =>
      [1, 2].map((seed) => clusteringRun(metric, codes, labels, { k: 2, perClass: 6, seed, method: 'geodesics', geodesic: { points: 8, progress: false } })),
    );
    // With every code a neighbour of every other, the graph distances of a flat metric are its geodesic
    // distances (the straight edges are geodesics), and they separate the classes as well.
    const graphRuns = [1, 2].map((seed) => clusteringRun(metric, codes, labels, { k: 2, perClass: 6, seed, graphDistance: { neighbors: 11 } }));
    for (const run of graphRuns) {
      assert.equal(run.method, 'graph');
      assert.equal(run.riemannian.scores.accuracy, 1);
    }
    const paired = (clusteringSummary(graphRuns) as { f_measure_paired_difference: { mean: number; seeds: number; ci95: number[] } }).f_measure_paired_difference;
    assert.equal(paired.seeds, 2);
    assert.ok(paired.mean > 0 && paired.ci95[0] <= paired.mean && paired.mean <= paired.ci95[1]);
    for (const run of runs) {
      assert.equal(run.labels.length, 12);
      assert.equal(run.pairs, 66);
      assert.equal(run.unconverged, 0);
      assert.equal(run.riemannian.scores.fMeasure, 1);
      assert.equal(run.riemannian.scores.accuracy, 1);
      assert.ok(run.euclidean.scores.accuracy < 0.9, `euclidean accuracy ${run.euclidean.scores.accuracy}`);
    }
    const summary = clusteringSummary(runs) as { f_measure: { euclidean: number; riemannian: number } };
    assert.equal(summary.f_measure.riemannian, 1);
    assert.ok(summary.f_measure.euclidean < 0.9);
    const rows = confusionRows(runs[0].riemannian.scores, ['a', 'b']);
    assert.deepEqual(rows, [
      { class: 'a', 'cluster ~ a': 6, 'cluster ~ b': 0 },
      { class: 'b', 'cluster ~ a': 0, 'cluster ~ b': 6 },
    ]);
  } finally {
    metric.dispose();
  }
});

test('the graph-distance check: graph paths re-solved as geodesics are no longer, and close, in the half-plane', () => {
  const rng = new Rng(6);
  const n = 60;
  const codes = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let q = 0; q < n; q++) {
    labels[q] = q % 2;
    codes[2 * q] = (labels[q] ? 1 : -1) + 0.6 * rng.normal();
    codes[2 * q + 1] = 1 + 0.5 * rng.uniform();
  }
  const run = clusteringRun(new HalfPlaneMetric(), codes, labels, { k: 2, perClass: 30, seed: 1 });
  const check = checkGraphDistances(new HalfPlaneMetric(), run, { pairs: 20, seed: 2, points: 12, maxIter: 50 });
  assert.equal(check.pairs, 20);
  for (const r of check.ratio) assert.ok(r > 0.99 && r < 1.25, `graph / geodesic ${r}`);
  const s = graphCheckSummary(check) as { graph_over_geodesic: { median: number; pairs: number } };
  assert.equal(s.graph_over_geodesic.pairs, 20);
  assert.ok(s.graph_over_geodesic.median < 1.08, `median ${s.graph_over_geodesic.median}`);
});
