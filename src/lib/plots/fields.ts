/**
 * Latent fields: a scalar over a 2-D latent grid (magnification factor, variance, density, ...) with the
 * training codes on top, coloured by class, and curves (geodesics, straight lines) drawn over it.
 */
import { InputError } from '../util/errors';
import { gridRange, log10Grid, logTicks, toArray, toGrid, type GridValues } from './arrays';
import { LEGEND_BELOW, axis, baseLayout, classMarker, colorBar, curveColor, DEFAULT_SEQUENTIAL, type SequentialScale } from './style';
import type { Figure, NumericArray, Trace } from './types';

/** Codes in a 2-D latent space; `labels[i]` indexes `classNames` (or is shown as the number). */
export interface ClassPoints {
  x: NumericArray;
  y: NumericArray;
  labels?: NumericArray;
  classNames?: string[];
  /** Legend entry when there are no labels. */
  name?: string;
  markerSize?: number;
}

export interface Curve {
  x: NumericArray;
  y: NumericArray;
  name: string;
  /** Plotly dash style: 'solid', 'dash', 'dot', 'dashdot', ... */
  dash?: string;
  color?: string;
  width?: number;
}

export interface LatentHeatmapOptions {
  /** Grid coordinates along z1 (nx values) and z2 (ny values). */
  xs: NumericArray;
  ys: NumericArray;
  /** `[ny][nx]` rows, or one row-major array of nx * ny values. */
  values: GridValues;
  title: string;
  colorbarTitle: string;
  /** Colour by log10 of the values (labelled with the values themselves); non-positive values become gaps. */
  zLog?: boolean;
  colorscale?: SequentialScale;
  /** Fixes the colour range (in value units, not log units), e.g. to compare panels. */
  zRange?: [number, number];
  xTitle?: string;
  yTitle?: string;
  points?: ClassPoints;
  curves?: Curve[];
  /** CSS pixels; the default fits a square plot, its colour bar and a legend below without empty margins. */
  width?: number;
  height?: number;
}

/** One trace per class so the legend names the classes; a single trace when there are no labels. */
export function classPointTraces(points: ClassPoints): Trace[] {
  const x = toArray(points.x, 'points.x');
  const y = toArray(points.y, 'points.y');
  if (x.length !== y.length) throw new InputError('points', `x has ${x.length} values but y has ${y.length}`);
  const size = points.markerSize ?? 6;
  if (!points.labels) {
    return [{ type: 'scatter', mode: 'markers', name: points.name ?? 'codes', x, y, marker: classMarker(0, size) }];
  }
  const labels = toArray(points.labels, 'points.labels');
  if (labels.length !== x.length) throw new InputError('points.labels', `expected ${x.length} labels, got ${labels.length}`);
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  return classes.map((c, i) => {
    const idx = labels.flatMap((l, j) => (l === c ? [j] : []));
    return {
      type: 'scatter',
      mode: 'markers',
      name: points.classNames?.[c] ?? String(c),
      x: idx.map((j) => x[j]),
      y: idx.map((j) => y[j]),
      marker: classMarker(i, size),
    } satisfies Trace;
  });
}

export function curveTraces(curves: Curve[]): Trace[] {
  return curves.map((c, i) => {
    const x = toArray(c.x, `curves[${i}].x`);
    const y = toArray(c.y, `curves[${i}].y`);
    if (x.length !== y.length) throw new InputError(`curves[${i}]`, `x has ${x.length} values but y has ${y.length}`);
    return {
      type: 'scatter',
      mode: 'lines',
      name: c.name,
      x,
      y,
      line: { color: c.color ?? curveColor(i), width: c.width ?? 2.5, dash: c.dash ?? 'solid' },
    };
  });
}

export function latentHeatmap(opts: LatentHeatmapOptions): Figure {
  const xs = toArray(opts.xs, 'xs');
  const ys = toArray(opts.ys, 'ys');
  const raw = toGrid(opts.values, xs.length, ys.length);
  const z = opts.zLog ? log10Grid(raw) : raw;
  const zRange = opts.zRange && (opts.zLog ? (opts.zRange.map(Math.log10) as [number, number]) : opts.zRange);
  const range = zRange ?? gridRange(z);
  const xTitle = opts.xTitle ?? 'z<sub>1</sub>';
  const yTitle = opts.yTitle ?? 'z<sub>2</sub>';
  const field: Trace = {
    type: 'heatmap',
    name: opts.colorbarTitle,
    x: xs,
    y: ys,
    z,
    colorscale: opts.colorscale ?? DEFAULT_SEQUENTIAL,
    colorbar: colorBar(opts.colorbarTitle, opts.zLog && range ? logTicks(range) : {}),
    showlegend: false,
    // The tooltip shows the colour bar's scale: with zLog the bar is labelled in values, so the tooltip
    // reads the value itself (customdata), not the log10 the colours are computed from.
    ...(opts.zLog ? { customdata: raw } : {}),
    hovertemplate: `${xTitle} %{x:.3g}<br>${yTitle} %{y:.3g}<br>${opts.colorbarTitle} %{${opts.zLog ? 'customdata' : 'z'}:.4g}<extra></extra>`,
    ...(zRange ? { zmin: zRange[0], zmax: zRange[1] } : {}),
  };
  const data = [field, ...(opts.points ? classPointTraces(opts.points) : []), ...curveTraces(opts.curves ?? [])];
  return {
    data,
    layout: baseLayout(opts.title, {
      width: opts.width ?? 720,
      height: opts.height ?? 640,
      xaxis: axis(xTitle, { range: [xs[0], xs[xs.length - 1]], constrain: 'domain', showgrid: false }),
      // Equal units on both axes: distances in the latent space are what the figures are about.
      yaxis: axis(yTitle, { range: [ys[0], ys[ys.length - 1]], scaleanchor: 'x', scaleratio: 1, constrain: 'domain', showgrid: false }),
      legend: { ...LEGEND_BELOW },
      showlegend: data.length > 1,
    }),
  };
}

export interface ContourOptions {
  xs: NumericArray;
  ys: NumericArray;
  values: GridValues;
  name?: string;
  /** Number of levels Plotly picks between the extremes. */
  ncontours?: number;
  color?: string;
}

/** A copy of `fig` with iso-lines of a second field (e.g. the data density) drawn over it. */
export function contourOverlay(fig: Figure, opts: ContourOptions): Figure {
  const xs = toArray(opts.xs, 'xs');
  const ys = toArray(opts.ys, 'ys');
  const contour: Trace = {
    type: 'contour',
    name: opts.name ?? 'density',
    x: xs,
    y: ys,
    z: toGrid(opts.values, xs.length, ys.length),
    ncontours: opts.ncontours ?? 8,
    contours: { coloring: 'none' },
    line: { color: opts.color ?? '#FFFFFF', width: 1.2 },
    showscale: false,
    showlegend: true,
    hoverinfo: 'skip',
  };
  return { data: [...fig.data, contour], layout: { ...fig.layout, showlegend: true } };
}
