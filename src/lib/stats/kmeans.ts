/**
 * k-means (k-means++ seeding, Lloyd iterations, restarts keeping the lowest inertia) on plain row-major
 * Float32Arrays, and k-medoids on a precomputed distance matrix. Plain typed-array loops: for latent codes
 * (d = 2..10, N up to 60k) this is faster than tensor ops would be, and it needs no backend.
 * Everything is seeded: the same inputs and seed give the same result.
 */
import { Rng } from '../util/rng';

export interface KMeansOptions {
  /** Independent k-means++ starts; the lowest inertia wins. Default 4. */
  restarts?: number;
  /** Lloyd iterations per start, default 100. */
  maxIterations?: number;
  /**
   * Stop a start when the centres' total squared shift falls below tolerance * (the data's mean variance per
   * coordinate), sklearn's rule; it also stops when no point changes cluster. Default 1e-4.
   */
  tolerance?: number;
  seed?: number;
}

export interface KMeansResult {
  k: number;
  dim: number;
  /** [k, dim] row-major. */
  centers: Float32Array;
  /** [N]: the index of each point's centre. */
  assignments: Int32Array;
  /** Sum of squared distances to the assigned centres. */
  inertia: number;
  /** Lloyd iterations of the winning start. */
  iterations: number;
}

function checkShape(data: Float32Array, dim: number, k: number, what: string): number {
  if (!Number.isInteger(dim) || dim <= 0 || data.length % dim !== 0) throw new RangeError(`${what}: data of length ${data.length} is not rows of ${dim}`);
  const n = data.length / dim;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`${what}: k must be an integer in [1, ${n}] (the number of points), got ${k}`);
  return n;
}

function squaredDistance(data: Float32Array, i: number, centers: Float64Array, c: number, dim: number): number {
  let s = 0;
  const a = i * dim;
  const b = c * dim;
  for (let j = 0; j < dim; j++) {
    const t = data[a + j] - centers[b + j];
    s += t * t;
  }
  return s;
}

/** Index sampled with probability proportional to weights[i] (sum > 0). */
function sampleWeighted(weights: Float64Array, total: number, rng: Rng): number {
  let u = rng.uniform() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  // Rounding left u >= 0 after the last point: take the last point with weight.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return weights.length - 1;
}

/** k-means++ (Arthur & Vassilvitskii 2007): each new centre drawn with probability proportional to D(x)^2. */
export function kmeansPlusPlus(data: Float32Array, dim: number, k: number, rng: Rng): Float64Array {
  const n = checkShape(data, dim, k, 'kmeansPlusPlus');
  const centers = new Float64Array(k * dim);
  const first = rng.int(n);
  for (let j = 0; j < dim; j++) centers[j] = data[first * dim + j];
  const d2 = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += d2[i] = squaredDistance(data, i, centers, 0, dim);
  for (let c = 1; c < k; c++) {
    // All points coincide with chosen centres: any point will do.
    const pick = total > 0 ? sampleWeighted(d2, total, rng) : rng.int(n);
    for (let j = 0; j < dim; j++) centers[c * dim + j] = data[pick * dim + j];
    total = 0;
    for (let i = 0; i < n; i++) {
      const d = squaredDistance(data, i, centers, c, dim);
      if (d < d2[i]) d2[i] = d;
      total += d2[i];
    }
  }
  return centers;
}

/** Euclidean distance between two centres. */
function centerDistance(centers: Float64Array, a: number, b: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const t = centers[a * dim + j] - centers[b * dim + j];
    s += t * t;
  }
  return Math.sqrt(s);
}

/** Half the distance from each centre to its nearest other centre: points closer than that cannot switch. */
function halfSeparations(centers: Float64Array, k: number, dim: number): Float64Array {
  const s = new Float64Array(k).fill(Infinity);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const d = 0.5 * centerDistance(centers, a, b, dim);
      if (d < s[a]) s[a] = d;
      if (d < s[b]) s[b] = d;
    }
  }
  return s;
}

/**
 * Centres = means of their points; returns how far each moved. An empty cluster takes the point with the
 * largest upper bound (about the farthest from its centre) not yet taken; that point's bound becomes
 * Infinity (still a valid bound) so the next pass reassigns it.
 */
