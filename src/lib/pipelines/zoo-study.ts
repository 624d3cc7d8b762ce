/**
 * Notebook 07, after the course report "Data Interpolation through Deep Generative Models" (Ramirez 2020):
 * how well conditioned are the Jacobians of a VAE's, a denoising autoencoder's and a GAN's generator, on
 * and off the data? Twelve 2-D latent models on MNIST ({VAE, DAE, GAN} x hidden {128-32, 256-64} x
 * {tanh, sigmoid}), each generator a deterministic Decoder z -> x in [0, 1]^784 whose metric is J^T J, and
 * over each latent space the fields log det(J^T J) and kappa(J) = s_max / s_min.
 *
 * "On the data" is at the codes themselves (encoder means; for the GAN, which has no encoder, samples of
 * its N(0, I) prior); "off the data" is the grid points farther from every code than the 99th percentile
 * of the codes' own nearest-neighbour distances.
 */
import * as path from 'node:path';
import { loadMnist } from '../data/mnist';
import { GaussianDecoder } from '../models/decoder';
import { Vae } from '../models/vae';
import { EpochRecord, trainOrLoad, trainVae } from '../models/train';
import { GeneratorOptions, ZooEpochRecord, ZooTrainConfig, generatorLabel, zooNets } from '../models/generator-zoo';
import { Dae, trainDaeOrLoad } from '../models/dae';
import { Gan, trainGanOrLoad } from '../models/gan';
import { decodeMeans } from '../models/decoder-fields';
import { meanMetric } from '../geometry/decoder-metric';
import { LatentGrid, fieldsAt, gridAround } from '../geometry/fields';
import { nearestDistances, quantile } from '../geometry/support';
import { latentHeatmap } from '../plots/fields';
import { imageGrid } from '../plots/images';
import { lineChart, type Series } from '../plots/charts';
import { categoryColor } from '../plots/style';
import type { Axis, Figure, Trace } from '../plots/types';
import { Profile, repoRoot } from '../notebook/env';
import { Rng } from '../util/rng';
import { releaseModels } from '../util/lifetime';

export type GeneratorKind = 'vae' | 'dae' | 'gan';

export const ZOO_KINDS: readonly GeneratorKind[] = ['vae', 'dae', 'gan'];

/** The report's two architectures and two activations, in panel order. */
export const ZOO_GENERATORS: readonly GeneratorOptions[] = [
  { hidden: [128, 32], activation: 'tanh' },
  { hidden: [128, 32], activation: 'sigmoid' },
  { hidden: [256, 64], activation: 'tanh' },
  { hidden: [256, 64], activation: 'sigmoid' },
];

export interface ZooModelSpec {
  kind: GeneratorKind;
  generator: GeneratorOptions;
  /** Seed of the weights, the noise and the batch order (default 1). */
  seed?: number;
}

/**
 * The twelve models, kind by kind, once per seed (seed by seed within a model); `perKind` gives some kinds
 * other seeds.
 */
export function zooSpecs(seeds: readonly number[] = [1], perKind: Partial<Record<GeneratorKind, readonly number[]>> = {}, ganGenerators: readonly GeneratorOptions[] = ZOO_GENERATORS): ZooModelSpec[] {
  return ZOO_KINDS.flatMap((kind) =>
    (kind === 'gan' ? ganGenerators : ZOO_GENERATORS).flatMap((generator) => (perKind[kind] ?? seeds).map((seed) => ({ kind, generator, seed }))),
  );
}

export function specLabel(s: ZooModelSpec): string {
  return `${s.kind.toUpperCase()} ${generatorLabel(s.generator)}`;
}

/** "VAE 128-32 tanh, seed 2". */
export function runLabel(s: ZooModelSpec): string {
  return `${specLabel(s)}, seed ${s.seed ?? 1}`;
}

