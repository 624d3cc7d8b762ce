/**
 * Connecting geodesics: discrete curves between fixed end points that minimise the curve energy, batched
 * over many pairs. The energy is a sum of squares (see curve-energy.ts), so Levenberg-Marquardt on the
 * block-tridiagonal Gauss-Newton system converges in a few to tens of iterations where first-order
 * methods (stochman's Adam) need thousands; curves on which Gauss-Newton converges slowly (strongly
 * bending embedded curves) switch to Newton steps. Each curve keeps its own damping and accepts a step
 * only if the true energy decreases; a curve that does not meet the tolerances is reported with
 * converged = false, never replaced by the straight line (which the authors' code returns on failure).
 */
import type { Metric } from './metric';
import { CurveBatch, arcLengthReparametrize, curveBatch, curveEnds, flattenPoints, resampleCurves, straightLines } from './curves';
import { CurveEnergyModel, GnSystem, curveEnergyModel } from './curve-energy';
import { BlockTridiagonal, BlockTridiagonalWorkspace, multiplyBlockTridiagonal, solveBlockTridiagonal } from './block-tridiagonal';

export interface BvpOptions {
  /** Levenberg-Marquardt iterations per curve (default 100). */
  maxIter?: number;
  /** Converged when an accepted step lowers the energy by at most this fraction (default 1e-6)... */
  tol?: number;
  /**
   * ...and the Gauss-Newton decrement g^T H^-1 g / S, the fraction of the energy a full step still
   * promises, is at most this (default 1e-6). It is the scale-free gradient norm.
   */
  gradTol?: number;
  /** Central-difference step for non-pull-back metrics (see curve-energy.ts). */
  fdStep?: number;
  /** Interior points per model evaluation (default 4096): pairs are solved in chunks of this size. */
  batchPoints?: number;
  /**
   * Newton steps, which add the second-order term Gauss-Newton drops (pull-back metrics only; each costs
   * d + 1 embedding evaluations instead of one): 'auto' (default) switches a curve to them once
   * Gauss-Newton converges slowly on it.
   */
  secondOrder?: 'auto' | 'always' | 'never';
  /** Called after every iteration with the current (accepted) energy of each curve of the chunk being solved. */
  onIteration?: (info: { iteration: number; energies: Float64Array; running: number }) => void;
}

export interface GeodesicResult {
  /** [B, T, d]; each curve starts and ends exactly at its pair's points. */
  curves: CurveBatch;
  /** Riemannian lengths of the discrete curves, sum_i |r_i| (sum |f(c_{i+1}) - f(c_i)| for pull-backs): [B]. */
  lengths: Float64Array;
  /** Discrete energies (T - 1) sum_i |r_i|^2 (>= length^2, equal at constant speed): [B]. */
  energies: Float64Array;
  /** Whether each curve met the tolerances: [B]. */
  converged: boolean[];
  /**
   * Why each curve did not converge, null where it did: [B]. A metric or energy that is NaN or infinite
   * along a curve is a failure (FAILURE_NON_FINITE...), never a converged straight line.
   */
  failures: (string | null)[];
  /** Batched iterations run (over all levels; the most any chunk needed). */
  iterations: number;
  /** Iterations each curve took (over all levels): [B]. */
  curveIterations: Int32Array;
  /** Relative energy change of each curve's last accepted step: [B]. */
  relChange: Float64Array;
  /** Gauss-Newton decrement g^T H^-1 g / S at each final curve: [B]. */
  decrement: Float64Array;
}

export interface GeodesicOptions extends BvpOptions {
  /** T: points per curve, end points included (default 16). */
  points?: number;
  /**
   * Initial curves (e.g. from graphInitialCurves), any number of points, their end points p0 and p1.
   * Default: straight lines. Either is first re-spaced to T points at equal Riemannian arc length.
   */
  init?: CurveBatch;
  /**
   * Coarse-to-fine: solve first with this many points, then resample the result to T and refine. Off by
   * default: Newton steps already converge in a few iterations, and a coarse curve can settle in a
   * different local minimum (it steps over thin high-metric regions that the fine curve must go around).
   */
  coarsePoints?: number;
  /** Called after each chunk of pairs with the number of pairs done. */
  onProgress?: (done: number, total: number) => void;
}

