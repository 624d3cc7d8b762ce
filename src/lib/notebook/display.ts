/**
 * Figures and tables inside Jupyter (tslab kernel, or the headless runner that emulates it).
 *
 * One output per figure: a MIME bundle, from which each front-end picks what it renders best:
 *  - application/vnd.plotly.v1+json: the chart itself, for JupyterLab with the Plotly renderer, VS Code, nteract;
 *  - text/html for the classic Notebook: the PNG, which a script replaces with the interactive chart where
 *    scripts run (trusted notebooks, live sessions); untrusted, the PNG stays;
 *  - image/png (when the figure was saved: interactive use needs no browser) and text/plain.
 * The chart loads the shared plotly.min.js through the Jupyter server's /files/ route (no CDN here); as the
 * classic Notebook has RequireJS, `define` is hidden while the bundle is evaluated so every UMD part of it
 * sets globals instead of registering anonymous AMD modules.
 */
import { figureJson, escapeHtml, PLOT_CONFIG } from '../plots/html';
import type { Figure } from '../plots/types';
import type { MimeBundle } from './ipynb';

/** The part of tslab's `display` that we use. */
export interface Display {
  png(bytes: Uint8Array): void;
  html(html: string): void;
}

/** tslab's display when this code runs in a tslab executor, else null (scripts, tests, plain Node). */
export function tslabDisplay(): Display | null {
  // The executor defines __tslab__ before running any cell; nothing else does.
  if (!('__tslab__' in globalThis)) return null;
  try {
    return (require('tslab') as { display: Display }).display;
  } catch {
    return null;
  }
}

/** Shows with `show`, answering false instead of failing when no kernel is listening ("Not ready"). */
function tryDisplay(show: (d: Display) => void): boolean {
  const d = tslabDisplay();
  if (!d) return false;
  try {
    show(d);
    return true;
  } catch {
    return false;
  }
}

export function displayPng(png: Uint8Array): boolean {
  return tryDisplay((d) => d.png(png));
}

export function displayHtml(html: string): boolean {
  return tryDisplay((d) => d.html(html));
}

