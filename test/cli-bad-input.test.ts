/**
 * Careless and hostile input to the command line (issue 16), as a table: each row is a command line and
 * the files it names, and must end with exit code 2, exactly one line on stderr matching the row's
 * pattern, no output file and no temporary file. Then what --out does with what is already there
 * (links, FIFOs, devices, modes, inputs) and with SIGINT / SIGTERM during the write.
 *
 * The table runs the dispatcher in-process (main() returns the exit code), capturing stderr only: the
 * test runner reports on stdout.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../src/cli/main';
import { MAX_JSON_OUTPUT_BYTES } from '../src/cli/checks';
import { setupBackend } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lso-bad-input-'));
const isRoot = process.getuid?.() === 0;

type Json = Record<string, any>;

/** A linear layer [out][in] with small deterministic weights. */
function linear(out: number, inp: number, scale = 0.3): Json {
  return {
    kind: 'linear',
    weight: Array.from({ length: out }, (_, i) => Array.from({ length: inp }, (_, j) => scale * Math.sin(1 + i + 2 * j))),
    bias: Array.from({ length: out }, (_, i) => 0.01 * i),
  };
}

const act = (name: string, extra: Json = {}): Json => ({ kind: 'activation', name, ...extra });

/** A small valid decoder-json: 2-D latent, 3 outputs, a sigma net ending in softplus. */
function decoderJson(d = 2, out = 3): Json {
  return {
    format: 'decoder-json/v1',
    latent_dim: d,
    output_dim: out,
    mean_net: { layers: [linear(4, d), act('tanh'), linear(out, 4), act('sigmoid')] },
    sigma_net: { layers: [linear(4, d), act('tanh'), linear(out, 4), act('softplus', { beta: 1, threshold: 20 })] },
  };
}

/** The same with an RBF precision net instead of the sigma net. */
function rbfDecoderJson(): Json {
  const j = decoderJson();
  delete j.sigma_net;
  j.precision_net = { kind: 'rbf', centers: [[0, 0], [1, 1]], bandwidths: [1, 2], weight: [[1, 0.5], [0.2, 1], [1, 1]], zeta: 1e-3 };
  return j;
}

function edited(base: Json, edit: (j: Json) => void): Json {
  const j = JSON.parse(JSON.stringify(base)) as Json;
  edit(j);
  return j;
}

let counter = 0;
/** Writes JSON (or raw text) to a fresh file in the test folder and returns its path. */
function file(value: unknown, name = `f${++counter}.json`): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
}

interface Run {
  code: number;
  stderr: string;
}

/** main() in-process with stderr captured and `env` set for the call. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await main(args), stderr };
  } finally {
    process.stderr.write = write;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function tempFiles(): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

let dec = '';
let points = '';
let pairs = '';

before(async () => {
  await setupBackend();
  process.env.LSO_QUIET = '1';
  dec = file(decoderJson(), 'decoder.json');
  points = file({ points: [[0, 0], [0.5, -1]] }, 'points.json');
  pairs = file({ p0: [[0, 0]], p1: [[1, 0.5]] }, 'pairs.json');
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Row {
  what: string;
  /** The command line; `out` is a fresh output path that must not exist afterwards. */
  args: (out: string) => string[];
  stderr: RegExp;
  env?: Record<string, string>;
  /** A file whose content must be unchanged afterwards (an input given as --out). */
  keep?: () => string;
  skip?: string | false;
}

const metric = (decoder: () => string, pts: () => string = () => points, extra: string[] = []) => (out: string) => ['metric', '--decoder', decoder(), '--points', pts(), '--out', out, ...extra];
const geodesics = (decoder: () => string, prs: () => string = () => pairs, extra: string[] = []) => (out: string) => ['geodesics', '--decoder', decoder(), '--pairs', prs(), '--out', out, ...extra];
const info = (decoder: () => string) => () => ['info', '--decoder', decoder()];
const withDecoder = (edit: (j: Json) => void, base: () => Json = decoderJson) => () => file(edited(base(), edit));

