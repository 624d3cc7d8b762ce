/**
 * An in-repo MNIST classifier whose penultimate activations stand in for Inception features in FID and
 * precision/recall: Inception weights cannot be downloaded here, and a digit classifier's features are the
 * usual substitute on MNIST. Its numbers compare the workbook's generators with each other, not with
 * published Inception FIDs.
 *
 * An MLP (the Mlp of ../nn/mlp.ts, whose linear layers have the fast gradient) trained with Adam on
 * batches shifted by up to `shift` pixels (a translation augmentation: the default 784-512-128-10 net
 * reaches 98.8% test accuracy on MNIST in 12 epochs, ~3 min on one wasm core), with a step decay of the
 * learning rate. Weights are cached in
 * .cache/models like the VAEs, under a hash of the configuration and the training data.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Mlp, createMlp } from '../nn/mlp';
import { Adam } from '../models/vae';
import { fingerprintData } from '../models/train';
import { bytesOf, decodeWeight, weightsDigest } from '../models/checkpoint';
import { mapPointBatches } from '../runtime/batch';
import { writeJsonAtomic } from '../util/atomic';
import { InputError } from '../util/errors';
import { Progress, ProgressMode } from '../util/progress';
import { Rng } from '../util/rng';
import { checkoutPath } from '../util/paths';

export interface ClassifierConfig {
  /** Hidden widths; the last is the feature dimension (default [512, 128]). */
  hidden?: number[];
  classes?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** The learning rate is multiplied by `decay` every `decayEvery` epochs (default 0.3 every 4). */
  decay?: number;
  decayEvery?: number;
  /** Largest random translation of a training image, in pixels (default 2; 0 for none). */
  shift?: number;
  seed?: number;
}

export type ResolvedClassifierConfig = Required<ClassifierConfig>;

export function resolveClassifierConfig(c: ClassifierConfig = {}): ResolvedClassifierConfig {
  return {
    hidden: c.hidden ?? [512, 128],
    classes: c.classes ?? 10,
    epochs: c.epochs ?? 12,
    batchSize: c.batchSize ?? 256,
    learningRate: c.learningRate ?? 2e-3,
    decay: c.decay ?? 0.3,
    decayEvery: c.decayEvery ?? 4,
    shift: c.shift ?? 2,
    seed: c.seed ?? 0,
  };
}

/** An image classifier: logits for predictions, the last hidden layer for features. */
export class ImageClassifier {
  constructor(
    /** x [B, D] -> the last hidden layer's activations [B, F]. */
    readonly trunk: Mlp,
    /** features [B, F] -> logits [B, classes]. */
    readonly head: Mlp,
  ) {}

  get featureDim(): number {
    return this.trunk.outputDim;
  }

  get inputDim(): number {
    return this.trunk.inputDim;
  }

  variables(): tf.Variable[] {
    return [...this.trunk.variables(), ...this.head.variables()];
  }

  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.head.apply(this.trunk.apply(x)));
  }

  /** Penultimate features of images [N, D] (flat): [N, F]. */
  features(images: Float32Array, batchSize = 2000): Float32Array {
    return mapPointBatches(images, this.inputDim, batchSize, this.featureDim, (x) => this.trunk.apply(x));
  }

  /** The most likely class of every image [N]. */
  predict(images: Float32Array, batchSize = 2000): Int32Array {
    const k = this.head.outputDim;
    const logits = mapPointBatches(images, this.inputDim, batchSize, k, (x) => this.logits(x));
    const out = new Int32Array(logits.length / k);
    for (let i = 0; i < out.length; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (logits[i * k + c] > logits[i * k + best]) best = c;
      out[i] = best;
    }
    return out;
  }

  /** Fraction of images classified as their label. */
  accuracy(images: Float32Array, labels: ArrayLike<number>): number {
    const pred = this.predict(images);
    let right = 0;
    pred.forEach((p, i) => (right += p === labels[i] ? 1 : 0));
    return right / pred.length;
  }

  dispose(): void {
    this.trunk.dispose();
    this.head.dispose();
  }
}

