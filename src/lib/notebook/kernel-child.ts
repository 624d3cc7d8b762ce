/**
 * A headless tslab kernel: runs cells sent by the runner (runner.ts) with tslab's own executor, so code
 * behaves exactly as in Jupyter (same TypeScript transpiler and checks, top-level await, `import ... from
 * 'latent-geometry'` resolved from the notebook's folder, `require('tslab').display`), and answers with
 * Jupyter outputs. One process per notebook: a fresh runtime like a fresh kernel, and a crash or a leak
 * stays inside one notebook.
 *
 * Started by the runner with the notebook's folder as working directory and an IPC channel.
 */
import * as util from 'node:util';
import { createConverter, type Converter } from 'tslab/dist/converter';
import { createExecutor, type ConverterSet } from 'tslab/dist/executor';
import type { ErrorOutput, MimeBundle, Output } from './ipynb';
import { ENV_ECHO, type FromKernel, type ToKernel } from './protocol';

interface Capture {
  outputs: Output[];
  count: number;
  /** What the executor reported through console.error: diagnostics or the thrown value. */
  errors: unknown[][];
}

/** display_id -> output, so tslab's `newDisplay()` updates replace their output in place. */
const displays = new Map<string, { data: MimeBundle }>();
let current: Capture | null = null;

/**
 * Bytes of output kept per cell (LSO_CELL_OUTPUT_BYTES, set by the autograder; default unlimited): past
 * it, output is dropped and counted, and a note at the end of the cell says how much was cut.
 */
const outputCap = Number(process.env.LSO_CELL_OUTPUT_BYTES) > 0 ? Number(process.env.LSO_CELL_OUTPUT_BYTES) : Infinity;
let keptBytes = 0;
let cutBytes = 0;

/** Whether `bytes` more of output fit in the current cell's budget (counts what does not). */
function fits(bytes: number): boolean {
  if (keptBytes + bytes <= outputCap) {
    keptBytes += bytes;
    return true;
  }
  cutBytes += bytes;
  return false;
}

