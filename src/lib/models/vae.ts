/**
 * A variational autoencoder with a diagonal-Gaussian encoder q(z|x) = N(mu(x), diag exp(logvar(x))) and a
 * Bernoulli or Gaussian decoder p(x|z), configured by plain typed objects (pythae style), plus the Adam
 * optimiser that trains it.
 *
 * Training does not use tfjs autodiff. On the wasm backend the tape, the generic gradients (MatMul's uses the
 * transpose flags, which are 7-15x slower there) and the per-op overhead cost more than the arithmetic, so
 * the step runs its own forward pass, keeps what the backward pass needs, and back-propagates by hand with
 * plain matMuls. One step of the benchmark's MNIST VAE (bench/cases/vae-train-step.ts) takes ~13 ms here,
 * against ~33 ms with tf.variableGrads over the Mlps' fast-gradient layers plus tf.train.adam, and ~75 ms
 * with plain tfjs layers. A test checks these gradients against autodiff of the evaluation path, which
 * uses the Mlps' own forward passes.
 *
 * Layouts: batches are [B, D] rows; kernels are [in, out] (x K + b), as in ../nn/mlp.
 */
import * as tf from '@tensorflow/tfjs';
import { ActivationSpec, activate, activationDerivative, isActivationName, ACTIVATION_NAMES } from '../nn/activations';
import { Layer, Mlp, createMlp } from '../nn/mlp';
import { InputError } from '../util/errors';
import { Rng } from '../util/rng';
import { GaussianDecoder } from './decoder';

// ---------------------------------------------------------------------------------------------------------
// Configuration

export type ActivationLike = ActivationSpec | ActivationSpec['name'];

/** Hidden layers of one network; the output layer is added by the VAE (its width and activation are fixed). */
export interface NetConfig {
  /** Hidden widths from input to output, e.g. [256, 64]. May be empty. */
  hidden: number[];
  /** One activation per hidden layer. */
  activations: ActivationLike[];
}

export type Likelihood = 'bernoulli' | 'gaussian' | 'gaussian-fixed';

/**
 * The default fixedStd, 1/sqrt(2): then -log p(x|z) = ||x - mu(z)||^2 + a constant, exactly the summed squared
 * error the official code of Chadebec & Allassonnière (NeurIPS 2022) trains with (F.mse_loss(...,
 * reduction='none').sum(), no 1/2, no mean over pixels), so their beta (0.01 on MNIST) carries over unchanged.
 * The same objective is a beta = 1 ELBO with sigma = sqrt(beta / 2) (0.0707 for beta = 0.01).
 */
export const OFFICIAL_MSE_STD = Math.SQRT1_2;

export interface VaeConfig {
  /** D, the data dimension (784 for MNIST). */
  inputDim: number;
  /** d, the latent dimension. */
  latentDim: number;
  /** Encoder trunk; a last linear layer outputs [mu | logvar] (2d values). */
  encoder: NetConfig;
  /** Decoder mean net; its last layer is linear (Bernoulli: logits; Gaussian: the mean). */
  decoder: NetConfig;
  /**
   * 'bernoulli': x in [0, 1], loss = sigmoid cross-entropy on the logits; the exported decoder's mean is
   * sigmoid(logits) and it has no std. 'gaussian': p(x|z) = N(mu(z), diag sigma(z)^2) with a std net.
   * 'gaussian-fixed': p(x|z) = N(sigmoid(logits(z)), fixedStd^2 I), one mean net (ending in a sigmoid, as the
   * official code's decoder does) and a constant sigma; the exported decoder's std is that constant.
   */
  likelihood: Likelihood;
  /**
   * Gaussian only: the std net's hidden layers (default: the decoder's). Its last layer is softplus, so the
   * net gives sigma itself, exactly what GaussianDecoder's { kind: 'net' } std model expects.
   */
  stdDecoder?: NetConfig;
  /**
   * Gaussian only (default 1e-3): the loss uses max(sigma, minStd). Pixels that are constant in the data
   * (MNIST's borders) would otherwise drive sigma to 0 and the likelihood to infinity. The floor has zero
   * gradient below it, so the exported (unfloored) std net stays near the floor there.
   */
  minStd?: number;
  /** 'gaussian-fixed' only: the constant sigma, default OFFICIAL_MSE_STD = 1/sqrt(2) (the official code's MSE). */
  fixedStd?: number;
  /**
   * 'gaussian' only, default false: keep the std net at its initial weights during training (its gradients
   * are zeroed, so Adam leaves it as it is). A control that keeps the two-net architecture but does not
   * learn the variance.
   */
  freezeStd?: boolean;
  /** Weight of the KL term (beta-VAE), default 1. */
  beta?: number;
  /** Seed of the weight initialisation and of the default noise stream, default 0. */
  seed?: number;
}