export function createClassifier(inputDim: number, config: ClassifierConfig = {}): ImageClassifier {
  const c = resolveClassifierConfig(config);
  const rng = new Rng(c.seed);
  const trunk = createMlp({ sizes: [inputDim, ...c.hidden], activations: c.hidden.map(() => 'relu' as const) }, rng, 'classifier trunk');
  const head = createMlp({ sizes: [c.hidden[c.hidden.length - 1], c.classes], activations: ['linear'] }, rng, 'classifier head');
  return new ImageClassifier(trunk, head);
}

/**
 * Copies image `src` shifted by (dy, dx) pixels into out at `o`, filling with zeros: the background of
 * MNIST-like data.
 */
function shiftInto(images: Float32Array, src: number, h: number, w: number, dy: number, dx: number, out: Float32Array, o: number): void {
  const base = src * h * w;
  for (let i = 0; i < h; i++) {
    const si = i - dy;
    for (let j = 0; j < w; j++) {
      const sj = j - dx;
      out[o + i * w + j] = si >= 0 && si < h && sj >= 0 && sj < w ? images[base + si * w + sj] : 0;
    }
  }
}

export interface ClassifierTrainOptions {
  height: number;
  width: number;
  progress?: ProgressMode | false;
}

export interface ClassifierHistoryRow {
  epoch: number;
  loss: number;
  seconds: number;
}

/** Trains with seeded shuffles and shifts; softmax cross-entropy, Adam with step decay. */
export async function trainClassifier(images: Float32Array, labels: Int32Array, config: ClassifierConfig, opts: ClassifierTrainOptions): Promise<{ classifier: ImageClassifier; history: ClassifierHistoryRow[] }> {
  const c = resolveClassifierConfig(config);
  const { height: h, width: w } = opts;
  const dim = h * w;
  const n = labels.length;
  if (images.length !== n * dim) throw new InputError('trainClassifier', `expected ${n} images of ${dim} pixels, got ${images.length} values`);
  const classifier = createClassifier(dim, c);
  const rng = new Rng(c.seed + 1);
  const adam = new Adam(classifier.variables(), { learningRate: c.learningRate });
  const steps = Math.ceil(n / c.batchSize);
  const progress = new Progress({ label: 'train classifier', total: c.epochs * steps, unit: 'batch', ...(opts.progress !== undefined ? { mode: opts.progress || 'off' } : {}) });
  const batch = new Float32Array(c.batchSize * dim);
  const history: ClassifierHistoryRow[] = [];
  try {
    for (let epoch = 0; epoch < c.epochs; epoch++) {
      const t0 = Date.now();
      const order = rng.permutation(n);
      const lr = c.learningRate * c.decay ** Math.floor(epoch / c.decayEvery);
      const losses: tf.Scalar[] = [];
      for (let s = 0; s < steps; s++) {
        const count = Math.min(c.batchSize, n - s * c.batchSize);
        const y = new Int32Array(count);
        for (let i = 0; i < count; i++) {
          const r = order[s * c.batchSize + i];
          y[i] = labels[r];
          shiftInto(images, r, h, w, rng.int(2 * c.shift + 1) - c.shift, rng.int(2 * c.shift + 1) - c.shift, batch, i * dim);
        }
        tf.tidy(() => {
          const x = tf.tensor2d(batch.subarray(0, count * dim), [count, dim]);
          const onehot = tf.oneHot(tf.tensor1d(y, 'int32'), c.classes);
          const vars = classifier.variables();
          const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(onehot, classifier.logits(x)) as tf.Scalar, vars);
          adam.step(
            vars.map((v) => grads[v.name]),
            lr,
          );
          losses.push(tf.keep(value));
        });
        progress.tick(1);
        if (s % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const mean = tf.tidy(() => tf.mean(tf.stack(losses)));
      history.push({ epoch: epoch + 1, loss: mean.dataSync()[0], seconds: (Date.now() - t0) / 1000 });
      tf.dispose([mean, ...losses]);
    }
    progress.finish(`loss ${history[history.length - 1].loss.toFixed(4)}`);
    return { classifier, history };
  } catch (err) {
    classifier.dispose();
    throw err;
  } finally {
    adam.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Cache

export const CLASSIFIER_FORMAT = 'classifier/v1';

interface ClassifierJson {
  format: typeof CLASSIFIER_FORMAT;
  createdAt: string;
  inputDim: number;
  config: ResolvedClassifierConfig;
  cacheKey: string;
  history: ClassifierHistoryRow[];
  weights: { name: string; shape: number[]; data: string }[];
  sha256: string;
}

function classifierKey(config: ResolvedClassifierConfig, images: Float32Array, labels: Int32Array): string {
  const payload = JSON.stringify({ salt: 'latent-geometry classifier v1', config, images: fingerprintData(images), labels: fingerprintData(new Float32Array(labels)) });
  return crypto.createHash('sha256').update(payload).digest('hex');
}

function saveClassifier(file: string, cl: ImageClassifier, config: ResolvedClassifierConfig, key: string, history: ClassifierHistoryRow[]): void {
  const vars = cl.variables();
  const values = vars.map((v) => v.dataSync() as Float32Array);
  const json: ClassifierJson = {
    format: CLASSIFIER_FORMAT,
    createdAt: new Date().toISOString(),
    inputDim: cl.inputDim,
    config,
    cacheKey: key,
    history,
    weights: vars.map((v, i) => ({ name: `layer${i}`, shape: [...v.shape], data: bytesOf(values[i]).toString('base64') })),
    sha256: weightsDigest(values),
  };
  writeJsonAtomic(file, json, 0);
}

function loadClassifier(file: string, key: string): { classifier: ImageClassifier; history: ClassifierHistoryRow[] } {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ClassifierJson>;
  if (json.format !== CLASSIFIER_FORMAT || json.cacheKey !== key || !json.config || !Array.isArray(json.weights)) {
    throw new InputError(file, 'not a classifier cache file for this configuration');
  }
  const cl = createClassifier(json.inputDim ?? 0, json.config);
  try {
    const vars = cl.variables();
    if (json.weights.length !== vars.length) throw new InputError(`${file}: weights`, `expected ${vars.length} arrays, got ${json.weights.length}`);
    const arrays = vars.map((v, i) => decodeWeight(file, json.weights![i], i, { name: `layer${i}`, shape: v.shape }));
    if (weightsDigest(arrays) !== json.sha256) throw new InputError(`${file}: sha256`, 'does not match the weights: the file is corrupt');
    tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(arrays[i], v.shape))));
    return { classifier: cl, history: json.history ?? [] };
  } catch (err) {
    cl.dispose();
    throw err;
  }
}