export interface ZooSettings {
  /** MNIST training images (all ten digits). */
  images: number;
  /** The report's optimiser: Adam, learning rate 0.01 (see ZOO_ADAM), for the VAEs and the DAEs. */
  training: ZooTrainConfig;
  /** The VAEs' KL warm-up (see zooSettings). */
  klWarmupEpochs: number;
  /** The GANs' own data, schedule and stabiliser (see zooSettings). */
  gan: ZooGanSettings;
  /** Every model is trained once per seed... */
  seeds: number[];
  /** ...except the kinds given other seeds here. */
  seedsByKind: Partial<Record<GeneratorKind, number[]>>;
  /** The generator shapes trained as GANs (a subset of ZOO_GENERATORS). */
  ganGenerators: GeneratorOptions[];
  /** Std of the DAE's input corruption. */
  noiseStd: number;
  /** Grid points per axis of the field maps. */
  gridN: number;
  /** Codes (or prior samples) where the "on data" fields are evaluated. */
  codes: number;
}

/**
 * The report trains with Adam at learning rate 0.01 and "betas 0.99 and 0.5". Read as beta1 = 0.99,
 * beta2 = 0.5 the tanh VAEs and DAEs diverge within a few epochs (`betasCheck`); read as torch's
 * betas = (0.5, 0.99), the usual GAN setting, the autoencoders train. We use the latter.
 */
export const ZOO_ADAM = { beta1: 0.5, beta2: 0.99 } as const;
export const ZOO_LEARNING_RATE = 0.01;

export interface ZooGanSettings {
  /** MNIST training images the GANs see (their steps cost the same whatever the set's size). */
  images: number;
  epochs: number;
  learningRate: number;
  adam: { beta1: number; beta2: number };
  /** One-sided label smoothing: D's target for real images (1: none). */
  realLabel: number;
  /** Std of the instance noise on D's inputs (0: none). */
  discriminatorNoise: number;
}

/**
 * The GANs' recipe: the DCGAN optimiser (Radford et al. 2016: Adam at 2e-4, betas (0.5, 0.999)) with
 * one-sided label smoothing (D's target 0.9 for real images; Salimans et al. 2016), a stabiliser that
 * touches only the discriminator, and no instance noise. The report's lr 0.01 collapses every GAN here;
 * the first version of notebook 07 used lr 1e-3 with instance noise 0.3, which blurs what D sees and so
 * may smooth G too.
 */
/**
 * GAN epochs over all 60,000 images on the full profile (4 x 469 = 1,876 steps per GAN), chosen for the
 * time of the full run beside other work on two shared cores (0.2-0.7 s a step under that load).
 */
export const ZOO_GAN_EPOCHS_FULL = 4;

export const ZOO_GAN_RECIPE = { learningRate: 2e-4, adam: { beta1: 0.5, beta2: 0.999 }, realLabel: 0.9, discriminatorNoise: 0 } as const;

/**
 * One departure from the report's recipe for the autoencoders, because the model does not train without
 * it here: the VAEs warm the KL term up over the first quarter of the epochs; without it the sigmoid VAEs
 * switch one latent dimension off (all codes on a line, kappa ~ 1e4 measured on the full profile). The
 * GANs have their own recipe (ZOO_GAN_RECIPE) and data: all 60,000 MNIST training images on the full
 * profile, for `ganEpochs` epochs (a parameter: a user with more time can raise it).
 */
export function zooSettings(
  profile: Profile,
  opts: { seeds?: number[]; seedsByKind?: Partial<Record<GeneratorKind, number[]>>; ganGenerators?: GeneratorOptions[]; ganEpochs?: number; ganImages?: number } = {},
): ZooSettings {
  const full = profile === 'full';
  const epochs = full ? 20 : 6;
  return {
    images: full ? 10000 : 3000,
    training: { epochs, batchSize: 128, learningRate: ZOO_LEARNING_RATE, adam: { ...ZOO_ADAM }, seed: 1 },
    klWarmupEpochs: Math.ceil(epochs / 4),
    gan: { images: opts.ganImages ?? (full ? 60000 : 3000), epochs: opts.ganEpochs ?? (full ? ZOO_GAN_EPOCHS_FULL : 6), ...ZOO_GAN_RECIPE, adam: { ...ZOO_GAN_RECIPE.adam } },
    // The quick profile (CI) keeps one seed: its models are too briefly trained for seeds to say anything.
    seeds: opts.seeds ?? (full ? [1, 2] : [1]),
    // The DAEs' second seed did not fit in the full profile's time beside the GANs (see the notebook).
    seedsByKind: opts.seedsByKind ?? (full ? { dae: [1] } : {}),
    // A 256-64 GAN run took ~65 min under the full run's load (4 x 469 steps): only the 128-32 GANs fit.
    ganGenerators: opts.ganGenerators ?? (full ? ZOO_GENERATORS.filter((g) => g.hidden[0] === 128) : [...ZOO_GENERATORS]),
    noiseStd: 0.3,
    gridN: full ? 80 : 40,
    codes: full ? 2000 : 1000,
  };
}