/**
 * Every default filled in; stdDecoder is set for a 'gaussian' VAE only, fixedStd for 'gaussian-fixed' only (so
 * that the other configs, and their model-cache keys, are unchanged). Still a VaeConfig (checkpoints store it).
 */
export type ResolvedVaeConfig = Required<Omit<VaeConfig, 'stdDecoder' | 'fixedStd' | 'freezeStd'>> & { stdDecoder?: NetConfig; fixedStd?: number; freezeStd?: true };

/** The VAE of the benchmark and of the paper's MNIST experiments: 784-256-64 -> d -> 64-256-784. */
export function mnistVaeConfig(overrides: Partial<VaeConfig> = {}): VaeConfig {
  return {
    inputDim: 784,
    latentDim: 2,
    encoder: { hidden: [256, 64], activations: ['relu', 'tanh'] },
    decoder: { hidden: [64, 256], activations: ['tanh', 'softplus'] },
    likelihood: 'bernoulli',
    ...overrides,
  };
}

export function checkNet(c: unknown, where: string): NetConfig {
  const n = c as NetConfig;
  if (typeof c !== 'object' || c === null || !Array.isArray(n.hidden) || !Array.isArray(n.activations)) {
    throw new InputError(where, 'expected { hidden: number[], activations: string[] }');
  }
  n.hidden.forEach((w, i) => {
    if (!Number.isInteger(w) || w <= 0) throw new InputError(`${where}.hidden[${i}]`, `expected a positive integer, got ${JSON.stringify(w)}`);
  });
  if (n.activations.length !== n.hidden.length) {
    throw new InputError(`${where}.activations`, `expected ${n.hidden.length} activations (one per hidden layer), got ${n.activations.length}`);
  }
  n.activations.forEach((a, i) => {
    const name = typeof a === 'string' ? a : a?.name;
    if (!isActivationName(name)) throw new InputError(`${where}.activations[${i}]`, `expected one of ${ACTIVATION_NAMES.join(', ')}, got ${JSON.stringify(a)}`);
  });
  return { hidden: [...n.hidden], activations: [...n.activations] };
}

