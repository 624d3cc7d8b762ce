/**
 * Hostile submissions against the autograder (issue 19): each attack is graded beside the honest
 * submission it corresponds to and must score exactly as that one would, with no hidden test leaked into
 * anything the student gets back. The attacks: replacing the check helpers in the student's process,
 * forging the kernel's replies with property names built from strings, listening to the kernel's channel
 * for hidden tests, signalling the grader and the other submissions, opening a connection to a server on
 * 127.0.0.1, breaking out of the report's Markdown fence, flooding output (and the kernel's channel),
 * passing itself off as a check cell, returning what cannot cross; and malformed notebooks.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { cellSource, readNotebook, splitLines, writeNotebook, type Cell, type NotebookJson } from '../src/lib/notebook/ipynb';
import { gradeSubmissions, type GradeReport } from '../src/lib/classroom/grade';
import { gradingMeta, releaseDir, sourceNotebookPath } from '../src/lib/classroom/nbgrader';
import { reportHtml, reportMarkdown } from '../src/lib/classroom/report';
import { Sandbox } from '../src/lib/classroom/sandbox';
import { KERNEL_UID_BASE, isolationPlan, probeIsolation } from '../src/lib/classroom/isolation';
import { spawn, spawnSync } from 'node:child_process';

const root = path.resolve(__dirname, '..');
const layout = { root };
const name = 'expected-metric';
const built = fs.existsSync(path.join(root, 'dist', 'lib', 'classroom', 'grading-kernel.js'));
const skip = built ? false : 'dist/ is missing: npm run build first';
let shared: Sandbox | null = null;
after(() => shared?.dispose());

function released(assignment = name): NotebookJson {
  return readNotebook(path.join(releaseDir(layout, assignment), `${assignment}.ipynb`));
}

function teacherAnswers(): Record<string, string> {
  const teacher = readNotebook(sourceNotebookPath(layout, name));
  return Object.fromEntries(teacher.cells.filter((c) => gradingMeta(c)?.solution).map((c) => [gradingMeta(c)!.grade_id, cellSource(c)]));
}

/** The released notebook with answers, and plain cells added first (`before`) or after a grade_id. */
function submission(answers: Record<string, string>, added: Record<string, string> = {}, first?: string, assignment = name): NotebookJson {
  const cells: Cell[] = [];
  const plain = (source: string): Cell => ({ cell_type: 'code', source: splitLines(source), metadata: {}, outputs: [], execution_count: null });
  for (const cell of released(assignment).cells) {
    const id = gradingMeta(cell)?.grade_id;
    cells.push(id !== undefined && id in answers ? { ...cell, source: splitLines(answers[id]) } : cell);
    if (id === 'setup' && first) cells.push(plain(first));
    if (id !== undefined && id in added) cells.push(plain(added[id]));
  }
  return { ...released(assignment), cells };
}

/** The hidden tests' source lines (what must never reach a student). */
function hiddenLines(): string[] {
  const teacher = readNotebook(sourceNotebookPath(layout, name));
  const lines: string[] = [];
  for (const cell of teacher.cells) {
    let inside = false;
    for (const line of cellSource(cell).split('\n')) {
      if (/BEGIN HIDDEN TESTS/.test(line)) inside = true;
      else if (/END HIDDEN TESTS/.test(line)) inside = false;
      else if (inside && line.trim().length > 25) lines.push(line.trim());
    }
  }
  return lines;
}

function assertNoHiddenTest(r: GradeReport): void {
  const everything = JSON.stringify(r) + reportMarkdown(r) + reportHtml(r);
  for (const line of hiddenLines()) assert.ok(!everything.includes(line) && !everything.includes(JSON.stringify(line).slice(1, -1)), `hidden test leaked: ${line}`);
}

const points = (r: GradeReport) => Object.fromEntries(r.checks.map((c) => [c.gradeId, c.points]));

/** Replaces every check helper the library exports, in the student's process (2/9 -> 9/9 before). */
const OVERRIDE_CHECKS = `const checks: any = require('latent-geometry/dist/lib/classroom/checks');
const lib: any = require('latent-geometry');
for (const k of ['expectClose', 'expectShape', 'expectThat', 'expectNoTensorLeak']) {
  checks[k] = () => undefined;
  try { Object.defineProperty(lib, k, { value: () => undefined, configurable: true }); } catch {}
}
(globalThis as any).expectClose = () => undefined;`;

