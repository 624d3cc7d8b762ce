/**
 * External clustering scores: how well cluster assignments recover known class labels. Cluster ids are
 * arbitrary, so every score first matches clusters to classes one-to-one (the Hungarian algorithm, exact
 * for any number of clusters): accuracy with the matching that maximises the points counted correct, the
 * F-measure with the matching that maximises the summed per-class F1. Plain typed-array code, no backend.
 */

/** Counts of points per (class, cluster). */
export interface ConfusionMatrix {
  /** The distinct class labels, ascending: row r is class classes[r]. */
  classes: number[];
  /** The distinct cluster ids, ascending: column c is cluster clusters[c]. */
  clusters: number[];
  /** [C, K] row-major counts. */
  counts: Int32Array;
}

export function confusionMatrix(labels: ArrayLike<number>, assignments: ArrayLike<number>): ConfusionMatrix {
  if (labels.length !== assignments.length) throw new RangeError(`confusionMatrix: ${labels.length} labels but ${assignments.length} assignments`);
  if (labels.length === 0) throw new RangeError('confusionMatrix: no points');
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const clusters = [...new Set(Array.from(assignments))].sort((a, b) => a - b);
  const row = new Map(classes.map((c, r) => [c, r]));
  const col = new Map(clusters.map((c, k) => [c, k]));
  const counts = new Int32Array(classes.length * clusters.length);
  for (let i = 0; i < labels.length; i++) counts[row.get(labels[i])! * clusters.length + col.get(assignments[i])!]++;
  return { classes, clusters, counts };
}

/**
 * The one-to-one matching of rows to columns of weights [R, K] (row-major) with the largest total
 * weight: match[r] is row r's column, or -1 when there are more rows than columns and r is left out.
 * Hungarian algorithm with potentials, O(n^2 m) for n = min(R, K), m = max(R, K).
 */
export function maxWeightMatching(weights: ArrayLike<number>, rows: number, cols: number): Int32Array {
  if (weights.length !== rows * cols) throw new RangeError(`maxWeightMatching: ${weights.length} weights is not ${rows} x ${cols}`);
  const transposed = rows > cols;
  const [n, m] = transposed ? [cols, rows] : [rows, cols];
  let top = -Infinity;
  for (let q = 0; q < weights.length; q++) top = Math.max(top, weights[q]);
  // Minimise top - w over an n x m matrix with n <= m (every one of the n rows is matched).
  const cost = (i: number, j: number) => top - (transposed ? weights[j * cols + i] : weights[i * cols + j]);
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const owner = new Int32Array(m + 1); // owner[j]: the (1-based) row matched to column j, 0 for none
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    owner[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = owner[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[owner[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (owner[j0] !== 0);
    do {
      const j1 = way[j0];
      owner[j0] = owner[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const match = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= m; j++) {
    if (owner[j] === 0) continue;
    if (transposed) match[j - 1] = owner[j] - 1;
    else match[owner[j] - 1] = j - 1;
  }
  return match;
}

/** F1 of class row r against cluster column k: the harmonic mean of precision n_rk / n_k and recall n_rk / n_r. */
function f1Table(cm: ConfusionMatrix): Float64Array {
  const [rows, cols] = [cm.classes.length, cm.clusters.length];
  const classSize = new Float64Array(rows);
  const clusterSize = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      classSize[r] += cm.counts[r * cols + k];
      clusterSize[k] += cm.counts[r * cols + k];
    }
  }
  // 2 n_rk / (n_r + n_k) is the harmonic mean of the two ratios.
  return Float64Array.from({ length: rows * cols }, (_, q) => (2 * cm.counts[q]) / (classSize[Math.floor(q / cols)] + clusterSize[q % cols]));
}

export interface ClusteringScores {
  /** Fraction of points whose cluster is matched to their class (one-to-one matching maximising it). */
  accuracy: number;
  /**
   * Mean over classes of F1 against each class's matched cluster (one-to-one matching maximising the
   * sum; a class left without a cluster scores 0). 1 exactly when the clusters are the classes.
   */
  fMeasure: number;
  /** Per class (in confusion.classes order): F1 with its matched cluster. */
  classF: Float64Array;
  /** Per class: the column (into confusion.clusters) of the cluster that accuracy matched to it, or -1. */
  matching: Int32Array;
  confusion: ConfusionMatrix;
}

/** Accuracy and F-measure of cluster `assignments` against class `labels` (any integer ids for both). */
export function clusteringScores(labels: ArrayLike<number>, assignments: ArrayLike<number>): ClusteringScores {
  const confusion = confusionMatrix(labels, assignments);
  const [rows, cols] = [confusion.classes.length, confusion.clusters.length];
  const matching = maxWeightMatching(confusion.counts, rows, cols);
  let correct = 0;
  matching.forEach((k, r) => (correct += k >= 0 ? confusion.counts[r * cols + k] : 0));
  const f1 = f1Table(confusion);
  const fMatch = maxWeightMatching(f1, rows, cols);
  const classF = Float64Array.from(fMatch, (k, r) => (k >= 0 ? f1[r * cols + k] : 0));
  return { accuracy: correct / labels.length, fMeasure: classF.reduce((a, b) => a + b, 0) / rows, classF, matching, confusion };
}

/**
 * The assignments renamed so that a cluster matched to class c is called c (as in scores.matching);
 * unmatched clusters get ids above the largest class. Lets figures colour clusters like their classes.
 */
export function alignClustersToClasses(assignments: ArrayLike<number>, scores: ClusteringScores): Int32Array {
  const { classes, clusters } = scores.confusion;
  const rename = new Map<number, number>();
  scores.matching.forEach((k, r) => k >= 0 && rename.set(clusters[k], classes[r]));
  let next = Math.max(...classes) + 1;
  for (const c of clusters) if (!rename.has(c)) rename.set(c, next++);
  return Int32Array.from(assignments, (a) => rename.get(a)!);
}
