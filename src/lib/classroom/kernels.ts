/**
 * The grader's side of the two kernels of a graded submission (grading-kernel.ts): the student's kernel,
 * untrusted (isolated per isolation.ts, its messages size-capped and checked, its time and memory watched
 * from here), and the checker, the teacher's (forked with Node's IPC channel plus a pipe for the
 * synchronous calls of the student's functions, which this side relays).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Output } from '../notebook/ipynb';
import { CALL_FD, ROLE_ENV, type CallReply, type CallRequest } from './grading-protocol';
import { groupPids, residentMb, type IsolationPlan } from './isolation';

/** Why a kernel was stopped; its name becomes the error output's ename. */
export class KernelStop extends Error {
  constructor(name: 'TimeoutError' | 'MemoryError' | 'OutputError' | 'KernelError', message: string) {
    super(message);
    this.name = name;
  }
}

export interface CellDone {
  ok: boolean;
  outputs: Output[];
}

/** Kills a detached process' whole group. */
function killGroup(child: ChildProcess): void {
  const { pid } = child;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Kernels alive in this process: killed when it exits (a CLI turns SIGINT and SIGTERM into exit). */
const alive = new Set<ChildProcess>();
let hooked = false;
function track(child: ChildProcess): void {
  if (!hooked) process.once('exit', () => alive.forEach(killGroup));
  hooked = true;
  alive.add(child);
  child.once('exit', () => alive.delete(child));
}

/** Splits a byte stream into lines, refusing any line longer than `maxBytes`. */
class LineReader {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(
    stream: Readable,
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: (bytes: number) => void,
  ) {
    stream.on('data', (chunk: Buffer) => this.push(chunk));
  }

  private push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      this.size += end - start;
      if (this.size > this.maxBytes) {
        this.parts = [];
        this.onOverflow(this.size);
        return;
      }
      this.parts.push(chunk.subarray(start, end));
      if (nl < 0) return;
      const line = Buffer.concat(this.parts).toString('utf8');
      this.parts = [];
      this.size = 0;
      this.onLine(line);
      start = nl + 1;
    }
  }
}

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

export interface StudentKernelOptions {
  plan: IsolationPlan;
  /** The uid to run as (root plan). */
  uid?: number;
  script: string;
  nodeArgs: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  memoryMb: number;
  /** The longest message the kernel may send (a cell's capped output, a call's result). */
  maxMessageBytes: number;
  echo?: boolean;
}

/** The untrusted kernel: every message it sends is checked before use; anything odd is noted or fatal. */
export class StudentKernel {
  readonly child: ChildProcess;
  private stop: Error | null = null;
  private readyWaiter: Waiter<void> | null = null;
  private cellWaiter: (Waiter<CellDone> & { count: number }) | null = null;
  private callWaiter: (Waiter<CallReply> & { id: number }) | null = null;
  private ready = false;
  private tail = '';
  private readonly poll: NodeJS.Timeout;
  /** Messages that matched nothing the grader asked for (a kernel talking on its own channel). */
  readonly strayMessages: string[] = [];

