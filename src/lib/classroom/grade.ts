/**
 * Autograding (nbgrader's autograde): each submission is assembled with the teacher's check and locked
 * cells (hidden tests included) put back in place of the student's, and run in two kernels (execute.ts):
 * the student's cells in a sandboxed, isolated kernel, the teacher's checks in a kernel of the grader's
 * that reaches the student's functions only through proxies asking for values. A check cell that ran
 * without an error earns its points (or the number its last expression evaluates to, nbgrader's partial
 * credit), one that failed or never ran earns zero. Nothing the student's code does can change what a
 * check concludes, other than what the student's functions return, and hidden tests never reach the
 * student's process.
 *
 * Submissions are untrusted: a cell that hangs or a kernel that exhausts its memory is stopped, scores
 * zero for what it did not finish, and the other submissions go on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cellSource, joinText, readNotebook, writeNotebook, type Cell, type NotebookJson, type Output } from '../notebook/ipynb';
import type { KernelLimits } from '../notebook/runner';
import { InputError } from '../util/errors';
import { DEFAULT_RUN_LIMITS, executeSubmission, type CellOrigin, type RunLimits } from './execute';
import { isolationPlan } from './isolation';
import { readSubmission } from './submission';
import { cellChecksum, cellRole, checkPoints, gradeIdIndex, gradingMeta, releaseDir, sourceNotebookPath, type CourseLayout } from './nbgrader';
import { DEFAULT_LIMITS, NOT_IMPLEMENTED, assignmentInfo, releaseNotebook } from './release';
import { ACCESS_DENIED, Sandbox, packageRoot } from './sandbox';

export type CheckStatus = 'passed' | 'failed' | 'not-run';

export interface CheckResult {
  gradeId: string;
  points: number;
  maxPoints: number;
  status: CheckStatus;
  /** The check cell has hidden tests. */
  hidden: boolean;
  /** The student's copy of this check cell differed from the released one (the teacher's version ran). */
  tampered: boolean;
  /** For a failed or unrun check: what went wrong, in words a student can act on. */
  error?: string;
}

/** A cell of the student's own (a solution cell or one they added) that failed. */
export interface StudentCellError {
  /** 1-based position in the graded notebook. */
  cell: number;
  gradeId?: string;
  error: string;
}

export interface SandboxViolation {
  cell: number;
  gradeId?: string;
  message: string;
}

export interface GradeReport {
  assignment: string;
  submission: string;
  points: number;
  maxPoints: number;
  checks: CheckResult[];
  cellErrors: StudentCellError[];
  kernel: {
    /** Every code cell ran (possibly with errors). */
    completed: boolean;
    /** Why the kernel stopped early (a timeout, the memory limit, a crash), if it did. */
    stopped?: string;
    seconds: number;
  };
  /** Check or locked cells the student edited (restored before running). */
  tampered: string[];
  /** Check or locked cells the student deleted (put back before running). */
  missing: string[];
  /** What the sandbox refused (writing outside the workspace, starting processes, ...). */
  violations: SandboxViolation[];
  /** Code patterns in the student's cells that a person should look at. */
  flags: { cell: number; reason: string }[];
  /** How the student's kernel was kept from the grader; `warning` when it was not (fully) isolated. */
  isolation?: { summary: string; warning?: string };
  /** Characters of output not kept (the per-submission cap); the per-cell cuts are noted in the cells. */
  outputCut?: number;
  /** Messages the student's kernel sent that the grader did not ask for (ignored). */
  strayMessages?: number;
}

// ------------------------------------------------------------------------------------------------------
// Assembling the notebook to run

export interface AssembledSubmission {
  notebook: NotebookJson;
  /** Per cell of `notebook`: the teacher's (restored, run in the checker) or the student's. */
  origins: CellOrigin[];
  tampered: string[];
  missing: string[];
}

function plainCopy(cell: Cell): Cell {
  const { nbgrader: _dropped, ...metadata } = cell.metadata;
  return { ...cell, metadata };
}

/**
 * The notebook to run: the student's cells in the student's order, with every check and locked cell
 * replaced by the teacher's version (a deleted one put back after the teacher's preceding graded cell),
 * and duplicates of graded cells demoted to plain cells (nbgrader's DeduplicateIds).
 */
