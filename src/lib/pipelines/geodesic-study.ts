/**
 * Geodesic studies of Latent Space Oddity (section 5): geodesics against straight lines between latent
 * codes (notebook 03: lengths and decoded interpolations), and k-medoids clustering of latent codes with
 * Euclidean and geodesic distances (notebook 04: F-measure and accuracy against the labels). The metric is
 * the expected metric of the VAE with the RBF precision net; everything here takes a Metric and plain
 * arrays, so the same functions run on the closed-form reference metrics in the tests.
 *
 * Lengths are always compared under one quadrature: the solver's own length, sum_i |f(c_{i+1}) - f(c_i)|,
 * is a lower bound that a coarse curve can undercut where the decoder bends between two curve points, so
 * geodesics and straight lines are both re-measured with every segment cut into many straight pieces.
 */
import { loadMnist } from '../data/mnist';
import { balancedSubset } from '../data/subsets';
import type { GaussianDecoder } from '../models/decoder';
import { decodeMeans } from '../models/decoder-fields';
import type { Metric } from '../geometry/metric';
import { CurveBatch, arcLengthReparametrize, curveBatch, curveLengths, straightLines } from '../geometry/curves';
import { GeodesicOptions, connectingGeodesics } from '../geometry/geodesics';
import { LatentGraph, codeGraph, graphInitialCurves } from '../geometry/graph';
import { DistanceMatrixOptions, geodesicDistanceMatrix } from '../geometry/distances';
import { LatentGrid } from '../geometry/fields';
import { euclideanDistanceMatrix } from '../geometry/support';
import { kmedoids } from '../stats/kmeans';
import { GraphDistanceOptions, graphDistanceMatrix } from '../geometry/graph-distances';
import { pairedDifference } from '../stats/paired';
import { ClusteringScores, alignClustersToClasses, clusteringScores } from '../stats/clustering-metrics';
import { latentHeatmap, type ClassPoints, type Curve } from '../plots/fields';
import { imageStrip } from '../plots/images';
import type { Figure, Trace } from '../plots/types';
import type { Profile } from '../notebook/env';
import { Rng } from '../util/rng';
import { DatasetSettings, LsoModels, lsoDatasetSettings, lsoModelsFrom } from './lso';
import { mean, meanStd } from '../numerics/statistics';

// ---------------------------------------------------------------------------------------------------------
// Pairs of codes and the graph that initialises geodesics

/** Index pairs into the codes: pair b joins code i[b] to code j[b]; across[b] = 1 when their labels differ. */
export interface CodePairs {
  i: Int32Array;
  j: Int32Array;
  across: Uint8Array;
}

/**
 * `within` seeded pairs of distinct codes of one class (a class drawn with its frequency) and `across`
 * pairs whose classes differ, within-class pairs first.
 */
export function chooseCodePairs(labels: ArrayLike<number>, within: number, across: number, seed: number): CodePairs {
  const n = labels.length;
  const rng = new Rng(seed);
  const i: number[] = [];
  const j: number[] = [];
  const draw = (same: boolean, count: number) => {
    for (let made = 0, tries = 0; made < count; tries++) {
      if (tries > 1000 * (count + 1)) throw new RangeError(`chooseCodePairs: cannot find ${count} ${same ? 'within' : 'across'}-class pairs among ${n} labels`);
      const [a, b] = [rng.int(n), rng.int(n)];
      if (a === b || (labels[a] === labels[b]) !== same) continue;
      i.push(a);
      j.push(b);
      made++;
    }
  };
  draw(true, within);
  draw(false, across);
  return { i: Int32Array.from(i), j: Int32Array.from(j), across: Uint8Array.from(i, (a, q) => (labels[a] !== labels[j[q]] ? 1 : 0)) };
}

/** The end points of the pairs: [B, d] each, float64. */
export function pairEnds(codes: ArrayLike<number>, d: number, pairs: Pick<CodePairs, 'i' | 'j'>): { p0: Float64Array; p1: Float64Array } {
  const take = (idx: Int32Array) => {
    const out = new Float64Array(idx.length * d);
    idx.forEach((c, b) => {
      for (let k = 0; k < d; k++) out[b * d + k] = codes[c * d + k];
    });
    return out;
  };
  return { p0: take(pairs.i), p1: take(pairs.j) };
}

