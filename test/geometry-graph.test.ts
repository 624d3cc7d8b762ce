/**
 * Graph initialisation: k-NN graphs with Riemannian edge weights, shortest paths
 * that lead the solver around a barrier a straight line cannot leave, and a clear error for a graph in
 * pieces.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Metric } from '../src/lib/geometry/metric';
import { connectingGeodesics } from '../src/lib/geometry/geodesics';
import { DisconnectedGraphError, graphComponents, graphInitialCurves, graphPaths, latentGraph } from '../src/lib/geometry/graph';
import { kmeans } from '../src/lib/stats/kmeans';
import { latentGrid } from '../src/lib/geometry/fields';
import { ConstantMetric, HalfPlaneMetric, halfPlaneDistance } from '../src/lib/geometry/reference-metrics';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

/** A conformal metric (1 + 50 exp(-|z|^2 / 0.5)) I: a costly bump at the origin. */
class BumpMetric implements Metric {
  readonly dim = 2;

  tensor(z: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const s = tf.add(1, tf.mul(50, tf.exp(tf.div(tf.neg(tf.sum(tf.square(z), 1)), 0.5))));
      return tf.mul(tf.reshape(s, [-1, 1, 1]), tf.expandDims(tf.eye(2), 0)) as tf.Tensor3D;
    });
  }
}

test('graph paths in the half-plane bend upward, and their lengths bound the distance from above', async () => {
  const metric = new HalfPlaneMetric();
  const nodes = latentGrid({ xmin: -3, xmax: 3, ymin: 0.2, ymax: 4, n: 13 }).points;
  const g = await expectNoLeak(() => latentGraph(metric, nodes, { neighbors: 8 }));
  assert.equal(Math.max(...graphComponents(g)), 0);
  const [p0, p1] = [Float64Array.of(-2.5, 0.3), Float64Array.of(2.5, 0.3)];
  const [path] = graphPaths(metric, g, p0, p1);
  const want = halfPlaneDistance(p0, p1);
  assert.ok(path.length >= want * (1 - 1e-3) && path.length < 1.5 * want, `graph length ${path.length}, distance ${want}`);
  const peak = Math.max(...Array.from({ length: path.vertices.length / 2 }, (_, i) => path.vertices[2 * i + 1]));
  assert.ok(peak > 1.5, `the path should climb toward the geodesic arc (radius ~2.5), peaked at y = ${peak}`);
});

test('a graph start avoids the bump that traps a straight-line start', () => {
  const metric = new BumpMetric();
  const p0 = [[-2, 0]];
  const p1 = [[2, 0]];
  const straight = connectingGeodesics(metric, p0, p1, { points: 24 });
  const nodes = latentGrid({ xmin: -3, xmax: 3, ymin: -3, ymax: 3, n: 11 }).points;
  const g = latentGraph(metric, nodes);
  const init = graphInitialCurves(metric, g, Float64Array.of(-2, 0), Float64Array.of(2, 0), 24);
  const viaGraph = connectingGeodesics(metric, p0, p1, { points: 24, init });
  assert.ok(viaGraph.converged[0]);
  // By symmetry the straight line is a critical point through the bump; the graph start goes around it.
  assert.ok(viaGraph.lengths[0] < 0.6 * straight.lengths[0], `graph start ${viaGraph.lengths[0]}, straight start ${straight.lengths[0]}`);
  assert.equal(init.data[0], -2);
  assert.equal(init.data[init.data.length - 2], 2);
});

test('a disconnected graph is an error naming the pairs that cannot be connected', () => {
  const metric = new ConstantMetric(Float64Array.of(1, 0, 0, 1));
  const nodes = Float64Array.of(-5, 0, -5, 1, -4, 0, 5, 0, 5, 1, 4, 0);
  const g = latentGraph(metric, nodes, { neighbors: 2 });
  assert.deepEqual(Array.from(graphComponents(g)), [0, 0, 0, 1, 1, 1]);
  // Within a component: fine.
  assert.equal(graphPaths(metric, g, Float64Array.of(-5, 0.5), Float64Array.of(-4, 0.5), { neighbors: 2 }).length, 1);
  let caught: unknown = null;
  try {
    graphPaths(metric, g, Float64Array.of(-4.5, 0.5, -5, 0.2), Float64Array.of(4.5, 0.5, -4.2, 0.1), { neighbors: 2 });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DisconnectedGraphError, `expected DisconnectedGraphError, got ${String(caught)}`);
  assert.deepEqual(caught.pairs, [0]);
  assert.match(caught.message, /2 components and 1 pair\(s\) cannot be connected: pair 0: p0 attaches to nodes/);
  assert.match(caught.message, /Raise the number of neighbours/);
});

test('graphs work in any latent dimension: 3-D nodes, paths and a solve from them', () => {
  const metric = new ConstantMetric(Float64Array.of(1, 0, 0, 0, 2, 0, 0, 0, 0.5));
  const rng = new Rng(5);
  const cloud = Float32Array.from({ length: 3 * 400 }, () => 4 * rng.uniform() - 2);
  const g = latentGraph(metric, kmeans(cloud, 3, 40, { seed: 2, restarts: 1 }).centers, { neighbors: 6 });
  assert.equal(g.dim, 3);
  const [p0, p1] = [Float64Array.of(-1.5, -1, 0.5), Float64Array.of(1.2, 1.4, -0.8)];
  const init = graphInitialCurves(metric, g, p0, p1, 12, { neighbors: 6 });
  const res = connectingGeodesics(metric, p0, p1, { points: 12, init });
  const dz = [2.7, 2.4, -1.3];
  const want = Math.sqrt(dz[0] ** 2 + 2 * dz[1] ** 2 + 0.5 * dz[2] ** 2);
  assert.ok(res.converged[0]);
  assert.ok(Math.abs(res.lengths[0] - want) < 1e-5 * want, `length ${res.lengths[0]}, want ${want}`);
});
