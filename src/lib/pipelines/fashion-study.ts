/**
 * Notebook 08, after the MVA course report on Latent Space Oddity: the paper's two-net Gaussian decoder
 * (a mean net plus the RBF precision net, fitted after the VAE as in lso.ts) against a standard VAE on
 * five kinds of Fashion-MNIST in a 2-D latent space: reconstructions, the magnification factor of the
 * expected metric, and a geodesic against the straight line between a shoe and a trouser.
 *
 * The standard VAE has one decoder net and a Bernoulli likelihood (the usual choice for [0, 1] pixels);
 * the two-net VAE is the Gaussian VAE of Latent Space Oddity (mean net and softplus std net during
 * training, the std net then replaced by the RBF precision net). Encoders and mean nets have the same
 * depth and widths in both: 784-256-64-2 and 2-64-256-784.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FASHION_CLASS_NAMES, loadFashionMnist } from '../data/fashion';
import type { ImageSet } from '../data/types';
import { GaussianDecoder } from '../models/decoder';
import { decodeMeans } from '../models/decoder-fields';
import { RbfFitReport, fitVaePrecision } from '../models/rbf-fit';
import { EpochRecord, TrainConfig, trainOrLoad } from '../models/train';
import { Likelihood, OFFICIAL_MSE_STD, Vae, VaeConfig } from '../models/vae';
import { expectedMetric } from '../geometry/decoder-metric';
import { LatentGrid, fieldsAt } from '../geometry/fields';
import { CurveBatch, arcLengthReparametrize, curveBatch, curveLengths, straightLines } from '../geometry/curves';
import { connectingGeodesics } from '../geometry/geodesics';
import { graphInitialCurves, latentGraph } from '../geometry/graph';
import type { Metric } from '../geometry/metric';
import { kmeans } from '../stats/kmeans';
import { latentHeatmap, type ClassPoints } from '../plots/fields';
import { imageGrid, imageStrip } from '../plots/images';
import type { Figure } from '../plots/types';
import { Profile, repoRoot } from '../notebook/env';
import { releaseModels } from '../util/lifetime';
import { studyGrid } from './lso';
import { strideRows } from './zoo-study';

/** The five kinds: Fashion-MNIST labels and the names the figures use. Shoes are the sneakers (label 7). */
export const FASHION_KINDS: readonly { label: number; name: string }[] = [
  { label: 0, name: 'tops' },
  { label: 1, name: 'trousers' },
  { label: 4, name: 'coats' },
  { label: 7, name: 'shoes' },
  { label: 8, name: 'bags' },
];

export const SHOE = 7;
export const TROUSER = 1;

export interface FashionSettings {
  /** Training images (of 30,000); undefined: all. */
  trainImages?: number;
  /** Test images (of 5,000) for the reconstruction error. */
  testImages: number;
  training: TrainConfig;
  rbfCenters: number;
  /** Adam steps of the RBF precision fit. */
  rbfIterations: number;
  gridN: number;
  /** Points per geodesic. */
  geodesicPoints: number;
  /** Decoded frames per strip. */
  frames: number;
  /** The fixed-variance control's constant sigma (see fashion-controls.ts). */
  fixedStd: number;
}

/**
 * VAE epochs on the full profile. The MVA report's 100 (and the 30 of this notebook's first version) do
 * not fit: four VAEs trained beside the other work on two shared cores took ~0.5 s a step (~4 min an epoch
 * for the four). `fashionSettings(profile, { epochs })` sets another number; the KL warm-up is the first
 * third of the epochs.
 */
export const FASHION_EPOCHS_FULL = 12;

export function fashionSettings(profile: Profile, opts: { epochs?: number } = {}): FashionSettings {
  const full = profile === 'full';
  const epochs = opts.epochs ?? (full ? FASHION_EPOCHS_FULL : 6);
  return {
    ...(full ? { trainImages: 15000 } : { trainImages: 3000 }),
    testImages: full ? 5000 : 1000,
    training: { epochs, batchSize: 128, learningRate: 1e-3, klWarmupEpochs: Math.ceil(epochs / 3), seed: 1 },
    rbfCenters: full ? 64 : 32,
    rbfIterations: full ? 500 : 200,
    gridN: full ? 120 : 60,
    geodesicPoints: full ? 32 : 24,
    frames: 10,
    fixedStd: OFFICIAL_MSE_STD,
  };
}

