/**
 * Summary statistics over plain arrays in float64: moments, quantiles, log-sum-exp. The studies and the
 * density models all summarise with these, so that a mean or a quantile is computed one way everywhere.
 */

/** log sum_i exp(x_i), stable; -Infinity for an empty or all -Infinity input. */
export function logSumExp(x: ArrayLike<number>, off = 0, len = x.length - off): number {
  let m = -Infinity;
  for (let i = 0; i < len; i++) m = Math.max(m, x[off + i]);
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < len; i++) s += Math.exp(x[off + i] - m);
  return m + Math.log(s);
}

/**
 * Weighted mean [d] and second moment about `center` (default: the weighted mean) [d, d] of rows [N, d];
 * weights default to 1. The ML covariance when centred at the mean (divides by the total weight).
 */
export function weightedMoments(points: ArrayLike<number>, d: number, weights?: ArrayLike<number>, center?: ArrayLike<number>): { mean: Float64Array; scatter: Float64Array; total: number } {
  const n = points.length / d;
  const mean = new Float64Array(d);
  let total = 0;
  for (let p = 0; p < n; p++) {
    const w = weights ? weights[p] : 1;
    total += w;
    for (let j = 0; j < d; j++) mean[j] += w * points[p * d + j];
  }
  if (!(total > 0)) throw new RangeError('weightedMoments: the weights sum to zero');
  for (let j = 0; j < d; j++) mean[j] /= total;
  const c = center ?? mean;
  const scatter = new Float64Array(d * d);
  for (let p = 0; p < n; p++) {
    const w = weights ? weights[p] : 1;
    for (let i = 0; i < d; i++) {
      const a = points[p * d + i] - c[i];
      for (let j = 0; j <= i; j++) scatter[i * d + j] += w * a * (points[p * d + j] - c[j]);
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      scatter[i * d + j] /= total;
      scatter[j * d + i] = scatter[i * d + j];
    }
  }
  return { mean, scatter, total };
}

/** The q-quantile (0..1) of values, by linear interpolation between order statistics. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/** Mean and population standard deviation (divides by n). */
export function meanStd(v: number[]): { mean: number; std: number } {
  const m = mean(v);
  return { mean: m, std: Math.sqrt(mean(v.map((x) => (x - m) ** 2))) };
}