const FLOAT32_RANGE = 'expected a number within float32 range \\(\\|x\\| <= 3\\.4028234663852886e\\+38; larger is infinite in float32\\), got 1e\\+39';
const POSITIVE = 'expected a number > 0 that float32 holds \\(>= 1\\.1754943508222875e-38; smaller underflows to 0\\)';

const ROWS: Row[] = [
  // float32 range: finite in JSON, infinite in float32
  { what: 'a weight of 1e39', args: metric(withDecoder((j) => (j.mean_net.layers[0].weight[1][0] = 1e39))), stderr: new RegExp(`f\\d+\\.json: mean_net\\.layers\\[0\\]\\.weight\\[1\\]\\[0\\]: ${FLOAT32_RANGE}$`) },
  { what: 'a bias of -1e39', args: info(withDecoder((j) => (j.sigma_net.layers[2].bias[2] = -1e39))), stderr: /sigma_net\.layers\[2\]\.bias\[2\]: expected a number within float32 range .*got -1e\+39$/ },
  { what: 'a bandwidth of 1e39', args: metric(withDecoder((j) => (j.precision_net.bandwidths[1] = 1e39), rbfDecoderJson)), stderr: new RegExp(`precision_net\\.bandwidths\\[1\\]: ${FLOAT32_RANGE}$`) },
  { what: 'an RBF weight of 1e39', args: metric(withDecoder((j) => (j.precision_net.weight[0][1] = 1e39), rbfDecoderJson)), stderr: /precision_net\.weight\[0\]\[1\]: expected a number within float32 range/ },
  { what: 'a centre of 1e39', args: metric(withDecoder((j) => (j.precision_net.centers[0][0] = 1e39), rbfDecoderJson)), stderr: /precision_net\.centers\[0\]\[0\]: expected a number within float32 range/ },
  { what: 'a latent code of 1e39', args: info(withDecoder((j) => (j.latent_codes = [[0, 0], [1e39, 0]]))), stderr: /latent_codes\[1\]\[0\]: expected a number within float32 range/ },
  { what: 'a point of 1e39', args: metric(() => dec, () => file({ points: [[0, 0], [0, 1e39]] })), stderr: new RegExp(`f\\d+\\.json: points\\[1\\]\\[1\\]: ${FLOAT32_RANGE}$`) },
  { what: 'an end point of -1e39', args: geodesics(() => dec, () => file({ p0: [[0, 0]], p1: [[-1e39, 0]] })), stderr: /p1\[0\]\[0\]: expected a number within float32 range .*got -1e\+39$/ },
  // parameters' domains, including underflow to 0 in float32
  { what: 'zeta 1e-300 (0 in float32)', args: metric(withDecoder((j) => (j.precision_net.zeta = 1e-300), rbfDecoderJson)), stderr: new RegExp(`precision_net\\.zeta: ${POSITIVE}, got 1e-300$`) },
  { what: 'zeta 1e-40 (subnormal in float32)', args: metric(withDecoder((j) => (j.precision_net.zeta = 1e-40), rbfDecoderJson)), stderr: new RegExp(`precision_net\\.zeta: ${POSITIVE}, got 1e-40$`) },
  { what: 'zeta 0', args: metric(withDecoder((j) => (j.precision_net.zeta = 0), rbfDecoderJson)), stderr: /precision_net\.zeta: expected a number > 0 .*, got 0$/ },
  { what: 'a bandwidth of 0', args: metric(withDecoder((j) => (j.precision_net.bandwidths[0] = 0), rbfDecoderJson)), stderr: /precision_net\.bandwidths\[0\]: expected a number > 0 .*, got 0$/ },
  { what: 'softplus beta 0', args: metric(withDecoder((j) => (j.sigma_net.layers[3].beta = 0))), stderr: new RegExp(`sigma_net\\.layers\\[3\\]\\.beta: ${POSITIVE}, got 0$`) },
  { what: 'softplus beta -2', args: metric(withDecoder((j) => (j.sigma_net.layers[3].beta = -2))), stderr: /sigma_net\.layers\[3\]\.beta: expected a number > 0 .*, got -2$/ },
  { what: 'softplus threshold 0', args: metric(withDecoder((j) => (j.sigma_net.layers[3].threshold = 0))), stderr: /sigma_net\.layers\[3\]\.threshold: expected a number > 0 .*, got 0$/ },
  { what: 'softplus threshold -5', args: info(withDecoder((j) => (j.sigma_net.layers[3].threshold = -5))), stderr: /sigma_net\.layers\[3\]\.threshold: expected a number > 0 .*, got -5$/ },
  { what: 'softplus beta as a string', args: info(withDecoder((j) => (j.sigma_net.layers[3].beta = '1'))), stderr: /sigma_net\.layers\[3\]\.beta: expected a finite number, got "1"$/ },
  // sizes: declared dimensions bounded and checked against the arrays before anything is allocated
  { what: 'latent_dim 1e9', args: metric(withDecoder((j) => (j.latent_dim = 1e9))), stderr: /f\d+\.json: latent_dim: expected a positive integer at most 4096, got 1000000000$/ },
  { what: 'latent_dim 4000 with 2-column weights', args: metric(withDecoder((j) => (j.latent_dim = 4000))), stderr: /f\d+\.json: mean_net\.layers\[0\]\.weight\[0\]: expected 4000 numbers, got 2$/ },
  { what: 'latent_dim 2.5', args: info(withDecoder((j) => (j.latent_dim = 2.5))), stderr: /latent_dim: expected a positive integer at most 4096, got 2\.5$/ },
  { what: 'output_dim 1e12', args: info(withDecoder((j) => (j.output_dim = 1e12))), stderr: /output_dim: expected a positive integer at most 16777216, got 1000000000000$/ },
  { what: 'a mean net of activations only', args: metric(withDecoder((j) => (j.mean_net.layers = [act('tanh')]))), stderr: /f\d+\.json: mean_net\.layers: expected at least one linear layer, got only activation layers$/ },
  { what: 'a sigma net of activations only', args: info(withDecoder((j) => (j.sigma_net.layers = [act('softplus')]))), stderr: /sigma_net\.layers: expected at least one linear layer, got only activation layers$/ },
  // options
  { what: '--threads beyond the cores', args: metric(() => dec, () => points, ['--threads', '1000']), stderr: new RegExp(`^latent-geometry: --threads: expected at most ${os.availableParallelism()} \\(the cores this process may use\\), got 1000$`) },
  { what: 'LSO_THREADS beyond the cores', args: metric(() => dec), env: { LSO_THREADS: '999' }, stderr: /^latent-geometry: LSO_THREADS: expected at most \d+ \(the cores this process may use\), got 999$/ },
  { what: '--batch 0', args: metric(() => dec, () => points, ['--batch', '0']), stderr: /--batch: expected a positive integer, got "0"$/ },
  { what: '--batch beyond its bound', args: metric(() => dec, () => points, ['--batch', '99999999']), stderr: /--batch: expected at most 1048576, got 99999999$/ },
  { what: '--points 2', args: geodesics(() => dec, () => pairs, ['--points', '2']), stderr: /--points: expected at least 3, got 2$/ },
  { what: '--points beyond its bound', args: geodesics(() => dec, () => pairs, ['--points', '100000']), stderr: /--points: expected at most 10000, got 100000$/ },
  { what: '--max-iter beyond its bound', args: geodesics(() => dec, () => pairs, ['--max-iter', '1000000000']), stderr: /--max-iter: expected at most 100000, got 1000000000$/ },
  { what: '--tol 1e-400 (0 as a number)', args: geodesics(() => dec, () => pairs, ['--tol', '1e-400']), stderr: /--tol: expected a number in \(0, 1\), got "1e-400"$/ },
  { what: '--tol NaN', args: geodesics(() => dec, () => pairs, ['--tol', 'NaN']), stderr: /--tol: expected a number in \(0, 1\), got "NaN"$/ },
  // output size, refused before the compute
  {
    what: 'metric output larger than one call writes',
    args: metric(() => file(decoderJson(256, 2)), () => file({ points: Array.from({ length: 300 }, () => new Array(256).fill(0.1)) })),
    stderr: new RegExp(`^latent-geometry: --points: 300 points would write up to \\d+ MB of JSON, more than the ${MAX_JSON_OUTPUT_BYTES / 2 ** 20} MB one call writes to --out or stdout; pass at most \\d+ points per call \\(there is no binary \\.npy output yet\\)$`),
  },
  {
    what: 'geodesics output larger than one call writes',
    args: geodesics(() => dec, () => file({ p0: new Array(600).fill([0, 0]), p1: new Array(600).fill([1, 1]) }), ['--points', '10000']),
    stderr: /^latent-geometry: --pairs: 600 pairs of 10000-point curves would write up to \d+ MB of JSON, .*pass at most \d+ pairs of 10000-point curves per call/,
  },
  // inputs that are not JSON files
  { what: 'a points file that is not JSON', args: metric(() => dec, () => file('points: [[0, 0]]')), stderr: /f\d+\.json: malformed JSON \(Unexpected token/ },
  { what: 'a directory as the points file', args: metric(() => dec, () => dir), stderr: /lso-bad-input-\w+: is a directory; expected a JSON file$/ },
  { what: 'a file name with escape codes', args: metric(() => file('{"points": [[0, 0]', 'bad\u001b[31mname.json')), stderr: /bad\\u001b\[31mname\.json: malformed JSON/ },
  // --out
  { what: '--out equal to --points', args: () => ['metric', '--decoder', dec, '--points', points, '--out', points], keep: () => points, stderr: /^latent-geometry: --out: .*points\.json is the same file as --points .*points\.json; writing it would destroy the input \(choose another output file\)$/ },
  { what: '--out equal to --decoder', args: () => ['geodesics', '--decoder', dec, '--pairs', pairs, '--out', dec], keep: () => dec, stderr: /--out: .*decoder\.json is the same file as --decoder/ },
  {
    what: '--out a symbolic link to --points',
    args: () => {
      const link = path.join(dir, 'link-to-points.json');
      fs.rmSync(link, { force: true });
      fs.symlinkSync(points, link);
      return ['metric', '--decoder', dec, '--points', points, '--out', link];
    },
    keep: () => points,
    stderr: /--out: .*link-to-points\.json is the same file as --points/,
  },
  {
    what: '--out a hard link to --pairs',
    args: () => {
      const link = path.join(dir, 'hard-pairs.json');
      fs.rmSync(link, { force: true });
      fs.linkSync(pairs, link);
      return ['geodesics', '--decoder', dec, '--pairs', pairs, '--out', link];
    },
    keep: () => pairs,
    stderr: /--out: .*hard-pairs\.json is the same file as --pairs/,
  },
  { what: '--out a directory', args: () => ['metric', '--decoder', dec, '--points', points, '--out', dir], stderr: /^latent-geometry: --out: .*lso-bad-input-\w+ is a directory; expected a file name \(a FIFO or a character device such as \/dev\/null is written through\)$/ },
  {
    what: '--out a symbolic link loop',
    args: () => {
      const loop = path.join(dir, 'loop.json');
      fs.rmSync(loop, { force: true });
      fs.symlinkSync('loop.json', loop);
      return ['metric', '--decoder', dec, '--points', points, '--out', loop];
    },
    stderr: /^latent-geometry: --out: .*loop\.json: too many levels of symbolic links \(a loop\?\)$/,
  },
  { what: '--out under a file', args: () => ['metric', '--decoder', dec, '--points', points, '--out', path.join(points, 'x.json')], stderr: /--out: .*points\.json\/x\.json: .*points\.json is not a folder$/ },
  {
    what: '--out in a folder without write permission',
    skip: isRoot ? 'root may write anywhere' : false,
    args: () => {
      const ro = path.join(dir, 'read-only');
      fs.mkdirSync(ro, { recursive: true });
      fs.chmodSync(ro, 0o555);
      return ['metric', '--decoder', dec, '--points', points, '--out', path.join(ro, 'x.json')];
    },
    stderr: /--out: .*x\.json: cannot create files in .*read-only \(permission denied\)$/,
  },
  {
    what: '--out a socket',
    args: () => ['metric', '--decoder', dec, '--points', points, '--out', socketPath],
    stderr: /^latent-geometry: --out: .*sock is a socket; expected a file name/,
  },
];

let socketPath = '';
let server: net.Server | null = null;

describe('bad input: exit code 2, one line naming the file, field or option and what was expected, no output', () => {
  before(async () => {
    socketPath = path.join(dir, 'sock');
    server = net.createServer();
    await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
  });
  after(() => server?.close());

  for (const [i, row] of ROWS.entries()) {
    test(row.what, { skip: row.skip }, async () => {
      const out = path.join(dir, `out-${i}.json`);
      const keep = row.keep?.();
      const before = keep ? fs.readFileSync(keep) : null;
      const r = await cli(row.args(out), row.env);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `stderr should be one line:\n${r.stderr}`);
      assert.match(lines[0], row.stderr);
      assert.match(lines[0], /^latent-geometry: /);
      assert.ok(!/\u001b/.test(r.stderr), 'no raw escape codes');
      assert.equal(r.code, 2, r.stderr);
      assert.ok(!fs.existsSync(out), 'no output file');
      assert.deepEqual(tempFiles(), [], 'no temporary files');
      if (keep && before) assert.deepEqual(fs.readFileSync(keep), before, 'the input is unchanged');
    });
  }
});

test('info escapes control characters of the description (text) and JSON escapes them (--json)', async () => {
  const evil = 'nice model\u001b[2J\u001b]0;pwned\u0007\nsecond line\u009b31m';
  const f = file(edited(decoderJson(), (j) => (j.description = evil)));
  const stdoutOf = async (args: string[]): Promise<string> => {
    const chunks: string[] = [];
    const write = process.stdout.write;
    // The test runner's own stdout reports wait for the event loop; info prints before main() resolves.
    process.stdout.write = ((c: string) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
    try {
      assert.equal(await main(args), 0);
    } finally {
      process.stdout.write = write;
    }
    return chunks.join('');
  };
  const rawControl = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
  const text = await stdoutOf(['info', '--decoder', f]);
  assert.ok(!rawControl.test(text), `raw control characters in ${JSON.stringify(text)}`);
  assert.match(text, /description\s+nice model\\u001b\[2J\\u001b\]0;pwned\\u0007\\nsecond line\\u009b31m\n/);
  const json = await stdoutOf(['info', '--decoder', f, '--json']);
  assert.ok(!rawControl.test(json), `raw control characters in ${JSON.stringify(json)}`);
  assert.equal((JSON.parse(json) as { description: string }).description, evil);
});

describe('--out: what is already at the path', () => {
  const run = (out: string) => cli(['metric', '--decoder', dec, '--points', points, '--out', out]);

  test('a symbolic link: its target is replaced atomically and the link stays a link', async () => {
    const target = path.join(dir, 'target.json');
    fs.writeFileSync(target, 'old');
    const link = path.join(dir, 'link.json');
    fs.symlinkSync('target.json', link);
    const r = await run(link);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.equal(fs.readlinkSync(link), 'target.json');
    assert.equal((JSON.parse(fs.readFileSync(target, 'utf8')) as { volume: number[] }).volume.length, 2);
    // A dangling link: its target is created.
    const dangling = path.join(dir, 'dangling.json');
    fs.symlinkSync('created-through-link.json', dangling);
    assert.equal((await run(dangling)).code, 0);
    assert.ok(fs.lstatSync(dangling).isSymbolicLink());
    assert.ok(fs.statSync(path.join(dir, 'created-through-link.json')).isFile());
  });

  test('an existing file keeps its mode (0600 stays 0600); a new file gets 0666 less the umask', async () => {
    const secret = path.join(dir, 'secret.json');
    fs.writeFileSync(secret, 'old', { mode: 0o600 });
    fs.chmodSync(secret, 0o600);
    assert.equal((await run(secret)).code, 0);
    assert.equal(fs.statSync(secret).mode & 0o777, 0o600);
    const fresh = path.join(dir, 'fresh.json');
    assert.equal((await run(fresh)).code, 0);
    const probe = path.join(dir, 'probe');
    fs.writeFileSync(probe, ''); // created as any new file is: 0666 less the umask
    assert.equal(fs.statSync(fresh).mode & 0o777, fs.statSync(probe).mode & 0o777);
  });

  test('a 250-character file name (its temporary name must still fit in 255 bytes)', async () => {
    const long = path.join(dir, `${'x'.repeat(245)}.json`);
    assert.equal((await run(long)).code, 0);
    assert.ok(fs.statSync(long).isFile());
  });

  test('a FIFO is written through (a reader gets the JSON) and stays a FIFO', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const [r, text] = await Promise.all([run(fifo), fs.promises.readFile(fifo, 'utf8')]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.statSync(fifo).isFIFO());
    assert.equal((JSON.parse(text) as { volume: number[] }).volume.length, 2);
  });

  test('a character device (a null device) is written through and stays a device', async () => {
    // As root a rename would replace the node: test on a private null device, never the system's /dev/null.
    let nul = '/dev/null';
    if (isRoot) {
      nul = path.join(dir, 'null');
      execFileSync('mknod', [nul, 'c', '1', '3']);
    }
    const r = await run(nul);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.statSync(nul).isCharacterDevice());
    assert.deepEqual(tempFiles(), []);
  });
});

