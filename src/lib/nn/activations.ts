/**
 * Element-wise activations with their derivatives, as the forward-mode Jacobian needs both.
 *
 * On the wasm backend tf.tanh and tf.softplus are scalar libm loops (about 15 ns and 10 ns an element here)
 * while tf.sigmoid is a vectorised XNNPACK kernel (under 1 ns), so tanh is computed as 2 sigmoid(2x) - 1
 * (absolute error ~1e-7) and the softplus derivative as sigmoid(beta x). Native backends use their own ops.
 */
import * as tf from '@tensorflow/tfjs';

export const ACTIVATION_NAMES = ['tanh', 'sigmoid', 'softplus', 'linear', 'relu', 'elu'] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

export interface ActivationSpec {
  name: ActivationName;
  /** softplus only (torch semantics): softplus(x) = log(1 + exp(beta x)) / beta, linear where beta x > threshold. */
  beta?: number;
  threshold?: number;
}

export function isActivationName(x: unknown): x is ActivationName {
  return typeof x === 'string' && (ACTIVATION_NAMES as readonly string[]).includes(x);
}

function sigmoidTrickWanted(): boolean {
  return tf.getBackend() === 'wasm';
}

function tanhFast(x: tf.Tensor): tf.Tensor {
  if (!sigmoidTrickWanted()) return tf.tanh(x);
  return tf.tidy(() => tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1));
}

/** log(1 + exp(x)) without overflow: relu(x) + log1p(exp(-|x|)). */
function softplusStable(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x))))));
}

function softplusValue(x: tf.Tensor, beta: number, threshold: number): tf.Tensor {
  return tf.tidy(() => {
    const bx = beta === 1 ? x : tf.mul(x, beta);
    const soft = beta === 1 ? softplusStable(bx) : tf.div(softplusStable(bx), beta);
    // Past bx = 17 the stable form equals x to float32 precision, so the switch only matters for small
    // thresholds; skipping it keeps the op differentiable twice (tfjs has no gradient for Greater).
    return threshold >= 17 ? soft : tf.where(tf.greater(bx, threshold), x, soft);
  });
}

function softplusDerivative(x: tf.Tensor, beta: number, threshold: number): tf.Tensor {
  return tf.tidy(() => {
    const bx = beta === 1 ? x : tf.mul(x, beta);
    // The linear branch has slope 1; sigmoid(bx) is 1 to float precision there already (bx > 20 by default),
    // but a small user threshold makes the kink real.
    return threshold >= 17 ? tf.sigmoid(bx) : tf.where(tf.greater(bx, threshold), tf.onesLike(x), tf.sigmoid(bx));
  });
}

/** y = act(x). */
export function activate(spec: ActivationSpec, x: tf.Tensor): tf.Tensor {
  switch (spec.name) {
    case 'tanh':
      return tanhFast(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'softplus':
      return softplusValue(x, spec.beta ?? 1, spec.threshold ?? 20);
    case 'linear':
      return x.clone();
    case 'relu':
      return tf.relu(x);
    case 'elu':
      return tf.elu(x);
  }
}

/** y = act(x) and dy/dx (element-wise), sharing the work between them. */
export function activateWithDerivative(spec: ActivationSpec, x: tf.Tensor): { y: tf.Tensor; dy: tf.Tensor } {
  return tf.tidy(() => {
    switch (spec.name) {
      case 'softplus': {
        const beta = spec.beta ?? 1;
        const threshold = spec.threshold ?? 20;
        return { y: softplusValue(x, beta, threshold), dy: softplusDerivative(x, beta, threshold) };
      }
      case 'linear':
        return { y: x.clone(), dy: tf.onesLike(x) };
      default: {
        const y = activate(spec, x);
        return { y, dy: derivativeFromValue(spec, x, y) };
      }
    }
  });
}

/**
 * dy/dx alone. For the last layer of a net only the derivative enters the Jacobian, and for softplus it is
 * much cheaper than the value.
 */
export function activationDerivative(spec: ActivationSpec, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (spec.name) {
      case 'softplus':
        return softplusDerivative(x, spec.beta ?? 1, spec.threshold ?? 20);
      case 'linear':
        return tf.onesLike(x);
      case 'relu':
        return tf.step(x, 0);
      default:
        return derivativeFromValue(spec, x, activate(spec, x));
    }
  });
}

function derivativeFromValue(spec: ActivationSpec, x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  switch (spec.name) {
    case 'tanh':
      return tf.sub(1, tf.square(y));
    case 'sigmoid':
      return tf.mul(y, tf.sub(1, y));
    case 'relu':
      // step(0) = 0: the subgradient torch uses.
      return tf.step(x, 0);
    case 'elu':
      return tf.where(tf.greater(x, 0), tf.onesLike(x), tf.add(y, 1));
    default:
      throw new Error(`derivativeFromValue: unexpected activation ${spec.name}`);
  }
}
