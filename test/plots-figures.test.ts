import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  contourOverlay,
  figureHtml,
  figureJson,
  imageGrid,
  imageStrip,
  latentHeatmap,
  lineChart,
  logTicks,
  OKABE_ITO,
  scatter,
  tableFigure,
  toGrid,
  trainingCurves,
  type Figure,
} from '../src/lib/plots';
import { InputError } from '../src/lib/util/errors';

const xs = [0, 1, 2];
const ys = [10, 20];

function axisTitle(fig: Figure, which: 'xaxis' | 'yaxis'): string | undefined {
  return fig.layout[which]?.title?.text;
}

test('latentHeatmap: field, one trace per class, curves, labelled axes and colour bar', () => {
  const fig = latentHeatmap({
    xs,
    ys,
    values: Float32Array.from([1, 2, 3, 4, 5, 6]),
    title: 'magnification',
    colorbarTitle: 'MF',
    points: { x: [0, 1, 2, 0.5], y: [10, 11, 12, 13], labels: [0, 1, 1, 2], classNames: ['zero', 'one', 'two'] },
    curves: [
      { x: [0, 2], y: [10, 20], name: 'geodesic' },
      { x: [0, 2], y: [10, 20], name: 'linear', dash: 'dash' },
    ],
  });
  assert.equal(fig.data.length, 1 + 3 + 2);
  const [field, ...rest] = fig.data;
  assert.equal(field.type, 'heatmap');
  assert.deepEqual(field.z, [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.equal(field.colorbar?.title?.text, 'MF');
  assert.equal(field.colorscale, 'Viridis');
  assert.deepEqual(
    rest.map((t) => t.name),
    ['zero', 'one', 'two', 'geodesic', 'linear'],
  );
  assert.deepEqual(rest[1].x, [1, 2]);
  assert.equal(rest[0].marker?.color, OKABE_ITO[0]);
  assert.equal(rest[4].line?.dash, 'dash');
  assert.ok(axisTitle(fig, 'xaxis') && axisTitle(fig, 'yaxis'));
  assert.equal(fig.layout.title?.text, 'magnification');
  // Typed input never reaches the JSON as an object keyed by index.
  assert.ok(!figureJson(fig).includes('"0":'));
});

test('latentHeatmap: zLog colours by log10 and labels the bar with real values', () => {
  const fig = latentHeatmap({ xs: [0, 1], ys: [0, 1], values: [[0.001, 0.01], [1, -1]], title: 't', colorbarTitle: 'var', zLog: true });
  const z = fig.data[0].z!;
  assert.equal(z[0][0], -3);
  assert.equal(z[1][1], null, 'non-positive values are gaps');
  const bar = fig.data[0].colorbar!;
  assert.deepEqual(bar.tickvals, [-3, -2, -1, 0]);
  assert.deepEqual(bar.ticktext, ['0.001', '0.01', '0.1', '1']);
  assert.equal(fig.data.length, 1);
  assert.equal(fig.layout.showlegend, false);
});

test('logTicks uses 1-2-5 steps on a narrow range', () => {
  const { tickvals, ticktext } = logTicks([Math.log10(0.3), Math.log10(4)]);
  assert.deepEqual(ticktext, ['0.5', '1', '2']);
  assert.equal(tickvals.length, 3);
});

test('toGrid and latentHeatmap reject shapes that do not match the axes', () => {
  assert.throws(() => toGrid([1, 2, 3], 2, 2), InputError);
  assert.throws(() => toGrid([[1, 2], [3]], 2, 2), /values\[1\]/);
  assert.throws(() => latentHeatmap({ xs, ys, values: [1, 2], title: 't', colorbarTitle: 'c' }), /expected 6/);
  assert.throws(() => latentHeatmap({ xs, ys, values: [1, 2, 3, 4, 5, 6], title: 't', colorbarTitle: 'c', points: { x: [1], y: [1, 2] } }), /points/);
});

test('contourOverlay adds one line-only contour trace and keeps the original', () => {
  const base = latentHeatmap({ xs, ys, values: [1, 2, 3, 4, 5, 6], title: 't', colorbarTitle: 'c' });
  const fig = contourOverlay(base, { xs, ys, values: [[0, 1, 0], [1, 2, 1]], name: 'density' });
  assert.equal(fig.data.length, 2);
  assert.equal(fig.data[1].type, 'contour');
  assert.equal(fig.data[1].showscale, false);
  assert.equal(base.data.length, 1);
});

test('imageStrip: one greyscale montage with gaps, rows labelled, top row first', () => {
  const h = 2;
  const w = 3;
  const images = new Float32Array(4 * h * w).map((_, i) => i / 24);
  const fig = imageStrip({ images, height: h, width: w, n: 2, title: 'decodes', rowLabels: ['geodesic', 'linear'], pixelRange: [0, 1] });
  assert.equal(fig.data.length, 1);
  const t = fig.data[0];
  assert.equal(t.type, 'heatmap');
  assert.equal(t.showscale, false);
  assert.deepEqual([t.zmin, t.zmax], [0, 1]);
  const z = t.z!;
  assert.equal(z.length, 2 * h + 1);
  assert.equal(z[0].length, 2 * w + 1);
  assert.equal(z[0][w], null, 'gap column');
  assert.equal(z[0][w + 1], images[h * w]);
  assert.deepEqual(fig.layout.yaxis?.ticktext, ['geodesic', 'linear']);
  assert.deepEqual(fig.layout.yaxis?.range, [2 * h + 1 - 0.5, -0.5]);
  assert.ok(fig.layout.width! > 0 && fig.layout.height! > 0);
});

test('imageGrid accepts one array per image and checks sizes', () => {
  const img = [0, 1, 1, 0];
  const fig = imageGrid({ images: [img, img, img], height: 2, width: 2, cols: 2, title: 'samples' });
  assert.equal(fig.data[0].z!.length, 5);
  assert.throws(() => imageGrid({ images: [img, [1]], height: 2, width: 2, cols: 2, title: 'x' }), /images\[1\]/);
  assert.throws(() => imageStrip({ images: [img], height: 2, width: 2, n: 1, title: 'x', rowLabels: ['a', 'b'] }), /rowLabels/);
});

test('trainingCurves: one series per metric, gaps for missing epochs, labelled axes', () => {
  const history = [
    { epoch: 1, loss: 3, val_loss: 3.5 },
    { epoch: 2, loss: 2 },
    { epoch: 3, loss: 1.5, val_loss: 2 },
  ];
  const fig = trainingCurves(history, { title: 'VAE', metrics: ['loss', 'val_loss'] });
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data[1].x, [1, 3]);
  assert.equal(axisTitle(fig, 'xaxis'), 'epoch');
  assert.ok(axisTitle(fig, 'yaxis'));
  assert.throws(() => trainingCurves(history, { title: 't', metrics: ['kl'] }), /kl/);
});

test('lineChart, scatter and tableFigure', () => {
  const line = lineChart({
    series: [
      { name: 'VAE', x: [100, 1000], y: [50, 30], error: [2, 1] },
      { name: 'RBF', x: [100, 1000], y: [45, 25] },
    ],
    title: 'FID vs training size',
    xTitle: 'training images',
    yTitle: 'FID',
    logX: true,
  });
  assert.equal(line.data.length, 2);
  assert.equal(line.layout.xaxis?.type, 'log');
  assert.deepEqual((line.data[0].error_y as { array: number[] }).array, [2, 1]);

  const sc = scatter({ x: [0, 1, 2], y: [0, 1, 2], labels: [3, 3, 5], title: 'codes', xTitle: 'z1', yTitle: 'z2' });
  assert.deepEqual(
    sc.data.map((t) => t.name),
    ['3', '5'],
  );

  const table = tableFigure({ rows: [{ model: 'VAE', fid: 30.123456 }, { model: 'RBF', fid: 25 }], title: 'FID' });
  const cells = table.data[0].cells as { values: string[][] };
  assert.equal(table.data[0].type, 'table');
  assert.deepEqual(cells.values, [
    ['VAE', 'RBF'],
    ['30.12', '25'],
  ]);
});

test('figureHtml references the shared bundle, or inlines it safely', () => {
  const fig = latentHeatmap({ xs, ys, values: [1, 2, 3, 4, 5, 6], title: '</script><b>x</b>', colorbarTitle: 'c' });
  const page = figureHtml(fig, 'field', { src: '../plotly.min.js' });
  assert.match(page, /<script src="\.\.\/plotly\.min\.js"><\/script>/);
  assert.ok(!page.includes('</script><b>'), 'titles cannot close the script element');
  const inline = figureHtml(fig, 'field', { inline: 'var a = "</script>";' });
  assert.ok(inline.includes('<\\/script>'));
});
