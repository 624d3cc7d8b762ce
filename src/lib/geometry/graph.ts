/**
 * Initial curves for the geodesic solver from a graph over the latent space: nodes at k-means centres of
 * the latent codes (kmeans, stats/kmeans.ts) or a grid (latentGrid), k-nearest-neighbour edges weighted
 * by the Riemannian length of the straight segment, shortest paths by Dijkstra. A curve started on the
 * shortest graph path avoids the local minima a straight line can start in (a straight line through a
 * high-metric ridge). Works in any latent dimension (stochman's graph solver is 2-D only), and a
 * disconnected graph is an error naming the pairs that cannot be joined (rather than stochman's crash,
 * its issue #28).
 */
import type { Metric } from './metric';
import { CurveBatch, curveBatch, resampleAtCumulative, segmentLengths } from './curves';
import { LatentGrid, gridAround, latentGrid } from './fields';
import { kmeans } from '../stats/kmeans';
import { quantile } from '../numerics/statistics';

/** An undirected weighted graph on latent points, adjacency in CSR form. */
export interface LatentGraph {
  readonly dim: number;
  /** [K, d] */
  readonly nodes: Float64Array;
  /** Node i's neighbours are neighbors[offsets[i] .. offsets[i + 1]), with the same-indexed weights. */
  readonly offsets: Int32Array;
  readonly neighbors: Int32Array;
  /** Riemannian lengths of the straight segments. */
  readonly weights: Float64Array;
}

export interface GraphOptions {
  /** k of the k-nearest-neighbour edges, by Euclidean latent distance (default 8); edges are symmetrised. */
  neighbors?: number;
  /** Straight pieces per edge in the length quadrature (default 4). */
  quadrature?: number;
  /** Points per metric evaluation (default 8192). */
  batchPoints?: number;
}

/** Pairs whose end points attach to different components of the graph: no path joins them. */
export class DisconnectedGraphError extends Error {
  constructor(
    /** Indices of the pairs that cannot be connected. */
    readonly pairs: number[],
    /** Component label of every node. */
    readonly components: Int32Array,
    detail: string,
  ) {
    super(detail);
    this.name = 'DisconnectedGraphError';
  }
}

export function nodeCount(g: LatentGraph): number {
  return g.nodes.length / g.dim;
}

/** The k-NN graph on `nodes` ([K, d]) with Riemannian edge weights, all edges in batched evaluations. */
export function latentGraph(metric: Metric, nodePoints: ArrayLike<number>, opts: GraphOptions = {}): LatentGraph {
  const d = metric.dim;
  const nodes = Float64Array.from(nodePoints);
  const k = nodes.length / d;
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`latentGraph: need at least 2 nodes of dimension ${d}, got ${nodes.length} values`);
  const kn = Math.min(opts.neighbors ?? 8, k - 1);
  // Unordered pairs {i, j} with j among i's k nearest or i among j's.
  const pairs = new Set<number>();
  for (let i = 0; i < k; i++) {
    for (const j of nearest(nodes, d, nodes.subarray(i * d, (i + 1) * d), kn + 1)) {
      if (j !== i) pairs.add(Math.min(i, j) * k + Math.max(i, j));
    }
  }
  const edges = Array.from(pairs);
  const lengths = segmentLengths(metric, segmentsBetween(nodes, d, edges, k), { subdivisions: opts.quadrature ?? 4, batchPoints: opts.batchPoints });
  return buildCsr(nodes, d, edges, k, lengths);
}

/** Where the nodes of a graph over latent codes come from: the one recipe of the studies and the CLI. */
export interface CodeGraphOptions extends GraphOptions {
  /** k-means centres of the codes used as nodes (default 64; fewer when there are fewer codes). */
  centers?: number;
  /** The k-means seed (default 1) and restarts (k-means' default when absent). */
  seed?: number;
  restarts?: number;
  /** Nodes of a regular grid around the codes, per side (2-D only; default 0, none), padded by gridPad (default 0.3). */
  gridN?: number;
  gridPad?: number;
}

/**
 * The k-NN graph (latentGraph) whose nodes are k-means centres of the codes, so that shortest paths follow
 * the data, plus optionally a coarse grid around them that keeps the graph connected across the gaps
 * between clusters (its edges there are long, as they should be).
 */
