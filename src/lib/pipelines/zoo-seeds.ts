/**
 * Notebook 07 over seeds: every model of the zoo trained once per seed, a collapse check on each run
 * (../evaluation/collapse.ts), the kappa percentiles of each run, and the comparison of the kinds (VAE,
 * DAE, GAN) over the runs that did not collapse, with its spread over seeds and shapes.
 *
 * The collapse check looks at the images decoded at the codes where "on the data" kappa is measured (a
 * GAN's prior samples, an autoencoder's encoded training images): a collapsed generator has a tiny kappa
 * (it barely depends on z at all), which would read as "well conditioned"; its run is a failed training,
 * not a data point, and is counted, never dropped silently.
 */
import * as path from 'node:path';
import { loadMnist } from '../data/mnist';
import { decodeMeans } from '../models/decoder-fields';
import { quantile } from '../geometry/support';
import { ImageClassifier, trainOrLoadClassifier } from '../evaluation/classifier';
import { COLLAPSE_THRESHOLDS, CollapseCheck, collapseCheck, meanPairwiseDistance } from '../evaluation/collapse';
import { repoRoot } from '../notebook/env';
import { ConditioningStudy, GeneratorKind, TrainedGenerator, ZOO_KINDS, ZooData, strideRows } from './zoo-study';

/**
 * The MNIST classifier of the collapse check: notebook 10's network trained for 2 epochs on all 60,000
 * training images (~97.5% test accuracy, ~1 min on one core), on both profiles: counting which digits a
 * generator draws needs no more, and the full 12-epoch training would cost more than a GAN run here.
 */
