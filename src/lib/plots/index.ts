/**
 * Figures as plain Plotly JSON built by pure functions from plain arrays, and their export to
 * PNG/SVG/HTML. No DOM and no tensors here: notebooks pass `.dataSync()` results.
 */
export type { Axis, ColorBar, Figure, Layout, Line, Marker, NumericArray, Title, Trace, ZGrid } from './types';
export {
  CLASS_SYMBOLS,
  CURVE_COLORS,
  DEFAULT_SIZE,
  FONT,
  GREYS,
  OKABE_ITO,
  axis,
  baseLayout,
  categoryColor,
  classMarker,
  colorBar,
  curveColor,
  type SequentialScale,
} from './style';
export { formatNumber, formatTick, logTicks, toGrid, type GridValues } from './arrays';
export {
  classPointTraces,
  contourOverlay,
  curveTraces,
  latentHeatmap,
  type ClassPoints,
  type ContourOptions,
  type Curve,
  type LatentHeatmapOptions,
} from './fields';
export { imageGrid, imageStrip, montage, type ImageBatch, type ImageGridOptions, type ImageStripOptions } from './images';
export {
  columnsOf,
  formatCell,
  lineChart,
  scatter,
  tableFigure,
  trainingCurves,
  type HistoryRow,
  type LineChartOptions,
  type ScatterOptions,
  type Series,
  type TableFigureOptions,
  type TrainingCurvesOptions,
} from './charts';
export { escapeHtml, figureHtml, figureJson, type BundleRef } from './html';
export {
  BUNDLE_NAME,
  CHROMIUM_ARGS,
  checkPlainName,
  closeExporter,
  ensurePlotlyBundle,
  findChromium,
  relativeUrl,
  renderFigure,
  saveFigure,
  type FigureFormat,
  type ImageFormat,
  type RenderOptions,
  type SaveFigureOptions,
  type SavedFigure,
} from './export';
