/**
 * decoder-json/v1 (see shared/decoder-json-v1.md): a plain JSON decoder so that decoders trained elsewhere
 * (PyTorch, Keras, the authors' code) can be analysed here and ours used elsewhere. Weights follow
 * torch.nn.Linear ([out, in]); in memory we keep kernels as [in, out].
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { ActivationSpec, isActivationName, ACTIVATION_NAMES } from '../nn/activations';
import { Layer, Mlp } from '../nn/mlp';
import { RbfPrecision } from '../nn/rbf';
import { GaussianDecoder, StdModel } from '../models/decoder';
import { InputError } from '../util/errors';
import { writeJsonAtomic } from '../util/atomic';
import { float32Problem, positiveFloat32Problem } from '../util/float32';

export const DECODER_JSON_FORMAT = 'decoder-json/v1';

/**
 * The largest latent_dim accepted: a metric is d x d per point and a Jacobian d x D, so far larger latent
 * spaces are out of reach anyway, and the bound keeps a typo (1e9) from sizing any allocation.
 */
export const MAX_LATENT_DIM = 4096;
/** The largest output_dim accepted (2^24, 16.7 million outputs: a 4096 x 4096 RGB image is 50 million). */
export const MAX_OUTPUT_DIM = 1 << 24;

export interface DecoderJson {
  format: typeof DECODER_JSON_FORMAT;
  description?: string;
  latent_dim: number;
  output_dim: number;
  mean_net: { layers: LayerJson[] };
  sigma_net?: { layers: LayerJson[] };
  precision_net?: { kind: 'rbf'; centers: number[][]; bandwidths: number[]; weight: number[][]; zeta: number };
  latent_codes?: number[][];
}

export type LayerJson =
  | { kind: 'linear'; weight: number[][]; bias: number[] }
  | { kind: 'activation'; name: ActivationSpec['name']; beta?: number; threshold?: number };

export interface LoadedDecoder {
  decoder: GaussianDecoder;
  /** Encoded training data [N, d], when the file has it. */
  latentCodes?: Float32Array;
  description?: string;
}

/** Validation helpers: every failure names the key path inside the file. */
class Checker {
  constructor(private readonly source: string) {}

  fail(path: string, problem: string): never {
    throw new InputError(`${this.source}: ${path}`, problem);
  }

  object(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }

  /** A number that float32 holds finitely (weights and parameters are float32 tensors). */
  number(v: unknown, path: string): number {
    const problem = float32Problem(v);
    if (problem) this.fail(path, `${problem}, got ${describe(v)}`);
    return v as number;
  }

  /** A number > 0 that stays > 0 (and normal) in float32. */
  positive(v: unknown, path: string): number {
    const problem = positiveFloat32Problem(v);
    if (problem) this.fail(path, `${problem}, got ${describe(v)}`);
    return v as number;
  }

  posInt(v: unknown, path: string, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > max) this.fail(path, `expected a positive integer at most ${max}, got ${describe(v)}`);
    return v;
  }

  vector(v: unknown, path: string, length?: number): Float32Array {
    if (!Array.isArray(v)) this.fail(path, `expected an array of numbers, got ${describe(v)}`);
    if (length !== undefined && v.length !== length) this.fail(path, `expected ${length} numbers, got ${v.length}`);
    const out = new Float32Array(v.length);
    v.forEach((x, i) => (out[i] = this.number(x, `${path}[${i}]`)));
    return out;
  }

  /** A rows x cols matrix as flat row-major. */
  matrix(v: unknown, path: string, rows?: number, cols?: number): { data: Float32Array; rows: number; cols: number } {
    if (!Array.isArray(v) || v.length === 0) this.fail(path, `expected a non-empty array of rows, got ${describe(v)}`);
    if (rows !== undefined && v.length !== rows) this.fail(path, `expected ${rows} rows, got ${v.length}`);
    const c = cols ?? (Array.isArray(v[0]) ? v[0].length : 0);
    // The first row is checked before the whole matrix is allocated, so that a declared size (latent_dim)
    // never sizes an allocation that the file's own arrays do not back.
    const first = this.vector(v[0], `${path}[0]`, c);
    const data = new Float32Array(v.length * c);
    data.set(first);
    v.forEach((row, i) => i > 0 && data.set(this.vector(row, `${path}[${i}]`, c), i * c));
    return { data, rows: v.length, cols: c };
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v) : typeof v;
}

