/**
 * The figures and tables of notebooks 09-11 (the geometric VAE): pure functions of the studies' results
 * in geometric-vae.ts.
 */
import { CurveBatch } from '../geometry/curves';
import { LatentGrid } from '../geometry/fields';
import { DistanceMap } from '../geometry/graph';
import { codePoints } from './lso';
import { latentHeatmap, type Curve } from '../plots/fields';
import { imageGrid, imageStrip } from '../plots/images';
import { lineChart, tableFigure } from '../plots/charts';
import type { Figure, Trace } from '../plots/types';
import { GvaeModel, RingsModel, InterpolationComparison, decodeAlongCurves, GenerationMethod, METHOD_LABELS, AblationRow, SampleScores, MethodResult, byMethod, GENERATION_METHODS, curveXY } from './geometric-vae';

/**
 * The training codes (at most `max`, by a stride) coloured by class, for plotting over a 2-D field. Rings
 * and disks alternate in the data, so an even stride would show one class only: pass max >= N there.
 */
export function modelCodePoints(m: GvaeModel, classNames: readonly string[], max = 3000): ReturnType<typeof codePoints> {
  return codePoints({ codes: m.means, labels: m.train.labels, classNames: [...classNames] }, max);
}

/** Each legend entry once: curves of the same kind share a name. */
function legendOnce(fig: Figure): Figure {
  const seen = new Set<string>();
  const data = fig.data.map((t) => {
    const name = String(t.name ?? '');
    if (t.type !== 'scatter' || t.mode !== 'lines' || !seen.has(name)) {
      seen.add(name);
      return t;
    }
    return { ...t, showlegend: false };
  });
  return { ...fig, data };
}

/** log sqrt(det G) over a 2-D grid with the codes, and optional curves. */
export function logVolumeFigure(m: RingsModel, grid: LatentGrid, values: ArrayLike<number>, title: string, curves: Curve[] = []): Figure {
  return legendOnce(latentHeatmap({
    xs: grid.xs,
    ys: grid.ys,
    values: Float64Array.from(values),
    title,
    colorbarTitle: 'log √det G',
    points: { ...modelCodePoints(m, m.classNames, m.train.n), markerSize: 3 },
    curves,
  }));
}

/** The three interpolations of every pair as curves (affine dashed, potential solid, geodesic dotted). */
export function interpolationCurves(cmp: InterpolationComparison): Curve[] {
  const kinds: [keyof InterpolationComparison & ('affine' | 'potential' | 'geodesic'), string, string, string][] = [
    ['affine', 'affine', 'dash', '#000000'],
    ['potential', 'potential-minimising (Eq. 12)', 'solid', '#D55E00'],
    ['geodesic', 'geodesic of G (BVP solver)', 'dot', '#CC79A7'],
  ];
  return kinds.flatMap(([key, name, dash, color]) =>
    Array.from({ length: cmp[key].count }, (_, b) => ({ ...curveXY(cmp[key], b), name, dash, color, width: 2.5 })),
  );
}

/** Decoded frames of one pair's three interpolations as a strip per interpolation. */
export function interpolationStrips(m: GvaeModel, cmp: InterpolationComparison, pair: number, frames: number, side: number): Figure {
  const one = (c: CurveBatch) => decodeAlongCurves(m.decoder, { ...c, count: 1, data: c.data.subarray(pair * c.points * c.dim, (pair + 1) * c.points * c.dim) }, frames);
  const fmt = (v: number) => v.toPrecision(3);
  return imageStrip({
    images: [...one(cmp.affine), ...one(cmp.potential), ...one(cmp.geodesic)],
    height: side,
    width: side,
    n: frames,
    title: `Pair ${pair + 1}: decoded interpolations (∫V dt: affine ${fmt(cmp.integral.affine[pair])}, potential ${fmt(cmp.integral.potential[pair])}, geodesic ${fmt(cmp.integral.geodesic[pair])})`,
    rowLabels: ['affine', 'potential', 'geodesic of G'],
  });
}