export interface StudyGraphOptions {
  /** k-means centres of the codes used as nodes (default 64). */
  centers?: number;
  /** Nodes of a regular grid around the codes, per side (default 12; 0 for none). */
  gridN?: number;
  /** k of the k-NN edges (default 8). */
  neighbors?: number;
  seed?: number;
}

/**
 * A graph whose shortest paths start geodesics that a straight line would start in the wrong valley:
 * nodes at k-means centres of the 2-D codes follow the data, and a coarse grid around them keeps the graph
 * connected across the gaps between classes (its edges there are long, as they should be).
 */
export function studyGraph(metric: Metric, codes: Float32Array, opts: StudyGraphOptions = {}): LatentGraph {
  return codeGraph(metric, codes, { centers: opts.centers ?? 64, seed: opts.seed ?? 1, gridN: opts.gridN ?? 12, gridPad: 0.3, neighbors: opts.neighbors ?? 8 });
}

// ---------------------------------------------------------------------------------------------------------
// Notebook 03: geodesics against straight lines

export interface CurveComparisonOptions extends Omit<GeodesicOptions, 'init'> {
  /** Straight pieces per curve segment when lengths are measured (default 16). */
  quadrature?: number;
  /** Re-solve from shortest paths of this graph the pairs whose straight-line start failed. */
  graph?: LatentGraph;
}

export interface CurveComparison {
  /** [B, T, d]: the best geodesic found for each pair (end points exact). */
  geodesics: CurveBatch;
  /** [B, T, d] */
  straight: CurveBatch;
  /** Riemannian lengths under the fine quadrature: [B]. */
  geodesicLength: Float64Array;
  straightLength: Float64Array;
  /** geodesicLength / straightLength: [B]. */
  ratio: Float64Array;
  /** The solver's discrete length of the kept geodesic (for a pull-back, a lower bound of geodesicLength): [B]. */
  solverLength: Float64Array;
  converged: boolean[];
  /** Which start the kept geodesic came from. */
  init: ('straight' | 'graph')[];
  /** Pairs re-solved from the graph (the straight-line start failed for them). */
  retried: number;
  seconds: number;
}

/**
 * Geodesics between p0[b] and p1[b] ([B, d] each) and the straight lines between the same points, both
 * measured under the same metric and quadrature. A straight-line start fails when its solve does not
 * converge or ends less than 0.1% shorter than the straight line (a local minimum, the line itself on a
 * symmetric ridge, or a coarse curve that cuts through a bend of the decoder); those pairs are re-solved
 * from graph paths when a graph is given, and the shorter curve is kept. Unconverged curves stay in the
 * result, flagged.
 */
export function compareWithStraightLines(metric: Metric, p0: Float64Array, p1: Float64Array, opts: CurveComparisonOptions = {}): CurveComparison {
  const t0 = performance.now();
  const { quadrature = 16, graph, ...solver } = opts;
  const d = metric.dim;
  const measure = (c: CurveBatch) => curveLengths(metric, c, { subdivisions: quadrature });
  const first = connectingGeodesics(metric, p0, p1, solver);
  const points = first.curves.points;
  const straight = straightLines(p0, p1, d, points);
  const straightLength = measure(straight);
  const geodesicLength = measure(first.curves);
  const geodesics = curveBatch(first.curves.count, points, d, Float64Array.from(first.curves.data));
  const solverLength = Float64Array.from(first.lengths);
  const converged = [...first.converged];
  const init: ('straight' | 'graph')[] = converged.map(() => 'straight');
  const failed = converged.flatMap((ok, b) => (!ok || geodesicLength[b] >= (1 - 1e-3) * straightLength[b] ? [b] : []));
  if (graph && failed.length > 0) {
    const [q0, q1] = [pickRows(p0, d, failed), pickRows(p1, d, failed)];
    const again = connectingGeodesics(metric, q0, q1, { ...solver, points, init: graphInitialCurves(metric, graph, q0, q1, points) });
    const againLength = measure(again.curves);
    failed.forEach((b, q) => {
      if (!(againLength[q] < geodesicLength[b])) return;
      geodesics.data.set(again.curves.data.subarray(q * points * d, (q + 1) * points * d), b * points * d);
      geodesicLength[b] = againLength[q];
      solverLength[b] = again.lengths[q];
      converged[b] = again.converged[q];
      init[b] = 'graph';
    });
  }
  return {
    geodesics,
    straight,
    geodesicLength,
    straightLength,
    ratio: geodesicLength.map((g, b) => g / straightLength[b]),
    solverLength,
    converged,
    init,
    retried: graph ? failed.length : 0,
    seconds: (performance.now() - t0) / 1000,
  };
}

