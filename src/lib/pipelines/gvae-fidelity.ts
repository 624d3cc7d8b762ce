/**
 * Fidelity of the Geometric-VAE reproduction (notebooks 10 and 11, issue 13): scores over several sampling
 * seeds (mean and spread), the memorisation check of the paper's Fig. 3 (each sample's nearest training
 * image, sample-to-train against test-to-train distances), and the export of generated images as PNG folders
 * for Inception FID with pytorch-fid.
 *
 * FID here is on the in-repo classifier's features (./geometric-vae.ts, MnistEvaluator), not Inception.
 */
import * as path from 'node:path';
import { MemorisationSummary, memorisationSummary, nearestTrainImages } from '../evaluation/memorisation';
import { quantile } from '../geometry/support';
import { writeImageFolder } from '../io/png';
import { repoRoot } from '../notebook/env';
import { lineChart } from '../plots/charts';
import { imageStrip } from '../plots/images';
import type { Figure } from '../plots/types';
import { Rng } from '../util/rng';
import type { Profile } from '../notebook/env';
import {
  CompareOptions,
  GenerationMethod,
  GvaeModel,
  AblationRow,
  GENERATION_METHODS,
  MnistGvaeOptions,
  ablationSummary,
  disposeGvaeModel,
  mnistGvaeModel,
  samplerAblation,
  METHOD_LABELS,
  MethodResult,
  MnistEvaluator,
  SampleScores,
  compareGenerators,
  decodeLatents,
} from './geometric-vae';

/** A score over seeds. */
export interface SeedSpread {
  mean: number;
  /** Sample standard deviation over the seeds (0 for one seed). */
  sd: number;
  values: number[];
}

export function seedSpread(values: number[]): SeedSpread {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd, values };
}

export interface SeededComparison {
  seeds: number[];
  /** The first seed's results (with previews), for grids and tables. */
  first: MethodResult[];
  /** Per method, each score over the seeds. */
  spread: Record<string, Record<keyof SampleScores, SeedSpread>>;
}

/**
 * compareGenerators once per sampling seed (each seed draws new codes and refits the GMM); `onImages` sees
 * the first seed's images only.
 */
export function compareOverSeeds(m: GvaeModel, ev: MnistEvaluator, n: number, seeds: number[], opts: CompareOptions = {}): SeededComparison {
  const runs = seeds.map((seed, i) => compareGenerators(m, ev, n, seed, { ...opts, ...(i > 0 ? { onImages: undefined, previews: 0 } : {}) }));
  const spread: SeededComparison['spread'] = {};
  for (const r of runs[0]) {
    const of = (key: keyof SampleScores) => seedSpread(runs.map((run) => run.find((x) => x.method === r.method)![key]));
    spread[r.method] = { fid: of('fid'), precision: of('precision'), recall: of('recall') };
  }
  return { seeds, first: runs[0], spread };
}

/** { method: mean over seeds } of one score. */
export function meanBySeeds(c: SeededComparison, key: keyof SampleScores): Record<string, number> {
  return Object.fromEntries(Object.entries(c.spread).map(([method, s]) => [method, s[key].mean]));
}

/** { method: { precision, recall } }, means over the seeds. */
export function meanPrecisionRecall(c: SeededComparison): Record<string, { precision: number; recall: number }> {
  const out: Record<string, { precision: number; recall: number }> = {};
  for (const [method, s] of Object.entries(c.spread)) out[method] = { precision: s.precision.mean, recall: s.recall.mean };
  return out;
}

/** Table rows, one per method: FID mean and sd over the seeds, mean precision and recall. */
export function spreadRows(c: SeededComparison): Record<string, string | number>[] {
  return Object.entries(c.spread).map(([method, s]) => ({ method, fid_mean: s.fid.mean, fid_sd: s.fid.sd, precision: s.precision.mean, recall: s.recall.mean }));
}

/** { method: { mean, sd, values } } of one score, with the seeds. */
export function spreadSummary(c: SeededComparison, key: keyof SampleScores): { seeds: number[] } & Record<string, SeedSpread | number[]> {
  return { seeds: c.seeds, ...Object.fromEntries(Object.entries(c.spread).map(([method, s]) => [method, s[key]])) };
}

// ---------------------------------------------------------------------------------------------------------
// Memorisation (the paper's Fig. 3)

export interface MemorisationCheck {
  /** Images per set. */
  count: number;
  /** Test images against the training set: the distances of genuinely new digits. */
  test: MemorisationSummary;
  /** Decoded training means (reconstructions of training images): what copying looks like. */
  reconstructions: MemorisationSummary;
  methods: Record<string, MemorisationSummary>;
  /** Per set: the queries' nearest-training-image distances and indices, and the queries themselves. */
  details: Record<string, { distance: Float64Array; index: Int32Array; images: Float32Array }>;
}