export interface FashionData {
  train: ImageSet;
  test: ImageSet;
  /** Indexed by Fashion-MNIST label: the kind's name, '' for labels not used. */
  classNames: string[];
}

export function fashionData(s: FashionSettings): FashionData {
  const classes = FASHION_KINDS.map((k) => k.label);
  const train = loadFashionMnist({ split: 'train', scaling: '01', classes, ...(s.trainImages ? { limit: s.trainImages, seed: 1 } : {}) });
  const test = loadFashionMnist({ split: 'test', scaling: '01', classes, limit: s.testImages, seed: 2 });
  const classNames = FASHION_CLASS_NAMES.map((_, label) => FASHION_KINDS.find((k) => k.label === label)?.name ?? '');
  return { train, test, classNames };
}

/**
 * The shared shapes; `likelihood` picks the standard (Bernoulli), the two-net (Gaussian, optionally with
 * its std net frozen) or the fixed-variance Gaussian VAE.
 */
export function fashionVaeConfig(likelihood: Likelihood, opts: { freezeStd?: boolean; fixedStd?: number } = {}): VaeConfig {
  return {
    inputDim: 784,
    latentDim: 2,
    encoder: { hidden: [256, 64], activations: ['relu', 'tanh'] },
    decoder: { hidden: [64, 256], activations: ['tanh', 'softplus'] },
    likelihood,
    ...(likelihood === 'gaussian' ? { minStd: 1e-2 } : {}),
    ...(likelihood === 'gaussian' && opts.freezeStd ? { freezeStd: true } : {}),
    ...(likelihood === 'gaussian-fixed' && opts.fixedStd !== undefined ? { fixedStd: opts.fixedStd } : {}),
    seed: 1,
  };
}

export interface FashionModels {
  standard: Vae;
  twoNet: Vae;
  /** The two-net VAE's decoder with the RBF precision net. */
  rbf: GaussianDecoder;
  /** Encoder means of the training images under the two-net VAE [N, 2], with their labels. */
  codes: Float32Array;
  labels: Int32Array;
  history: { standard: EpochRecord[]; twoNet: EpochRecord[] };
  fromCache: boolean;
  rbfReport: RbfFitReport;
}

