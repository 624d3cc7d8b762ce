/**
 * `const nb = notebook('01-variance-networks')`: everything a notebook writes goes through this object,
 * so every notebook lays out figures/<name>/ the same way and the gallery can read them all.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DataFrame } from 'nodejs-polars';
import { fmtSecs } from '../util/progress';
import { BUNDLE_NAME, checkPlainName, ensurePlotlyBundle, relativeUrl, renderFigure, saveFigure, type SaveFigureOptions } from '../plots/export';
import type { Figure } from '../plots/types';
import { displayHtml, displayPng, interactiveEnabled, interactiveHtml, tslabDisplay } from './display';
import { byProfile, currentProfile, figuresRoot, type Profile } from './env';
import { writeResults, writeTable } from './results';

export interface NotebookFigureOptions extends SaveFigureOptions {
  /** Show the figure in the notebook (default true; a no-op outside a kernel). */
  display?: boolean;
  /** Also show the interactive chart (default: on, unless LSO_INTERACTIVE=0). */
  interactive?: boolean;
}

export interface NotebookContext {
  /** The notebook's name, also its folder under figures/. */
  readonly name: string;
  /** figures/<name>, created. */
  readonly dir: string;
  /** figures/, holding the shared plotly.js and the gallery. */
  readonly figuresDir: string;
  readonly profile: Profile;
  /** The choice for this run's profile: `nb.byProfile({ quick: 2, full: 50 })`. */
  byProfile<T>(choices: Record<Profile, T>): T;
  /** dir/file, for other outputs a notebook keeps (weights, arrays). */
  path(file: string): string;
  /** Saves dir/<name>.{png,svg,html} and shows the figure in the notebook. */
  figure(name: string, fig: Figure, opts?: NotebookFigureOptions): Promise<void>;
  /**
   * Merges `values` into dir/results.json (with the profile) and rewrites it: a notebook can report its
   * numbers section by section. Returns the file's path.
   */
  results(values: Record<string, unknown>): string;
  /** Writes dir/<name>.csv and returns the DataFrame (the last expression of a cell prints it). */
  table(name: string, rows: Record<string, unknown>[]): DataFrame;
  /** console.log with the notebook's elapsed time, for progress notes that read well in logs. */
  log(...args: unknown[]): void;
}

export interface NotebookContextOptions {
  /** Default: $LSO_FIGURES_DIR, else figures/ of the checkout. */
  figuresDir?: string;
  profile?: Profile;
}

export function notebook(name: string, opts: NotebookContextOptions = {}): NotebookContext {
  checkPlainName(name, 'notebook name');
  const profile = opts.profile ?? currentProfile();
  const figuresDir = path.resolve(opts.figuresDir ?? figuresRoot());
  const dir = path.join(figuresDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const bundle = path.join(figuresDir, BUNDLE_NAME);
  const started = Date.now();
  let results: Record<string, unknown> = {};

  async function figure(figName: string, fig: Figure, fopts: NotebookFigureOptions = {}): Promise<void> {
    const { display = true, interactive = interactiveEnabled(), ...save } = fopts;
    const saved = await saveFigure(fig, dir, figName, { bundlePath: bundle, ...save });
    if (!display || !tslabDisplay()) return;
    // Front-ends draw a PNG at one CSS pixel per image pixel: the saved scale-2 PNG would show at twice
    // the figure's size, so the notebook gets its own scale-1 rendering.
    displayPng(await renderFigure(fig, { format: 'png', width: save.width, height: save.height, scale: 1 }));
    if (interactive) {
      ensurePlotlyBundle(bundle);
      const cwd = process.cwd();
      displayHtml(interactiveHtml(fig, relativeUrl(cwd, bundle), saved.html && path.relative(cwd, saved.html)));
    }
  }

  return {
    name,
    dir,
    figuresDir,
    profile,
    byProfile: (choices) => byProfile(choices, profile),
    path: (file) => path.join(dir, file),
    figure,
    results(values) {
      results = { ...results, ...values };
      return writeResults(dir, results, profile);
    },
    table: (tableName, rows) => writeTable(dir, tableName, rows),
    log(...args) {
      console.log(`[${name} +${fmtSecs((Date.now() - started) / 1000)}]`, ...args);
    },
  };
}
