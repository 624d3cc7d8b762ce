/**
 * The probability mass of a 2-D density over a latent box by an adaptive midpoint rule: a check that a
 * normaliser is right (the mass is 1 when the box holds the support). A fixed grid cannot: a LAND's
 * Lebesgue density is its Riemannian density times sqrt(det M), which peaks in narrow bands (the walls of
 * the metric) that a coarse grid straddles. Cells start as the cells of a LatentGrid (centred on its
 * nodes, so values already computed on the grid are reused); every level splits into four each cell that
 * may hold more than `cellTolerance` of the current mass (its area times the largest density at its own
 * and its touching cells' midpoints) and evaluates the density at the new midpoints in one batch (the
 * evaluations, e.g. LAND log maps, dominate the cost).
 */
import type { LatentGrid } from '../geometry/fields';

export interface AdaptiveMassOptions {
  /** Split cells that may hold more than this fraction of the current total mass (default 1e-3; see envelopeMass). */
  cellTolerance?: number;
  /** Levels of refinement at most (default 4). */
  maxLevels?: number;
  /** Density evaluations at most over all levels (default 4000); the heaviest cells are split first. */
  maxEvaluations?: number;
}

export interface AdaptiveMassResult {
  /** Sum over the final cells of p(midpoint) x area. */
  mass: number;
  /** The mass after each level (the first: the starting grid). */
  history: number[];
  /** |mass change| of the last level: the size of the last correction, an error indicator. */
  lastChange: number;
  evaluations: number;
  cells: number;
  /** The box the cells cover. */
  box: { xmin: number; xmax: number; ymin: number; ymax: number };
}

/**
 * Mass of exp(logDensity) over the cells of `grid` (each centred on a node), refined adaptively.
 * `logDensity(points [N, 2]) -> [N]`; `initial` optionally holds its values at grid.points already.
 */
export function adaptiveMass(logDensity: (points: Float64Array) => ArrayLike<number>, grid: LatentGrid, initial?: ArrayLike<number>, opts: AdaptiveMassOptions = {}): AdaptiveMassResult {
  const nx = grid.xs.length;
  const ny = grid.ys.length;
  if (nx < 2 || ny < 2) throw new RangeError(`adaptiveMass: the grid needs at least 2 x 2 nodes, got ${nx} x ${ny}`);
  const dx = (grid.xs[nx - 1] - grid.xs[0]) / (nx - 1);
  const dy = (grid.ys[ny - 1] - grid.ys[0]) / (ny - 1);
  // Cells as parallel arrays: centre (cx, cy), half-widths (hx, hy), log density at the centre.
  let cx: number[] = [];
  let cy: number[] = [];
  let hx: number[] = [];
  let hy: number[] = [];
  let lv: number[] = [];
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      cx.push(grid.xs[ix]);
      cy.push(grid.ys[iy]);
      hx.push(dx / 2);
      hy.push(dy / 2);
    }
  }
  let evaluations = 0;
  if (initial) {
    if (initial.length !== nx * ny) throw new RangeError(`adaptiveMass: ${initial.length} initial values for ${nx * ny} grid nodes`);
    lv = Array.from(initial);
  } else {
    lv = Array.from(logDensity(Float64Array.from(grid.points)));
    evaluations += nx * ny;
  }
  const cellMass = (i: number) => (Number.isFinite(lv[i]) ? Math.exp(lv[i]) * 4 * hx[i] * hy[i] : 0);
  // The largest density at the cell's and its touching cells' midpoints, times its area: a midpoint can
  // miss a peak inside its cell, but not the neighbours' side of it as well.
  const envelopeMass = (): Float64Array => {
    const out = new Float64Array(lv.length);
    for (let i = 0; i < lv.length; i++) {
      let top = Number.isFinite(lv[i]) ? lv[i] : -Infinity;
      for (let j = 0; j < lv.length; j++) {
        if (Math.abs(cx[j] - cx[i]) <= 1.001 * (hx[i] + hx[j]) && Math.abs(cy[j] - cy[i]) <= 1.001 * (hy[i] + hy[j]) && lv[j] > top) top = lv[j];
      }
      out[i] = Number.isFinite(top) ? Math.exp(top) * 4 * hx[i] * hy[i] : 0;
    }
    return out;
  };
  const total = () => lv.reduce((acc, _, i) => acc + cellMass(i), 0);
  const history = [total()];
  let lastChange = 0;
  const budget = opts.maxEvaluations ?? 4000;
  for (let level = 0; level < (opts.maxLevels ?? 4); level++) {
    const mass = history[history.length - 1];
    const limit = (opts.cellTolerance ?? 1e-3) * mass;
    const env = envelopeMass();
    let split = lv.map((_, i) => i).filter((i) => env[i] > limit);
    split.sort((a, b) => env[b] - env[a]);
    split = split.slice(0, Math.floor((budget - evaluations) / 4));
    if (split.length === 0) break;
    const chosen = new Uint8Array(lv.length);
    split.forEach((i) => (chosen[i] = 1));
    const pts = new Float64Array(split.length * 8);
    split.forEach((i, q) => {
      for (let c = 0; c < 4; c++) {
        pts[q * 8 + 2 * c] = cx[i] + (c & 1 ? 0.5 : -0.5) * hx[i];
        pts[q * 8 + 2 * c + 1] = cy[i] + (c & 2 ? 0.5 : -0.5) * hy[i];
      }
    });
    const vals = logDensity(pts);
    evaluations += split.length * 4;
    const next = { cx: [] as number[], cy: [] as number[], hx: [] as number[], hy: [] as number[], lv: [] as number[] };
    lv.forEach((v, i) => {
      if (chosen[i]) return;
      next.cx.push(cx[i]);
      next.cy.push(cy[i]);
      next.hx.push(hx[i]);
      next.hy.push(hy[i]);
      next.lv.push(v);
    });
    split.forEach((i, q) => {
      for (let c = 0; c < 4; c++) {
        next.cx.push(pts[q * 8 + 2 * c]);
        next.cy.push(pts[q * 8 + 2 * c + 1]);
        next.hx.push(hx[i] / 2);
        next.hy.push(hy[i] / 2);
        next.lv.push(vals[q * 4 + c]);
      }
    });
    ({ cx, cy, hx, hy, lv } = next);
    history.push(total());
    lastChange = Math.abs(history[history.length - 1] - history[history.length - 2]);
  }
  return {
    mass: history[history.length - 1],
    history,
    lastChange,
    evaluations,
    cells: lv.length,
    box: { xmin: grid.xs[0] - dx / 2, xmax: grid.xs[nx - 1] + dx / 2, ymin: grid.ys[0] - dy / 2, ymax: grid.ys[ny - 1] + dy / 2 },
  };
}