/** tslab's hook for display_data messages, which its public `display` reaches one mime type at a time. */
type WriteDisplayData = (d: { data: MimeBundle; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;

/** Shows one output with several mime types (a MIME bundle); false outside a kernel. */
export function displayBundle(data: MimeBundle, metadata: Record<string, unknown> = {}): boolean {
  if (!tslabDisplay()) return false;
  try {
    const hook = (require('tslab/dist/jupyter') as { lastWriteDisplayData: WriteDisplayData | null }).lastWriteDisplayData;
    if (!hook) return false;
    hook({ data, metadata, transient: {} }, false);
    return true;
  } catch {
    return false;
  }
}

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

export interface FigureBundleOptions {
  /** A PNG of the figure at one image pixel per CSS pixel (front-ends draw it at that size). */
  png?: Uint8Array;
  /** Include the interactive parts (plotly JSON and the HTML chart); default true. */
  interactive?: boolean;
  /** plotly.min.js relative to the notebook's folder (the HTML chart loads it). */
  bundleUrl: string;
  /** The figure's standalone page, named in the note when neither chart nor PNG can be shown. */
  htmlUrl?: string;
}

/** A one-line description: the text/plain of a figure (what a terminal or a plain-text viewer shows). */
export function figureText(fig: Figure): string {
  const title = fig.layout.title?.text ?? 'untitled';
  const traces = fig.data.map((t) => String((t as { type?: unknown }).type ?? 'scatter'));
  return `Figure: ${title.replace(/<[^>]+>/g, '')} (${[...new Set(traces)].join(', ')})`;
}

/** The MIME bundle of one figure output (see the header): pure, so tests check its shape. */
export function figureBundle(fig: Figure, opts: FigureBundleOptions): MimeBundle {
  const interactive = opts.interactive ?? true;
  const png = opts.png ? Buffer.from(opts.png).toString('base64') : undefined;
  const data: MimeBundle = { 'text/plain': figureText(fig) };
  if (png) data['image/png'] = png;
  if (interactive) {
    data[PLOTLY_MIME] = { ...(JSON.parse(figureJson(fig)) as Record<string, unknown>), config: { ...PLOT_CONFIG } };
    data['text/html'] = interactiveHtml(fig, opts.bundleUrl, opts.htmlUrl, png);
  }
  return data;
}

/** Shows a figure as one output (figureBundle); false outside a kernel. */
export function displayFigure(fig: Figure, opts: FigureBundleOptions): boolean {
  return displayBundle(figureBundle(fig, opts));
}

/** Interactive charts are on in live kernels; LSO_INTERACTIVE=0 turns them off (the runner's default). */
export function interactiveEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.LSO_INTERACTIVE !== '0';
}

let counter = 0;

/** A unique element id: outputs of all cells share one page. */
function nextId(): string {
  counter += 1;
  return `lso-fig-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/**
 * Browser-side loader, shared by all charts of a page through `window.__lsoPlotly`: the bundle is fetched
 * once, from the first URL that works, and every chart waiting for it is drawn then.
 */
const LOADER = `
function lsoPlotly(rel, done, failed) {
  if (window.Plotly) return done();
  var w = window.__lsoPlotly = window.__lsoPlotly || { state: 'idle', done: [], failed: [] };
  w.done.push(done); w.failed.push(failed);
  if (w.state === 'loading') return;
  w.state = 'loading';
  function norm(p) {
    var out = [];
    p.split('/').forEach(function (s) { if (s === '..') out.pop(); else if (s && s !== '.') out.push(s); });
    return out.join('/');
  }
  var urls = [], base = '/', nb = null, body = document.body, cfg = document.getElementById('jupyter-config-data');
  if (body && body.getAttribute('data-notebook-path')) {
    base = body.getAttribute('data-base-url') || '/';
    nb = body.getAttribute('data-notebook-path');
  } else {
    try { if (cfg) base = JSON.parse(cfg.textContent).baseUrl || '/'; } catch (e) {}
    var m = /\\/(?:notebooks|(?:lab|doc)(?:\\/workspaces\\/[^\\/]+)?\\/tree)\\/(.+)$/.exec(location.pathname);
    if (m) nb = decodeURIComponent(m[1]);
  }
  if (nb !== null) {
    var dir = nb.split('/').slice(0, -1).join('/');
    urls.push(base.replace(/\\/?$/, '/') + 'files/' + norm(dir + '/' + rel).split('/').map(encodeURIComponent).join('/'));
  }
  urls.push(rel);
  function finish(ok) {
    w.state = ok ? 'ready' : 'idle';
    var list = ok ? w.done : w.failed;
    w.done = []; w.failed = [];
    list.forEach(function (f) { try { f(); } catch (e) { console.error(e); } });
  }
  (function next(i) {
    if (window.Plotly) return finish(true);
    if (i >= urls.length) return finish(false);
    var s = document.createElement('script');
    var amd = window.define;
    window.define = undefined;
    s.src = urls[i];
    s.onload = function () { window.define = amd; next(window.Plotly ? urls.length : i + 1); };
    s.onerror = function () { window.define = amd; s.remove(); next(i + 1); };
    document.head.appendChild(s);
  })(0);
}`;

/**
 * The interactive output for `fig`. `bundleUrl` is the shared plotly.js relative to the notebook's folder
 * (e.g. ../figures/plotly.min.js); `pngBase64`, when given, is shown until the chart replaces it (and stays
 * where scripts do not run); without it a note names `htmlUrl`, the figure's standalone page.
 */
export function interactiveHtml(fig: Figure, bundleUrl: string, htmlUrl?: string, pngBase64?: string): string {
  const id = nextId();
  const width = fig.layout.width ? `${fig.layout.width}px` : '100%';
  const height = `${fig.layout.height ?? 500}px`;
  const where = htmlUrl ? ` or open ${escapeHtml(htmlUrl)}` : '';
  const title = escapeHtml((fig.layout.title?.text ?? 'figure').replace(/<[^>]+>/g, ''));
  const fallback = pngBase64
    ? `<img src="data:image/png;base64,${pngBase64}" alt="${title}" style="max-width:100%">`
    : `<p style="color:#666;font-size:90%">Interactive chart: shown when this notebook is trusted and run${where}.</p>`;
  return `<div id="${id}" style="width:${width};max-width:100%;min-height:${height}">${fallback}</div>
<script>
(function () {
${LOADER}
  var el = document.getElementById('${id}');
  var fig = ${figureJson(fig)};
  lsoPlotly(${JSON.stringify(bundleUrl)}, function () {
    el.innerHTML = '';
    el.style.height = ${JSON.stringify(height)};
    window.Plotly.newPlot(el, fig.data, fig.layout, ${JSON.stringify(PLOT_CONFIG)});
  }, function () {
    if (el.firstChild && el.firstChild.tagName === 'P') el.firstChild.textContent = 'Interactive chart unavailable: plotly.js could not be loaded from the Jupyter server.';
  });
})();
</script>`;
}