export interface ZooData {
  /** Pixels in [0, 1], [N, 784]: the autoencoders' training images. */
  x: Float32Array;
  labels: Int32Array;
  /** The GANs' training images [N', 784]. */
  ganX: Float32Array;
  dim: number;
  height: number;
  width: number;
}

export function zooData(settings: ZooSettings): ZooData {
  const set = loadMnist({ split: 'train', scaling: '01', limit: settings.images, seed: 1 });
  const ganX = settings.gan.images === settings.images ? set.images : loadMnist({ split: 'train', scaling: '01', limit: settings.gan.images, seed: 1 }).images;
  return { x: set.images, labels: set.labels, ganX, dim: set.height * set.width, height: set.height, width: set.width };
}

export interface TrainedGenerator {
  spec: ZooModelSpec;
  /** The generator as a deterministic Decoder (the caller disposes it). */
  decoder: GaussianDecoder;
  /** Encoder means of the training data, or prior samples for the GAN: [n, 2]. */
  codes: Float32Array;
  /** The digit of each code; absent for the GAN's prior samples. */
  labels?: Int32Array;
  history: (EpochRecord | ZooEpochRecord)[];
  fromCache: boolean;
}

/** The model's data-side net and generator for `spec`, as the VAE, DAE and GAN configs state them. */
function configs(spec: ZooModelSpec, data: ZooData, settings: ZooSettings) {
  const nets = zooNets(spec.generator);
  const common = { inputDim: data.dim, latentDim: 2, seed: spec.seed ?? 1 };
  return {
    vae: { ...common, encoder: nets.dataSide, decoder: nets.generator, likelihood: 'bernoulli' as const },
    dae: { ...common, encoder: nets.dataSide, decoder: nets.generator, noiseStd: settings.noiseStd },
    gan: { ...common, generator: nets.generator, discriminator: nets.dataSide, discriminatorNoise: settings.gan.discriminatorNoise, realLabel: settings.gan.realLabel },
  };
}

/** Every `stride`-th row index so that at most `max` rows are kept (deterministic). */
export function strideRows(n: number, max: number): number[] {
  const stride = Math.max(1, Math.ceil(n / max));
  return Array.from({ length: Math.ceil(n / stride) }, (_, i) => i * stride);
}

function gatherCodes(codes: Float32Array, labels: Int32Array, max: number): { codes: Float32Array; labels: Int32Array } {
  const rows = strideRows(labels.length, max);
  return { codes: Float32Array.from(rows.flatMap((r) => [codes[2 * r], codes[2 * r + 1]])), labels: Int32Array.from(rows, (r) => labels[r]) };
}