/** End points as rows [[x, y], ...] or flat [B, d]. */
export type PointsInput = ArrayLike<ArrayLike<number>> | Float64Array | Float32Array;

/** Points as flat [N, d] float64; `what` names them in errors (wrong length, non-finite values). */
export function toFlatPoints(p: PointsInput, dim: number, what: string): Float64Array {
  let flat: Float64Array;
  if (ArrayBuffer.isView(p)) {
    if (p.length % dim !== 0) throw new RangeError(`${what}: ${p.length} values is not a multiple of d = ${dim}`);
    flat = Float64Array.from(p as ArrayLike<number>);
  } else {
    flat = flattenPoints(p as ArrayLike<ArrayLike<number>>, dim, what);
  }
  const bad = flat.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new RangeError(`${what}[${Math.floor(bad / dim)}][${bad % dim}]: expected a finite number, got ${flat[bad]}`);
  return flat;
}

export const DEFAULT_POINTS = 16;

/** Geodesics between p0[b] and p1[b] for every b, batched. */
export function connectingGeodesics(metric: Metric, p0: PointsInput, p1: PointsInput, opts: GeodesicOptions = {}): GeodesicResult {
  const d = metric.dim;
  const a = toFlatPoints(p0, d, 'p0');
  const b = toFlatPoints(p1, d, 'p1');
  if (a.length !== b.length) throw new RangeError(`p0 has ${a.length / d} points but p1 has ${b.length / d}`);
  const t = opts.points ?? DEFAULT_POINTS;
  if (!(Number.isInteger(t) && t >= 3)) throw new RangeError(`points must be an integer >= 3, got ${t}`);
  const count = a.length / d;
  if (opts.init) checkInit(opts.init, a, b, d);
  const coarse = opts.coarsePoints;
  const levels = coarse !== undefined && coarse >= 3 && coarse < t ? [coarse, t] : [t];
  const perChunk = Math.max(1, Math.floor((opts.batchPoints ?? 4096) / (t - 2)));
  const parts: GeodesicResult[] = [];
  for (let c0 = 0; c0 < count; c0 += perChunk) {
    const c1 = Math.min(count, c0 + perChunk);
    const pa = a.subarray(c0 * d, c1 * d);
    const pb = b.subarray(c0 * d, c1 * d);
    let curves = constantSpeed(metric, opts.init ? sliceCurves(opts.init, c0, c1) : straightLines(pa, pb, d, 2), levels[0]);
    let res: GeodesicResult | null = null;
    for (const level of levels) {
      const start = withExactEnds(resampleCurves(curves, level), pa, pb);
      const next = refineGeodesics(metric, start, opts);
      res = res ? accumulate(res, next) : next;
      curves = next.curves;
    }
    parts.push(res!);
    opts.onProgress?.(c1, count);
  }
  return concatResults(parts, count, t, d);
}

/**
 * The curves re-spaced to T points at equal Riemannian arc length, measured over T - 1 or more straight
 * pieces. A constant-speed start has energy = length^2, and since length^2 <= energy for every curve, the
 * energy minimiser can then only end shorter than its start: a straight-line start through a region
 * where the metric jumps would otherwise put most of its energy in one segment, and the solve could end
 * longer than the straight line itself.
 */
function constantSpeed(metric: Metric, c: CurveBatch, points: number): CurveBatch {
  const subdivisions = Math.max(1, Math.ceil((points - 1) / (c.points - 1)));
  return arcLengthReparametrize(metric, c, points, { subdivisions }).curves;
}

/**
 * Geodesic interpolation: `frames` points along each connecting geodesic at equal Riemannian arc length
 * (decode them for an interpolation whose frames change at an even pace), end points exact.
 */
export function geodesicInterpolation(
  metric: Metric,
  p0: PointsInput,
  p1: PointsInput,
  frames: number,
  opts: GeodesicOptions = {},
): { frames: CurveBatch; geodesics: GeodesicResult } {
  const geodesics = connectingGeodesics(metric, p0, p1, opts);
  return { frames: arcLengthReparametrize(metric, geodesics.curves, frames).curves, geodesics };
}

/**
 * Levenberg-Marquardt on given curves (their first and last points are the fixed end points). The core
 * that connectingGeodesics runs at each level; useful alone to polish curves from elsewhere.
 */