export function codeGraph(metric: Metric, codes: Float32Array, opts: CodeGraphOptions = {}): LatentGraph {
  const d = metric.dim;
  const n = codes.length / d;
  const centers = kmeans(codes, d, Math.min(opts.centers ?? 64, n), { seed: opts.seed ?? 1, ...(opts.restarts !== undefined ? { restarts: opts.restarts } : {}) }).centers;
  const gridN = opts.gridN ?? 0;
  const grid = gridN > 1 && d === 2 ? gridAround(codes, gridN, opts.gridPad ?? 0.3).points : new Float32Array(0);
  const nodes = new Float64Array(centers.length + grid.length);
  nodes.set(centers);
  nodes.set(grid, centers.length);
  const { neighbors, quadrature, batchPoints } = opts;
  return latentGraph(metric, nodes, { ...(neighbors !== undefined ? { neighbors } : {}), ...(quadrature !== undefined ? { quadrature } : {}), ...(batchPoints !== undefined ? { batchPoints } : {}) });
}

/** Per edge code e = i k + j, the straight segment from node i to node j: a [E, 2, d] CurveBatch. */
function segmentsBetween(nodes: Float64Array, d: number, edges: number[], k: number): CurveBatch {
  const c = curveBatch(edges.length, 2, d);
  edges.forEach((e, q) => {
    const [i, j] = [Math.floor(e / k), e % k];
    c.data.set(nodes.subarray(i * d, (i + 1) * d), 2 * q * d);
    c.data.set(nodes.subarray(j * d, (j + 1) * d), (2 * q + 1) * d);
  });
  return c;
}

/** CSR adjacency; edges of non-finite length (a metric that overflowed) are left out. */
function buildCsr(nodes: Float64Array, d: number, edges: number[], k: number, lengths: Float64Array): LatentGraph {
  const degree = new Int32Array(k + 1);
  const keep = (q: number) => Number.isFinite(lengths[q]);
  edges.forEach((e, q) => {
    if (!keep(q)) return;
    degree[Math.floor(e / k)]++;
    degree[e % k]++;
  });
  const offsets = new Int32Array(k + 1);
  for (let i = 0; i < k; i++) offsets[i + 1] = offsets[i] + degree[i];
  const fill = offsets.slice(0, k);
  const neighbors = new Int32Array(offsets[k]);
  const weights = new Float64Array(offsets[k]);
  edges.forEach((e, q) => {
    if (!keep(q)) return;
    const [i, j] = [Math.floor(e / k), e % k];
    neighbors[fill[i]] = j;
    weights[fill[i]++] = lengths[q];
    neighbors[fill[j]] = i;
    weights[fill[j]++] = lengths[q];
  });
  return { dim: d, nodes, offsets, neighbors, weights };
}

/** Indices of the `count` points of `pts` ([N, d]) nearest to q, nearest first. */
function nearest(pts: Float64Array, d: number, q: ArrayLike<number>, count: number): number[] {
  const n = pts.length / d;
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (pts[i * d + j] - q[j]) ** 2;
    dist[i] = s;
  }
  return Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => dist[a] - dist[b] || a - b)
    .slice(0, count);
}

/** Connected component of every node (labels 0, 1, ... in order of first appearance). */
export function graphComponents(g: LatentGraph): Int32Array {
  const k = nodeCount(g);
  const label = new Int32Array(k).fill(-1);
  let next = 0;
  for (let s = 0; s < k; s++) {
    if (label[s] >= 0) continue;
    const stack = [s];
    label[s] = next;
    while (stack.length > 0) {
      const i = stack.pop()!;
      for (let e = g.offsets[i]; e < g.offsets[i + 1]; e++) {
        const j = g.neighbors[e];
        if (label[j] < 0) {
          label[j] = next;
          stack.push(j);
        }
      }
    }
    next++;
  }
  return label;
}