/** Trains (or reloads from the model cache) one model of the zoo and returns its generator and codes. */
export async function trainGenerator(spec: ZooModelSpec, data: ZooData, settings: ZooSettings, opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<TrainedGenerator> {
  const cacheDir = opts.cacheDir ?? path.join(repoRoot(), '.cache', 'models');
  const c = configs(spec, data, settings);
  const cacheOpts = { cacheDir, log: opts.log };
  const training = { ...settings.training, seed: spec.seed ?? 1 };
  const withCodes = (model: Vae | Dae, history: TrainedGenerator['history'], fromCache: boolean): TrainedGenerator => {
    const all = gatherCodes(model.encodeMeans(data.x), data.labels, settings.codes);
    return { spec, decoder: model.decoder(), codes: all.codes, labels: all.labels, history, fromCache };
  };
  if (spec.kind === 'vae') {
    const r = await trainOrLoad({ model: c.vae, training: { ...training, klWarmupEpochs: settings.klWarmupEpochs } }, data.x, cacheOpts);
    try {
      return withCodes(r.vae, r.history, r.fromCache);
    } finally {
      r.vae.dispose();
    }
  }
  if (spec.kind === 'dae') {
    const r = await trainDaeOrLoad(c.dae, training, data.x, cacheOpts);
    try {
      return withCodes(r.model, r.history, r.fromCache);
    } finally {
      r.model.dispose();
    }
  }
  const g = settings.gan;
  const r = await trainGanOrLoad(c.gan, { ...training, epochs: g.epochs, learningRate: g.learningRate, adam: { ...g.adam } }, data.ganX, cacheOpts);
  try {
    const codes = (r.model as Gan).samplePrior(settings.codes, new Rng(2));
    return { spec, decoder: r.model.decoder(), codes, history: r.history, fromCache: r.fromCache };
  } finally {
    r.model.dispose();
  }
}

/** The twelve models, once per seed of the settings, in zooSpecs order. */
export async function trainZoo(data: ZooData, settings: ZooSettings, opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<TrainedGenerator[]> {
  const out: TrainedGenerator[] = [];
  try {
    for (const spec of zooSpecs(settings.seeds, settings.seedsByKind, settings.ganGenerators)) out.push(await trainGenerator(spec, data, settings, opts));
  } catch (err) {
    disposeZoo(out);
    throw err;
  }
  return out;
}

/** Frees the generators' tensors; in a notebook kernel they stay alive so cells can be re-run (util/lifetime.ts). */
export function disposeZoo(models: TrainedGenerator[]): void {
  releaseModels(() => {
    for (const m of models) m.decoder.dispose();
  });
}

/**
 * The report's learning-rate check: trains a VAE with the 'hidden' generator at lr 0.01 for `epochs` with
 * each reading of the report's Adam betas, and returns the loss per epoch (Infinity once it stops being
 * finite). Not cached: it is a few seconds.
 */
export async function betasCheck(data: ZooData, generator: GeneratorOptions, epochs: number): Promise<{ beta1: number; beta2: number; losses: number[] }[]> {
  const nets = zooNets(generator);
  const out: { beta1: number; beta2: number; losses: number[] }[] = [];
  for (const [beta1, beta2] of [
    [0.99, 0.5],
    [0.5, 0.99],
  ]) {
    const vae = new Vae({ inputDim: data.dim, latentDim: 2, encoder: nets.dataSide, decoder: nets.generator, likelihood: 'bernoulli', seed: 1 });
    try {
      const r = await trainVae(vae, data.x, { epochs, batchSize: 128, learningRate: ZOO_LEARNING_RATE, adam: { beta1, beta2 }, seed: 1 }, { progress: false });
      out.push({ beta1, beta2, losses: r.history.map((h) => h.loss) });
    } catch {
      out.push({ beta1, beta2, losses: [Infinity] });
    } finally {
      vae.dispose();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Conditioning fields

/** A type, not an interface, so that rows of it are plain records for tables. */
export type ConditioningSummary = {
  kind: GeneratorKind;
  hidden: string;
  activation: string;
  condition_number_median_on_data: number;
  condition_number_p95_on_data: number;
  log_volume_median_on_data: number;
  log_volume_median_off_data: number;
  condition_number_median_off_data: number;
  /** Grid points counted as off the data. */
  off_data_points: number;
};

export interface ConditioningStudy {
  model: TrainedGenerator;
  grid: LatentGrid;
  /** log det(J^T J) = 2 logVolume at the grid points (row-major, x fastest). */
  logDet: Float64Array;
  /** kappa(J) at the grid points. */
  kappa: Float64Array;
  /** kappa(J) and log volume at the codes ("on the data"). */
  atCodes: { kappa: Float64Array; logVolume: Float64Array };
  /** Grid points off the data. */
  offData: Uint8Array;
  summary: ConditioningSummary;
}

/** Median over the entries where `mask` is set (all entries without a mask). */
function maskedMedian(values: Float64Array, mask?: Uint8Array): number {
  return quantile(mask ? values.filter((_, i) => mask[i] === 1) : values, 0.5);
}

/** The fields of the model's J^T J over a grid around its codes and at the codes. */
export function conditioningStudy(model: TrainedGenerator, gridN: number): ConditioningStudy {
  const metric = meanMetric(model.decoder);
  const grid = gridAround(model.codes, gridN, 0.25);
  const onGrid = fieldsAt(metric, grid.points);
  const atCodes = fieldsAt(metric, model.codes);
  const nn = nearestDistances(model.codes, model.codes, 2, { excludeSelf: true });
  const radius = quantile(nn, 0.99);
  const dist = nearestDistances(grid.points, model.codes, 2);
  const offData = Uint8Array.from(dist, (r) => (r > radius ? 1 : 0));
  const logDet = onGrid.logVolume.map((v) => 2 * v);
  const { kind, generator } = model.spec;
  return {
    model,
    grid,
    logDet,
    kappa: onGrid.conditionNumber,
    atCodes: { kappa: atCodes.conditionNumber, logVolume: atCodes.logVolume },
    offData,
    summary: {
      kind,
      hidden: generator.hidden.join('-'),
      activation: generator.activation,
      condition_number_median_on_data: quantile(atCodes.conditionNumber, 0.5),
      condition_number_p95_on_data: quantile(atCodes.conditionNumber, 0.95),
      log_volume_median_on_data: quantile(atCodes.logVolume, 0.5),
      log_volume_median_off_data: maskedMedian(onGrid.logVolume, offData),
      condition_number_median_off_data: maskedMedian(onGrid.conditionNumber, offData),
      off_data_points: offData.reduce((a, b) => a + b, 0),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Figures

/**
 * Several single-axis figures (latentHeatmap's) as one figure of rows x cols panels, each with its own
 * axes (the latent spaces differ in scale) and its title above it. Only the first panel's colour bar is
 * drawn: callers give every panel the same zRange, so one bar serves all.
 */
export function panelGrid(panels: { title: string; fig: Figure }[], opts: { rows: number; cols: number; title: string; width?: number; height?: number }): Figure {
  const { rows, cols } = opts;
  const gap = { x: 0.03, y: 0.06 };
  const w = (1 - gap.x * (cols - 1)) / cols;
  const h = (1 - 0.03 - gap.y * (rows - 1)) / rows; // 0.03: room for the top row's titles
  const data: Trace[] = [];
  const layout: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  panels.forEach(({ title, fig }, k) => {
    const r = Math.floor(k / cols);
    const c = k % cols;
    const s = k === 0 ? '' : String(k + 1);
    const x0 = c * (w + gap.x);
    const y1 = 1 - 0.03 - r * (h + gap.y);
    for (const t of fig.data) {
      const heat = t.type === 'heatmap';
      data.push({ ...t, xaxis: `x${s}`, yaxis: `y${s}`, showlegend: false, ...(heat ? { showscale: k === 0 } : {}) });
    }
    const src = fig.layout;
    const plain = (a: Axis | undefined): Axis => ({ ...(a ?? {}), title: undefined, automargin: false, tickfont: { size: 10 } });
    layout[`xaxis${s}`] = { ...plain(src.xaxis), domain: [x0, x0 + w], anchor: `y${s}` };
    layout[`yaxis${s}`] = { ...plain(src.yaxis), domain: [y1 - h, y1], anchor: `x${s}`, scaleanchor: `x${s}` };
    annotations.push({ text: title, x: x0 + w / 2, y: y1, xref: 'paper', yref: 'paper', xanchor: 'center', yanchor: 'bottom', showarrow: false, font: { size: 12 } });
  });
  const first = panels[0].fig.layout;
  return {
    data,
    layout: {
      ...first,
      ...layout,
      title: { text: opts.title, x: 0.5, xanchor: 'center' },
      annotations,
      showlegend: false,
      width: opts.width ?? 300 * cols + 120,
      height: opts.height ?? 290 * rows + 90,
      margin: { l: 40, r: 110, t: 70, b: 30 },
    },
  };
}

export type ZooField = 'logDet' | 'kappa';

/** A colour range shared by all panels: the extreme 1st and 99th percentiles of the finite values. */
function sharedRange(values: Float64Array[], positiveOnly: boolean): [number, number] {
  const finite = (v: Float64Array) => v.filter((x) => Number.isFinite(x) && (!positiveOnly || x > 0));
  const lo = Math.min(...values.map((v) => quantile(finite(v), 0.01)));
  const hi = Math.max(...values.map((v) => quantile(finite(v), 0.99)));
  return [lo, hi];
}

/** One panel per model (rows: VAE, DAE, GAN; columns: the four generators) of log det(J^T J) or kappa(J). */
export function zooFieldFigure(studies: ConditioningStudy[], field: ZooField, title: string): Figure {
  const values = studies.map((s) => s[field]);
  const zLog = field === 'kappa';
  const zRange = sharedRange(values, zLog);
  const panels = studies.map((s, i) => ({
    title: specLabel(s.model.spec),
    fig: latentHeatmap({
      xs: s.grid.xs,
      ys: s.grid.ys,
      values: values[i],
      title: '',
      colorbarTitle: field === 'kappa' ? 'κ(J)' : 'log det JᵀJ',
      zLog,
      zRange,
      points: { x: pickAxis(s.model.codes, 0, 400), y: pickAxis(s.model.codes, 1, 400), name: 'codes', markerSize: 3 },
    }),
  }));
  return panelGrid(panels, { rows: ZOO_KINDS.length, cols: ZOO_GENERATORS.length, title });
}

/** Coordinate `axis` of at most `max` of the 2-D points. */
function pickAxis(codes: Float32Array, axis: number, max: number): number[] {
  return strideRows(codes.length / 2, max).map((r) => codes[2 * r + axis]);
}

/**
 * Ten decoded images per model: for the VAE and the DAE the decoded code of the first training image of
 * each digit (a reconstruction), for the GAN ten prior samples. Checks that every model learnt something.
 */
export function zooSamplesFigure(models: TrainedGenerator[], height: number, width: number): Figure {
  const images: Float32Array[] = [];
  for (const m of models) {
    const rows = m.labels ? Array.from({ length: 10 }, (_, digit) => Math.max(0, m.labels!.indexOf(digit))) : Array.from({ length: 10 }, (_, i) => i);
    const z = Float32Array.from(rows.flatMap((r) => [m.codes[2 * r], m.codes[2 * r + 1]]));
    images.push(decodeMeans(m.decoder, z));
  }
  const fig = imageGrid({
    images: concat(images),
    height,
    width,
    cols: 10,
    title: 'Decoded codes: digits 0-9 through each autoencoder, prior samples through each GAN',
    rowLabels: models.map((m) => runLabel(m.spec)),
  });
  // imageGrid leaves 100 px for row labels; "VAE 256-64 sigmoid, seed 1" needs more.
  const extra = 130;
  const margin = fig.layout.margin as { l: number };
  return { ...fig, layout: { ...fig.layout, width: (fig.layout.width ?? 0) + extra, margin: { ...margin, l: margin.l + extra } } };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Training curves: the autoencoders' loss (nats per image), or the GANs' two objectives; one colour per generator shape. */
export function zooTrainingFigure(models: TrainedGenerator[], which: 'autoencoders' | 'gans'): Figure {
  const stat = (h: TrainedGenerator['history'], key: string) => h.map((r) => (r as unknown as Record<string, number>)[key]);
  const color = (m: TrainedGenerator) => categoryColor(ZOO_GENERATORS.findIndex((g) => generatorLabel(g) === generatorLabel(m.spec.generator)));
  const epochs = (m: TrainedGenerator) => m.history.map((r) => r.epoch);
  const series: Series[] =
    which === 'autoencoders'
      ? models
          .filter((m) => m.spec.kind !== 'gan')
          .map((m) => ({ name: runLabel(m.spec), x: epochs(m), y: stat(m.history, 'loss'), color: color(m), dash: m.spec.kind === 'dae' ? 'dash' : 'solid' }))
      : models
          .filter((m) => m.spec.kind === 'gan')
          .flatMap((m) => [
            { name: `${generatorLabel(m.spec.generator)} s${m.spec.seed ?? 1}: D`, x: epochs(m), y: stat(m.history, 'd_loss'), color: color(m), dash: (m.spec.seed ?? 1) === 1 ? 'solid' : 'dot' },
            { name: `${generatorLabel(m.spec.generator)} s${m.spec.seed ?? 1}: G`, x: epochs(m), y: stat(m.history, 'g_loss'), color: color(m), dash: 'dash' },
          ]);
  return lineChart({
    series,
    title: which === 'autoencoders' ? 'Training loss: VAE (negative ELBO, solid) and DAE (cross-entropy, dashed)' : 'GAN training: discriminator (solid) and generator (dashed) objectives',
    xTitle: 'epoch',
    yTitle: which === 'autoencoders' ? 'nats per image' : 'loss',
    markers: models.every((m) => m.history.length <= 30),
  });
}
