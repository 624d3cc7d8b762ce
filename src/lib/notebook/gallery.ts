/**
 * figures/index.html: one static page over every notebook's outputs (figures, tables, results.json), so
 * the results can be browsed from file:// or a plain file server without Jupyter and without network.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic';
import { formatNumber } from '../plots/arrays';
import { escapeHtml } from '../plots/html';
import { relativeUrl } from '../plots/export';
import { RESULTS_FILE } from './results';

export const GALLERY_FILE = 'index.html';

/** Short arrays are shown inline; longer ones would swamp the table, so only their length is. */
const MAX_INLINE_ARRAY = 8;

/** results.json as [dotted key, readable value] rows: nested objects flatten, numbers get 4 digits. */
export function flattenResults(value: unknown, prefix = ''): [string, string][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => flattenResults(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, formatValue(value)]];
}

function formatValue(v: unknown): string {
  if (typeof v === 'number') return formatNumber(v);
  if (Array.isArray(v)) {
    if (v.length > MAX_INLINE_ARRAY) return `[${v.length} values]`;
    return `[${v.map(formatValue).join(', ')}]`;
  }
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export interface NotebookOutputs {
  name: string;
  /** Figure names (PNG present), sorted. */
  figures: { name: string; png: string; svg?: string; html?: string }[];
  tables: string[];
  results: [string, string][] | null;
}

function filesIn(dir: string): Set<string> {
  return new Set(fs.readdirSync(dir));
}

/** What the gallery shows for one notebook folder. */
export function scanNotebookDir(dir: string): NotebookOutputs {
  const files = filesIn(dir);
  const stems = [...files].filter((f) => f.endsWith('.png')).map((f) => f.slice(0, -4)).sort();
  const has = (f: string) => (files.has(f) ? f : undefined);
  let results: [string, string][] | null = null;
  if (files.has(RESULTS_FILE)) {
    try {
      results = flattenResults(JSON.parse(fs.readFileSync(path.join(dir, RESULTS_FILE), 'utf8')));
    } catch (err) {
      results = [['(unreadable results.json)', (err as Error).message]];
    }
  }
  return {
    name: path.basename(dir),
    figures: stems.map((s) => ({ name: s, png: `${s}.png`, svg: has(`${s}.svg`), html: has(`${s}.html`) })),
    tables: [...files].filter((f) => f.endsWith('.csv')).sort(),
    results,
  };
}

function link(href: string, text: string): string {
  return `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
}

function section(nb: NotebookOutputs, rel: (file: string) => string): string {
  const cards = nb.figures
    .map((f) => {
      const target = rel(f.html ?? f.png);
      const extra = [link(rel(f.png), 'PNG'), f.svg && link(rel(f.svg), 'SVG'), f.html && link(rel(f.html), 'interactive')].filter(Boolean).join(' · ');
      return `<figure><a href="${escapeHtml(target)}"><img loading="lazy" src="${escapeHtml(rel(f.png))}" alt="${escapeHtml(f.name)}"></a><figcaption><b>${escapeHtml(f.name)}</b><br>${extra}</figcaption></figure>`;
    })
    .join('\n');
  const results = nb.results
    ? `<table><thead><tr><th>result</th><th>value</th></tr></thead><tbody>${nb.results
        .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p class="none">no results.json</p>';
  const tables = nb.tables.length ? `<p>Tables: ${nb.tables.map((t) => link(rel(t), t)).join(', ')}</p>` : '';
  return `<section id="${escapeHtml(nb.name)}">
<h2>${escapeHtml(nb.name)}</h2>
${results}
${tables}
<div class="grid">${cards || '<p class="none">no figures</p>'}</div>
</section>`;
}

const STYLE = `body{font-family:Arial,"Liberation Sans",sans-serif;margin:24px;color:#222;max-width:1400px}
nav a{margin-right:12px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:40px}
table{border-collapse:collapse;margin:8px 0;font-size:14px}td,th{border:1px solid #ddd;padding:3px 10px;text-align:left}
td:last-child{font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;width:320px}
figure img{width:320px;border:1px solid #eee;background:#fff}figcaption{font-size:13px;margin-top:4px}.none{color:#888}`;

/** Writes figuresDir/index.html over every notebook folder in it and returns the page's path. */
export function buildGallery(figuresDir: string): string {
  const root = path.resolve(figuresDir);
  fs.mkdirSync(root, { recursive: true });
  const notebooks = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => scanNotebookDir(path.join(root, e.name)))
    .sort((a, b) => a.name.localeCompare(b.name));
  const sections = notebooks.map((nb) => section(nb, (file) => relativeUrl(root, path.join(root, nb.name, file))));
  const nav = notebooks.map((nb) => `<a href="#${encodeURIComponent(nb.name)}">${escapeHtml(nb.name)}</a>`).join('');
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>latent-geometry figures</title><style>${STYLE}</style></head>
<body>
<h1>latent-geometry: figures and results</h1>
<p>Written by <code>npm run reproduce</code>. Thumbnails open the interactive chart when it is present (HTML pages are not committed: re-run a notebook to get them).</p>
<nav>${nav}</nav>
${sections.join('\n') || '<p class="none">No notebook has written figures yet.</p>'}
</body>
</html>
`;
  const file = path.join(root, GALLERY_FILE);
  writeFileAtomic(file, html);
  return file;
}