function moveCenters(data: Float32Array, dim: number, k: number, assignments: Int32Array, upper: Float64Array, centers: Float64Array): Float64Array {
  const n = assignments.length;
  const sums = new Float64Array(k * dim);
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = assignments[i];
    counts[c]++;
    for (let j = 0; j < dim; j++) sums[c * dim + j] += data[i * dim + j];
  }
  const moved = new Float64Array(k);
  const old = Float64Array.from(centers);
  const taken = new Set<number>();
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) {
      for (let j = 0; j < dim; j++) centers[c * dim + j] = sums[c * dim + j] / counts[c];
    } else {
      let far = -1;
      for (let i = 0; i < n; i++) if (!taken.has(i) && (far < 0 || upper[i] > upper[far])) far = i;
      taken.add(far);
      for (let j = 0; j < dim; j++) centers[c * dim + j] = data[far * dim + j];
      upper[far] = Infinity;
    }
    let d = 0;
    for (let j = 0; j < dim; j++) d += (centers[c * dim + j] - old[c * dim + j]) ** 2;
    moved[c] = Math.sqrt(d);
  }
  return moved;
}

/** sklearn's convergence scale: the mean per-coordinate variance of the data. */
function meanVariance(data: Float32Array, dim: number): number {
  const n = data.length / dim;
  let total = 0;
  for (let j = 0; j < dim; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += data[i * dim + j];
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (data[i * dim + j] - m) ** 2;
    total += v / n;
  }
  return total / dim;
}

/** Bounds of Hamerly's algorithm: upper[i] >= |x_i - c_a(i)|, lower[i] <= |x_i - c| for every other c. */
interface Bounds {
  upper: Float64Array;
  lower: Float64Array;
}

/** Reassigns the points whose bounds do not rule out a change; returns how many changed. */
function assignWithBounds(data: Float32Array, dim: number, centers: Float64Array, k: number, assignments: Int32Array, { upper, lower }: Bounds): number {
  const half = halfSeparations(centers, k, dim);
  let changed = 0;
  for (let i = 0; i < assignments.length; i++) {
    const a = assignments[i];
    const bound = Math.max(half[a], lower[i]);
    if (upper[i] <= bound) continue;
    upper[i] = Math.sqrt(squaredDistance(data, i, centers, a, dim));
    if (upper[i] <= bound) continue;
    let best = a;
    let d1 = Infinity;
    let d2 = Infinity;
    for (let c = 0; c < k; c++) {
      const d = squaredDistance(data, i, centers, c, dim);
      if (d < d1) {
        d2 = d1;
        d1 = d;
        best = c;
      } else if (d < d2) {
        d2 = d;
      }
    }
    if (best !== a) changed++;
    assignments[i] = best;
    upper[i] = Math.sqrt(d1);
    lower[i] = Math.sqrt(d2);
  }
  return changed;
}

/** Moves the bounds by the centres' shifts: a point's other centres moved at most the largest shift not its own. */
function shiftBounds(assignments: Int32Array, moved: Float64Array, { upper, lower }: Bounds): void {
  let r1 = 0;
  let r2 = -1;
  for (let c = 1; c < moved.length; c++) {
    if (moved[c] > moved[r1]) {
      r2 = r1;
      r1 = c;
    } else if (r2 < 0 || moved[c] > moved[r2]) {
      r2 = c;
    }
  }
  const otherMax = r2 >= 0 ? moved[r2] : 0;
  for (let i = 0; i < assignments.length; i++) {
    const a = assignments[i];
    upper[i] += moved[a];
    lower[i] -= a === r1 ? otherMax : moved[r1];
  }
}

/**
 * Lloyd's algorithm with Hamerly's (2010) bounds: the same iterates as plain Lloyd, but once few points
 * change cluster most distance computations are skipped (4x faster on 60k 2-D codes, k = 64).
 * The returned assignments are those of the returned centres.
 */
function lloyd(data: Float32Array, dim: number, k: number, rng: Rng, maxIterations: number, tolerance: number): KMeansResult {
  const n = data.length / dim;
  const centers = kmeansPlusPlus(data, dim, k, rng);
  const assignments = new Int32Array(n);
  // upper = Infinity, lower = 0: every point is examined in the first pass.
  const bounds: Bounds = { upper: new Float64Array(n).fill(Infinity), lower: new Float64Array(n) };
  assignWithBounds(data, dim, centers, k, assignments, bounds);
  const shiftTolerance = tolerance * meanVariance(data, dim);
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    const moved = moveCenters(data, dim, k, assignments, bounds.upper, centers);
    shiftBounds(assignments, moved, bounds);
    const changed = assignWithBounds(data, dim, centers, k, assignments, bounds);
    const shift2 = moved.reduce((acc, m) => acc + m * m, 0);
    if (changed === 0 || shift2 <= shiftTolerance) break;
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += squaredDistance(data, i, centers, assignments[i], dim);
  return { k, dim, centers: Float32Array.from(centers), assignments, inertia, iterations };
}

