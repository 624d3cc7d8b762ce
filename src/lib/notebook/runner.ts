/**
 * Runs a notebook headless, without Python or Jupyter: its code cells go, in order, to a child process
 * that executes them with tslab's executor (kernel-child.ts), and the outputs are written back into the
 * .ipynb as Jupyter would (streams, display data, results, errors, execution counts).
 *
 * The first failing cell stops the run and a NotebookError names the cell. The executed notebook (with the
 * error in that cell and later cells cleared, so no stale output suggests they ran) goes to `outFile` (default:
 * back into the file), or to `failedOutFile` when a cell failed (null: nowhere, so a failing run leaves the
 * committed notebook alone; `npm run reproduce` does this, see workbook-run.ts).
 * `keepGoing` runs on past failing cells instead (nbgrader's allow_errors), and `limits`, `nodeArgs`,
 * `kernelScript` and `isolateEnv` let the autograder (classroom/) run untrusted notebooks.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cellSource, coalesceStreams, ensureCellIds, joinText, readNotebook, writeNotebook, type Cell, type ErrorOutput, type NotebookJson, type Output } from './ipynb';
import { ENV_ECHO, ENV_RUNNER, type FromKernel, type ToKernel } from './protocol';

export class NotebookError extends Error {
  constructor(
    readonly notebook: string,
    /** 0-based index among all cells (markdown included), as in the .ipynb. */
    readonly cellIndex: number,
    readonly source: string,
    readonly detail: string,
  ) {
    super(`${notebook}: cell #${cellIndex + 1} failed\n--- cell source ---\n${source.trimEnd()}\n--- error ---\n${detail}`);
    this.name = 'NotebookError';
  }
}

export interface RunNotebookOptions {
  /** Also print the cells' output while they run (default false). */
  echo?: boolean;
  /** Extra environment for the kernel (LSO_PROFILE, LSO_FIGURES_DIR, ...). */
  env?: NodeJS.ProcessEnv;
  /** Called before each code cell runs. */
  onCell?: (info: { index: number; count: number; total: number }) => void;
  /** Run every cell even after one fails (nbgrader's allow_errors): failures are returned, not thrown. */
  keepGoing?: boolean;
  /** Time and memory limits; with them the kernel runs in its own process group with its output piped. */
  limits?: KernelLimits;
  /** Extra node flags for the kernel process (e.g. the permission model's). */
  nodeArgs?: string[];
  /**
   * A compiled kernel-child.js to run instead of this module's sibling, without tsx's loader (which needs
   * a worker thread, and a sandboxed kernel may not start one).
   */
  kernelScript?: string;
  /** The kernel gets `env` only, nothing of this process' environment (untrusted code sees no secrets). */
  isolateEnv?: boolean;
  /** The kernel's working directory; default the notebook's folder. */
  cwd?: string;
  /** Where the executed notebook is written (atomically); default `file` itself. */
  outFile?: string;
  /**
   * Where the executed notebook goes when a cell failed; default `outFile`. `null` writes nothing, so a
   * failing run leaves the committed notebook as it was.
   */
  failedOutFile?: string | null;
  /** Applied to every text of every output before the notebook is written (e.g. absolute paths made relative). */
  rewriteText?: (text: string) => string;
}

export interface KernelLimits {
  /** Wall-clock seconds per cell (and for the kernel to start); past them the kernel is killed. */
  cellSeconds?: number;
  /**
   * Megabytes: V8's heap limit (--max-old-space-size) and, on Linux, a watchdog on the kernel's resident
   * size, which also counts the wasm backend's memory that V8's limit does not see.
   */
  memoryMb?: number;
}

export interface NotebookRun {
  file: string;
  /** Code cells executed. */
  executed: number;
  seconds: number;
  /** The cells that failed (at most one unless keepGoing). */
  failures: NotebookError[];
}

/** The child is this module's sibling; from sources (tests, tsx scripts) it needs tsx's loader too. */
function kernelCommand(compiled?: string): { script: string; execArgv: string[] } {
  if (compiled) return { script: compiled, execArgv: [] };
  const ext = path.extname(__filename);
  const script = path.join(__dirname, `kernel-child${ext}`);
  const execArgv = ext === '.ts' ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [];
  return { script, execArgv };
}

/** Readable text of an error output: the traceback when there is one (it starts with name and message). */
export function errorText(e: ErrorOutput): string {
  return e.traceback.length ? e.traceback.join('\n') : `${e.ename}: ${e.evalue}`;
}

/** A hint for the one failure every fresh checkout hits. */
function hint(detail: string): string {
  return detail.includes("'latent-geometry'") && /Cannot find module|Could not find a declaration/.test(detail)
    ? `${detail}\n(hint: build and link the package first: npm run build && node scripts/link-self.cjs)`
    : detail;
}

