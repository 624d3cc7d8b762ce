/**
 * Metric tensors and fields at many points on all cores: the main thread and the workers of
 * runtime/pool.ts (running metric-worker.ts) take chunks from one queue, so a slow or late thread (a worker still loading tfjs-wasm,
 * a core shared with another process) simply takes fewer. Results equal the single-threaded ones up to
 * float32 rounding, as every thread runs computeChunk on the same weights. A metric goes to the workers
 * when it describes itself (Metric.workerDescription); any other is computed on the main thread.
 */
import * as tf from '@tensorflow/tfjs';
import type { GaussianDecoder } from '../models/decoder';
import type { DecoderJson } from '../io/decoder-json';
import { mapPointBatches } from '../runtime/batch';
import { TaskResult, WorkerEntry, WorkerPool, sharedPool, workerEntry } from '../runtime/pool';
import { DecoderMetric, DecoderMetricKind } from './decoder-metric';
import { Metric, MetricWorkerDescription, gramFromTangents, isPullbackMetric } from './metric';
import { MetricFields, fieldsFromR, metricFields, metricTensors } from './fields';
import { tangentR } from './tangent-qr';

/**
 * What to compute: a decoder with the metric kind (and, when the caller already has it, its decoder-json,
 * which saves serialising the weights), or any Metric: one with a worker description goes to the workers,
 * any other is computed on the main thread.
 */
export type ParallelMetricSource = Metric | { decoder: GaussianDecoder; kind?: DecoderMetricKind; json?: DecoderJson };

/**
 * What a thread computes per point: the metric G [d, d], or G followed by the R factor of the Jacobian
 * [2, d, d] (a pull-back metric's fields come from R, which stays accurate where G is nearly singular).
 */
export type ChunkOutput = 'metric' | 'metric+r';

/** One chunk for a metric worker: `output` at flat points [n, d] of the metric rebuilt with `options`. */
export interface ChunkTask {
  options: unknown;
  output: ChunkOutput;
  points: Float32Array;
  batchSize?: number;
}

/** How to start the metric worker (metric-worker.ts beside this file). */
export function metricWorkerEntry(): WorkerEntry {
  return workerEntry(__filename, 'metric-worker');
}

/** A pool of `size` metric workers (the caller closes it). */
export function metricWorkerPool(size: number, entry: WorkerEntry = metricWorkerEntry()): WorkerPool {
  return new WorkerPool(size, entry);
}

export interface ParallelOptions {
  /** Points per tfjs batch inside each chunk (metricTensors' batchSize). */
  batchSize?: number;
  /** The pool (of metric workers); by default the process-wide one. null computes on the main thread only. */
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
  const pool = worthIt ? (opts.pool === undefined ? sharedPool(metricWorkerEntry()) : opts.pool) : null;
  if (!pool || !sendable) {
    const t0 = performance.now();
    const out = computeChunk(metric, points, output, opts.batchSize);
    if (opts.stats) Object.assign(opts.stats, { threads: 1, points: [n], busySeconds: [(performance.now() - t0) / 1000], chunks: 1 });
    return out;
  }

  const id = resourceId(sendable, pool);
  pool.load(id, () => ({ format: sendable.format, data: sendable.payload() }));
  const width = (output === 'metric' ? 1 : 2) * d * d;
  const queue = new ChunkQueue(n, 1 + pool.size * JOBS_IN_FLIGHT, minChunk);
  const done = new Array<number>(pool.size + 1).fill(0);
  const busy = new Array<number>(pool.size + 1).fill(0);
  const out = new Float32Array(n * width);
  const store = (c: Chunk, r: TaskResult, thread: number) => {
    out.set(r.data, c.start * width);
    done[thread] += c.end - c.start;
    busy[thread] += r.seconds;
  };

  const workerLoop = async (index: number) => {
    await pool.ready(index);
    for (let c = queue.next(); c; c = queue.next()) {
      const task: ChunkTask = { options: sendable.options, output, points: points.slice(c.start * d, c.end * d), batchSize: opts.batchSize };
      store(c, await pool.run(index, { id, task, transfer: [task.points.buffer as ArrayBuffer] }), index + 1);
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
      const data = computeChunk(metric, points.subarray(c.start * d, c.end * d), output, opts.batchSize);
      store(c, { data, seconds: (performance.now() - t0) / 1000 }, 0);
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

function normalise(source: ParallelMetricSource): { metric: Metric; sendable: MetricWorkerDescription | null } {
  if ('decoder' in source && !('tensor' in source)) {
    const metric = new DecoderMetric(source.decoder, source.kind ?? 'expected');
    const described = metric.workerDescription();
    const json = source.json;
    return { metric, sendable: described && json ? { ...described, payload: () => json } : described };
  }
  const metric = source as Metric;
  return { metric, sendable: metric.workerDescription?.() ?? null };
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
 * A stable id per described object and weights: the same object keeps its id (so workers keep their copy)
 * until its version changes (training assigns new data to a decoder's variables), when it gets a new id
 * and the old copy is dropped.
 */
const resourceIds = new WeakMap<object, { id: string; state: unknown[] }>();
let lastId = 0;

function resourceId(description: MetricWorkerDescription, pool: WorkerPool): string {
  const state = description.version();
  const known = resourceIds.get(description.owner);
  if (known && known.state.length === state.length && known.state.every((x, i) => x === state[i])) return known.id;
  if (known) pool.drop(known.id);
  const id = `d${++lastId}`;
  resourceIds.set(description.owner, { id, state });
  return id;
}
