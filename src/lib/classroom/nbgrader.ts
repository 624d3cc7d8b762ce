/**
 * nbgrader's conventions, for TypeScript notebooks: a teacher's habits carry over from Jupyter/Python.
 *
 * - Cell metadata `nbgrader = { grade, grade_id, points, solution, locked, schema_version: 3 }`: a *check
 *   cell* (grade, not solution) is autograded and worth `points`; a *solution cell* holds the students'
 *   work; a *locked* cell (read-only, e.g. the set-up) is restored from the teacher's version at grading.
 * - Regions in code cells: `// BEGIN SOLUTION` ... `// END SOLUTION` (nbgrader's `### BEGIN SOLUTION`),
 *   replaced in the student version by a stub, and `// BEGIN HIDDEN TESTS` ... `// END HIDDEN TESTS` in
 *   check cells, removed from the student version and put back for grading.
 * - Checksums of the released check and locked cells, so that grading can say which ones a student edited
 *   (it restores the teacher's version anyway).
 *
 * Text after `BEGIN SOLUTION` on the same line is the hint of the stub: `throw new Error('not implemented
 * yet: <hint>')`, which tells the student what to write and keeps every later cell compiling.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { cellSource, type Cell, type NotebookJson } from '../notebook/ipynb';
import { InputError } from '../util/errors';

/** nbgrader's cell metadata (schema version 3). */
export interface GradingMeta {
  grade: boolean;
  grade_id: string;
  locked: boolean;
  points?: number;
  schema_version: 3;
  solution: boolean;
  task?: boolean;
  /** Set by release on check, solution and locked cells. */
  checksum?: string;
}

export type CellRole = 'check' | 'solution' | 'locked' | 'plain';

/** The nbgrader metadata of a cell, or null when it has none (a plain cell, e.g. one a student added). */
export function gradingMeta(cell: Cell): GradingMeta | null {
  const m = cell.metadata?.nbgrader as Partial<GradingMeta> | undefined;
  if (!m || typeof m !== 'object' || typeof m.grade_id !== 'string') return null;
  return { grade: m.grade === true, grade_id: m.grade_id, locked: m.locked === true, points: m.points, schema_version: 3, solution: m.solution === true, task: m.task, checksum: m.checksum };
}

/** What grading does with a cell: check cells are scored, check and locked cells restored. */
export function cellRole(cell: Cell): CellRole {
  const m = gradingMeta(cell);
  if (!m) return 'plain';
  if (m.solution) return 'solution';
  if (m.grade) return 'check';
  return m.locked ? 'locked' : 'plain';
}

/** Points of a check cell (nbgrader requires them; a missing or negative value is the teacher's error). */
export function checkPoints(cell: Cell, where: string): number {
  const p = gradingMeta(cell)?.points;
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) throw new InputError(where, `check cell needs metadata.nbgrader.points >= 0, got ${JSON.stringify(p)}`);
  return p;
}

/** Python's str(float(x)): shortest round-trip digits, positional for 1e-4 <= |x| < 1e16, else d.ddde+XX. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exp] = x.toExponential().split('e'); // shortest digits that round-trip, as Python's repr
  const e = Number(exp);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (e >= -4 && e < 16) {
    if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
    const int = digits.slice(0, e + 1).padEnd(e + 1, '0');
    const frac = digits.slice(e + 1);
    return `${sign}${int}.${frac || '0'}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/**
 * nbgrader's cell checksum (nbgrader.utils.compute_checksum), so that `nbgrader validate` and our grader
 * agree on which read-only cells a student changed: the MD5 hex digest of, in this order and UTF-8
 * encoded, the cell's source exactly as stored, its cell_type, Python's str() of is_grade, is_solution
 * and is_locked ("True"/"False"), the grade_id and, for a grade cell, str(float(points)). As nbgrader,
 * a grade cell counts as locked and a solution cell as not locked, whatever `locked` says.
 */
