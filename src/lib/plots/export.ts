/**
 * Figure files: PNG and SVG rendered by plotly.js itself in headless Chromium (so the pictures are exactly
 * what the interactive view shows), and an HTML page that references one shared local copy of plotly.js.
 *
 * One browser and one page (with plotly.js loaded once, ~4 s for the 10 MB bundle) serve the whole
 * process. Playwright's pipe to the browser keeps Node's event loop alive, so outside a notebook kernel
 * the browser is closed after a short idle time: a script that forgets `closeExporter()` still exits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { writeFileAtomic } from '../util/atomic';
import { InputError } from '../util/errors';
import { isInNotebook } from '../util/progress';
import { figureHtml, figureJson } from './html';
import { DEFAULT_SIZE } from './style';
import type { Figure } from './types';

export type ImageFormat = 'png' | 'svg';
export type FigureFormat = ImageFormat | 'html';

export const BUNDLE_NAME = 'plotly.min.js';

/** Flags for a headless browser in containers and CI: no sandbox (root), no GPU, no background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

const PATH_CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * The Chromium to drive: $LSO_CHROMIUM (`none`: no browser), Debian's /usr/bin/chromium, or a Chromium/Chrome on PATH.
 * Playwright's own browser downloads are not used: they need a CDN that this project cannot reach.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env, fixed: readonly string[] = ['/usr/bin/chromium']): string {
  const explicit = env.LSO_CHROMIUM;
  // "none": no browser on purpose (live notebook sessions then save the HTML pages only).
  if (explicit === 'none') throw new NoChromiumError();
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new InputError('LSO_CHROMIUM', `${explicit} does not exist`);
    return explicit;
  }
  const installed = fixed.find((file) => fs.existsSync(file));
  if (installed) return installed;
  for (const name of PATH_CANDIDATES) {
    const found = onPath(name, env);
    if (found) return found;
  }
  throw new NoChromiumError();
}

/** No browser to render PNG/SVG with: interactive notebook use goes on without them (HTML only). */
export class NoChromiumError extends Error {
  constructor() {
    super(
      'No Chromium found to export figures as PNG/SVG. Install one with `apt-get install chromium` (Debian/Ubuntu), ' +
        'or set LSO_CHROMIUM=/path/to/chromium-or-chrome.',
    );
    this.name = 'NoChromiumError';
  }
}

/** plotly.js as shipped by the plotly.js-dist package. */
export function plotlySource(): string {
  return require.resolve('plotly.js-dist/plotly.js');
}

/**
 * Copies plotly.js to `target` unless an identical-size copy is there. Atomic, so two notebooks saving
 * figures at the same time never leave a truncated bundle behind.
 */
export function ensurePlotlyBundle(target: string): string {
  const src = plotlySource();
  const want = fs.statSync(src).size;
  if (!fs.existsSync(target) || fs.statSync(target).size !== want) writeFileAtomic(target, fs.readFileSync(src));
  return target;
}

interface Exporter {
  browser: Browser;
  page: Page;
}

let exporter: Promise<Exporter> | null = null;
let idleTimer: NodeJS.Timeout | null = null;
let inFlight = 0;

/** How long an idle browser lives outside notebooks; notebook kernels keep theirs (launching costs ~5 s). */
function idleMs(): number {
  if (isInNotebook() || '__tslab__' in globalThis) return Infinity;
  const v = Number(process.env.LSO_EXPORT_IDLE_MS ?? 3000);
  return Number.isFinite(v) && v >= 0 ? v : 3000;
}

async function launch(): Promise<Exporter> {
  const executablePath = findChromium();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS] });
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
    await page.addScriptTag({ path: plotlySource() });
    return { browser, page };
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
}

function getExporter(): Promise<Exporter> {
  if (exporter) return exporter;
  const launching = launch();
  exporter = launching;
  // Forget this browser when it fails to start or goes away (crash, idle close), but only if it is still
  // the current one: a late 'disconnected' must not orphan a browser launched since.
  const forget = () => {
    if (exporter === launching) exporter = null;
  };
  launching.then((ex) => ex.browser.on('disconnected', forget), forget);
  return launching;
}

function armIdleClose(): void {
  const ms = idleMs();
  if (inFlight > 0 || !Number.isFinite(ms)) return;
  idleTimer = setTimeout(() => void closeExporter(), ms);
  idleTimer.unref();
}

export interface RenderOptions {
  format: ImageFormat;
  width?: number;
  height?: number;
  /** Device pixels per CSS pixel for PNG (default 2: sharp in papers and on high-DPI screens). */
  scale?: number;
}