/**
 * The first `count` images of every method (from `images`, [n, 784] each), `count` test images and `count`
 * reconstructions of random training images, each matched with its nearest training image (pixel space).
 */
export function memorisationCheck(m: GvaeModel, ev: MnistEvaluator, images: Record<string, Float32Array>, count: number, seed = 1): MemorisationCheck {
  const D = m.train.images.length / m.train.n;
  const rng = new Rng(seed);
  const rows = rng.permutation(m.train.n).subarray(0, count);
  const d = m.latentDim;
  const means = new Float32Array(count * d);
  rows.forEach((r, i) => means.set(m.means.subarray(r * d, (r + 1) * d), i * d));
  const sets: Record<string, Float32Array> = {
    test: ev.test.images.slice(0, count * D),
    reconstructions: decodeLatents(m, means),
    ...Object.fromEntries(Object.entries(images).map(([k, v]) => [k, v.slice(0, count * D)])),
  };
  const details: MemorisationCheck['details'] = {};
  for (const [name, q] of Object.entries(sets)) details[name] = { ...nearestTrainImages(q, m.train.images, D), images: q };
  const testDist = details.test.distance;
  const methods = Object.fromEntries(Object.keys(images).map((k) => [k, memorisationSummary(details[k].distance, testDist)]));
  return {
    count,
    test: memorisationSummary(testDist, testDist),
    reconstructions: memorisationSummary(details.reconstructions.distance, testDist),
    methods,
    details,
  };
}

/** Table rows, one per set (test images, reconstructions, each method). */
export function memorisationRows(c: MemorisationCheck): Record<string, string | number>[] {
  const sets: Record<string, MemorisationSummary> = { test: c.test, reconstructions: c.reconstructions, ...c.methods };
  return Object.entries(sets).map(([set, s]) => ({ set, ...s }));
}

/** results.json's `memorisation`: the summaries, no arrays. */
export function memorisationResults(c: MemorisationCheck): Record<string, unknown> {
  return {
    images_per_set: c.count,
    distance: 'Euclidean, pixel space (784 values in [0, 1]), to the nearest of the VAE training images',
    test_to_train: c.test,
    reconstructions_to_train: c.reconstructions,
    sample_to_train: c.methods,
  };
}

const LABELS: Record<string, string> = { test: 'test images (new digits)', reconstructions: 'reconstructed training images' };
/** Short row labels for image strips. */
const SHORT_LABELS: Record<string, string> = { riemannian_uniform: 'exact HMC', riemannian_uniform_official: 'official sampler', gmm: 'GMM', prior: 'prior', test: 'test', reconstructions: 'reconstruction' };

/** Empirical CDFs of the nearest-training-image distance: test images, reconstructions, every method. */
export function memorisationCdfFigure(c: MemorisationCheck, title: string): Figure {
  const qs = Array.from({ length: 101 }, (_, i) => i / 100);
  return lineChart({
    series: Object.entries(c.details).map(([name, det]) => ({
      name: LABELS[name] ?? METHOD_LABELS[name as GenerationMethod] ?? name,
      x: qs.map((q) => quantile(det.distance, q)),
      y: qs,
      ...(name === 'test' ? { color: '#000000' } : name === 'reconstructions' ? { color: '#999999', dash: 'dash' } : {}),
    })),
    title,
    xTitle: 'distance to the nearest training image (pixel space)',
    yTitle: 'fraction of images',
    markers: false,
  });
}

/** For each set, `perRow` images above their nearest training images (two rows a set). */
export function nearestTrainFigure(m: GvaeModel, c: MemorisationCheck, sets: string[], perRow: number, title: string): Figure {
  const D = m.train.images.length / m.train.n;
  const side = Math.round(Math.sqrt(D));
  const images: number[] = [];
  const rowLabels: string[] = [];
  for (const name of sets) {
    const det = c.details[name];
    const label = SHORT_LABELS[name] ?? name;
    for (let i = 0; i < perRow; i++) images.push(...det.images.subarray(i * D, (i + 1) * D));
    for (let i = 0; i < perRow; i++) images.push(...m.train.images.subarray(det.index[i] * D, (det.index[i] + 1) * D));
    rowLabels.push(label, 'nearest train');
  }
  return imageStrip({ images: Float32Array.from(images), height: side, width: side, n: perRow, title, rowLabels });
}

// ---------------------------------------------------------------------------------------------------------
// Export for Inception FID

/**
 * Writes images [N, 784] as 32 x 32 grayscale PNGs (MNIST zero-padded by 2, the official code's format)
 * into dir/<name>/; returns the bytes written.
 */
export function exportMnistPngs(dir: string, name: string, images: Float32Array): number {
  return writeImageFolder(path.join(dir, name), images, 28, 28, 2);
}

