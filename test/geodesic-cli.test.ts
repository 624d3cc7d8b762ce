/**
 * `latent-geometry geodesics`: the output file's shape and exact end points, and input errors that name
 * the field and leave no output behind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { geodesicsCommand } from '../src/cli/commands/geodesics';
import { writeDecoderJson } from '../src/lib/io/decoder-json';
import { GaussianDecoder } from '../src/lib/models/decoder';
import { createMlp } from '../src/lib/nn/mlp';
import { InputError } from '../src/lib/util/errors';
import { Rng } from '../src/lib/util/rng';
import { setupBackend } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lso-geodesics-'));
const decoderFile = path.join(dir, 'decoder.json');

before(async () => {
  process.env.LSO_QUIET = '1';
  await setupBackend();
  const rng = new Rng(3);
  const mean = createMlp({ sizes: [2, 16, 24], activations: ['tanh', 'sigmoid'] }, rng);
  const std = createMlp({ sizes: [2, 16, 24], activations: ['tanh', 'softplus'] }, rng);
  const decoder = new GaussianDecoder(mean, { kind: 'net', net: std });
  writeDecoderJson(decoderFile, decoder);
  decoder.dispose();
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function writePairs(name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

test('writes curves that start and end exactly at the given points', async () => {
  const p0 = [
    [0.1 + 0.2, -1 / 3],
    [1.25, 0.7],
  ];
  const p1 = [
    [Math.PI / 4, Math.SQRT1_2],
    [-1.5, -0.123456789012345],
  ];
  const out = path.join(dir, 'out.json');
  await geodesicsCommand.run(['--decoder', decoderFile, '--pairs', writePairs('pairs.json', { p0, p1 }), '--out', out, '--points', '10', '--tol', '1e-7']);
  const res = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.deepEqual(Object.keys(res).sort(), ['converged', 'curves', 'failures', 'iterations', 'lengths', 'seconds']);
  assert.equal(res.curves.length, 2);
  res.curves.forEach((curve: number[][], b: number) => {
    assert.equal(curve.length, 10);
    assert.deepEqual(curve[0], p0[b]);
    assert.deepEqual(curve[9], p1[b]);
    assert.ok(res.lengths[b] > 0);
  });
  assert.deepEqual(res.converged, [true, true]);
  assert.deepEqual(res.failures, [null, null]);
  assert.ok(Number.isInteger(res.iterations) && res.iterations > 0);
  assert.ok(res.seconds > 0 && res.seconds < 60);
});

async function expectInputError(args: string[], where: RegExp, out?: string): Promise<void> {
  await assert.rejects(geodesicsCommand.run(args), (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.match(err.message, where);
    return true;
  });
  if (out) assert.equal(fs.existsSync(out), false, 'no output may be written on failure');
}

test('bad pairs name the field; nothing is written', async () => {
  const out = path.join(dir, 'never.json');
  const run = (name: string, value: unknown) => ['--decoder', decoderFile, '--pairs', writePairs(name, value), '--out', out];
  await expectInputError(run('mismatch.json', { p0: [[0, 0]], p1: [[1, 1], [2, 2]] }), /mismatch\.json: p1: has 2 points but p0 has 1/, out);
  await expectInputError(run('dim.json', { p0: [[0, 0], [1, 2, 3]], p1: [[1, 1], [2, 2]] }), /dim\.json: p0\[1\]: expected 2 coordinates/, out);
  await expectInputError(run('nan.json', { p0: [[0, 0]], p1: [[1, 'x']] }), /nan\.json: p1\[0\]\[1\]: expected a finite number, got "x"/, out);
  await expectInputError(run('missing.json', { p0: [[0, 0]] }), /missing\.json: p1: missing/, out);
  await expectInputError(run('shape.json', [[0, 0]]), /shape\.json: \(top level\): expected an object/, out);
});

test('bad options name the option', async () => {
  const pairs = writePairs('ok.json', { p0: [[0, 0]], p1: [[1, 1]] });
  await expectInputError(['--decoder', decoderFile, '--pairs', pairs, '--tol', 'abc'], /--tol: expected a number in \(0, 1\)/);
  await expectInputError(['--decoder', decoderFile, '--pairs', pairs, '--points', '2'], /--points: expected at least 3/);
  await expectInputError(['--decoder', path.join(dir, 'absent.json'), '--pairs', pairs], /absent\.json: no such file/);
});

test('--init graph starts from shortest paths on a grid when the file has no latent codes', async () => {
  const p0 = [[-1.5, -1]];
  const p1 = [[1.5, 1.2]];
  const out = path.join(dir, 'graph.json');
  await geodesicsCommand.run(['--decoder', decoderFile, '--pairs', writePairs('graph-pairs.json', { p0, p1 }), '--out', out, '--init', 'graph']);
  const res = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.deepEqual(res.curves[0][0], p0[0]);
  assert.deepEqual(res.curves[0][15], p1[0]);
  assert.deepEqual(res.converged, [true]);
});
