/**
 * sqrt(det M) of the expected metric on a 100 x 100 grid over [-3, 3]^2, for a decoder with mean net
 * 2-64(tanh)-256(tanh)-784(sigmoid) and std net 2-64(tanh)-784(softplus) (Glorot weights, seed 0).
 * Reference: stochman (torch, nnj Jacobians) takes 0.74 s here.
 *
 * The value is the median warm time on all threads (main thread + worker pool). The detail also has the
 * single-threaded median and the cold time (pool start-up included), so none of them hides the others.
 * The floor single-threaded: the mean net's last layer alone is (1 + d) x 10^4 x 256 x 784 = 6.0 G
 * multiply-adds, at the ~19 GMAC/s that tfjs-wasm's matMul reaches on one core.
 */
import * as os from 'node:os';
import { createMlp } from '../../src/lib/nn/mlp';
import { GaussianDecoder } from '../../src/lib/models/decoder';
import { expectedMetric } from '../../src/lib/geometry/decoder-metric';
import { latentGrid, metricFields, metricTensors } from '../../src/lib/geometry/fields';
import { ParallelStats, metricTensorsParallel, metricWorkerPool } from '../../src/lib/geometry/parallel-fields';
import { WorkerPool, threadCount } from '../../src/lib/runtime/pool';
import { Rng } from '../../src/lib/util/rng';
import type { BenchCase } from '../run';

export const GRID_N = 100;
/** Points per tfjs batch: 512-2048 measure the same here; larger batches only use more memory. */
export const BATCH_SIZE = 1024;
const SINGLE_REPEATS = 3;
const PARALLEL_REPEATS = 5;

/** The benchmark decoder: fixed architecture and seed. */
export function buildBenchDecoder(seed = 0): GaussianDecoder {
  const rng = new Rng(seed);
  const mean = createMlp({ sizes: [2, 64, 256, 784], activations: ['tanh', 'tanh', 'sigmoid'] }, rng, 'mean');
  const std = createMlp({ sizes: [2, 64, 784], activations: ['tanh', 'softplus'] }, rng, 'std');
  return new GaussianDecoder(mean, { kind: 'net', net: std });
}

/** The grid's points, flat [n^2, 2]. */
export function benchGrid(n = GRID_N): Float32Array {
  return latentGrid({ xmin: -3, xmax: 3, ymin: -3, ymax: 3, n }).points;
}

/**
 * sqrt(det M) on the grid: single-threaded without a pool, else on the main thread and the pool's
 * workers. The timed unit of the benchmark.
 */
export async function gridVolumes(decoder: GaussianDecoder, points: Float32Array, pool: WorkerPool | null, stats?: ParallelStats): Promise<Float64Array> {
  const tensors = pool
    ? await metricTensorsParallel({ decoder, kind: 'expected' }, points, { batchSize: BATCH_SIZE, pool, stats })
    : metricTensors(expectedMetric(decoder), points, { batchSize: BATCH_SIZE });
  return metricFields(tensors, decoder.latentDim).volume;
}

async function timed<T>(f: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const t0 = performance.now();
  const result = await f();
  return { seconds: (performance.now() - t0) / 1000, result };
}

async function repeat(times: number, f: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push((await timed(f)).seconds);
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-6 * scale));
  return m;
}

function summary(v: Float64Array): { finite: number; min: number; max: number } {
  let finite = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    if (!Number.isFinite(x)) continue;
    finite++;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  return { finite, min, max };
}

const round = (x: number) => Number(x.toFixed(4));

export const benchCase: BenchCase = {
  name: 'metric-grid-100',
  unit: 's',
  target: 0.35,
  async run() {
    const decoder = buildBenchDecoder();
    const points = benchGrid();
    const n = points.length / 2;
    const workers = threadCount() - 1;
    let pool: WorkerPool | null = null;
    try {
      const loadBefore = os.loadavg()[0];
      const single = await gridVolumes(decoder, points, null); // warm-up
      const singleRuns = await repeat(SINGLE_REPEATS, () => gridVolumes(decoder, points, null));
      const detail: Record<string, unknown> = {
        points: n,
        batchSize: BATCH_SIZE,
        singleThreadSeconds: round(median(singleRuns)),
        singleThreadRuns: singleRuns.map(round),
        // (1 + d) rows through 2-64-256-784 and 2-64-784, value and tangents: the multiply-adds per run.
        gmacSingleThread: round((3 * n * (2 * 64 + 64 * 256 + 256 * 784 + 2 * 64 + 64 * 784)) / 1e9 / median(singleRuns)),
        stochmanSeconds: 0.74,
        threads: workers + 1,
        cores: os.availableParallelism(),
      };
      const volume = summary(single);
      let value = median(singleRuns);
      if (workers >= 1) {
        const coldStart = performance.now();
        pool = metricWorkerPool(workers);
        const started = pool.ready().then(() => (performance.now() - coldStart) / 1000);
        const coldStats = {} as ParallelStats;
        const cold = await timed(() => gridVolumes(decoder, points, pool, coldStats));
        const warmStats = {} as ParallelStats;
        const warmRuns = await repeat(PARALLEL_REPEATS, () => gridVolumes(decoder, points, pool, warmStats));
        value = median(warmRuns);
        Object.assign(detail, {
          parallelWarmSeconds: round(value),
          parallelWarmRuns: warmRuns.map(round),
          // From metricWorkerPool() to the volumes: worker start-up included, overlapped with the main thread's share.
          parallelColdSeconds: round(cold.seconds),
          poolStartSeconds: round(await started),
          // 'compiled' (dist/, as users get it) or 'tsx' (dist/ older than src/: a slower start).
          workerEntry: pool.entry.kind,
          coldPointsPerThread: coldStats.points,
          warmPointsPerThread: warmStats.points,
          warmBusySeconds: warmStats.busySeconds.map(round),
          chunks: warmStats.chunks,
          parallelVsSingleMaxRelDiff: maxRelDiff(cold.result, single),
        });
      }
      Object.assign(detail, { volumeFinite: volume.finite, volumeMin: volume.min, volumeMax: volume.max, loadAverage: [loadBefore, os.loadavg()[0]].map(round) });
      if (volume.finite !== n) throw new Error(`${n - volume.finite} of ${n} volumes are not finite`);
      return { value, detail };
    } finally {
      await pool?.close();
      decoder.dispose();
    }
  },
};
