/**
 * Class subsets, seeded shuffles and splits. Every function is pure: it returns a new set and never
 * changes its argument. All of them reduce to "which rows, in which order" (an index list) plus `pick`,
 * so the loaders can choose rows before converting pixels, and the set-level functions cannot disagree
 * with them.
 *
 * Extra per-row fields that a generator adds to a set (e.g. `radius` in ringsAndDisks) are not carried
 * along, since they cannot be subset generically; use `rowsOf*` and `gatherRows` to subset them alike.
 */
import { Rng } from '../util/rng';
import { InputError, expectInput, positiveInt } from '../util/errors';
import type { Dataset, ImageSet, RowSelection } from './types';

export type AnySet = ImageSet | Dataset;
/** The base type of a set: subsetting an ImageSet gives an ImageSet, a Dataset a Dataset. */
export type BaseSet<S extends AnySet> = S extends ImageSet ? ImageSet : Dataset;

export function isImageSet(set: AnySet): set is ImageSet {
  return 'images' in set;
}

/** 0, 1, ..., n - 1. */
export function range(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** Rows `rows` of a row-major [*, width] array, in that order. */
export function gatherRows<T extends Float32Array | Int32Array | Uint8Array>(
  values: T,
  width: number,
  rows: ArrayLike<number>,
): T {
  const out = new (values.constructor as new (n: number) => T)(rows.length * width);
  for (let i = 0; i < rows.length; i++) out.set(values.subarray(rows[i] * width, (rows[i] + 1) * width), i * width);
  return out;
}

/** The set's labels, or an InputError when it has none. */
export function labelsOf(set: AnySet, where: string): Int32Array {
  const labels = isImageSet(set) ? set.labels : set.y;
  if (!labels) throw new InputError(where, 'the data set has no labels');
  return labels;
}

/** The rows `rows` of a set, in that order (repeats allowed). */
export function pick<S extends AnySet>(set: S, rows: ArrayLike<number>): BaseSet<S> {
  for (let i = 0; i < rows.length; i++) {
    if (!(Number.isInteger(rows[i]) && rows[i] >= 0 && rows[i] < set.n)) {
      throw new RangeError(`pick: row ${rows[i]} outside 0..${set.n - 1}`);
    }
  }
  const n = rows.length;
  if (isImageSet(set)) {
    const { height, width, scaling, source } = set;
    const images = gatherRows(set.images, height * width, rows);
    const picked: ImageSet = { images, labels: gatherRows(set.labels, 1, rows), n, height, width, scaling, source };
    return picked as BaseSet<S>;
  }
  const picked: Dataset = { x: gatherRows(set.x, set.dim, rows), n, dim: set.dim };
  if (set.y) picked.y = gatherRows(set.y, 1, rows);
  return picked as BaseSet<S>;
}

/** Checks a class list: non-empty, integers, no repeats. */
export function checkClasses(classes: readonly number[], where: string): readonly number[] {
  expectInput(Array.isArray(classes) && classes.length > 0, where, 'expected a non-empty list of class labels');
  expectInput(classes.every(Number.isInteger), where, `class labels must be integers, got [${classes.join(', ')}]`);
  expectInput(new Set(classes).size === classes.length, where, `class labels repeat in [${classes.join(', ')}]`);
  return classes;
}

/**
 * Rows whose label is in `classes`, in their original order. A class with no rows is an error: it is
 * almost always a typo or a wrong label convention, and an empty class would surface much later.
 */
export function rowsOfClasses(labels: ArrayLike<number>, classes: readonly number[], where: string): Int32Array {
  checkClasses(classes, where);
  const wanted = new Set(classes);
  const counts = new Map<number, number>();
  const rows: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (wanted.has(labels[i])) {
      rows.push(i);
      counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
    }
  }
  const absent = classes.filter((c) => !counts.has(c));
  expectInput(absent.length === 0, where, `no examples of class ${absent.join(', ')} in the data`);
  return Int32Array.from(rows);
}

/** `rows` reordered by a permutation seeded with `seed`. */
export function shuffledRows(rows: Int32Array, seed: number, where: string): Int32Array {
  expectInput(Number.isFinite(seed), where, `seed must be a finite number, got ${seed}`);
  const perm = new Rng(seed).permutation(rows.length);
  return perm.map((p) => rows[p]);
}