export interface ClassifierCacheOptions extends ClassifierTrainOptions {
  cacheDir: string;
  log?: (line: string) => void;
}

/** The classifier that `config` trains on these images, from the cache when it was trained before. */
export async function trainOrLoadClassifier(
  images: Float32Array,
  labels: Int32Array,
  config: ClassifierConfig,
  opts: ClassifierCacheOptions,
): Promise<{ classifier: ImageClassifier; history: ClassifierHistoryRow[]; fromCache: boolean; file: string }> {
  const c = resolveClassifierConfig(config);
  const key = classifierKey(c, images, labels);
  const file = path.join(opts.cacheDir, `classifier-${key.slice(0, 24)}.json`);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (fs.existsSync(file)) {
    try {
      const loaded = loadClassifier(file, key);
      log(`classifier: loaded from ${checkoutPath(file)}`);
      return { ...loaded, fromCache: true, file };
    } catch (err) {
      if (!(err instanceof InputError) && !(err instanceof SyntaxError)) throw err;
      log(`classifier: ignoring an unusable cache file (${(err as Error).message}); training again`);
    }
  }
  const trained = await trainClassifier(images, labels, c, opts);
  saveClassifier(file, trained.classifier, c, key, trained.history);
  log(`classifier: trained ${c.epochs} epochs and saved to ${checkoutPath(file)}`);
  return { ...trained, fromCache: false, file };
}