export function assembleSubmission(teacher: NotebookJson, submission: NotebookJson, file = 'teacher notebook'): AssembledSubmission {
  const released = releaseNotebook(teacher, file);
  // A check cell as released or as the teacher wrote it (grading the teacher's own notebook) is untouched.
  const byId = new Map<string, { teacher: Cell; checksums: string[] }>();
  teacher.cells.forEach((cell, i) => {
    const role = cellRole(cell);
    if (role === 'check' || role === 'locked') byId.set(gradingMeta(cell)!.grade_id, { teacher: cell, checksums: [cellChecksum(released.cells[i]), cellChecksum(cell)] });
  });
  // The teacher's solution cells by grade_id: a student's cell keeps only the teacher's metadata for them.
  const solutions = new Map<string, Cell>();
  for (const cell of teacher.cells) if (cellRole(cell) === 'solution') solutions.set(gradingMeta(cell)!.grade_id, cell);
  const seen = new Set<string>();
  const tampered: string[] = [];
  const cells: Cell[] = [];
  const teacherCells = new Set<Cell>();
  const student = (cell: Cell) => cells.push(cell);
  for (const cell of submission.cells) {
    const id = gradingMeta(cell)?.grade_id;
    if (id === undefined) student(cell);
    else if (seen.has(id)) student(plainCopy(cell));
    else {
      seen.add(id);
      const restored = byId.get(id);
      const solution = solutions.get(id);
      if (restored) {
        if (!restored.checksums.includes(cellChecksum(cell))) tampered.push(id);
        const copy = structuredClone(restored.teacher);
        teacherCells.add(copy);
        cells.push(copy);
      } else if (solution && solution.cell_type === cell.cell_type) {
        // Roles come from the teacher: a student cannot turn their own cell into a check.
        student({ ...cell, metadata: { ...cell.metadata, nbgrader: structuredClone(solution.metadata.nbgrader) } });
      } else student(plainCopy(cell));
    }
  }
  const missing: string[] = [];
  let anchor = -1; // position in `cells` of the last teacher cell placed so far
  for (const cell of teacher.cells) {
    const id = gradingMeta(cell)?.grade_id;
    if (id === undefined) continue;
    const at = cells.findIndex((c) => gradingMeta(c)?.grade_id === id);
    if (at >= 0) anchor = at;
    else if (byId.has(id)) {
      missing.push(id);
      const copy = structuredClone(cell);
      teacherCells.add(copy);
      cells.splice(anchor + 1, 0, copy);
      anchor += 1;
    }
  }
  const origins = cells.map((c): CellOrigin => (teacherCells.has(c) ? 'teacher' : 'student'));
  return { notebook: { ...submission, cells }, origins, tampered, missing };
}

// ------------------------------------------------------------------------------------------------------
// Scoring an executed notebook

