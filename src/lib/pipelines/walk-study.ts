/**
 * Notebook 06's measures of whether a random walk stays on the data: besides the distances to the nearest
 * code (sampling/random-walk.ts), whether the decoded walk states still look like digits, judged by the
 * in-repo MNIST classifier (the one of notebooks 10-11, same configuration, so the model cache shares it).
 */
import * as path from 'node:path';
import { loadMnist } from '../data/mnist';
import { ImageClassifier, trainOrLoadClassifier } from '../evaluation/classifier';
import { ConfidenceSummary, classProbabilities, summariseConfidence } from '../evaluation/confidence';
import type { GaussianDecoder } from '../models/decoder';
import { decodeMeans } from '../models/decoder-fields';
import type { WalkResult } from '../sampling/random-walk';
import { Profile, repoRoot } from '../notebook/env';
import { classifierConfig } from './geometric-vae';

/** The MNIST classifier of notebooks 10-11 (trained on all 60k training images; from the cache when trained before). */
export async function mnistClassifier(profile: Profile, opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<{ classifier: ImageClassifier; fromCache: boolean; testAccuracy: number }> {
  const train = loadMnist({ split: 'train', scaling: '01' });
  const { classifier, fromCache } = await trainOrLoadClassifier(train.images, train.labels, classifierConfig(profile), {
    height: 28,
    width: 28,
    cacheDir: opts.cacheDir ?? path.join(repoRoot(), '.cache', 'models'),
    log: opts.log,
  });
  const test = loadMnist({ split: 'test', scaling: '01' });
  return { classifier, fromCache, testAccuracy: classifier.accuracy(test.images, test.labels) };
}

/** Every `every`-th state after the start of every walker: [W * floor(steps / every), d]. */
export function walkStates(walk: WalkResult, every: number): Float64Array {
  const { dim: d, walkers, steps, paths } = walk;
  const per = Math.floor(steps / every);
  const out = new Float64Array(walkers * per * d);
  for (let w = 0; w < walkers; w++) {
    for (let q = 0; q < per; q++) {
      const k = (q + 1) * every;
      out.set(paths.subarray((w * (steps + 1) + k) * d, (w * (steps + 1) + k + 1) * d), (w * per + q) * d);
    }
  }
  return out;
}

/** The classifier's confidence on the decoded means of latent points [N, d]; `classes` as in summariseConfidence. */
export function decodedConfidence(classifier: ImageClassifier, decoder: GaussianDecoder, points: ArrayLike<number>, classes?: number[]): ConfidenceSummary {
  const images = decodeMeans(decoder, Float32Array.from(points));
  return summariseConfidence(classProbabilities(classifier, images), classifier.head.outputDim, classes);
}