/** The Riemannian distance map with the source and the codes. */
export function distanceFigure(m: RingsModel, grid: LatentGrid, dm: DistanceMap): Figure {
  const fig = latentHeatmap({
    xs: grid.xs,
    ys: grid.ys,
    values: dm.distances,
    title: 'Riemannian distance from one code (shortest paths on the grid graph)',
    colorbarTitle: 'distance',
    colorscale: 'Cividis',
    points: { ...modelCodePoints(m, m.classNames, m.train.n), markerSize: 3 },
  });
  const source: Trace = { type: 'scatter', mode: 'markers', name: 'source', x: [dm.source[0]], y: [dm.source[1]], marker: { color: '#D55E00', size: 14, symbol: 'star', line: { color: '#000000', width: 1 } } };
  return { ...fig, data: [...fig.data, source] };
}

/** Latent samples over the log-volume map (a 2-D model). */
export function samplesFigure(m: RingsModel, grid: LatentGrid, logVolume: ArrayLike<number>, samples: Float32Array, title: string): Figure {
  const fig = latentHeatmap({ xs: grid.xs, ys: grid.ys, values: Float64Array.from(logVolume), title, colorbarTitle: 'log √det G' });
  const x = Array.from({ length: samples.length / 2 }, (_, i) => samples[2 * i]);
  const y = Array.from({ length: samples.length / 2 }, (_, i) => samples[2 * i + 1]);
  return { ...fig, data: [...fig.data, { type: 'scatter', mode: 'markers', name: 'HMC samples', x, y, marker: { color: '#FFFFFF', size: 4, line: { color: '#000000', width: 0.5 } } }] };
}

/** The first `count` generated images of a method as a grid. */
export function sampleGrid(r: MethodResult, count: number, cols: number, title?: string): Figure {
  return imageGrid({ images: r.preview.subarray(0, count * 784), height: 28, width: 28, cols, title: title ?? `${METHOD_LABELS[r.method]}: FID ${r.fid.toFixed(2)}` });
}

/** The scores of results.json: `fid: {method: v}` and `precision_recall: {method: {precision, recall}}`. */
export function scoreSummary(results: MethodResult[]): { fid: Record<GenerationMethod, number>; precision_recall: Record<GenerationMethod, { precision: number; recall: number }> } {
  return { fid: byMethod(results, (r) => r.fid), precision_recall: byMethod(results, (r) => ({ precision: r.precision, recall: r.recall })) };
}

/** Rows for nb.table and tableFigure: one per ablation variant. */
export function ablationRows(rows: AblationRow[], withDescription = true): Record<string, unknown>[] {
  return rows.map(({ name, description, fid, precision, recall, acceptanceRate }) => ({
    variant: name,
    fid,
    precision,
    recall,
    ...(acceptanceRate !== undefined ? { hmc_acceptance: acceptanceRate } : {}),
    ...(withDescription ? { description } : {}),
  }));
}

/** { name: { fid, precision, recall, acceptanceRate? } } for results.json. */
export function ablationSummary(rows: AblationRow[]): Record<string, Omit<AblationRow, 'name' | 'description'>> {
  return Object.fromEntries(rows.map(({ name, description: _d, ...rest }) => [name, rest]));
}

/** The scores as a table figure, one short row per method (long cells would wrap out of the rows). */
export function scoreTableFigure(results: MethodResult[], title: string): Figure {
  const rows = results.map((r) => ({
    method: r.method,
    FID: r.fid,
    precision: r.precision,
    recall: r.recall,
    'HMC acceptance': r.acceptanceRate ?? '',
  }));
  const fig = tableFigure({ rows, title });
  return { ...fig, layout: { ...fig.layout, width: 1000 } };
}

const ABLATION_LABELS: Record<string, string> = { training_means: 'training means, no HMC', riemannian_uniform_floor_K_lambda: 'HMC with floor K λ' };

/** The ablation as a table figure, with short variant names. */
export function ablationTableFigure(rows: AblationRow[], title: string): Figure {
  const short = ablationRows(rows, false).map((r) => ({ ...r, variant: ABLATION_LABELS[String(r.variant)] ?? r.variant }));
  const fig = tableFigure({ rows: short, title });
  return { ...fig, layout: { ...fig.layout, width: 1000 } };
}

/** Rows for nb.table: one per method. */
export function resultRows(results: MethodResult[]): Record<string, unknown>[] {
  return results.map((r) => ({
    method: METHOD_LABELS[r.method],
    fid: r.fid,
    precision: r.precision,
    recall: r.recall,
    samples: r.samples,
    sampling_seconds: r.seconds,
    ...(r.acceptanceRate !== undefined ? { hmc_acceptance: r.acceptanceRate } : {}),
  }));
}
