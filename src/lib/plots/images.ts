/**
 * Decoded images as one greyscale montage: a single heatmap trace, so a strip of 20 images costs one
 * trace instead of 20 sub-plots and exports quickly. Gaps between images are `null` (drawn as the white
 * background) to separate the usual black MNIST backgrounds.
 */
import { InputError, positiveInt } from '../util/errors';
import { baseLayout, GREYS } from './style';
import type { Figure, NumericArray, ZGrid } from './types';

export type ImageBatch = NumericArray | ArrayLike<NumericArray>;

export interface ImageGridOptions {
  /** n images of height * width pixels: one flat array (image after image, row-major) or one array per image. */
  images: ImageBatch;
  height: number;
  width: number;
  /** Images per row. */
  cols: number;
  title: string;
  /** Pixel values drawn black and white; default [0, 1]. */
  pixelRange?: [number, number];
  /** One label per row, shown on the left (e.g. 'geodesic', 'linear'). */
  rowLabels?: string[];
  /** One label per column, shown below (e.g. t = 0, 0.25, ...). */
  colLabels?: string[];
  /** Empty pixels between images. */
  gap?: number;
}

export interface ImageStripOptions extends Omit<ImageGridOptions, 'cols'> {
  /** Images per strip (row); the batch holds one strip or several stacked ones (e.g. geodesic vs linear). */
  n: number;
}

/** Splits the batch into per-image pixel arrays, checking every size. */
export function splitImages(images: ImageBatch, pixels: number): NumericArray[] {
  const first = images.length > 0 ? images[0] : undefined;
  if (typeof first === 'object' && first !== null) {
    return Array.from(images as ArrayLike<NumericArray>, (img, i) => {
      if (img.length !== pixels) throw new InputError(`images[${i}]`, `expected ${pixels} pixels, got ${img.length}`);
      return img;
    });
  }
  const flat = images as NumericArray;
  if (flat.length % pixels !== 0) throw new InputError('images', `length ${flat.length} is not a multiple of height * width = ${pixels}`);
  const n = flat.length / pixels;
  return Array.from({ length: n }, (_, i) =>
    ArrayBuffer.isView(flat) ? (flat as Float32Array).subarray(i * pixels, (i + 1) * pixels) : Array.prototype.slice.call(flat, i * pixels, (i + 1) * pixels),
  );
}

/** The montage as `z[row][col]` with `null` gaps, image 0 at the top left. */
export function montage(images: NumericArray[], height: number, width: number, cols: number, gap: number): ZGrid {
  const rows = Math.ceil(images.length / cols);
  const H = rows * (height + gap) - gap;
  const W = cols * (width + gap) - gap;
  const z: ZGrid = Array.from({ length: H }, () => new Array<number | null>(W).fill(null));
  images.forEach((img, k) => {
    const r0 = Math.floor(k / cols) * (height + gap);
    const c0 = (k % cols) * (width + gap);
    for (let i = 0; i < height; i++) {
      for (let j = 0; j < width; j++) {
        const v = Number(img[i * width + j]);
        z[r0 + i][c0 + j] = Number.isFinite(v) ? v : null;
      }
    }
  });
  return z;
}

function centres(count: number, size: number, gap: number): number[] {
  return Array.from({ length: count }, (_, k) => k * (size + gap) + (size - 1) / 2);
}

export function imageGrid(opts: ImageGridOptions): Figure {
  const height = positiveInt(opts.height, 'height');
  const width = positiveInt(opts.width, 'width');
  const cols = positiveInt(opts.cols, 'cols');
  const gap = opts.gap ?? 1;
  const imgs = splitImages(opts.images, height * width);
  if (imgs.length === 0) throw new InputError('images', 'no images to draw');
  const rows = Math.ceil(imgs.length / cols);
  const usedCols = Math.min(cols, imgs.length);
  if (opts.rowLabels && opts.rowLabels.length !== rows) throw new InputError('rowLabels', `expected ${rows} labels (one per row), got ${opts.rowLabels.length}`);
  if (opts.colLabels && opts.colLabels.length !== usedCols) throw new InputError('colLabels', `expected ${usedCols} labels (one per column), got ${opts.colLabels.length}`);
  const [lo, hi] = opts.pixelRange ?? [0, 1];
  const z = montage(imgs, height, width, usedCols, gap);
  const W = z[0].length;
  const H = z.length;
  // Screen pixels per image pixel: large enough to see digits, small enough for a page-wide strip.
  const scale = Math.max(1, Math.min(8, 900 / W));
  const margin = { l: opts.rowLabels ? 100 : 20, r: 20, t: 60, b: opts.colLabels ? 50 : 20 };
  const hidden = { showgrid: false, zeroline: false, showline: false, ticks: '' };
  return {
    data: [{ type: 'heatmap', z, colorscale: GREYS, zmin: lo, zmax: hi, showscale: false, hovertemplate: 'pixel %{z:.3f}<extra></extra>' }],
    layout: baseLayout(opts.title, {
      width: Math.round(W * scale + margin.l + margin.r),
      height: Math.round(H * scale + margin.t + margin.b),
      margin,
      xaxis: {
        ...hidden,
        range: [-0.5, W - 0.5],
        constrain: 'domain',
        ...(opts.colLabels ? { tickvals: centres(usedCols, width, gap), ticktext: opts.colLabels } : { showticklabels: false }),
      },
      yaxis: {
        ...hidden,
        // Row 0 of an image is its top.
        range: [H - 0.5, -0.5],
        scaleanchor: 'x',
        scaleratio: 1,
        constrain: 'domain',
        ...(opts.rowLabels ? { tickvals: centres(rows, height, gap), ticktext: opts.rowLabels } : { showticklabels: false }),
      },
    }),
  };
}

export function imageStrip(opts: ImageStripOptions): Figure {
  const { n, ...rest } = opts;
  return imageGrid({ ...rest, cols: positiveInt(n, 'n') });
}
