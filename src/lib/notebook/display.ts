/**
 * Figures inside Jupyter (tslab kernel, or the headless runner that emulates it).
 *
 * Two outputs per figure, on purpose:
 *  - the PNG, which every front-end shows, trusted or not, and which GitHub renders;
 *  - an interactive chart (HTML + script). Jupyter runs scripts in outputs only for trusted notebooks and
 *    live sessions, so the HTML starts with a short note that the script replaces with the chart.
 * The chart loads the shared figures/plotly.min.js through the Jupyter server's /files/ route (no CDN
 * here); as Jupyter's classic Notebook has RequireJS, `define` is hidden while the bundle is evaluated so
 * every UMD part of it sets globals instead of registering anonymous AMD modules.
 */
import { figureJson, escapeHtml, PLOT_CONFIG } from '../plots/html';
import type { Figure } from '../plots/types';

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
 * (e.g. ../figures/plotly.min.js); `htmlUrl`, the figure's standalone page, is named in the fallback note.
 */
export function interactiveHtml(fig: Figure, bundleUrl: string, htmlUrl?: string): string {
  const id = nextId();
  const width = fig.layout.width ? `${fig.layout.width}px` : '100%';
  const height = `${fig.layout.height ?? 500}px`;
  const where = htmlUrl ? ` or open ${escapeHtml(htmlUrl)}` : '';
  return `<div id="${id}" style="width:${width};max-width:100%;height:${height}"><p style="color:#666;font-size:90%">Interactive chart: shown when this notebook is trusted and run${where}. The PNG above is the same figure.</p></div>
<script>
(function () {
${LOADER}
  var el = document.getElementById('${id}');
  var fig = ${figureJson(fig)};
  lsoPlotly(${JSON.stringify(bundleUrl)}, function () {
    el.innerHTML = '';
    window.Plotly.newPlot(el, fig.data, fig.layout, ${JSON.stringify(PLOT_CONFIG)});
  }, function () {
    el.style.height = 'auto';
    el.firstChild.textContent = 'Interactive chart unavailable: plotly.js could not be loaded from the Jupyter server. The PNG above is the same figure.';
  });
})();
</script>`;
}
