/**
 * The workbook side: the `notebook(name)` helper notebooks write through, the results/tables files, the
 * figures gallery, and the headless runner behind `npm run reproduce`.
 */
export {
  ENV_STAGE_DIR,
  PACKAGE_NAME,
  PROFILES,
  PROFILE_FILE,
  QUICK_OUTPUT_DIR,
  byProfile,
  currentProfile,
  figuresRoot,
  findRepoRoot,
  isCommittedFigures,
  outputRoot,
  repoRoot,
  type Profile,
} from './env';
export {
  RESULTS_FILE,
  checkHeadlines,
  integerColumns,
  tableBundle,
  typedFrame,
  withProfile,
  writeResults,
  writeTable,
  type Headline,
} from './results';
export {
  PLOTLY_MIME,
  displayBundle,
  displayFigure,
  displayHtml,
  displayPng,
  figureBundle,
  figureText,
  interactiveEnabled,
  interactiveHtml,
  tslabDisplay,
  type Display,
  type FigureBundleOptions,
} from './display';
export { notebook, type NotebookContext, type NotebookContextOptions, type NotebookFigureOptions } from './context';
export { GALLERY_FILE, buildGallery, flattenResults, readHeadlines, scanNotebookDir, type NotebookOutputs } from './gallery';
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
export { NotebookError, errorText, rewriteOutputs, runNotebook, type NotebookRun, type RunNotebookOptions } from './runner';
export { buildState, ensureBuilt, type BuildState, type EnsureBuiltResult } from './build';
export {
  STAGING_PREFIX,
  failureSummary,
  notebookTargets,
  publishStaged,
  reproduceNotebook,
  type NotebookTargets,
  type ReproduceOptions,
  type ReproduceResult,
} from './workbook-run';
export { RunProgress, readTimings, recordTiming, type Timings } from './run-progress';
