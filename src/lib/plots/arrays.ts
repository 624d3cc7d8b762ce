/**
 * Conversions from the arrays notebooks hold (typed arrays, nested arrays) to the plain JSON arrays
 * Plotly needs. JSON.stringify turns a Float32Array into an object keyed by index, so nothing typed may
 * reach a figure; non-finite numbers become `null`, which Plotly draws as a gap rather than failing.
 */
import { InputError } from '../util/errors';
import type { NumericArray, ZGrid } from './types';

/** A field as rows (`[ny][nx]`) or as one row-major array of length nx * ny. */
export type GridValues = NumericArray | ArrayLike<NumericArray>;

export function toArray(values: NumericArray, where = 'values'): number[] {
  if (values == null || typeof values.length !== 'number') throw new InputError(where, 'expected an array of numbers');
  return Array.from(values, Number);
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function isRows(values: GridValues): values is ArrayLike<NumericArray> {
  return values.length > 0 && typeof values[0] === 'object' && values[0] !== null;
}

/** Checks the shape against the axes and returns `z[iy][ix]`. */
export function toGrid(values: GridValues, nx: number, ny: number, where = 'values'): ZGrid {
  if (isRows(values)) {
    if (values.length !== ny) throw new InputError(where, `expected ${ny} rows (one per y), got ${values.length}`);
    return Array.from({ length: ny }, (_, iy) => {
      const row = values[iy];
      if (row.length !== nx) throw new InputError(`${where}[${iy}]`, `expected ${nx} columns (one per x), got ${row.length}`);
      return Array.from(row, finiteOrNull);
    });
  }
  const flat = values as NumericArray;
  if (flat.length !== nx * ny) throw new InputError(where, `expected ${nx * ny} = ${ny} x ${nx} values (row-major), got ${flat.length}`);
  return Array.from({ length: ny }, (_, iy) => Array.from({ length: nx }, (_, ix) => finiteOrNull(flat[iy * nx + ix])));
}

export function mapGrid(z: ZGrid, f: (v: number) => number | null): ZGrid {
  return z.map((row) => row.map((v) => (v === null ? null : f(v))));
}

/** log10, with non-positive values as gaps: a log colour scale has no place for them. */
export function log10Grid(z: ZGrid): ZGrid {
  return mapGrid(z, (v) => (v > 0 ? Math.log10(v) : null));
}

export function gridRange(z: ZGrid): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of z) {
    for (const v of row) {
      if (v === null) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Short tick labels: plain numbers where they are readable, 1e-5 style beyond. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e4) return String(Number(v.toPrecision(3)));
  return v.toExponential(0).replace('e+', 'e');
}

/**
 * Colour-bar ticks for a field drawn as log10: positions in log10 units labelled with the real values.
 * Whole decades when the range holds three or more, 1-3 steps for two, 1-2-5 steps below, so that every
 * range gets a handful of labels.
 */
export function logTicks(range: [number, number]): { tickvals: number[]; ticktext: string[] } {
  const [lo, hi] = range;
  const eps = 1e-9;
  const decades: number[] = [];
  for (let k = Math.ceil(lo - eps); k <= Math.floor(hi + eps); k++) decades.push(k);
  if (decades.length > 8) {
    const step = Math.ceil(decades.length / 8);
    const vals = decades.filter((k) => k % step === 0);
    return { tickvals: vals, ticktext: vals.map((t) => formatTick(10 ** t)) };
  }
  const mantissas = decades.length >= 3 ? [1] : decades.length === 2 ? [1, 3] : [1, 2, 5];
  const vals: number[] = [];
  for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k++) {
    for (const m of mantissas) {
      const t = k + Math.log10(m);
      if (t >= lo - eps && t <= hi + eps) vals.push(t);
    }
  }
  return { tickvals: vals, ticktext: vals.map((t) => formatTick(10 ** t)) };
}

/** Numbers with at most `digits` significant digits, trimmed: for tables and hover text. */
export function formatNumber(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e9)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}
