/**
 * Autograding the shipped assignments end to end: each submission runs in its own sandboxed kernel
 * (needs the built package: npm run build). The reference solutions score full marks; deliberately wrong
 * answers lose exactly the points of the checks that target their mistake; the stub-only release scores
 * zero with "not implemented yet"; a hanging cell and an exhausted memory are stopped and score zero for
 * what they did not finish; attempts to write into the checkout, read the teacher's notebook or start a
 * process are refused and reported, and leave the checkout untouched.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cellSource, readNotebook, splitLines, writeNotebook, type Cell, type NotebookJson } from '../src/lib/notebook/ipynb';
import { gradeSubmissions, type GradeReport } from '../src/lib/classroom/grade';
import { gradingMeta, releaseDir, sourceNotebookPath } from '../src/lib/classroom/nbgrader';
import { NOT_IMPLEMENTED } from '../src/lib/classroom/release';
import { Sandbox } from '../src/lib/classroom/sandbox';

const root = path.resolve(__dirname, '..');
const layout = { root };
const built = fs.existsSync(path.join(root, 'dist', 'lib', 'notebook', 'kernel-child.js'));
const skip = built ? false : 'dist/ is missing: npm run build first';
/** One package mirror for every grading here (it takes seconds to make and to remove). */
let shared: Sandbox | null = null;
function sandbox(): Sandbox {
  shared ??= Sandbox.create();
  return shared;
}
after(() => shared?.dispose());

/** The released notebook with some solution cells answered (by grade_id) and plain cells added after others. */
function submission(name: string, answers: Record<string, string>, added: Record<string, string> = {}): NotebookJson {
  const released = readNotebook(path.join(releaseDir(layout, name), `${name}.ipynb`));
  const cells: Cell[] = [];
  for (const cell of released.cells) {
    const id = gradingMeta(cell)?.grade_id;
    cells.push(id !== undefined && id in answers ? { ...cell, source: splitLines(answers[id]) } : cell);
    if (id !== undefined && id in added) cells.push({ cell_type: 'code', source: splitLines(added[id]), metadata: {}, outputs: [], execution_count: null });
  }
  return { ...released, cells };
}