/** Trains (or reloads) both VAEs and fits the RBF precision net of the two-net one. */
export async function fashionModels(data: FashionData, s: FashionSettings, opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<FashionModels> {
  const cacheOpts = { cacheDir: opts.cacheDir ?? path.join(repoRoot(), '.cache', 'models'), log: opts.log };
  const x = data.train.images;
  const standard = await trainOrLoad({ model: fashionVaeConfig('bernoulli'), training: s.training }, x, cacheOpts);
  const twoNet = await trainOrLoad({ model: fashionVaeConfig('gaussian'), training: s.training }, x, cacheOpts);
  const { rbf, report, latents } = fitVaePrecision(twoNet.vae, x, { numCenters: s.rbfCenters, iterations: s.rbfIterations, seed: 1 });
  const decoder = twoNet.vae.decoder();
  decoder.setStdModel({ kind: 'rbf', rbf });
  return {
    standard: standard.vae,
    twoNet: twoNet.vae,
    rbf: decoder,
    codes: latents,
    labels: data.train.labels,
    history: { standard: standard.history, twoNet: twoNet.history },
    fromCache: standard.fromCache && twoNet.fromCache,
    rbfReport: report,
  };
}

/** Frees the models' tensors; in a notebook kernel they stay alive so cells can be re-run (util/lifetime.ts). */
export function disposeFashionModels(m: FashionModels): void {
  releaseModels(() => {
    m.rbf.dispose();
    m.standard.dispose();
    m.twoNet.dispose();
  });
}

/** Mean squared error per pixel between images [N, 784] and E[x | z = mu(x)], in batches. */
export function reconstructionMse(vae: Vae, images: Float32Array, batchSize = 1000): number {
  const D = vae.inputDim;
  const n = images.length / D;
  let sum = 0;
  for (let s = 0; s < n; s += batchSize) {
    const b = Math.min(batchSize, n - s);
    const t = tf.tidy(() => {
      const x = tf.tensor2d(images.subarray(s * D, (s + b) * D), [b, D]);
      return tf.sum(tf.square(tf.sub(vae.reconstruct(x), x)));
    });
    sum += t.dataSync()[0];
    t.dispose();
  }
  return sum / (n * D);
}

/** The first `perKind` test images of each kind, kind by kind. */
function exampleRows(test: ImageSet, perKind: number): number[] {
  return FASHION_KINDS.flatMap((k) => {
    const rows: number[] = [];
    for (let i = 0; i < test.n && rows.length < perKind; i++) if (test.labels[i] === k.label) rows.push(i);
    return rows;
  });
}

/** Originals and each VAE's reconstructions of two test images of each kind, one row per VAE. */
export function reconstructionFigure(vaes: { label: string; vae: Vae }[], test: ImageSet, perKind = 2): Figure {
  const D = test.height * test.width;
  const rows = exampleRows(test, perKind);
  const x = new Float32Array(rows.length * D);
  rows.forEach((r, i) => x.set(test.images.subarray(r * D, (r + 1) * D), i * D));
  const recon = (vae: Vae) =>
    tf.tidy(() => vae.reconstruct(tf.tensor2d(x, [rows.length, D])).dataSync() as Float32Array);
  const images = new Float32Array((1 + vaes.length) * x.length);
  images.set(x, 0);
  vaes.forEach((v, i) => images.set(recon(v.vae), (i + 1) * x.length));
  const fig = imageGrid({
    images,
    height: test.height,
    width: test.width,
    cols: rows.length,
    title: 'Fashion-MNIST test images and their reconstructions',
    rowLabels: ['original', ...vaes.map((v) => v.label)],
  });
  return { ...fig, layout: { ...fig.layout, margin: { ...(fig.layout.margin as object), l: 170 }, width: (fig.layout.width ?? 0) + 70 } };
}

/** The magnification factor sqrt(det M) of the two-net (RBF) decoder's expected metric over a grid. */
export function magnification(m: FashionModels, gridN: number): { grid: LatentGrid; volume: Float64Array } {
  const grid = studyGrid(m.codes, gridN);
  return { grid, volume: fieldsAt(expectedMetric(m.rbf), grid.points).volume };
}

/** The training image of `label` whose code is nearest the coordinate-wise median of that kind's codes. */
export function typicalCode(codes: Float32Array, labels: Int32Array, label: number): Float64Array {
  const rows = Array.from(labels.keys()).filter((i) => labels[i] === label);
  const med = (axis: number) => {
    const v = rows.map((i) => codes[2 * i + axis]).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)];
  };
  const [mx, my] = [med(0), med(1)];
  let best = rows[0];
  for (const i of rows) if ((codes[2 * i] - mx) ** 2 + (codes[2 * i + 1] - my) ** 2 < (codes[2 * best] - mx) ** 2 + (codes[2 * best + 1] - my) ** 2) best = i;
  return Float64Array.of(codes[2 * best], codes[2 * best + 1]);
}

export interface GeodesicComparison {
  p0: Float64Array;
  p1: Float64Array;
  geodesic: CurveBatch;
  line: CurveBatch;
  /** Riemannian lengths, both measured with the same quadrature. */
  geodesicLength: number;
  lineLength: number;
  converged: boolean;
  /** Which start the kept geodesic came from. */
  init: 'straight line' | 'graph';
  /** Decoded frames at equal Riemannian arc length [frames, 784], along the geodesic and along the line. */
  geodesicFrames: Float32Array;
  lineFrames: Float32Array;
}

/** Straight pieces per curve segment when measuring lengths: the chord sum converges from below. */
const LENGTH_SUBDIVISIONS = 8;

/**
 * The geodesic of the RBF decoder's expected metric between p0 and p1 and the straight line. The solver
 * starts twice, from the straight line and from the shortest path of a k-NN graph over 64 k-means centres
 * of the codes (the line can start in a local minimum across a high-metric gap); the shorter result is
 * kept.
 */