/** A cell stopped by a limit; its name is the error output's ename. */
export class KernelLimitError extends Error {
  constructor(name: 'TimeoutError' | 'MemoryError', message: string) {
    super(message);
    this.name = name;
  }
}

/** Messages from the child in order; a child that dies rejects the pending wait with its exit status. */
class KernelChannel {
  private queue: FromKernel[] = [];
  private waiting: { resolve: (m: FromKernel) => void; reject: (e: Error) => void } | null = null;
  private exited: Error | null = null;
  /** Why the kernel was killed on purpose, reported instead of its bare exit status. */
  private abortReason: Error | null = null;
  /** The end of the kernel's own output when it is piped (a crash's last words). */
  private tail = '';

  constructor(
    readonly child: ChildProcess,
    /** Killed as a process group (detached kernels), so whatever it started dies with it. */
    readonly group: boolean,
  ) {
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => (this.tail = (this.tail + chunk.toString('utf8')).slice(-4000)));
    child.on('message', (m: FromKernel) => {
      if (this.waiting) {
        this.waiting.resolve(m);
        this.waiting = null;
      } else this.queue.push(m);
    });
    child.on('exit', (code, signal) => {
      this.exited = this.abortReason ?? this.crashError(code, signal);
      this.waiting?.reject(this.exited);
      this.waiting = null;
    });
    child.on('error', (err) => {
      // A send to a kernel that just died: its exit (with the reason) follows.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
      this.exited = err;
      this.waiting?.reject(err);
      this.waiting = null;
    });
  }

  next(): Promise<FromKernel> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  send(msg: ToKernel): void {
    this.child.send(msg);
  }

  private crashError(code: number | null, signal: NodeJS.Signals | null): Error {
    const last = this.tail.trim().split('\n').slice(-6).join('\n');
    const outOfMemory = /heap out of memory|Allocation failed/.test(this.tail);
    const message = `the kernel process exited (${signal ?? `code ${code}`})${last ? `\n${last}` : ''}`;
    return outOfMemory ? new KernelLimitError('MemoryError', message) : new Error(message);
  }

  /** Kills the kernel; the pending and later waits reject with `reason`. */
  abort(reason: Error): void {
    this.abortReason ??= reason;
    this.kill();
  }

  kill(): void {
    const { pid } = this.child;
    if (this.child.exitCode !== null || this.child.signalCode !== null || pid === undefined) return;
    try {
      if (this.group) process.kill(-pid, 'SIGKILL');
      else this.child.kill('SIGKILL');
    } catch {
      this.child.kill('SIGKILL'); // the group is gone already
    }
  }

  /** Sends unless the channel is already closed; false when it is. */
  trySend(msg: ToKernel): boolean {
    if (!this.child.connected) return false;
    this.child.send(msg);
    return true;
  }
}

function startKernel(cwd: string, opts: RunNotebookOptions): KernelChannel {
  const { script, execArgv } = kernelCommand(opts.kernelScript);
  const memory = opts.limits?.memoryMb;
  const limited = opts.limits !== undefined;
  const child = fork(script, [], {
    cwd,
    execArgv: [...execArgv, ...(memory ? [`--max-old-space-size=${Math.round(memory)}`] : []), ...(opts.nodeArgs ?? [])],
    // A limited kernel leads its own process group (killed whole) and its output is kept for crash reports.
    detached: limited,
    stdio: limited ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...(opts.isolateEnv ? {} : process.env),
      // Progress bars draw as notebook lines; saved notebooks keep PNGs only (the gallery has the charts).
      LSO_IN_NOTEBOOK: '1',
      LSO_INTERACTIVE: process.env.LSO_INTERACTIVE ?? '0',
      ...opts.env,
      [ENV_ECHO]: opts.echo ? '1' : '0',
      [ENV_RUNNER]: '1',
    },
  });
  const kernel = new KernelChannel(child, limited);
  if (limited) trackDetached(kernel);
  if (limited && opts.echo) {
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
  }
  return kernel;
}

/**
 * Detached kernels do not get the terminal's Ctrl-C and a hung one would outlive us: they are killed when
 * this process exits (a CLI turns SIGINT into process.exit for that).
 */
const detachedKernels = new Set<KernelChannel>();
let exitHook = false;

function trackDetached(kernel: KernelChannel): void {
  if (!exitHook) process.once('exit', () => detachedKernels.forEach((k) => k.kill()));
  exitHook = true;
  detachedKernels.add(kernel);
  kernel.child.once('exit', () => detachedKernels.delete(kernel));
}