function parseMlp(c: Checker, v: unknown, path: string, inDim: number, outDim: number): Mlp {
  const net = c.object(v, path);
  const layersJson = net.layers;
  if (!Array.isArray(layersJson) || layersJson.length === 0) c.fail(`${path}.layers`, `expected a non-empty array of layers, got ${describe(layersJson)}`);
  const layers: Layer[] = [];
  let width = inDim;
  try {
    layersJson.forEach((lj, i) => {
      const p = `${path}.layers[${i}]`;
      const l = c.object(lj, p);
      if (l.kind === 'linear') {
        const w = c.matrix(l.weight, `${p}.weight`, undefined, width);
        const b = c.vector(l.bias, `${p}.bias`, w.rows);
        // torch [out, in] -> kernel [in, out]; tidy frees the initial values, the variables survive it.
        layers.push(
          tf.tidy(() => ({
            kind: 'dense' as const,
            kernel: tf.variable(tf.transpose(tf.tensor2d(w.data, [w.rows, w.cols])) as tf.Tensor2D, true),
            bias: tf.variable(tf.tensor1d(b), true),
          })),
        );
        width = w.rows;
      } else if (l.kind === 'activation') {
        if (!isActivationName(l.name)) c.fail(`${p}.name`, `expected one of ${ACTIVATION_NAMES.join(', ')}, got ${describe(l.name)}`);
        const spec: ActivationSpec = { name: l.name };
        if (l.name === 'softplus') {
          // torch's softplus(x) = log(1 + exp(beta x)) / beta is a smooth ReLU only for beta > 0, and its
          // linear switch at beta x > threshold only for threshold > 0.
          if (l.beta !== undefined) spec.beta = c.positive(l.beta, `${p}.beta`);
          if (l.threshold !== undefined) spec.threshold = c.positive(l.threshold, `${p}.threshold`);
        }
        layers.push({ kind: 'activation', spec });
      } else {
        c.fail(`${p}.kind`, `expected "linear" or "activation", got ${describe(l.kind)}`);
      }
    });
    if (!layers.some((l) => l.kind === 'dense')) c.fail(`${path}.layers`, 'expected at least one linear layer, got only activation layers');
    if (width !== outDim) c.fail(`${path}.layers`, `the last linear layer has ${width} outputs; expected ${outDim} (output_dim)`);
    return new Mlp(layers);
  } catch (err) {
    for (const l of layers) if (l.kind === 'dense') (l.kernel.dispose(), l.bias.dispose());
    throw err;
  }
}

function parseRbf(c: Checker, v: unknown, path: string, d: number, outDim: number): RbfPrecision {
  const o = c.object(v, path);
  if (o.kind !== 'rbf') c.fail(`${path}.kind`, `expected "rbf", got ${describe(o.kind)}`);
  const centers = c.matrix(o.centers, `${path}.centers`, undefined, d);
  const k = centers.rows;
  const bandwidths = c.vector(o.bandwidths, `${path}.bandwidths`, k);
  (o.bandwidths as unknown[]).forEach((b, i) => c.positive(b, `${path}.bandwidths[${i}]`));
  const weight = c.matrix(o.weight, `${path}.weight`, outDim, k);
  weight.data.forEach((w, i) => w >= 0 || c.fail(`${path}.weight[${Math.floor(i / k)}][${i % k}]`, `expected >= 0, got ${w}`));
  const zeta = c.positive(o.zeta, `${path}.zeta`);
  return tf.tidy(() => ({
    centers: tf.tensor2d(centers.data, [k, d]),
    bandwidths: tf.tensor1d(bandwidths),
    weightT: tf.variable(tf.transpose(tf.tensor2d(weight.data, [outDim, k])) as tf.Tensor2D, true),
    zeta,
  }));
}