function pickRows(a: Float64Array, d: number, rows: number[]): Float64Array {
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, q) => out.set(a.subarray(r * d, (r + 1) * d), q * d));
  return out;
}

/** Mean, min and max of the length ratios (the results.json summary). */
export function ratioSummary(ratio: ArrayLike<number>): { mean: number; min: number; max: number; pairs: number } {
  const v = Array.from(ratio);
  return { mean: mean(v), min: Math.min(...v), max: Math.max(...v), pairs: v.length };
}

/** One row per pair for the lengths table (short keys: the table figure sizes its rows for one line each). */
export function lengthRows(cmp: CurveComparison, pairs: CodePairs, labels: ArrayLike<number>, classNames?: string[]): Record<string, unknown>[] {
  const name = (c: number) => classNames?.[labels[c]] ?? String(labels[c]);
  return Array.from(pairs.i, (a, b) => ({
    pair: b + 1,
    from: name(a),
    to: name(pairs.j[b]),
    kind: pairs.across[b] ? 'across' : 'within',
    geodesic: cmp.geodesicLength[b],
    straight: cmp.straightLength[b],
    ratio: cmp.ratio[b],
    converged: cmp.converged[b],
    start: cmp.init[b],
    solver: cmp.solverLength[b],
  }));
}

/** Curve b of a batch as a plot curve. */
function plotCurve(c: CurveBatch, b: number, style: Omit<Curve, 'x' | 'y'>): Curve {
  const x: number[] = [];
  const y: number[] = [];
  for (let q = 0; q < c.points; q++) {
    x.push(c.data[(b * c.points + q) * c.dim]);
    y.push(c.data[(b * c.points + q) * c.dim + 1]);
  }
  return { x, y, ...style };
}

/** One legend entry per kind of curve, however many curves of that kind a figure draws. */
function groupLegend(fig: Figure, names: string[]): Figure {
  const seen = new Set<string>();
  const data = fig.data.map((tr: Trace) => {
    const name = tr.name ?? '';
    if (!names.includes(name)) return tr;
    const first = !seen.has(name);
    seen.add(name);
    return { ...tr, legendgroup: name, showlegend: first };
  });
  return { ...fig, data };
}

const GEODESIC_STYLE = { name: 'geodesic', color: '#D55E00', width: 2.5, dash: 'solid' };
const STRAIGHT_STYLE = { name: 'straight line', color: '#FFFFFF', width: 1.5, dash: 'dash' };
/** Per-pair colours when a few pairs are drawn: readable over viridis and apart from the classes' colours. */
const PAIR_COLORS = ['#D55E00', '#FFFFFF', '#CC79A7', '#000000'];

/**
 * The field (e.g. the magnification factor, log-coloured) with the codes and the geodesics (solid) and
 * straight lines (dashed): of every pair in one colour each kind, or of the few pairs `which` (numbered
 * from 1 in the legend, as in the lengths table) in one colour per pair.
 */
