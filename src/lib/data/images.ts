/**
 * From grey-level bytes to an ImageSet, and loading a user's pair of IDX files (images + labels).
 * Rows are chosen on the labels first and only the chosen images are converted, so loading two classes
 * of MNIST does not first build all 60,000 float images.
 */
import { InputError, expectInput } from '../util/errors';
import { readIdx, type IdxArray } from './idx';
import { selectRows } from './subsets';
import type { ImageLoadOptions, ImageSet, PixelScaling } from './types';

/** The 256 values a grey level 0..255 becomes under a scaling. */
export function pixelTable(scaling: PixelScaling): Float32Array {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = scaling === '01' ? v / 255 : v / 127.5 - 1;
  return table;
}

/** Checks the scaling option, naming the accepted values. */
export function checkScaling(scaling: unknown, where: string): PixelScaling {
  expectInput(
    scaling === '01' || scaling === 'pm1',
    where,
    `expected '01' (pixels in [0, 1]) or 'pm1' (pixels in [-1, 1]), got ${JSON.stringify(scaling)}`,
  );
  return scaling;
}

/** Grey-level images as stored on disk: [n, height * width] bytes and [n] labels. */
export interface ByteImages {
  pixels: Uint8Array;
  labels: ArrayLike<number>;
  height: number;
  width: number;
  source: string;
}

/** Applies a loader's options (scaling, classes, seed, limit) to byte images. */
export function toImageSet(bytes: ByteImages, opts: ImageLoadOptions, where: string): ImageSet {
  const scaling = checkScaling(opts.scaling, `${where}.scaling`);
  const rows = selectRows(bytes.labels, opts, where);
  const size = bytes.height * bytes.width;
  const table = pixelTable(scaling);
  const images = new Float32Array(rows.length * size);
  const labels = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    labels[i] = bytes.labels[row];
    const from = row * size;
    const to = i * size;
    for (let p = 0; p < size; p++) images[to + p] = table[bytes.pixels[from + p]];
  });
  return { images, labels, n: rows.length, height: bytes.height, width: bytes.width, scaling, source: bytes.source };
}

/**
 * Checks that two parsed IDX arrays are an images file ([n, h, w] ubyte) and its labels file ([n] ubyte)
 * and pairs them. `names` are used in the error messages.
 */
export function pairIdx(
  images: IdxArray,
  labels: IdxArray,
  names: { images: string; labels: string; source: string },
): ByteImages {
  expectInput(
    images.type === 'ubyte' && images.dims.length === 3,
    names.images,
    `expected ubyte images [n, height, width], got ${images.type} [${images.dims.join(', ')}]`,
  );
  expectInput(
    labels.type === 'ubyte' && labels.dims.length === 1,
    names.labels,
    `expected ubyte labels [n], got ${labels.type} [${labels.dims.join(', ')}]`,
  );
  if (images.dims[0] !== labels.dims[0]) {
    throw new InputError(
      names.images,
      `image/label count mismatch: ${images.dims[0]} images but ${labels.dims[0]} labels in ${names.labels}`,
    );
  }
  return {
    pixels: images.data as Uint8Array,
    labels: labels.data,
    height: images.dims[1],
    width: images.dims[2],
    source: names.source,
  };
}

/** Loads an images IDX file and its labels IDX file (raw or gzipped) as an ImageSet. */
export function loadIdxPair(imagesFile: string, labelsFile: string, opts: ImageLoadOptions): ImageSet {
  return readIdxPair({ images: imagesFile, labels: labelsFile }, opts, imagesFile, 'loadIdxPair');
}

/** loadIdxPair for the loaders: `source` labels the set, `where` prefixes option errors. */
export function readIdxPair(
  files: { images: string; labels: string },
  opts: ImageLoadOptions,
  source: string,
  where: string,
): ImageSet {
  const bytes = pairIdx(readIdx(files.images), readIdx(files.labels), { ...files, source });
  return toImageSet(bytes, opts, where);
}