export async function zooClassifier(opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<{ classifier: ImageClassifier; testAccuracy: number }> {
  const train = loadMnist({ split: 'train', scaling: '01' });
  const cacheDir = opts.cacheDir ?? path.join(repoRoot(), '.cache', 'models');
  const { classifier } = await trainOrLoadClassifier(train.images, train.labels, { epochs: 2 }, { height: 28, width: 28, cacheDir, log: opts.log ?? (() => {}), progress: false });
  const test = loadMnist({ split: 'test', scaling: '01' });
  return { classifier, testAccuracy: classifier.accuracy(test.images, test.labels) };
}

/** Rows `rows` of x [N, D]. */
function pickRows(x: Float32Array, dim: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(x.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

/**
 * The collapse check of every run: at most `maxImages` of its codes decoded, against as many of the
 * autoencoders' training images.
 */
export function zooCollapseChecks(models: TrainedGenerator[], data: ZooData, classifier: ImageClassifier, maxImages = 1000): CollapseCheck[] {
  const spread = meanPairwiseDistance(pickRows(data.x, data.dim, strideRows(data.x.length / data.dim, maxImages)), data.dim);
  return models.map((m) => {
    const codes = pickRows(m.codes, 2, strideRows(m.codes.length / 2, maxImages));
    return collapseCheck(decodeMeans(m.decoder, codes), spread, data.dim, classifier);
  });
}

export const KAPPA_PERCENTILES = [5, 25, 50, 75, 95] as const;

/** One run: a model, a seed, its collapse check and its fields' summary. A type, so rows are plain records. */
export type ZooRunRow = {
  kind: GeneratorKind;
  hidden: string;
  activation: string;
  seed: number;
  collapsed: boolean;
  diversity_ratio: number;
  classes_covered: number;
  class_entropy_bits: number;
  kappa_p5: number;
  kappa_p25: number;
  kappa_p50: number;
  kappa_p75: number;
  kappa_p95: number;
  log_volume_median_on_data: number;
  log_volume_median_off_data: number;
  kappa_median_off_data: number;
};

export function zooRunRows(studies: ConditioningStudy[], checks: CollapseCheck[]): ZooRunRow[] {
  return studies.map((s, i) => {
    const { kind, hidden, activation } = s.summary;
    const c = checks[i];
    const kappa = Object.fromEntries(KAPPA_PERCENTILES.map((p) => [`kappa_p${p}`, quantile(s.atCodes.kappa, p / 100)])) as Pick<ZooRunRow, 'kappa_p5' | 'kappa_p25' | 'kappa_p50' | 'kappa_p75' | 'kappa_p95'>;
    return {
      kind,
      hidden,
      activation,
      seed: s.model.spec.seed ?? 1,
      collapsed: c.collapsed,
      diversity_ratio: c.diversity_ratio,
      classes_covered: c.classes_covered,
      class_entropy_bits: c.class_entropy_bits,
      ...kappa,
      log_volume_median_on_data: s.summary.log_volume_median_on_data,
      log_volume_median_off_data: s.summary.log_volume_median_off_data,
      kappa_median_off_data: s.summary.condition_number_median_off_data,
    };
  });
}

/** results.json's `models`: one entry per model, `collapsed` if any of its runs collapsed, and each seed's numbers. */
export function zooModelEntries(rows: ZooRunRow[]) {
  const keys = [...new Set(rows.map((r) => `${r.kind} ${r.hidden} ${r.activation}`))];
  return keys.map((key) => {
    const runs = rows.filter((r) => `${r.kind} ${r.hidden} ${r.activation}` === key);
    const { kind, hidden, activation } = runs[0];
    const collapsedRuns = runs.filter((r) => r.collapsed).length;
    return {
      kind,
      hidden,
      activation,
      collapsed: collapsedRuns > 0,
      collapsed_runs: `${collapsedRuns} of ${runs.length}`,
      seeds: runs.map((r) => ({
        seed: r.seed,
        collapsed: r.collapsed,
        collapse_check: { diversity_ratio: r.diversity_ratio, classes_covered: r.classes_covered, class_entropy_bits: r.class_entropy_bits },
        condition_number_on_data: Object.fromEntries(KAPPA_PERCENTILES.map((p) => [`p${p}`, r[`kappa_p${p}`]])),
        log_volume_median_on_data: r.log_volume_median_on_data,
        log_volume_median_off_data: r.log_volume_median_off_data,
        condition_number_median_off_data: r.kappa_median_off_data,
      })),
    };
  });
}

/** Min, median and max of values (NaN for none). */
function spread(values: number[]): { min: number; median: number; max: number } {
  if (values.length === 0) return { min: NaN, median: NaN, max: NaN };
  return { min: Math.min(...values), median: quantile(Float64Array.from(values), 0.5), max: Math.max(...values) };
}

export type ZooKindRow = {
  kind: GeneratorKind;
  runs: number;
  collapsed_runs: number;
  kappa_p50_min: number;
  kappa_p50_median: number;
  kappa_p50_max: number;
  kappa_p95_min: number;
  kappa_p95_median: number;
  kappa_p95_max: number;
};

/**
 * The report's comparison: per kind, the spread of the median and the 95th percentile of kappa on the
 * data over its runs (shapes x seeds) that did not collapse; collapsed runs are counted apart.
 */
export function zooKindComparison(rows: ZooRunRow[]): ZooKindRow[] {
  return ZOO_KINDS.map((kind) => {
    const all = rows.filter((r) => r.kind === kind);
    const ok = all.filter((r) => !r.collapsed);
    const p50 = spread(ok.map((r) => r.kappa_p50));
    const p95 = spread(ok.map((r) => r.kappa_p95));
    return {
      kind,
      runs: all.length,
      collapsed_runs: all.length - ok.length,
      kappa_p50_min: p50.min,
      kappa_p50_median: p50.median,
      kappa_p50_max: p50.max,
      kappa_p95_min: p95.min,
      kappa_p95_median: p95.median,
      kappa_p95_max: p95.max,
    };
  });
}

/** What the check counts as collapsed, for results.json. */
export function collapseCheckDefinition(maxImages = 1000) {
  return {
    images: `the decoded codes where kappa is measured on the data (GAN: prior samples; VAE, DAE: encoded training images), at most ${maxImages}`,
    diversity_ratio: 'mean pairwise Euclidean distance of the decoded images over that of as many training images',
    classes_covered: `digits that the MNIST classifier assigns to at least ${COLLAPSE_THRESHOLDS.minShare * 100}% of the decoded images`,
    collapsed_if: `diversity_ratio < ${COLLAPSE_THRESHOLDS.minDiversityRatio} or classes_covered < ${COLLAPSE_THRESHOLDS.minClassesCovered}`,
  };
}
