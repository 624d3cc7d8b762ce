/**
 * Configurations of the fully connected nets that the models build (hidden widths and activations,
 * validated with errors that name the field), and the named variables their checkpoints store.
 */
import * as tf from '@tensorflow/tfjs';
import { ActivationSpec, isActivationName, ACTIVATION_NAMES } from './activations';
import { Layer, Mlp } from './mlp';
import { InputError } from '../util/errors';

export type ActivationLike = ActivationSpec | ActivationSpec['name'];

/** Hidden layers of one network; the output layer is added by the VAE (its width and activation are fixed). */
export interface NetConfig {
  /** Hidden widths from input to output, e.g. [256, 64]. May be empty. */
  hidden: number[];
  /** One activation per hidden layer. */
  activations: ActivationLike[];
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

/** A named variable, for checkpoints: "encoder/0/kernel", "mean/2/bias", "std/1/kernel". */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
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
