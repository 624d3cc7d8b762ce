/**
 * `latent-geometry geodesics`: connecting geodesics of a decoder-json decoder's metric between pairs of
 * latent points, solved together in batches.
 */
import { defineCommand } from '../args';
import { FLOAT64_JSON_CHARS, checkJsonOutputSize, checkOutput, numberInOpenUnitInterval } from '../checks';
import { TANGENT_BYTES_MAX, jacobianBatchSize } from '../../lib/geometry/batch-budget';
import type { GaussianDecoder } from '../../lib/models/decoder';
import { DecoderMetric } from '../../lib/geometry/decoder-metric';
import { curvesToArrays } from '../../lib/geometry/curves';
import { DEFAULT_POINTS, GeodesicResult, connectingGeodesics } from '../../lib/geometry/geodesics';
import { graphInitialCurves, latentGraph } from '../../lib/geometry/graph';
import { kmeans } from '../../lib/stats/kmeans';
import { latentGrid } from '../../lib/geometry/fields';
import { Progress } from '../../lib/util/progress';
import { InputError } from '../../lib/util/errors';
import { announceBackend, buildDecoder, expectObject, pointRows, readJsonFile, startBackend, writeResult } from './common';

export interface GeodesicsOutput {
  /** [B][T][d]; every curve starts and ends exactly at its pair's points. */
  curves: number[][][];
  lengths: number[];
  converged: boolean[];
  /** [B]: null where the curve converged, else why not (a non-finite metric, stalled, the iteration limit). */
  failures: (string | null)[];
  /** Batched solver iterations. */
  iterations: number;
  /** Solve time only (no start-up, reading or parsing). */
  seconds: number;
}

/** Graph nodes for --init graph: k-means centres of the file's latent codes, else a 2-D grid. */
const GRAPH_NODES = 64;

/** The most points per curve --points accepts (the solver's systems grow linearly in it; 1000 is already very fine). */
export const MAX_CURVE_POINTS = 10000;

export const geodesicsCommand = defineCommand({
  name: 'geodesics',
  summary: 'connecting geodesics between pairs of latent points',
  description: [
    "Finds, for each pair (p0[i], p1[i]), the shortest curve under the decoder's metric: T points with fixed end",
    'points that minimise the discrete curve energy, by Levenberg-Marquardt with Gauss-Newton and Newton steps,',
    'all pairs at once. The pairs file holds {"p0": [[...], ...], "p1": [[...], ...]}. Writes {"curves": [B][T][d],',
    '"lengths": [B], "converged": [B], "failures": [B], "iterations": n, "seconds": s}; a curve that did not meet',
    'the tolerances is still the best one found, flagged converged: false with the reason in failures (null where',
    'it converged): a metric that is NaN or infinite along the curve, a stalled solve, or the iteration limit.',
    'seconds is the solve time alone.',
  ].join('\n'),
  options: {
    decoder: { kind: 'string', valueName: 'FILE', required: true, description: 'decoder-json/v1 file' },
    pairs: { kind: 'string', valueName: 'FILE', required: true, description: 'JSON file {"p0": [[...], ...], "p1": [[...], ...]}' },
    out: { kind: 'string', valueName: 'FILE', description: 'write the result here: atomically to a file (links followed, mode kept), through to a FIFO or a device; never over an input (default: stdout)' },
    points: { kind: 'int', default: DEFAULT_POINTS, min: 3, max: MAX_CURVE_POINTS, description: 'points per curve T, end points included' },
    'max-iter': { kind: 'int', default: 100, max: 100000, description: 'solver iterations' },
    tol: { kind: 'string', valueName: 'X', default: '1e-6', description: 'relative energy change and Gauss-Newton decrement at convergence' },
    kind: { kind: 'choice', choices: ['expected', 'mean'] as const, default: 'expected', description: 'which metric' },
    init: {
      kind: 'choice',
      choices: ['line', 'graph'] as const,
      default: 'line',
      description: `initial curves: straight lines, or shortest paths in a k-NN graph on ${GRAPH_NODES} k-means centres of latent_codes (else a 2-D grid)`,
    },
  },
  examples: [
    'latent-geometry geodesics --decoder decoder.json --pairs pairs.json --out geodesics.json',
    'latent-geometry geodesics --decoder decoder.json --pairs pairs.json --points 32 --init graph > geodesics.json',
  ],
  async run(opts) {
    const tol = numberInOpenUnitInterval(opts.tol, '--tol');
    checkOutput(opts.out, { '--decoder': opts.decoder, '--pairs': opts.pairs });
    const decoderJson = readJsonFile(opts.decoder);
    const pairsJson = readJsonFile(opts.pairs);
    const backend = await startBackend();
    const { decoder, latentCodes } = buildDecoder(decoderJson, opts.decoder);
    try {
      const d = decoder.latentDim;
      const { p0, p1 } = parsePairs(pairsJson, opts.pairs, d);
      const count = p0.length / d;
      const perPair = geodesicsJsonBytesPerPair(opts.points, d);
      checkJsonOutputSize(count * perPair + 64, '--pairs', { count, noun: `pairs of ${opts.points}-point curves`, bytesPerItem: perPair });
      const batchPoints = geodesicBatchPoints(decoder, opts.kind, opts.points);
      announceBackend(backend);
      const metric = new DecoderMetric(decoder, opts.kind);
      const bar = count * (opts.points - 2) > 4096 ? new Progress({ label: 'geodesics', total: count, unit: 'pair' }) : null;
      let reported = 0;
      const t0 = performance.now();
      const init = opts.init === 'graph' ? graphInit(metric, p0, p1, opts.points, latentCodes) : undefined;
      const res = connectingGeodesics(metric, p0, p1, {
        points: opts.points,
        maxIter: opts['max-iter'],
        tol,
        gradTol: tol,
        init,
        batchPoints,
        onProgress: (done) => {
          bar?.tick(done - reported);
          reported = done;
        },
      });
      const seconds = (performance.now() - t0) / 1000;
      bar?.finish();
      await writeResult(opts.out, toOutput(res, seconds));
    } finally {
      decoder.dispose();
    }
  },
});