/** A path relative to the repository root (for notebook outputs, which must not hold this machine's paths). */
export function repoRelative(p: string): string {
  return path.relative(repoRoot(), p);
}

/**
 * The shell command, run from the repository root, that computes Inception FID between the exported test
 * images and a method's images with pytorch-fid (the PyTorch port of TTUR's fid.py, which the paper used).
 */
export function pytorchFidCommand(dir: string, method: string): string {
  const rel = repoRelative(dir);
  return `pip install pytorch-fid && python -m pytorch_fid ${path.join(rel, 'test')} ${path.join(rel, method)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Notebook 11: FID against the training size, over seeds

export interface LowDataRow {
  trainSize: number;
  epochs: number;
  bestEpoch: number;
  bestValLoss: number;
  /** Training time (0 when loaded from the cache). */
  trainSeconds: number;
  fromCache: boolean;
  comparison: SeededComparison;
  /** samplerAblation at this size (first seed); empty when not asked for. */
  ablation: AblationRow[];
}

/**
 * For every training size: train (or reload) the VAE, generate n images by each method for every sampling
 * seed, score them, free the model. The evaluator is shared, so every FID is against the same test features.
 */
export async function lowDataStudy(profile: Profile, ev: MnistEvaluator, sizes: number[], n: number, seeds: number[], opts: Omit<MnistGvaeOptions, 'trainSize'> & { ablation?: boolean } = {}): Promise<LowDataRow[]> {
  const rows: LowDataRow[] = [];
  for (const trainSize of sizes) {
    const t0 = performance.now();
    const m = await mnistGvaeModel(profile, { ...opts, trainSize });
    const trainSeconds = m.fromCache ? 0 : (performance.now() - t0) / 1000;
    try {
      const comparison = compareOverSeeds(m, ev, n, seeds, { log: opts.log && ((line) => opts.log!(`N = ${trainSize}: ${line}`)) });
      const ablation = opts.ablation === false ? [] : samplerAblation(m, ev, n, seeds[0]);
      const val = m.history.map((h) => h.val_loss ?? Infinity);
      const best = Math.min(...val);
      rows.push({ trainSize, epochs: m.history.length, bestEpoch: val.indexOf(best) + 1, bestValLoss: best, trainSeconds, fromCache: m.fromCache, comparison, ablation });
    } finally {
      disposeGvaeModel(m);
    }
  }
  return rows;
}

/** { "1000": { method: mean over seeds } } of one score. */
export function scoreBySize(rows: LowDataRow[], key: keyof SampleScores): Record<string, Record<string, number>> {
  return Object.fromEntries(rows.map((r) => [String(r.trainSize), meanBySeeds(r.comparison, key)]));
}

/** { "1000": { method: {mean, sd, values} } } of one score. */
export function spreadBySize(rows: LowDataRow[], key: keyof SampleScores): Record<string, Record<string, SeedSpread>> {
  return Object.fromEntries(rows.map((r) => [String(r.trainSize), Object.fromEntries(Object.entries(r.comparison.spread).map(([k, s]) => [k, s[key]]))]));
}

/** Table rows, one per size and method. */
export function lowDataRows(rows: LowDataRow[]): Record<string, string | number>[] {
  return rows.flatMap((r) => spreadRows(r.comparison).map((row) => ({ train_images: r.trainSize, ...row })));
}

/** { "1000": { training_means: {fid, precision, recall}, ... }, ... } of the ablation. */
export function ablationBySize(rows: LowDataRow[]): Record<string, ReturnType<typeof ablationSummary>> {
  return Object.fromEntries(rows.map((r) => [String(r.trainSize), ablationSummary(r.ablation)]));
}

/** A score against the training size: one line per method (mean over seeds, error bars one sd), the ablation's floor-K-lambda sampler dashed. */
export function scoreBySizeChart(rows: LowDataRow[], key: keyof SampleScores, title: string): Figure {
  const x = rows.map((r) => r.trainSize);
  const floor = rows.map((r) => r.ablation.find((a) => a.name === 'riemannian_uniform_floor_K_lambda')?.[key] ?? NaN);
  return lineChart({
    series: [
      ...GENERATION_METHODS.map((method) => ({
        name: METHOD_LABELS[method],
        x,
        y: rows.map((r) => r.comparison.spread[method][key].mean),
        error: rows.map((r) => r.comparison.spread[method][key].sd),
      })),
      ...(rows.some((r) => r.ablation.length > 0) ? [{ name: 'Riemannian uniform, floor Kλ (ablation, one seed)', x, y: floor, dash: 'dash' }] : []),
    ],
    title,
    xTitle: 'training images',
    yTitle: key === 'fid' ? 'FID (classifier features)' : key,
    logX: true,
  });
}