const ANSI = /\u001b\[[0-9;]*m/g;

/** An error output in words a student can act on: name and message, without the kernel's stack frames. */
export function actionableError(outputs: Output[]): string | undefined {
  const err = outputs.find((o) => o.output_type === 'error');
  if (!err || err.output_type !== 'error') return undefined;
  const text = `${err.ename}: ${err.evalue}`.replace(ANSI, '');
  return text.length > 2000 ? `${text.slice(0, 2000)} ...` : text;
}

/** nbgrader's partial credit: a check cell's last expression, when it is a number, is its score. */
function partialCredit(outputs: Output[], max: number): number | null {
  for (const o of outputs) {
    if (o.output_type !== 'execute_result') continue;
    const text = joinText(o.data['text/plain'] ?? '').trim();
    const v = text === '' ? NaN : Number(text);
    if (Number.isFinite(v)) return Math.min(max, Math.max(0, v));
  }
  return null;
}

function outputTexts(outputs: Output[]): string[] {
  return outputs.flatMap((o) => {
    if (o.output_type === 'stream') return [joinText(o.text)];
    if (o.output_type === 'error') return [`${o.ename}: ${o.evalue}`, ...o.traceback];
    return [];
  });
}

/** The sandbox's refusals found in a cell's outputs, one per cell and message. */
function violationsIn(outputs: Output[]): string[] {
  const lines = outputTexts(outputs)
    .flatMap((t) => t.split('\n'))
    .map((l) => l.replace(ANSI, '').trim())
    .filter((l) => ACCESS_DENIED.test(l) || /^resource: /.test(l));
  return [...new Set(lines)];
}

const SUSPICIOUS: [RegExp, string][] = [
  [/\bprocess\s*\.\s*(send|channel|disconnect)\b|process\s*\.\s*(on|once|addListener|prependListener)\(\s*['"]message/, 'talks to the grader over the kernel channel'],
  [/\bprocess\s*\.\s*(exit|abort|reallyExit|kill)\b/, 'ends or signals processes'],
  [/child_process|worker_threads|['"](node:)?vm['"]|['"](node:)?cluster['"]/, 'starts processes, threads or script contexts'],
  [/__tslab__|lastWriteDisplayData|tslab\/dist/, "reaches into the kernel's internals"],
  [/process\s*\.\s*(binding|_linkedBinding|dlopen)\b/, "uses Node's internal bindings"],
  [/['"](node:)?module['"]|_resolveFilename|\bModule\._|require\.cache/, "changes how modules are found or loaded"],
];

/** Flags for the student's own cells (restored cells are the teacher's and not scanned). */
export function suspiciousCode(nb: NotebookJson): { cell: number; reason: string }[] {
  const flags: { cell: number; reason: string }[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code' || cellRole(cell) === 'check' || cellRole(cell) === 'locked') return;
    const src = cellSource(cell);
    for (const [pattern, reason] of SUSPICIOUS) if (pattern.test(src)) flags.push({ cell: i + 1, reason });
  });
  return flags;
}

export interface ScoreInput {
  assignment: string;
  submission: string;
  teacher: NotebookJson;
  /** The assembled notebook after the run (with outputs). */
  executed: NotebookJson;
  assembled: AssembledSubmission;
  /** Why the kernel stopped early or failed to start, if it did. */
  stopped?: string;
  seconds: number;
}

/** The report of one executed submission. */
export function scoreSubmission(input: ScoreInput): GradeReport {
  const { teacher, executed, assembled } = input;
  const info = assignmentInfo(teacher, input.assignment);
  const hidden = new Map(info.checks.map((c) => [c.gradeId, c.hidden]));
  const executedIds = gradeIdIndex(executed, input.submission);
  const checks: CheckResult[] = [];
  teacher.cells.forEach((cell, i) => {
    if (cellRole(cell) !== 'check') return;
    const id = gradingMeta(cell)!.grade_id;
    const maxPoints = checkPoints(cell, `${input.assignment}: cell ${i + 1}`);
    const ran = executed.cells[executedIds.get(id)!];
    const base = { gradeId: id, maxPoints, hidden: hidden.get(id) ?? false, tampered: assembled.tampered.includes(id) };
    const outputs = ran.outputs ?? [];
    const error = actionableError(outputs);
    if (ran.execution_count === null || ran.execution_count === undefined) {
      const why = input.stopped ? `the kernel stopped earlier: ${input.stopped}` : 'the cell did not run';
      checks.push({ ...base, points: 0, status: 'not-run', error: `not run: ${why}` });
    } else if (error) checks.push({ ...base, points: 0, status: 'failed', error });
    else checks.push({ ...base, points: partialCredit(outputs, maxPoints) ?? maxPoints, status: 'passed' });
  });
  const cellErrors: StudentCellError[] = [];
  const violations: SandboxViolation[] = [];
  executed.cells.forEach((cell, i) => {
    const outputs = cell.outputs ?? [];
    const gradeId = gradingMeta(cell)?.grade_id;
    const role = cellRole(cell);
    const error = actionableError(outputs);
    if (error && role !== 'check') cellErrors.push({ cell: i + 1, ...(gradeId ? { gradeId } : {}), error });
    for (const message of violationsIn(outputs)) violations.push({ cell: i + 1, ...(gradeId ? { gradeId } : {}), message });
  });
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    assignment: input.assignment,
    submission: input.submission,
    points: round(checks.reduce((s, c) => s + c.points, 0)),
    maxPoints: info.totalPoints,
    checks,
    cellErrors,
    kernel: { completed: input.stopped === undefined, ...(input.stopped ? { stopped: input.stopped } : {}), seconds: round(input.seconds) },
    tampered: assembled.tampered,
    missing: assembled.missing,
    violations,
    flags: suspiciousCode(executed),
  };
}

// ------------------------------------------------------------------------------------------------------
// Running submissions

export interface GradeOptions {
  layout: CourseLayout;
  /** The assignment: source/<name>/<name>.ipynb is the teacher's notebook. */
  name: string;
  /** Per-cell seconds, kernel memory, output caps; default DEFAULT_LIMITS (what the students' README states). */
  limits?: KernelLimits & Partial<RunLimits>;
  /** The checkout whose built package the checks' kernel uses; default this module's. */
  packageRoot?: string;
  /** Submissions graded at once (each is one kernel process); default 2. */
  jobs?: number;
  /** Print the kernels' output while they run. */
  echo?: boolean;
  /** Where to copy each executed notebook (it contains the hidden tests: for the teacher only). */
  keepNotebooks?: string;
  /** Called when a submission is done (write its report then: a grader stopped later keeps it). */
  onReport?: (report: GradeReport, file: string) => void;
  /** A sandbox to reuse (its package mirror takes seconds to make and remove); default a fresh one. */
  sandbox?: Sandbox;
}

/** Runs `fn` over `items` with at most `jobs` at a time, results in input order. */
async function mapPool<T, R>(items: readonly T[], jobs: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return results;
}

/** The report of a submission that could not be run at all (unreadable file, grader error). */
function failedReport(name: string, submission: string, teacher: NotebookJson, problem: string): GradeReport {
  const info = assignmentInfo(teacher, name);
  return {
    assignment: name,
    submission,
    points: 0,
    maxPoints: info.totalPoints,
    checks: info.checks.map((c) => ({ gradeId: c.gradeId, points: 0, maxPoints: c.points, status: 'not-run', hidden: c.hidden, tampered: false, error: `not run: ${problem}` })),
    cellErrors: [],
    kernel: { completed: false, stopped: problem, seconds: 0 },
    tampered: [],
    missing: [],
    violations: [],
    flags: [],
  };
}

async function gradeOne(sandbox: Sandbox, teacher: NotebookJson, file: string, opts: GradeOptions): Promise<GradeReport> {
  const name = opts.name;
  const label = path.basename(file);
  const plan = isolationPlan();
  const isolation = { summary: plan.summary, ...(plan.warning ? { warning: plan.warning } : {}) };
  let submission: NotebookJson;
  try {
    submission = readSubmission(file);
  } catch (err) {
    return { ...failedReport(name, label, teacher, (err as Error).message), isolation };
  }
  const assembled = assembleSubmission(teacher, submission, name);
  const started = Date.now();
  // Nothing with the hidden tests is written to disk, unless the teacher asks for the executed notebooks.
  const run = await executeSubmission({
    notebook: assembled.notebook,
    origins: assembled.origins,
    teacher,
    sandbox,
    plan,
    limits: { ...DEFAULT_RUN_LIMITS, ...DEFAULT_LIMITS, ...opts.limits },
    packageRoot: opts.packageRoot ?? packageRoot(),
    echo: opts.echo,
  });
  if (opts.keepNotebooks) {
    fs.mkdirSync(opts.keepNotebooks, { recursive: true, mode: 0o700 });
    writeNotebook(path.join(opts.keepNotebooks, `${path.basename(file, '.ipynb')}.graded.ipynb`), run.executed);
  }
  const report = scoreSubmission({ assignment: name, submission: label, teacher, executed: run.executed, assembled, stopped: run.stopped, seconds: (Date.now() - started) / 1000 });
  return { ...report, isolation, outputCut: run.cutChars, strayMessages: run.stray.length };
}

/** Grades submissions of one assignment; one failing submission never stops the others. */
export async function gradeSubmissions(files: readonly string[], opts: GradeOptions): Promise<GradeReport[]> {
  const teacherFile = sourceNotebookPath(opts.layout, opts.name);
  if (!fs.existsSync(teacherFile)) throw new InputError(teacherFile, `no teacher notebook for assignment "${opts.name}"`);
  const teacher = readNotebook(teacherFile);
  releaseNotebook(teacher, teacherFile); // the teacher's own errors first, once
  const sandbox = opts.sandbox ?? Sandbox.create();
  try {
    return await mapPool(files, opts.jobs ?? 2, async (file) => {
      const report = await gradeOne(sandbox, teacher, file, opts).catch((err: Error) => failedReport(opts.name, path.basename(file), teacher, `grader error: ${err.message}`));
      opts.onReport?.(report, file);
      return report;
    });
  } finally {
    if (!opts.sandbox) sandbox.dispose();
  }
}

/**
 * Grades the released student version against the teacher's notebook and lists what is wrong with it:
 * every cell must compile, and every failure must be a stub's "not implemented yet" (a teacher's
 * solution region that removed a declaration later cells use shows up here as a TypeScript error).
 */
export async function verifyRelease(layout: CourseLayout, name: string, opts: Partial<GradeOptions> = {}): Promise<string[]> {
  const [report] = await gradeSubmissions([path.join(releaseDir(layout, name), `${name}.ipynb`)], { ...opts, layout, name });
  const problems: string[] = [];
  if (report.kernel.stopped) problems.push(`the notebook stopped early: ${report.kernel.stopped}`);
  for (const e of report.cellErrors) if (!e.error.includes(NOT_IMPLEMENTED)) problems.push(`cell ${e.cell}${e.gradeId ? ` (${e.gradeId})` : ''}: ${e.error}`);
  for (const c of report.checks) if (c.status === 'failed' && !c.error?.includes(NOT_IMPLEMENTED)) problems.push(`check ${c.gradeId}: ${c.error}`);
  return problems;
}
