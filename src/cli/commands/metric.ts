/**
 * `latent-geometry metric`: the metric tensor and volume element sqrt(det M) of a decoder-json decoder at
 * given latent points.
 */
import { PROGRAM, defineCommand } from '../args';
import { FLOAT32_JSON_CHARS, checkJsonOutputSize, checkOutput, maxThreads, threadsFromEnv } from '../checks';
import { jacobianBatchSize } from '../../lib/geometry/batch-budget';
import { metricFieldsParallel } from '../../lib/geometry/parallel-fields';
import { WorkerPool } from '../../lib/runtime/pool';
import { announceBackend, buildDecoder, float32ToJson, parsePoints, readJsonFile, startBackend, writeResult } from './common';

/**
 * From this many points on, worker threads are started unless --threads says otherwise: starting one
 * (loading tfjs-wasm) takes 0.1-0.2 s, and 10^4 points take 0.4-0.5 s on one core for a small MNIST
 * decoder as for the 2-64-256-784 benchmark one (the per-point cost on wasm is more in op overheads
 * than in weights).
 */
export const AUTO_PARALLEL_MIN_POINTS = 10000;

export interface MetricOutput {
  /** [N][d][d] */
  metric: number[][][];
  /** [N] sqrt(det M), from the R factor of the Jacobian (accurate also where M is nearly singular). */
  volume: number[];
  /** Compute time only: no start-up, file reading or parsing. */
  seconds: number;
}

export const metricCommand = defineCommand({
  name: 'metric',
  summary: 'metric tensors and volume elements of a decoder at latent points',
  description: [
    'Computes the Riemannian metric M(z) that a decoder induces on its latent space at each point, and the',
    'volume element sqrt(det M(z)). --kind expected is M = J_mu^T J_mu + J_sigma^T J_sigma (Latent Space',
    'Oddity, Theorem 1); --kind mean is J_mu^T J_mu. The points file holds {"points": [[z_1, ..., z_d], ...]}.',
    'Writes {"metric": [N][d][d], "volume": [N], "seconds": s}, where seconds is the compute time alone. The',
    'volume comes from a QR factorisation of the Jacobian, which stays accurate where M is nearly singular.',
  ].join('\n'),
  options: {
    decoder: { kind: 'string', valueName: 'FILE', required: true, description: 'decoder-json/v1 file' },
    points: { kind: 'string', valueName: 'FILE', required: true, description: 'JSON file {"points": [[...], ...]}' },
    out: { kind: 'string', valueName: 'FILE', description: 'write the result here: atomically to a file (links followed, mode kept), through to a FIFO or a device; never over an input (default: stdout)' },
    kind: { kind: 'choice', choices: ['expected', 'mean'] as const, default: 'expected', description: 'which metric' },
    batch: { kind: 'int', default: 1024, max: 1 << 20, description: "points per tfjs batch, lowered for a large decoder so that the wasm heap suffices" },
    threads: {
      kind: 'int',
      max: () => ({ value: maxThreads(), why: 'the cores this process may use' }),
      description: `threads in all, workers plus the main thread, at most the cores (default: LSO_THREADS or all cores from ${AUTO_PARALLEL_MIN_POINTS} points on, else 1)`,
    },
  },
  examples: [
    'latent-geometry metric --decoder decoder.json --points points.json --out metric.json',
    'latent-geometry metric --decoder decoder.json --points points.json --kind mean > metric.json',
  ],
  async run(opts) {
    checkOutput(opts.out, { '--decoder': opts.decoder, '--points': opts.points });
    const envThreads = threadsFromEnv();
    const decoderJson = readJsonFile(opts.decoder);
    const pointsJson = readJsonFile(opts.points);
    const backend = await startBackend();
    const { decoder, json } = buildDecoder(decoderJson, opts.decoder);
    try {
      const d = decoder.latentDim;
      const points = parsePoints(pointsJson, opts.points, d);
      const n = points.length / d;
      const perPoint = metricJsonBytesPerPoint(d);
      checkJsonOutputSize(n * perPoint + 64, '--points', { count: n, noun: 'points', bytesPerItem: perPoint });
      const batchSize = jacobianBatchSize(decoder, opts.kind, opts.batch);
      const threads = opts.threads ?? (n >= AUTO_PARALLEL_MIN_POINTS ? envThreads : 1);
      announceBackend(backend);
      const pool = threads > 1 && backend.name === 'wasm' ? new WorkerPool(threads - 1) : null;
      try {
        await pool?.ready();
        const t0 = performance.now();
        const { tensors, fields } = await metricFieldsParallel({ decoder, kind: opts.kind, json }, points, { batchSize, pool });
        const seconds = (performance.now() - t0) / 1000;
        warnNonFinite(tensors, fields.volume, d, opts.points);
        await writeResult(opts.out, toResult(tensors, fields.volume, decoder.latentDim, seconds));
      } finally {
        await pool?.close();
      }
    } finally {
      decoder.dispose();
    }
  },
});

/**
 * One warning line on stderr when the metric is NaN or infinite at some points (the inputs were finite in
 * float32, but e.g. J^T J overflowed it): those entries are null in the output, and nothing else says so.
 */
function warnNonFinite(tensors: Float32Array, volume: ArrayLike<number>, d: number, source: string): void {
  const bad: number[] = [];
  for (let i = 0; i < volume.length; i++) {
    if (!Number.isFinite(volume[i]) || tensors.subarray(i * d * d, (i + 1) * d * d).some((x) => !Number.isFinite(x))) bad.push(i);
  }
  if (bad.length === 0) return;
  const first = bad.slice(0, 3).map((i) => `points[${i}]`).join(', ');
  process.stderr.write(
    `${PROGRAM}: warning: ${source}: the metric is NaN or infinite (beyond float32) at ${bad.length} of ${volume.length} points (${first}${bad.length > 3 ? ', ...' : ''}); they are null in the output\n`,
  );
}

/** An upper bound of the JSON bytes of one point's result: d x d + 1 float32 numbers and the brackets. */
export function metricJsonBytesPerPoint(d: number): number {
  return (d * d + 1) * FLOAT32_JSON_CHARS + 2 * d + 4;
}

/** The flat results as nested JSON arrays. */
export function toResult(tensors: Float32Array, volume: ArrayLike<number>, d: number, seconds: number): MetricOutput {
  const metric = Array.from({ length: volume.length }, (_, i) =>
    Array.from({ length: d }, (_, r) => Array.from(tensors.subarray((i * d + r) * d, (i * d + r + 1) * d), float32ToJson)),
  );
  return { metric, volume: Array.from(volume, float32ToJson), seconds };
}
