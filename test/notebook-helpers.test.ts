import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as pl from 'nodejs-polars';
import {
  buildGallery,
  byProfile,
  coalesceStreams,
  currentProfile,
  integerColumns,
  figuresRoot,
  findRepoRoot,
  flattenResults,
  isCommittedFigures,
  outputRoot,
  notebook,
  serializeNotebook,
  writeResults,
  writeTable,
  type NotebookJson,
} from '../src/lib/notebook';
import { latentHeatmap } from '../src/lib/plots';
import { InputError } from '../src/lib/util/errors';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-notebook-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('currentProfile: quick by default, full on request, anything else is an error', () => {
  assert.equal(currentProfile({}, null), 'quick');
  assert.equal(currentProfile({ LSO_PROFILE: '' }, null), 'quick');
  assert.equal(currentProfile({ LSO_PROFILE: 'full' }, null), 'full');
  assert.throws(() => currentProfile({ LSO_PROFILE: 'fast' }, null), (err: Error) => err instanceof InputError && /LSO_PROFILE/.test(err.message) && /"fast"/.test(err.message));
  assert.equal(byProfile({ quick: 2, full: 50 }, 'full'), 50);
});

test('writeResults always records the profile and refuses a contradicting one', (t) => {
  const dir = tempDir(t);
  const file = writeResults(dir, { fid: 12.5, nested: { a: 1 } }, 'full');
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { profile: 'full', fid: 12.5, nested: { a: 1 } });
  assert.ok(fs.readFileSync(file, 'utf8').includes('\n  "fid"'), 'pretty-printed');
  assert.throws(() => writeResults(dir, { profile: 'quick' }, 'full'), /profile/);
});

test('writeTable writes a CSV through polars that reads back to the same rows', (t) => {
  const dir = tempDir(t);
  const rows = [
    { model: 'VAE', n: 1000, fid: 31.25 },
    { model: 'RBF, variance', n: 2000, fid: 20.5 },
  ];
  const df = writeTable(dir, 'fid', rows);
  assert.equal(df.height, 2);
  const back = pl.readCSV(path.join(dir, 'fid.csv'));
  assert.deepEqual(back.toRecords(), rows);
  // Integer columns stay integers in the file (polars alone would write 1000.0).
  assert.equal(fs.readFileSync(path.join(dir, 'fid.csv'), 'utf8'), 'model,n,fid\nVAE,1000,31.25\n"RBF, variance",2000,20.5\n');
  assert.deepEqual(integerColumns([{ a: 1, b: 1.5, c: 'x', d: null }, { a: -3, b: 2, c: 'y', d: 4 }]), ['a', 'd']);
  writeTable(dir, 'mixed', [{ seed: 1, f: 1.0, ok: true }, { seed: 2, f: 0.5, ok: false }]);
  assert.equal(fs.readFileSync(path.join(dir, 'mixed.csv'), 'utf8'), 'seed,f,ok\n1,1.0,true\n2,0.5,false\n');
  assert.throws(() => writeTable(dir, 'empty', []), /non-empty/);
  assert.throws(() => writeTable(dir, 'a/b', rows), /plain name/);
});

test('figures folder: LSO_FIGURES_DIR wins, else figures/ for the full profile and out/quick/ for the quick one', (t) => {
  const dir = tempDir(t);
  assert.equal(figuresRoot({ LSO_FIGURES_DIR: dir }), dir);
  const root = findRepoRoot(path.join(__dirname, '..', 'src', 'lib'));
  assert.ok(root && fs.existsSync(path.join(root, 'package.json')));
  const notebooks = path.join(root, 'notebooks');
  assert.equal(figuresRoot({ LSO_PROFILE: 'full' }, notebooks), path.join(root, 'figures'));
  assert.equal(figuresRoot({ LSO_PROFILE: 'quick' }, notebooks), path.join(root, 'out', 'quick'));
  assert.equal(outputRoot('quick', {}, notebooks), path.join(root, 'out', 'quick'));
  assert.equal(outputRoot('full', { LSO_FIGURES_DIR: dir }, notebooks), dir);
  assert.ok(isCommittedFigures(path.join(root, 'figures'), notebooks));
  assert.ok(!isCommittedFigures(path.join(root, 'out', 'quick'), notebooks));
  assert.equal(findRepoRoot(os.tmpdir()), null);
});