/** Resident memory of a process in MB from /proc (Linux), or null where there is none. */
function residentMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Enforces KernelLimits on a running kernel: a per-cell timer and a memory poll. */
class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private readonly poll: NodeJS.Timeout | null = null;

  constructor(
    private readonly kernel: KernelChannel,
    private readonly limits: KernelLimits,
  ) {
    const { memoryMb } = limits;
    const pid = kernel.child.pid;
    if (memoryMb && pid !== undefined) {
      this.poll = setInterval(() => {
        const rss = residentMb(pid);
        if (rss !== null && rss > memoryMb) {
          kernel.abort(new KernelLimitError('MemoryError', `the kernel used ${Math.round(rss)} MB, more than the limit of ${memoryMb} MB, and was stopped`));
        }
      }, 200);
      this.poll.unref();
    }
  }

  /** Starts the clock for one cell (or for the start-up, `what`). */
  arm(what: string): void {
    this.disarm();
    const seconds = this.limits.cellSeconds;
    if (!seconds) return;
    this.timer = setTimeout(
      () => this.kernel.abort(new KernelLimitError('TimeoutError', `${what} ran longer than the limit of ${seconds} s and was stopped`)),
      seconds * 1000,
    );
    this.timer.unref();
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  stop(): void {
    this.disarm();
    if (this.poll) clearInterval(this.poll);
  }
}

async function stopKernel(k: KernelChannel, graceful: boolean): Promise<void> {
  const { child } = k;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (!(graceful && k.trySend({ kind: 'exit' }))) k.kill();
  const timer = setTimeout(() => k.kill(), 5000);
  await exited;
  clearTimeout(timer);
}

function clearOutputs(cell: Cell): void {
  if (cell.cell_type !== 'code') return;
  cell.outputs = [];
  cell.execution_count = null;
}

/** Every text of every output through `f` (streams, text mime types, error messages and tracebacks). */
export function rewriteOutputs(nb: NotebookJson, f: (text: string) => string): void {
  for (const cell of nb.cells) {
    if (!cell.outputs) continue;
    cell.outputs = cell.outputs.map((o): Output => {
      switch (o.output_type) {
        case 'stream':
          return { ...o, text: f(joinText(o.text)) };
        case 'error':
          return { ...o, evalue: f(o.evalue), traceback: o.traceback.map(f) };
        default:
          return { ...o, data: Object.fromEntries(Object.entries(o.data).map(([mime, v]) => [mime, mime.startsWith('text/') ? f(joinText(v)) : v])) };
      }
    });
  }
}

/**
 * Executes every code cell of `file` in order and writes the executed notebook (atomically) to
 * `opts.outFile`, by default back into `file`; see `failedOutFile` for a run that failed.
 */
export async function runNotebook(file: string, opts: RunNotebookOptions = {}): Promise<NotebookRun> {
  const abs = path.resolve(file);
  const nb = readNotebook(abs);
  const started = Date.now();
  const codeCells = nb.cells.filter((c) => c.cell_type === 'code' && cellSource(c).trim() !== '').length;
  const kernel = startKernel(opts.cwd ?? path.dirname(abs), opts);
  const watchdog = new Watchdog(kernel, opts.limits ?? {});
  let count = 0;
  const failures: NotebookError[] = [];
  let alive = true;
  try {
    watchdog.arm('the kernel start-up');
    const ready = await kernel.next();
    if (ready.kind !== 'ready') throw new Error(`unexpected first message from the kernel: ${ready.kind}`);
    nb.cells.forEach(clearOutputs);
    ensureCellIds(nb);
    for (const [index, cell] of nb.cells.entries()) {
      const source = cellSource(cell);
      if (cell.cell_type !== 'code' || source.trim() === '') continue;
      count += 1;
      opts.onCell?.({ index, count, total: codeCells });
      watchdog.arm('the cell');
      kernel.send({ kind: 'execute', code: source, count });
      let outputs: Output[];
      let ok: boolean;
      try {
        const done = await kernel.next();
        if (done.kind !== 'done') throw new Error(`unexpected message from the kernel: ${done.kind}`);
        ({ outputs, ok } = done);
      } catch (err) {
        const e = err as Error;
        outputs = [{ output_type: 'error', ename: e.name, evalue: e.message, traceback: [] }];
        ok = false;
        alive = false;
      }
      watchdog.disarm();
      cell.outputs = coalesceStreams(outputs);
      cell.execution_count = count;
      if (!ok) {
        const errOut = outputs.find((o): o is ErrorOutput => o.output_type === 'error');
        failures.push(new NotebookError(file, index, source, hint(errOut ? errorText(errOut) : 'unknown error')));
        if (!opts.keepGoing || !alive) break;
      }
    }
  } finally {
    watchdog.stop();
    await stopKernel(kernel, alive && failures.length === 0);
    const finished = failures.length === 0 && count === codeCells;
    const out = finished ? (opts.outFile ?? abs) : opts.failedOutFile === undefined ? (opts.outFile ?? abs) : opts.failedOutFile;
    if (out !== null) {
      if (opts.rewriteText) rewriteOutputs(nb, opts.rewriteText);
      writeNotebook(out, nb);
    }
  }
  if (failures.length && !opts.keepGoing) throw failures[0];
  return { file, executed: count, seconds: (Date.now() - started) / 1000, failures };
}