/** The teacher's answers (solution cells of the source notebook), by grade_id. */
function teacherAnswers(name: string): Record<string, string> {
  const teacher = readNotebook(sourceNotebookPath(layout, name));
  return Object.fromEntries(teacher.cells.filter((c) => gradingMeta(c)?.solution).map((c) => [gradingMeta(c)!.grade_id, cellSource(c)]));
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-classroom-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function save(dir: string, file: string, nb: NotebookJson): string {
  const out = path.join(dir, file);
  writeNotebook(out, nb);
  return out;
}

function pointsByCheck(r: GradeReport): Record<string, number> {
  return Object.fromEntries(r.checks.map((c) => [c.gradeId, c.points]));
}

function failed(r: GradeReport): string[] {
  return r.checks.filter((c) => c.status !== 'passed').map((c) => c.gradeId);
}

const WRONG_METRIC = `function expectedMetricFromJacobians(jMu: tf.Tensor3D, jSigma: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    // The bug of a published re-implementation: only the first d output dimensions, a square [d, d] block.
    const d = jMu.shape[2];
    const gram = (j: tf.Tensor3D) => {
      const square = tf.slice(j, [0, 0, 0], [-1, d, -1]);
      return tf.matMul(tf.transpose(square, [0, 2, 1]), square);
    };
    return tf.add(gram(jMu), gram(jSigma)) as tf.Tensor3D;
  });
}`;

const HANGING_METRIC_AT = `function expectedMetricAt(decoder: Decoder, z: tf.Tensor2D): tf.Tensor3D {
  while (true) {} // forgot the loop's exit
}`;

/** Tries what a submission must not do; everything is refused, and the last attempt is left uncaught. */
function maliciousCell(): string {
  const teacher = sourceNotebookPath(layout, 'expected-metric');
  return `import * as fs from 'node:fs';
const attempts: [string, () => unknown][] = [
  ['write into source/', () => fs.writeFileSync(${JSON.stringify(path.join(root, 'source', 'expected-metric', 'pwned.txt'))}, 'x')],
  ['write through the package link', () => fs.writeFileSync(${JSON.stringify(path.join(root, 'node_modules', 'latent-geometry', 'pwned.txt'))}, 'x')],
  ['write into the package mirror', () => fs.writeFileSync('../node_modules/latent-geometry/dist/pwned.js', 'x')],
  ['read the teacher notebook', () => fs.readFileSync(${JSON.stringify(teacher)}, 'utf8')],
  ['start a process', () => require('child_process').execSync('touch /tmp/lg-pwned')],
  ['plant a fake package for the check cells', () => fs.mkdirSync('node_modules/latent-geometry', { recursive: true })],
];
for (const [what, attempt] of attempts) {
  try {
    attempt();
    console.log(what, 'SUCCEEDED');
  } catch (err) {
    console.log(what, 'refused:', String(err));
  }
}
fs.writeFileSync(require('node:path').join(require('node:os').tmpdir(), 'scratch.txt'), 'the temporary folder is writable');
fs.writeFileSync(${JSON.stringify(path.join(root, 'pwned.txt'))}, 'x');`;
}

const MEMORY_HOG = `const hog: number[][] = [];
while (true) hog.push(new Array(1e6).fill(Math.random()));`;

test('expected-metric: reference, first-d-rows bug, stub release, hanging cell, malicious and memory-hungry code', { skip }, async (t) => {
  const dir = tempDir(t);
  const name = 'expected-metric';
  const reference = sourceNotebookPath(layout, name); // the teacher's own notebook: hidden tests included
  const wrong = save(dir, 'wrong.ipynb', submission(name, { ...teacherAnswers(name), 'expected-metric-from-jacobians': WRONG_METRIC }));
  const stub = path.join(releaseDir(layout, name), `${name}.ipynb`);
  const hanging = save(dir, 'hanging.ipynb', submission(name, { ...teacherAnswers(name), 'expected-metric-at': HANGING_METRIC_AT }));
  const hostile = save(dir, 'hostile.ipynb', submission(name, teacherAnswers(name), { setup: maliciousCell(), 'check-decoder-library': MEMORY_HOG }));
  const before = fs.readdirSync(path.join(root, 'source', name));
  const reports = await gradeSubmissions([reference, wrong, stub, hanging, hostile], { layout, name, limits: { cellSeconds: 20, memoryMb: 640 }, sandbox: sandbox() });
  const [ref, bug, empty, hang, bad] = reports;

  assert.equal(ref.points, 9, JSON.stringify(ref, null, 1));
  assert.equal(ref.maxPoints, 9);
  assert.deepEqual(ref.tampered, []);
  assert.deepEqual(ref.cellErrors, []);
  assert.equal(ref.kernel.completed, true);

  // The square [d, d] block keeps the shape, symmetry, memory and magnification checks, and fails the rest.
  assert.deepEqual(pointsByCheck(bug), {
    'check-metric-shape': 1,
    'check-metric-closed-form': 0,
    'check-metric-memory': 1,
    'check-decoder-closed-form': 0,
    'check-decoder-library': 0,
    'check-magnification': 1,
  });
  const closedForm = bug.checks.find((c) => c.gradeId === 'check-metric-closed-form')!;
  assert.match(closedForm.error!, /^CheckFailure: M for J_mu = .*got \[0, 0, 0, 0\], expected \[10, 14, 14, 21\]/s);
  assert.match(closedForm.error!, /Hint: sum over all D rows/);

  assert.equal(empty.points, 0);
  for (const c of empty.checks) assert.match(c.error!, new RegExp(`^Error: ${NOT_IMPLEMENTED}: `), c.gradeId);
  assert.equal(empty.kernel.completed, true);

  // Part 1 passes; the endless loop is stopped at the first check that calls it; nothing after it runs.
  assert.deepEqual(pointsByCheck(hang), {
    'check-metric-shape': 1,
    'check-metric-closed-form': 2,
    'check-metric-memory': 1,
    'check-decoder-closed-form': 0,
    'check-decoder-library': 0,
    'check-magnification': 0,
  });
  assert.equal(hang.checks[3].status, 'failed');
  assert.match(hang.checks[3].error!, /^TimeoutError: the cell ran longer than the limit of 20 s/);
  assert.equal(hang.checks[4].status, 'not-run');
  assert.match(hang.checks[4].error!, /^not run: the kernel stopped earlier: TimeoutError/);
  assert.equal(hang.kernel.completed, false);

  // Every attempt was refused and reported; the checks before the memory hog still count.
  assert.deepEqual(pointsByCheck(bad), {
    'check-metric-shape': 1,
    'check-metric-closed-form': 2,
    'check-metric-memory': 1,
    'check-decoder-closed-form': 2,
    'check-decoder-library': 2,
    'check-magnification': 0,
  });
  assert.match(bad.kernel.stopped!, /MemoryError/);
  const malicious = bad.cellErrors.find((e) => e.cell === 3)!;
  assert.match(malicious.error, /Access to this API has been restricted/);
  assert.equal(bad.violations.length, 7, JSON.stringify(bad.violations)); // six attempts and the uncaught seventh
  assert.ok(bad.violations.every((v) => v.cell === 3));
  assert.ok(bad.flags.some((f) => f.reason.includes('processes')), JSON.stringify(bad.flags));
  for (const f of [path.join(root, 'pwned.txt'), path.join(root, 'source', name, 'pwned.txt'), '/tmp/lg-pwned']) assert.equal(fs.existsSync(f), false, f);
  assert.deepEqual(fs.readdirSync(path.join(root, 'source', name)), before);
});

const WRONG_BANDWIDTHS = `function bandwidths(latents: Float32Array, dim: number, centers: Float32Array, assignments: Int32Array, curvature: number): Float32Array {
  // Mean squared distance instead of the mean distance.
  const k = centers.length / dim;
  const sum = new Float64Array(k);
  const count = new Float64Array(k);
  assignments.forEach((c, i) => {
    for (let j = 0; j < dim; j++) sum[c] += (latents[i * dim + j] - centers[c * dim + j]) ** 2;
    count[c] += 1;
  });
  return Float32Array.from(sum, (s, c) => 0.5 / (curvature * (s / count[c])) ** 2);
}`;

const WRONG_ENERGY = `function curveEnergy(metric: Metric, curve: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    // The left-point rule: M at c_i instead of the midpoint.
    const t = curve.shape[0];
    const from = tf.slice(curve, [0, 0], [t - 1, -1]);
    const delta = tf.sub(tf.slice(curve, [1, 0], [t - 1, -1]), from);
    const mDelta = tf.squeeze(tf.matMul(metric.tensor(from), tf.expandDims(delta, 2)), [2]);
    return tf.mul(tf.sum(tf.mul(mDelta, delta)), t - 1) as tf.Scalar;
  });
}`;

test('rbf-precision and curve-energy: references score full marks, typical mistakes lose their checks', { skip }, async (t) => {
  const dir = tempDir(t);
  const rbfWrong = save(dir, 'rbf-wrong.ipynb', submission('rbf-precision', { ...teacherAnswers('rbf-precision'), bandwidths: WRONG_BANDWIDTHS }));
  const curveWrong = save(dir, 'curve-wrong.ipynb', submission('curve-energy', { ...teacherAnswers('curve-energy'), 'curve-energy': WRONG_ENERGY }));
  const [[rbfRef, rbfBug], [curveRef, curveBug]] = await Promise.all([
    gradeSubmissions([sourceNotebookPath(layout, 'rbf-precision'), rbfWrong], { layout, name: 'rbf-precision', jobs: 1, sandbox: sandbox() }),
    gradeSubmissions([sourceNotebookPath(layout, 'curve-energy'), curveWrong], { layout, name: 'curve-energy', jobs: 1, sandbox: sandbox() }),
  ]);
  assert.equal(rbfRef.points, rbfRef.maxPoints, JSON.stringify(rbfRef, null, 1));
  assert.equal(rbfRef.maxPoints, 7);
  assert.deepEqual(failed(rbfBug), ['check-bandwidths-by-hand', 'check-bandwidths-kmeans']);
  assert.equal(rbfBug.points, 4);
  assert.match(rbfBug.checks[0].error!, /bandwidths with curvature a = 1: got \[0\.037190, 0\.031250\], expected \[0\.18000, 0\.12500\]/);

  assert.equal(curveRef.points, curveRef.maxPoints, JSON.stringify(curveRef, null, 1));
  assert.equal(curveRef.maxPoints, 8);
  assert.deepEqual(failed(curveBug), ['check-energy-half-plane']);
  assert.equal(curveBug.points, 6);
  assert.match(curveBug.checks[1].error!, /Hint: evaluate M at the midpoints/);
});