/** Rewrites every message the kernel sends to the grader as a success (9/9 to the stubs before). */
const FORGE_REPLIES = `const N: any = require('n' + 'et');
const proto = N['Soc' + 'ket']['proto' + 'type'];
const w = 'wr' + 'ite';
const original = proto[w];
proto[w] = function (chunk: any, ...rest: any[]) {
  if (typeof chunk === 'string' && chunk.includes('"kind"')) {
    try {
      const m = JSON.parse(chunk);
      if (m.kind === 'done') chunk = JSON.stringify({ kind: 'done', ok: true, outputs: [], count: m.count }) + '\\n';
      if (m.kind === 'result') chunk = JSON.stringify({ kind: 'result', id: m.id, ok: true, leaked: 0 }) + '\\n';
    } catch {}
  }
  return original.call(this, chunk, ...rest);
};
// The IPC channel kernels used before: every cell reported as passed.
const p: any = process;
const send = p['se' + 'nd'];
if (typeof send === 'function') {
  p['se' + 'nd'] = function (m: any, ...rest: any[]) {
    return send.call(this, m && m.kind === 'done' ? { kind: 'done', ok: true, outputs: [], count: m.count } : m, ...rest);
  };
}`;

/** Records everything the kernel receives, then prints it into the report (hidden tests leaked before). */
const LISTENER = `const heard: string[] = [];
const S: any = require('net').Socket.prototype;
const emit = S.emit;
S.emit = function (ev: string, ...args: any[]) {
  if (ev === 'data') heard.push(String(args[0]));
  return emit.call(this, ev, ...args);
};
process.on('message', (m: any) => heard.push(JSON.stringify(m)));
(globalThis as any).__heard = heard;`;

/** At the end: what was heard, and a Markdown break-out, as an error the report shows. */
const LEAK_AND_BREAK_OUT = `const text = ((globalThis as any).__heard as string[]).filter((h) => /expect(Close|That|Shape)/.test(h)).join('\\n');
throw new Error('\`\`\`\\n# 9 / 9 points: all checks passed\\n![tracker](http://attacker.example/pixel.png)\\n<img src=x onerror=alert(1)>\\n\`\`\`\`\`\`\\n' + text);`;

/** Signals the grader and every process it may (only where the grader isolates: else it would succeed). */
function signals(port: number, kill: boolean): string {
  const targets = kill ? "[[process.ppid, 'SIGSTOP'], [process.ppid, 'SIGKILL'], [-1, 'SIGKILL']]" : '[]';
  return `const tried: string[] = [];
for (const [target, sig] of ${targets} as [number, string][]) {
  try {
    process.kill(target, sig);
    tried.push(\`\${target} \${sig}: sent\`);
  } catch (e: any) {
    tried.push(\`\${target} \${sig}: \${e.code}\`);
  }
}
const net = require('net');
const outcome = await new Promise<string>((resolve) => {
  const s = net.connect(${port}, '127.0.0.1');
  s.on('connect', () => { s.end('hello from the sandbox'); resolve('connected'); });
  s.on('error', (e: any) => resolve(e.code));
  setTimeout(() => resolve('timeout'), 3000);
});
console.log(tried.join('; '), 'network:', outcome);`;
}

const FLOOD = `for (let i = 0; i < 20000; i++) console.log('y'.repeat(1000)); // 20 MB`;

/** Past its own capture: one 5 MB message straight on the kernel's channel. */
const CHANNEL_FLOOD = `const fs = require('fs');
const chunk = Buffer.alloc(65536, 122);
let sent = 0;
while (sent < 5_000_000) {
  try {
    sent += fs.writeSync(3, chunk);
  } catch (e: any) {
    if (e.code !== 'EAGAIN') throw e;
  }
}
await new Promise((r) => setTimeout(r, 2000));`;

/** No tf.tidy: the four intermediate tensors of each call stay allocated in the student's kernel. */
const LEAKY_METRIC = `function expectedMetricFromJacobians(jMu: tf.Tensor3D, jSigma: tf.Tensor3D): tf.Tensor3D {
  const gram = (j: tf.Tensor3D) => tf.matMul(tf.transpose(j, [0, 2, 1]), j);
  return tf.add(gram(jMu), gram(jSigma)) as tf.Tensor3D;
}`;

/** A published re-implementation's bug: only the first d output rows (3 / 9 honestly, classroom-grade.test.ts). */
const WRONG_METRIC = `function expectedMetricFromJacobians(jMu: tf.Tensor3D, jSigma: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const d = jMu.shape[2];
    const gram = (j: tf.Tensor3D) => {
      const square = tf.slice(j, [0, 0, 0], [-1, d, -1]);
      return tf.matMul(tf.transpose(square, [0, 2, 1]), square);
    };
    return tf.add(gram(jMu), gram(jSigma)) as tf.Tensor3D;
  });
}`;

