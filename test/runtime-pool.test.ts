/**
 * The worker pool (runtime/pool.ts) and metricTensorsParallel: same results as metricTensors, decoders
 * re-sent when their weights change, errors passed back, and a process that exits by itself.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GaussianDecoder, StdModel } from '../src/lib/models/decoder';
import { createMlp } from '../src/lib/nn/mlp';
import { DecoderMetric, expectedMetric } from '../src/lib/geometry/decoder-metric';
import { fieldsAt, metricTensors } from '../src/lib/geometry/fields';
import { ParallelStats, metricFieldsParallel, metricTensorsParallel, metricWorkerEntry, metricWorkerPool } from '../src/lib/geometry/parallel-fields';
import { WorkerPool, threadCount, tsxWorkerEntry, workerEntry } from '../src/lib/runtime/pool';
import { DecoderJson } from '../src/lib/io/decoder-json';
import { InputError } from '../src/lib/util/errors';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, maxRelErr, setupBackend } from './helpers';

const ROOT = path.resolve(__dirname, '..');
let pool: WorkerPool;

before(async () => {
  await setupBackend();
  pool = metricWorkerPool(1);
  await pool.ready();
});

after(() => pool.close());

function decoder(std: StdModel['kind'], seed = 2): GaussianDecoder {
  const rng = new Rng(seed);
  const mean = createMlp({ sizes: [2, 32, 64], activations: ['tanh', 'sigmoid'] }, rng);
  if (std === 'net') return new GaussianDecoder(mean, { kind: 'net', net: createMlp({ sizes: [2, 16, 64], activations: ['tanh', 'softplus'] }, rng) });
  if (std === 'rbf') {
    const k = 6;
    return new GaussianDecoder(mean, {
      kind: 'rbf',
      rbf: {
        centers: tf.tensor2d(rng.normals(k * 2), [k, 2]),
        bandwidths: tf.fill([k], 0.7) as tf.Tensor1D,
        weightT: tf.variable(tf.tensor2d(Float32Array.from({ length: k * 64 }, () => rng.uniform()), [k, 64])),
        zeta: 1e-2,
      },
    });
  }
  return new GaussianDecoder(mean);
}

function randomPoints(n: number, seed = 4): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: 2 * n }, () => 6 * rng.uniform() - 3);
}

for (const std of ['net', 'rbf', 'none'] as const) {
  test(`metricTensorsParallel equals metricTensors to 1e-5 (std model ${std}), on both threads, without leaks`, async () => {
    const dec = decoder(std);
    const points = randomPoints(3000);
    const want = metricTensors(expectedMetric(dec), points);
    const stats = {} as ParallelStats;
    const got = await expectNoLeak(() => metricTensorsParallel(expectedMetric(dec), points, { pool, minChunk: 64, batchSize: 200, stats }));
    assert.ok(maxRelErr(got, want, 1e-3) < 1e-5, `max relative error ${maxRelErr(got, want, 1e-3)}`);
    assert.equal(stats.threads, 2);
    assert.equal(stats.points[0] + stats.points[1], 3000);
    assert.ok(stats.points[1] > 0, `the worker computed nothing: ${JSON.stringify(stats)}`);
    dec.dispose();
  });
}

test('metricFieldsParallel gives metricTensors and fieldsAt (from the R factor) on both threads', async () => {
  const dec = decoder('rbf', 3);
  const points = randomPoints(2000, 3);
  const metric = expectedMetric(dec);
  const stats = {} as ParallelStats;
  const { tensors, fields } = await expectNoLeak(() => metricFieldsParallel(metric, points, { pool, minChunk: 64, stats }));
  assert.ok(stats.points[1] > 0, `the worker computed nothing: ${JSON.stringify(stats)}`);
  assert.ok(maxRelErr(tensors, metricTensors(metric, points), 1e-3) < 1e-5);
  const want = fieldsAt(metric, points);
  assert.ok(maxRelErr(fields.volume, want.volume) < 1e-5);
  assert.ok(maxRelErr(fields.logVolume, want.logVolume, 1e-3) < 1e-5);
  assert.ok(maxRelErr(fields.conditionNumber, want.conditionNumber) < 1e-5);
  dec.dispose();
});

test('the mean metric kind and the {decoder, kind} form agree with DecoderMetric', async () => {
  const dec = decoder('net');
  const points = randomPoints(1000, 8);
  const want = metricTensors(new DecoderMetric(dec, 'mean'), points);
  const got = await metricTensorsParallel({ decoder: dec, kind: 'mean' }, points, { pool, minChunk: 64 });
  assert.ok(maxRelErr(got, want, 1e-3) < 1e-5);
  dec.dispose();
});

test('a decoder whose weights changed is sent again', async () => {
  const dec = decoder('net', 5);
  const points = randomPoints(1000, 6);
  await metricTensorsParallel(expectedMetric(dec), points, { pool, minChunk: 64 });
  const kernel = dec.meanNet.denseLayers()[1].kernel;
  tf.tidy(() => kernel.assign(tf.mul(kernel, 1.5)));
  const want = metricTensors(expectedMetric(dec), points);
  const got = await metricTensorsParallel(expectedMetric(dec), points, { pool, minChunk: 64 });
  assert.ok(maxRelErr(got, want, 1e-3) < 1e-5, 'the worker used the old weights');
  dec.dispose();
});

test('small inputs, other metrics and a null pool are computed on the main thread', async () => {
  const dec = decoder('none');
  const stats = {} as ParallelStats;
  const few = randomPoints(10);
  assert.deepEqual(await metricTensorsParallel(expectedMetric(dec), few, { pool, stats }), metricTensors(expectedMetric(dec), few));
  assert.equal(stats.threads, 1);
  const custom = { dim: 2, tensor: (z: tf.Tensor2D) => tf.tidy(() => tf.mul(tf.expandDims(tf.eye(2), 0), tf.reshape(tf.sum(tf.square(z), 1), [-1, 1, 1])) as tf.Tensor3D) };
  const many = randomPoints(2000);
  assert.deepEqual(await metricTensorsParallel(custom, many, { pool, stats }), metricTensors(custom, many));
  assert.equal(stats.threads, 1);
  await metricTensorsParallel(expectedMetric(dec), many, { pool: null, stats });
  assert.equal(stats.threads, 1);
  dec.dispose();
});

test('a worker error is passed back as a rejection and the pool stays usable', async () => {
  const task = { options: { kind: 'expected' }, output: 'metric', points: new Float32Array(4) };
  pool.load('broken', () => ({ format: 'decoder-json/v1', data: { format: 'nope' } as unknown as DecoderJson }));
  await assert.rejects(pool.run(0, { id: 'broken', task }), /format: expected "decoder-json\/v1"/);
  pool.load('alien', () => ({ format: 'onnx', data: {} }));
  await assert.rejects(pool.run(0, { id: 'alien', task }), /unknown metric format "onnx"/);
  assert.ok(pool.usable);
  pool.drop('broken');
  pool.drop('alien');
});

test('LSO_THREADS sets the thread count; a bad value names the variable', () => {
  assert.equal(threadCount({ LSO_THREADS: '1' }), 1);
  assert.equal(threadCount({ LSO_THREADS: '3' }), 3);
  assert.ok(threadCount({}) >= 1);
  assert.throws(() => threadCount({ LSO_THREADS: 'many' }), (e: unknown) => e instanceof InputError && /^LSO_THREADS: expected a positive integer/.test(e.message));
});

test('the worker entry: the compiled sibling in dist/; from src/, a fresh build or the source through tsx', () => {
  const fromDist = workerEntry(path.join(ROOT, 'dist', 'lib', 'geometry', 'parallel-fields.js'), 'metric-worker');
  assert.equal(fromDist.kind, 'compiled');
  assert.equal(fromDist.script, path.join(ROOT, 'dist', 'lib', 'geometry', 'metric-worker.js'));
  assert.match(metricWorkerEntry().kind, /^(compiled|tsx)$/);
  const source = path.join(ROOT, 'src', 'lib', 'geometry', 'metric-worker.ts');
  assert.match(tsxWorkerEntry(source).script, /tsx.*metric-worker\.ts/s);
});

test('the tsx-started worker computes the same as the main thread', async () => {
  const tsxPool = new WorkerPool(1, tsxWorkerEntry(path.join(ROOT, 'src', 'lib', 'geometry', 'metric-worker.ts')));
  try {
    const dec = decoder('rbf', 12);
    const points = randomPoints(800, 12);
    const got = await metricTensorsParallel(expectedMetric(dec), points, { pool: tsxPool, minChunk: 64 });
    assert.ok(maxRelErr(got, metricTensors(expectedMetric(dec), points), 1e-3) < 1e-5);
    dec.dispose();
  } finally {
    await tsxPool.close();
  }
});

test('a process using the shared pool exits by itself, without closing it', async () => {
  const script = `
    const { initBackend } = require('./src/lib/runtime/backend');
    const { metricTensorsParallel } = require('./src/lib/geometry/parallel-fields');
    const { expectedMetric } = require('./src/lib/geometry/decoder-metric');
    const { createMlp } = require('./src/lib/nn/mlp');
    const { GaussianDecoder } = require('./src/lib/models/decoder');
    const { Rng } = require('./src/lib/util/rng');
    initBackend({ quiet: true }).then(async () => {
      const dec = new GaussianDecoder(createMlp({ sizes: [2, 8, 16], activations: ['tanh', 'sigmoid'] }, new Rng(1)));
      const stats = {};
      const out = await metricTensorsParallel(expectedMetric(dec), new Float32Array(4000).fill(0.5), { stats });
      process.stdout.write(JSON.stringify({ n: out.length, threads: stats.threads }));
    });`;
  const started = Date.now();
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: { ...process.env, LSO_THREADS: '2' }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { n: 8000, threads: 2 });
  assert.ok(Date.now() - started < 30_000);
});
