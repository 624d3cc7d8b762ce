/**
 * Minimal typings of the Plotly JSON we produce. Figures are plain data (no DOM, no plotly.js import) so
 * that builders stay pure and testable in Node, and the same object can be rendered to PNG/SVG in a
 * headless browser, embedded in an HTML page or shown in a notebook.
 *
 * Only the fields the builders use are named; the index signatures keep every other Plotly attribute
 * expressible without a cast.
 */

/** `{ text }` titles: plotly.js >= 2 dropped the plain-string `titlefont` forms. */
export interface Title {
  text: string;
  [key: string]: unknown;
}

export interface ColorBar {
  title?: Title;
  tickvals?: number[];
  ticktext?: string[];
  [key: string]: unknown;
}

export interface Marker {
  color?: string | number[] | string[];
  size?: number;
  symbol?: string;
  line?: { color?: string; width?: number };
  [key: string]: unknown;
}

export interface Line {
  color?: string;
  width?: number;
  dash?: string;
  [key: string]: unknown;
}

/** A 2-D field on a grid: `z[iy][ix]`, `null` for a missing value. */
export type ZGrid = (number | null)[][];

export interface Trace {
  type: 'heatmap' | 'scatter' | 'contour' | 'table' | 'image';
  name?: string;
  x?: number[];
  y?: number[];
  z?: ZGrid;
  mode?: string;
  marker?: Marker;
  line?: Line;
  colorscale?: string | [number, string][];
  colorbar?: ColorBar;
  showscale?: boolean;
  showlegend?: boolean;
  zmin?: number;
  zmax?: number;
  hovertemplate?: string;
  [key: string]: unknown;
}

export interface Axis {
  title?: Title;
  type?: 'linear' | 'log' | 'category';
  [key: string]: unknown;
}

export interface Layout {
  title?: Title;
  xaxis?: Axis;
  yaxis?: Axis;
  width?: number;
  height?: number;
  [key: string]: unknown;
}

export interface Figure {
  data: Trace[];
  layout: Layout;
}

/** Arrays the builders accept: plain or typed, never tensors (call `.dataSync()` / `.arraySync()` first). */
export type NumericArray = ArrayLike<number>;
