/**
 * Figures as text: JSON for embedding in pages and notebook outputs, and a standalone HTML page that
 * works offline from file:// (no CDN: the workbook runs where only package registries are reachable).
 */
import type { Figure } from './types';

/**
 * The figure as JSON that is safe inside a <script> element. Numbers keep 6 significant digits (invisible
 * in a plot, and it halves the size of large heatmaps in pages and notebooks); typed arrays, which
 * JSON.stringify would turn into index-keyed objects, become arrays.
 */
export function figureJson(fig: Figure, digits = 6): string {
  const json = JSON.stringify(fig, (_key, v: unknown) => {
    if (typeof v === 'number') return Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(digits)) : v;
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    return v;
  });
  // '<' only occurs inside strings, where \u003c is the same character: no title can close the <script>.
  return json.replace(/</g, '\\u003c');
}

/** Makes a script body safe to inline: a literal `</script` would end the element early. */
export function inlineScript(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Where the page gets plotly.js: a relative URL to the shared copy, or the bundle's source inlined. */
export type BundleRef = { src: string } | { inline: string };

export const PLOT_CONFIG = { responsive: true, displaylogo: false } as const;

export function figureHtml(fig: Figure, title: string, bundle: BundleRef): string {
  const script = 'src' in bundle ? `<script src="${escapeHtml(bundle.src)}"></script>` : `<script>${inlineScript(bundle.inline)}</script>`;
  const fixedSize = fig.layout.width !== undefined && fig.layout.height !== undefined;
  const plotStyle = fixedSize ? '' : 'width:100%;height:95vh;min-height:480px';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>body{margin:0;padding:8px;font-family:Arial,"Liberation Sans",sans-serif;background:#fff}</style>
</head>
<body>
<div id="plot" style="${plotStyle}"></div>
${script}
<script>
(function () {
  var el = document.getElementById('plot');
  if (!window.Plotly) {
    el.textContent = 'plotly.js did not load (expected ${escapeHtml('src' in bundle ? bundle.src : 'inline')} next to this page): re-run the notebook or npm run reproduce.';
    return;
  }
  var fig = ${figureJson(fig)};
  window.Plotly.newPlot(el, fig.data, fig.layout, ${JSON.stringify(PLOT_CONFIG)});
})();
</script>
</body>
</html>
`;
}
