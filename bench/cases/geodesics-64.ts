/**
 * geodesics-64: 64 connecting geodesics at once on a 2-64-256-784 decoder (stochman's benchmark set-up:
 * pairs uniform in [-3, 3]^2). The value is the solve time at the default T = 16 points; the detail
 * gives the largest relative gap of the lengths to the optimum, established by tight solves at T = 65
 * and T = 129 and Richardson extrapolation (the discrete lengths converge as 1/T^2), and per-pair times
 * on the Latent Space Oddity authors' MNIST decoder when ../shared is present.
 *
 * For scale: stochman takes 7.8 s for 150 Adam iterations and 108 s for 2000 on these 64 pairs; the
 * authors' BVP solver 1-30 s per pair, their fixed-point solver 0.15-7 s per pair.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../../src/lib/runtime/backend';
import { createMlp } from '../../src/lib/nn/mlp';
import { GaussianDecoder } from '../../src/lib/models/decoder';
import { expectedMetric } from '../../src/lib/geometry/decoder-metric';
import { curveLengths, straightLines } from '../../src/lib/geometry/curves';
import { DEFAULT_POINTS, connectingGeodesics } from '../../src/lib/geometry/geodesics';
import type { Metric } from '../../src/lib/geometry/metric';
import { readDecoderJson } from '../../src/lib/io/decoder-json';
import { Rng } from '../../src/lib/util/rng';
import type { BenchCase } from '../run';

const PAIRS = 64;

function benchDecoder(): GaussianDecoder {
  const rng = new Rng(2024);
  const mean = createMlp({ sizes: [2, 64, 256, 784], activations: ['tanh', 'tanh', 'sigmoid'] }, rng);
  const std = createMlp({ sizes: [2, 64, 784], activations: ['tanh', 'softplus'] }, rng);
  return new GaussianDecoder(mean, { kind: 'net', net: std });
}

function uniformPairs(n: number, seed: number): { p0: Float64Array; p1: Float64Array } {
  const rng = new Rng(seed);
  const draw = () => Float64Array.from({ length: 2 * n }, () => 6 * rng.uniform() - 3);
  return { p0: draw(), p1: draw() };
}

function seconds<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, (performance.now() - t0) / 1000];
}

/** Tight solves at T and 2T - 1 points, Richardson-extrapolated: L* ~ L_fine + (L_fine - L_coarse) / 3. */
function optimumLengths(metric: Metric, p0: Float64Array, p1: Float64Array): { lengths: Float64Array; fine: Float64Array; seconds: number } {
  const tight = { tol: 1e-8, gradTol: 1e-8, maxIter: 200 };
  const [coarse, s1] = seconds(() => connectingGeodesics(metric, p0, p1, { ...tight, points: 65 }));
  const [fine, s2] = seconds(() => connectingGeodesics(metric, p0, p1, { ...tight, points: 129, init: coarse.curves }));
  const lengths = fine.lengths.map((l, i) => l + (l - coarse.lengths[i]) / 3);
  return { lengths, fine: fine.lengths, seconds: s1 + s2 };
}

function maxRelGap(a: Float64Array, ref: Float64Array): number {
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - ref[i]) / ref[i]), 0);
}

function fixturePath(): string | null {
  const dir = process.env.LSO_SHARED_DIR ?? path.resolve(__dirname, '..', '..', '..', 'shared');
  const file = path.join(dir, 'fixtures', 'lso-mnist-decoder.json');
  return fs.existsSync(file) ? file : null;
}

/** Per-pair times between latent codes of the authors' decoder: 8 pairs batched, and one pair alone. */
function fixtureTimes(): Record<string, unknown> {
  const file = fixturePath();
  if (!file) return { skipped: 'lso-mnist-decoder.json is absent' };
  const { decoder, latentCodes } = readDecoderJson(file);
  try {
    const metric = expectedMetric(decoder);
    const codes = latentCodes!;
    const rng = new Rng(11);
    const pick = () => {
      const i = rng.int(codes.length / 2);
      return [codes[2 * i], codes[2 * i + 1]];
    };
    const n = 8;
    const p0 = Float64Array.from(Array.from({ length: n }, pick).flat());
    const p1 = Float64Array.from(Array.from({ length: n }, pick).flat());
    const out: Record<string, unknown> = { pairs: n };
    for (const points of [DEFAULT_POINTS, 32]) {
      connectingGeodesics(metric, p0.subarray(0, 2), p1.subarray(0, 2), { points }); // warm-up
      const [batched, sb] = seconds(() => connectingGeodesics(metric, p0, p1, { points }));
      const [, single] = seconds(() => connectingGeodesics(metric, p0.subarray(0, 2), p1.subarray(0, 2), { points }));
      const line = curveLengths(metric, straightLines(p0, p1, 2, 2), { subdivisions: 256 });
      out[`T${points}`] = {
        secondsPerPairBatched: sb / n,
        secondsOnePairAlone: single,
        converged: batched.converged.filter(Boolean).length,
        iterations: batched.iterations,
        lengthOverStraightLine: Array.from(batched.lengths, (l, i) => Number((l / line[i]).toFixed(4))),
      };
    }
    return out;
  } finally {
    decoder.dispose();
  }
}

export const benchCase: BenchCase = {
  name: 'geodesics-64',
  unit: 's',
  target: 1.0,
  run: async () => {
    await initBackend({ quiet: true });
    const decoder = benchDecoder();
    try {
      const metric = expectedMetric(decoder);
      const { p0, p1 } = uniformPairs(PAIRS, 7);
      // Warm-up: the first calls of each tfjs-wasm kernel pay for its set-up.
      connectingGeodesics(metric, p0.subarray(0, 8), p1.subarray(0, 8));
      const [res, value] = seconds(() => connectingGeodesics(metric, p0, p1));
      const opt = optimumLengths(metric, p0, p1);
      const line = curveLengths(metric, straightLines(p0, p1, 2, 2), { subdivisions: 256 });
      return {
        value,
        detail: {
          pairs: PAIRS,
          points: DEFAULT_POINTS,
          iterations: res.iterations,
          converged: res.converged.filter(Boolean).length,
          maxRelGapToOptimum: maxRelGap(res.lengths, opt.lengths),
          maxRelGapToT129: maxRelGap(res.lengths, opt.fine),
          optimumSeconds: opt.seconds,
          meanLengthOverStraightLine: res.lengths.reduce((s, l, i) => s + l / line[i], 0) / PAIRS,
          fixture: fixtureTimes(),
          stochman: { adam150Seconds: 7.8, adam2000Seconds: 108 },
        },
      };
    } finally {
      decoder.dispose();
    }
  },
};