/** k-means of data [N, dim]: `restarts` seeded k-means++ starts, each refined by Lloyd; the lowest inertia wins. */
export function kmeans(data: Float32Array, dim: number, k: number, opts: KMeansOptions = {}): KMeansResult {
  checkShape(data, dim, k, 'kmeans');
  const rng = new Rng(opts.seed ?? 0);
  const restarts = opts.restarts ?? 4;
  let best: KMeansResult | null = null;
  for (let r = 0; r < Math.max(1, restarts); r++) {
    const result = lloyd(data, dim, k, new Rng(rng.seed()), opts.maxIterations ?? 100, opts.tolerance ?? 1e-4);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best!;
}

// ---------------------------------------------------------------------------------------------------------
// k-medoids

export interface KMedoidsOptions {
  /** Default 4. */
  restarts?: number;
  /** Alternation rounds per start, default 100. */
  maxIterations?: number;
  seed?: number;
}

export interface KMedoidsResult {
  /** [k] indices of the medoid points. */
  medoids: Int32Array;
  /** [N] index (into medoids) of each point's medoid. */
  assignments: Int32Array;
  /** Sum of distances to the assigned medoids. */
  cost: number;
  iterations: number;
}

/** Nearest medoid of every point; returns the cost. */
function assignMedoids(dist: ArrayLike<number>, n: number, medoids: Int32Array, assignments: Int32Array): number {
  let cost = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < medoids.length; c++) {
      const d = dist[i * n + medoids[c]];
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    assignments[i] = best;
    cost += bestD;
  }
  return cost;
}

/** Seeding like k-means++ but with probability proportional to D(x) (k-medoids minimises distances, not squares). */
function kmedoidsPlusPlus(dist: ArrayLike<number>, n: number, k: number, rng: Rng): Int32Array {
  const medoids = new Int32Array(k);
  medoids[0] = rng.int(n);
  const nearest = new Float64Array(n);
  for (let i = 0; i < n; i++) nearest[i] = dist[i * n + medoids[0]];
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += nearest[i];
    medoids[c] = total > 0 ? sampleWeighted(nearest, total, rng) : rng.int(n);
    for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i], dist[i * n + medoids[c]]);
  }
  return medoids;
}

/**
 * k-medoids on a precomputed N x N distance matrix (row-major; e.g. geodesic distances between latent
 * codes), by alternation (Park & Jun 2009): assign each point to its nearest medoid, move each medoid to
 * the member with the least total distance to its cluster, until nothing moves. Seeded D-weighted starts,
 * best of `restarts`. Cost O(N k + sum |C|^2) a round; PAM's swap phase (O(k N^2) a round) is not done.
 */
export function kmedoids(dist: Float32Array | Float64Array, k: number, opts: KMedoidsOptions = {}): KMedoidsResult {
  const n = Math.round(Math.sqrt(dist.length));
  if (n * n !== dist.length) throw new RangeError(`kmedoids: the distance matrix has ${dist.length} entries, not N x N`);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`kmedoids: k must be an integer in [1, ${n}], got ${k}`);
  const rng = new Rng(opts.seed ?? 0);
  const maxIterations = opts.maxIterations ?? 100;
  let best: KMedoidsResult | null = null;
  for (let r = 0; r < Math.max(1, opts.restarts ?? 4); r++) {
    const medoids = kmedoidsPlusPlus(dist, n, k, new Rng(rng.seed()));
    const assignments = new Int32Array(n);
    let cost = assignMedoids(dist, n, medoids, assignments);
    let iterations = 0;
    while (iterations < maxIterations) {
      iterations++;
      const moved = updateMedoids(dist, n, medoids, assignments);
      if (!moved) break;
      const next = assignMedoids(dist, n, medoids, assignments);
      if (next >= cost) {
        cost = next;
        break;
      }
      cost = next;
    }
    if (!best || cost < best.cost) best = { medoids, assignments, cost, iterations };
  }
  return best!;
}

/** Moves every medoid to its cluster's most central member; true if any moved. */
function updateMedoids(dist: ArrayLike<number>, n: number, medoids: Int32Array, assignments: Int32Array): boolean {
  const members: number[][] = Array.from({ length: medoids.length }, () => []);
  for (let i = 0; i < n; i++) members[assignments[i]].push(i);
  let moved = false;
  const totalTo = (i: number, m: number[]): number => {
    let s = 0;
    for (const j of m) s += dist[i * n + j];
    return s;
  };
  members.forEach((m, c) => {
    // Strictly better only, so that ties cannot make the medoids cycle.
    let best = medoids[c];
    let bestSum = totalTo(best, m);
    for (const i of m) {
      const s = totalTo(i, m);
      if (s < bestSum) {
        bestSum = s;
        best = i;
      }
    }
    if (best !== medoids[c]) {
      medoids[c] = best;
      moved = true;
    }
  });
  return moved;
}