export function refineGeodesics(metric: Metric, init: CurveBatch, opts: BvpOptions = {}): GeodesicResult {
  const ends = curveEnds(init);
  const model = curveEnergyModel(metric, ends.p0, ends.p1, init.points, { fdStep: opts.fdStep });
  try {
    return minimiseEnergy(model, init, opts);
  } finally {
    model.dispose();
  }
}

/** The failure of a curve along which the metric (its energy or Gauss-Newton system) is NaN or infinite. */
export const FAILURE_NON_FINITE = 'non-finite metric: the energy or its derivatives are NaN or infinite along the curve';
/** The failure of a curve on which no step lowers the energy any more, short of the tolerances. */
export const FAILURE_STALLED = 'stalled: no step lowers the energy (damping limit reached)';
/** The failure of a curve still improving when the iterations ran out. */
export const failureIterationLimit = (maxIter: number): string => `iteration limit (${maxIter}) reached before the tolerances were met`;

const LAMBDA0 = 1e-3;
/** Past this damping a step is ~1e-10 of the Gauss-Newton step: the curve is stuck. */
const LAMBDA_MAX = 1e10;
/**
 * In 'auto' mode a curve whose decrement shrank by less than this factor over an accepted step switches
 * to Newton steps: Gauss-Newton converges only linearly when the embedded curve bends strongly.
 */
const SLOW_RATE = 4;

/** Per-curve Levenberg-Marquardt state over a batch; the model is evaluated once per iteration. */
class LmBatch {
  readonly x: Float64Array; // interior points [B, n, d]
  readonly cur: GnSystem; // the system at x
  readonly curvature: Float64Array; // Newton terms at x [B, n, d, d], valid where hasCurvature
  readonly hasCurvature: Uint8Array;
  readonly energy: Float64Array;
  readonly lambda: Float64Array;
  readonly nu: Float64Array;
  readonly relChange: Float64Array;
  readonly decrement: Float64Array;
  readonly iters: Int32Array;
  readonly newton: Uint8Array;
  /** 0: running, 1: converged, 2: stalled (damping limit), 3: non-finite metric. */
  readonly status: Uint8Array;
  private readonly ws = new BlockTridiagonalWorkspace();
  private readonly scratch: Float64Array;
  private readonly hStep: Float64Array;
  private readonly diagWork: Float64Array;

  constructor(
    private readonly model: CurveEnergyModel,
    init: CurveBatch,
    private readonly opts: Required<Pick<BvpOptions, 'tol' | 'gradTol' | 'secondOrder'>>,
  ) {
    const { count, points: t, dim: d } = init;
    const n = t - 2;
    this.x = interiorOf(init);
    const all = Int32Array.from({ length: count }, (_, i) => i);
    const always = opts.secondOrder === 'always';
    this.cur = model.evaluate(all, this.x, always);
    this.curvature = this.cur.curvature ?? new Float64Array(count * n * d * d);
    this.hasCurvature = new Uint8Array(count).fill(always && this.cur.curvature ? 1 : 0);
    this.energy = Float64Array.from({ length: count }, (_, b) => curveSum(this.cur.sq, b, n + 1));
    this.lambda = new Float64Array(count).fill(LAMBDA0);
    this.nu = new Float64Array(count).fill(2);
    this.relChange = new Float64Array(count).fill(NaN);
    this.decrement = new Float64Array(count);
    this.iters = new Int32Array(count);
    this.newton = new Uint8Array(count).fill(always ? 1 : 0);
    this.status = new Uint8Array(count);
    this.scratch = new Float64Array(n * d);
    this.hStep = new Float64Array(n * d);
    this.diagWork = new Float64Array(n * d * d);
    for (let b = 0; b < count; b++) {
      this.decrement[b] = this.gnDecrement(b);
      if (!systemFinite(this.cur, b) || !Number.isFinite(this.decrement[b])) {
        // A NaN energy compares false with everything: left running, the curve would look converged.
        this.status[b] = 3;
      } else if (this.energy[b] === 0) {
        this.status[b] = 1; // coincident end points: the constant curve
        this.relChange[b] = 0;
      }
    }
  }

  get running(): number {
    return this.status.reduce((acc, s) => acc + (s === 0 ? 1 : 0), 0);
  }

