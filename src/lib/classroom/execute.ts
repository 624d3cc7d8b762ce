/**
 * Runs an assembled submission (grade.ts) in two kernels, so that no verdict is decided where the
 * student's code runs:
 *
 * - the student's kernel (sandboxed, isolated: sandbox.ts, isolation.ts) runs the student's cells and the
 *   teacher's read-only cells (the set-up the student's code needs);
 * - the checker, a kernel of the grader's, runs the teacher's read-only cells and the check cells, hidden
 *   tests included, with the student's functions replaced by proxies (interface.ts) that ask the student's
 *   kernel for values (transfer.ts). Check code, its helpers and its verdicts live in the checker only.
 *
 * Cells run in the submission's order, each in its kernel, so a check sees the student's state as it is at
 * that point of the notebook. Limits are the grader's: a wall-clock timer per cell, the memory of the
 * student's process group polled from here, output capped per cell (in the kernel) and per submission
 * (here), and a cap on every message the student's kernel sends.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cellSource, type Cell, type NotebookJson, type Output } from '../notebook/ipynb';
import { cellRole } from './nbgrader';
import { proxySource } from './interface';
import { prepareWorkspace, type IsolationPlan } from './isolation';
import { CheckerKernel, KernelStop, StudentKernel, type CellDone } from './kernels';
import { writableDir, type Sandbox } from './sandbox';
import type { CallReply } from './grading-protocol';

export interface RunLimits {
  /** Wall-clock seconds per cell (and for the kernels' start-up). */
  cellSeconds: number;
  /** Resident memory of the student's process group, MB. */
  memoryMb: number;
  /** Characters of output kept per cell. */
  cellOutputChars: number;
  /** Characters of output kept per submission (all cells). */
  submissionOutputChars: number;
  /** Bytes of a call's arguments or result. */
  callBytes: number;
}

export const DEFAULT_RUN_LIMITS: Omit<RunLimits, 'cellSeconds' | 'memoryMb'> = {
  cellOutputChars: 100_000,
  submissionOutputChars: 1_000_000,
  callBytes: 32 << 20,
};

/** Which side wrote a cell of the assembled notebook (only the teacher's run in the checker). */
export type CellOrigin = 'teacher' | 'student';

export interface ExecuteInput {
  notebook: NotebookJson;
  origins: CellOrigin[];
  teacher: NotebookJson;
  sandbox: Sandbox;
  plan: IsolationPlan;
  limits: RunLimits;
  /** The checkout whose built package the checker uses (dist/ and node_modules/). */
  packageRoot: string;
  echo?: boolean;
}

export interface ExecuteResult {
  /** The assembled notebook with outputs and execution counts (hidden tests included: teacher only). */
  executed: NotebookJson;
  /** Why the run stopped before the last cell, if it did. */
  stopped?: string;
  /** Messages the student's kernel sent unasked (ignored). */
  stray: string[];
  /** Characters of output not kept because of the submission's cap. */
  cutChars: number;
}

function timeout<T>(p: Promise<T>, seconds: number, onTimeout: () => void): Promise<T> {
  const timer = setTimeout(onTimeout, seconds * 1000);
  return p.finally(() => clearTimeout(timer));
}

function outputChars(outputs: Output[]): number {
  return outputs.reduce((s, o) => s + JSON.stringify(o).length, 0);
}

/** Keeps a submission's outputs under its cap: past it, errors only (shortened) and a note. */
class OutputBudget {
  used = 0;
  cut = 0;
  constructor(private readonly cap: number) {}

  keep(outputs: Output[]): Output[] {
    const size = outputChars(outputs);
    if (this.used + size <= this.cap) {
      this.used += size;
      return outputs;
    }
    this.cut += size;
    const errors = outputs
      .filter((o) => o.output_type === 'error')
      .map((o) => (o.output_type === 'error' ? { ...o, evalue: o.evalue.slice(0, 2000), traceback: [] } : o));
    return [{ output_type: 'stream', name: 'stderr', text: `[output not kept: the submission's outputs passed the limit of ${this.cap} characters]\n` }, ...errors];
  }
}

function errorOutputs(err: Error): Output[] {
  return [{ output_type: 'error', ename: err.name, evalue: err.message, traceback: [] }];
}