/** An upper bound of the JSON bytes of one pair's result: T x d float64 numbers, length, flag and failure. */
export function geodesicsJsonBytesPerPair(points: number, d: number): number {
  return points * (d * FLOAT64_JSON_CHARS + 3) + FLOAT64_JSON_CHARS + 6 + 120;
}

/**
 * Interior points per solver evaluation (the solver's default 4096), lowered for a large decoder so that
 * the Jacobians of a Newton step (d + 1 shifted copies of each point) fit the wasm heap. A single curve
 * must fit: else --points is refused here rather than the heap running out mid-solve.
 */
export function geodesicBatchPoints(decoder: GaussianDecoder, kind: 'expected' | 'mean', points: number): number {
  const copies = decoder.latentDim + 1;
  const fits = jacobianBatchSize(decoder, kind, Infinity, copies, TANGENT_BYTES_MAX);
  if (points - 2 > fits) {
    throw new InputError('--points', `curves of ${points} points do not fit the wasm heap for this decoder (its widest layers); expected at most ${fits + 2}, got ${points}`);
  }
  // A chunk holds whole curves: one curve per evaluation when a curve is more than the budget.
  return jacobianBatchSize(decoder, kind, 4096, copies);
}

/**
 * `{"p0": [[...]], "p1": [[...]]}` as flat [B, d] float64 (the end points are copied to the output
 * bit-exactly). Errors name the file and the field.
 */
export function parsePairs(json: unknown, source: string, d: number): { p0: Float64Array; p1: Float64Array } {
  const obj = expectObject(json, source, '{"p0": [[...], ...], "p1": [[...], ...]}');
  const p0 = pointRows(obj, 'p0', source, d, { nonEmpty: true });
  const p1 = pointRows(obj, 'p1', source, d, { nonEmpty: true });
  if (p0.length !== p1.length) throw new InputError(`${source}: p1`, `has ${p1.length / d} points but p0 has ${p0.length / d}; they pair up by index`);
  return { p0, p1 };
}

function graphInit(metric: DecoderMetric, p0: Float64Array, p1: Float64Array, points: number, codes: Float32Array | undefined) {
  const d = metric.dim;
  let nodes: ArrayLike<number>;
  if (codes && codes.length / d >= GRAPH_NODES) {
    nodes = kmeans(codes, d, GRAPH_NODES, { seed: 0, restarts: 1 }).centers;
  } else if (d === 2) {
    const all = Float64Array.from([...p0, ...p1]);
    const [xs, ys] = [0, 1].map((j) => all.filter((_, i) => i % 2 === j));
    const pad = (lo: number, hi: number) => 0.1 * (hi - lo || 1);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    nodes = latentGrid({ xmin: x0 - pad(x0, x1), xmax: x1 + pad(x0, x1), ymin: y0 - pad(y0, y1), ymax: y1 + pad(y0, y1), n: 8 }).points;
  } else {
    throw new InputError('--init', `graph needs at least ${GRAPH_NODES} latent_codes in the decoder file when the latent dimension is ${d} (a grid is 2-D only)`);
  }
  return graphInitialCurves(metric, latentGraph(metric, nodes), p0, p1, points);
}

export function toOutput(res: GeodesicResult, seconds: number): GeodesicsOutput {
  return {
    curves: curvesToArrays(res.curves),
    lengths: Array.from(res.lengths),
    converged: res.converged,
    failures: res.failures,
    iterations: res.iterations,
    seconds,
  };
}
