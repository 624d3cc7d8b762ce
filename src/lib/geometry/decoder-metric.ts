/**
 * Metrics induced by a decoder. The expected metric of a Gaussian decoder (Latent Space Oddity, Theorem 1)
 * is E[J^T J] = J_mu^T J_mu + J_sigma^T J_sigma, the pull-back through f(z) = [mu(z); sigma(z)] in R^(2D);
 * the deterministic pull-back uses mu alone.
 */
import * as tf from '@tensorflow/tfjs';
import { Decoder, GaussianDecoder } from '../models/decoder';
import { DECODER_JSON_FORMAT, decoderToJson } from '../io/decoder-json';
import { EmbeddingBlock, MetricWorkerDescription, PullbackMetric, gramFromTangents } from './metric';

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

  /** mu and sigma with their tangent rows, each from one forward-mode jet of its net. */
  embedWithJacobian(z: tf.Tensor2D): EmbeddingBlock[] {
    return tf.tidy(() => {
      const jets = [this.decoder.meanJet(z)];
      const s = this.kind === 'expected' ? this.decoder.stdJet(z) : null;
      if (s) jets.push(s);
      return jets.map((j) => ({ value: j.value!, jt: j.jt }));
    });
  }

  /** [mu] or [mu, sigma], unconcatenated. */
  embedBlocks(z: tf.Tensor2D): tf.Tensor2D[] {
    return tf.tidy(() => {
      const s = this.kind === 'expected' ? this.decoder.std(z) : null;
      return s ? [this.decoder.mean(z), s] : [this.decoder.mean(z)];
    });
  }

  /** A Gaussian decoder travels as decoder-json/v1; other decoders stay on the main thread. */
  workerDescription(): MetricWorkerDescription | null {
    const decoder = this.decoder;
    if (!(decoder instanceof GaussianDecoder)) return null;
    return { format: DECODER_JSON_FORMAT, owner: decoder, version: () => weightState(decoder), payload: () => decoderToJson(decoder), options: { kind: this.kind } };
  }
}

/** The identities that change whenever the decoder's weights or structure do. */
function weightState(decoder: GaussianDecoder): unknown[] {
  const s = decoder.stdModel;
  const tensors: tf.Tensor[] = [...decoder.meanNet.variables()];
  if (s.kind === 'net') tensors.push(...s.net.variables());
  if (s.kind === 'rbf') tensors.push(s.rbf.centers, s.rbf.bandwidths, s.rbf.weightT);
  return [decoder.meanNet, s, s.kind === 'rbf' ? s.rbf.zeta : null, ...tensors.map((t) => t.dataId)];
}

/** The expected metric M(z) = J_mu^T J_mu + J_sigma^T J_sigma. */
export function expectedMetric(decoder: Decoder): DecoderMetric {
  return new DecoderMetric(decoder, 'expected');
}

/** The deterministic pull-back J_mu^T J_mu. */
export function meanMetric(decoder: Decoder): DecoderMetric {
  return new DecoderMetric(decoder, 'mean');
}
