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
import * as tf from '@tensorflow/tfjs';
import { Mlp, createMlp } from '../nn/mlp';
import { fingerprintData, loadOrTrain, storeFile } from '../models/model-store';
import { assignWeights, encodeWeights } from '../models/weights';
import type { NamedVariable } from '../nn/net-config';
import { mapPointBatches } from '../runtime/batch';
import { writeJsonAtomic } from '../util/atomic';
import { InputError } from '../util/errors';
import { ProgressMode } from '../util/progress';
import { Rng } from '../util/rng';
import { Adam } from '../optim/adam';
import { StepContext, TrainerModel, train } from '../models/trainer';
import { stepDecay } from '../models/training-callbacks';

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

/** The classifier as the shared trainer sees it: batches of randomly shifted images, softmax cross-entropy. */
class ClassifierTrainee implements TrainerModel<ClassifierHistoryRow> {
  readonly rows: number;
  private rng: Rng | null = null;
  private adam: Adam | null = null;
  private losses: tf.Scalar[] = [];
  private readonly batch: Float32Array;

  constructor(
    private readonly classifier: ImageClassifier,
    private readonly images: Float32Array,
    private readonly labels: Int32Array,
    private readonly c: ResolvedClassifierConfig,
    private readonly size: { height: number; width: number },
  ) {
    this.rows = labels.length;
    this.batch = new Float32Array(c.batchSize * size.height * size.width);
  }

  begin(rng: Rng): void {
    this.rng = rng;
    this.adam = new Adam(this.classifier.variables(), { learningRate: this.c.learningRate });
  }

  step(ctx: StepContext): void {
    const { c, rng, batch } = this;
    const { height: h, width: w } = this.size;
    const dim = h * w;
    const count = ctx.rows.length;
    const y = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const r = ctx.rows[i];
      y[i] = this.labels[r];
      shiftInto(this.images, r, h, w, rng!.int(2 * c.shift + 1) - c.shift, rng!.int(2 * c.shift + 1) - c.shift, batch, i * dim);
    }
    tf.tidy(() => {
      const x = tf.tensor2d(batch.subarray(0, count * dim), [count, dim]);
      const onehot = tf.oneHot(tf.tensor1d(y, 'int32'), c.classes);
      const vars = this.classifier.variables();
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(onehot, this.classifier.logits(x)) as tf.Scalar, vars);
      this.adam!.step(
        vars.map((v) => grads[v.name]),
        ctx.learningRate,
      );
      this.losses.push(tf.keep(value));
    });
  }

  endEpoch(epoch: number): ClassifierHistoryRow {
    const mean = tf.tidy(() => tf.mean(tf.stack(this.losses)));
    const loss = mean.dataSync()[0];
    tf.dispose([mean, ...this.losses]);
    this.losses = [];
    return { epoch, loss, seconds: 0 };
  }

  end(): void {
    tf.dispose(this.losses);
    this.losses = [];
    this.adam?.dispose();
    this.adam = null;
  }
}

/** Trains with seeded shuffles and shifts; softmax cross-entropy, Adam with step decay (the shared trainer). */
export async function trainClassifier(images: Float32Array, labels: Int32Array, config: ClassifierConfig, opts: ClassifierTrainOptions): Promise<{ classifier: ImageClassifier; history: ClassifierHistoryRow[] }> {
  const c = resolveClassifierConfig(config);
  const dim = opts.height * opts.width;
  const n = labels.length;
  if (images.length !== n * dim) throw new InputError('trainClassifier', `expected ${n} images of ${dim} pixels, got ${images.length} values`);
  const classifier = createClassifier(dim, c);
  try {
    const result = await train(new ClassifierTrainee(classifier, images, labels, c, opts), {
      epochs: c.epochs,
      batchSize: c.batchSize,
      learningRate: c.learningRate,
      seed: c.seed + 1,
      label: 'train classifier',
      progress: opts.progress,
      status: (r) => `loss ${r.loss.toFixed(4)}`,
      callbacks: [stepDecay(c.learningRate, c.decay, c.decayEvery)],
    });
    return { classifier, history: result.history };
  } catch (err) {
    classifier.dispose();
    throw err;
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

/** The classifier's variables under the names its files use. */
function layerNames(cl: ImageClassifier): NamedVariable[] {
  return cl.variables().map((variable, i) => ({ name: `layer${i}`, variable }));
}

function saveClassifier(file: string, cl: ImageClassifier, config: ResolvedClassifierConfig, key: string, history: ClassifierHistoryRow[]): void {
  const values = cl.variables().map((v) => v.dataSync() as Float32Array);
  const json: ClassifierJson = {
    format: CLASSIFIER_FORMAT,
    createdAt: new Date().toISOString(),
    inputDim: cl.inputDim,
    config,
    cacheKey: key,
    history,
    ...encodeWeights(layerNames(cl), values),
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
    assignWeights(layerNames(cl), json.weights, json.sha256, file);
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
  const { value, fromCache, file } = await loadOrTrain({
    file: storeFile(opts.cacheDir, 'classifier', key),
    label: 'classifier',
    log: opts.log ?? ((line: string) => process.stderr.write(`${line}\n`)),
    load: (f) => loadClassifier(f, key),
    train: () => trainClassifier(images, labels, c, opts),
    save: (f, v) => saveClassifier(f, v.classifier, c, key, v.history),
    dispose: (v) => v.classifier.dispose(),
    trainedLine: (_v, f) => `classifier: trained ${c.epochs} epochs and saved to ${f}`,
  });
  return { ...value, fromCache, file };
}
