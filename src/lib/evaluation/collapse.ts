/**
 * A mode-collapse check for image generators: is what a generator produces at its codes as varied as the
 * data? Two measures, both cheap and both read off decoded images:
 *
 * - the **diversity ratio**: the mean pairwise Euclidean distance between the decoded images over the
 *   same for as many data images. A generator collapsed onto one image gives ~0 (the collapsed GANs of
 *   notebook 07's first version gave 7e-4); one that reproduces the data's spread gives ~1 (2-D VAEs blur,
 *   so they land somewhat below 1).
 * - the **class coverage**: an MNIST classifier (./classifier.ts) labels every decoded image; the entropy
 *   of the predicted-class histogram (bits, at most log2 10 = 3.32) and how many classes get at least a
 *   `minShare` fraction of the images. A generator that has dropped most digits (partial collapse) keeps a
 *   fair diversity ratio but covers few classes.
 */
import { euclideanDistanceMatrix } from '../geometry/support';
import { InputError } from '../util/errors';
import type { ImageClassifier } from './classifier';

/** Mean Euclidean distance over all pairs of distinct rows of x [n, D] (n >= 2). */
export function meanPairwiseDistance(x: Float32Array, dim: number): number {
  const n = x.length / dim;
  if (!Number.isInteger(n) || n < 2) throw new InputError('meanPairwiseDistance: x', `expected at least 2 rows of ${dim} values, got ${x.length} values`);
  const d = euclideanDistanceMatrix(x, dim);
  let sum = 0;
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) sum += d[a * n + b];
  return sum / ((n * (n - 1)) / 2);
}

export interface ClassCoverage {
  /** Images predicted as each class [classes]. */
  counts: number[];
  /** Entropy of the predicted-class histogram, in bits. */
  entropyBits: number;
  /** Classes with at least minShare of the images. */
  covered: number;
}

/** The histogram of predicted classes `pred` over `classes` classes, its entropy and coverage. */
export function classCoverage(pred: ArrayLike<number>, classes: number, minShare: number): ClassCoverage {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < pred.length; i++) counts[pred[i]] += 1;
  const n = pred.length;
  let entropy = 0;
  for (const c of counts) if (c > 0) entropy -= (c / n) * Math.log2(c / n);
  return { counts, entropyBits: entropy, covered: counts.filter((c) => c >= minShare * n).length };
}

export interface CollapseThresholds {
  /** Collapsed below this diversity ratio (default 0.25: a quarter of the data's spread). */
  minDiversityRatio: number;
  /** Collapsed when fewer classes than this are covered (default 5, half the digits). */
  minClassesCovered: number;
  /** A class is covered with at least this share of the images (default 0.02, a fifth of a fair 0.1). */
  minShare: number;
}

export const COLLAPSE_THRESHOLDS: CollapseThresholds = { minDiversityRatio: 0.25, minClassesCovered: 5, minShare: 0.02 };

/** A type, not an interface, so that rows of it are plain records for tables and results.json. */
export type CollapseCheck = {
  /** Mean pairwise distance of the decoded images over that of the data images. */
  diversity_ratio: number;
  class_entropy_bits: number;
  classes_covered: number;
  collapsed: boolean;
};

/**
 * The check on decoded images [n, D] (subsampled by the caller: the pairwise distances cost n^2 D), against
 * `dataSpread`, the meanPairwiseDistance of as many data images (computed once for many generators).
 */
export function collapseCheck(decoded: Float32Array, dataSpread: number, dim: number, classifier: ImageClassifier, t: CollapseThresholds = COLLAPSE_THRESHOLDS): CollapseCheck {
  const ratio = meanPairwiseDistance(decoded, dim) / dataSpread;
  const cov = classCoverage(classifier.predict(decoded), classifier.head.outputDim, t.minShare);
  return {
    diversity_ratio: ratio,
    class_entropy_bits: cov.entropyBits,
    classes_covered: cov.covered,
    collapsed: !(ratio >= t.minDiversityRatio) || cov.covered < t.minClassesCovered,
  };
}
