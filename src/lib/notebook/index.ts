/**
 * The workbook side: the `notebook(name)` helper notebooks write through, the results/tables files, the
 * figures gallery, and the headless runner behind `npm run reproduce`.
 */
export {
  PACKAGE_NAME,
  PROFILES,
  byProfile,
  currentProfile,
  figuresRoot,
  findRepoRoot,
  repoRoot,
  type Profile,
} from './env';
export { RESULTS_FILE, withProfile, writeResults, writeTable } from './results';
export { displayHtml, displayPng, interactiveEnabled, interactiveHtml, tslabDisplay, type Display } from './display';
export { notebook, type NotebookContext, type NotebookContextOptions, type NotebookFigureOptions } from './context';
export { GALLERY_FILE, buildGallery, flattenResults, scanNotebookDir, type NotebookOutputs } from './gallery';
export {
  cellSource,
  coalesceStreams,
  collapseCarriageReturns,
  readNotebook,
  serializeNotebook,
  writeNotebook,
  type Cell,
  type NotebookJson,
  type Output,
} from './ipynb';
export { NotebookError, errorText, runNotebook, type NotebookRun, type RunNotebookOptions } from './runner';
export { buildState, ensureBuilt, type BuildState, type EnsureBuiltResult } from './build';
