/**
 * Runs a notebook headless, without Python or Jupyter: its code cells go, in order, to a child process
 * that executes them with tslab's executor (kernel-child.ts), and the outputs are written back into the
 * .ipynb as Jupyter would (streams, display data, results, errors, execution counts).
 *
 * The first failing cell stops the run: the notebook is still written (with the error in that cell and
 * later cells cleared, so no stale output suggests they ran) and a NotebookError names the cell.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cellSource, coalesceStreams, ensureCellIds, readNotebook, writeNotebook, type Cell, type ErrorOutput, type Output } from './ipynb';
import { ENV_ECHO, type FromKernel, type ToKernel } from './protocol';

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
}

export interface NotebookRun {
  file: string;
  /** Code cells executed. */
  executed: number;
  seconds: number;
}

/** The child is this module's sibling; from sources (tests, tsx scripts) it needs tsx's loader too. */
function kernelCommand(): { script: string; execArgv: string[] } {
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

/** Messages from the child in order; a child that dies rejects the pending wait with its exit status. */
class KernelChannel {
  private queue: FromKernel[] = [];
  private waiting: { resolve: (m: FromKernel) => void; reject: (e: Error) => void } | null = null;
  private exited: Error | null = null;

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromKernel) => {
      if (this.waiting) {
        this.waiting.resolve(m);
        this.waiting = null;
      } else this.queue.push(m);
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`the kernel process exited (${signal ?? `code ${code}`})`);
      this.waiting?.reject(this.exited);
      this.waiting = null;
    });
    child.on('error', (err) => {
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

  /** Sends unless the channel is already closed; false when it is. */
  trySend(msg: ToKernel): boolean {
    if (!this.child.connected) return false;
    this.child.send(msg);
    return true;
  }
}

function startKernel(cwd: string, opts: RunNotebookOptions): KernelChannel {
  const { script, execArgv } = kernelCommand();
  const child = fork(script, [], {
    cwd,
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      // Progress bars draw as notebook lines; saved notebooks keep PNGs only (the gallery has the charts).
      LSO_IN_NOTEBOOK: '1',
      LSO_INTERACTIVE: process.env.LSO_INTERACTIVE ?? '0',
      ...opts.env,
      [ENV_ECHO]: opts.echo ? '1' : '0',
    },
  });
  return new KernelChannel(child);
}

async function stopKernel(k: KernelChannel, graceful: boolean): Promise<void> {
  const { child } = k;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (!(graceful && k.trySend({ kind: 'exit' }))) child.kill('SIGKILL');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function clearOutputs(cell: Cell): void {
  if (cell.cell_type !== 'code') return;
  cell.outputs = [];
  cell.execution_count = null;
}

/** Executes every code cell of `file` in order and writes the outputs back into it (atomically). */
export async function runNotebook(file: string, opts: RunNotebookOptions = {}): Promise<NotebookRun> {
  const abs = path.resolve(file);
  const nb = readNotebook(abs);
  const started = Date.now();
  const codeCells = nb.cells.filter((c) => c.cell_type === 'code' && cellSource(c).trim() !== '').length;
  const kernel = startKernel(path.dirname(abs), opts);
  let count = 0;
  let failure: NotebookError | null = null;
  try {
    const ready = await kernel.next();
    if (ready.kind !== 'ready') throw new Error(`unexpected first message from the kernel: ${ready.kind}`);
    nb.cells.forEach(clearOutputs);
    ensureCellIds(nb);
    for (const [index, cell] of nb.cells.entries()) {
      const source = cellSource(cell);
      if (cell.cell_type !== 'code' || source.trim() === '') continue;
      count += 1;
      opts.onCell?.({ index, count, total: codeCells });
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
      }
      cell.outputs = coalesceStreams(outputs);
      cell.execution_count = count;
      if (!ok) {
        const errOut = outputs.find((o): o is ErrorOutput => o.output_type === 'error');
        failure = new NotebookError(file, index, source, hint(errOut ? errorText(errOut) : 'unknown error'));
        break;
      }
    }
  } finally {
    await stopKernel(kernel, failure === null);
    writeNotebook(abs, nb);
  }
  if (failure) throw failure;
  return { file, executed: count, seconds: (Date.now() - started) / 1000 };
}