/** Runs every code cell of the assembled notebook in its kernel; see the module comment. */
export async function executeSubmission(input: ExecuteInput): Promise<ExecuteResult> {
  const { limits, sandbox, plan } = input;
  const cells: Cell[] = input.notebook.cells.map((c) => (c.cell_type === 'code' ? { ...c, outputs: [], execution_count: null } : { ...c }));
  const work = sandbox.workspace();
  const tmp = writableDir(work);
  const uid = plan.newUid?.();
  prepareWorkspace(uid, sandbox.dir, tmp);
  // The checker's own HOME: private to the grader's user.
  const privateHome = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-checker-'));
  const settings = { LSO_PROFILE: 'quick', LSO_QUIET: '1', LSO_THREADS: '1', LSO_IN_NOTEBOOK: '1', LSO_INTERACTIVE: '0', LSO_CELL_OUTPUT_BYTES: String(limits.cellOutputChars) };
  const student = new StudentKernel({
    plan,
    uid,
    script: sandbox.gradingKernelScript,
    nodeArgs: sandbox.nodeArgs(work),
    cwd: work,
    env: { ...sandbox.env(work), ...settings },
    memoryMb: limits.memoryMb,
    maxMessageBytes: Math.max(limits.callBytes, limits.cellOutputChars * 8 + (1 << 20)),
    echo: input.echo,
  });
  const checker = new CheckerKernel({
    script: path.join(input.packageRoot, 'dist', 'lib', 'classroom', 'grading-kernel.js'),
    // No file watching (sandbox-preload.ts): removing a package mirror fires change events on its links.
    execArgv: ['--require', path.join(input.packageRoot, 'dist', 'lib', 'classroom', 'sandbox-preload.js')],
    cwd: input.packageRoot,
    env: { HOME: privateHome, TMPDIR: privateHome, LSO_FIGURES_DIR: path.join(privateHome, 'figures'), ...settings, LSO_CELL_OUTPUT_BYTES: '', PATH: process.env.PATH ?? '' },
    maxCallBytes: limits.callBytes,
    echo: input.echo,
    onCall: (req) =>
      student.call(req).catch(
        (err: Error): CallReply => ({ id: req.id, ok: false, error: { name: err.name, message: err instanceof KernelStop ? err.message : `the student's kernel failed: ${err.message}` } }),
      ),
  });
  const budget = new OutputBudget(limits.submissionOutputChars);
  let stopped: string | undefined;
  try {
    await timeout(Promise.all([student.waitReady(), checker.waitReady()]), limits.cellSeconds, () => {
      student.abort(new KernelStop('TimeoutError', `the kernel start-up ran longer than the limit of ${limits.cellSeconds} s and was stopped`));
      checker.abort(new KernelStop('TimeoutError', `the checks' kernel start-up ran longer than the limit of ${limits.cellSeconds} s`));
    });
  } catch (err) {
    stopped = `the kernel did not start: ${(err as Error).message}`;
  }
  // Proxies of the teacher's solution cells, run in the checker before the first teacher cell after them.
  const solutionCells = input.teacher.cells.map((c, i) => ({ c, i })).filter(({ c }) => c.cell_type === 'code' && cellRole(c) === 'solution');
  const teacherIndex = new Map(input.teacher.cells.map((c, i) => [c, i]));
  const teacherIds = new Map(input.teacher.cells.map((c, i) => [(c.metadata?.nbgrader as { grade_id?: string } | undefined)?.grade_id, i]));
  let proxiesUpTo = -1;
  let count = 0;
  const inChecker = async (source: string, n: number): Promise<CellDone> => {
    const stopChecks = () => {
      const reason = new KernelStop('TimeoutError', `the cell ran longer than the limit of ${limits.cellSeconds} s and was stopped`);
      // The student's code is the one running when a call is pending; otherwise the check itself is slow.
      if (student.calling) student.abort(reason);
      else checker.abort(reason);
    };
    return timeout(checker.execute(source, n), limits.cellSeconds, stopChecks);
  };
  const runProxiesBefore = async (teacherAt: number) => {
    for (const { c, i } of solutionCells) {
      if (i <= proxiesUpTo || i >= teacherAt) continue;
      proxiesUpTo = i;
      const done = await inChecker(proxySource(cellSource(c)), 0);
      if (!done.ok) throw new KernelStop('KernelError', `the interface of the teacher's cell ${i + 1} did not compile in the checks' kernel: ${JSON.stringify(done.outputs).slice(0, 500)}`);
    }
  };
  for (const [i, cell] of cells.entries()) {
    if (stopped) break;
    const source = cellSource(cell);
    if (cell.cell_type !== 'code' || source.trim() === '') continue;
    count += 1;
    let done: CellDone;
    try {
      if (input.origins[i] === 'student') {
        done = await timeout(student.execute(source, count), limits.cellSeconds, () =>
          student.abort(new KernelStop('TimeoutError', `the cell ran longer than the limit of ${limits.cellSeconds} s and was stopped`)),
        );
      } else {
        const id = (cell.metadata?.nbgrader as { grade_id?: string } | undefined)?.grade_id;
        const at = teacherIds.get(id) ?? teacherIndex.get(cell) ?? input.teacher.cells.length;
        await runProxiesBefore(at);
        if (cellRole(cell) === 'locked') {
          const own = await timeout(student.execute(source, count), limits.cellSeconds, () =>
            student.abort(new KernelStop('TimeoutError', `the cell ran longer than the limit of ${limits.cellSeconds} s and was stopped`)),
          );
          const theirs = await inChecker(source, count);
          done = theirs.ok ? own : theirs;
        } else done = await inChecker(source, count);
      }
    } catch (err) {
      const e = err as Error;
      done = { ok: false, outputs: errorOutputs(e) };
      stopped = `${e.name}: ${e.message.split('\n')[0]}`;
    }
    if (!stopped && student.stopped) {
      const e = student.stopped;
      stopped = `${e.name}: ${e.message.split('\n')[0]}`;
    }
    // The checks' outputs are the teacher's (partial credit is read from them): never cut here.
    cell.outputs = input.origins[i] === 'student' || cellRole(cell) === 'locked' ? budget.keep(done.outputs) : done.outputs;
    cell.execution_count = count;
  }
  student.dispose();
  checker.dispose();
  // Both groups are killed; wait for the exits so the workspace can go.
  await Promise.all([student.child, checker.child].map((c) => (c.exitCode !== null || c.signalCode !== null || c.pid === undefined ? null : Promise.race([new Promise((r) => c.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]))));
  fs.rmSync(privateHome, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
  return { executed: { ...input.notebook, cells }, stopped, stray: student.strayMessages, cutChars: budget.cut };
}
