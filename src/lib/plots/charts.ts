/** Line charts, scatter plots and tables: everything that is not a field or an image. */
import { InputError } from '../util/errors';
import { formatNumber, toArray } from './arrays';
import { classPointTraces, type ClassPoints } from './fields';
import { axis, baseLayout, categoryColor } from './style';
import type { Axis, Figure, NumericArray, Trace } from './types';

export interface Series {
  name: string;
  x: NumericArray;
  y: NumericArray;
  /** Symmetric error bars (e.g. a standard deviation over seeds). */
  error?: NumericArray;
  dash?: string;
  color?: string;
}

export interface LineChartOptions {
  series: Series[];
  title: string;
  xTitle: string;
  yTitle: string;
  logX?: boolean;
  logY?: boolean;
  /** Draw a marker at every point (default true: these charts have few points, e.g. FID per training size). */
  markers?: boolean;
}

function seriesTrace(s: Series, i: number, markers: boolean): Trace {
  const x = toArray(s.x, `series[${i}].x`);
  const y = toArray(s.y, `series[${i}].y`);
  if (x.length !== y.length) throw new InputError(`series[${i}] (${s.name})`, `x has ${x.length} values but y has ${y.length}`);
  const color = s.color ?? categoryColor(i);
  const trace: Trace = {
    type: 'scatter',
    mode: markers ? 'lines+markers' : 'lines',
    name: s.name,
    x,
    // Non-finite values serialise as null, which Plotly draws as a gap.
    y,
    line: { color, width: 2, dash: s.dash ?? 'solid' },
    marker: { color, size: 7 },
  };
  if (s.error) {
    const err = toArray(s.error, `series[${i}].error`);
    if (err.length !== x.length) throw new InputError(`series[${i}].error`, `expected ${x.length} values, got ${err.length}`);
    trace.error_y = { type: 'data', array: err, visible: true, color, thickness: 1.2 };
  }
  return trace;
}

/**
 * A log axis over `values`: whole decades only once the data span two or more (Plotly's default labels
 * every digit in between, which crowds the axis), 1-2-5 labels on narrower spans.
 */
export function logAxis(values: number[]): Partial<Axis> {
  const positive = values.filter((v) => v > 0);
  const span = positive.length ? Math.log10(Math.max(...positive) / Math.min(...positive)) : 0;
  return { type: 'log', dtick: span >= 2 ? 1 : 'D2' };
}

export function lineChart(opts: LineChartOptions): Figure {
  if (opts.series.length === 0) throw new InputError('series', 'nothing to plot');
  const markers = opts.markers ?? true;
  const data = opts.series.map((s, i) => seriesTrace(s, i, markers));
  const all = (key: 'x' | 'y') => data.flatMap((t) => t[key] ?? []);
  return {
    data,
    layout: baseLayout(opts.title, {
      xaxis: axis(opts.xTitle, opts.logX ? logAxis(all('x')) : {}),
      yaxis: axis(opts.yTitle, opts.logY ? logAxis(all('y')) : {}),
      showlegend: opts.series.length > 1,
    }),
  };
}

/**
 * One training-history row: the epoch and any metrics (loss, KL, val_loss, ...), each possibly absent. No
 * index signature, so that typed records such as the trainer's EpochRecord fit without a cast.
 */
export interface HistoryRow {
  epoch: number;
}

export interface TrainingCurvesOptions {
  title: string;
  metrics: string[];
  yTitle?: string;
  logY?: boolean;
}

export function trainingCurves(history: readonly HistoryRow[], opts: TrainingCurvesOptions): Figure {
  const value = (row: HistoryRow, m: string): unknown => (row as unknown as Record<string, unknown>)[m];
  if (history.length === 0) throw new InputError('history', 'no epochs to plot');
  for (const m of opts.metrics) {
    if (!history.some((row) => typeof value(row, m) === 'number')) {
      throw new InputError('metrics', `no history row has "${m}"; rows have ${Object.keys(history[0]).join(', ')}`);
    }
  }
  // A metric missing from a row (e.g. validation every 5th epoch) is left out rather than drawn as 0.
  const series = opts.metrics.map((m) => {
    const rows = history.filter((row) => typeof value(row, m) === 'number');
    return { name: m, x: rows.map((r) => r.epoch), y: rows.map((r) => value(r, m) as number) };
  });
  return lineChart({
    series,
    title: opts.title,
    xTitle: 'epoch',
    yTitle: opts.yTitle ?? (opts.metrics.length === 1 ? opts.metrics[0] : 'value'),
    logY: opts.logY,
    markers: history.length <= 30,
  });
}

export interface ScatterOptions extends ClassPoints {
  title: string;
  xTitle: string;
  yTitle: string;
  /** Equal units on both axes, for latent codes. */
  equalAspect?: boolean;
}

export function scatter(opts: ScatterOptions): Figure {
  const data = classPointTraces(opts);
  return {
    data,
    layout: baseLayout(opts.title, {
      xaxis: axis(opts.xTitle),
      yaxis: axis(opts.yTitle, opts.equalAspect ? { scaleanchor: 'x', scaleratio: 1 } : {}),
      showlegend: data.length > 1,
    }),
  };
}

export interface TableFigureOptions {
  rows: Record<string, unknown>[];
  title: string;
  /** Column order; default: keys in order of first appearance. */
  columns?: string[];
  /** Significant digits of non-integer numbers. */
  digits?: number;
}

export function columnsOf(rows: Record<string, unknown>[]): string[] {
  return [...new Set(rows.flatMap((r) => Object.keys(r)))];
}

export function formatCell(v: unknown, digits: number): string {
  if (typeof v === 'number') return formatNumber(v, digits);
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function tableFigure(opts: TableFigureOptions): Figure {
  if (opts.rows.length === 0) throw new InputError('rows', 'no rows to show');
  const columns = opts.columns ?? columnsOf(opts.rows);
  const digits = opts.digits ?? 4;
  const rowHeight = 28;
  const margin = { l: 20, r: 20, t: 60, b: 20 };
  return {
    data: [
      {
        type: 'table',
        header: { values: columns.map((c) => `<b>${c}</b>`), fill: { color: '#F2F2F2' }, align: 'left', height: rowHeight },
        // Plotly tables are column-major.
        cells: {
          values: columns.map((c) => opts.rows.map((r) => formatCell(r[c], digits))),
          align: columns.map((c) => (opts.rows.every((r) => typeof r[c] === 'number') ? 'right' : 'left')),
          height: rowHeight,
        },
      },
    ],
    layout: baseLayout(opts.title, { margin, height: margin.t + margin.b + rowHeight * (opts.rows.length + 1) + 10 }),
  };
}