export function cellChecksum(cell: Cell): string {
  const m = gradingMeta(cell);
  const grade = m?.grade ?? false;
  const solution = m?.solution ?? false;
  const locked = solution ? false : grade ? true : (m?.locked ?? false);
  const py = (b: boolean) => (b ? 'True' : 'False');
  const md5 = createHash('md5');
  md5.update(cellSource(cell), 'utf8');
  md5.update(cell.cell_type, 'utf8');
  md5.update(py(grade));
  md5.update(py(solution));
  md5.update(py(locked));
  md5.update(m?.grade_id ?? '', 'utf8');
  if (grade) md5.update(pythonFloatRepr(Number(m?.points ?? 0)));
  return md5.digest('hex');
}

/** A marker line in a code cell: `// BEGIN SOLUTION [hint]`, `// END SOLUTION`, and the same for HIDDEN TESTS. */
const MARKER = /^(\s*)\/\/\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)\b(.*)$/;

export interface MarkedRegion {
  kind: 'SOLUTION' | 'HIDDEN TESTS';
  /** Line indices of the BEGIN and END markers. */
  begin: number;
  end: number;
  /** Indentation of the BEGIN marker. */
  indent: string;
  /** Text after BEGIN SOLUTION (the stub's hint), trimmed. */
  hint: string;
}

/** The marked regions of a source, in order; unbalanced or nested markers are an InputError at `where`. */
export function findRegions(source: string, where: string): MarkedRegion[] {
  const regions: MarkedRegion[] = [];
  let open: Omit<MarkedRegion, 'end'> | null = null;
  source.split('\n').forEach((line, i) => {
    const m = MARKER.exec(line);
    if (!m) return;
    const [, indent, edge, kind, rest] = m as unknown as [string, string, 'BEGIN' | 'END', MarkedRegion['kind'], string];
    if (edge === 'BEGIN') {
      if (open) throw new InputError(where, `line ${i + 1}: BEGIN ${kind} inside an open ${open.kind} region (line ${open.begin + 1})`);
      open = { kind, begin: i, indent, hint: rest.trim() };
    } else {
      if (!open || open.kind !== kind) throw new InputError(where, `line ${i + 1}: END ${kind} without a matching BEGIN ${kind}`);
      regions.push({ ...open, end: i });
      open = null;
    }
  });
  if (open) throw new InputError(where, `BEGIN ${(open as MarkedRegion).kind} on line ${(open as MarkedRegion).begin + 1} is never ended`);
  return regions;
}

/** Replaces each region of `kind` by `replace(region)` (lines, without the markers). */
export function replaceRegions(source: string, where: string, kind: MarkedRegion['kind'], replace: (r: MarkedRegion) => string[]): string {
  const lines = source.split('\n');
  const regions = findRegions(source, where).filter((r) => r.kind === kind);
  for (const r of regions.reverse()) lines.splice(r.begin, r.end - r.begin + 1, ...replace(r));
  return lines.join('\n');
}

/** "source/<name>/<name>.ipynb" and "assignments/<name>/": nbgrader's layout. */
export interface CourseLayout {
  /** The folder holding source/ and assignments/ (the checkout, or any course folder). */
  root: string;
}

export function sourceNotebookPath(layout: CourseLayout, name: string): string {
  return path.join(layout.root, 'source', name, `${name}.ipynb`);
}

export function releaseDir(layout: CourseLayout, name: string): string {
  return path.join(layout.root, 'assignments', name);
}

/** The assignment name of a notebook path or a bare name ("expected-metric" or ".../expected-metric.ipynb"). */
export function assignmentName(arg: string): string {
  const name = arg.endsWith('.ipynb') ? path.basename(arg, '.ipynb') : arg;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new InputError(arg, 'expected an assignment name (letters, digits, . _ -) or a path to <name>.ipynb');
  return name;
}

/** grade_id -> index among the notebook's cells; duplicate ids are the teacher's error. */
export function gradeIdIndex(nb: NotebookJson, where: string): Map<string, number> {
  const index = new Map<string, number>();
  nb.cells.forEach((cell, i) => {
    const id = gradingMeta(cell)?.grade_id;
    if (id === undefined) return;
    if (index.has(id)) throw new InputError(where, `grade_id "${id}" is used by cells ${index.get(id)! + 1} and ${i + 1}`);
    index.set(id, i);
  });
  return index;
}
