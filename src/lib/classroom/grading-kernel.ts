/**
 * The two kernels of a graded submission (see execute.ts), one script with a role set by the grader:
 *
 * - `student`: the submission's cells, in the sandbox. It talks to the grader over a pipe on fd 3 (one
 *   JSON message a line; the grader caps their size) and answers `call` messages: run one of the
 *   student's functions on the arguments sent, and return the result as data (transfer.ts), with the
 *   number of tensors the call left allocated. It never sees a check cell.
 * - `checker`: the teacher's check cells, in a process of the grader's, with the student's functions
 *   replaced by proxies (interface.ts) that call `__lsoStudent.call(name, args)`: a synchronous request
 *   written to fd 4 and a blocking read of the answer, which the grader relays to and from the student's
 *   kernel. The checks and their helpers run here, in a realm the student's code never reaches.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import type * as tfTypes from '@tensorflow/tfjs';
import { runKernel, type Executor, type KernelTransport } from '../notebook/kernel-child';
import { libraryCodecs } from './library-codecs';
import { TransferError, decodeValue, disposables, encodeValue } from './transfer';

import { CALL_FD, ROLE_ENV, STUDENT_FD, type CallReply, type CallRequest } from './grading-protocol';

const tf = (): typeof tfTypes => require('@tensorflow/tfjs') as typeof tfTypes;

// ------------------------------------------------------------------------------------------------------
// Student side

function lineTransport(fd: number): KernelTransport {
  const socket = new net.Socket({ fd, readable: true, writable: true });
  let buffer = '';
  const handlers: ((msg: unknown) => void)[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) for (const h of handlers) h(JSON.parse(line));
    }
  });
  // The grader is gone: nothing left to do.
  socket.on('close', () => process.exit(0));
  socket.on('error', () => process.exit(0));
  return {
    send: (msg) => socket.write(`${JSON.stringify(msg)}\n`),
    onMessage: (h) => handlers.push(h),
  };
}

function errorInfo(err: unknown): { name: string; message: string } {
  const e = err as { name?: unknown; message?: unknown };
  const name = typeof e?.name === 'string' && /^[A-Za-z_$][\w$]{0,60}$/.test(e.name) ? e.name : 'Error';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return { name, message: message.length > 4000 ? `${message.slice(0, 4000)} ...` : message };
}

/** Runs the student's function `name` on decoded arguments; the result is encoded, everything disposed. */
async function studentCall(executor: Executor, req: CallRequest): Promise<CallReply> {
  const t = tf();
  const before = t.memory().numTensors;
  let args: unknown[] = [];
  let result: unknown;
  let reply: CallReply;
  try {
    const target = (executor.locals as Record<string, unknown>)[req.name];
    if (req.args === null) {
      if (target === undefined) throw new ReferenceError(`${req.name} is not defined (the notebook must define it)`);
      reply = { id: req.id, ok: true, value: encodeValue(target, req.name) };
    } else {
      if (typeof target !== 'function') throw new TypeError(target === undefined ? `${req.name} is not defined (keep the function's name and signature)` : `${req.name} is not a function`);
      args = decodeValue(req.args, `the arguments of ${req.name}`, t, libraryCodecs) as unknown[];
      result = await (target as (...a: unknown[]) => unknown)(...args);
      reply = { id: req.id, ok: true, value: encodeValue(result, `the value returned by ${req.name}`) };
    }
  } catch (err) {
    reply = { id: req.id, ok: false, error: errorInfo(err) };
  }
  for (const d of [...disposables(args), ...disposables(result)]) {
    try {
      d.dispose();
    } catch {
      // disposed already
    }
  }
  // What the call left allocated; the checker counts as many where expectNoTensorLeak can see them.
  return { ...reply, leaked: t.memory().numTensors - before };
}

function startStudent(): void {
  const transport = lineTransport(STUDENT_FD);
  runKernel({
    transport,
    onOther: (msg, executor, send) => {
      if (msg.kind !== 'call') return;
      void studentCall(executor, msg as unknown as CallRequest).then((reply) => send({ kind: 'result', ...reply }));
    },
  });
}

// ------------------------------------------------------------------------------------------------------
// Checker side

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
}

let pending = Buffer.alloc(0);

function readLine(fd: number): string {
  const chunk = Buffer.alloc(1 << 16);
  for (;;) {
    const nl = pending.indexOf(10);
    if (nl >= 0) {
      const line = pending.subarray(0, nl).toString('utf8');
      pending = pending.subarray(nl + 1);
      return line;
    }
    let n: number;
    try {
      n = fs.readSync(fd, chunk, 0, chunk.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
    if (n === 0) throw new Error("the grader closed the channel to the student's kernel");
    pending = Buffer.concat([pending, chunk.subarray(0, n)]);
  }
}

/** Tensors standing for those the student's calls left allocated (never freed, as the student's). */
const leakedStandIns: tfTypes.Tensor[] = [];
let nextId = 1;

/** A synchronous call of the student's function `name` (args null: the value of a variable). */
export function callStudent(name: string, args: unknown[] | null): unknown {
  const t = tf();
  const encoded = args === null ? null : (encodeValue(args, `the arguments of ${name}`, libraryCodecs) as unknown[]);
  const req: CallRequest = { id: nextId++, name, args: encoded };
  writeAll(CALL_FD, `${JSON.stringify(req)}\n`);
  const reply = JSON.parse(readLine(CALL_FD)) as CallReply;
  if (reply.id !== req.id) throw new Error(`grader error: reply ${reply.id} to call ${req.id}`);
  for (let i = 0; i < (reply.leaked ?? 0); i++) leakedStandIns.push(t.keep(t.scalar(0)));
  if (!reply.ok) {
    const err = new Error(reply.error?.message ?? 'the call failed');
    err.name = reply.error?.name ?? 'Error';
    err.stack = `${err.name}: ${err.message}`; // the student's frames stay in the student's process
    throw err;
  }
  try {
    return decodeValue(reply.value, `the value returned by ${name}`, t);
  } catch (err) {
    if (err instanceof TransferError) throw err;
    throw new TransferError(`the value returned by ${name}: ${(err as Error).message}`);
  }
}

function startChecker(): void {
  Object.defineProperty(globalThis, '__lsoStudent', { value: Object.freeze({ call: callStudent }), enumerable: false });
  // The grader is gone (killed): nothing left to check for.
  process.on('disconnect', () => process.exit(0));
  runKernel();
}

const role = process.env[ROLE_ENV];
if (role === 'student') startStudent();
else if (role === 'checker') startChecker();