  constructor(opts: StudentKernelOptions) {
    const node = [process.execPath, `--max-old-space-size=${Math.round(opts.memoryMb)}`, ...opts.nodeArgs, opts.script];
    const [cmd, ...args] = [...opts.plan.prefix(opts.uid), ...node];
    this.child = spawn(cmd, args, { cwd: opts.cwd, env: { ...opts.env, [ROLE_ENV]: 'student' }, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    track(this.child);
    for (const s of [this.child.stdout, this.child.stderr]) {
      s?.on('data', (chunk: Buffer) => {
        this.tail = (this.tail + chunk.toString('utf8')).slice(-4000);
        if (opts.echo) process.stderr.write(chunk);
      });
    }
    const channel = this.child.stdio[3] as Readable & Writable;
    channel.on('error', () => undefined); // EPIPE after a kill: the exit handler reports
    new LineReader(
      channel,
      opts.maxMessageBytes,
      (line) => this.onLine(line),
      (bytes) => this.abort(new KernelStop('OutputError', `the notebook's kernel sent more than ${mb(opts.maxMessageBytes)} in one message (${mb(bytes)} so far) and was stopped`)),
    );
    this.child.on('exit', (code, signal) => this.fail(this.stop ?? new KernelStop('KernelError', `the kernel process exited (${signal ?? `code ${code}`})${this.lastWords()}`)));
    this.child.on('error', (err) => this.fail(new KernelStop('KernelError', `the kernel could not start: ${err.message}`)));
    // The group's members are listed from /proc every 2 s (a scan of every process), their memory read every 250 ms.
    let pids: number[] = [];
    let ticks = 0;
    this.poll = setInterval(() => {
      const pid = this.child.pid;
      if (pid === undefined) return;
      if (ticks++ % 8 === 0) pids = groupPids(pid) ?? [pid];
      const rss = residentMb(pids.length ? pids : [pid]);
      if (rss > opts.memoryMb) this.abort(new KernelStop('MemoryError', `the kernel used ${Math.round(rss)} MB, more than the limit of ${opts.memoryMb} MB, and was stopped`));
    }, 250);
    this.poll.unref();
  }

  private lastWords(): string {
    const last = this.tail.trim().split('\n').slice(-6).join('\n');
    return last ? `\n${last}` : '';
  }

  private send(msg: unknown): void {
    const channel = this.child.stdio[3] as Writable;
    if (!this.stop && channel.writable) channel.write(`${JSON.stringify(msg)}\n`);
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
      if (typeof msg !== 'object' || msg === null) throw new Error('not an object');
    } catch {
      this.stray(line);
      return;
    }
    if (msg.kind === 'ready' && !this.ready) {
      this.ready = true;
      this.readyWaiter?.resolve();
      this.readyWaiter = null;
    } else if (msg.kind === 'done' && this.cellWaiter && msg.count === this.cellWaiter.count && !this.callWaiter) {
      const w = this.cellWaiter;
      this.cellWaiter = null;
      w.resolve({ ok: msg.ok === true, outputs: sanitizeOutputs(msg.outputs) });
    } else if (msg.kind === 'result' && this.callWaiter && msg.id === this.callWaiter.id) {
      const w = this.callWaiter;
      this.callWaiter = null;
      w.resolve(sanitizeReply(msg, w.id));
    } else this.stray(line);
  }

  private stray(line: string): void {
    if (this.strayMessages.length < 20) this.strayMessages.push(line.length > 200 ? `${line.slice(0, 200)} ...` : line);
  }

  private fail(err: Error): void {
    if (!this.stop) this.stop = err;
    clearInterval(this.poll);
    for (const w of [this.readyWaiter, this.cellWaiter, this.callWaiter]) w?.reject(this.stop);
    this.readyWaiter = this.cellWaiter = this.callWaiter = null;
  }

  /** Stops the kernel for `reason` (a limit): the pending and later requests fail with it. */
  abort(reason: Error): void {
    if (!this.stop) this.stop = reason;
    killGroup(this.child);
    this.fail(reason);
  }

  get stopped(): Error | null {
    return this.stop;
  }

  waitReady(): Promise<void> {
    if (this.stop) return Promise.reject(this.stop);
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => (this.readyWaiter = { resolve, reject }));
  }

  execute(code: string, count: number): Promise<CellDone> {
    if (this.stop) return Promise.reject(this.stop);
    const p = new Promise<CellDone>((resolve, reject) => (this.cellWaiter = { resolve, reject, count }));
    this.send({ kind: 'execute', code, count });
    return p;
  }

  call(req: CallRequest): Promise<CallReply> {
    if (this.stop) return Promise.reject(this.stop);
    const p = new Promise<CallReply>((resolve, reject) => (this.callWaiter = { resolve, reject, id: req.id }));
    this.send({ kind: 'call', ...req });
    return p;
  }

  /** Whether a call is waiting for the student's answer. */
  get calling(): boolean {
    return this.callWaiter !== null;
  }

