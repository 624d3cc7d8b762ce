/**
 * Memory bounds on input (issue 16): a gzipped IDX file is inflated no further than its header declares
 * (a gzip bomb costs a few bytes, on the download path too), dataset names are checked against the
 * table, and batch sizes come from the decoder's size so that the wasm heap does not run out.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { MAX_IDX_BYTES, encodeIdx, ensureIdxFiles, loadIdxDataset, parseIdx, readIdx, type FetchLike } from '../src/lib/data';
import { TANGENT_BYTES_PER_BATCH, jacobianBatchSize, tangentFloatsPerPoint } from '../src/lib/geometry/batch-budget';
import { lsoDatasetSettings } from '../src/lib/pipelines/lso';
import { GaussianDecoder } from '../src/lib/models/decoder';
import { createMlp } from '../src/lib/nn/mlp';
import { InputError } from '../src/lib/util/errors';
import { Rng } from '../src/lib/util/rng';
import { setupBackend } from './helpers';

before(setupBackend);

/** An IDX header declaring 18 bytes (8 of header, 10 values), then `members` gzip members of 4 MiB of zeros each (4 KB each compressed). */
function gzipBomb(members: number): Buffer {
  const header = encodeIdx({ type: 'ubyte', dims: [10], data: new Uint8Array(10) });
  const zeros = gzipSync(Buffer.alloc(4 << 20));
  return Buffer.concat([gzipSync(header), ...new Array<Buffer>(members).fill(zeros)]);
}

const BOMB_MESSAGE = /inflates to more than the 18 bytes its IDX header declares \(ubyte \[10\]\): a corrupt file or a gzip bomb$/;

test('a gzip bomb (1 MB inflating to 1 GiB) is refused after inflating what its header declares', (t) => {
  const bomb = gzipBomb(256);
  assert.ok(bomb.length < 1.1e6, `${bomb.length} bytes`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lso-bomb-')), 'bomb-idx1-ubyte.gz');
  t.after(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
  fs.writeFileSync(file, bomb);
  const buffersBefore = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  assert.throws(() => readIdx(file), (err: unknown) => err instanceof InputError && err.message.startsWith(`${file}: `) && BOMB_MESSAGE.test(err.message));
  // Inflating it all would take seconds and a gigabyte.
  assert.ok(performance.now() - t0 < 1000, `${performance.now() - t0} ms`);
  assert.ok(process.memoryUsage().arrayBuffers - buffersBefore < 64 << 20, 'no large buffer was allocated');
  // One member that inflates beyond its header is refused the same way.
  const single = gzipSync(Buffer.concat([encodeIdx({ type: 'ubyte', dims: [10], data: new Uint8Array(10) }), Buffer.alloc(1 << 20)]));
  assert.throws(() => parseIdx(single, 'single.gz'), { message: /^single\.gz: inflates to more than the 18 bytes/ });
});

test('a header declaring more than MAX_IDX_BYTES is refused before inflating', () => {
  const header = Buffer.from([0, 0, 0x08, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2]);
  assert.throws(() => parseIdx(gzipSync(header), 'huge.gz'), {
    message: new RegExp(`^huge\\.gz: IDX header declares 8589934602 bytes \\(ubyte \\[4294967295, 2\\]\\); at most ${MAX_IDX_BYTES} bytes are accepted$`),
  });
  assert.throws(() => parseIdx(header, 'huge-raw'), { message: /^huge-raw: IDX header declares 8589934602 bytes/ });
  // A good file still reads, gzipped or not.
  const good = encodeIdx({ type: 'float', dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
  assert.deepEqual(parseIdx(gzipSync(good), 'good.gz').dims, [2, 3]);
});

test('download: a bomb served by every mirror is refused on each without inflating it, nothing is cached', async (t) => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lso-bomb-cache-'));
  t.after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
  const bomb = gzipBomb(64);
  let fetches = 0;
  const fetchImpl: FetchLike = async () => (fetches++, { ok: true, status: 200, arrayBuffer: async () => bomb.buffer.slice(bomb.byteOffset, bomb.byteOffset + bomb.length) });
  const t0 = performance.now();
  await assert.rejects(ensureIdxFiles({ dataset: 'mnist', splits: ['test'], cacheDir, download: true, fetchImpl }), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /the download failed \(nothing unverified was kept\)/);
    assert.equal(err.message.match(/a gzip bomb/g)?.length, fetches, 'each mirror is named with the reason');
    return true;
  });
  assert.equal(fetches, 6, 'two files, three mirrors each');
  assert.ok(performance.now() - t0 < 2000, `${performance.now() - t0} ms`);
  const cached = path.join(cacheDir, 'mnist');
  assert.deepEqual(fs.existsSync(cached) ? fs.readdirSync(cached) : [], []);
});

test('unknown dataset names list the valid ones (also names only Object.prototype answers)', async () => {
  for (const name of ['mnst', 'constructor', 'toString', '__proto__']) {
    await assert.rejects(ensureIdxFiles({ dataset: name as 'mnist' }), {
      name: 'InputError',
      message: `ensureIdxFiles.dataset: unknown dataset ${JSON.stringify(name)}; expected one of mnist, fashion-mnist`,
    });
  }
  await assert.rejects(loadIdxDataset({ dataset: 'constructor' as 'mnist', split: 'train', scaling: '01' }), { message: /^loadIdxDataset\.dataset: unknown dataset "constructor"; expected one of mnist, fashion-mnist$/ });
  assert.throws(() => lsoDatasetSettings('mnist' as 'mnist01'), { name: 'InputError', message: /^dataset: unknown dataset "mnist"; expected one of .*mnist01/ });
});

function decoderOf(sizes: number[], std: boolean): GaussianDecoder {
  const rng = new Rng(1);
  const mean = createMlp({ sizes, activations: sizes.slice(1).map(() => 'tanh' as const) }, rng);
  return new GaussianDecoder(mean, std ? { kind: 'net', net: createMlp({ sizes, activations: sizes.slice(1).map(() => 'softplus' as const) }, rng) } : { kind: 'none' });
}

test('batch sizes: the default for MNIST-sized decoders, small enough for 200,000 outputs', () => {
  const mnist = decoderOf([2, 64, 256, 784], true);
  assert.equal(jacobianBatchSize(mnist, 'expected', 1024), 1024, 'an MNIST decoder keeps the requested batch');
  mnist.dispose();
  // The decoder: 200,000 outputs ran the heap out at the default batch of 1024 (measured:
  // `memory access out of bounds`), and computed at batch 64.
  const wide = decoderOf([2, 16, 200000], true);
  const b = jacobianBatchSize(wide, 'expected', 1024);
  assert.equal(tangentFloatsPerPoint(wide, 'expected'), 3 * 400000);
  assert.equal(b, Math.floor(TANGENT_BYTES_PER_BATCH / (4 * 3 * 400000)));
  assert.ok(b >= 1 && b <= 64, `batch ${b}`);
  assert.ok(4 * b * tangentFloatsPerPoint(wide, 'expected') <= TANGENT_BYTES_PER_BATCH);
  assert.equal(jacobianBatchSize(wide, 'mean', 1024), Math.floor(TANGENT_BYTES_PER_BATCH / (4 * 3 * 200000)), 'the mean metric differentiates one net');
  assert.equal(jacobianBatchSize(wide, 'expected', 1024, 3), Math.floor(b / 3), "Newton steps' shifted copies count");
  assert.equal(jacobianBatchSize(wide, 'expected', 5), 5, 'never more than requested');
  wide.dispose();
});
