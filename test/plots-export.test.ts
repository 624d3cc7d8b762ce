import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUNDLE_NAME, closeExporter, findChromium, imageStrip, latentHeatmap, lineChart, saveFigure } from '../src/lib/plots';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chromiumMissing(): string | false {
  try {
    findChromium();
    return false;
  } catch (err) {
    // CI must have a browser: there a missing one is a failure, not a skip.
    return process.env.CI ? false : (err as Error).message;
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-plots-export-'));
after(async () => {
  await closeExporter();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const fig = latentHeatmap({
  xs: [0, 1, 2],
  ys: [0, 1],
  values: [1, 2, 3, 4, 5, 6],
  title: 'export test',
  colorbarTitle: 'value',
  points: { x: [0.5, 1.5], y: [0.5, 0.5], labels: [0, 1] },
});

test('saveFigure writes a PNG, an SVG and an HTML page that uses the shared local plotly.js', { skip: chromiumMissing() }, async () => {
  const dir = path.join(tmp, 'figures', '99-test');
  const saved = await saveFigure(fig, dir, 'field');
  assert.deepEqual(Object.keys(saved).sort(), ['html', 'png', 'svg']);

  const png = fs.readFileSync(saved.png!);
  assert.ok(png.length > 1000, `PNG has ${png.length} bytes`);
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  // The layout's size at scale 2: the IHDR chunk holds width and height.
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [2 * fig.layout.width!, 2 * fig.layout.height!]);

  const svg = fs.readFileSync(saved.svg!, 'utf8');
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\s*$/);
  assert.ok(svg.includes('export test'), 'the title is in the SVG');

  const html = fs.readFileSync(saved.html!, 'utf8');
  assert.ok(html.includes(`<script src="../${BUNDLE_NAME}"></script>`));
  const bundle = path.join(tmp, 'figures', BUNDLE_NAME);
  assert.ok(fs.statSync(bundle).size > 1e6, 'the shared bundle was copied once next to the notebook folders');
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary files left',
  );
});

test('saveFigure: 800 x 600 at scale 2 by default, the formats asked for, the layout size of strips', { skip: chromiumMissing() }, async () => {
  const chart = lineChart({ series: [{ name: 'a', x: [1, 2], y: [3, 4] }], title: 'line', xTitle: 'x', yTitle: 'y' });
  const line = fs.readFileSync((await saveFigure(chart, path.join(tmp, 'other'), 'line', { formats: ['png'] })).png!);
  assert.deepEqual([line.readUInt32BE(16), line.readUInt32BE(20)], [1600, 1200]);
  const strip = imageStrip({ images: new Float32Array(3 * 4 * 4).fill(0.5), height: 4, width: 4, n: 3, title: 'strip' });
  const saved = await saveFigure(strip, path.join(tmp, 'other'), 'strip', { formats: ['png'], scale: 1 });
  assert.deepEqual(Object.keys(saved), ['png']);
  const png = fs.readFileSync(saved.png!);
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [strip.layout.width, strip.layout.height]);
});

test('saveFigure rejects names that would escape the folder', async () => {
  await assert.rejects(saveFigure(fig, tmp, '../evil', { formats: ['html'] }), /plain name/);
});

test('findChromium names the fix when LSO_CHROMIUM points nowhere', () => {
  assert.throws(() => findChromium({ LSO_CHROMIUM: '/nonexistent/chrome' }), /LSO_CHROMIUM/);
  assert.throws(() => findChromium({ PATH: '' }, []), /apt-get install chromium/);
  const dir = fs.mkdtempSync(path.join(tmp, 'bin-'));
  fs.writeFileSync(path.join(dir, 'google-chrome'), '', { mode: 0o755 });
  assert.equal(findChromium({ PATH: dir }, []), path.join(dir, 'google-chrome'));
});