export function curvesOverField(grid: LatentGrid, values: ArrayLike<number>, points: ClassPoints, cmp: CurveComparison, title: string, which?: number[]): Figure {
  const curves = which
    ? which.flatMap((b, q) => {
        const color = PAIR_COLORS[q % PAIR_COLORS.length];
        return [
          plotCurve(cmp.straight, b, { ...STRAIGHT_STYLE, color, name: `pair ${b + 1}: straight line` }),
          plotCurve(cmp.geodesics, b, { ...GEODESIC_STYLE, color, name: `pair ${b + 1}: geodesic` }),
        ];
      })
    : Array.from({ length: cmp.geodesics.count }, (_, b) => [plotCurve(cmp.straight, b, STRAIGHT_STYLE), plotCurve(cmp.geodesics, b, GEODESIC_STYLE)]).flat();
  const fig = latentHeatmap({ xs: grid.xs, ys: grid.ys, values: Float64Array.from(values), title, colorbarTitle: '√det M', zLog: true, points: { ...points, markerSize: 4 }, curves });
  // A grey legend box, so that the white curves show in the legend too.
  const legend = { ...(fig.layout.legend as object), bgcolor: '#D9D9D9' };
  const withLegend = { ...fig, layout: { ...fig.layout, legend } };
  return which ? withLegend : groupLegend(withLegend, [GEODESIC_STYLE.name, STRAIGHT_STYLE.name]);
}

/**
 * Pairs worth decoding: across classes the one the geodesic shortens most and the median one, within a
 * class the one it shortens most (indices into the pairs).
 */
export function examplePairs(cmp: CurveComparison, pairs: CodePairs): number[] {
  const byRatio = (across: number) =>
    Array.from(pairs.across.keys())
      .filter((b) => pairs.across[b] === across)
      .sort((a, b) => cmp.ratio[a] - cmp.ratio[b]);
  const [across, within] = [byRatio(1), byRatio(0)];
  const picks = [across[0], across[Math.floor(across.length / 2)], within[0]].filter((b) => b !== undefined);
  return [...new Set(picks)];
}

/** The numbers of results.json: the ratio summary over all pairs (the key), per kind, convergence. */
export function interpolationResults(cmp: CurveComparison, pairs: CodePairs): Record<string, unknown> {
  const of = (across: number) => cmp.ratio.filter((_, b) => pairs.across[b] === across);
  const unconverged = cmp.converged.flatMap((ok, b) => (ok ? [] : [b + 1]));
  return {
    length_ratio_geodesic_over_linear: ratioSummary(cmp.ratio),
    length_ratio_within_class: ratioSummary(of(0)),
    length_ratio_across_classes: ratioSummary(of(1)),
    pairs_longer_than_line: cmp.ratio.filter((r) => r > 1).length,
    unconverged_pairs: unconverged,
    graph_restarts: cmp.retried,
    kept_from_graph: cmp.init.filter((s) => s === 'graph').length,
    curve_points: cmp.geodesics.points,
    solve_seconds: cmp.seconds,
  };
}

/**
 * Decoded frames at equal Riemannian arc length along the geodesic and the straight line of each pair in
 * `which`: rows geodesic, straight line, geodesic, ... as one flat [2 |which| frames, D] array.
 */
export function interpolationImages(decoder: GaussianDecoder, metric: Metric, cmp: CurveComparison, which: number[], frames: number, quadrature = 16): Float32Array {
  const { points, dim: d } = cmp.geodesics;
  const both = curveBatch(2 * which.length, points, d);
  which.forEach((b, q) => {
    both.data.set(cmp.geodesics.data.subarray(b * points * d, (b + 1) * points * d), 2 * q * points * d);
    both.data.set(cmp.straight.data.subarray(b * points * d, (b + 1) * points * d), (2 * q + 1) * points * d);
  });
  const even = arcLengthReparametrize(metric, both, frames, { subdivisions: quadrature }).curves;
  return decodeMeans(decoder, Float32Array.from(even.data));
}

