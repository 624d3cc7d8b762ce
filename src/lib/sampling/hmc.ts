/**
 * Hamiltonian Monte Carlo (Neal 2011) with many chains as one batch: leapfrog integration with identity
 * mass, a Metropolis correction per chain, and the acceptance rate reported. Used to draw from the
 * Riemannian uniform distribution of a latent space, density proportional to sqrt(det G(z)) (Chadebec &
 * Allassonniere 2022, section 4.2), with their settings as defaults: step 0.01, 10 leapfrog steps, 100
 * iterations, each chain's last state being one sample.
 *
 * The official code's chain is not exactly invariant for sqrt(det G): its hand-written gradient is that of
 * sum_j log(G_jj + (N - 1) lambda), twice the gradient of log sqrt(det G) with lambda inflated, and its
 * momentum is drawn as 0.5 N(0, I) while its kinetic energy is |p|^2 / 2. Here the gradient is tfjs
 * autodiff of the target itself and p ~ N(0, I) matches K(p) = |p|^2 / 2, so detailed balance holds.
 *
 * Everything stays on the device between iterations; the acceptance counts are read once at the end.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { InputError } from '../util/errors';
import { PosteriorMetric, valueAndRowGradients } from '../geometry/posterior-metric';

/** An unnormalised log-density over R^d, batched, with its gradient. */
export interface LogDensity {
  readonly dim: number;
  /** log p(z) up to a constant [B] and its gradient [B, d]. The caller disposes both. */
  withGrad(z: tf.Tensor2D): { value: tf.Tensor1D; grad: tf.Tensor2D };
}

/** A log-density given as a row-wise function [B, d] -> [B], differentiated by tfjs autodiff. */
export function autodiffDensity(dim: number, logp: (z: tf.Tensor2D) => tf.Tensor1D): LogDensity {
  return { dim, withGrad: (z) => valueAndRowGradients(logp, z) };
}

/** The Riemannian uniform distribution of a posterior metric: log p(z) = log sqrt(det G(z)) + const. */
export function riemannianUniform(metric: PosteriorMetric): LogDensity {
  return { dim: metric.dim, withGrad: (z) => metric.logSqrtDetGWithGrad(z) };
}

export interface HmcOptions {
  /** Leapfrog step size epsilon (default 0.01). */
  stepSize?: number;
  /** Leapfrog steps per iteration (default 10). */
  leapfrogSteps?: number;
  /** Metropolis-corrected iterations (default 100). */
  iterations?: number;
  /** Seed of the momenta and of the acceptance draws (default 0). */
  seed?: number;
  /**
   * Standard deviation of the momentum draws (default 1, which matches the kinetic energy |p|^2 / 2; any other
   * value breaks detailed balance: used to reproduce the official code's 0.5, see ./official-hmc.ts).
   */
  momentumStd?: number;
  /**
   * The density whose gradient drives the leapfrog steps (default: the target itself). The Metropolis test
   * always uses the target. Another drift is not HMC for the target: used to reproduce the official code.
   */
  drift?: LogDensity;
}

export interface HmcResult {
  /** The chains' final states [C, d]: one sample per chain. */
  samples: Float32Array;
  /** Accepted proposals over all chains and iterations. */
  acceptanceRate: number;
  /** Accepted fraction at each iteration: [iterations]. */
  acceptancePerIteration: Float64Array;
  /** log p at the final states [C]. */
  logDensity: Float32Array;
  /** Target evaluations per chain (gradient included): iterations x leapfrog steps + 1. */
  evaluations: number;
  seconds: number;
}

/** The state a chain carries: position, target log-density and the drift's gradient there (a type, so tf.tidy can return it). */
type ChainState = {
  z: tf.Tensor2D;
  logp: tf.Tensor1D;
  grad: tf.Tensor2D;
};

