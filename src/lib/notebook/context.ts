/**
 * `const nb = notebook('01-variance-networks')`: everything a notebook writes goes through this object,
 * so every notebook lays out <figures root>/<name>/ the same way and the gallery can read them all.
 *
 * The figures root depends on the profile (env.ts: figures/ for full, out/quick/ for quick). Under the
 * headless runner the files go to a staging folder first ($LSO_STAGE_DIR, mirroring the root) and are moved
 * into place only when the whole notebook finished (workbook-run.ts); paths shown to the user are always
 * the final ones, relative to the checkout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmtSecs } from '../util/progress';
import { checkoutPath } from '../util/paths';
import { BUNDLE_NAME, NoChromiumError, checkPlainName, ensurePlotlyBundle, relativeUrl, renderFigure, saveFigure, type SavedFigure, type SaveFigureOptions } from '../plots/export';
import type { Figure } from '../plots/types';
import { displayBundle, displayFigure, interactiveEnabled, tslabDisplay } from './display';
import { ENV_STAGE_DIR, byProfile, currentProfile, outputRoot, type Profile } from './env';
import { ENV_RUNNER } from './protocol';
import { checkHeadlines, tableBundle, writeResults, writeTable, type Headline } from './results';

export interface NotebookFigureOptions extends SaveFigureOptions {
  /** Show the figure in the notebook (default true; a no-op outside a kernel). */
  display?: boolean;
  /** Also show the interactive chart (default: on, unless LSO_INTERACTIVE=0). */
  interactive?: boolean;
}

export interface NotebookContext {
  /** The notebook's name, also its folder under the figures root. */
  readonly name: string;
  /** Where this run writes the notebook's files (the staging copy of <root>/<name> under the runner), created. */
  readonly dir: string;
  /** The figures root the files end up in (figures/ or out/quick/), holding the shared plotly.js and the gallery. */
  readonly figuresDir: string;
  readonly profile: Profile;
  /** The choice for this run's profile: `nb.byProfile({ quick: 2, full: 50 })`. */
  byProfile<T>(choices: Record<Profile, T>): T;
  /** dir/file, for other outputs a notebook keeps (weights, arrays). */
  path(file: string): string;
  /** Saves dir/<name>.{png,svg,html} and shows the figure in the notebook as one output. */
  figure(name: string, fig: Figure, opts?: NotebookFigureOptions): Promise<void>;
  /** Shows a figure without saving it: no files, no browser (the interactive chart only). */
  show(fig: Figure): void;
  /**
   * Merges `values` into dir/results.json (with the profile) and rewrites it: a notebook can report its
   * numbers section by section. Returns the file's path relative to the checkout.
   */
  results(values: Record<string, unknown>): string;
  /** Sets results.json's `headline`: the finding(s) the gallery leads this notebook with, beside the paper's. */
  headline(h: Headline | Headline[]): string;
  /** Writes dir/<name>.csv (integer columns stay integers) and shows the table (HTML and text). */
  table(name: string, rows: Record<string, unknown>[]): void;
  /** console.log with the notebook's elapsed time, for progress notes that read well in logs. */
  log(...args: unknown[]): void;
}

export interface NotebookContextOptions {
  /** Default: $LSO_FIGURES_DIR, else the profile's folder of the checkout (figures/ or out/quick/). */
  figuresDir?: string;
  profile?: Profile;
  /** Write into this folder (mirroring the figures root) instead; default $LSO_STAGE_DIR when figuresDir is not given. */
  stageDir?: string;
}

/** A live Jupyter session (not the headless runner): there a missing browser costs the PNG, not the cell. */
function liveSession(): boolean {
  return tslabDisplay() !== null && process.env[ENV_RUNNER] !== '1';
}

export function notebook(name: string, opts: NotebookContextOptions = {}): NotebookContext {
  checkPlainName(name, 'notebook name');
  const profile = opts.profile ?? currentProfile();
  const figuresDir = path.resolve(opts.figuresDir ?? outputRoot(profile));
  const stage = opts.stageDir ?? (opts.figuresDir === undefined ? process.env[ENV_STAGE_DIR] || undefined : undefined);
  const writeRoot = stage ? path.resolve(stage) : figuresDir;
  const dir = path.join(writeRoot, name);
  const finalDir = path.join(figuresDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const bundle = path.join(figuresDir, BUNDLE_NAME);
  const started = Date.now();
  let results: Record<string, unknown> = {};
  let warnedNoBrowser = false;

  /** Where a file written now ends up, as the user should see it. */
  const shown = (file: string) => checkoutPath(path.join(finalDir, path.relative(dir, file)));

  async function save(figName: string, fig: Figure, save: SaveFigureOptions): Promise<SavedFigure> {
    const common = { ...save, bundleUrl: relativeUrl(finalDir, ensurePlotlyBundle(bundle)) };
    try {
      return await saveFigure(fig, dir, figName, common);
    } catch (err) {
      if (!(err instanceof NoChromiumError) || !liveSession()) throw err;
      if (!warnedNoBrowser) console.log(`${name}: PNG/SVG not written (${err.message}); the charts and their HTML pages are.`);
      warnedNoBrowser = true;
      return saveFigure(fig, dir, figName, { ...common, formats: (save.formats ?? ['html']).filter((f) => f === 'html') });
    }
  }

  async function figure(figName: string, fig: Figure, fopts: NotebookFigureOptions = {}): Promise<void> {
    const { display = true, interactive = interactiveEnabled(), ...saveOpts } = fopts;
    const saved = await save(figName, fig, saveOpts);
    if (!display || !tslabDisplay()) return;
    // Front-ends draw a PNG at one CSS pixel per image pixel: the saved scale-2 PNG would show at twice
    // the figure's size, so the notebook gets its own scale-1 rendering (only when the browser is there anyway).
    const png = saved.png ? await renderFigure(fig, { format: 'png', width: saveOpts.width, height: saveOpts.height, scale: 1 }) : undefined;
    const cwd = process.cwd();
    displayFigure(fig, { png, interactive, bundleUrl: relativeUrl(cwd, bundle), htmlUrl: saved.html && relativeUrl(cwd, path.join(finalDir, path.basename(saved.html))) });
  }

  function show(fig: Figure): void {
    ensurePlotlyBundle(bundle);
    displayFigure(fig, { interactive: true, bundleUrl: relativeUrl(process.cwd(), bundle) });
  }

  function writeAll(): string {
    return shown(writeResults(dir, results, profile));
  }

  return {
    name,
    dir,
    figuresDir,
    profile,
    byProfile: (choices) => byProfile(choices, profile),
    path: (file) => path.join(dir, file),
    figure,
    show,
    results(values) {
      results = { ...results, ...values };
      return writeAll();
    },
    headline(h) {
      results = { ...results, headline: checkHeadlines(h) };
      return writeAll();
    },
    table(tableName, rows) {
      const df = writeTable(dir, tableName, rows);
      displayBundle(tableBundle(tableName, df));
    },
    log(...args) {
      console.log(`[${name} +${fmtSecs((Date.now() - started) / 1000)}]`, ...args);
    },
  };
}
