/**
 * Optimisers for the hand-written training loops (the VAE, the generator zoo, the RBF fit, the classifier,
 * potential interpolation): parameters are tf.Variables, gradients come from the caller.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  /** Added to sqrt(v_hat), as torch and tf.train.adam do; default 1e-8 (torch's). */
  epsilon?: number;
}

/**
 * Adam (Kingma & Ba) with the bias corrections folded into two scalars shared by all parameters, so each
 * parameter costs 12 element-wise ops: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t) and eps_t = eps sqrt(1 - b2^t)
 * give exactly p -= lr m_hat / (sqrt(v_hat) + eps), the update of torch and tf.train.adam. Packing all parameters into one vector would need
 * slices, which on wasm copy the whole source tensor each (readSync), so the update stays per parameter.
 */
export class Adam {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;

  constructor(
    readonly params: tf.Variable[],
    opts: AdamOptions = {},
  ) {
    this.learningRate = opts.learningRate ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
    // tidy frees the zero tensors; the variables keep their data.
    this.m = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
    this.v = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
  }

  /** Steps taken so far. */
  get iterations(): number {
    return this.t;
  }

  /** One update; `grads` align with `params`. `learningRate` overrides the constructor's for this step. */
  step(grads: tf.Tensor[], learningRate = this.learningRate): void {
    if (grads.length !== this.params.length) throw new Error(`Adam.step: ${grads.length} gradients for ${this.params.length} parameters`);
    this.t += 1;
    const c2 = Math.sqrt(1 - this.beta2 ** this.t);
    tf.tidy(() => {
      const oneMinusB1 = tf.scalar(1 - this.beta1);
      const oneMinusB2 = tf.scalar(1 - this.beta2);
      const lrT = tf.scalar((learningRate * c2) / (1 - this.beta1 ** this.t));
      const epsT = tf.scalar(this.epsilon * c2);
      this.params.forEach((p, i) => {
        const g = grads[i];
        const m = this.m[i];
        const v = this.v[i];
        const mNew = tf.add(m, tf.mul(tf.sub(g, m), oneMinusB1));
        const vNew = tf.add(v, tf.mul(tf.sub(tf.square(g), v), oneMinusB2));
        m.assign(mNew);
        v.assign(vNew);
        p.assign(tf.sub(p, tf.mul(tf.div(mNew, tf.add(tf.sqrt(vNew), epsT)), lrT)));
      });
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
