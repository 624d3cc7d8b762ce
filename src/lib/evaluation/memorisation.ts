/**
 * How much of a generator's output copies its training set: the memorisation check of Chadebec &
 * Allassonniere (NeurIPS 2022, Fig. 3), made quantitative. Every generated image is matched with its
 * nearest training image (Euclidean distance in pixel space); the distribution of those distances is set
 * against the same distances for held-out test images, which are new digits by construction. A generator
 * that copies has sample-to-train distances well below test-to-train ones; one that makes new digits of the
 * same quality has about the same distribution.
 */
import { quantile } from '../geometry/support';
import { nearestNeighbours } from './precision-recall';

export interface NearestTrainDistances {
  /** Index of each query's nearest training image. */
  index: Int32Array;
  /** Its pixel-space Euclidean distance. */
  distance: Float64Array;
}

/** Nearest training image of each query image [M, D] among train [N, D]. */
export function nearestTrainImages(queries: Float32Array, train: Float32Array, dim: number): NearestTrainDistances {
  return nearestNeighbours(queries, train, dim);
}

export interface MemorisationSummary {
  /** Queries scored. */
  count: number;
  median: number;
  /** 5th percentile of the nearest-training-image distances. */
  p05: number;
  /** Fraction of queries nearer to a training image than 99% (95%) of the test images are. */
  below_test_p01: number;
  below_test_p05: number;
}

/** The summary of one set of nearest-training-image distances, against the test images' distances. */
export function memorisationSummary(distances: ArrayLike<number>, testDistances: ArrayLike<number>): MemorisationSummary {
  const t01 = quantile(testDistances, 0.01);
  const t05 = quantile(testDistances, 0.05);
  let below01 = 0;
  let below05 = 0;
  for (let i = 0; i < distances.length; i++) {
    if (distances[i] < t01) below01++;
    if (distances[i] < t05) below05++;
  }
  return {
    count: distances.length,
    median: quantile(distances, 0.5),
    p05: quantile(distances, 0.05),
    below_test_p01: below01 / distances.length,
    below_test_p05: below05 / distances.length,
  };
}