/** The interpolation strips of a few pairs: a geodesic row and a straight-line row per pair. */
export function interpolationStrip(decoder: GaussianDecoder, metric: Metric, cmp: CurveComparison, which: number[], frames: number, title: string): Figure {
  const side = Math.round(Math.sqrt(decoder.outputDim));
  return imageStrip({
    images: interpolationImages(decoder, metric, cmp, which, frames),
    height: side,
    width: side,
    n: frames,
    title,
    rowLabels: which.flatMap((b) => [`${b + 1}: geodesic`, `${b + 1}: straight line`]),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Notebook 04: clustering with Euclidean and geodesic distances

/** The digits of the clustering study (three classes, as in the paper's MNIST clustering). */
export const CLUSTER_DIGITS = [0, 1, 2] as const;

/**
 * MNIST digits 0, 1, 2 with the architecture and training of lso.ts's 'mnist01'; the full profile keeps
 * 9000 images (not all 18,600) so that training stays within a few minutes on two cores, and the quick
 * profile trains longer than mnist01's 8 epochs, whose metric is too rough for geodesics to settle.
 */
export function mnist012Settings(): DatasetSettings {
  const base = lsoDatasetSettings('mnist01');
  return {
    ...base,
    load: (profile) => {
      const set = loadMnist({ split: 'train', scaling: '01', classes: [...CLUSTER_DIGITS], limit: profile === 'full' ? 9000 : 3000, seed: 1 });
      return { x: set.images, labels: set.labels, classNames: CLUSTER_DIGITS.map((c) => `digit ${c}`), dim: set.height * set.width };
    },
    training: (profile) => ({ ...base.training(profile), ...(profile === 'quick' ? { epochs: 20, klWarmupEpochs: 4 } : {}) }),
  };
}

/** The VAE with standard and RBF decoders on MNIST {0, 1, 2} (from the model cache when unchanged). */
export function clusteringModels(profile: Profile, opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<LsoModels> {
  return lsoModelsFrom('mnist012', mnist012Settings(), profile, opts);
}

/** A subset of the codes: `perClass` seeded codes of every class. */
export function codeSubset(codes: Float32Array, labels: Int32Array, perClass: number, seed: number): { codes: Float32Array; labels: Int32Array } {
  const s = balancedSubset({ x: codes, y: labels, n: labels.length, dim: 2 }, perClass, seed);
  return { codes: s.x, labels: s.y! };
}

export interface ClusteringRun {
  seed: number;
  codes: Float32Array;
  labels: Int32Array;
  euclidean: ClusterResult;
  riemannian: ClusterResult;
  /** How the geodesic distances were measured. */
  method: ClusteringDistanceMethod;
  /** Geodesic distance pairs that did not converge (their distance is the best curve found; 0 for 'graph'). */
  unconverged: number;
  pairs: number;
  seconds: number;
  /** 'graph': the k that made the k-NN graph of the codes connected. */
  graphNeighbors?: number;
  /** 'graph': the run's [N, N] geodesic distances, kept for the check against boundary value solves. */
  distances?: Float64Array;
}

/**
 * 'graph' (default): shortest paths in the k-NN graph of the codes with finely measured Riemannian edge
 * lengths (geometry/graph-distances.ts), hundreds of codes in seconds; 'geodesics': one boundary value
 * solve per pair (N(N-1)/2 solves, started on studyGraph paths), the distances of the first version.
 */
export type ClusteringDistanceMethod = 'graph' | 'geodesics';

export interface ClusterResult {
  assignments: Int32Array;
  /** Indices (into the run's codes) of the medoids. */
  medoids: Int32Array;
  scores: ClusteringScores;
}

export interface ClusteringRunOptions {
  k: number;
  perClass: number;
  seed: number;
  restarts?: number;
  geodesic?: Omit<DistanceMatrixOptions, 'graph'>;
  graph?: LatentGraph;
  method?: ClusteringDistanceMethod;
  graphDistance?: GraphDistanceOptions;
}

/**
 * One seed of the clustering study: a class-balanced subset of the codes, its Euclidean and geodesic
 * distance matrices, k-medoids on each (seeded restarts), and both scored against the labels.
 */
export function clusteringRun(metric: Metric, codes: Float32Array, labels: Int32Array, opts: ClusteringRunOptions): ClusteringRun {
  const sub = codeSubset(codes, labels, opts.perClass, opts.seed);
  const method = opts.method ?? 'graph';
  const geo =
    method === 'graph'
      ? (() => {
          const g = graphDistanceMatrix(metric, sub.codes, opts.graphDistance);
          return { n: g.n, distances: g.distances, unconverged: 0, seconds: g.seconds, graphNeighbors: g.neighbors };
        })()
      : { ...geodesicDistanceMatrix(metric, sub.codes, { ...opts.geodesic, graph: opts.graph }), graphNeighbors: undefined };
  const cluster = (dist: Float32Array | Float64Array): ClusterResult => {
    const res = kmedoids(dist, opts.k, { seed: opts.seed, restarts: opts.restarts ?? 8 });
    return { assignments: res.assignments, medoids: res.medoids, scores: clusteringScores(sub.labels, res.assignments) };
  };
  return {
    seed: opts.seed,
    ...sub,
    euclidean: cluster(euclideanDistanceMatrix(sub.codes, 2)),
    riemannian: cluster(geo.distances),
    method,
    unconverged: geo.unconverged,
    pairs: (geo.n * (geo.n - 1)) / 2,
    seconds: geo.seconds,
    ...(method === 'graph' ? { graphNeighbors: geo.graphNeighbors, distances: geo.distances } : {}),
  };
}

export interface ClusteringStudyOptions {
  k: number;
  perClass: number;
  seeds: number[];
  /** Points per geodesic (default 16). */
  points?: number;
  maxIter?: number;
  restarts?: number;
  method?: ClusteringDistanceMethod;
  graphDistance?: GraphDistanceOptions;
  log?: (line: string) => void;
}

/** clusteringRun for every seed ('geodesics': started from one studyGraph of all the codes). */
export function clusteringStudy(metric: Metric, codes: Float32Array, labels: Int32Array, opts: ClusteringStudyOptions): ClusteringRun[] {
  const method = opts.method ?? 'graph';
  const graph = method === 'geodesics' ? studyGraph(metric, codes) : undefined;
  return opts.seeds.map((seed) => {
    const run = clusteringRun(metric, codes, labels, {
      k: opts.k,
      perClass: opts.perClass,
      seed,
      restarts: opts.restarts,
      graph,
      method,
      graphDistance: opts.graphDistance,
      geodesic: { points: opts.points ?? 16, maxIter: opts.maxIter, progress: false },
    });
    const f = (w: 'euclidean' | 'riemannian') => run[w].scores.fMeasure.toFixed(3);
    const how =
      method === 'graph'
        ? `${run.labels.length} codes, k-NN graph (k = ${run.graphNeighbors}) distances in ${run.seconds.toFixed(1)} s`
        : `${run.pairs} geodesics in ${run.seconds.toFixed(1)} s (${((1000 * run.seconds) / run.pairs).toFixed(0)} ms each, ${run.unconverged} unconverged)`;
    opts.log?.(`seed ${seed}: ${how}; F-measure Euclidean ${f('euclidean')}, geodesic ${f('riemannian')}`);
    return run;
  });
}

/** The numbers of results.json: means over seeds under the keys, per-seed values and stds beside. */
export function clusteringSummary(runs: ClusteringRun[]): Record<string, unknown> {
  const per = (key: 'fMeasure' | 'accuracy', which: 'euclidean' | 'riemannian') => runs.map((r) => r[which].scores[key]);
  const block = (key: 'fMeasure' | 'accuracy') => {
    const [e, r] = [meanStd(per(key, 'euclidean')), meanStd(per(key, 'riemannian'))];
    return {
      summary: { euclidean: e.mean, riemannian: r.mean },
      detail: { euclidean: { ...e, per_seed: per(key, 'euclidean') }, riemannian: { ...r, per_seed: per(key, 'riemannian') } },
    };
  };
  const [f, a] = [block('fMeasure'), block('accuracy')];
  const diff = pairedDifference(per('fMeasure', 'euclidean'), per('fMeasure', 'riemannian'));
  return {
    f_measure: f.summary,
    f_measure_paired_difference: {
      mean: diff.mean,
      ci95: diff.ci95,
      seeds: diff.seeds,
      sd: diff.sd,
      geodesic_better_on: diff.wins,
      euclidean_better_on: diff.losses,
      per_seed: diff.perSeed,
      interval: 'geodesic minus Euclidean F-measure; 95% Student t-interval over seeds (df = seeds - 1)',
    },
    accuracy: a.summary,
    f_measure_detail: f.detail,
    accuracy_detail: a.detail,
    seeds: runs.map((r) => r.seed),
    codes_per_seed: runs[0]?.labels.length,
    distance_method: runs[0]?.method,
    ...(runs[0]?.method === 'graph'
      ? { graph_neighbors: runs.map((r) => r.graphNeighbors), distance_seconds: runs.map((r) => r.seconds) }
      : {
          geodesic_pairs_per_seed: runs[0]?.pairs,
          geodesic_unconverged: runs.map((r) => r.unconverged),
          geodesic_seconds: runs.map((r) => r.seconds),
          geodesic_ms_per_pair: mean(runs.map((r) => (1000 * r.seconds) / r.pairs)),
        }),
  };
}

/** One row per seed and distance for the scores table. */
export function clusteringRows(runs: ClusteringRun[]): Record<string, unknown>[] {
  return runs.flatMap((r) =>
    (['euclidean', 'riemannian'] as const).map((which) => ({
      seed: r.seed,
      distance: which,
      f_measure: r[which].scores.fMeasure,
      accuracy: r[which].scores.accuracy,
      geodesic_unconverged: which === 'riemannian' ? r.unconverged : 0,
    })),
  );
}

/** The confusion matrix as table rows: one row per class, one column per cluster (named by its matched class). */
export function confusionRows(scores: ClusteringScores, classNames: string[]): Record<string, unknown>[] {
  const { classes, clusters, counts } = scores.confusion;
  const matchedTo = new Map<number, number>();
  scores.matching.forEach((k, r) => k >= 0 && matchedTo.set(k, r));
  const column = (k: number) => (matchedTo.has(k) ? `cluster ~ ${classNames[classes[matchedTo.get(k)!]]}` : `cluster ${clusters[k]}`);
  // Matched clusters in class order first, so that the diagonal holds the agreements.
  const order = [...scores.matching.filter((k) => k >= 0), ...clusters.map((_, k) => k).filter((k) => !matchedTo.has(k))];
  return classes.map((c, r) => ({
    class: classNames[c] ?? String(c),
    ...Object.fromEntries(order.map((k) => [column(k), counts[r * clusters.length + k]])),
  }));
}

/**
 * Scores of all runs pooled: every run's clusters renamed after their matched classes, then one confusion
 * matrix over all the runs' codes (rows classes, columns the clusters matched to them).
 */
export function pooledScores(runs: ClusteringRun[], which: 'euclidean' | 'riemannian'): ClusteringScores {
  const labels = runs.flatMap((r) => Array.from(r.labels));
  const clusters = runs.flatMap((r) => Array.from(alignClustersToClasses(r[which].assignments, r[which].scores)));
  return clusteringScores(labels, clusters);
}

/**
 * The field with one run's codes coloured by their cluster (clusters renamed after their matched class, so
 * the colours agree with the classes where the clustering does), the codes whose cluster is matched to
 * another class crossed out, and the medoids as stars.
 */
export function clusterFigure(grid: LatentGrid, values: ArrayLike<number>, run: ClusteringRun, which: 'euclidean' | 'riemannian', classNames: string[], title: string): Figure {
  const res = run[which];
  const labels = alignClustersToClasses(res.assignments, res.scores);
  const n = run.labels.length;
  const x = Array.from({ length: n }, (_, q) => run.codes[2 * q]);
  const y = Array.from({ length: n }, (_, q) => run.codes[2 * q + 1]);
  const names = Array.from({ length: Math.max(...labels) + 1 }, (_, c) => `cluster ~ ${classNames[c] ?? c}`);
  const fig = latentHeatmap({ xs: grid.xs, ys: grid.ys, values: Float64Array.from(values), title, colorbarTitle: '√det M', zLog: true, points: { x, y, labels, classNames: names, markerSize: 7 } });
  const wrong = Array.from(labels.keys()).filter((q) => labels[q] !== run.labels[q]);
  const crosses: Trace = {
    type: 'scatter',
    mode: 'markers',
    name: `not its class's cluster (${wrong.length})`,
    x: wrong.map((q) => x[q]),
    y: wrong.map((q) => y[q]),
    marker: { color: '#D55E00', size: 11, symbol: 'x-thin-open', line: { color: '#D55E00', width: 2.5 } },
  };
  const medoids: Trace = {
    type: 'scatter',
    mode: 'markers',
    name: 'medoids',
    x: Array.from(res.medoids, (q) => x[q]),
    y: Array.from(res.medoids, (q) => y[q]),
    marker: { color: '#FFFFFF', size: 16, symbol: 'star', line: { color: '#000000', width: 1.5 } },
  };
  return { ...fig, data: [...fig.data, crosses, medoids] };
}
