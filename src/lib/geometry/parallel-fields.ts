/**
 * Metric tensors and fields at many points on all cores: the main thread and the workers of
 * runtime/pool.ts take chunks from one queue, so a slow or late thread (a worker still loading tfjs-wasm,
 * a core shared with another process) simply takes fewer. Results equal the single-threaded ones up to
 * float32 rounding, as every thread runs computeChunk on the same weights.
 */
import * as tf from '@tensorflow/tfjs';
import { GaussianDecoder } from '../models/decoder';
import { DecoderJson, decoderToJson } from '../io/decoder-json';
import { mapPointBatches } from '../runtime/batch';
import { ChunkResult, WorkerPool, sharedPool } from '../runtime/pool';
import { DecoderMetric, DecoderMetricKind } from './decoder-metric';
import { Metric, gramFromTangents, isPullbackMetric } from './metric';
import { MetricFields, fieldsFromR, metricFields, metricTensors } from './fields';
import { tangentR } from './tangent-qr';

/**
 * What to compute: a decoder with the metric kind (and, when the caller already has it, its decoder-json,
 * which saves serialising the weights), a DecoderMetric of a GaussianDecoder, or any other Metric, which
 * cannot be sent to a worker and is computed on the main thread.
 */
export type ParallelMetricSource = Metric | { decoder: GaussianDecoder; kind?: DecoderMetricKind; json?: DecoderJson };

/**
 * What a thread computes per point: the metric G [d, d], or G followed by the R factor of the Jacobian
 * [2, d, d] (a pull-back metric's fields come from R, which stays accurate where G is nearly singular).
 */
export type ChunkOutput = 'metric' | 'metric+r';

export interface ParallelOptions {
  /** Points per tfjs batch inside each chunk (metricTensors' batchSize). */
  batchSize?: number;
  /** The pool; by default the process-wide sharedPool(). null computes on the main thread only. */
  pool?: WorkerPool | null;
  /** The smallest chunk handed out (default 128): smaller ones cost more in messages and batches than they gain. */
  minChunk?: number;
  /** Filled in with how the points were split, when given. */
  stats?: ParallelStats;
}

export interface ParallelStats {
  /** Threads that took part: 1 when computed on the main thread only. */
  threads: number;
  /** Points computed per thread, the main thread first. */
  points: number[];
  /** Seconds each thread spent computing (the rest of the wall time it waited or passed messages). */
  busySeconds: number[];
  chunks: number;
}

const DEFAULT_MIN_CHUNK = 128;
const MAX_CHUNK = 4096;
/** Jobs queued per worker, so that a worker has the next chunk while the main thread is busy computing. */
const JOBS_IN_FLIGHT = 2;

/** G at N points given flat [N, d], as flat [N, d, d], on the main thread and the pool's workers. */
export async function metricTensorsParallel(source: ParallelMetricSource, points: Float32Array, opts: ParallelOptions = {}): Promise<Float32Array> {
  return runChunks(source, points, 'metric', opts);
}

/**
 * G [N, d, d] and the fields (volume, log volume, condition number) at flat points [N, d], on all threads.
 * For a pull-back metric the fields come from the Jacobian's R factor, as fieldsAt's do.
 */
export async function metricFieldsParallel(
  source: ParallelMetricSource,
  points: Float32Array,
  opts: ParallelOptions = {},
): Promise<{ tensors: Float32Array; fields: MetricFields }> {
  const { metric } = normalise(source);
  const d = metric.dim;
  if (!isPullbackMetric(metric)) {
    const tensors = await runChunks(source, points, 'metric', opts);
    return { tensors, fields: metricFields(tensors, d) };
  }
  const both = await runChunks(source, points, 'metric+r', opts);
  const n = both.length / (2 * d * d);
  const tensors = new Float32Array(n * d * d);
  const r = new Float32Array(n * d * d);
  for (let i = 0; i < n; i++) {
    tensors.set(both.subarray(2 * i * d * d, (2 * i + 1) * d * d), i * d * d);
    r.set(both.subarray((2 * i + 1) * d * d, (2 * i + 2) * d * d), i * d * d);
  }
  return { tensors, fields: fieldsFromR(r, d) };
}

/** One thread's work on a chunk of flat points [n, d]: see ChunkOutput. Workers run the same function. */
export function computeChunk(metric: Metric, points: Float32Array, output: ChunkOutput, batchSize?: number): Float32Array {
  if (output === 'metric') return metricTensors(metric, points, { batchSize });
  if (!isPullbackMetric(metric)) throw new Error(`computeChunk: '${output}' needs a pull-back metric`);
  const d = metric.dim;
  return mapPointBatches(points, d, batchSize ?? 2048, 2 * d * d, (z) => {
    const blocks = metric.tangentBlocks(z);
    return tf.stack([gramFromTangents(blocks), tangentR(blocks)], 1);
  });
}

