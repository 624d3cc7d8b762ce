/**
 * A small pool of worker threads, each running its own tfjs backend (wasm), for work that splits into
 * chunks: metric tensors at many points, for one.
 *
 * tfjs-wasm is single-threaded in Node (its threaded build is disabled there), so a metric grid uses one
 * core however many the machine has. Each worker here loads tfjs-wasm once, receives resources once
 * (e.g. a decoder as decoder-json/v1, cached under an id), and then runs tasks on them, sending results
 * back as transferred Float32Arrays. Idle workers are unref'd, so a pool never keeps the process alive;
 * `close()` terminates them.
 *
 * The pool is generic: what a resource or a task is, is up to the worker module it is started with (see
 * worker-host.ts; geometry/metric-worker.ts is one), and how work is split is up to the caller (see
 * geometry/parallel-fields.ts). Nothing here imports above runtime/.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './pool-protocol';
import { InputError } from '../util/errors';

/** One task for a worker on the resource `id`; `transfer` lists buffers handed over (not copied). */
export interface PoolTask {
  id: string;
  task: unknown;
  transfer?: ArrayBuffer[];
}

interface Slot {
  worker: Worker;
  /** Resource ids loaded in this worker, least recently used first. */
  loaded: string[];
  /** Jobs sent and not answered, plus one while starting: the worker is ref'd exactly while this is > 0. */
  busy: number;
  ready: Promise<void>;
}

/** A task's result and the seconds the worker spent computing it. */
export interface TaskResult {
  data: Float32Array;
  seconds: number;
}

interface Pending {
  slot: Slot;
  resolve: (result: TaskResult) => void;
  reject: (err: Error) => void;
}

/** Resources kept per worker; older ones are dropped so a long session's workers do not grow without bound. */
const MAX_RESOURCES_PER_WORKER = 4;

/**
 * The number of threads to use in all (workers plus the main thread): LSO_THREADS when set, else
 * os.availableParallelism(). 1 disables the pool.
 */
