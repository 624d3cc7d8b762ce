/**
 * Latent Space Oddity pipelines: the data -> VAE -> RBF precision net -> metric chain that notebooks 01 and
 * 02 (and later ones) share, with each profile's settings in one place. Models come from the model cache
 * when the configuration and data are unchanged, so a re-run is fast.
 */
import { loadMnist } from '../data/mnist';
import { surfaceWithHole } from '../data/toy';
import { Vae, VaeConfig } from '../models/vae';
import { GaussianDecoder } from '../models/decoder';
import { EpochRecord, TrainConfig, trainOrLoad } from '../models/train';
import { RbfFitReport, fitVaePrecision } from '../models/rbf-fit';
import { meanStdAt } from '../models/decoder-fields';
import { expectedMetric } from '../geometry/decoder-metric';
import { LatentGrid, fieldsAt, gridAround } from '../geometry/fields';
import { FarNearRatio, farOverNear } from '../geometry/support';
import { latentHeatmap } from '../plots/fields';
import type { Figure } from '../plots/types';
import * as path from 'node:path';
import { Profile, repoRoot } from '../notebook/env';
import { releaseModels } from '../util/lifetime';
import { expectInput } from '../util/errors';

export type LsoDataset = 'surface' | 'mnist01';

/** How one data set is loaded, modelled and trained; a pipeline with its own data set passes its own to lsoModelsFrom. */
export interface DatasetSettings {
  load(profile: Profile): { x: Float32Array; labels?: Int32Array; classNames?: string[]; dim: number };
  model(dim: number): VaeConfig;
  training(profile: Profile): TrainConfig;
  rbfCenters(profile: Profile): number;
}

const SETTINGS: Record<LsoDataset, DatasetSettings> = {
  // The authors' synthetic surface with a hole: a 2-D sheet in R^3 whose hole the latent space must show.
  surface: {
    load: (profile) => {
      const s = surfaceWithHole({ n: profile === 'full' ? 4000 : 1500, seed: 1 });
      return { x: s.x, dim: s.dim };
    },
    model: (dim) => ({
      inputDim: dim,
      latentDim: 2,
      encoder: { hidden: [64, 64], activations: ['tanh', 'tanh'] },
      decoder: { hidden: [64, 64], activations: ['tanh', 'tanh'] },
      likelihood: 'gaussian',
      minStd: 1e-3,
      seed: 1,
    }),
    training: (profile) => ({ epochs: profile === 'full' ? 300 : 60, batchSize: 64, learningRate: 2e-3, klWarmupEpochs: 10, seed: 1 }),
    rbfCenters: (profile) => (profile === 'full' ? 64 : 32),
  },
  // MNIST digits 0 and 1, pixels in [0, 1], the paper's architecture with a std net of the same shape.
  mnist01: {
    load: (profile) => {
      const set = loadMnist({ split: 'train', scaling: '01', classes: [0, 1], ...(profile === 'full' ? {} : { limit: 3000, seed: 1 }) });
      return { x: set.images, labels: set.labels, classNames: ['digit 0', 'digit 1'], dim: set.height * set.width };
    },
    model: (dim) => ({
      inputDim: dim,
      latentDim: 2,
      encoder: { hidden: [256, 64], activations: ['relu', 'tanh'] },
      decoder: { hidden: [64, 256], activations: ['tanh', 'softplus'] },
      likelihood: 'gaussian',
      minStd: 1e-2,
      seed: 1,
    }),
    training: (profile) => ({ epochs: profile === 'full' ? 60 : 8, batchSize: 128, learningRate: 1e-3, klWarmupEpochs: profile === 'full' ? 10 : 2, seed: 1 }),
    rbfCenters: (profile) => (profile === 'full' ? 64 : 32),
  },
};

/** The settings of one of the built-in data sets (to derive a variant from). */
export function lsoDatasetSettings(dataset: LsoDataset): DatasetSettings {
  const known = Object.keys(SETTINGS);
  expectInput(known.includes(dataset), 'dataset', `unknown dataset ${JSON.stringify(dataset)}; expected one of ${known.join(', ')}`);
  return SETTINGS[dataset];
}

export interface LsoModels {
  /** An LsoDataset, or the name a pipeline gave its own settings. */
  dataset: string;
  /** Training data [N, D]. */
  x: Float32Array;
  labels?: Int32Array;
  classNames?: string[];
  /** Encoder means of the training data [N, 2]. */
  codes: Float32Array;
  vae: Vae;
  /** The VAE's own decoder: mean net and standard std net. */
  standard: GaussianDecoder;
  /** The same mean net with the RBF precision net (Latent Space Oddity, section 4). */
  rbf: GaussianDecoder;
  history: EpochRecord[];
  fromCache: boolean;
  rbfReport: RbfFitReport;
}

