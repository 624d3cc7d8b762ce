/**
 * Notebook 04's check of the graph distances: geodesics started on a run's graph paths, solved, re-measured
 * finely, and the ratio graph / geodesic summarised within and across classes.
 */
import type { Metric } from '../geometry/metric';
import { curveLengths } from '../geometry/curves';
import { connectingGeodesics } from '../geometry/geodesics';
import { graphInitialCurves } from '../geometry/graph';
import { GraphDistanceOptions, graphDistanceMatrix } from '../geometry/graph-distances';
import { Rng } from '../util/rng';
import { pairEnds, ClusteringRun } from './geodesic-study';

export interface GraphDistanceCheck {
  pairs: number;
  /** Graph distance over the graph-initialised geodesic's length (re-measured finely), per pair. */
  ratio: Float64Array;
  /** 1 where the pair's codes have different labels. */
  across: Uint8Array;
  converged: number;
  seconds: number;
}

/**
 * How far the graph distances of a run are from geodesics: for `pairs` seeded pairs of its codes, the
 * geodesic started on the pair's shortest path in the run's graph, solved, and re-measured with every
 * segment cut into `quadrature` straight pieces; the ratio graph / geodesic is >= 1 up to the solver's
 * tolerance (the graph path is one curve between the two codes).
 */
export function checkGraphDistances(metric: Metric, run: ClusteringRun, opts: { pairs: number; seed: number; points?: number; maxIter?: number; quadrature?: number; graphDistance?: GraphDistanceOptions }): GraphDistanceCheck {
  if (!run.distances) throw new RangeError('checkGraphDistances: the run has no graph distances (method "graph")');
  const t0 = performance.now();
  const n = run.labels.length;
  const rng = new Rng(opts.seed);
  const i: number[] = [];
  const j: number[] = [];
  while (i.length < opts.pairs) {
    const a = rng.int(n);
    const b = rng.int(n);
    if (a !== b) {
      i.push(a);
      j.push(b);
    }
  }
  const { p0, p1 } = pairEnds(run.codes, 2, { i: Int32Array.from(i), j: Int32Array.from(j) });
  const points = opts.points ?? 16;
  const g = graphDistanceMatrix(metric, run.codes, { ...opts.graphDistance, neighbors: run.graphNeighbors }).graph;
  const res = connectingGeodesics(metric, p0, p1, { points, maxIter: opts.maxIter, init: graphInitialCurves(metric, g, p0, p1, points) });
  const lengths = curveLengths(metric, res.curves, { subdivisions: opts.quadrature ?? 16 });
  return {
    pairs: i.length,
    ratio: Float64Array.from(i, (a, q) => run.distances![a * n + j[q]] / lengths[q]),
    across: Uint8Array.from(i, (a, q) => (run.labels[a] !== run.labels[j[q]] ? 1 : 0)),
    converged: res.converged.filter(Boolean).length,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Median and 10% / 90% quantiles of the check's ratios, within and across classes. */
export function graphCheckSummary(c: GraphDistanceCheck): Record<string, unknown> {
  const q = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return { pairs: s.length, median: at(0.5), q10: at(0.1), q90: at(0.9) };
  };
  const all = Array.from(c.ratio);
  return {
    graph_over_geodesic: q(all),
    within_class: q(all.filter((_, k) => !c.across[k])),
    across_classes: q(all.filter((_, k) => c.across[k])),
    converged: c.converged,
    seconds: c.seconds,
  };
}