  /** One damped step for every running curve, evaluated in (at most) two batched model calls. */
  iterate(): void {
    const nd = this.scratch.length;
    const active = Int32Array.from(this.status.keys()).filter((b) => this.status[b] === 0);
    for (const wantNewton of [0, 1]) {
      const group = active.filter((b) => this.newton[b] === wantNewton);
      if (group.length === 0) continue;
      const trial = new Float64Array(group.length * nd);
      const predicted = new Float64Array(group.length);
      group.forEach((b, i) => {
        const step = trial.subarray(i * nd, (i + 1) * nd);
        predicted[i] = this.dampedStep(b, step);
        for (let q = 0; q < nd; q++) step[q] += this.x[b * nd + q];
      });
      const next = this.model.evaluate(group, trial, wantNewton === 1);
      group.forEach((b, i) => this.judge(b, next, i, trial.subarray(i * nd, (i + 1) * nd), predicted[i]));
    }
  }

  /** Accepts or rejects curve b's trial (slot i of `next`), updating its damping and status. */
  private judge(b: number, next: GnSystem, i: number, trial: Float64Array, predicted: number): void {
    const { tol, gradTol, secondOrder } = this.opts;
    this.iters[b]++;
    const e = curveSum(next.sq, i, next.n + 1);
    // A trial where the metric is not finite is rejected like one that raises the energy.
    if (e < this.energy[b] && systemFinite(next, i)) {
      const rho = predicted > 0 ? (this.energy[b] - e) / predicted : 0;
      this.lambda[b] = Math.max(1e-12, this.lambda[b] * Math.max(1 / 3, 1 - (2 * rho - 1) ** 3));
      this.nu[b] = 2;
      this.relChange[b] = (this.energy[b] - e) / this.energy[b];
      this.energy[b] = e;
      this.x.set(trial, b * trial.length);
      copyCurveSystem(next, i, this.cur, b);
      this.hasCurvature[b] = next.curvature ? 1 : 0;
      if (next.curvature) this.curvature.set(next.curvature.subarray(i * this.diagWork.length, (i + 1) * this.diagWork.length), b * this.diagWork.length);
      const before = this.decrement[b];
      this.decrement[b] = this.gnDecrement(b);
      if (this.relChange[b] <= tol && this.decrement[b] <= gradTol) this.status[b] = 1;
      else if (secondOrder === 'auto' && this.decrement[b] * SLOW_RATE > before) this.newton[b] = 1;
    } else if (this.decrement[b] <= gradTol) {
      // The model promises too little to measure and the energy will not go lower: the float32 floor.
      this.status[b] = 1;
    } else {
      this.lambda[b] *= this.nu[b];
      this.nu[b] *= 2;
      if (this.lambda[b] > LAMBDA_MAX) this.status[b] = 2;
    }
  }

  /** Curve b's blocks, with the Newton term added to the diagonal when it has one. */
  private system(b: number): BlockTridiagonal {
    const { n, d } = this.cur;
    const size = this.diagWork.length;
    const view = blocksOf(this.cur, b);
    if (!this.hasCurvature[b]) return view;
    for (let q = 0; q < size; q++) this.diagWork[q] = this.cur.diag[b * size + q] + this.curvature[b * size + q];
    return { ...view, diag: this.diagWork, diagOffset: 0, n, d };
  }

  /**
   * The damped step (H + lambda D) delta = -g for curve b into `step`, raising lambda while a pivot fails
   * (the Newton matrix may be indefinite far from the optimum). Returns the decrease of S the quadratic
   * model predicts, -2 g.delta - delta.H delta.
   */
  private dampedStep(b: number, step: Float64Array): number {
    const h = this.system(b);
    const nd = step.length;
    const g = this.cur.grad.subarray(b * nd, (b + 1) * nd);
    const rhs = g.map((v) => -v);
    while (!solveBlockTridiagonal(h, dampingShift(this.cur, b, this.lambda[b]), rhs, step, this.ws)) {
      this.lambda[b] = Math.max(this.lambda[b], 1e-12) * this.nu[b];
      this.nu[b] *= 2;
      if (this.lambda[b] > LAMBDA_MAX) {
        step.fill(0);
        return 0;
      }
    }
    multiplyBlockTridiagonal(h, step, this.hStep);
    let gs = 0;
    let shs = 0;
    for (let q = 0; q < nd; q++) {
      gs += g[q] * step[q];
      shs += step[q] * this.hStep[q];
    }
    return -2 * gs - shs;
  }

