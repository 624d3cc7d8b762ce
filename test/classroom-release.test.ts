/**
 * The classroom pieces that need no kernel: solution and hidden-test regions, the student version,
 * checksums, restoring the teacher's cells into a submission, scoring executed notebooks, the reports,
 * and the assertions check cells use. Also: the committed assignments/ are what `release` makes now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cellSource, readNotebook, serializeNotebook, type Cell, type NotebookJson, type Output } from '../src/lib/notebook/ipynb';
import { InputError } from '../src/lib/util/errors';
import { cellChecksum, findRegions, gradingMeta, pythonFloatRepr, releaseDir, sourceNotebookPath, type GradingMeta } from '../src/lib/classroom/nbgrader';
import { DEFAULT_LIMITS, assignmentInfo, releaseNotebook, stripHiddenTests, stripSolutions, studentReadme } from '../src/lib/classroom/release';
import { assembleSubmission, scoreSubmission } from '../src/lib/classroom/grade';
import { gradesCsv, reportHtml, reportMarkdown } from '../src/lib/classroom/report';
import { CheckFailure, expectClose, expectNoTensorLeak, expectShape, expectThat } from '../src/lib/classroom/checks';
import { expectNoLeak, setupBackend } from './helpers';

const root = path.resolve(__dirname, '..');

function meta(role: 'solution' | 'check' | 'locked', id: string, points?: number): { nbgrader: GradingMeta } {
  return { nbgrader: { grade: role === 'check', grade_id: id, locked: role !== 'solution', solution: role === 'solution', schema_version: 3, ...(points === undefined ? {} : { points }) } };
}

function code(source: string, metadata: Record<string, unknown> = {}, outputs: Output[] = [], count: number | null = null): Cell {
  return { cell_type: 'code', source, metadata, outputs, execution_count: count };
}

function notebook(cells: Cell[]): NotebookJson {
  return { nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } }, cells };
}

const SOLUTION = `function double(x: number): number {
  // BEGIN SOLUTION return twice x (it's easy)
  const y = x * 2;
  return y;
  // END SOLUTION
}`;

const CHECK = `import { expectThat } from 'latent-geometry';
expectThat(double(2) === 4, 'double(2)', 'should be 4');
// BEGIN HIDDEN TESTS
expectThat(double(-3) === -6, 'double(-3)', 'should be -6');
// END HIDDEN TESTS`;

function teacherNotebook(): NotebookJson {
  return notebook([
    { cell_type: 'markdown', source: '# Doubling\n\nWrite `double`.', metadata: {} },
    code("import * as tf from '@tensorflow/tfjs';", meta('locked', 'setup')),
    code(SOLUTION, meta('solution', 'double'), [{ output_type: 'stream', name: 'stdout', text: 'old output' }], 3),
    code(CHECK, meta('check', 'check-double', 2)),
    code('expectThat(double(0) === 0, "double(0)", "should be 0");', meta('check', 'check-zero', 1)),
  ]);
}

test('solution regions become a throwing stub at their indentation; hidden tests disappear', () => {
  const stub = stripSolutions(SOLUTION, 'cell');
  assert.equal(stub, "function double(x: number): number {\n  // YOUR CODE HERE\n  throw new Error('not implemented yet: return twice x (it\\'s easy)');\n}");
  assert.equal(stripSolutions('const answer = 42;', 'cell'), "// YOUR CODE HERE\nthrow new Error('not implemented yet: see the instructions above');");
  assert.equal(stripHiddenTests(CHECK, 'cell'), "import { expectThat } from 'latent-geometry';\nexpectThat(double(2) === 4, 'double(2)', 'should be 4');");
  assert.deepEqual(
    findRegions(CHECK, 'cell').map((r) => [r.kind, r.begin, r.end]),
    [['HIDDEN TESTS', 2, 4]],
  );
  assert.throws(() => findRegions('// BEGIN SOLUTION\nx', 'nb: cell 3'), (e: Error) => e instanceof InputError && /nb: cell 3: BEGIN SOLUTION on line 1 is never ended/.test(e.message));
  assert.throws(() => findRegions('// END SOLUTION', 'c'), /END SOLUTION without a matching BEGIN SOLUTION/);
  assert.throws(() => findRegions('// BEGIN SOLUTION\n// BEGIN HIDDEN TESTS\n', 'c'), /inside an open SOLUTION region/);
});

test('releaseNotebook: stubs, no hidden tests, no outputs, read-only checksummed checks; teacher errors name the cell', () => {
  const teacher = teacherNotebook();
  const student = releaseNotebook(teacher, 'doubling.ipynb');
  const [intro, setup, solution, check, zero] = student.cells;
  assert.deepEqual(intro, teacher.cells[0]);
  assert.ok(!cellSource(solution).includes('x * 2'), 'the solution is gone');
  assert.match(cellSource(solution), /throw new Error\('not implemented yet: return twice x/);
  assert.deepEqual(solution.outputs, []);
  assert.equal(solution.execution_count, null);
  assert.ok(!cellSource(check).includes('double(-3)'), 'the hidden test is gone');
  for (const c of [setup, check, zero]) {
    assert.equal(c.metadata.editable, false);
    assert.equal(c.metadata.deletable, false);
    assert.equal(gradingMeta(c)?.checksum, cellChecksum(c));
  }
  assert.notEqual(cellChecksum(check), cellChecksum(teacher.cells[3]));
  assert.equal(cellSource(teacher.cells[2]), SOLUTION, 'the teacher notebook is not modified');

  const info = assignmentInfo(teacher, 'doubling.ipynb');
  assert.deepEqual(info, {
    title: 'Doubling',
    tasks: [{ gradeId: 'double', hints: ["return twice x (it's easy)"] }],
    checks: [
      { gradeId: 'check-double', points: 2, hidden: true },
      { gradeId: 'check-zero', points: 1, hidden: false },
    ],
    totalPoints: 3,
  });
  assert.match(studentReadme('doubling', info, DEFAULT_LIMITS), /\| `check-double` \| 2 \| yes \|\n\| `check-zero` \| 1 \| no \|\n\| \*\*total\*\* \| \*\*3\*\* \|/);

  const bad = (cells: Cell[]) => () => releaseNotebook(notebook(cells), 'bad.ipynb');
  assert.throws(bad([code(SOLUTION), code('1', meta('check', 'c', 1))]), /bad\.ipynb: cell 1: has a SOLUTION region but is not a solution cell/);
  assert.throws(bad([code(CHECK, meta('locked', 'l')), code('1', meta('check', 'c', 1))]), /cell 1 \("l"\): has HIDDEN TESTS but is not a check cell/);
  assert.throws(bad([code('1', meta('check', 'c'))]), /cell 1 \("c"\): check cell needs metadata\.nbgrader\.points >= 0, got undefined/);
  assert.throws(bad([code('1', meta('check', 'c', 1)), code('2', meta('check', 'c', 1))]), /grade_id "c" is used by cells 1 and 2/);
  assert.throws(bad([code('1')]), /has no check cell/);
});

test("cellChecksum is nbgrader's compute_checksum: MD5 values computed by hand with md5sum", () => {
  // printf '%s' "assert x == 1codeTrueFalseTruecheck-x2.0" | md5sum
  assert.equal(cellChecksum(code('assert x == 1', meta('check', 'check-x', 2))), '63b9a5bf832c047770673565acf1b897');
  // A read-only cell: is_locked from metadata; no points. printf '%s' "import * as tf from 'x';codeFalseFalseTruesetup" | md5sum
  assert.equal(cellChecksum(code("import * as tf from 'x';", meta('locked', 'setup'))), '9678a79b20244fb485f0dbb218cb2969');
  // A markdown solution cell: never locked. printf '%s' "YOUR ANSWER HEREmarkdownFalseTrueFalseanswer" | md5sum
  assert.equal(cellChecksum({ cell_type: 'markdown', source: ['YOUR ANSWER ', 'HERE'], metadata: meta('solution', 'answer') }), '25f3f9e49bc8e7a2f41565507b31793c');
  // Python's str(float(points)).
  assert.deepEqual([2, 0.5, 1e-4, 1e-5, 1e16, 1 / 3].map(pythonFloatRepr), ['2.0', '0.5', '0.0001', '1e-05', '1e+16', '0.3333333333333333']);
  // The exact source counts, as in nbgrader: a trailing newline is a change.
  assert.notEqual(cellChecksum(code('assert x == 1\n', meta('check', 'check-x', 2))), '63b9a5bf832c047770673565acf1b897');
  // Every released check, read-only and solution cell carries the checksum of its released form and its cell_type.
  for (const name of fs.readdirSync(path.join(root, 'source'))) {
    const student = readNotebook(path.join(releaseDir({ root }, name), `${name}.ipynb`));
    for (const cell of student.cells.filter((c) => gradingMeta(c))) {
      assert.equal(gradingMeta(cell)!.checksum, cellChecksum(cell), `${name}: ${gradingMeta(cell)!.grade_id}`);
      assert.equal((cell.metadata.nbgrader as { cell_type?: string }).cell_type, cell.cell_type);
    }
  }
});

test('the committed assignments are the current release of source/', () => {
  for (const name of fs.readdirSync(path.join(root, 'source'))) {
    const teacher = readNotebook(sourceNotebookPath({ root }, name));
    const dir = releaseDir({ root }, name);
    assert.equal(fs.readFileSync(path.join(dir, `${name}.ipynb`), 'utf8'), serializeNotebook(releaseNotebook(teacher, name)), `${name}: run npm run assignment -- release ${name}`);
    assert.equal(fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), studentReadme(name, assignmentInfo(teacher, name), DEFAULT_LIMITS), `${name}: README.md`);
    const info = assignmentInfo(teacher, name);
    assert.ok(info.checks.length >= 4 && info.checks.some((c) => c.hidden), `${name} has several checks, some with hidden tests`);
  }
});

test('assembleSubmission restores edited, deleted and locked cells and keeps what students add', () => {
  const teacher = teacherNotebook();
  const released = releaseNotebook(teacher);
  const [intro, setup, solution, check] = released.cells;
  const edited: Cell = { ...check, source: "expectThat(true, 'x', 'y');" };
  const answer: Cell = { ...solution, source: 'function double(x: number): number { return x + x; }' };
  const added = code('const helper = 1;');
  const copy: Cell = { ...answer, source: '// a pasted copy' };
  // The student edited check-double, deleted check-zero, edited the setup and added two cells.
  const student = notebook([intro, { ...setup, source: '// gone' }, added, answer, copy, edited]);
  const { notebook: nb, tampered, missing } = assembleSubmission(teacher, student);
  assert.deepEqual(tampered, ['setup', 'check-double']);
  assert.deepEqual(missing, ['check-zero']);
  assert.deepEqual(
    nb.cells.map((c) => gradingMeta(c)?.grade_id ?? cellSource(c).slice(0, 16)),
    ['# Doubling\n\nWrit', 'setup', 'const helper = 1', 'double', '// a pasted copy', 'check-double', 'check-zero'],
  );
  assert.equal(cellSource(nb.cells[1]), cellSource(teacher.cells[1]));
  assert.equal(cellSource(nb.cells[5]), CHECK, "the teacher's check ran, hidden tests included");
  assert.equal(cellSource(nb.cells[3]), cellSource(answer));
  // The released cells and the teacher's own count as untouched.
  assert.deepEqual(assembleSubmission(teacher, released).tampered, []);
  assert.deepEqual(assembleSubmission(teacher, teacher).tampered, []);
});

test('scoreSubmission: points from outputs (nbgrader partial credit), unrun checks, refusals and flagged code', () => {
  const teacher = notebook([
    code('setup', meta('locked', 'setup')),
    code('answer', meta('solution', 'answer')),
    code('check a', meta('check', 'a', 2)),
    code('check b', meta('check', 'b', 3)),
    code('check c', meta('check', 'c', 4)),
    code('check d', meta('check', 'd', 1)),
  ]);
  const error = (ename: string, evalue: string): Output => ({ output_type: 'error', ename, evalue, traceback: [`${ename}: ${evalue}`, '    at evalmachine.<anonymous>:3:9'] });
  const executed = notebook([
    code('setup', meta('locked', 'setup'), [], 1),
    code("require('child_process').execSync('x')", meta('solution', 'answer'), [error('Error', 'Access to this API has been restricted')], 2),
    code('check a', meta('check', 'a', 2), [{ output_type: 'stream', name: 'stdout', text: 'fine\n' }], 3),
    code('check b', meta('check', 'b', 3), [{ output_type: 'execute_result', data: { 'text/plain': '1.5' }, metadata: {}, execution_count: 4 }], 4),
    code('check c', meta('check', 'c', 4), [error('TimeoutError', 'the cell ran longer than the limit of 60 s and was stopped')], 5),
    code('check d', meta('check', 'd', 1)),
  ]);
  const r = scoreSubmission({
    assignment: 'demo',
    submission: 'alice.ipynb',
    teacher,
    executed,
    assembled: { notebook: executed, origins: executed.cells.map((c) => (gradingMeta(c)?.grade === true || gradingMeta(c)?.grade_id === 'setup' ? 'teacher' : 'student')), tampered: ['b'], missing: [] },
    stopped: 'TimeoutError: the cell ran longer than the limit of 60 s and was stopped',
    seconds: 12.5,
  });
  assert.equal(r.points, 3.5);
  assert.equal(r.maxPoints, 10);
  assert.deepEqual(
    r.checks.map((c) => [c.gradeId, c.points, c.status, c.tampered]),
    [
      ['a', 2, 'passed', false],
      ['b', 1.5, 'passed', true],
      ['c', 0, 'failed', false],
      ['d', 0, 'not-run', false],
    ],
  );
  assert.equal(r.checks[2].error, 'TimeoutError: the cell ran longer than the limit of 60 s and was stopped');
  assert.match(r.checks[3].error!, /^not run: the kernel stopped earlier: TimeoutError/);
  assert.deepEqual(r.cellErrors, [{ cell: 2, gradeId: 'answer', error: 'Error: Access to this API has been restricted' }]);
  assert.deepEqual(r.violations, [{ cell: 2, gradeId: 'answer', message: 'Error: Access to this API has been restricted' }]);
  assert.deepEqual(r.flags, [{ cell: 2, reason: 'starts processes, threads or script contexts' }]);
  assert.equal(r.kernel.completed, false);

  const md = reportMarkdown(r);
  assert.match(md, /\*\*3\.50 \/ 10 points\*\*/);
  assert.match(md, /\| `c` \| 0 \/ 4 \| FAILED \|/);
  assert.match(md, /### `c`: FAILED\n\n```text\nTimeoutError: the cell ran longer/);
  assert.match(md, /Edited check or read-only cells \\\(the teacher's versions were run instead\\\): b/);
  const html = reportHtml({ ...r, submission: '<script>.ipynb' });
  assert.ok(html.includes('&lt;script&gt;.ipynb') && !html.includes('<script>.ipynb'));
  assert.equal(gradesCsv([r]).split('\n')[0], 'submission,points,max_points,a,b,c,d,notes');
  assert.match(gradesCsv([r]).split('\n')[1], /^alice\.ipynb,3\.50,10,2,1\.50,0,0,"The notebook stopped early: TimeoutError/);
});

test('check assertions say what differs, where, and the hint; they catch leaks', async () => {
  await setupBackend();
  await expectNoLeak(() => {
    const t = tf.tensor3d([[[1, 2], [3, 4]]]);
    expectClose(t, [[[1, 2], [3, 4.00001]]], 'M');
    expectShape(t, [1, 2, 2], 'M');
    assert.throws(
      () => expectClose(t, [[[1, 2], [3, 5]]], 'M at z = 0', { hint: 'sum over all rows' }),
      (e: Error) => e instanceof CheckFailure && e.message === 'M at z = 0: got [1, 2, 3, 4], expected [1, 2, 3, 5]; the largest difference is at [0, 1, 1]: 4 instead of 5 (tolerance 0.000001 + 0.0001 x |expected|)\nHint: sum over all rows',
    );
    assert.throws(() => expectClose(t, [1, 2, 3, 4], 'M'), /M: expected shape \[4\], got \[1, 2, 2\]/);
    assert.throws(() => expectClose(undefined, [1], 'f()'), /f\(\): expected numbers of shape \[1\], got undefined/);
    assert.throws(() => expectClose([NaN, 1], [0, 1], 'v'), /largest difference is at \[0\]: NaN instead of 0/);
    assert.throws(() => expectShape(t, [2, 2], 'M', 'J^T J, not J J^T'), /M: expected shape \[2, 2\], got \[1, 2, 2\]\nHint: J\^T J/);
    expectClose(6.0000001, 6, 'scalar');
    assert.throws(() => expectThat(false, 'sigma far away', 'should tend to 10, got 3'), /^CheckFailure: sigma far away: should tend to 10, got 3$/m);
    expectNoTensorLeak(() => tf.tidy(() => tf.add(t, 1)), 'tidy');
    let leaked: tf.Tensor | null = null;
    assert.throws(
      () =>
        expectNoTensorLeak(() => {
          leaked = tf.add(t, 1);
          return tf.mul(leaked, 2);
        }, 'f'),
      /f: 1 intermediate tensor\(s\) were left allocated\nHint: wrap the tensor work in tf\.tidy/,
    );
    tf.dispose([t, leaked!]);
  });
});