test('the profile: LSO_PROFILE, else the .lso-profile file of the checkout, else quick', (t) => {
  const root = tempDir(t);
  assert.equal(currentProfile({}, root), 'quick');
  fs.writeFileSync(path.join(root, '.lso-profile'), 'full\n');
  assert.equal(currentProfile({}, root), 'full');
  assert.equal(currentProfile({ LSO_PROFILE: 'quick' }, root), 'quick', 'the environment wins');
  fs.writeFileSync(path.join(root, '.lso-profile'), 'fast');
  assert.throws(() => currentProfile({}, root), (err: Error) => err instanceof InputError && err.message.includes('.lso-profile') && /"fast"/.test(err.message));
});

test('notebook(): folder, profile choice, merged results, tables, HTML figure without a browser', async (t) => {
  const figures = tempDir(t);
  const nb = notebook('01-test', { figuresDir: figures, profile: 'quick' });
  assert.equal(nb.dir, path.join(figures, '01-test'));
  assert.ok(fs.statSync(nb.dir).isDirectory());
  assert.equal(nb.byProfile({ quick: 'small', full: 'large' }), 'small');
  nb.results({ a: 1 });
  nb.results({ b: [1, 2] });
  assert.deepEqual(JSON.parse(fs.readFileSync(nb.path('results.json'), 'utf8')), { profile: 'quick', a: 1, b: [1, 2] });
  nb.table('rows', [{ x: 1 }]);
  const fig = latentHeatmap({ xs: [0, 1], ys: [0, 1], values: [1, 2, 3, 4], title: 't', colorbarTitle: 'c' });
  await nb.figure('field', fig, { formats: ['html'] });
  assert.ok(fs.existsSync(nb.path('field.html')));
  assert.ok(fs.existsSync(path.join(figures, 'plotly.min.js')));
  assert.throws(() => notebook('../escape', { figuresDir: figures }), /plain name/);
});

test('buildGallery lists every notebook folder with figures, links and results', (t) => {
  const figures = tempDir(t);
  const a = path.join(figures, '01-a');
  fs.mkdirSync(a);
  fs.writeFileSync(path.join(a, 'field.png'), 'png');
  fs.writeFileSync(path.join(a, 'field.html'), '<html>');
  fs.writeFileSync(path.join(a, 'strip.png'), 'png');
  fs.writeFileSync(path.join(a, 'fid.csv'), 'a\n1\n');
  writeResults(a, { fid: { vae: 31.234567 }, curve: [1, 2, 3], long: new Array(20).fill(0) }, 'quick');
  fs.mkdirSync(path.join(figures, '02-b'));
  const file = buildGallery(figures);
  const html = fs.readFileSync(file, 'utf8');
  assert.equal(file, path.join(figures, 'index.html'));
  assert.ok(html.includes('<a href="01-a/field.html"><img loading="lazy" src="01-a/field.png"'));
  assert.ok(html.includes('<a href="01-a/strip.png">'), 'no HTML page: the thumbnail links the PNG');
  assert.ok(html.includes('01-a/fid.csv'));
  assert.ok(html.includes('<td>fid.vae</td><td>31.23</td>'));
  assert.ok(html.includes('<td>long</td><td>[20 values]</td>'));
  assert.ok(html.includes('id="02-b"') && html.includes('no figures'));
  assert.ok(!/https?:\/\//.test(html), 'no network references');
  assert.deepEqual(flattenResults({ a: { b: 1 } }), [['a.b', '1']]);
});

test('notebook files are written like Jupyter: sorted keys, line lists, progress lines collapsed', () => {
  const outputs = coalesceStreams([
    { output_type: 'stream', name: 'stdout', text: 'epoch 1\r' },
    { output_type: 'stream', name: 'stdout', text: 'epoch 2\r' },
    { output_type: 'stream', name: 'stdout', text: 'epoch 3\ndone\n' },
    { output_type: 'stream', name: 'stderr', text: 'warn\n' },
  ]);
  assert.deepEqual(outputs, [
    { output_type: 'stream', name: 'stdout', text: 'epoch 3\ndone\n' },
    { output_type: 'stream', name: 'stderr', text: 'warn\n' },
  ]);
  const nb: NotebookJson = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{ cell_type: 'code', id: 'x', source: 'a\nb', metadata: {}, outputs, execution_count: 1 }],
  };
  const text = serializeNotebook(nb);
  const back = JSON.parse(text);
  assert.deepEqual(back.cells[0].source, ['a\n', 'b']);
  assert.deepEqual(back.cells[0].outputs[0].text, ['epoch 3\n', 'done\n']);
  assert.deepEqual(Object.keys(back.cells[0]), ['cell_type', 'execution_count', 'id', 'metadata', 'outputs', 'source']);
  assert.ok(text.startsWith('{\n "cells"') && text.endsWith('}\n'));
});