  /** g^T H^-1 g / S with the Gauss-Newton H (positive semi-definite): the scale-free gradient norm. */
  private gnDecrement(b: number): number {
    if (!(this.energy[b] > 0)) return 0;
    const nd = this.scratch.length;
    const g = this.cur.grad.subarray(b * nd, (b + 1) * nd);
    // A whisper of damping keeps a singular H (a flat direction) solvable without changing the answer.
    if (!solveBlockTridiagonal(blocksOf(this.cur, b), dampingShift(this.cur, b, 1e-10), g, this.scratch, this.ws)) return Infinity;
    let s = 0;
    for (let q = 0; q < nd; q++) s += g[q] * this.scratch[q];
    return s / this.energy[b];
  }
}

/** Runs the Levenberg-Marquardt loop to convergence or maxIter. */
function minimiseEnergy(model: CurveEnergyModel, init: CurveBatch, opts: BvpOptions): GeodesicResult {
  const { count, points: t, dim: d } = init;
  const n = t - 2;
  const lm = new LmBatch(model, init, { tol: opts.tol ?? 1e-6, gradTol: opts.gradTol ?? 1e-6, secondOrder: opts.secondOrder ?? 'auto' });
  const maxIter = opts.maxIter ?? 100;
  let rounds = 0;
  for (; rounds < maxIter && lm.running > 0; rounds++) {
    lm.iterate();
    opts.onIteration?.({ iteration: rounds + 1, energies: Float64Array.from(lm.energy, (e) => (t - 1) * e), running: lm.running });
  }
  const curves = curveBatch(count, t, d, Float64Array.from(init.data));
  for (let b = 0; b < count; b++) curves.data.set(lm.x.subarray(b * n * d, (b + 1) * n * d), (b * t + 1) * d);
  const lengths = Float64Array.from({ length: count }, (_, b) => curveSum(lm.cur.sq, b, n + 1, Math.sqrt));
  const failures = Array.from(lm.status, (s, b): string | null => {
    if (s === 3 || !Number.isFinite(lengths[b])) return FAILURE_NON_FINITE;
    if (s === 2) return FAILURE_STALLED;
    return s === 1 ? null : failureIterationLimit(maxIter);
  });
  return {
    curves,
    lengths,
    energies: lm.energy.map((e) => (t - 1) * e),
    converged: failures.map((f) => f === null),
    failures,
    iterations: rounds,
    curveIterations: lm.iters,
    relChange: lm.relChange,
    decrement: lm.decrement,
  };
}

/** Whether curve b's energy terms, blocks and gradient in `sys` are all finite. */
function systemFinite(sys: GnSystem, b: number): boolean {
  const { n, d } = sys;
  const dd = d * d;
  const finite = (a: Float64Array, from: number, to: number) => {
    for (let q = from; q < to; q++) if (!Number.isFinite(a[q])) return false;
    return true;
  };
  return (
    finite(sys.sq, b * (n + 1), (b + 1) * (n + 1)) &&
    finite(sys.diag, b * n * dd, (b + 1) * n * dd) &&
    finite(sys.upper, b * (n - 1) * dd, (b + 1) * (n - 1) * dd) &&
    finite(sys.grad, b * n * d, (b + 1) * n * d)
  );
}

function blocksOf(sys: GnSystem, b: number): BlockTridiagonal {
  const { n, d } = sys;
  return { n, d, diag: sys.diag, diagOffset: b * n * d * d, upper: sys.upper, upperOffset: b * Math.max(0, n - 1) * d * d };
}

/**
 * Marquardt scaling: lambda times the diagonal of the Gauss-Newton H (positive even where the Newton
 * matrix is not), floored so that a flat direction is still damped.
 */
function dampingShift(sys: GnSystem, b: number, lambda: number): Float64Array {
  const { n, d } = sys;
  const nd = n * d;
  const diagAt = (k: number) => sys.diag[b * nd * d + Math.floor(k / d) * d * d + (k % d) * (d + 1)];
  let mean = 0;
  for (let k = 0; k < nd; k++) mean += diagAt(k);
  const floor = (1e-6 * mean) / nd || 1e-300;
  return Float64Array.from({ length: nd }, (_, k) => lambda * Math.max(diagAt(k), floor));
}