/** The rows a RowSelection keeps, in order: classes, then seeded shuffle, then limit. */
export function selectRows(labels: ArrayLike<number>, sel: RowSelection, where: string): Int32Array {
  let rows = sel.classes !== undefined ? rowsOfClasses(labels, sel.classes, `${where}.classes`) : range(labels.length);
  if (sel.seed !== undefined) rows = shuffledRows(rows, sel.seed, `${where}.seed`);
  if (sel.limit !== undefined) rows = rows.slice(0, Math.min(positiveInt(sel.limit, `${where}.limit`), rows.length));
  return rows;
}

/** Only the rows of the given classes, in their original order. Labels are kept (see `relabel`). */
export function selectClasses<S extends AnySet>(set: S, classes: readonly number[]): BaseSet<S> {
  return pick(set, rowsOfClasses(labelsOf(set, 'selectClasses'), classes, 'selectClasses.classes'));
}

/** All rows in a seeded random order. */
export function shuffle<S extends AnySet>(set: S, seed: number): BaseSet<S> {
  return pick(set, shuffledRows(range(set.n), seed, 'shuffle.seed'));
}

/** The first `n` rows (all of them when there are fewer), like Array.prototype.slice(0, n). */
export function take<S extends AnySet>(set: S, n: number): BaseSet<S> {
  expectInput(Number.isInteger(n) && n >= 0, 'take.n', `expected a non-negative integer, got ${n}`);
  return pick(set, range(Math.min(n, set.n)));
}

/**
 * A seeded random split into round(valFraction * n) validation rows and the rest for training. Not
 * stratified: with thousands of rows per class the class proportions agree to within a percent anyway.
 */
export function trainValSplit<S extends AnySet>(
  set: S,
  valFraction: number,
  seed: number,
): { train: BaseSet<S>; val: BaseSet<S> } {
  expectInput(
    Number.isFinite(valFraction) && valFraction > 0 && valFraction < 1,
    'trainValSplit.valFraction',
    `expected a number strictly between 0 and 1, got ${valFraction}`,
  );
  const rows = shuffledRows(range(set.n), seed, 'trainValSplit.seed');
  const nVal = Math.round(valFraction * set.n);
  return { train: pick(set, rows.subarray(nVal)), val: pick(set, rows.subarray(0, nVal)) };
}

/**
 * `perClass` random rows of every class present, in a seeded random order (classes interleaved, so
 * that a later `take` still sees every class).
 */
export function balancedSubset<S extends AnySet>(set: S, perClass: number, seed: number): BaseSet<S> {
  positiveInt(perClass, 'balancedSubset.perClass');
  const labels = labelsOf(set, 'balancedSubset');
  const available = new Map<number, number>();
  for (const label of labels) available.set(label, (available.get(label) ?? 0) + 1);
  const short = [...available].filter(([, count]) => count < perClass).sort((a, b) => a[0] - b[0]);
  expectInput(
    short.length === 0,
    'balancedSubset.perClass',
    `asked for ${perClass} per class but ${short.map(([c, count]) => `class ${c} has ${count}`).join(', ')}`,
  );
  const taken = new Map<number, number>();
  const rows: number[] = [];
  for (const row of shuffledRows(range(set.n), seed, 'balancedSubset.seed')) {
    const count = taken.get(labels[row]) ?? 0;
    if (count < perClass) {
      taken.set(labels[row], count + 1);
      rows.push(row);
    }
  }
  return pick(set, rows);
}

/**
 * Labels mapped to 0..k-1 in the order of `classes` (classes[i] becomes i), as a classifier or a
 * colour scale wants them. Every label must be in `classes`. Pixel/point arrays are shared, not copied.
 */
export function relabel<S extends AnySet>(set: S, classes: readonly number[]): BaseSet<S> {
  checkClasses(classes, 'relabel.classes');
  const labels = labelsOf(set, 'relabel');
  const index = new Map(classes.map((c, i) => [c, i]));
  const mapped = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const to = index.get(labels[i]);
    if (to === undefined) {
      throw new InputError('relabel.classes', `label ${labels[i]} at row ${i} is not in [${classes.join(', ')}]`);
    }
    mapped[i] = to;
  }
  if (isImageSet(set)) {
    const { images, n, height, width, scaling, source } = set;
    const out: ImageSet = { images, labels: mapped, n, height, width, scaling, source };
    return out as BaseSet<S>;
  }
  const out: Dataset = { x: set.x, y: mapped, n: set.n, dim: set.dim };
  return out as BaseSet<S>;
}
