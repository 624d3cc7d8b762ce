/**
 * The messages between a WorkerPool (pool.ts) and its workers (worker-host.ts). The pool knows resources
 * (anything a worker builds once and keeps, e.g. a decoder) only by id and opaque payload, and tasks only
 * as opaque values: what they mean is up to the worker module that the pool was started with.
 */

/** Messages from the pool to a worker. */
export type ToWorker =
  | { type: 'load'; id: string; payload: unknown }
  | { type: 'drop'; id: string }
  | { type: 'run'; job: number; id: string; task: unknown };

/** Messages from a worker to the pool. */
export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'result'; job: number; data: Float32Array; seconds: number }
  | { type: 'error'; job: number | null; message: string };
