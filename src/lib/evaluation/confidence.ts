/**
 * How much decoded latent points look like digits: the in-repo classifier's softmax probabilities on the
 * images, and summaries of them (the largest probability, the mass on a set of classes). A point whose
 * decoded image is a blur between digits, or a smear of noise, gets a low top probability.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageClassifier } from './classifier';
import { mapPointBatches } from '../runtime/batch';

/** Softmax class probabilities of images [N, D] (flat): [N, K]. */
export function classProbabilities(classifier: ImageClassifier, images: Float32Array, batchSize = 2000): Float32Array {
  const k = classifier.head.outputDim;
  return mapPointBatches(images, classifier.inputDim, batchSize, k, (x) => tf.softmax(classifier.logits(x)));
}

export interface ConfidenceSummary {
  /** Mean over images of the largest class probability. */
  meanTop: number;
  /** Median of the largest class probability. */
  medianTop: number;
  /** Fraction of images whose largest class probability is at least 0.9. */
  fractionAbove90: number;
  /** Mean probability mass on `classes` (all classes: 1). */
  meanOnClasses: number;
  images: number;
}

/** Summaries of probabilities [N, K]; `classes` are the classes whose mass meanOnClasses counts. */
export function summariseConfidence(probs: Float32Array, k: number, classes?: number[]): ConfidenceSummary {
  const n = probs.length / k;
  const top = new Float64Array(n);
  let onClasses = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 0; c < k; c++) best = Math.max(best, probs[i * k + c]);
    top[i] = best;
    if (classes) for (const c of classes) onClasses += probs[i * k + c];
  }
  const sorted = Float64Array.from(top).sort();
  return {
    meanTop: top.reduce((a, b) => a + b, 0) / n,
    medianTop: sorted[Math.floor(n / 2)],
    fractionAbove90: top.filter((x) => x >= 0.9).length / n,
    meanOnClasses: classes ? onClasses / n : 1,
    images: n,
  };
}