/** Binary min-heap of (key, node) for Dijkstra. */
class MinHeap {
  private keys: number[] = [];
  private items: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: number, item: number): void {
    this.keys.push(key);
    this.items.push(item);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.keys[p] <= this.keys[i]) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): { key: number; item: number } {
    const top = { key: this.keys[0], item: this.items[0] };
    const lastKey = this.keys.pop()!;
    const lastItem = this.items.pop()!;
    if (this.keys.length > 0) {
      this.keys[0] = lastKey;
      this.items[0] = lastItem;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.keys.length && this.keys[l] < this.keys[m]) m = l;
        if (r < this.keys.length && this.keys[r] < this.keys[m]) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  private swap(a: number, b: number): void {
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
    [this.items[a], this.items[b]] = [this.items[b], this.items[a]];
  }
}

/**
 * Shortest distances from a set of sources with starting costs (multi-source Dijkstra), with
 * predecessors (-1 at a source or an unreached node).
 */
export function dijkstra(g: LatentGraph, sources: ArrayLike<number>, startCosts: ArrayLike<number>): { dist: Float64Array; prev: Int32Array } {
  const k = nodeCount(g);
  const dist = new Float64Array(k).fill(Infinity);
  const prev = new Int32Array(k).fill(-1);
  const heap = new MinHeap();
  for (let s = 0; s < sources.length; s++) {
    if (startCosts[s] < dist[sources[s]]) {
      dist[sources[s]] = startCosts[s];
      heap.push(startCosts[s], sources[s]);
    }
  }
  while (heap.size > 0) {
    const { key, item: i } = heap.pop();
    if (key > dist[i]) continue;
    for (let e = g.offsets[i]; e < g.offsets[i + 1]; e++) {
      const j = g.neighbors[e];
      const nd = key + g.weights[e];
      if (nd < dist[j]) {
        dist[j] = nd;
        prev[j] = i;
        heap.push(nd, j);
      }
    }
  }
  return { dist, prev };
}

export interface GraphPath {
  /** Latent vertices from p0 to p1, end points included: [m, d]. */
  vertices: Float64Array;
  /** Cumulative Riemannian length at each vertex: [m]. */
  cumulative: Float64Array;
  /** The path's length. */
  length: number;
}

/**
 * Shortest graph paths from p0[b] to p1[b]. Each end point is attached to its `neighbors` nearest nodes
 * (and p0 straight to p1 when p1 is no farther than p0's farthest attachment), with Riemannian edge
 * weights computed in one batched evaluation. Throws DisconnectedGraphError naming every pair whose
 * ends attach to different components.
 */
export function graphPaths(metric: Metric, g: LatentGraph, p0: Float64Array, p1: Float64Array, opts: GraphOptions = {}): GraphPath[] {
  const d = g.dim;
  const count = p0.length / d;
  const k = nodeCount(g);
  const kn = Math.min(opts.neighbors ?? 8, k);
  const attach = (p: Float64Array, b: number) => nearest(g.nodes, d, p.subarray(b * d, (b + 1) * d), kn);
  const a0 = Array.from({ length: count }, (_, b) => attach(p0, b));
  const a1 = Array.from({ length: count }, (_, b) => attach(p1, b));
  // Segments, per pair: p0 -> each of a0, p1 -> each of a1, then p0 -> p1.
  const per = 2 * kn + 1;
  const segs = curveBatch(count * per, 2, d);
  for (let b = 0; b < count; b++) {
    const put = (q: number, from: ArrayLike<number>, to: ArrayLike<number>) => {
      segs.data.set(from, 2 * (b * per + q) * d);
      segs.data.set(to, (2 * (b * per + q) + 1) * d);
    };
    const s0 = p0.subarray(b * d, (b + 1) * d);
    const s1 = p1.subarray(b * d, (b + 1) * d);
    a0[b].forEach((i, q) => put(q, s0, g.nodes.subarray(i * d, (i + 1) * d)));
    a1[b].forEach((i, q) => put(kn + q, s1, g.nodes.subarray(i * d, (i + 1) * d)));
    put(2 * kn, s0, s1);
  }
  const w = segmentLengths(metric, segs, { subdivisions: opts.quadrature ?? 4, batchPoints: opts.batchPoints });
  const paths: GraphPath[] = [];
  const failed: number[] = [];
  for (let b = 0; b < count; b++) {
    const wb = w.subarray(b * per, (b + 1) * per);
    const path = pairPath(g, p0.subarray(b * d, (b + 1) * d), p1.subarray(b * d, (b + 1) * d), a0[b], a1[b], wb, kn);
    if (path) paths.push(path);
    else failed.push(b);
  }
  if (failed.length > 0) throw disconnected(g, failed, a0, a1);
  return paths;
}

