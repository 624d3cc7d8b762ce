/**
 * The built command line (dist/cli/main.js) as a child process: results, help, and bad input giving one
 * line on stderr, a non-zero exit code and no output file.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decoderToJson, readDecoderJson } from '../src/lib/io/decoder-json';
import { expectedMetric } from '../src/lib/geometry/decoder-metric';
import { fieldsAt } from '../src/lib/geometry/fields';
import { GaussianDecoder } from '../src/lib/models/decoder';
import { createMlp } from '../src/lib/nn/mlp';
import { Rng } from '../src/lib/util/rng';
import { fixtureSkip, maxRelErr, setupBackend, sharedFixture } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
const FIXTURE = 'lso-mnist-decoder.json';
const REFERENCE = 'lso-mnist-metric-reference.json';

let dir = '';
/** A small 2-D decoder with a sigma net, written by the test, so that most tests need no shared fixture. */
let smallDecoder = '';

function newestMtime(d: string): number {
  return Math.max(
    0,
    ...fs.readdirSync(d, { withFileTypes: true }).map((e) => {
      const p = path.join(d, e.name);
      return e.isDirectory() ? newestMtime(p) : e.name.endsWith('.ts') ? fs.statSync(p).mtimeMs : 0;
    }),
  );
}

/** Builds dist/ when it is missing or older than src/ (`npm test` builds first; a lone run may not). */
function ensureBuilt(): void {
  if (fs.existsSync(MAIN) && fs.statSync(MAIN).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) return;
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    // Type errors elsewhere still emit JavaScript; whether the CLI was built is checked below.
  }
  assert.ok(fs.existsSync(MAIN), `${MAIN} was not built`);
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: dir, env: { ...process.env, LSO_QUIET: '', ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function writeJson(name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

before(async () => {
  ensureBuilt();
  await setupBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lso-cli-'));
  const rng = new Rng(3);
  const mean = createMlp({ sizes: [2, 16, 30], activations: ['tanh', 'sigmoid'] }, rng);
  const std = createMlp({ sizes: [2, 8, 30], activations: ['tanh', 'softplus'] }, rng);
  const dec = new GaussianDecoder(mean, { kind: 'net', net: std });
  smallDecoder = writeJson('small-decoder.json', decoderToJson(dec));
  dec.dispose();
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface MetricOutput {
  metric: number[][][];
  volume: number[];
  seconds: number;
}

function checkShapeAndVolume(out: MetricOutput, n: number): void {
  assert.deepEqual(Object.keys(out).sort(), ['metric', 'seconds', 'volume']);
  assert.equal(out.metric.length, n);
  assert.equal(out.volume.length, n);
  out.metric.forEach((m, i) => {
    assert.equal(m.length, 2);
    m.forEach((row) => assert.equal(row.length, 2));
    const det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    assert.ok(Math.abs(out.volume[i] - Math.sqrt(det)) <= 1e-5 * Math.sqrt(det), `volume ${out.volume[i]} vs sqrt(det) ${Math.sqrt(det)}`);
  });
  assert.equal(typeof out.seconds, 'number');
  assert.ok(out.seconds >= 0 && out.seconds < 60, `seconds ${out.seconds}`);
}

test('--help exits 0 and lists the commands; each command has its own help', async () => {
  const top = await cli(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Usage: latent-geometry <command>/);
  for (const name of ['metric', 'info']) assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'));
  const metric = await cli(['metric', '--help']);
  assert.equal(metric.code, 0);
  for (const s of ['--decoder FILE', '--points FILE', '--out FILE', '--kind expected|mean', 'default: expected', '--batch N', 'default: 1024', 'Examples:']) {
    assert.ok(metric.stdout.includes(s), `metric --help lacks ${s}`);
  }
  const info = await cli(['info', '--help']);
  assert.equal(info.code, 0);
  assert.match(info.stdout, /--decoder FILE/);
});

test('metric on the authors MNIST decoder: shape, volume = sqrt(det), the reference values, seconds', { skip: fixtureSkip(FIXTURE) || fixtureSkip(REFERENCE) }, async () => {
  const ref = JSON.parse(fs.readFileSync(sharedFixture(REFERENCE)!, 'utf8')) as { points: number[][]; metric: number[][][]; volume: number[] };
  const points = writeJson('ref-points.json', { points: ref.points });
  const outFile = path.join(dir, 'sub', 'ref-metric.json');
  const r = await cli(['metric', '--decoder', sharedFixture(FIXTURE)!, '--points', points, '--out', outFile]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'nothing on stdout with --out');
  assert.equal(r.stderr, 'latent-geometry: tfjs backend wasm\n', 'the backend line, on stderr only');
  const out = JSON.parse(fs.readFileSync(outFile, 'utf8')) as MetricOutput;
  checkShapeAndVolume(out, ref.points.length);
  assert.ok(maxRelErr(out.metric.flat(2), ref.metric.flat(2), 1) < 1e-4);
  assert.ok(maxRelErr(out.volume, ref.volume) < 1e-4);
});

test('metric far from the data: the volume is the accurate one from the R factor (fieldsAt)', { skip: fixtureSkip(FIXTURE) }, async () => {
  const far = [[40, -40], [25, 30], [-60, 5]];
  const r = await cli(['metric', '--decoder', sharedFixture(FIXTURE)!, '--points', writeJson('far.json', { points: far })]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as MetricOutput;
  const { decoder } = readDecoderJson(sharedFixture(FIXTURE)!);
  const want = fieldsAt(expectedMetric(decoder), Float32Array.from(far.flat())).volume;
  decoder.dispose();
  assert.ok(maxRelErr(out.volume, want) < 1e-6, `${out.volume} vs ${Array.from(want)}`);
});

test('metric without --out prints the JSON on stdout; --kind mean drops the sigma part', async () => {
  const points = writeJson('pts.json', { points: [[0, 0], [0.5, -1], [2, 1]] });
  const [expected, mean] = await Promise.all([
    cli(['metric', '--decoder', smallDecoder, '--points', points]),
    cli(['metric', '--decoder', smallDecoder, '--points', points, '--kind', 'mean', '--batch', '2']),
  ]);
  assert.equal(expected.code, 0, expected.stderr);
  assert.equal(mean.code, 0, mean.stderr);
  const e = JSON.parse(expected.stdout) as MetricOutput;
  const m = JSON.parse(mean.stdout) as MetricOutput;
  checkShapeAndVolume(e, 3);
  checkShapeAndVolume(m, 3);
  // E[J^T J] = J_mu^T J_mu + J_sigma^T J_sigma: the expected metric's diagonal is the larger.
  e.metric.forEach((g, i) => assert.ok(g[0][0] > m.metric[i][0][0] && g[1][1] > m.metric[i][1][1]));
});

test('metric on worker threads (--threads 2) equals the single-threaded result', async () => {
  const rng = new Rng(11);
  const points = writeJson('many.json', { points: Array.from({ length: 1500 }, () => [4 * rng.uniform() - 2, 4 * rng.uniform() - 2]) });
  const [one, two] = await Promise.all([
    cli(['metric', '--decoder', smallDecoder, '--points', points, '--threads', '1']),
    cli(['metric', '--decoder', smallDecoder, '--points', points, '--threads', '2', '--batch', '256']),
  ]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  const [a, b] = [JSON.parse(one.stdout) as MetricOutput, JSON.parse(two.stdout) as MetricOutput];
  assert.ok(maxRelErr(b.metric.flat(2), a.metric.flat(2), 1e-3) < 1e-5);
});

test('info describes the decoder, as text and as JSON', async () => {
  const [text, json] = await Promise.all([cli(['info', '--decoder', smallDecoder]), cli(['info', '--decoder', smallDecoder, '--json'])]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /latent_dim\s+2/);
  assert.match(text.stdout, /linear 2 -> 16, tanh, linear 16 -> 30, sigmoid/);
  const info = JSON.parse(json.stdout) as { latent_dim: number; output_dim: number; std: { kind: string }; latent_codes: null };
  assert.equal(info.output_dim, 30);
  assert.equal(info.std.kind, 'sigma_net');
  assert.equal(info.latent_codes, null);
});

describe('bad input: exit code != 0, one line on stderr naming the problem, no output file', { concurrency: 4 }, () => {
  const cases: { what: string; args: () => string[]; stderr: RegExp }[] = [
    { what: 'missing points file', args: () => ['--points', 'nope.json'], stderr: /^latent-geometry: nope\.json: no such file$/ },
    { what: 'missing decoder file', args: () => ['--decoder', 'nodec.json', '--points', writeJson('ok1.json', { points: [[0, 0]] })], stderr: /^latent-geometry: nodec\.json: no such file$/ },
    { what: 'malformed JSON', args: () => ['--points', writeJson('bad-json.json', '{"points": [[0, 0],')], stderr: /bad-json\.json: malformed JSON/ },
    { what: 'missing points key', args: () => ['--points', writeJson('no-key.json', { pts: [[0, 0]] })], stderr: /no-key\.json: points: missing; expected an array of points/ },
    { what: 'non-array points', args: () => ['--points', writeJson('not-array.json', { points: 'all' })], stderr: /not-array\.json: points: expected an array of points.*got "all"/ },
    { what: 'a point that is not an array', args: () => ['--points', writeJson('row.json', { points: [[0, 0], 5] })], stderr: /row\.json: points\[1\]: expected an array of 2 numbers, got 5/ },
    { what: 'wrong dimension', args: () => ['--points', writeJson('dim.json', { points: [[0, 0], [1, 2, 3]] })], stderr: /dim\.json: points\[1\]: expected 2 coordinates \(the decoder's latent_dim\), got 3/ },
    { what: 'null coordinate (JSON has no NaN)', args: () => ['--points', writeJson('null.json', { points: [[0, 0], [1, 1], [2, 2], [3, null]] })], stderr: /^latent-geometry: .*null\.json: points\[3\]\[1\]: expected a finite number, got null$/ },
    { what: 'string coordinate', args: () => ['--points', writeJson('str.json', { points: [['0', 0]] })], stderr: /str\.json: points\[0\]\[0\]: expected a finite number, got "0"/ },
    { what: 'bad decoder file', args: () => ['--decoder', writeJson('bad-dec.json', { format: 'decoder-json/v0' }), '--points', writeJson('ok2.json', { points: [[0, 0]] })], stderr: /bad-dec\.json: format: expected "decoder-json\/v1"/ },
    { what: 'unknown option', args: () => ['--points', writeJson('ok3.json', { points: [[0, 0]] }), '--colour', 'red'], stderr: /--colour: unknown option; expected one of --decoder, --points/ },
    { what: 'missing required option', args: () => [], stderr: /--points: missing; expected FILE/ },
    { what: 'bad --kind', args: () => ['--points', writeJson('ok4.json', { points: [[0, 0]] }), '--kind', 'fisher'], stderr: /--kind: expected one of expected, mean, got "fisher"/ },
    { what: 'bad --batch', args: () => ['--points', writeJson('ok5.json', { points: [[0, 0]] }), '--batch', '-3'], stderr: /--batch: expected a positive integer, got "-3"/ },
  ];
  for (const c of cases) {
    test(c.what, async () => {
      const out = path.join(dir, `out-${c.what.replace(/\W+/g, '-')}.json`);
      const args = c.args();
      const withDecoder = args.includes('--decoder') ? args : ['--decoder', smallDecoder, ...args];
      const r = await cli(['metric', ...withDecoder, '--out', out]);
      assert.notEqual(r.code, 0);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `stderr should be one line:\n${r.stderr}`);
      assert.match(lines[0], c.stderr);
      assert.ok(!/\bat .+:\d+:\d+/.test(r.stderr), 'no stack trace');
      assert.equal(r.stdout, '');
      assert.ok(!fs.existsSync(out), 'no output file');
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary files');
    });
  }
  test('unknown command and no command', async () => {
    for (const args of [['frobnicate'], []]) {
      const r = await cli(args);
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
      assert.match(r.stderr, /expected one of metric, geodesics, info/);
    }
  });
});