/** Trains (or reloads) the Gaussian-decoder VAE of `dataset` and fits its RBF precision net. */
export async function lsoModels(dataset: LsoDataset, profile: Profile, opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<LsoModels> {
  return lsoModelsFrom(dataset, lsoDatasetSettings(dataset), profile, opts);
}

/** lsoModels for a data set that is not built in: `dataset` only names it. */
export async function lsoModelsFrom(dataset: string, s: DatasetSettings, profile: Profile, opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<LsoModels> {
  const data = s.load(profile);
  // One cache for the checkout, whatever the working directory (Jupyter starts kernels in notebooks/).
  const cacheDir = opts.cacheDir ?? path.join(repoRoot(), '.cache', 'models');
  const trained = await trainOrLoad({ model: s.model(data.dim), training: s.training(profile) }, data.x, { cacheDir, log: opts.log });
  const { rbf, report, latents } = fitVaePrecision(trained.vae, data.x, { numCenters: s.rbfCenters(profile), seed: 1 });
  const standard = trained.vae.decoder();
  const withRbf = trained.vae.decoder();
  withRbf.setStdModel({ kind: 'rbf', rbf });
  return {
    dataset,
    x: data.x,
    labels: data.labels,
    classNames: data.classNames,
    codes: latents,
    vae: trained.vae,
    standard,
    rbf: withRbf,
    history: trained.history,
    fromCache: trained.fromCache,
    rbfReport: report,
  };
}

/** Frees the models' tensors; in a notebook kernel they stay alive so cells can be re-run (util/lifetime.ts). */
export function disposeLsoModels(m: LsoModels): void {
  releaseModels(() => {
    m.standard.dispose();
    m.rbf.dispose();
    m.vae.dispose();
  });
}

/** A field of both decoders over a grid and at the codes, with the far-over-near ratio of each. */
export interface FieldComparison {
  grid: LatentGrid;
  standard: ArrayLike<number>;
  rbf: ArrayLike<number>;
  ratio: { standard: FarNearRatio; rbf: FarNearRatio };
}

/** A grid that extends well beyond the codes, so that "far from the data" exists on it. */
export function studyGrid(codes: Float32Array, n: number): LatentGrid {
  return gridAround(codes, n, 0.6);
}

function compare(m: LsoModels, grid: LatentGrid, field: (dec: GaussianDecoder, pts: Float32Array) => ArrayLike<number>): FieldComparison {
  const at = (dec: GaussianDecoder) => ({ grid: field(dec, grid.points), codes: field(dec, m.codes) });
  const std = at(m.standard);
  const rbf = at(m.rbf);
  const ratio = (f: { grid: ArrayLike<number>; codes: ArrayLike<number> }) =>
    farOverNear({ gridPoints: grid.points, gridValues: f.grid, codes: m.codes, codeValues: f.codes, d: 2 });
  return { grid, standard: std.grid, rbf: rbf.grid, ratio: { standard: ratio(std), rbf: ratio(rbf) } };
}

/** Mean sigma(z) over the outputs, for the standard std net and for the RBF net. */
export function compareMeanStd(m: LsoModels, grid: LatentGrid): FieldComparison {
  return compare(m, grid, (dec, pts) => meanStdAt(dec, pts));
}

/** The magnification factor sqrt(det M(z)) of the expected metric, for both decoders. */
export function compareVolume(m: LsoModels, grid: LatentGrid): FieldComparison {
  return compare(m, grid, (dec, pts) => fieldsAt(expectedMetric(dec), pts).volume);
}

/** At most `max` codes (a seeded-free stride keeps it deterministic) for plotting over a field. */
export function codePoints(m: Pick<LsoModels, 'codes' | 'labels' | 'classNames'>, max = 3000): { x: number[]; y: number[]; labels?: number[]; classNames?: string[] } {
  const n = m.codes.length / 2;
  const stride = Math.max(1, Math.ceil(n / max));
  const x: number[] = [];
  const y: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i += stride) {
    x.push(m.codes[2 * i]);
    y.push(m.codes[2 * i + 1]);
    if (m.labels) labels.push(m.labels[i]);
  }
  return m.labels ? { x, y, labels, classNames: m.classNames } : { x, y };
}

/** A field of one decoder as a log-coloured heatmap with the codes on top. */
export function fieldFigure(m: LsoModels, grid: LatentGrid, values: ArrayLike<number>, title: string, colorbarTitle: string): Figure {
  return latentHeatmap({ xs: grid.xs, ys: grid.ys, values: Float64Array.from(values), title, colorbarTitle, zLog: true, points: codePoints(m) });
}