/** Cuts a string to `max` characters with a note. */
export function capText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n[... ${text.length - max} more characters cut]`;
}

const echo = process.env[ENV_ECHO] === '1';
const realWrite = {
  stdout: process.stdout.write.bind(process.stdout),
  stderr: process.stderr.write.bind(process.stderr),
};

function capture(name: 'stdout' | 'stderr', text: string): void {
  if (current && fits(text.length)) current.outputs.push({ output_type: 'stream', name, text });
  if (echo || !current) realWrite[name](text);
}

// Like tslab's kernel: everything the process prints during a cell belongs to that cell.
for (const name of ['stdout', 'stderr'] as const) {
  process[name].write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    capture(name, typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
}

interface DisplayData {
  data: MimeBundle;
  metadata?: Record<string, unknown>;
  transient?: { display_id?: string };
}

// tslab's public `display` writes through this hook; the real kernel sets it to a ZeroMQ publisher.
const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: ((d: DisplayData, update: boolean) => void) | null };
jupyter.lastWriteDisplayData = (d, update) => {
  const id = d.transient?.display_id;
  const existing = id ? displays.get(id) : undefined;
  if (update && existing) {
    existing.data = d.data;
    return;
  }
  const out: Output = { output_type: 'display_data', data: d.data, metadata: d.metadata ?? {} };
  if (current && !fits(JSON.stringify(d.data).length)) return;
  if (id) displays.set(id, out);
  current?.outputs.push(out);
};

process.on('uncaughtException', (err) => capture('stderr', `UncaughtException: ${util.inspect(err)}\n`));
process.on('unhandledRejection', (reason) => capture('stderr', `UnhandledPromiseRejection: ${util.inspect(reason)}\n`));

function converters(): ConverterSet {
  let node: Converter | null = null;
  let browser: Converter | null = null;
  return {
    get node() {
      return (node ??= createConverter({ isJS: false, isBrowser: false }));
    },
    get browser() {
      return (browser ??= createConverter({ isJS: false, isBrowser: true }));
    },
    close() {
      node?.close();
      browser?.close();
    },
  };
}

function isErrorLike(v: unknown): v is Error {
  return v instanceof Error || (typeof v === 'object' && v !== null && 'stack' in v && 'message' in v);
}

/** The executor reports a failure as console.error(thrown) or as TypeScript diagnostics lines. */
export function errorOutput(errors: unknown[][]): ErrorOutput {
  const thrown = errors.flat().find(isErrorLike);
  if (thrown) {
    const limit = Number.isFinite(outputCap) ? Math.max(2000, Math.min(outputCap, 20000)) : Infinity;
    return {
      output_type: 'error',
      ename: capText(String(thrown.name || 'Error'), 200),
      evalue: capText(String(thrown.message), limit),
      traceback: capText(String(thrown.stack ?? `${thrown.name}: ${thrown.message}`), limit).split('\n'),
    };
  }
  const lines = errors.map((args) => capText(util.format(...args), 4000)).slice(0, 50);
  if (lines.length === 0) return { output_type: 'error', ename: 'Error', evalue: 'the cell failed without a message', traceback: [] };
  return { output_type: 'error', ename: 'TypeScriptError', evalue: lines.join('\n'), traceback: lines };
}

/**
 * No file watching in the headless kernel. TypeScript watches the folders around every package.json that
 * module resolution looked for (the checkout, its parent, notebooks/); tslab's converter throws "Unexpected
 * pending rebuildTimer" when two changes land there during one cell (another process writing next to the
 * checkout is enough), and the wasm backend's uncaughtException handler turns that into a dead kernel. A
 * headless run executes a fixed notebook once, so the watchers serve nothing here. tslab's own converter
 * keeps its in-memory files apart from these (it overrides watchFile for them on its own copy of sys).
 */
function disableFileWatching(): void {
  const ts = require('@tslab/typescript-for-tslab') as { sys: { watchFile?: unknown; watchDirectory?: unknown } };
  const none = () => ({ close: () => undefined });
  ts.sys.watchFile = none;
  ts.sys.watchDirectory = none;
}

/** How the kernel talks to its runner: Node's IPC channel by default, a framed pipe for the autograder. */
export interface KernelTransport {
  send(msg: unknown): void;
  onMessage(handler: (msg: unknown) => void): void;
}

const ipcTransport: KernelTransport = {
  send: (msg) => process.send?.(msg),
  onMessage: (handler) => process.on('message', handler),
};

export type Executor = ReturnType<typeof createExecutor>;

export interface KernelOptions {
  transport?: KernelTransport;
  /** Messages other than execute and exit (the autograder's calls into the student's functions). */
  onOther?: (msg: { kind: string } & Record<string, unknown>, executor: Executor, send: (msg: unknown) => void) => void;
}

/** Starts the kernel: warms the compiler, answers `ready`, then runs cells as they come. */
export function runKernel(opts: KernelOptions = {}): Executor {
  const transport = opts.transport ?? ipcTransport;
  disableFileWatching();
  const convs = converters();
  convs.node; // Warm the TypeScript service before the first cell, as tslab's kernel does.
  const executor = createExecutor(process.cwd(), convs, {
    log: (...args: unknown[]) => {
      // Only the value of a cell's last expression comes here.
      const text = args.map((a) => (typeof a === 'string' ? a : util.inspect(a))).join(' ');
      if (current && fits(text.length)) current.outputs.push({ output_type: 'execute_result', data: { 'text/plain': text }, metadata: {}, execution_count: current.count });
    },
    error: (...args: unknown[]) => current?.errors.push(args),
  });
  const send = (msg: FromKernel) => transport.send(msg);

  async function execute(code: string, count: number): Promise<void> {
    const cap: Capture = { outputs: [], count, errors: [] };
    current = cap;
    keptBytes = 0;
    cutBytes = 0;
    let ok = false;
    try {
      ok = await executor.execute(code);
    } catch (err) {
      cap.errors.push([err]);
    }
    // Output written by callbacks that finish right after the cell (stream flushes) still belongs to it.
    await new Promise((resolve) => setImmediate(resolve));
    current = null;
    if (ok && cap.errors.length) {
      const text = cap.errors.map((a) => util.format(...a) + '\n').join('');
      if (fits(text.length)) cap.outputs.push({ output_type: 'stream', name: 'stderr', text });
    }
    if (cutBytes > 0) cap.outputs.push({ output_type: 'stream', name: 'stderr', text: `[output cut: ${cutBytes} more characters than the limit of ${outputCap} per cell were not kept]\n` });
    if (!ok) cap.outputs.push(errorOutput(cap.errors));
    send({ kind: 'done', ok, outputs: cap.outputs, count });
  }

  transport.onMessage((raw) => {
    const msg = raw as ToKernel | ({ kind: string } & Record<string, unknown>);
    if (msg.kind === 'execute') void execute((msg as { code: string }).code, (msg as { count: number }).count);
    else if (msg.kind === 'exit') {
      executor.close();
      // Exit at once: browsers, timers or sockets a notebook left open must not keep the run waiting.
      process.exit(0);
    } else opts.onOther?.(msg as { kind: string } & Record<string, unknown>, executor, (m) => transport.send(m));
  });

  send({ kind: 'ready' });
  return executor;
}

// Started by the runner (or by an autograding kernel, which sets its role and calls runKernel itself).
if (process.env.LSO_GRADING_ROLE === undefined) runKernel();