function checkPositive(v: number, where: string, integer: boolean): number {
  if (!(v > 0 && Number.isFinite(v)) || (integer && !Number.isInteger(v))) throw new InputError(`HmcOptions.${where}`, `expected a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  return v;
}

/**
 * One HMC iteration for every chain: p ~ N(0, I), L leapfrog steps of size eps, accept with probability
 * min(1, exp(H(z, p) - H(z', p'))), H = -log p(z) + |p|^2 / 2. A proposal whose energy is not finite is
 * rejected (NaN compares false). Returns the next state and the number of chains that moved.
 */
function hmcIteration(target: LogDensity, drift: LogDensity, s: ChainState, momentum: tf.Tensor2D, logU: tf.Tensor1D, eps: number, steps: number): { next: ChainState; accepted: tf.Scalar } {
  return tf.tidy(() => {
    let p = tf.add(momentum, tf.mul(s.grad, 0.5 * eps));
    let z = s.z;
    let cur: { value: tf.Tensor1D; grad: tf.Tensor2D } = { value: s.logp, grad: s.grad };
    for (let l = 1; l <= steps; l++) {
      z = tf.add(z, tf.mul(p, eps));
      cur = drift.withGrad(z);
      p = tf.add(p, tf.mul(cur.grad, l < steps ? eps : 0.5 * eps));
    }
    if (drift !== target) cur = { value: target.withGrad(z).value, grad: cur.grad };
    const kinetic = (m: tf.Tensor) => tf.mul(tf.sum(tf.square(m), 1), 0.5);
    const h0 = tf.sub(kinetic(momentum), s.logp);
    const h1 = tf.sub(kinetic(p), cur.value);
    const accept = tf.less(logU, tf.sub(h0, h1)) as tf.Tensor1D;
    const rows = tf.expandDims(accept, 1); // [C, 1] broadcasts over the coordinates
    return {
      next: { z: tf.where(rows, z, s.z), logp: tf.where(accept, cur.value, s.logp), grad: tf.where(rows, cur.grad, s.grad) },
      accepted: tf.sum(tf.cast(accept, 'float32')) as tf.Scalar,
    };
  });
}

/** Runs C chains from init [C, d] (e.g. training means) and returns their final states. */
export function hmc(target: LogDensity, init: Float32Array, opts: HmcOptions = {}): HmcResult {
  const d = target.dim;
  if (init.length === 0 || init.length % d !== 0) throw new InputError('hmc.init', `expected [C, ${d}] starting points, got ${init.length} values`);
  const eps = checkPositive(opts.stepSize ?? 0.01, 'stepSize', false);
  const steps = checkPositive(opts.leapfrogSteps ?? 10, 'leapfrogSteps', true);
  const iterations = checkPositive(opts.iterations ?? 100, 'iterations', true);
  const momentumStd = checkPositive(opts.momentumStd ?? 1, 'momentumStd', false);
  const drift = opts.drift ?? target;
  if (drift.dim !== d) throw new InputError('HmcOptions.drift', `expected a density on R^${d}, got R^${drift.dim}`);
  const c = init.length / d;
  const rng = new Rng(opts.seed ?? 0);
  const t0 = performance.now();
  let state: ChainState = tf.tidy(() => {
    const z = tf.tensor2d(init, [c, d]);
    const { value, grad } = target.withGrad(z);
    if (drift === target) return { z, logp: value, grad };
    const driftGrad = drift.withGrad(z).grad;
    return { z, logp: value, grad: driftGrad };
  });
  const accepted: tf.Scalar[] = [];
  try {
    for (let it = 0; it < iterations; it++) {
      const logU = Float32Array.from({ length: c }, () => Math.log(rng.uniform()));
      const normals = rng.normals(c * d);
      if (momentumStd !== 1) normals.forEach((v, i) => (normals[i] = v * momentumStd));
      const { next, accepted: a } = tf.tidy(() => hmcIteration(target, drift, state, tf.tensor2d(normals, [c, d]), tf.tensor1d(logU), eps, steps));
      tf.dispose([state.z, state.logp, state.grad]);
      state = next;
      accepted.push(a);
    }
    const counts = tf.tidy(() => tf.stack(accepted));
    const perIteration = Float64Array.from(counts.dataSync(), (n) => n / c);
    counts.dispose();
    return {
      samples: state.z.dataSync() as Float32Array,
      acceptanceRate: perIteration.reduce((s, v) => s + v, 0) / iterations,
      acceptancePerIteration: perIteration,
      logDensity: state.logp.dataSync() as Float32Array,
      evaluations: iterations * steps + 1,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    tf.dispose([state.z, state.logp, state.grad, ...accepted]);
  }
}
