/**
 * Geodesic distances between many latent points from a k-nearest-neighbour graph of the points themselves:
 * edges between neighbours weighted by the Riemannian length of the straight segment, measured finely (the
 * segment cut into many straight pieces), and all-pairs shortest paths by Dijkstra. Between neighbours the
 * straight segment is close to the geodesic, and a shortest path over many short edges follows the data
 * around a wall of the metric, so the graph distance approximates the geodesic distance from above at the
 * cost of N sources of Dijkstra and k N short quadratures, instead of N (N - 1) / 2 boundary value solves:
 * 300 points take seconds where the solves took most of an hour. Compare with graph-initialised geodesics
 * on a sample of pairs (notebook 04) to see how close.
 */
import type { Metric } from './metric';
import { LatentGraph, dijkstra, graphComponents, latentGraph } from './graph';
import { PointsInput, toFlatPoints } from './geodesics';

export interface GraphDistanceOptions {
  /** k of the k-NN edges (default 10); doubled until the graph is connected. */
  neighbors?: number;
  /** Straight pieces per edge in the length quadrature (default 32). */
  quadrature?: number;
  /** Points per metric evaluation (default 8192). */
  batchPoints?: number;
}

export interface GraphDistances {
  n: number;
  /** [N, N]: symmetric, zero diagonal; shortest-path lengths. */
  distances: Float64Array;
  /** The graph (its nodes are the points). */
  graph: LatentGraph;
  /** The k that made the graph connected. */
  neighbors: number;
  /** Undirected edges. */
  edges: number;
  seconds: number;
}

/** Shortest-path distances [N, N] in the connected k-NN graph of the points ([N, d]) with Riemannian edge lengths. */
export function graphDistanceMatrix(metric: Metric, points: PointsInput, opts: GraphDistanceOptions = {}): GraphDistances {
  const t0 = performance.now();
  const d = metric.dim;
  const z = toFlatPoints(points, d, 'points');
  const n = z.length / d;
  let k = Math.min(opts.neighbors ?? 10, n - 1);
  if (!(k >= 1)) throw new RangeError(`graphDistanceMatrix: neighbors must be >= 1 and there must be at least 2 points, got k = ${opts.neighbors}, ${n} points`);
  let graph = latentGraph(metric, z, { neighbors: k, quadrature: opts.quadrature ?? 32, batchPoints: opts.batchPoints });
  // A class far from the others is its own component at small k: more neighbours until one component.
  while (Math.max(...graphComponents(graph)) > 0 && k < n - 1) {
    k = Math.min(2 * k, n - 1);
    graph = latentGraph(metric, z, { neighbors: k, quadrature: opts.quadrature ?? 32, batchPoints: opts.batchPoints });
  }
  const distances = new Float64Array(n * n);
  for (let i = 0; i < n; i++) distances.set(dijkstra(graph, [i], [0]).dist, i * n);
  // Dijkstra is symmetric up to round-off in the summation order; make it exact.
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) distances[i * n + j] = distances[j * n + i] = Math.min(distances[i * n + j], distances[j * n + i]);
  return { n, distances, graph, neighbors: k, edges: graph.neighbors.length / 2, seconds: (performance.now() - t0) / 1000 };
}
