/**
 * Multilayer perceptrons whose forward pass can also carry the Jacobian with respect to the input, in
 * forward mode (as stochman's nnj does). tfjs has only reverse mode, where a [B, D, d] Jacobian costs D
 * backward passes; forward mode costs about d extra forward passes.
 *
 * The Jacobian travels transposed, as tangent rows Jt = J^T of shape [B, d, n], so that each layer is one
 * plain [B*d, n] x [n, m] matMul and the metric J^T J is Jt Jt^T.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { ActivationSpec, activate, activateWithDerivative, activationDerivative } from './activations';
import { linear, linearTangent } from './linear';

export interface DenseLayer {
  kind: 'dense';
  /** [in, out]: x K, the transpose of torch's weight [out, in]. */
  kernel: tf.Variable<tf.Rank.R2>;
  bias: tf.Variable<tf.Rank.R1>;
}

export interface ActivationLayer {
  kind: 'activation';
  spec: ActivationSpec;
}

export type Layer = DenseLayer | ActivationLayer;

/** The value of a net at a batch, with tangent rows Jt = J^T [B, d, out] when asked for. */
export interface Jet {
  /** Absent when the caller asked for tangents only. */
  value: tf.Tensor2D | undefined;
  jt: tf.Tensor3D;
}

export interface MlpSpec {
  /** Layer widths from input to output, e.g. [2, 64, 256, 784]. */
  sizes: number[];
  /** One activation per dense layer (sizes.length - 1 of them); 'linear' for none. */
  activations: (ActivationSpec | ActivationSpec['name'])[];
}

export class Mlp {
  constructor(readonly layers: Layer[]) {
    if (!layers.some((l) => l.kind === 'dense')) throw new Error('Mlp: needs at least one dense layer');
  }

  get inputDim(): number {
    return this.denseLayers()[0].kernel.shape[0];
  }

  get outputDim(): number {
    const dense = this.denseLayers();
    return dense[dense.length - 1].kernel.shape[1];
  }

  denseLayers(): DenseLayer[] {
    return this.layers.filter((l): l is DenseLayer => l.kind === 'dense');
  }

  /** Trainable variables in layer order (kernel, bias, kernel, bias, ...). */
  variables(): tf.Variable[] {
    return this.denseLayers().flatMap((l) => [l.kernel, l.bias]);
  }

  /** y = f(x): [B, in] -> [B, out]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor2D = x;
      for (const l of this.layers) {
        h = l.kind === 'dense' ? linear(h, l.kernel, l.bias) : (activate(l.spec, h) as tf.Tensor2D);
      }
      return h;
    });
  }

  /**
   * Value and tangent rows at x [B, in]. `jtIn` [B, d, in] pushes given tangents (for a net that follows
   * another); without it the tangents start at the identity, giving Jt = J^T [B, in, out].
   * `withValue: false` skips the last activation's value where only its derivative is needed.
   */
  jet(x: tf.Tensor2D, opts: { jtIn?: tf.Tensor3D; withValue?: boolean } = {}): Jet {
    const withValue = opts.withValue ?? true;
    return tf.tidy(() => {
      const batch = x.shape[0];
      let h: tf.Tensor2D = x;
      // The identity is kept as an unbatched [1, in, in] tangent until the first dense layer, which makes it
      // the kernel itself: the first layer costs no tangent matMul.
      let jt: tf.Tensor3D | null = opts.jtIn ?? null;
      const last = this.layers.length - 1;
      this.layers.forEach((l, i) => {
        if (l.kind === 'dense') {
          jt = jt === null ? (tf.expandDims(l.kernel, 0) as tf.Tensor3D) : linearTangent(broadcastBatch(jt, batch), l.kernel);
          h = linear(h, l.kernel, l.bias);
          return;
        }
        const needValue = withValue || i !== last;
        let dy: tf.Tensor;
        if (needValue) {
          const r = activateWithDerivative(l.spec, h);
          h = r.y as tf.Tensor2D;
          dy = r.dy;
        } else {
          dy = activationDerivative(l.spec, h);
        }
        if (jt === null) jt = tf.expandDims(tf.eye(this.inputDim), 0) as tf.Tensor3D;
        jt = tf.mul(jt, tf.expandDims(dy, 1)) as tf.Tensor3D;
      });
      const jtOut = broadcastBatch(jt ?? (tf.expandDims(tf.eye(this.inputDim), 0) as tf.Tensor3D), batch);
      const lastIsActivation = this.layers[last].kind === 'activation';
      return { value: withValue || !lastIsActivation ? h : undefined, jt: jtOut };
    });
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

function broadcastBatch(jt: tf.Tensor3D, batch: number): tf.Tensor3D {
  return jt.shape[0] === batch ? jt : (tf.tile(jt, [batch, 1, 1]) as tf.Tensor3D);
}

/**
 * A fresh MLP with Glorot-uniform kernels and zero biases (the Keras default; torch's Kaiming-uniform
 * differs by a constant factor), drawn from a seeded Rng.
 */
export function createMlp(spec: MlpSpec, rng: Rng, name = 'mlp'): Mlp {
  // `name` only labels errors: tfjs variable names must be globally unique, so variables stay unnamed.
  const { sizes, activations } = spec;
  if (sizes.length < 2) throw new Error(`${name}: sizes must list at least input and output width`);
  if (activations.length !== sizes.length - 1) {
    throw new Error(`${name}: expected ${sizes.length - 1} activations for sizes [${sizes.join(', ')}], got ${activations.length}`);
  }
  const layers: Layer[] = [];
  // tidy disposes the initial values; the variables survive it.
  tf.tidy(() => {
  for (let i = 0; i < sizes.length - 1; i++) {
    const [nin, nout] = [sizes[i], sizes[i + 1]];
    const limit = Math.sqrt(6 / (nin + nout));
    const w = new Float32Array(nin * nout);
    for (let j = 0; j < w.length; j++) w[j] = (2 * rng.uniform() - 1) * limit;
    layers.push({
      kind: 'dense',
      kernel: tf.variable(tf.tensor2d(w, [nin, nout]), true),
      bias: tf.variable(tf.zeros([nout]), true),
    });
    const a = activations[i];
    const act: ActivationSpec = typeof a === 'string' ? { name: a } : a;
    if (act.name !== 'linear') layers.push({ kind: 'activation', spec: act });
  }
  });
  return new Mlp(layers);
}
