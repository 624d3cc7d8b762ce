/**
 * What `npm run reproduce` promises about committed files: the quick profile writes elsewhere, a notebook's
 * files move into place only when it finished, a failing notebook changes nothing, no absolute paths of the
 * checkout are saved; and what a Jupyter user sees: one MIME bundle per figure, typed tables, the gallery.
 * The runs use tiny notebooks in a temporary folder (the package must be built: npm test does it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  PLOTLY_MIME,
  RunProgress,
  STAGING_PREFIX,
  buildGallery,
  failureSummary,
  figureBundle,
  notebook,
  notebookTargets,
  readHeadlines,
  readNotebook,
  recordTiming,
  readTimings,
  reproduceNotebook,
  runNotebook,
  serializeNotebook,
  tableBundle,
  typedFrame,
  writeResults,
  type Cell,
  type NotebookJson,
} from '../src/lib/notebook';
import { latentHeatmap } from '../src/lib/plots';
import { checkoutPath, relativizeText } from '../src/lib/util/paths';
import { keptAliveInKernel, releaseModels } from '../src/lib/util/lifetime';

const root = path.resolve(__dirname, '..');

function tempDir(t: { after: (fn: () => void) => void }, link = false): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-workbook-'));
  if (link) fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function code(source: string): Cell {
  return { cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null };
}

function writeFixture(dir: string, name: string, cells: Cell[]): string {
  const nb: NotebookJson = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells };
  const file = path.join(dir, name);
  fs.writeFileSync(file, serializeNotebook(nb));
  return file;
}

/** Every file under `dir` with its bytes, to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  if (!fs.existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out[path.relative(dir, path.join(e.parentPath, e.name))] = fs.readFileSync(path.join(e.parentPath, e.name), 'base64');
  }
  return out;
}

test('targets: the full profile writes figures/ and the notebook itself, the quick profile only out/quick/', () => {
  const file = path.join(root, 'notebooks', '02-expected-metric.ipynb');
  const env = {};
  const full = notebookTargets(file, 'full', root, env);
  assert.equal(full.figuresRoot, path.join(root, 'figures'));
  assert.equal(full.notebookOut, file);
  const quick = notebookTargets(file, 'quick', root, env);
  assert.equal(quick.figuresRoot, path.join(root, 'out', 'quick'));
  assert.equal(quick.notebookOut, path.join(root, 'out', 'quick', '02-expected-metric', '02-expected-metric.ipynb'));
  for (const t of [full, quick]) assert.equal(t.failedOut, path.join(root, 'out', 'failed', '02-expected-metric.ipynb'));
  // Figures sent elsewhere take the executed notebook with them: committed outputs go with committed figures only.
  const elsewhere = notebookTargets(file, 'full', root, { LSO_FIGURES_DIR: '/tmp/x' });
  assert.equal(elsewhere.notebookOut, path.join('/tmp/x', '02-expected-metric', '02-expected-metric.ipynb'));
  const ignored = fs.readFileSync(path.join(root, '.gitignore'), 'utf8').split('\n');
  for (const pattern of ['out/', '.ipynb_checkpoints/', '.lso-profile']) assert.ok(ignored.includes(pattern), `${pattern} is git-ignored`);
});

test('notebook() under the runner writes to the staging folder and shows the final paths', (t) => {
  const final = tempDir(t);
  const stage = tempDir(t);
  const nb = notebook('01-staged', { figuresDir: final, stageDir: stage, profile: 'full' });
  assert.equal(nb.dir, path.join(stage, '01-staged'));
  const shown = nb.results({ a: 1 });
  assert.equal(shown, path.join(final, '01-staged', 'results.json'), 'outside the checkout a path stays absolute');
  assert.ok(fs.existsSync(path.join(stage, '01-staged', 'results.json')));
  assert.ok(!fs.existsSync(path.join(final, '01-staged')), 'nothing in the destination before publishing');
  nb.headline({ finding: 'ratio', value: 2.5, spread: 'single run', paper: { value: 3, source: 'LSO fig. 6' } });
  const saved = JSON.parse(fs.readFileSync(path.join(stage, '01-staged', 'results.json'), 'utf8'));
  assert.deepEqual(saved.headline, [{ finding: 'ratio', value: 2.5, spread: 'single run', paper: { value: 3, source: 'LSO fig. 6' } }]);
  assert.equal(saved.a, 1, 'the headline is merged with the results');
  assert.throws(() => nb.headline({ finding: 'x', value: 1, paper: { value: 2, source: '' } }), /paper\.source/);
});

test('reproduceNotebook: files appear only when the notebook finished; a failure leaves everything as it was', async (t) => {
  const dir = tempDir(t, true);
  const figures = path.join(dir, 'figures');
  const out = path.join(dir, 'executed.ipynb');
  const failedOut = path.join(dir, 'failed', 'demo.ipynb');
  const targets = { figuresRoot: figures, notebookOut: out, failedOut };
  const cells = (fail: boolean) => [
    code(
      "import { notebook } from 'latent-geometry';\n" +
        "const nb = notebook('01-demo');\n" +
        "nb.results({ answer: 42, profile: nb.profile });\n" +
        "nb.table('counts', [{ n: 1, x: 0.5 }, { n: 2, x: 1.5 }]);\n" +
        "console.log(`model at ${process.env.TEST_ROOT}/.cache/models/vae-1.json`);",
    ),
    code(fail ? "throw new RangeError('no data here\\nsecond line');" : "console.log('done')"),
  ];
  const file = writeFixture(dir, '01-demo.ipynb', cells(false));
  const source = fs.readFileSync(file, 'utf8');
  const ok = await reproduceNotebook(file, { profile: 'quick', root, targets, env: { TEST_ROOT: root }, stageParent: dir });
  assert.equal(fs.readFileSync(file, 'utf8'), source, 'the source notebook is not written when the output goes elsewhere');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(figures, '01-demo', 'results.json'), 'utf8')), { profile: 'quick', answer: 42 });
  assert.equal(fs.readFileSync(path.join(figures, '01-demo', 'counts.csv'), 'utf8'), 'n,x\n1,0.5\n2,1.5\n');
  assert.equal(ok.written[ok.written.length - 1], out, 'the notebook is moved last');
  const executed = readNotebook(out);
  const text = JSON.stringify(executed.cells[0].outputs);
  assert.ok(text.includes('model at .cache/models/vae-1.json'), `the checkout's path is made relative: ${text.slice(0, 300)}`);
  assert.ok(!text.includes(root), 'no absolute path of the checkout is saved');
  const table = executed.cells[0].outputs?.find((o) => o.output_type === 'display_data');
  assert.ok(table && table.output_type === 'display_data' && 'text/html' in table.data && 'text/plain' in table.data, 'tables show as HTML with text');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes(STAGING_PREFIX)), [], 'no staging folder is left');

  // The same notebook failing in its last cell: nothing of the destination changes.
  fs.writeFileSync(file, serializeNotebook({ ...readNotebook(file), cells: cells(true) }));
  const failingSource = fs.readFileSync(file, 'utf8');
  const before = snapshot(figures);
  const beforeNotebook = fs.readFileSync(out, 'utf8');
  const err = await reproduceNotebook(file, { profile: 'full', root, targets: { ...targets, notebookOut: file }, stageParent: dir }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err, 'the failure is reported');
  assert.equal(failureSummary(err), 'cell #2: RangeError: no data here');
  assert.deepEqual(snapshot(figures), before, 'figures and results untouched');
  assert.equal(fs.readFileSync(file, 'utf8'), failingSource, 'the committed notebook keeps its outputs');
  assert.equal(fs.readFileSync(out, 'utf8'), beforeNotebook);
  const failed = readNotebook(failedOut);
  assert.equal(failed.cells[1].outputs?.[0]?.output_type, 'error', 'the executed copy with the error is kept for reading');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes(STAGING_PREFIX)), []);
});

test('a figure is one output: a MIME bundle with plotly JSON, HTML with the PNG inside, PNG and text', () => {
  const fig = latentHeatmap({ xs: [0, 1], ys: [0, 1], values: [1, 10, 100, 1000], title: 'Field <b>t</b>', colorbarTitle: 'MF', zLog: true });
  const png = Buffer.from([137, 80, 78, 71]);
  const bundle = figureBundle(fig, { png, bundleUrl: '../figures/plotly.min.js' });
  assert.deepEqual(Object.keys(bundle).sort(), [PLOTLY_MIME, 'image/png', 'text/html', 'text/plain'].sort());
  assert.equal(bundle['image/png'], png.toString('base64'));
  const plotly = bundle[PLOTLY_MIME] as { data: unknown[]; layout: { title: { text: string } }; config: object };
  assert.equal(plotly.data.length, 1);
  assert.equal(plotly.layout.title.text, 'Field <b>t</b>');
  assert.ok(plotly.config);
  const html = bundle['text/html'] as string;
  assert.ok(html.includes(`<img src="data:image/png;base64,${png.toString('base64')}"`), 'the PNG is the fallback inside the HTML');
  assert.ok(html.includes('"../figures/plotly.min.js"'));
  assert.match(bundle['text/plain'] as string, /^Figure: Field t \(heatmap\)$/);
  // Headless runs keep the PNG only; interactive use without a saved PNG needs no browser.
  assert.deepEqual(Object.keys(figureBundle(fig, { png, interactive: false, bundleUrl: 'x' })).sort(), ['image/png', 'text/plain']);
  assert.ok(!('image/png' in figureBundle(fig, { bundleUrl: 'x' })));
  // On disk the plotly JSON stays an object, text mime types become line lists.
  const nb: NotebookJson = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ ...code(''), outputs: [{ output_type: 'display_data', data: bundle, metadata: {} }] }] };
  const back = JSON.parse(serializeNotebook(nb)).cells[0].outputs[0].data;
  assert.equal(typeof back[PLOTLY_MIME], 'object');
  assert.ok(Array.isArray(back['text/html']));
  // The tooltip reads the value on the colour bar's scale, not its log10.
  const trace = fig.data[0] as { customdata?: unknown; hovertemplate?: string };
  assert.deepEqual(trace.customdata, [
    [1, 10],
    [100, 1000],
  ]);
  assert.match(trace.hovertemplate ?? '', /MF %\{customdata:\.4g\}/);
});

test('tables: typed columns, HTML with the types, polars text', () => {
  const df = typedFrame([
    { seed: 1, score: 0.5, name: 'a<b' },
    { seed: 2, score: 1, name: 'c' },
  ]);
  const bundle = tableBundle('scores', df);
  assert.deepEqual(Object.keys(bundle).sort(), ['text/html', 'text/plain']);
  const html = bundle['text/html'] as string;
  assert.ok(html.includes('seed<br><small style="color:#888;font-weight:normal">Int64</small>'));
  assert.ok(html.includes('score<br><small style="color:#888;font-weight:normal">Float64</small>'));
  assert.ok(html.includes('a&lt;b'));
  assert.match(bundle['text/plain'] as string, /i64/);
});

test('the gallery leads with the headline beside the paper, folds the other numbers, falls back without one', (t) => {
  const figures = tempDir(t);
  const a = path.join(figures, '01-a');
  fs.mkdirSync(a);
  fs.writeFileSync(path.join(a, 'field.png'), 'png');
  writeResults(a, { headline: { finding: 'far over near', value: 8063.85, spread: 'one seed', paper: { value: 'larger', source: 'LSO fig. 5' } }, detail: { x: 1 } }, 'full');
  const b = path.join(figures, '02-b');
  fs.mkdirSync(b);
  writeResults(b, { only: 2 }, 'quick');
  const html = fs.readFileSync(buildGallery(figures), 'utf8');
  const sectionA = html.slice(html.indexOf('id="01-a"'), html.indexOf('id="02-b"'));
  assert.ok(sectionA.indexOf('table class="headline"') < sectionA.indexOf('class="grid"'), 'the headline comes before the figures');
  assert.ok(sectionA.includes('<b>8064</b>') && sectionA.includes('LSO fig. 5') && sectionA.includes('one seed'));
  assert.ok(sectionA.indexOf('<details>') > sectionA.indexOf('class="grid"'), 'the key/value dump is folded after the figures');
  assert.ok(sectionA.includes('<td>detail.x</td><td>1</td>'));
  assert.ok(!sectionA.includes('<td>headline'), 'the headline is not repeated in the dump');
  assert.ok(html.includes('No headline in results.json yet'));
  assert.ok(html.includes('full profile') && html.includes('quick profile'));
  assert.deepEqual(readHeadlines({ headline: [{ finding: 'ok', value: 1 }, { finding: 'no value' }, { finding: 'bad paper', value: 1, paper: { value: 2 } }] }), [{ finding: 'ok', value: 1 }]);
  assert.deepEqual(readHeadlines({}), []);
});

test('paths are shown relative to the checkout; the guard rewrites what slipped through', () => {
  assert.equal(checkoutPath(path.join(root, '.cache', 'models', 'vae-1.json'), root), '.cache/models/vae-1.json');
  assert.equal(checkoutPath('/elsewhere/file.json', root), '/elsewhere/file.json');
  assert.equal(relativizeText(`saved to ${root}/figures/a.png (cwd ${root})`, root), 'saved to figures/a.png (cwd .)');
  assert.equal(relativizeText(`${root}-other/x`, root), `${root}-other/x`, 'a sibling folder with a longer name is not touched');
});

test('the run progress line: notebook k of n, elapsed, and the time left from recorded durations', (t) => {
  let now = 0;
  const p = new RunProgress(['00-a', '01-b', '02-c'], { '00-a': 10, '01-b': 100 }, () => now);
  p.begin(0);
  assert.equal(p.line(), 'notebook 1/3 (00-a) · 0.0s elapsed · time left: estimated after the first notebook');
  now = 12_000;
  p.end(0, 12);
  p.begin(1);
  now = 42_000;
  // 01-b: 100 s expected, 30 s done; 02-c has no record: the mean of those measured (12 s).
  assert.equal(p.secondsLeft(), 70 + 12);
  assert.equal(p.line(), 'notebook 2/3 (01-b) · 42.0s elapsed · about 1m22s left');
  const file = path.join(tempDir(t), 'timings.json');
  recordTiming(file, 'quick', '00-a', 12.34);
  recordTiming(file, 'full', '00-a', 99);
  assert.deepEqual(readTimings(file, 'quick'), { '00-a': 12.3 });
  assert.deepEqual(readTimings(path.join(file, 'missing'), 'full'), {});
});

test('disposal at the end of a notebook keeps models alive in a kernel, so cells can be re-run', () => {
  let disposed = 0;
  assert.equal(releaseModels(() => disposed++), true);
  assert.equal(disposed, 1);
  const g = globalThis as Record<string, unknown>;
  g.__tslab__ = {};
  try {
    assert.equal(releaseModels(() => disposed++), false);
    const model = keptAliveInKernel({ dispose: () => disposed++ });
    model.dispose();
    assert.equal(disposed, 1, 'nothing disposed inside a kernel');
  } finally {
    delete g.__tslab__;
  }
});

test('a live session without a browser shows the chart and saves its HTML page; the headless runner refuses', async (t) => {
  const figures = tempDir(t);
  const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
  const shown: { data: Record<string, unknown> }[] = [];
  const g = globalThis as Record<string, unknown>;
  const saved = { chromium: process.env.LSO_CHROMIUM, runner: process.env.LSO_RUNNER, hook: jupyter.lastWriteDisplayData };
  g.__tslab__ = {};
  process.env.LSO_CHROMIUM = 'none';
  delete process.env.LSO_RUNNER;
  jupyter.lastWriteDisplayData = (d: { data: Record<string, unknown> }) => shown.push(d);
  t.after(() => {
    delete g.__tslab__;
    jupyter.lastWriteDisplayData = saved.hook;
    for (const [k, v] of [['LSO_CHROMIUM', saved.chromium], ['LSO_RUNNER', saved.runner]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const nb = notebook('03-live', { figuresDir: figures, profile: 'quick' });
  const fig = latentHeatmap({ xs: [0, 1], ys: [0, 1], values: [1, 2, 3, 4], title: 't', colorbarTitle: 'c' });
  await nb.figure('field', fig);
  assert.deepEqual(fs.readdirSync(nb.dir).sort(), ['field.html']);
  assert.equal(shown.length, 1, 'one output');
  assert.deepEqual(Object.keys(shown[0].data).sort(), [PLOTLY_MIME, 'text/html', 'text/plain'].sort());
  nb.table('rows', [{ n: 1 }]);
  assert.deepEqual(Object.keys(shown[1].data).sort(), ['text/html', 'text/plain']);
  process.env.LSO_RUNNER = '1';
  await assert.rejects(nb.figure('again', fig), /No Chromium/);
});

test('files appearing beside an imported package while a cell runs do not break the headless kernel', async (t) => {
  // TypeScript watches the folder of every package.json that module resolution read; two changes there
  // during one cell made tslab throw "Unexpected pending rebuildTimer" (fatal with the wasm backend).
  const dir = tempDir(t);
  const pkg = path.join(dir, 'node_modules', 'fakepkg');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'fakepkg', version: '1.0.0', main: 'index.js', types: 'index.d.ts' }));
  fs.writeFileSync(path.join(pkg, 'index.js'), 'exports.answer = 42;\n');
  fs.writeFileSync(path.join(pkg, 'index.d.ts'), 'export declare const answer: number;\n');
  const file = writeFixture(dir, '01-watch.ipynb', [
    code(
      `import { answer } from 'fakepkg';\nimport * as fs from 'node:fs';\n` +
        `for (const n of ['a', 'b', 'c']) fs.writeFileSync(${JSON.stringify(pkg)} + '/' + n + '.txt', n);\n` +
        'await new Promise((r) => setTimeout(r, 1500));',
    ),
    code("console.log('alive', answer)"),
  ]);
  const run = await runNotebook(file);
  assert.equal(run.failures.length, 0);
  const nb = readNotebook(file);
  assert.ok(!JSON.stringify(nb.cells[0].outputs).includes('rebuildTimer'), JSON.stringify(nb.cells[0].outputs).slice(0, 300));
  assert.deepEqual(nb.cells[1].outputs, [{ output_type: 'stream', name: 'stdout', text: ['alive 42\n'] }]);
});
