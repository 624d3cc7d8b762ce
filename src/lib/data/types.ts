/**
 * Data as plain typed arrays. Nothing in src/lib/data creates tensors, so loading and slicing data can
 * never leak GPU/wasm memory; models turn these arrays into tensors where they use them.
 */

/** Which half of a dataset's canonical train/test division. */
export type Split = 'train' | 'test';

/**
 * How 0..255 grey levels become numbers. Always explicit, because a Bernoulli decoder wants [0, 1] and a
 * tanh decoder wants [-1, 1], and silently getting the other one ruins a model without an error.
 * '01': x / 255 in [0, 1]. 'pm1': x / 127.5 - 1 in [-1, 1].
 */
export type PixelScaling = '01' | 'pm1';

/** Labelled greyscale images, one image per row. */
export interface ImageSet {
  /** [n, height * width] row-major; pixel (i, j) of image k is at k * height * width + i * width + j. */
  images: Float32Array;
  /** [n] class labels. */
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
  scaling: PixelScaling;
  /** Where the images came from (a file, a package, a generator); shown in figures and logs. */
  source: string;
}

/** Points in R^dim, optionally labelled: the toy data sets and anything not image-shaped. */
export interface Dataset {
  /** [n, dim] row-major. */
  x: Float32Array;
  /** [n] class labels, when the data has classes. */
  y?: Int32Array;
  n: number;
  dim: number;
}

/**
 * Which rows of a loaded set to keep. Applied in this order: keep `classes` (labels unchanged; see
 * `relabel`), shuffle with `seed` when given, then keep the first `limit` rows.
 */
export interface RowSelection {
  classes?: readonly number[];
  limit?: number;
  seed?: number;
}

/** Options of every image loader. */
export interface ImageLoadOptions extends RowSelection {
  scaling: PixelScaling;
}

/** Options of loaders that know a canonical train/test division. */
export interface SplitLoadOptions extends ImageLoadOptions {
  split: Split;
}
