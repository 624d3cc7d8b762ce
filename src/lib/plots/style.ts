/**
 * The one visual style of the workbook. Every builder goes through `baseLayout` / `axis` / `colorBar`, so
 * a change here restyles every figure, and papers' figures stay comparable across notebooks.
 *
 * Colours are colour-blind safe: Okabe-Ito for categories, viridis/cividis (perceptually uniform) for
 * fields. Fonts name Arial first and its metric-compatible Liberation Sans next, which Debian's headless
 * Chromium has, so PNG/SVG exports look like the interactive view.
 */
import type { Axis, ColorBar, Layout, Marker } from './types';

export const FONT = { family: 'Arial, "Liberation Sans", "DejaVu Sans", sans-serif', size: 14, color: '#222222' } as const;

/** Okabe & Ito (2008) without black, which is kept for curves drawn over fields. */
export const OKABE_ITO = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#000000'] as const;

/**
 * Marker symbols used once the eight colours run out, so ten classes (MNIST) remain distinguishable
 * without inventing a colour outside the safe palette.
 */
export const CLASS_SYMBOLS = ['circle', 'diamond', 'square', 'triangle-up', 'x'] as const;

/** Curves over a viridis field: black and white read on both ends of the scale, the rest on the middle. */
export const CURVE_COLORS = ['#000000', '#FFFFFF', '#D55E00', '#CC79A7', '#56B4E9'] as const;

export type SequentialScale = 'Viridis' | 'Cividis';
export const DEFAULT_SEQUENTIAL: SequentialScale = 'Viridis';

/** Black at the low end of `pixelRange`, white at the high end: how MNIST-like images are drawn. */
export const GREYS: [number, string][] = [
  [0, '#000000'],
  [1, '#FFFFFF'],
];

export const DEFAULT_SIZE = { width: 800, height: 600 } as const;

export function categoryColor(i: number): string {
  return OKABE_ITO[i % OKABE_ITO.length];
}

export function classMarker(i: number, size = 6): Marker {
  return {
    color: categoryColor(i),
    symbol: CLASS_SYMBOLS[Math.floor(i / OKABE_ITO.length) % CLASS_SYMBOLS.length],
    size,
    line: { color: '#FFFFFF', width: 0.5 },
  };
}

export function curveColor(i: number): string {
  return CURVE_COLORS[i % CURVE_COLORS.length];
}

export function axis(title: string, extra: Partial<Axis> = {}): Axis {
  return {
    title: { text: title },
    showline: true,
    linecolor: '#444444',
    ticks: 'outside',
    gridcolor: '#E5E5E5',
    zeroline: false,
    automargin: true,
    ...extra,
  };
}

export function colorBar(title: string, extra: Partial<ColorBar> = {}): ColorBar {
  return { title: { text: title, side: 'right' }, thickness: 16, outlinewidth: 0, ...extra };
}

/** The white template: plotly.js has no named templates (those live in plotly.py), so it is spelled out. */
export function baseLayout(title: string, extra: Partial<Layout> = {}): Layout {
  return {
    title: { text: title, x: 0.5, xanchor: 'center' },
    font: { ...FONT },
    paper_bgcolor: '#FFFFFF',
    plot_bgcolor: '#FFFFFF',
    margin: { l: 70, r: 30, t: 60, b: 60 },
    legend: { bgcolor: 'rgba(255,255,255,0.8)' },
    ...extra,
  };
}

/** A legend under the plot: fields carry a colour bar on the right, so the legend must not sit there too. */
export const LEGEND_BELOW = { orientation: 'h', x: 0, y: -0.15, xanchor: 'left', yanchor: 'top' } as const;
