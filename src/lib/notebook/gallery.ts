/**
 * figures/index.html: one static page over every notebook's outputs (figures, tables, results.json), so
 * the results can be browsed from file:// or a plain file server without Jupyter and without network.
 * Each notebook leads with its headline finding beside the paper's (results.json's `headline`, set by
 * `nb.headline`), then its figures; every other number is behind a fold.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic';
import { formatNumber } from '../plots/arrays';
import { escapeHtml } from '../plots/html';
import { relativeUrl } from '../plots/export';
import { RESULTS_FILE, type Headline } from './results';

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
  /** Every result but the headline, flattened. */
  results: [string, string][] | null;
  headlines: Headline[];
  /** results.json's profile. */
  profile?: string;
  /** An executed copy of the notebook in the folder (quick profile), if any. */
  notebook?: string;
}

function isValue(v: unknown): v is number | string {
  return typeof v === 'number' || typeof v === 'string';
}

/** The well-formed entries of results.json's `headline` (an object or a list); others are skipped. */
export function readHeadlines(results: unknown): Headline[] {
  const h = results !== null && typeof results === 'object' ? (results as { headline?: unknown }).headline : undefined;
  const list = Array.isArray(h) ? h : h === undefined ? [] : [h];
  return list.filter((e): e is Headline => {
    if (e === null || typeof e !== 'object') return false;
    const { finding, value, paper } = e as Headline;
    if (typeof finding !== 'string' || !isValue(value)) return false;
    return paper === undefined || (typeof paper === 'object' && paper !== null && isValue(paper.value) && typeof paper.source === 'string');
  });
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
  let headlines: Headline[] = [];
  let profile: string | undefined;
  if (files.has(RESULTS_FILE)) {
    try {
      const parsed = JSON.parse(fs.readFileSync(path.join(dir, RESULTS_FILE), 'utf8')) as Record<string, unknown>;
      headlines = readHeadlines(parsed);
      profile = typeof parsed.profile === 'string' ? parsed.profile : undefined;
      const { headline: _headline, profile: _profile, ...rest } = parsed;
      results = flattenResults(rest);
    } catch (err) {
      results = [['(unreadable results.json)', (err as Error).message]];
    }
  }
  const name = path.basename(dir);
  return {
    name,
    figures: stems.map((s) => ({ name: s, png: `${s}.png`, svg: has(`${s}.svg`), html: has(`${s}.html`) })),
    tables: [...files].filter((f) => f.endsWith('.csv')).sort(),
    results,
    headlines,
    profile,
    notebook: has(`${name}.ipynb`),
  };
}

function link(href: string, text: string): string {
  return `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
}

function showValue(v: number | string): string {
  return typeof v === 'number' ? formatNumber(v) : v;
}

function headlineTable(headlines: Headline[]): string {
  if (headlines.length === 0) return '<p class="none">No headline in results.json yet (a notebook sets it with <code>nb.headline</code>); every number is in the fold below.</p>';
  const rows = headlines
    .map((h) => {
      const ours = `<b>${escapeHtml(showValue(h.value))}</b>${h.spread ? `<br><small>${escapeHtml(h.spread)}</small>` : ''}`;
      const paper = h.paper
        ? `<b>${escapeHtml(showValue(h.paper.value))}</b>${h.paper.spread ? `<br><small>${escapeHtml(h.paper.spread)}</small>` : ''}<br><small>${escapeHtml(h.paper.source)}</small>`
        : '<span class="none">not stated</span>';
      return `<tr><td>${escapeHtml(h.finding)}${h.note ? `<br><small>${escapeHtml(h.note)}</small>` : ''}</td><td>${ours}</td><td>${paper}</td></tr>`;
    })
    .join('');
  return `<table class="headline"><thead><tr><th>finding</th><th>here</th><th>paper</th></tr></thead><tbody>${rows}</tbody></table>`;
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
    ? `<details><summary>All results (${nb.results.length} values)</summary><table class="kv"><thead><tr><th>result</th><th>value</th></tr></thead><tbody>${nb.results
        .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`)
        .join('')}</tbody></table></details>`
    : '<p class="none">no results.json</p>';
  const files = [
    nb.tables.length ? `Tables: ${nb.tables.map((t) => link(rel(t), t)).join(', ')}` : '',
    nb.notebook ? `Executed notebook: ${link(rel(nb.notebook), nb.notebook)}` : '',
  ].filter(Boolean);
  const profile = nb.profile ? ` <span class="profile">${escapeHtml(nb.profile)} profile</span>` : '';
  return `<section id="${escapeHtml(nb.name)}">
<h2>${escapeHtml(nb.name)}${profile}</h2>
${nb.results ? headlineTable(nb.headlines) : ''}
<div class="grid">${cards || '<p class="none">no figures</p>'}</div>
${files.length ? `<p>${files.join(' · ')}</p>` : ''}
${results}
</section>`;
}

const STYLE = `*{box-sizing:border-box}body{font-family:Arial,"Liberation Sans",sans-serif;margin:24px auto;padding:0 24px;color:#222;max-width:1400px}
nav{display:flex;flex-wrap:wrap;gap:4px 14px}nav a{white-space:nowrap}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:40px}
table{border-collapse:collapse;margin:8px 0;font-size:14px;max-width:100%}td,th{border:1px solid #ddd;padding:3px 10px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td:last-child{font-variant-numeric:tabular-nums}table.headline{width:100%;font-size:15px}table.headline td:first-child{width:50%}
table.headline td:not(:first-child){width:25%}small{color:#555}details{margin:12px 0}summary{cursor:pointer;color:#0072B2}
.profile{font-size:13px;font-weight:normal;color:#fff;background:#0072B2;border-radius:3px;padding:1px 6px;vertical-align:middle}
.grid{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;width:320px;max-width:100%}
figure img{width:100%;border:1px solid #eee;background:#fff}figcaption{font-size:13px;margin-top:4px;overflow-wrap:anywhere}.none{color:#888}`;

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