  dispose(): void {
    clearInterval(this.poll);
    killGroup(this.child);
  }
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 1 << 20 ? 2 : 0)} MB`;
}

const OUTPUT_TYPES = new Set(['stream', 'display_data', 'execute_result', 'error']);

/** Outputs as the student's kernel sent them, reduced to well-formed Jupyter outputs of strings. */
export function sanitizeOutputs(raw: unknown): Output[] {
  if (!Array.isArray(raw)) return [];
  const str = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join('') : '');
  const out: Output[] = [];
  for (const o of raw as Record<string, unknown>[]) {
    if (typeof o !== 'object' || o === null || !OUTPUT_TYPES.has(o.output_type as string)) continue;
    if (o.output_type === 'stream') out.push({ output_type: 'stream', name: o.name === 'stderr' ? 'stderr' : 'stdout', text: str(o.text) });
    else if (o.output_type === 'error') {
      out.push({ output_type: 'error', ename: str(o.ename).slice(0, 200) || 'Error', evalue: str(o.evalue), traceback: Array.isArray(o.traceback) ? o.traceback.filter((t): t is string => typeof t === 'string') : [] });
    } else {
      const data: Record<string, string> = {};
      if (typeof o.data === 'object' && o.data !== null) for (const [k, v] of Object.entries(o.data)) if (typeof v === 'string' || Array.isArray(v)) data[k] = str(v);
      if (o.output_type === 'execute_result') out.push({ output_type: 'execute_result', data, metadata: {}, execution_count: null });
      else out.push({ output_type: 'display_data', data, metadata: {} });
    }
  }
  return out;
}

/** A call's reply as the grader passes it on: fields checked, the error capped. */
function sanitizeReply(msg: Record<string, unknown>, id: number): CallReply {
  const leaked = Number.isInteger(msg.leaked) ? Math.max(0, Math.min(1e6, msg.leaked as number)) : 0;
  if (msg.ok === true) return { id, ok: true, value: msg.value, leaked };
  const e = (typeof msg.error === 'object' && msg.error !== null ? msg.error : {}) as Record<string, unknown>;
  const name = typeof e.name === 'string' && /^[A-Za-z_$][\w$]{0,60}$/.test(e.name) ? e.name : 'Error';
  const message = typeof e.message === 'string' ? (e.message.length > 4000 ? `${e.message.slice(0, 4000)} ...` : e.message) : 'the call failed';
  return { id, ok: false, error: { name, message }, leaked };
}

export interface CheckerOptions {
  script: string;
  execArgv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Answers a call of the student's code (relayed to the student's kernel). */
  onCall: (req: CallRequest) => Promise<CallReply>;
  maxCallBytes: number;
  echo?: boolean;
}

/** The teacher's kernel: check cells and the teacher's read-only cells, with proxies to the student's. */
export class CheckerKernel {
  readonly child: ChildProcess;
  private queue: Record<string, unknown>[] = [];
  private waiter: Waiter<Record<string, unknown>> | null = null;
  private exited: Error | null = null;
  private stop: Error | null = null;
  private tail = '';

  constructor(opts: CheckerOptions) {
    this.child = fork(opts.script, [], { execArgv: opts.execArgv, cwd: opts.cwd, env: { ...opts.env, [ROLE_ENV]: 'checker' }, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'] });
    track(this.child);
    for (const s of [this.child.stdout, this.child.stderr]) {
      s?.on('data', (chunk: Buffer) => {
        this.tail = (this.tail + chunk.toString('utf8')).slice(-4000);
        if (opts.echo) process.stderr.write(chunk);
      });
    }
    this.child.on('message', (m: Record<string, unknown>) => {
      if (this.waiter) {
        this.waiter.resolve(m);
        this.waiter = null;
      } else this.queue.push(m);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = this.stop ?? new KernelStop('KernelError', `the checks' kernel exited (${signal ?? `code ${code}`})\n${this.tail.trim().split('\n').slice(-6).join('\n')}`);
      this.waiter?.reject(this.exited);
      this.waiter = null;
    });
    const calls = this.child.stdio[CALL_FD] as Readable & Writable;
    calls.on('error', () => undefined);
    new LineReader(
      calls,
      opts.maxCallBytes,
      (line) => {
        const req = JSON.parse(line) as CallRequest;
        void opts.onCall(req).then((reply) => {
          const text = JSON.stringify(reply);
          calls.write(`${text.length > opts.maxCallBytes ? JSON.stringify({ id: req.id, ok: false, error: { name: 'OutputError', message: `the value returned by ${req.name} is larger than the limit of ${mb(opts.maxCallBytes)}` } }) : text}\n`);
        });
      },
      () => this.abort(new KernelStop('KernelError', "a check passed more data to the student's code than the limit allows")),
    );
  }

  private next(): Promise<Record<string, unknown>> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  async waitReady(): Promise<void> {
    const m = await this.next();
    if (m.kind !== 'ready') throw new KernelStop('KernelError', `unexpected first message from the checks' kernel: ${String(m.kind)}`);
  }

  async execute(code: string, count: number): Promise<CellDone> {
    this.child.send({ kind: 'execute', code, count });
    const m = await this.next();
    if (m.kind !== 'done') throw new KernelStop('KernelError', `unexpected message from the checks' kernel: ${String(m.kind)}`);
    return { ok: m.ok === true, outputs: m.outputs as Output[] };
  }

  abort(reason: Error): void {
    if (!this.stop) this.stop = reason;
    killGroup(this.child);
  }

  dispose(): void {
    killGroup(this.child);
  }
}