/** The figure as PNG bytes or SVG text, rendered by Plotly.toImage in the shared headless page. */
export async function renderFigure(fig: Figure, opts: RenderOptions & { format: 'png' }): Promise<Buffer>;
export async function renderFigure(fig: Figure, opts: RenderOptions & { format: 'svg' }): Promise<string>;
export async function renderFigure(fig: Figure, opts: RenderOptions): Promise<Buffer | string>;
export async function renderFigure(fig: Figure, opts: RenderOptions): Promise<Buffer | string> {
  if (idleTimer) clearTimeout(idleTimer);
  inFlight++;
  try {
    const { page } = await getExporter();
    const toImage = {
      format: opts.format,
      width: opts.width ?? fig.layout.width ?? DEFAULT_SIZE.width,
      height: opts.height ?? fig.layout.height ?? DEFAULT_SIZE.height,
      scale: opts.format === 'png' ? (opts.scale ?? 2) : 1,
    };
    const url = await page.evaluate(
      ({ json, o }) => (window as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly.toImage(JSON.parse(json), o),
      { json: figureJson(fig), o: toImage },
    );
    return decodeDataUrl(url, opts.format);
  } finally {
    inFlight--;
    armIdleClose();
  }
}

/** Plotly.toImage answers with a data URL: base64 for PNG, percent-encoded text for SVG. */
export function decodeDataUrl(url: string, format: ImageFormat): Buffer | string {
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma < 0) throw new Error(`Plotly.toImage returned no data URL for ${format}`);
  const head = url.slice(0, comma);
  const body = url.slice(comma + 1);
  if (format === 'png') return Buffer.from(body, 'base64');
  return head.endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
}

/** Closes the shared browser; the next render launches a new one. Safe to call at any time. */
export async function closeExporter(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  const current = exporter;
  exporter = null;
  if (!current) return;
  const ex = await current.catch(() => null);
  await ex?.browser.close().catch(() => undefined);
}

const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Names that become files or folders: no separators and no '..', so nothing lands outside its folder. */
export function checkPlainName(name: string, what = 'figure name'): string {
  if (typeof name !== 'string' || !PLAIN_NAME.test(name) || name.includes('..')) {
    throw new InputError(what, `"${name}" must be a plain name (letters, digits, '.', '_', '-'), e.g. "01-variance-networks"`);
  }
  return name;
}

export interface SaveFigureOptions {
  /** Default: all three. */
  formats?: FigureFormat[];
  /** CSS pixels; default the layout's size, else 800 x 600. */
  width?: number;
  height?: number;
  /** PNG device-pixel ratio, default 2. */
  scale?: number;
  /** Embed plotly.js (10 MB) in the HTML instead of referencing the shared copy: for a page sent alone. */
  inlineBundle?: boolean;
  /** The shared plotly.js; default `plotly.min.js` in the parent of `dir` (figures/ for figures/<notebook>). */
  bundlePath?: string;
  /**
   * The page's URL of the shared plotly.js, ensured by the caller: for pages written to a staging folder
   * that will be moved next to the bundle (the URL is where the page ends up, not where it is written).
   */
  bundleUrl?: string;
}

/** Paths of the files written, by format. */
export type SavedFigure = Partial<Record<FigureFormat, string>>;

/** Path from `fromDir` to `file` as a URL path, for links and script sources in pages. */
export function relativeUrl(fromDir: string, file: string): string {
  return path.relative(fromDir, file).split(path.sep).map(encodeURIComponent).join('/');
}

/** Writes dir/name.{png,svg,html} (each atomically) and returns their paths. */
export async function saveFigure(fig: Figure, dir: string, name: string, opts: SaveFigureOptions = {}): Promise<SavedFigure> {
  checkPlainName(name);
  const formats = opts.formats ?? ['png', 'svg', 'html'];
  fs.mkdirSync(dir, { recursive: true });
  const out: SavedFigure = {};
  const file = (ext: FigureFormat) => path.join(dir, `${name}.${ext}`);
  const size = { width: opts.width, height: opts.height };
  if (formats.includes('png')) {
    out.png = file('png');
    writeFileAtomic(out.png, await renderFigure(fig, { format: 'png', ...size, scale: opts.scale }));
  }
  if (formats.includes('svg')) {
    out.svg = file('svg');
    writeFileAtomic(out.svg, await renderFigure(fig, { format: 'svg', ...size }));
  }
  if (formats.includes('html')) {
    out.html = file('html');
    const title = fig.layout.title?.text ?? name;
    const bundle = opts.inlineBundle
      ? { inline: fs.readFileSync(plotlySource(), 'utf8') }
      : { src: opts.bundleUrl ?? relativeUrl(dir, ensurePlotlyBundle(opts.bundlePath ?? path.join(path.dirname(path.resolve(dir)), BUNDLE_NAME))) };
    writeFileAtomic(out.html, figureHtml(fig, title, bundle));
  }
  return out;
}