export function compareGeodesic(metric: Metric, decoder: GaussianDecoder, codes: Float32Array, p0: Float64Array, p1: Float64Array, s: FashionSettings): GeodesicComparison {
  const T = s.geodesicPoints;
  const centres = kmeans(codes, 2, Math.min(64, codes.length / 2), { seed: 1 }).centers;
  const graph = latentGraph(metric, centres);
  const starts = curveBatch(2, T, 2);
  starts.data.set(straightLines(p0, p1, 2, T).data, 0);
  starts.data.set(graphInitialCurves(metric, graph, p0, p1, T).data, T * 2);
  const pair = (p: Float64Array) => Float64Array.from([...p, ...p]);
  const res = connectingGeodesics(metric, pair(p0), pair(p1), { points: T, init: starts });
  const lengths = curveLengths(metric, res.curves, { subdivisions: LENGTH_SUBDIVISIONS });
  const k = lengths[1] < lengths[0] ? 1 : 0;
  const geodesic = curveBatch(1, T, 2, res.curves.data.slice(k * T * 2, (k + 1) * T * 2));
  const line = straightLines(p0, p1, 2, T);
  const frames = (c: CurveBatch) => decodeMeans(decoder, Float32Array.from(arcLengthReparametrize(metric, c, s.frames, { subdivisions: LENGTH_SUBDIVISIONS }).curves.data));
  return {
    p0,
    p1,
    geodesic,
    line,
    geodesicLength: lengths[k],
    lineLength: curveLengths(metric, line, { subdivisions: LENGTH_SUBDIVISIONS })[0],
    converged: res.converged[k],
    init: k === 0 ? 'straight line' : 'graph',
    geodesicFrames: frames(geodesic),
    lineFrames: frames(line),
  };
}

/** The shoe-to-trouser comparison between the typical codes of the two kinds. */
export function shoeTrouserGeodesic(m: FashionModels, s: FashionSettings): GeodesicComparison {
  const metric = expectedMetric(m.rbf);
  return compareGeodesic(metric, m.rbf, m.codes, typicalCode(m.codes, m.labels, SHOE), typicalCode(m.codes, m.labels, TROUSER), s);
}

/** At most `max` codes, coloured by kind. */
export function kindPoints(codes: Float32Array, labels: Int32Array, classNames: string[], max = 3000): ClassPoints {
  const rows = strideRows(labels.length, max);
  return { x: rows.map((r) => codes[2 * r]), y: rows.map((r) => codes[2 * r + 1]), labels: rows.map((r) => labels[r]), classNames, markerSize: 4 };
}

/** The magnification map with the codes by kind, the geodesic and the straight line. */
export function magnificationFigure(m: FashionModels, mag: { grid: LatentGrid; volume: Float64Array }, g: GeodesicComparison, classNames: string[]): Figure {
  const xy = (c: CurveBatch) => ({ x: Array.from({ length: c.points }, (_, i) => c.data[2 * i]), y: Array.from({ length: c.points }, (_, i) => c.data[2 * i + 1]) });
  return latentHeatmap({
    xs: mag.grid.xs,
    ys: mag.grid.ys,
    values: mag.volume,
    title: 'Fashion-MNIST, two-net VAE: magnification factor √det M(z) (RBF precision net)',
    colorbarTitle: '√det M',
    zLog: true,
    points: kindPoints(m.codes, m.labels, classNames),
    curves: [
      { ...xy(g.geodesic), name: `geodesic (length ${g.geodesicLength.toPrecision(3)})` },
      { ...xy(g.line), name: `straight line (length ${g.lineLength.toPrecision(3)})`, dash: 'dash', color: '#D55E00' },
    ],
  });
}

/** The decoded frames along the geodesic (top) and along the straight line (bottom). */
export function geodesicStripFigure(g: GeodesicComparison, height: number, width: number): Figure {
  const images = new Float32Array(g.geodesicFrames.length + g.lineFrames.length);
  images.set(g.geodesicFrames, 0);
  images.set(g.lineFrames, g.geodesicFrames.length);
  const n = g.geodesicFrames.length / (height * width);
  return imageStrip({
    images,
    height,
    width,
    n,
    title: 'From a shoe to a trouser: frames at equal Riemannian arc length',
    rowLabels: ['geodesic', 'straight line'],
  });
}