/** The best of the direct segment (when p1 is among p0's near points) and the graph routes. */
function pairPath(g: LatentGraph, s0: Float64Array, s1: Float64Array, a0: number[], a1: number[], w: Float64Array, kn: number): GraphPath | null {
  const d = g.dim;
  const { dist, prev } = dijkstra(
    g,
    a0,
    a0.map((_, q) => (Number.isFinite(w[q]) ? w[q] : Infinity)),
  );
  let best = Infinity;
  let last = -1;
  a1.forEach((j, q) => {
    const c = dist[j] + w[kn + q];
    if (c < best) [best, last] = [c, j];
  });
  const direct = w[2 * kn];
  const reach = Math.max(...a0.map((i) => euclidean(s0, g.nodes.subarray(i * d, (i + 1) * d))));
  if (Number.isFinite(direct) && euclidean(s0, s1) <= reach && direct <= best) {
    return { vertices: Float64Array.from([...s0, ...s1]), cumulative: Float64Array.of(0, direct), length: direct };
  }
  if (last < 0 || !Number.isFinite(best)) return null;
  const route: number[] = [];
  for (let i = last; i >= 0; i = prev[i]) route.unshift(i);
  const vertices = new Float64Array((route.length + 2) * d);
  vertices.set(s0, 0);
  route.forEach((i, q) => vertices.set(g.nodes.subarray(i * d, (i + 1) * d), (q + 1) * d));
  vertices.set(s1, (route.length + 1) * d);
  // dist along a shortest path is the cumulative length.
  const cumulative = Float64Array.from([0, ...route.map((i) => dist[i]), best]);
  return { vertices, cumulative, length: best };
}

function euclidean(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] - b[j]) ** 2;
  return Math.sqrt(s);
}

function disconnected(g: LatentGraph, failed: number[], a0: number[][], a1: number[][]): DisconnectedGraphError {
  const comp = graphComponents(g);
  const ncomp = Math.max(...comp) + 1;
  const size = (c: number) => comp.reduce((acc, x) => acc + (x === c ? 1 : 0), 0);
  const where = (nodes: number[]) => {
    const cs = [...new Set(nodes.map((i) => comp[i]))];
    return `nodes ${nodes.join(',')} (component${cs.length > 1 ? 's' : ''} ${cs.map((c) => `${c}: ${size(c)} nodes`).join('; ')})`;
  };
  const shown = failed.slice(0, 5).map((b) => `pair ${b}: p0 attaches to ${where(a0[b])}, p1 to ${where(a1[b])}`);
  const more = failed.length > 5 ? `; and ${failed.length - 5} more pairs` : '';
  return new DisconnectedGraphError(
    failed,
    comp,
    `the latent graph has ${ncomp} components and ${failed.length} pair(s) cannot be connected: ${shown.join('; ')}${more}. ` +
      'Raise the number of neighbours or add nodes between the components.',
  );
}

/** Initial curves of T points along the shortest graph paths, at equal Riemannian steps of the path. */
export function graphInitialCurves(metric: Metric, g: LatentGraph, p0: Float64Array, p1: Float64Array, points: number, opts: GraphOptions = {}): CurveBatch {
  const d = g.dim;
  const paths = graphPaths(metric, g, p0, p1, opts);
  const out = curveBatch(paths.length, points, d);
  paths.forEach((p, b) => out.data.set(resampleAtCumulative(p.vertices, p.cumulative, d, points), b * points * d));
  return out;
}

export interface DistanceMap {
  /** Riemannian distance from the source to every grid point, along the graph [ny * nx]. */
  distances: Float64Array;
  /** The grid node the distances start from. */
  source: [number, number];
  /**
   * The same distances on a grid twice as fine (2n - 1 points a side, which contains every node of this
   * one), at this grid's nodes: how far the graph approximation is from converged.
   */
  refinement: { medianRatio: number; maxRatio: number; fineNodes: number };
}

/** Grid offsets of the 16-neighbour stencil: its directions are 27 degrees apart at most. */
const STENCIL: [number, number][] = [
  [1, 0], [0, 1], [1, 1], [1, -1], [1, 2], [2, 1], [1, -2], [2, -1],
];