export function threadCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.LSO_THREADS;
  if (raw === undefined || raw === '') return os.availableParallelism();
  if (!/^[1-9][0-9]*$/.test(raw.trim())) throw new InputError('LSO_THREADS', `expected a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** How a worker is started: a compiled script, or the TypeScript source through tsx's require hook. */
export interface WorkerEntry {
  kind: 'compiled' | 'tsx';
  /** A file name, or code to evaluate (kind 'tsx'). */
  script: string;
  eval: boolean;
}

/**
 * How to start the worker module `name` that sits beside the module file `here` (its __filename). From
 * dist/ it is the compiled sibling. From the sources (tsx: tests, the bench) it is dist's compiled worker
 * when that is at least as new as every source file of the library (starting it takes ~0.1 s against
 * ~0.5 s through tsx), else the .ts source through tsx's require hook, so that a worker never runs stale
 * code. (tsx's --import loader does not reach a worker's entry module on Node 20, hence the hook.)
 */
export function workerEntry(here: string, name: string): WorkerEntry {
  const ext = path.extname(here);
  if (ext !== '.ts') return { kind: 'compiled', script: existing(path.join(path.dirname(here), `${name}${ext}`)), eval: false };
  const libDir = libRoot(here);
  const built = path.resolve(libDir, '..', '..', 'dist', 'lib', path.relative(libDir, path.dirname(here)), `${name}.js`);
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= newestMtime(libDir)) return { kind: 'compiled', script: built, eval: false };
  return tsxWorkerEntry(path.join(path.dirname(here), `${name}.ts`));
}

/** The TypeScript worker source run through tsx's require hook (needs tsx, a dev dependency). */
export function tsxWorkerEntry(source: string): WorkerEntry {
  return { kind: 'tsx', script: `require(${JSON.stringify(require.resolve('tsx/cjs'))});\nrequire(${JSON.stringify(existing(source))});`, eval: true };
}

/** src/lib (or dist/lib) above a module file: the folder named lib nearest above it. */
function libRoot(file: string): string {
  let dir = path.dirname(file);
  while (path.basename(dir) !== 'lib' && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

function existing(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`worker pool: ${file} is missing (run npm run build)`);
  return file;
}

/** The newest modification time of the .ts files under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  private nextJob = 0;
  private failure: Error | null = null;
  private closed = false;

  /** Starts `size` workers of the worker module `entry` at once; they load tfjs-wasm in the background (see ready()). */
  constructor(
    readonly size: number,
    readonly entry: WorkerEntry,
  ) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`WorkerPool: size must be a positive integer, got ${size}`);
    this.slots = Array.from({ length: size }, () => this.spawn(entry));
  }

  /** Resolves when worker `index` (by default every worker) has its backend ready; rejects if it failed to start. */
  async ready(index?: number): Promise<void> {
    await Promise.all(index === undefined ? this.slots.map((s) => s.ready) : [this.slots[index].ready]);
  }

  /** False once a worker died or the pool was closed: a broken pool is replaced, not repaired. */
  get usable(): boolean {
    return !this.closed && this.failure === null;
  }

  /**
   * Sends resource `id` to every worker lacking it. `payload` is called at most once. Messages to a
   * worker are handled in order, so tasks may be sent right after without waiting.
   */
  load(id: string, payload: () => unknown): void {
    this.assertUsable();
    let value: unknown = undefined;
    let made = false;
    for (const slot of this.slots) {
      const at = slot.loaded.indexOf(id);
      if (at >= 0) {
        slot.loaded.push(...slot.loaded.splice(at, 1)); // most recently used last
        continue;
      }
      if (!made) [value, made] = [payload(), true];
      this.post(slot, { type: 'load', id, payload: value });
      slot.loaded.push(id);
      while (slot.loaded.length > MAX_RESOURCES_PER_WORKER) this.post(slot, { type: 'drop', id: slot.loaded.shift()! });
    }
  }

  /** Forgets resource `id` in every worker (e.g. after its weights changed). */
  drop(id: string): void {
    for (const slot of this.slots) {
      const at = slot.loaded.indexOf(id);
      if (at < 0) continue;
      slot.loaded.splice(at, 1);
      if (this.usable) this.post(slot, { type: 'drop', id });
    }
  }

  /** One task on worker `index`. The buffers in `transfer` are handed over: pass copies the caller no longer needs. */
  run(index: number, { id, task, transfer = [] }: PoolTask): Promise<TaskResult> {
    this.assertUsable();
    const slot = this.slots[index];
    if (!slot.loaded.includes(id)) throw new Error(`WorkerPool: resource ${id} was not loaded into worker ${index}`);
    const job = this.nextJob++;
    return new Promise<TaskResult>((resolve, reject) => {
      this.pending.set(job, { slot, resolve, reject });
      this.setBusy(slot, +1);
      this.post(slot, { type: 'run', job, id, task }, transfer);
    });
  }

  /** Terminates the workers; unanswered jobs are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new Error('WorkerPool: closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(entry: WorkerEntry): Slot {
    const worker = new Worker(entry.script, {
      eval: entry.eval,
      // Not the parent's flags: a tsx parent's --import would load tsx into every worker for nothing.
      execArgv: [],
      // The pool is for wasm: a native backend threads by itself, and its addon may not load in a worker.
      env: { ...process.env, LSO_BACKEND: 'wasm', LSO_QUIET: '1' },
    });
    const ready = new Promise<void>((resolve, reject) => {
      const onStartFailure = (err: Error) => reject(err);
      worker.once('error', onStartFailure);
      worker.once('message', (msg: FromWorker) => {
        worker.off('error', onStartFailure);
        worker.on('message', (m: FromWorker) => this.onMessage(m));
        this.setBusy(slot, -1);
        if (msg.type === 'ready') return resolve();
        const err = new Error(`worker pool: a worker failed to start: ${msg.type === 'error' ? msg.message : msg.type}`);
        reject(err);
        this.fail(err);
      });
    });
    // An unhandled rejection of `ready` would crash the process when nobody awaits it; the failure is
    // reported through ready() and every later call instead.
    ready.catch(() => undefined);
    const slot: Slot = { worker, loaded: [], busy: 0, ready };
    // Keep the process alive while starting (someone may be awaiting ready()), not after.
    this.setBusy(slot, +1);
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`worker pool: a worker exited unexpectedly (code ${code})`));
    });
    return slot;
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === 'ready') return;
    if (msg.job === null) {
      this.fail(new Error(`worker pool: ${msg.type === 'error' ? msg.message : 'unexpected message'}`));
      return;
    }
    const p = this.pending.get(msg.job);
    if (!p) return;
    this.pending.delete(msg.job);
    this.setBusy(p.slot, -1);
    if (msg.type === 'result') p.resolve({ data: msg.data, seconds: msg.seconds });
    else p.reject(new Error(msg.message));
  }

  private setBusy(slot: Slot, delta: number): void {
    slot.busy += delta;
    if (slot.busy > 0) slot.worker.ref();
    else slot.worker.unref();
  }

  private post(slot: Slot, msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    slot.worker.postMessage(msg, transfer);
  }

  private fail(err: Error): void {
    if (this.failure || this.closed) return;
    this.failure = err;
    this.rejectAll(err);
    // The remaining workers are of no use to a broken pool.
    for (const s of this.slots) void s.worker.terminate();
  }

  private rejectAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const s of this.slots) {
      s.busy = 0;
      s.worker.unref();
    }
  }

  private assertUsable(): void {
    if (this.closed) throw new Error('WorkerPool: closed');
    if (this.failure) throw this.failure;
  }
}

const shared = new Map<string, WorkerPool>();

/**
 * The process-wide pool of worker module `entry` with threadCount() - 1 workers, started on first use (and
 * again after a failure), or null when only one thread is to be used.
 */
export function sharedPool(entry: WorkerEntry): WorkerPool | null {
  const workers = threadCount() - 1;
  if (workers < 1) return null;
  const known = shared.get(entry.script);
  if (known && known.usable && known.size === workers) return known;
  void known?.close();
  const pool = new WorkerPool(workers, entry);
  shared.set(entry.script, pool);
  return pool;
}

/** Closes the process-wide pools, if any (tests and long-lived hosts; plain scripts need not). */
export async function closeSharedPool(): Promise<void> {
  const pools = [...shared.values()];
  shared.clear();
  await Promise.all(pools.map((p) => p.close()));
}