/** Builds a decoder from parsed JSON; `source` names the file in errors. */
export function decoderFromJson(json: unknown, source = 'decoder'): LoadedDecoder {
  const c = new Checker(source);
  const o = c.object(json, '(top level)');
  if (o.format !== DECODER_JSON_FORMAT) c.fail('format', `expected "${DECODER_JSON_FORMAT}", got ${describe(o.format)}`);
  const d = c.posInt(o.latent_dim, 'latent_dim', MAX_LATENT_DIM);
  const outDim = c.posInt(o.output_dim, 'output_dim', MAX_OUTPUT_DIM);
  if (o.sigma_net !== undefined && o.precision_net !== undefined) c.fail('sigma_net', 'give either sigma_net or precision_net, not both');
  const latentCodes = o.latent_codes === undefined ? undefined : c.matrix(o.latent_codes, 'latent_codes', undefined, d).data;
  const meanNet = parseMlp(c, o.mean_net, 'mean_net', d, outDim);
  let std: StdModel = { kind: 'none' };
  try {
    if (o.sigma_net !== undefined) std = { kind: 'net', net: parseMlp(c, o.sigma_net, 'sigma_net', d, outDim) };
    if (o.precision_net !== undefined) std = { kind: 'rbf', rbf: parseRbf(c, o.precision_net, 'precision_net', d, outDim) };
  } catch (err) {
    meanNet.dispose();
    throw err;
  }
  return {
    decoder: new GaussianDecoder(meanNet, std),
    latentCodes,
    description: typeof o.description === 'string' ? o.description : undefined,
  };
}

/** Reads a decoder-json/v1 file; errors name the file and the key path. */
export function readDecoderJson(file: string): LoadedDecoder {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read the decoder file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `malformed JSON (${(err as Error).message})`);
  }
  return decoderFromJson(json, file);
}

function mlpToJson(net: Mlp): { layers: LayerJson[] } {
  return {
    layers: net.layers.map((l): LayerJson => {
      if (l.kind === 'activation') return { kind: 'activation', ...l.spec };
      const [nin, nout] = l.kernel.shape;
      const w = tf.tidy(() => tf.transpose(l.kernel).dataSync() as Float32Array);
      return { kind: 'linear', weight: rows(w, nout, nin), bias: Array.from(l.bias.dataSync()) };
    }),
  };
}

function rows(flat: ArrayLike<number>, r: number, c: number): number[][] {
  return Array.from({ length: r }, (_, i) => Array.from(Array.prototype.slice.call(flat, i * c, (i + 1) * c) as number[]));
}

/** The decoder as decoder-json/v1. */
export function decoderToJson(decoder: GaussianDecoder, extra: { description?: string; latentCodes?: Float32Array } = {}): DecoderJson {
  const d = decoder.latentDim;
  const out: DecoderJson = {
    format: DECODER_JSON_FORMAT,
    ...(extra.description ? { description: extra.description } : {}),
    latent_dim: d,
    output_dim: decoder.outputDim,
    mean_net: mlpToJson(decoder.meanNet),
  };
  const s = decoder.stdModel;
  if (s.kind === 'net') out.sigma_net = mlpToJson(s.net);
  if (s.kind === 'rbf') {
    const [k, outDim] = s.rbf.weightT.shape;
    const w = tf.tidy(() => tf.transpose(s.rbf.weightT).dataSync() as Float32Array);
    out.precision_net = {
      kind: 'rbf',
      centers: rows(s.rbf.centers.dataSync(), k, d),
      bandwidths: Array.from(s.rbf.bandwidths.dataSync()),
      weight: rows(w, outDim, k),
      zeta: s.rbf.zeta,
    };
  }
  if (extra.latentCodes) out.latent_codes = rows(extra.latentCodes, extra.latentCodes.length / d, d);
  return out;
}

/** Writes decoder-json/v1 atomically. */
export function writeDecoderJson(file: string, decoder: GaussianDecoder, extra: { description?: string; latentCodes?: Float32Array } = {}): void {
  writeJsonAtomic(file, decoderToJson(decoder, extra), 0);
}
