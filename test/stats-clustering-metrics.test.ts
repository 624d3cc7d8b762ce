/**
 * Clustering scores on hand-worked examples: perfect and relabelled clusterings score 1, a known
 * confusion gives its hand-computed F-measure and accuracy, and the matching is the true optimum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignClustersToClasses, clusteringScores, confusionMatrix, maxWeightMatching } from '../src/lib/stats/clustering-metrics';
import { Rng } from '../src/lib/util/rng';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('a perfect clustering scores 1, whatever the cluster ids', () => {
  const labels = [0, 0, 1, 1, 1, 2, 2];
  for (const assignments of [labels, [5, 5, 3, 3, 3, 9, 9], [2, 2, 0, 0, 0, 1, 1]]) {
    const s = clusteringScores(labels, assignments);
    close(s.accuracy, 1, 'accuracy');
    close(s.fMeasure, 1, 'F-measure');
  }
});

test('a known confusion: one point of class 0 in cluster 1', () => {
  // Class 0 = {0..3}, class 1 = {4..7}; point 3 sits with class 1.
  const labels = [0, 0, 0, 0, 1, 1, 1, 1];
  const assignments = [7, 7, 7, 4, 4, 4, 4, 4];
  const s = clusteringScores(labels, assignments);
  close(s.accuracy, 7 / 8, 'accuracy');
  // Class 0 with cluster 7: P = 3/3, R = 3/4, F = 6/7. Class 1 with cluster 4: P = 4/5, R = 1, F = 8/9.
  close(s.classF[0], 6 / 7, 'F class 0');
  close(s.classF[1], 8 / 9, 'F class 1');
  close(s.fMeasure, (6 / 7 + 8 / 9) / 2, 'F-measure');
  assert.deepEqual(s.confusion.clusters, [4, 7]);
  assert.deepEqual(Array.from(s.confusion.counts), [1, 3, 4, 0]);
  assert.deepEqual(Array.from(alignClustersToClasses(assignments, s)), [0, 0, 0, 1, 1, 1, 1, 1]);
});

test('everything in one cluster: one class matched, the others score 0', () => {
  const labels = [0, 0, 1, 1, 2, 2];
  const s = clusteringScores(labels, [0, 0, 0, 0, 0, 0]);
  close(s.accuracy, 2 / 6, 'accuracy');
  // The matched class: P = 2/6, R = 1, F = 1/2; the two unmatched classes 0.
  close(s.fMeasure, 0.5 / 3, 'F-measure');
  assert.equal(s.matching.filter((k) => k < 0).length, 2);
});

test('more clusters than classes: the extra cluster counts against recall', () => {
  const s = clusteringScores([0, 0, 0, 1, 1, 1], [0, 0, 2, 1, 1, 1]);
  close(s.accuracy, 5 / 6, 'accuracy');
  // Class 0 with cluster 0: P = 1, R = 2/3, F = 4/5; class 1 with cluster 1: F = 1.
  close(s.fMeasure, (4 / 5 + 1) / 2, 'F-measure');
  assert.deepEqual(Array.from(alignClustersToClasses([0, 0, 2, 1, 1, 1], s)), [0, 0, 2, 1, 1, 1]);
});

test('the Hungarian matching equals brute force over all permutations', () => {
  const rng = new Rng(5);
  const permutations = (n: number): number[][] =>
    n === 0 ? [[]] : permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
  for (let trial = 0; trial < 30; trial++) {
    const [rows, cols] = [1 + rng.int(5), 1 + rng.int(5)];
    const w = Float64Array.from({ length: rows * cols }, () => Math.round(10 * rng.uniform()));
    const match = maxWeightMatching(w, rows, cols);
    const total = (m: ArrayLike<number>) => Array.from(m).reduce((acc: number, k, r) => acc + (k >= 0 ? w[r * cols + k] : 0), 0);
    // Brute force: every injective map of the smaller side into the larger.
    const n = Math.max(rows, cols);
    let best = -Infinity;
    for (const p of permutations(n)) {
      let s = 0;
      for (let r = 0; r < rows; r++) if (p[r] < cols) s += w[r * cols + p[r]];
      best = Math.max(best, s);
    }
    assert.equal(total(match), best, `trial ${trial} (${rows} x ${cols})`);
    const usedCols = Array.from(match).filter((k) => k >= 0);
    assert.equal(new Set(usedCols).size, usedCols.length, 'one-to-one');
    assert.equal(usedCols.length, Math.min(rows, cols));
  }
});

test('input errors', () => {
  assert.throws(() => confusionMatrix([0, 1], [0]), /2 labels but 1 assignments/);
  assert.throws(() => maxWeightMatching([1, 2, 3], 2, 2), /3 weights is not 2 x 2/);
});
