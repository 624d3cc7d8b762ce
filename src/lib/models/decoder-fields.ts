/**
 * Fields of a decoder itself (not of its metric) at many latent points, evaluated in batches: the mean
 * predicted standard deviation (how uncertain the decoder is) and decoded images.
 */
import * as tf from '@tensorflow/tfjs';
import type { Decoder } from './decoder';
import { mapPointBatches } from '../runtime/batch';

/** mean_j sigma_j(z) over the D outputs at flat points [N, d]; throws for a deterministic decoder. */
export function meanStdAt(decoder: Decoder, points: Float32Array, batchSize = 2048): Float32Array {
  return mapPointBatches(points, decoder.latentDim, batchSize, 1, (z) => {
    const s = decoder.std(z);
    if (!s) throw new Error('meanStdAt: the decoder is deterministic (it has no std model)');
    return tf.mean(s, 1);
  });
}

/** mu(z) at flat points [N, d] -> flat [N, D] (decoded images). */
export function decodeMeans(decoder: Decoder, points: Float32Array, batchSize = 1024): Float32Array {
  return mapPointBatches(points, decoder.latentDim, batchSize, decoder.outputDim, (z) => decoder.mean(z));
}
