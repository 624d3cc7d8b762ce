/**
 * Metrics induced by a decoder. The expected metric of a Gaussian decoder (Latent Space Oddity, Theorem 1)
 * is E[J^T J] = J_mu^T J_mu + J_sigma^T J_sigma, the pull-back through f(z) = [mu(z); sigma(z)] in R^(2D);
 * the deterministic pull-back uses mu alone.
 */
import * as tf from '@tensorflow/tfjs';
import type { Decoder } from '../models/decoder';
import { PullbackMetric, gramFromTangents } from './metric';

export type DecoderMetricKind = 'expected' | 'mean';

export class DecoderMetric implements PullbackMetric {
  constructor(
    readonly decoder: Decoder,
    readonly kind: DecoderMetricKind = 'expected',
  ) {}

  get dim(): number {
    return this.decoder.latentDim;
  }

  tensor(z: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => gramFromTangents(this.tangentBlocks(z)));
  }

  tangentBlocks(z: tf.Tensor2D): tf.Tensor3D[] {
    // Only derivatives enter the metric, so the last activations' values are skipped.
    const blocks = [this.decoder.meanJet(z, { withValue: false }).jt];
    if (this.kind === 'expected') {
      const s = this.decoder.stdJet(z, { withValue: false });
      if (s) blocks.push(s.jt);
    }
    return blocks;
  }

  embed(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const mu = this.decoder.mean(z);
      const sigma = this.kind === 'expected' ? this.decoder.std(z) : null;
      return sigma ? (tf.concat([mu, sigma], 1) as tf.Tensor2D) : mu;
    });
  }
}

/** The expected metric M(z) = J_mu^T J_mu + J_sigma^T J_sigma. */
export function expectedMetric(decoder: Decoder): DecoderMetric {
  return new DecoderMetric(decoder, 'expected');
}

/** The deterministic pull-back J_mu^T J_mu. */
export function meanMetric(decoder: Decoder): DecoderMetric {
  return new DecoderMetric(decoder, 'mean');
}