async function runChunks(source: ParallelMetricSource, points: Float32Array, output: ChunkOutput, opts: ParallelOptions): Promise<Float32Array> {
  const { metric, sendable } = normalise(source);
  const d = metric.dim;
  if (points.length % d !== 0) throw new RangeError(`parallel fields: ${points.length} coordinates is not a multiple of d = ${d}`);
  const n = points.length / d;
  const minChunk = opts.minChunk ?? DEFAULT_MIN_CHUNK;
  const worthIt = sendable !== null && n >= 2 * minChunk && tf.getBackend() === 'wasm';
  const pool = worthIt ? (opts.pool === undefined ? sharedPool() : opts.pool) : null;
  if (!pool || !sendable) {
    const t0 = performance.now();
    const out = computeChunk(metric, points, output, opts.batchSize);
    if (opts.stats) Object.assign(opts.stats, { threads: 1, points: [n], busySeconds: [(performance.now() - t0) / 1000], chunks: 1 });
    return out;
  }

  const id = decoderId(sendable.decoder, pool);
  pool.loadDecoder(id, () => sendable.json ?? decoderToJson(sendable.decoder));
  const width = (output === 'metric' ? 1 : 2) * d * d;
  const queue = new ChunkQueue(n, 1 + pool.size * JOBS_IN_FLIGHT, minChunk);
  const done = new Array<number>(pool.size + 1).fill(0);
  const busy = new Array<number>(pool.size + 1).fill(0);
  const out = new Float32Array(n * width);
  const store = (c: Chunk, r: ChunkResult, thread: number) => {
    out.set(r.tensors, c.start * width);
    done[thread] += c.end - c.start;
    busy[thread] += r.seconds;
  };

  const workerLoop = async (index: number) => {
    await pool.ready(index);
    for (let c = queue.next(); c; c = queue.next()) {
      const job = { id, kind: sendable.kind, output, points: points.slice(c.start * d, c.end * d), batchSize: opts.batchSize };
      store(c, await pool.runChunk(index, job), index + 1);
    }
  };
  const mainLoop = async () => {
    for (;;) {
      // Yields before each chunk: first so that ready workers are sent theirs before this thread blocks,
      // then so that worker replies get in and their next chunks go out.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const c = queue.next();
      if (!c) return;
      const t0 = performance.now();
      const tensors = computeChunk(metric, points.subarray(c.start * d, c.end * d), output, opts.batchSize);
      store(c, { tensors, seconds: (performance.now() - t0) / 1000 }, 0);
    }
  };
  const loops = [...Array.from({ length: pool.size * JOBS_IN_FLIGHT }, (_, i) => workerLoop(i % pool.size)), mainLoop()];
  // On a failure the other loops stop taking chunks, and all are awaited before the error is passed on.
  const results = await Promise.allSettled(loops.map((l) => l.catch((err: unknown) => (queue.abort(), Promise.reject(err)))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  if (opts.stats) Object.assign(opts.stats, { threads: pool.size + 1, points: done, busySeconds: busy, chunks: queue.handedOut });
  return out;
}

function normalise(source: ParallelMetricSource): {
  metric: Metric;
  sendable: { decoder: GaussianDecoder; kind: DecoderMetricKind; json?: DecoderJson } | null;
} {
  if ('decoder' in source && !('tensor' in source)) {
    const kind = source.kind ?? 'expected';
    return { metric: new DecoderMetric(source.decoder, kind), sendable: { decoder: source.decoder, kind, json: source.json } };
  }
  const metric = source as Metric;
  if (metric instanceof DecoderMetric && metric.decoder instanceof GaussianDecoder) {
    return { metric, sendable: { decoder: metric.decoder, kind: metric.kind } };
  }
  return { metric, sendable: null };
}

interface Chunk {
  start: number;
  end: number;
}

/**
 * Guided self-scheduling: each chunk is a share of what is left, 1 / (2 * takers) where the takers are the
 * main thread and every job slot of the workers, so chunks start large (few messages) and shrink towards
 * the end, where a worker's queued jobs would otherwise leave the main thread idle.
 */
class ChunkQueue {
  private start = 0;
  private aborted = false;
  handedOut = 0;

  constructor(
    private readonly n: number,
    private readonly takers: number,
    private readonly minChunk: number,
  ) {}

  next(): Chunk | null {
    if (this.aborted || this.start >= this.n) return null;
    const left = this.n - this.start;
    const size = Math.min(left, Math.max(this.minChunk, Math.min(MAX_CHUNK, Math.ceil(left / (2 * this.takers)))));
    const c = { start: this.start, end: this.start + size };
    this.start = c.end;
    this.handedOut++;
    return c;
  }

  abort(): void {
    this.aborted = true;
  }
}

/**
 * A stable id per decoder and weights: the same decoder object keeps its id (so workers keep their copy)
 * until one of its tensors is replaced (training assigns new data to its variables), when it gets a new
 * id and the old copy is dropped.
 */
const decoderIds = new WeakMap<GaussianDecoder, { id: string; state: unknown[] }>();
let lastId = 0;

function decoderId(decoder: GaussianDecoder, pool: WorkerPool): string {
  const state = weightState(decoder);
  const known = decoderIds.get(decoder);
  if (known && known.state.length === state.length && known.state.every((x, i) => x === state[i])) return known.id;
  if (known) pool.dropDecoder(known.id);
  const id = `d${++lastId}`;
  decoderIds.set(decoder, { id, state });
  return id;
}

/** The identities that change whenever the decoder's weights or structure do. */
function weightState(decoder: GaussianDecoder): unknown[] {
  const s = decoder.stdModel;
  const tensors: tf.Tensor[] = [...decoder.meanNet.variables()];
  if (s.kind === 'net') tensors.push(...s.net.variables());
  if (s.kind === 'rbf') tensors.push(s.rbf.centers, s.rbf.bandwidths, s.rbf.weightT);
  return [decoder.meanNet, s, s.kind === 'rbf' ? s.rbf.zeta : null, ...tensors.map((t) => t.dataId)];
}
