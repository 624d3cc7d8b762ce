/**
 * Data for the workbook: MNIST, Fashion-MNIST, user IDX files (with a verified download cache), class
 * subsets and seeded splits, and the toy data sets of the papers. Plain typed arrays, no tensors.
 */
export type { Dataset, ImageLoadOptions, ImageSet, PixelScaling, RowSelection, Split, SplitLoadOptions } from './types';
export { MAX_IDX_BYTES, encodeIdx, isGzip, parseIdx, readIdx, writeIdx, type IdxArray, type IdxDataType, type IdxValues } from './idx';
export { checkScaling, loadIdxPair, pixelTable } from './images';
export { idxFileNames, loadMnist, mnistPackageFiles } from './mnist';
export {
  FASHION_CLASS_NAMES,
  FASHION_PER_CLASS,
  FASHION_TRAIN_PER_CLASS,
  fashionClassFile,
  loadFashionMnist,
  readFashionClass,
} from './fashion';
export {
  CANONICAL_IDX,
  canonicalDataset,
  ensureIdxFiles,
  loadIdxDataset,
  sha256Hex,
  verifyCanonical,
  type CanonicalDataset,
  type CanonicalDatasetName,
  type CanonicalFile,
  type EnsureIdxOptions,
  type FetchLike,
  type FetchResponseLike,
  type IdxPairFiles,
} from './download';
export {
  balancedSubset,
  gatherRows,
  isImageSet,
  pick,
  range,
  relabel,
  rowsOfClasses,
  selectClasses,
  selectRows,
  shuffle,
  take,
  trainValSplit,
  type AnySet,
  type BaseSet,
} from './subsets';
export {
  RINGS_AND_DISKS_LABELS,
  SURFACE_HOLE_RADIUS,
  noisySemicircle,
  ringsAndDisks,
  surfaceWithHole,
  twoMoons,
  type RingsAndDisksOptions,
  type ToyOptions,
} from './toy';
