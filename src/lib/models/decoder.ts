/**
 * A decoder (generator) z -> p(x|z). Every metric tool works on this interface, whichever model (VAE,
 * denoising AE, GAN, a decoder-json file) the decoder came from.
 */
import * as tf from '@tensorflow/tfjs';
import { Jet, Mlp } from '../nn/mlp';
import { RbfPrecision, disposeRbf, rbfStd, rbfStdJet } from '../nn/rbf';

/** How sigma(z) is produced, if at all. */
export type StdModel =
  | { kind: 'none' }
  | { kind: 'net'; net: Mlp } // sigma = net(z), the net ending in a positive activation (softplus)
  | { kind: 'rbf'; rbf: RbfPrecision }; // sigma = (W v(z) + zeta)^(-1/2)

export interface Decoder {
  readonly latentDim: number;
  readonly outputDim: number;
  /** mu(z): [B, d] -> [B, D]. */
  mean(z: tf.Tensor2D): tf.Tensor2D;
  /** mu(z) and its tangent rows J_mu^T [B, d, D]. */
  meanJet(z: tf.Tensor2D, opts?: { withValue?: boolean }): Jet;
  /** sigma(z) [B, D], or null for a deterministic decoder. */
  std(z: tf.Tensor2D): tf.Tensor2D | null;
  /** sigma(z) and J_sigma^T [B, d, D], or null for a deterministic decoder. */
  stdJet(z: tf.Tensor2D, opts?: { withValue?: boolean }): Jet | null;
  dispose(): void;
}

/**
 * p(x|z) = N(mu(z), diag sigma(z)^2) with a mean net and an optional std model. A Bernoulli decoder's
 * mean net ends in a sigmoid and has std 'none' (its outputs are the pixel probabilities).
 */
export class GaussianDecoder implements Decoder {
  constructor(
    readonly meanNet: Mlp,
    public stdModel: StdModel = { kind: 'none' },
  ) {
    const d = meanNet.inputDim;
    if (stdModel.kind === 'net' && (stdModel.net.inputDim !== d || stdModel.net.outputDim !== meanNet.outputDim)) {
      throw new Error(
        `GaussianDecoder: std net maps ${stdModel.net.inputDim} -> ${stdModel.net.outputDim}, mean net ${d} -> ${meanNet.outputDim}`,
      );
    }
    if (stdModel.kind === 'rbf') {
      const [, cd] = stdModel.rbf.centers.shape;
      const [, od] = stdModel.rbf.weightT.shape;
      if (cd !== d || od !== meanNet.outputDim) {
        throw new Error(`GaussianDecoder: RBF net has centres of dimension ${cd} and ${od} outputs; expected ${d} and ${meanNet.outputDim}`);
      }
    }
  }

  get latentDim(): number {
    return this.meanNet.inputDim;
  }

  get outputDim(): number {
    return this.meanNet.outputDim;
  }

  mean(z: tf.Tensor2D): tf.Tensor2D {
    return this.meanNet.apply(z);
  }

  meanJet(z: tf.Tensor2D, opts: { withValue?: boolean } = {}): Jet {
    return this.meanNet.jet(z, opts);
  }

  std(z: tf.Tensor2D): tf.Tensor2D | null {
    switch (this.stdModel.kind) {
      case 'none':
        return null;
      case 'net':
        return this.stdModel.net.apply(z);
      case 'rbf':
        return rbfStd(this.stdModel.rbf, z);
    }
  }

  stdJet(z: tf.Tensor2D, opts: { withValue?: boolean } = {}): Jet | null {
    switch (this.stdModel.kind) {
      case 'none':
        return null;
      case 'net':
        return this.stdModel.net.jet(z, opts);
      case 'rbf':
        return rbfStdJet(this.stdModel.rbf, z);
    }
  }

  /** Replaces the std model (e.g. the RBF net after the VAE is trained), disposing the old one. */
  setStdModel(next: StdModel): void {
    disposeStd(this.stdModel);
    this.stdModel = next;
  }

  dispose(): void {
    this.meanNet.dispose();
    disposeStd(this.stdModel);
  }
}

function disposeStd(s: StdModel): void {
  if (s.kind === 'net') s.net.dispose();
  if (s.kind === 'rbf') disposeRbf(s.rbf);
}