test('--out /dev/stdout into a pipe is written through (a magic link with no path behind it)', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'metric', '--decoder', dec, '--points', points, '--out', '/dev/stdout'], {
    cwd: ROOT,
    env: { ...process.env, LSO_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += String(c)));
  child.stderr.on('data', (c) => (stderr += String(c)));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.equal((JSON.parse(stdout) as { volume: number[] }).volume.length, 2);
});

/** A child process writing through writeFileAtomicAsync, stopping after the first piece until signalled. */
function stalledWriter(out: string): ReturnType<typeof spawn> {
  const code = `
    const { writeFileAtomicAsync } = require(${JSON.stringify(path.join(ROOT, 'src/lib/util/atomic.ts'))});
    async function* pieces() {
      yield Buffer.alloc(1 << 20, 32);
      process.stdout.write('written\\n');
      await new Promise(() => setInterval(() => {}, 1000));
    }
    writeFileAtomicAsync(${JSON.stringify(out)}, pieces());
  `;
  return spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
}

for (const [signal, exit] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} during the write removes the temporary file and exits with ${exit}`, async () => {
    const sub = path.join(dir, `signal-${signal}`);
    fs.mkdirSync(sub);
    const out = path.join(sub, 'result.json');
    fs.writeFileSync(out, 'previous result');
    const child = stalledWriter(out);
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const temps = fs.readdirSync(sub).filter((f) => f.endsWith('.tmp'));
    assert.equal(temps.length, 1, 'the temporary file exists while writing');
    assert.match(temps[0], new RegExp(`^\\.result\\.json\\.${child.pid}\\.[0-9a-f]{12}\\.tmp$`), 'pid and random bytes in the name');
    child.kill(signal);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, exit);
    assert.deepEqual(fs.readdirSync(sub), ['result.json'], 'only the previous result is left');
    assert.equal(fs.readFileSync(out, 'utf8'), 'previous result');
  });
}

test('a JSON file with a byte-order mark (as some editors write) is read', async () => {
  const out = path.join(dir, 'bom-out.json');
  const r = await cli(['metric', '--decoder', dec, '--points', file(`\uFEFF${JSON.stringify({ points: [[0, 0]] })}`), '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(fs.readFileSync(out, 'utf8')) as { volume: number[] }).volume.length, 1);
});
