/**
 * The headless runner on a small notebook in a temporary folder. The folder gets a node_modules link to
 * the checkout's, so `latent-geometry` and `tslab` resolve as they do from notebooks/ (the package must
 * be built and linked: npm run build && node scripts/link-self.cjs, which `npm test` does).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NotebookError, readNotebook, runNotebook, type Cell, type NotebookJson } from '../src/lib/notebook';

const root = path.resolve(__dirname, '..');

function code(source: string): Cell {
  return { cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null };
}

function writeNotebook(dir: string, name: string, cells: Cell[]): string {
  const nb: NotebookJson = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells,
  };
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(nb));
  return file;
}

function tempNotebookDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-runner-'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('runNotebook executes cells in order, writes outputs back, and stops at the first failing cell', async (t) => {
  const dir = tempNotebookDir(t);
  const file = writeNotebook(dir, '01-demo.ipynb', [
    { cell_type: 'markdown', source: '# demo', metadata: {} },
    code("import { Rng } from 'latent-geometry';\nconst r = new Rng(1);\nconsole.log('profile', process.env.LSO_PROFILE);\nconsole.error('to stderr');"),
    code("import * as tslab from 'tslab';\ntslab.display.html('<b>shown</b>');\nconst answer: number = 6 * 7;\nanswer"),
    code(''),
    code("await new Promise((r) => setTimeout(r, 5));\nthrow new RangeError('cell three fails');"),
    code("console.log('never runs')"),
  ]);
  const cellsSeen: number[] = [];
  const err = await runNotebook(file, { env: { LSO_PROFILE: 'full' }, onCell: ({ count }) => cellsSeen.push(count) }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof NotebookError, `expected a NotebookError, got ${String(err)}`);
  assert.equal(err.cellIndex, 4);
  assert.match(err.message, /01-demo\.ipynb: cell #5 failed/);
  assert.ok(err.message.includes("throw new RangeError('cell three fails');"), 'the message shows the cell source');
  assert.match(err.message, /RangeError: cell three fails/);
  assert.deepEqual(cellsSeen, [1, 2, 3]);

  const nb = readNotebook(file);
  const [, first, second, empty, failing, never] = nb.cells;
  assert.equal(first.execution_count, 1);
  assert.deepEqual(first.outputs, [
    { output_type: 'stream', name: 'stdout', text: ['profile full\n'] },
    { output_type: 'stream', name: 'stderr', text: ['to stderr\n'] },
  ]);
  assert.equal(second.execution_count, 2);
  assert.deepEqual(second.outputs, [
    { output_type: 'display_data', data: { 'text/html': ['<b>shown</b>'] }, metadata: {} },
    { output_type: 'execute_result', data: { 'text/plain': ['42'] }, metadata: {}, execution_count: 2 },
  ]);
  assert.equal(empty.execution_count, null);
  assert.equal(failing.execution_count, 3);
  const error = failing.outputs?.[0];
  assert.equal(error?.output_type, 'error');
  assert.equal(error?.output_type === 'error' && error.ename, 'RangeError');
  assert.deepEqual(never.outputs, []);
  assert.equal(never.execution_count, null);
  assert.ok(nb.cells.every((c) => typeof c.id === 'string'), 'nbformat 4.5 cell ids were added');
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('a TypeScript error fails the cell with the compiler message', async (t) => {
  const dir = tempNotebookDir(t);
  const file = writeNotebook(dir, '02-types.ipynb', [code("const n: number = 'not a number';")]);
  await assert.rejects(runNotebook(file), (err: Error) => {
    assert.ok(err instanceof NotebookError);
    assert.match(err.message, /not assignable to type 'number'/);
    return true;
  });
  const out = readNotebook(file).cells[0].outputs?.[0];
  assert.equal(out?.output_type === 'error' && out.ename, 'TypeScriptError');
});