function positive(v: unknown, where: string, integer: boolean): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new InputError(where, `expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Fills the defaults and validates; errors name the offending field. */
export function resolveVaeConfig(c: VaeConfig): ResolvedVaeConfig {
  if (c.likelihood !== 'bernoulli' && c.likelihood !== 'gaussian' && c.likelihood !== 'gaussian-fixed') {
    throw new InputError('VaeConfig.likelihood', `expected "bernoulli", "gaussian" or "gaussian-fixed", got ${JSON.stringify(c.likelihood)}`);
  }
  const fixed = c.likelihood === 'gaussian-fixed';
  const gaussian = c.likelihood === 'gaussian';
  const beta = c.beta ?? 1;
  if (!(beta >= 0) || !Number.isFinite(beta)) throw new InputError('VaeConfig.beta', `expected a number >= 0, got ${JSON.stringify(c.beta)}`);
  return {
    inputDim: positive(c.inputDim, 'VaeConfig.inputDim', true),
    latentDim: positive(c.latentDim, 'VaeConfig.latentDim', true),
    encoder: checkNet(c.encoder, 'VaeConfig.encoder'),
    decoder: checkNet(c.decoder, 'VaeConfig.decoder'),
    likelihood: c.likelihood,
    ...(gaussian ? { stdDecoder: checkNet(c.stdDecoder ?? c.decoder, 'VaeConfig.stdDecoder') } : {}),
    ...(fixed ? { fixedStd: positive(c.fixedStd ?? OFFICIAL_MSE_STD, 'VaeConfig.fixedStd', false) } : {}),
    ...(gaussian && c.freezeStd === true ? { freezeStd: true as const } : {}),
    minStd: positive(c.minStd ?? 1e-3, 'VaeConfig.minStd', false),
    beta,
    seed: c.seed ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Adam

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

// ---------------------------------------------------------------------------------------------------------
// Hand-written backpropagation through an Mlp

/** What the backward pass needs: the input of every layer, and the net's output. */
interface Trace {
  inputs: tf.Tensor2D[];
  output: tf.Tensor2D;
}

/**
 * softplus as relu(x) - log(sigmoid(|x|)): one slow log instead of activations.ts's exp and log1p (sigmoid
 * is vectorised on wasm); sigmoid(|x|) >= 1/2, so nothing underflows.
 */
function softplusForTraining(spec: ActivationSpec, x: tf.Tensor): tf.Tensor {
  const beta = spec.beta ?? 1;
  if ((spec.threshold ?? 20) < 17) return activate(spec, x); // a real kink: keep the reference formula
  const bx = beta === 1 ? x : tf.mul(x, beta);
  const y = tf.sub(tf.relu(bx), tf.log(tf.sigmoid(tf.abs(bx))));
  return beta === 1 ? y : tf.div(y, beta);
}

function activationForward(spec: ActivationSpec, x: tf.Tensor2D): tf.Tensor2D {
  return (spec.name === 'softplus' ? softplusForTraining(spec, x) : activate(spec, x)) as tf.Tensor2D;
}

/** dL/d(pre) from dL/d(post), using the cached value where that is cheaper than recomputing. */
function activationBackward(spec: ActivationSpec, pre: tf.Tensor2D, post: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  switch (spec.name) {
    case 'tanh':
      return tf.mul(dy, tf.sub(1, tf.square(post))) as tf.Tensor2D;
    case 'sigmoid':
      return tf.mul(dy, tf.mul(post, tf.sub(1, post))) as tf.Tensor2D;
    case 'elu': // exp(x) = post + 1 where x <= 0, 1 elsewhere
      return tf.mul(dy, tf.add(tf.sub(post, tf.relu(post)), 1)) as tf.Tensor2D;
    case 'linear':
      return dy;
    default: // relu, softplus: cheap from the input
      return tf.mul(dy, activationDerivative(spec, pre)) as tf.Tensor2D;
  }
}

function forwardTrace(net: Mlp, x: tf.Tensor2D): Trace {
  const inputs: tf.Tensor2D[] = [];
  let h = x;
  for (const l of net.layers) {
    inputs.push(h);
    h = l.kind === 'dense' ? (tf.fused.matMul({ a: h, b: l.kernel, bias: l.bias }) as tf.Tensor2D) : activationForward(l.spec, h);
  }
  return { inputs, output: h };
}

/**
 * Gradients of the net's variables (in net.variables() order) and of its input, given dL/d(output) [B, out].
 *
 * Each dense layer works from dy^T: db = rowsum(dy^T) (a fast last-axis reduce; sum over axis 0 transposes
 * internally), dK = x^T dy, and dx = (K dy^T)^T, so that the big packed operand of every matMul is an
 * activation [B, *] rather than a kernel: for the 256 x 784 output layer that is 1.2 ms against 1.9 ms for
 * dy K^T. `inputT` is x^T of the first layer when the caller has it (the batch, transposed on the host).
 */
function backwardTrace(net: Mlp, trace: Trace, dy: tf.Tensor2D, opts: { inputT?: tf.Tensor2D; needInputGrad: boolean }): { grads: tf.Tensor[]; dx: tf.Tensor2D | null } {
  const layers = net.layers;
  const firstDense = layers.findIndex((l) => l.kind === 'dense');
  const reversed: tf.Tensor[] = [];
  let g = dy;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    const x = trace.inputs[i];
    if (l.kind === 'activation') {
      if (i < firstDense && !opts.needInputGrad) break;
      g = activationBackward(l.spec, x, i + 1 < layers.length ? trace.inputs[i + 1] : trace.output, g);
      continue;
    }
    const gT = tf.transpose(g);
    const xT = i === 0 && opts.inputT ? opts.inputT : tf.transpose(x);
    reversed.push(tf.sum(gT, 1), tf.matMul(xT, g)); // bias, kernel
    if (i > firstDense || opts.needInputGrad) g = tf.transpose(tf.matMul(l.kernel, gT)) as tf.Tensor2D;
  }
  return { grads: reversed.reverse(), dx: opts.needInputGrad ? g : null };
}

// ---------------------------------------------------------------------------------------------------------
// Loss terms, per example, shared by training and evaluation

/** The decoder's raw output at a batch of codes. */
export type DecoderOutput =
  | { kind: 'bernoulli'; logits: tf.Tensor2D }
  | { kind: 'gaussian'; mean: tf.Tensor2D; sigma: tf.Tensor2D }
  | { kind: 'gaussian-fixed'; logits: tf.Tensor2D; sigma: number }; // mean = sigmoid(logits)

/** The largest divisor of n that is at most `max`. */
function groupSize(n: number, max: number): number {
  for (let g = Math.min(n, max); g > 1; g--) if (n % g === 0) return g;
  return 1;
}

/**
 * sum_j log sigmoid(|l_bj|) per row [B]. sigmoid(|l|) lies in [1/2, 1], so a product of 64 of them stays
 * above 2^-64: one log per group instead of one per element (tf.log is a scalar loop on wasm, ~6 ns an
 * element, against ~1 ns for sigmoid).
 */
function sumLogSigmoidAbs(logits: tf.Tensor2D): tf.Tensor1D {
  const [b, n] = logits.shape;
  const g = groupSize(n, 64);
  const s = tf.reshape(tf.sigmoid(tf.abs(logits)), [b, n / g, g]);
  return tf.sum(tf.log(tf.prod(s, 2)), 1) as tf.Tensor1D;
}

/** max(sigma, floor) with fast ops (tf.maximum against a scalar is a slow broadcast on wasm). */
function floorStd(sigma: tf.Tensor2D, minStd: number): tf.Tensor2D {
  return tf.add(tf.relu(tf.sub(sigma, minStd)), minStd) as tf.Tensor2D;
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** -log p(x|z) per example [B], in nats. */
export function reconstructionNll(out: DecoderOutput, x: tf.Tensor2D, minStd: number): tf.Tensor1D {
  return tf.tidy(() => {
    if (out.kind === 'bernoulli') {
      // softplus(l) - l x with softplus(l) = relu(l) - log sigmoid(|l|): stable for any logit.
      const l = out.logits;
      return tf.sub(tf.sum(tf.sub(tf.relu(l), tf.mul(l, x)), 1), sumLogSigmoidAbs(l)) as tf.Tensor1D;
    }
    if (out.kind === 'gaussian-fixed') {
      // ||x - mu||^2 / (2 sigma^2) + D (log sigma + log(2 pi) / 2)
      const s = out.sigma;
      const sq = tf.sum(tf.square(tf.sub(x, tf.sigmoid(out.logits))), 1);
      return tf.add(tf.mul(sq, 1 / (2 * s * s)), x.shape[1] * (Math.log(s) + HALF_LOG_2PI)) as tf.Tensor1D;
    }
    const s = floorStd(out.sigma, minStd);
    const u = tf.div(tf.sub(x, out.mean), s);
    const perPixel = tf.add(tf.log(s), tf.mul(tf.square(u), 0.5));
    return tf.add(tf.sum(perPixel, 1), x.shape[1] * HALF_LOG_2PI) as tf.Tensor1D;
  });
}

/**
 * d(scale * sum_b nll_b) with respect to the decoder output: the mean net's output (logits or mean) and,
 * for a Gaussian, sigma.
 */
function reconstructionNllGrad(out: DecoderOutput, x: tf.Tensor2D, minStd: number, scale: number): { dMeanNet: tf.Tensor2D; dSigma: tf.Tensor2D | null } {
  if (out.kind === 'bernoulli') return { dMeanNet: tf.mul(tf.sub(tf.sigmoid(out.logits), x), scale) as tf.Tensor2D, dSigma: null };
  if (out.kind === 'gaussian-fixed') {
    // d/dl of (x - m)^2 / (2 s^2) with m = sigmoid(l): (m - x) m (1 - m) / s^2.
    const m = tf.sigmoid(out.logits);
    const dm = tf.mul(tf.sub(m, x), scale / (out.sigma * out.sigma));
    return { dMeanNet: tf.mul(dm, tf.mul(m, tf.sub(1, m))) as tf.Tensor2D, dSigma: null };
  }
  const s = floorStd(out.sigma, minStd);
  const u = tf.div(tf.sub(x, out.mean), s);
  const scaledInvS = tf.div(scale, s);
  return {
    dMeanNet: tf.neg(tf.mul(u, scaledInvS)) as tf.Tensor2D,
    // d/ds [log s + u^2 / 2] = (1 - u^2) / s, through the floor's relu.
    dSigma: tf.mul(tf.mul(tf.sub(1, tf.square(u)), scaledInvS), tf.step(tf.sub(out.sigma, minStd))) as tf.Tensor2D,
  };
}

/** KL(q(z|x) || N(0, I)) per example [B]. */
export function klDivergence(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(logvar, 1)), 1), 0.5) as tf.Tensor1D);
}

// ---------------------------------------------------------------------------------------------------------
// The model

export interface StepOptions {
  /** The KL weight of this step (the trainer's warm-up); default config.beta. */
  klWeight?: number;
  /** Noise for the reparametrisation; default the VAE's own stream, seeded from config.seed. */
  noise?: Rng;
  learningRate?: number;
}

export interface TrainingStats {
  /** Mean over the examples seen of reconstruction + klWeight * kl (the objective minimised). */
  loss: number;
  /** Mean -log p(x|z), nats. */
  reconstruction: number;
  /** Mean KL(q(z|x) || p(z)), nats. */
  kl: number;
  examples: number;
  steps: number;
}

export interface ElboReport {
  /** Mean ELBO per example (nats): -(reconstruction + kl). */
  elbo: number;
  reconstruction: number;
  kl: number;
  /** reconstruction + beta * kl with the config's beta: the objective the trainer validates on. */
  loss: number;
}

export interface EvalOptions {
  /** Seed of the one reparametrisation sample per example; default 0, so that repeated evaluations compare. */
  seed?: number;
  batchSize?: number;
  /** Overrides config.beta in `loss`. */
  beta?: number;
}

/** A named variable, for checkpoints: "encoder/0/kernel", "mean/2/bias", "std/1/kernel". */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** Optimiser state and the on-device sums of [loss, reconstruction, kl] since the last read. */
interface TrainingState {
  adam: Adam;
  sums: tf.Variable<tf.Rank.R1>;
  examples: number;
  steps: number;
}

export function netSpec(inDim: number, net: NetConfig, outDim: number, outAct: ActivationLike): { sizes: number[]; activations: ActivationLike[] } {
  return { sizes: [inDim, ...net.hidden, outDim], activations: [...net.activations, outAct] };
}

/** A copy of the net with its own variables (plus optional extra layers), so that disposing one leaves the other. */
export function cloneMlp(net: Mlp, extra: Layer[] = []): Mlp {
  const layers: Layer[] = [];
  // tidy disposes the clones; the variables keep their data.
  tf.tidy(() => {
    for (const l of net.layers) {
      layers.push(
        l.kind === 'dense'
          ? { kind: 'dense', kernel: tf.variable(l.kernel.clone(), true), bias: tf.variable(l.bias.clone(), true) }
          : { kind: 'activation', spec: { ...l.spec } },
      );
    }
  });
  return new Mlp([...layers, ...extra]);
}

export class Vae {
  readonly config: ResolvedVaeConfig;
  /** x [B, D] -> [mu | logvar] [B, 2d]. */
  readonly encoder: Mlp;
  /** z -> logits (Bernoulli, gaussian-fixed) or the mean (Gaussian), [B, D]. */
  readonly meanNet: Mlp;
  /** z -> sigma (softplus output), Gaussian only. */
  readonly stdNet: Mlp | null;
  private readonly noise: Rng;
  private training: TrainingState | null = null;

  constructor(config: VaeConfig) {
    const c = resolveVaeConfig(config);
    this.config = c;
    const rng = new Rng(c.seed);
    const { inputDim: D, latentDim: d } = c;
    this.encoder = createMlp(netSpec(D, c.encoder, 2 * d, 'linear'), rng, 'encoder');
    this.meanNet = createMlp(netSpec(d, c.decoder, D, 'linear'), rng, 'decoder');
    this.stdNet = c.stdDecoder ? createMlp(netSpec(d, c.stdDecoder, D, 'softplus'), rng, 'std decoder') : null;
    this.noise = new Rng(rng.seed());
  }

  get inputDim(): number {
    return this.config.inputDim;
  }

  get latentDim(): number {
    return this.config.latentDim;
  }

  /** All trainable variables: encoder, mean net, std net, each in Mlp.variables() order. */
  variables(): tf.Variable[] {
    return this.namedVariables().map((v) => v.variable);
  }

  namedVariables(): NamedVariable[] {
    const nets: [string, Mlp | null][] = [
      ['encoder', this.encoder],
      ['mean', this.meanNet],
      ['std', this.stdNet],
    ];
    return nets.flatMap(([prefix, net]) =>
      net ? net.denseLayers().flatMap((l, i) => [{ name: `${prefix}/${i}/kernel`, variable: l.kernel }, { name: `${prefix}/${i}/bias`, variable: l.bias }]) : [],
    );
  }

  /** q(z|x): mu and logvar [B, d]. The caller disposes both. */
  encode(x: tf.Tensor2D): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
    return tf.tidy(() => {
      const out = this.encoder.apply(x);
      return this.splitEncoderOutput(out);
    });
  }

  /** The encoder means of a data set [N, D] (flat, row-major) as [N, d], in batches. */
  encodeMeans(data: Float32Array, batchSize = 2048): Float32Array {
    const n = this.rowCount(data, 'encodeMeans');
    const d = this.latentDim;
    const out = new Float32Array(n * d);
    for (let s = 0; s < n; s += batchSize) {
      const b = Math.min(batchSize, n - s);
      const mu = tf.tidy(() => this.encode(tf.tensor2d(data.subarray(s * this.inputDim, (s + b) * this.inputDim), [b, this.inputDim])).mu);
      out.set(mu.dataSync(), s * d);
      mu.dispose();
    }
    return out;
  }

  /** The decoder's raw output at codes z [B, d] (logits for Bernoulli). */
  decode(z: tf.Tensor2D): DecoderOutput {
    return tf.tidy(() => this.decoderOutput(this.meanNet.apply(z), this.stdNet ? this.stdNet.apply(z) : null));
  }

  /** E[x | z] [B, D]: the Gaussian mean (sigmoid(logits) for 'gaussian-fixed'), or the Bernoulli pixel probabilities sigmoid(logits). */
  decoderMean(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.meanNet.apply(z);
      return this.stdNet ? h : tf.sigmoid(h);
    });
  }

  /**
   * Gaussian only: the std the likelihood uses at z [B, D], max(sigma(z), minStd), or the constant fixedStd;
   * null for Bernoulli.
   */
  likelihoodStd(z: tf.Tensor2D): tf.Tensor2D | null {
    const net = this.stdNet;
    const fixed = this.config.fixedStd;
    if (fixed !== undefined) return tf.fill([z.shape[0], this.inputDim], fixed) as tf.Tensor2D;
    return net ? tf.tidy(() => floorStd(net.apply(z), this.config.minStd)) : null;
  }

  /** The decoder mean at the encoder mean, E[x | z = mu(x)] [B, D]. */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.decoderMean(this.encode(x).mu));
  }

  /**
   * The generator as a Decoder for the metric tools: a snapshot with its own variables, so the caller owns
   * (and disposes) it, may swap its std model (the RBF precision net) and trains the VAE further without
   * changing it. Bernoulli: mean = sigmoid(logits), no std. Gaussian: the mean net and the softplus std net.
   * 'gaussian-fixed': mean = sigmoid(logits) and a constant std net (zero Jacobian, so the expected metric is
   * J_mu^T J_mu, as it must be), which decoder-json and every metric tool already read.
   */
  decoder(): GaussianDecoder {
    if (this.stdNet) return new GaussianDecoder(cloneMlp(this.meanNet), { kind: 'net', net: cloneMlp(this.stdNet) });
    const mean = cloneMlp(this.meanNet, [{ kind: 'activation', spec: { name: 'sigmoid' } }]);
    const fixed = this.config.fixedStd;
    return new GaussianDecoder(mean, fixed === undefined ? { kind: 'none' } : { kind: 'net', net: constantStdNet(this.latentDim, this.inputDim, fixed) });
  }

  /**
   * Per-example means of the ELBO terms over a data set, with one seeded reparametrisation sample per
   * example. Reads the result once.
   */
  elbo(data: Float32Array | tf.Tensor2D, opts: EvalOptions = {}): ElboReport {
    const rng = new Rng(opts.seed ?? 0);
    const batchSize = opts.batchSize ?? 1024;
    const x = data instanceof Float32Array ? data : null;
    const n = x ? this.rowCount(x, 'elbo') : (data as tf.Tensor2D).shape[0];
    const sums = tf.tidy(() => {
      let acc = tf.zeros([2]);
      for (let s = 0; s < n; s += batchSize) {
        const b = Math.min(batchSize, n - s);
        const xb = x ? tf.tensor2d(x.subarray(s * this.inputDim, (s + b) * this.inputDim), [b, this.inputDim]) : tf.slice(data as tf.Tensor2D, [s, 0], [b, -1]);
        const eps = tf.tensor2d(rng.normals(b * this.latentDim), [b, this.latentDim]);
        const { nll, kl } = this.terms(xb, eps);
        acc = tf.add(acc, tf.stack([tf.sum(nll), tf.sum(kl)]));
      }
      return acc;
    });
    const [rec, kl] = Array.from(sums.dataSync(), (v) => v / n);
    sums.dispose();
    const beta = opts.beta ?? this.config.beta;
    return { elbo: -(rec + kl), reconstruction: rec, kl, loss: rec + beta * kl };
  }

  /**
   * The objective mean_b [nll_b + klWeight kl_b] through the Mlps' own forward passes (differentiable by
   * tfjs): the reference the hand-written gradients are tested against. `eps` [B, d] is the noise.
   */
  objective(x: tf.Tensor2D, eps: tf.Tensor2D, klWeight = this.config.beta): tf.Scalar {
    return tf.tidy(() => {
      const { nll, kl } = this.terms(x, eps);
      return tf.mean(tf.add(nll, tf.mul(kl, klWeight))) as tf.Scalar;
    });
  }

  /**
   * The objective and its gradients (aligned with variables()) by the hand-written backward pass. Used by
   * trainStep; public so that tests can compare it with autodiff. `xT` is x^T [D, B] if the caller has it.
   */
  lossAndGradients(x: tf.Tensor2D, eps: tf.Tensor2D, klWeight = this.config.beta, xT?: tf.Tensor2D): { sums: tf.Tensor1D; grads: tf.Tensor[] } {
    return tf.tidy(() => {
      const b = x.shape[0];
      const scale = 1 / b;
      const enc = forwardTrace(this.encoder, x);
      const { mu, logvar } = this.splitEncoderOutput(enc.output);
      const std = tf.exp(tf.mul(logvar, 0.5));
      const z = tf.add(mu, tf.mul(std, eps)) as tf.Tensor2D;

      const meanTrace = forwardTrace(this.meanNet, z);
      const stdTrace = this.stdNet ? forwardTrace(this.stdNet, z) : null;
      const out = this.decoderOutput(meanTrace.output, stdTrace ? stdTrace.output : null);
      const nll = tf.sum(reconstructionNll(out, x, this.config.minStd));
      const kl = tf.sum(klDivergence(mu, logvar));
      const sums = tf.stack([tf.add(nll, tf.mul(kl, klWeight)), nll, kl]) as tf.Tensor1D;

      const dOut = reconstructionNllGrad(out, x, this.config.minStd, scale);
      const meanBack = backwardTrace(this.meanNet, meanTrace, dOut.dMeanNet, { needInputGrad: true });
      let dz = meanBack.dx!;
      let stdGrads: tf.Tensor[] = [];
      if (this.stdNet && stdTrace && dOut.dSigma) {
        const stdBack = backwardTrace(this.stdNet, stdTrace, dOut.dSigma, { needInputGrad: true });
        dz = tf.add(dz, stdBack.dx!);
        stdGrads = this.config.freezeStd ? stdBack.grads.map((g) => tf.zerosLike(g)) : stdBack.grads;
      }
      // z = mu + exp(logvar / 2) eps; KL = 1/2 sum(mu^2 + exp(logvar) - 1 - logvar).
      const w = klWeight * scale;
      const dMu = tf.add(dz, tf.mul(mu, w));
      const dLogvar = tf.add(tf.mul(tf.mul(dz, eps), tf.mul(std, 0.5)), tf.mul(tf.sub(tf.square(std), 1), 0.5 * w));
      const encBack = backwardTrace(this.encoder, enc, tf.concat([dMu, dLogvar], 1) as tf.Tensor2D, { inputT: xT, needInputGrad: false });
      return { sums, grads: [...encBack.grads, ...meanBack.grads, ...stdGrads] };
    });
  }

  /**
   * One Adam step on a batch [B, D] (a Float32Array of B rows, or a tensor). Nothing is read back: the
   * loss terms accumulate on the device until takeTrainingStats().
   */
  trainStep(batch: Float32Array | tf.Tensor2D, opts: StepOptions = {}): void {
    const state = this.trainingState();
    const rng = opts.noise ?? this.noise;
    const D = this.inputDim;
    const b = batch instanceof Float32Array ? this.rowCount(batch, 'trainStep') : batch.shape[0];
    tf.tidy(() => {
      // x^T on the host costs ~0.15 ms against ~0.35 ms for tf.transpose on wasm.
      const x = batch instanceof Float32Array ? tf.tensor2d(batch, [b, D]) : batch;
      const xT = batch instanceof Float32Array ? tf.tensor2d(transposeRows(batch, b, D), [D, b]) : undefined;
      const eps = tf.tensor2d(rng.normals(b * this.latentDim), [b, this.latentDim]);
      const { sums, grads } = this.lossAndGradients(x, eps, opts.klWeight ?? this.config.beta, xT);
      state.adam.step(grads, opts.learningRate);
      state.sums.assign(tf.add(state.sums, sums));
    });
    state.examples += b;
    state.steps += 1;
  }

  /** Means of the loss terms over the steps since the last call (one read from the device), then resets them. */
  takeTrainingStats(): TrainingStats {
    const s = this.training;
    if (!s || s.examples === 0) return { loss: NaN, reconstruction: NaN, kl: NaN, examples: 0, steps: 0 };
    const [loss, rec, kl] = Array.from(s.sums.dataSync(), (v) => v / s.examples);
    const out = { loss, reconstruction: rec, kl, examples: s.examples, steps: s.steps };
    tf.tidy(() => s.sums.assign(tf.zeros([3])));
    s.examples = 0;
    s.steps = 0;
    return out;
  }

  /** Sets the optimiser options for the next steps, dropping any Adam state (moments, step count). */
  resetTraining(opts: AdamOptions = {}): void {
    this.disposeTraining();
    this.training = { adam: new Adam(this.variables(), opts), sums: tf.tidy(() => tf.variable(tf.zeros([3]), false)), examples: 0, steps: 0 };
  }

  /** Frees the Adam moments and the loss sums (the trainer calls it at the end of a run). */
  disposeTraining(): void {
    if (!this.training) return;
    this.training.adam.dispose();
    this.training.sums.dispose();
    this.training = null;
  }

  /** Current weights as host arrays, in namedVariables() order. */
  getWeights(): Float32Array[] {
    return this.variables().map((v) => v.dataSync() as Float32Array);
  }

  /** Sets weights from host arrays or tensors in namedVariables() order (sizes must match). */
  setWeights(weights: (Float32Array | tf.Tensor)[]): void {
    const vars = this.namedVariables();
    if (weights.length !== vars.length) throw new Error(`setWeights: expected ${vars.length} arrays, got ${weights.length}`);
    tf.tidy(() =>
      vars.forEach(({ name, variable }, i) => {
        const w = weights[i];
        const size = w instanceof Float32Array ? w.length : w.size;
        if (size !== variable.size) throw new Error(`setWeights: ${name} has ${variable.size} values, got ${size}`);
        variable.assign(w instanceof Float32Array ? tf.tensor(w, variable.shape) : tf.reshape(w, variable.shape));
      }),
    );
  }

  dispose(): void {
    this.disposeTraining();
    this.encoder.dispose();
    this.meanNet.dispose();
    this.stdNet?.dispose();
  }

  private trainingState(): TrainingState {
    if (!this.training) this.resetTraining();
    return this.training!;
  }

  /** Wraps the nets' outputs [B, D] as the likelihood's DecoderOutput. */
  private decoderOutput(meanOut: tf.Tensor2D, stdOut: tf.Tensor2D | null): DecoderOutput {
    if (stdOut) return { kind: 'gaussian', mean: meanOut, sigma: stdOut };
    const fixed = this.config.fixedStd;
    return fixed === undefined ? { kind: 'bernoulli', logits: meanOut } : { kind: 'gaussian-fixed', logits: meanOut, sigma: fixed };
  }

  private splitEncoderOutput(out: tf.Tensor2D): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
    const [b] = out.shape;
    const d = this.latentDim;
    return { mu: tf.slice(out, [0, 0], [b, d]), logvar: tf.slice(out, [0, d], [b, d]) };
  }

  /** nll and KL per example [B] through the Mlps' own forward passes. */
  private terms(x: tf.Tensor2D, eps: tf.Tensor2D): { nll: tf.Tensor1D; kl: tf.Tensor1D } {
    return tf.tidy(() => {
      const { mu, logvar } = this.encode(x);
      const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps)) as tf.Tensor2D;
      return { nll: reconstructionNll(this.decode(z), x, this.config.minStd), kl: klDivergence(mu, logvar) };
    });
  }

  private rowCount(data: Float32Array, where: string): number {
    if (data.length % this.inputDim !== 0) {
      throw new InputError(`Vae.${where}`, `data of length ${data.length} is not a whole number of rows of ${this.inputDim}`);
    }
    return data.length / this.inputDim;
  }
}

/** softplus^-1(s) = log(exp(s) - 1), stable for large s. */
function inverseSoftplus(s: number): number {
  return s > 20 ? s : Math.log(Math.expm1(s));
}

/**
 * z [B, d] -> sigma [B, D], constant: a zero kernel, a bias of softplus^-1(sigma) and a softplus, so that a
 * constant std is an ordinary std net (exact value, zero Jacobian) for every tool that reads decoders.
 */
export function constantStdNet(latentDim: number, outputDim: number, sigma: number): Mlp {
  // tidy frees the zeros and the fill; the variables keep their data.
  const [kernel, bias] = tf.tidy(() => [tf.variable(tf.zeros([latentDim, outputDim]), false), tf.variable(tf.fill([outputDim], inverseSoftplus(sigma)), false)]);
  const layers: Layer[] = [
    { kind: 'dense', kernel: kernel as tf.Variable<tf.Rank.R2>, bias: bias as tf.Variable<tf.Rank.R1> },
    { kind: 'activation', spec: { name: 'softplus' } },
  ];
  return new Mlp(layers);
}

/** x^T [cols, rows] of a row-major [rows, cols] array. */
export function transposeRows(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    const o = j * rows;
    for (let i = 0; i < rows; i++) out[o + i] = x[i * cols + j];
  }
  return out;
}

/** A fresh VAE from a config (weights drawn from config.seed). */
export function createVae(config: VaeConfig): Vae {
  return new Vae(config);
}