/**
 * The graph of a regular grid with edges along the 16-neighbour stencil (each direction and its opposite),
 * weighted by the Riemannian length of the straight edge (a `quadrature`-piece midpoint rule). Built
 * directly from the grid's structure: latentGraph's k-nearest-neighbour search is quadratic in the nodes.
 */
export function gridGraph(metric: Metric, grid: LatentGrid, quadrature = 8): LatentGraph {
  const [nx, ny] = [grid.xs.length, grid.ys.length];
  const pairs: number[] = [];
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      for (const [dx, dy] of STENCIL) {
        const [jx, jy] = [ix + dx, iy + dy];
        if (jx >= 0 && jx < nx && jy >= 0 && jy < ny) pairs.push(iy * nx + ix, jy * nx + jx);
      }
    }
  }
  const edges = curveBatch(pairs.length / 2, 2, 2);
  for (let e = 0; e < pairs.length; e++) edges.data.set(grid.points.subarray(2 * pairs[e], 2 * pairs[e] + 2), 2 * e);
  const lengths = segmentLengths(metric, edges, { subdivisions: quadrature });
  const k = nx * ny;
  const degree = new Int32Array(k + 1);
  for (const i of pairs) degree[i + 1]++;
  for (let i = 0; i < k; i++) degree[i + 1] += degree[i];
  const offsets = Int32Array.from(degree);
  const fill = offsets.slice(0, k);
  const neighbors = new Int32Array(pairs.length);
  const weights = new Float64Array(pairs.length);
  for (let e = 0; e < pairs.length / 2; e++) {
    const [a, b] = [pairs[2 * e], pairs[2 * e + 1]];
    neighbors[fill[a]] = b;
    weights[fill[a]++] = lengths[e];
    neighbors[fill[b]] = a;
    weights[fill[b]++] = lengths[e];
  }
  return { dim: 2, nodes: Float64Array.from(grid.points), offsets, neighbors, weights };
}

/** The grid node nearest to a point. */
function nearestNode(grid: LatentGrid, p: [number, number]): number {
  let best = 0;
  for (let i = 1; i < grid.points.length / 2; i++) {
    if (Math.hypot(grid.points[2 * i] - p[0], grid.points[2 * i + 1] - p[1]) < Math.hypot(grid.points[2 * best] - p[0], grid.points[2 * best + 1] - p[1])) best = i;
  }
  return best;
}

/**
 * Riemannian distances from one point to every grid point, approximated by shortest paths (Dijkstra) on
 * the 16-neighbour grid graph whose edges weigh their Riemannian lengths: a graph version of fast marching,
 * whose paths may turn only at nodes (in a flat isotropic metric it overestimates by at most 1 / cos(13.3 deg) - 1,
 * 2.8%, half the largest angle between stencil directions). The approximation is checked by repeating it on a grid twice as fine.
 * (The BVP geodesic solver is no reference here: its midpoint rule steps over the narrow peaks of G.)
 */
export function riemannianDistanceMap(metric: Metric, grid: LatentGrid, from: [number, number]): DistanceMap {
  const [nx, ny] = [grid.xs.length, grid.ys.length];
  const src = nearestNode(grid, from);
  const { dist } = dijkstra(gridGraph(metric, grid), [src], [0]);
  const fine = latentGrid({ xmin: grid.xs[0], xmax: grid.xs[nx - 1], ymin: grid.ys[0], ymax: grid.ys[ny - 1], n: [2 * nx - 1, 2 * ny - 1] });
  const fineDist = dijkstra(gridGraph(metric, fine), [2 * Math.floor(src / nx) * (2 * nx - 1) + 2 * (src % nx)], [0]).dist;
  const ratios: number[] = [];
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      const f = fineDist[2 * iy * (2 * nx - 1) + 2 * ix];
      if (f > 0) ratios.push(dist[iy * nx + ix] / f);
    }
  }
  return {
    distances: dist,
    source: [grid.points[2 * src], grid.points[2 * src + 1]],
    refinement: { medianRatio: quantile(ratios, 0.5), maxRatio: Math.max(...ratios), fineNodes: fine.points.length / 2 },
  };
}
