/**
 * The paired difference of two methods scored on the same seeds, with its 95% confidence interval: the
 * Student t-interval over seeds (the per-seed differences treated as independent draws; with few seeds a
 * normal interval would be too narrow). The t quantile comes from the t density by Simpson's rule and
 * bisection, exact to ~1e-8 for the degrees of freedom used here.
 */

/** The Student t density with `df` degrees of freedom. */
function tDensity(x: number, df: number): number {
  const logC = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logC - ((df + 1) / 2) * Math.log(1 + (x * x) / df));
}

/** log Gamma(x) for x > 0 (Lanczos, g = 7). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61508704002225, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0];
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(0 <= T <= x) by Simpson's rule. */
function tHalfMass(x: number, df: number): number {
  const n = 2000;
  const h = x / n;
  let acc = 0;
  for (let i = 0; i <= n; i++) acc += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * tDensity(i * h, df);
  return (acc * h) / 3;
}

/** The quantile t_{p, df} for p in (0.5, 1). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0.5 && p < 1) || !(df >= 1)) throw new RangeError(`studentTQuantile: need 0.5 < p < 1 and df >= 1, got p = ${p}, df = ${df}`);
  let lo = 0;
  let hi = 1;
  while (tHalfMass(hi, df) < p - 0.5) hi *= 2;
  for (let it = 0; it < 60; it++) {
    const mid = 0.5 * (lo + hi);
    if (tHalfMass(mid, df) < p - 0.5) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

export interface PairedDifference {
  /** Mean over seeds of b - a. */
  mean: number;
  /** Sample standard deviation of the per-seed differences. */
  sd: number;
  /** 95% t-interval of the mean difference (NaN with one seed). */
  ci95: [number, number];
  /** Number of seeds. */
  seeds: number;
  /** Seeds on which b - a > 0, < 0. */
  wins: number;
  losses: number;
  perSeed: number[];
}

/** b - a per seed (the same seeds, in the same order), with the t-interval of its mean. */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>): PairedDifference {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`pairedDifference: need two equally long non-empty score lists, got ${a.length} and ${b.length}`);
  const diff = Array.from(b, (x, i) => x - a[i]);
  const n = diff.length;
  const mean = diff.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(diff.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : NaN;
  const half = n > 1 ? studentTQuantile(0.975, n - 1) * (sd / Math.sqrt(n)) : NaN;
  return { mean, sd, ci95: [mean - half, mean + half], seeds: n, wins: diff.filter((x) => x > 0).length, losses: diff.filter((x) => x < 0).length, perSeed: diff };
}
