/** The benchmark harness (bench/run.ts) on cheap cases, and the metric-grid case's grid on a small grid. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BenchCase, discoverCases, formatTable, parseBenchArgs, runCase, selectCases } from '../bench/run';
import { benchCase as metricGrid, benchGrid, buildBenchDecoder, gridVolumes, median } from '../bench/cases/metric-grid-100';
import { WorkerPool } from '../src/lib/runtime/pool';
import { metricWorkerPool } from '../src/lib/geometry/parallel-fields';
import { setupBackend } from './helpers';

const ROOT = path.resolve(__dirname, '..');

before(setupBackend);

const cheap: BenchCase = {
  name: 'cheap',
  unit: 's',
  target: 1,
  async run() {
    tf.tidy(() => tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])).dataSync());
    return { value: 0.25, detail: { repeats: 3 } };
  },
};

test('runCase: a cheap case gives a row with the value, unit and the harness detail', async () => {
  const row = await runCase(cheap);
  assert.equal(row.name, 'cheap');
  assert.equal(row.value, 0.25);
  assert.equal(row.unit, 's');
  const d = row.detail;
  assert.equal(d.target, 1);
  assert.equal(d.status, 'ok');
  assert.equal(d.repeats, 3, 'case detail is kept');
  assert.equal(d.backend, 'wasm');
  assert.equal(d.numTensorsAfter, d.numTensorsBefore);
  assert.ok(d.peakRssBytes > 10 * 2 ** 20, `peak RSS ${d.peakRssBytes}`);
  assert.ok(d.peakHeapUsedBytes > 0);
  assert.ok(d.peakTfBytes >= 0);
  assert.ok(d.wallSeconds >= 0);
  assert.deepEqual(JSON.parse(JSON.stringify(row)), row, 'the row is plain JSON');
});

test('runCase flags leaks, errors and values over target', async () => {
  let kept: tf.Tensor | null = null;
  const leak = await runCase({ name: 'leaky', unit: 's', run: async () => ((kept = tf.ones([3])), { value: 1 }) });
  assert.equal(leak.detail.status, 'leak');
  assert.equal(leak.detail.numTensorsAfter - leak.detail.numTensorsBefore, 1);
  (kept as tf.Tensor | null)?.dispose();

  const failing = await runCase({ name: 'failing', unit: 's', run: async () => Promise.reject(new Error('boom')) });
  assert.equal(failing.detail.status, 'error');
  assert.equal(failing.value, null);
  assert.equal(failing.detail.error, 'boom');

  const slow = await runCase({ name: 'slow', unit: 's', target: 0.1, run: async () => ({ value: 0.2 }) });
  assert.equal(slow.detail.status, 'over target');
  assert.equal(slow.value, 0.2);

  const table = formatTable([leak, failing, slow]);
  for (const s of ['name', 'value', 'unit', 'target', 'status', 'peak RSS', 'leak (1 tensors)', 'error', 'over target', 'failing: boom']) {
    assert.ok(table.includes(s), `the table lacks ${s}:\n${table}`);
  }
});

test('the cases are discovered from bench/cases; unknown names are an error listing them', () => {
  const all = discoverCases();
  assert.ok(all.some((c) => c.name === 'metric-grid-100'));
  for (const c of all) assert.equal(typeof c.run, 'function');
  assert.deepEqual(
    selectCases(all, ['metric-grid-100']).map((c) => c.name),
    ['metric-grid-100'],
  );
  assert.throws(() => selectCases(all, ['nope']), /unknown case nope; the cases are: .*metric-grid-100/);
  assert.deepEqual(parseBenchArgs(['a', '--json', 'b']).names, ['a', 'b']);
  assert.throws(() => parseBenchArgs(['--fast']), /--fast: unknown option/);
});

test('npm run bench -- --help and an unknown case name, as a user runs them', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: ROOT }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  const [help, unknown] = await Promise.all([run(['--help']), run(['no-such-case'])]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: npm run bench -- \[names\.\.\.\]/);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^bench: unknown case no-such-case; the cases are: .*metric-grid-100/);
});

let pool: WorkerPool | null = null;
after(() => pool?.close());

test('metric-grid-100: the grid volumes are finite and positive, the same on worker threads', async () => {
  assert.equal(metricGrid.name, 'metric-grid-100');
  assert.equal(metricGrid.unit, 's');
  assert.equal(metricGrid.target, 0.35);
  const decoder = buildBenchDecoder();
  const points = benchGrid(24);
  assert.equal(points.length, 2 * 24 * 24);
  const single = await gridVolumes(decoder, points, null);
  assert.equal(single.length, 24 * 24);
  for (const v of single) assert.ok(Number.isFinite(v) && v > 0, `volume ${v}`);
  pool = metricWorkerPool(1);
  const parallel = await gridVolumes(decoder, points, pool);
  for (let i = 0; i < single.length; i++) assert.ok(Math.abs(parallel[i] - single[i]) <= 1e-5 * single[i]);
  decoder.dispose();
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});