function curveSum(sq: Float64Array, b: number, segs: number, f: (v: number) => number = (v) => v): number {
  let s = 0;
  for (let i = 0; i < segs; i++) s += f(sq[b * segs + i]);
  return s;
}

/** Copies curve i of `src` into slot b of `dst`. */
function copyCurveSystem(src: GnSystem, i: number, dst: GnSystem, b: number): void {
  const { n, d } = src;
  const dd = d * d;
  const segs = n + 1;
  dst.sq.set(src.sq.subarray(i * segs, (i + 1) * segs), b * segs);
  dst.diag.set(src.diag.subarray(i * n * dd, (i + 1) * n * dd), b * n * dd);
  dst.upper.set(src.upper.subarray(i * (n - 1) * dd, (i + 1) * (n - 1) * dd), b * (n - 1) * dd);
  dst.grad.set(src.grad.subarray(i * n * d, (i + 1) * n * d), b * n * d);
}

function interiorOf(c: CurveBatch): Float64Array {
  const { count, points: t, dim: d, data } = c;
  const n = t - 2;
  const x = new Float64Array(count * n * d);
  for (let b = 0; b < count; b++) x.set(data.subarray((b * t + 1) * d, (b * t + t - 1) * d), b * n * d);
  return x;
}

/** The curves with their end points overwritten by p0, p1 (bit-exact, whatever resampling did). */
function withExactEnds(c: CurveBatch, p0: Float64Array, p1: Float64Array): CurveBatch {
  const { count, points: t, dim: d } = c;
  const data = Float64Array.from(c.data);
  for (let b = 0; b < count; b++) {
    data.set(p0.subarray(b * d, (b + 1) * d), b * t * d);
    data.set(p1.subarray(b * d, (b + 1) * d), (b * t + t - 1) * d);
  }
  return curveBatch(count, t, d, data);
}

function sliceCurves(c: CurveBatch, b0: number, b1: number): CurveBatch {
  const per = c.points * c.dim;
  return curveBatch(b1 - b0, c.points, c.dim, c.data.slice(b0 * per, b1 * per));
}

function checkInit(init: CurveBatch, p0: Float64Array, p1: Float64Array, d: number): void {
  const count = p0.length / d;
  if (init.count !== count || init.dim !== d) {
    throw new RangeError(`init: expected ${count} curves in R^${d}, got ${init.count} in R^${init.dim}`);
  }
  const ends = curveEnds(init);
  for (let i = 0; i < p0.length; i++) {
    if (Math.abs(ends.p0[i] - p0[i]) > 1e-6 * (1 + Math.abs(p0[i])) || Math.abs(ends.p1[i] - p1[i]) > 1e-6 * (1 + Math.abs(p1[i]))) {
      throw new RangeError(`init: curve ${Math.floor(i / d)} does not run from its p0 to its p1`);
    }
  }
}

/** A later level's result, with the iteration counts of the earlier levels added. */
function accumulate(prev: GeodesicResult, next: GeodesicResult): GeodesicResult {
  return {
    ...next,
    iterations: prev.iterations + next.iterations,
    curveIterations: next.curveIterations.map((v, i) => v + prev.curveIterations[i]),
  };
}

function concatResults(parts: GeodesicResult[], count: number, t: number, d: number): GeodesicResult {
  const curves = curveBatch(count, t, d);
  const out: GeodesicResult = {
    curves,
    lengths: new Float64Array(count),
    energies: new Float64Array(count),
    converged: [],
    failures: [],
    iterations: 0,
    curveIterations: new Int32Array(count),
    relChange: new Float64Array(count),
    decrement: new Float64Array(count),
  };
  let at = 0;
  for (const p of parts) {
    curves.data.set(p.curves.data, at * t * d);
    out.lengths.set(p.lengths, at);
    out.energies.set(p.energies, at);
    out.converged.push(...p.converged);
    out.failures.push(...p.failures);
    out.curveIterations.set(p.curveIterations, at);
    out.relChange.set(p.relChange, at);
    out.decrement.set(p.decrement, at);
    out.iterations = Math.max(out.iterations, p.iterations);
    at += p.curves.count;
  }
  return out;
}