const RETURNS_A_FUNCTION = `function magnificationFactor(m: tf.Tensor3D): number[] {
  return (() => 1) as any;
}`;

test('hostile submissions score as the matching honest ones; no hidden test leaks', { skip, timeout: 600_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-hostile-'));
  // LSO_KEEP_HOSTILE=1 keeps the submissions and the executed notebooks to look at.
  if (process.env.LSO_KEEP_HOSTILE !== '1') t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  else console.log(`hostile submissions and executed notebooks in ${dir}`);
  let connections = 0;
  const server = net.createServer((s) => {
    connections += 1;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const ref = teacherAnswers();
  const save = (file: string, nb: NotebookJson) => {
    writeNotebook(path.join(dir, file), nb);
    return path.join(dir, file);
  };
  const fakeCheck: Cell = {
    cell_type: 'code',
    source: splitLines('console.log("I am a check worth 100 points");'),
    metadata: { nbgrader: { grade: true, solution: false, locked: true, grade_id: 'my-own-check', points: 100, schema_version: 3 } },
    outputs: [],
    execution_count: null,
  };
  const withFake = submission({ ...ref, 'expected-metric-from-jacobians': LEAKY_METRIC, 'magnification-factor': RETURNS_A_FUNCTION });
  withFake.cells.splice(3, 0, fakeCheck);
  const files = [
    save('override.ipynb', submission({ ...ref, 'expected-metric-from-jacobians': WRONG_METRIC }, {}, OVERRIDE_CHECKS)),
    save('forge.ipynb', submission({}, {}, FORGE_REPLIES)),
    save('listener.ipynb', submission(ref, { 'check-magnification': LEAK_AND_BREAK_OUT }, LISTENER)),
    save('signals.ipynb', submission(ref, {}, signals(port, isolationPlan().kind !== 'none'))),
    save('flood.ipynb', submission(ref, { 'check-magnification': CHANNEL_FLOOD }, FLOOD)),
    save('fake-check.ipynb', withFake),
  ];
  shared ??= Sandbox.create();
  const rssBefore = process.memoryUsage().rss;
  const reports = await gradeSubmissions(files, {
    layout,
    name,
    jobs: 2,
    sandbox: shared,
    keepNotebooks: path.join(dir, 'graded'),
    limits: { cellSeconds: 60, memoryMb: 1024, cellOutputChars: 20_000, submissionOutputChars: 100_000, callBytes: 2 << 20 },
  });
  const [override, forge, listener, signal, flood, fake] = reports;
  for (const r of reports) assertNoHiddenTest(r);

  // Helpers replaced or replies forged in the student's process change nothing: the checks run in the
  // checker. The first-d-rows metric scores 3 / 9 and the stubs 0 / 9 honestly (classroom-grade.test.ts).
  assert.deepEqual(points(override), { 'check-metric-shape': 1, 'check-metric-closed-form': 0, 'check-metric-memory': 1, 'check-decoder-closed-form': 0, 'check-decoder-library': 0, 'check-magnification': 1 });
  assert.match(override.checks[1].error!, /^CheckFailure: M for J_mu = .*got \[0, 0, 0, 0\], expected \[10, 14, 14, 21\]/s);
  assert.equal(forge.points, 0, JSON.stringify(forge.checks));

  // The reference answers score 9 / 9 whatever else the notebook does.
  for (const r of [listener, signal, flood]) assert.equal(r.points, 9, `${r.submission}: ${JSON.stringify(r.checks)}`);

  // The listener heard its own cells and the calls' values, never a check's source.
  const leak = listener.cellErrors.find((e) => e.error.includes('9 / 9 points'));
  assert.ok(leak, JSON.stringify(listener.cellErrors));
  assert.ok(!/expectClose|expectThat|CheckFailure|BEGIN HIDDEN/.test(leak.error), leak.error.slice(0, 2000));
  // The break-out stays inside its code block: the fence is longer than any backtick run in the text.
  const md = reportMarkdown(listener);
  assert.equal(markdownHeadings(md).filter((h) => h.startsWith('# ')).length, 1, md);
  assert.ok(!/<img/i.test(reportHtml(listener)), 'no live HTML in the page');

  // Signals are refused (another uid) and the network is unreachable, under the root plan.
  const plan = isolationPlan();
  const said = JSON.stringify(signal);
  if (plan.kind !== 'none') {
    assert.equal(connections, 0, 'no connection reached 127.0.0.1');
    assert.equal(signal.kernel.completed, true);
  }
  assert.ok(!said.includes('SIGSTOP: sent') || plan.kind === 'none', said);

  // 20 MB of output: cut per cell, noted; a message past the channel's cap stops the kernel after the checks.
  const graded = readNotebook(path.join(dir, 'graded', 'flood.graded.ipynb'));
  const floodCell = graded.cells.find((c) => cellSource(c).includes("'y'.repeat(1000)"))!;
  assert.match(JSON.stringify(floodCell.outputs), /\[output cut: \d+ more characters than the limit of 20000 per cell were not kept\]/);
  assert.ok(fs.statSync(path.join(dir, 'graded', 'flood.graded.ipynb')).size < 400_000);
  assert.match(flood.kernel.stopped ?? '', /OutputError: the notebook's kernel sent more than/);
  assert.ok(process.memoryUsage().rss - rssBefore < 400 << 20, 'the grader did not keep the flood');

  // A student's "check" is a plain cell: no points, same maximum; a function cannot cross; a leak in the
  // student's kernel is seen by the checker's expectNoTensorLeak.
  assert.equal(fake.maxPoints, 9);
  assert.ok(!fake.checks.some((c) => c.gradeId === 'my-own-check'));
  assert.deepEqual(points(fake), { 'check-metric-shape': 1, 'check-metric-closed-form': 2, 'check-metric-memory': 0, 'check-decoder-closed-form': 2, 'check-decoder-library': 2, 'check-magnification': 0 });
  assert.match(fake.checks[2].error!, /expectedMetricFromJacobians: 4 intermediate tensor\(s\) were left allocated/);
  assert.match(fake.checks[5].error!, /TransferError: the value returned by magnificationFactor: cannot pass a function/);
});

test('the other assignments: stubs with replaced helpers and forged replies still score 0 (7/7 and 8/8 before)', { skip, timeout: 400_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-hostile-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  shared ??= Sandbox.create();
  const reports = await Promise.all(
    ['rbf-precision', 'curve-energy'].map((assignment) => {
      const file = path.join(dir, `${assignment}-forged.ipynb`);
      writeNotebook(file, submission({}, {}, `${OVERRIDE_CHECKS}\n${FORGE_REPLIES}`, assignment));
      return gradeSubmissions([file], { layout, name: assignment, jobs: 1, sandbox: shared! });
    }),
  );
  for (const [r] of reports) {
    assert.equal(r.points, 0, JSON.stringify(r.checks));
    assert.ok(r.maxPoints >= 7);
    assert.ok(r.checks.every((c) => c.status === 'failed'));
  }
});

/** Headings of a Markdown text outside fenced code blocks (CommonMark fences: a run of >= 3 backticks). */
function markdownHeadings(md: string): string[] {
  const out: string[] = [];
  let fence = 0;
  for (const line of md.split(/\r?\n|\r/)) {
    const m = /^ {0,3}(`{3,})/.exec(line);
    if (fence === 0 && m) fence = m[1].length;
    else if (fence > 0 && m && m[1].length >= fence && line.trim() === m[1]) fence = 0;
    else if (fence === 0 && /^ {0,3}#{1,6} /.test(line)) out.push(line.trim());
  }
  return out;
}

test('malformed notebooks get one line naming the file, cell and field', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-malformed-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cases: [string, string, RegExp][] = [
    ['not-json.ipynb', '{"cells": [', /not-json\.ipynb: not valid JSON/],
    ['array.ipynb', '[1, 2]', /array\.ipynb: not a notebook: the top level must be an object, got a list/],
    ['no-cells.ipynb', '{"nbformat": 4, "cells": {}}', /no-cells\.ipynb: field "cells" must be a list, got an object/],
    ['source.ipynb', '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": 42, "metadata": {}}]}', /source\.ipynb: cell 1: field "source" must be a string or a list of strings, got a number/],
    ['type.ipynb', '{"nbformat": 4, "cells": [{"cell_type": "markdown", "source": "", "metadata": {}}, {"cell_type": "python", "source": ""}]}', /type\.ipynb: cell 2: field "cell_type" must be "code", "markdown" or "raw", got "python"/],
    ['meta.ipynb', '{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "metadata": {"nbgrader": {"grade_id": 7}}}]}', /meta\.ipynb: cell 1: field "metadata\.nbgrader\.grade_id" must be a string, got a number/],
  ];
  const files = cases.map(([file, text]) => {
    fs.writeFileSync(path.join(dir, file), text);
    return path.join(dir, file);
  });
  const reports = await gradeSubmissions(files, { layout, name, jobs: 2, sandbox: (shared ??= Sandbox.create()) });
  reports.forEach((r, i) => {
    assert.equal(r.points, 0);
    assert.equal(r.maxPoints, 9);
    assert.match(r.kernel.stopped!, cases[i][2]);
    assert.ok(!r.kernel.stopped!.includes('\n'), r.kernel.stopped);
  });
});

/** Processes running a grading kernel as a kernel uid (root plan). */
function kernelProcesses(): string[] {
  const ps = spawnSync('ps', ['-eo', 'uid=,pid=,args='], { encoding: 'utf8' }).stdout ?? '';
  return ps.split('\n').filter((l) => Number(l.trim().split(/\s+/)[0]) >= KERNEL_UID_BASE && l.includes('grading-kernel'));
}

test('a grader killed midway keeps the reports written so far, and its student kernels die with it', { skip: skip || (isolationPlan().kind !== 'root' && 'needs the root plan'), timeout: 180_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-killed-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(kernelProcesses(), [], 'no kernel left from before');
  // A SIGKILLed grader cannot remove its package mirror and the checks' empty HOME (no hidden tests in them).
  const temps = () => new Set(fs.readdirSync(os.tmpdir()).filter((f) => /^lg-(sandbox|checker)-/.test(f)));
  const before = temps();
  t.after(() => [...temps()].filter((f) => !before.has(f)).forEach((f) => fs.rmSync(path.join(os.tmpdir(), f), { recursive: true, force: true })));
  fs.writeFileSync(path.join(dir, 'a-malformed.ipynb'), '{"nbformat": 4}');
  writeNotebook(path.join(dir, 'b-hanging.ipynb'), submission(teacherAnswers(), {}, 'while (true) {}'));
  const cli = spawn(process.execPath, ['--import', 'tsx', 'scripts/assignment.ts', 'grade', name, 'a-malformed.ipynb', 'b-hanging.ipynb', '--out', 'out', '--no-build', '--jobs', '1', '--cell-seconds', '120'].map((a) => (a.endsWith('.ipynb') || a === 'out' ? path.join(dir, a) : a)), { cwd: root, stdio: 'ignore' });
  const exited = new Promise((r) => cli.once('exit', r));
  // The first report is written as soon as it is done; the second submission's kernel then loops.
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && kernelProcesses().length === 0) await new Promise((r) => setTimeout(r, 500));
  await new Promise((r) => setTimeout(r, 3000));
  assert.ok(fs.existsSync(path.join(dir, 'out', 'a-malformed.report.json')), 'the finished report is on disk');
  assert.ok(kernelProcesses().length > 0, 'the looping kernel runs');
  cli.kill('SIGKILL');
  await exited;
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(kernelProcesses(), [], 'the student kernel died with the grader');
  for (const f of [...temps()].filter((f) => !before.has(f))) {
    for (const file of fs.readdirSync(path.join(os.tmpdir(), f), { recursive: true }) as string[]) assert.ok(!file.endsWith('.ipynb'), `${f}/${file}`);
  }
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'a-malformed.report.json'), 'utf8')) as GradeReport;
  assert.equal(report.points, 0);
  assert.match(report.kernel.stopped!, /field "cells" must be a list/);
  assert.ok(fs.existsSync(path.join(dir, 'out', 'grades.csv')));
});

test('without the rights to isolate, the grader says so (start-up and every report)', () => {
  const none = probeIsolation('none');
  assert.equal(none.kind, 'none');
  assert.deepEqual(none.prefix(), []);
  assert.match(none.warning!, /submissions run as the grader's own user with network access \(LSO_GRADER_ISOLATION=none\): a submission could signal or stop the grader/);
  const here = isolationPlan();
  if (process.platform === 'linux' && process.getuid?.() === 0) assert.equal(here.kind, 'root', here.summary);
  const report: GradeReport = {
    assignment: name,
    submission: 'a.ipynb',
    points: 1,
    maxPoints: 9,
    checks: [],
    cellErrors: [],
    kernel: { completed: true, seconds: 1 },
    tampered: [],
    missing: [],
    violations: [],
    flags: [],
    isolation: { summary: none.summary, warning: none.warning },
  };
  assert.match(reportMarkdown(report), /## Notes\n\n- Warning: submissions run as the grader's own user/);
  assert.match(reportHtml(report), /<li>Warning: submissions run as the grader&#39;s own user/);
});
