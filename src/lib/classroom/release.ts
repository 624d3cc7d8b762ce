/**
 * The student version of a teacher's notebook (nbgrader's generate_assignment): solution regions become
 * stubs that throw "not implemented yet: <hint>" (declarations stay, so every later cell still compiles
 * under tslab), hidden tests are removed, outputs cleared, check and locked cells made read-only and
 * checksummed, and a README tells the students what to do.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cellSource, readNotebook, splitLines, writeNotebook, type Cell, type NotebookJson } from '../notebook/ipynb';
import { writeFileAtomic } from '../util/atomic';
import { InputError } from '../util/errors';
import {
  cellChecksum,
  cellRole,
  checkPoints,
  findRegions,
  gradeIdIndex,
  gradingMeta,
  releaseDir,
  replaceRegions,
  sourceNotebookPath,
  type CourseLayout,
  type MarkedRegion,
} from './nbgrader';

/** The start of a stub's error message; grading and release checks look for it. */
export const NOT_IMPLEMENTED = 'not implemented yet';

/** nbgrader's stubs for a solution cell without regions. */
const ANSWER_STUB = 'YOUR ANSWER HERE';

export interface CheckInfo {
  gradeId: string;
  points: number;
  /** Whether the check cell has hidden tests (removed from the student version). */
  hidden: boolean;
}

export interface TaskInfo {
  gradeId: string;
  /** The hints of the cell's solution regions (what to write). */
  hints: string[];
}

/** What a notebook asks of students and how it is scored. */
export interface AssignmentInfo {
  title: string;
  tasks: TaskInfo[];
  checks: CheckInfo[];
  totalPoints: number;
}

function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The stub for one solution region: a comment and a throw, at the region's indentation. */
export function solutionStub(region: Pick<MarkedRegion, 'indent' | 'hint'>): string[] {
  const what = region.hint || 'see the instructions above';
  return [`${region.indent}// YOUR CODE HERE`, `${region.indent}throw new Error(${quote(`${NOT_IMPLEMENTED}: ${what}`)});`];
}

/** A code cell's source with its solution regions stubbed (the whole cell when it has none, as nbgrader). */
export function stripSolutions(source: string, where: string): string {
  const regions = findRegions(source, where).filter((r) => r.kind === 'SOLUTION');
  if (regions.length === 0) return solutionStub({ indent: '', hint: '' }).join('\n');
  return replaceRegions(source, where, 'SOLUTION', solutionStub);
}

/** A check cell's source without its hidden tests (and without the blank lines they leave at the end). */
export function stripHiddenTests(source: string, where: string): string {
  return replaceRegions(source, where, 'HIDDEN TESTS', () => []).replace(/\s+$/, '');
}

function hasRegion(source: string, where: string, kind: MarkedRegion['kind']): boolean {
  return findRegions(source, where).some((r) => r.kind === kind);
}

function withMeta(cell: Cell, extra: Record<string, unknown>, nbgrader: Record<string, unknown> = {}): Cell {
  return { ...cell, metadata: { ...cell.metadata, ...extra, nbgrader: { ...(cell.metadata.nbgrader as object), ...nbgrader } } };
}

/** The student version of one cell; `where` names the cell in errors. */
function releaseCell(cell: Cell, where: string): Cell {
  const role = cellRole(cell);
  const source = cellSource(cell);
  const code = cell.cell_type === 'code';
  if (role !== 'solution' && code && hasRegion(source, where, 'SOLUTION')) {
    throw new InputError(where, 'has a SOLUTION region but is not a solution cell (set metadata.nbgrader.solution = true)');
  }
  if (role !== 'check' && code && hasRegion(source, where, 'HIDDEN TESTS')) {
    throw new InputError(where, 'has HIDDEN TESTS but is not a check cell (set metadata.nbgrader.grade = true)');
  }
  let out: Cell = { ...cell, metadata: { ...cell.metadata } };
  if (code) out = { ...out, outputs: [], execution_count: null };
  if (role === 'solution') {
    const stubbed = code ? stripSolutions(source, where) : ANSWER_STUB;
    const released: Cell = { ...out, source: splitLines(stubbed) };
    // As nbgrader's ComputeChecksums: solution cells too (nbgrader uses it to see an unanswered cell).
    return withMeta(released, { deletable: false }, { checksum: cellChecksum(released), cell_type: released.cell_type });
  }
  if (role === 'check' || role === 'locked') {
    if (role === 'check') checkPoints(cell, where);
    const visible = role === 'check' && code ? stripHiddenTests(source, where) : source;
    const released: Cell = { ...out, source: splitLines(visible) };
    return withMeta(released, { deletable: false, editable: false }, { checksum: cellChecksum(released), cell_type: released.cell_type });
  }
  return out;
}

function cellName(file: string, cell: Cell, i: number): string {
  const id = gradingMeta(cell)?.grade_id;
  return `${file}: cell ${i + 1}${id ? ` ("${id}")` : ''}`;
}

/** The student version of a teacher's notebook; the teacher's errors (markers, metadata) name the cell. */
export function releaseNotebook(teacher: NotebookJson, file = 'notebook'): NotebookJson {
  gradeIdIndex(teacher, file);
  const cells = teacher.cells.map((cell, i) => releaseCell(cell, cellName(file, cell, i)));
  if (!teacher.cells.some((c) => cellRole(c) === 'check')) throw new InputError(file, 'has no check cell (metadata.nbgrader.grade = true with points)');
  return { ...teacher, cells };
}

/** Title, tasks and checks of a teacher's notebook. */
export function assignmentInfo(teacher: NotebookJson, file = 'notebook'): AssignmentInfo {
  const heading = teacher.cells.filter((c) => c.cell_type === 'markdown').map((c) => /^#\s+(.+)$/m.exec(cellSource(c))?.[1]).find(Boolean);
  const tasks: TaskInfo[] = [];
  const checks: CheckInfo[] = [];
  teacher.cells.forEach((cell, i) => {
    const meta = gradingMeta(cell);
    const role = cellRole(cell);
    const where = cellName(file, cell, i);
    if (role === 'solution' && meta) {
      const regions = cell.cell_type === 'code' ? findRegions(cellSource(cell), where) : [];
      tasks.push({ gradeId: meta.grade_id, hints: regions.filter((r) => r.kind === 'SOLUTION').map((r) => r.hint).filter(Boolean) });
    }
    if (role === 'check' && meta) checks.push({ gradeId: meta.grade_id, points: checkPoints(cell, where), hidden: hasRegion(cellSource(cell), where, 'HIDDEN TESTS') });
  });
  return { title: heading ?? path.basename(file, '.ipynb'), tasks, checks, totalPoints: checks.reduce((s, c) => s + c.points, 0) };
}

/** The students' README: what to fill in, how it is graded, the limits their code runs under. */
export function studentReadme(name: string, info: AssignmentInfo, limits: { cellSeconds: number; memoryMb: number }): string {
  const tasks = info.tasks.map((t) => `- \`${t.gradeId}\`${t.hints.length ? `: ${t.hints.join('; ')}` : ''}`);
  const checks = info.checks.map((c) => `| \`${c.gradeId}\` | ${c.points} | ${c.hidden ? 'yes' : 'no'} |`);
  return `# ${info.title}

Assignment \`${name}\`: open \`${name}.ipynb\` in Jupyter with the TypeScript (tslab) kernel (\`npm run kernel\`
registers it; see the workbook's README), or edit it in any notebook editor.

## What to do

Fill in every cell that says \`// YOUR CODE HERE\`: replace the \`throw new Error('${NOT_IMPLEMENTED}: ...')\`
line with your code. The message says what to write. Keep the function names and signatures: the checks call them.

${tasks.join('\n')}

Then run the whole notebook (Kernel > Restart & Run All). Each check cell either runs silently (passed) or
shows an error that says what is wrong.

## How it is graded

| check | points | hidden tests |
|---|---|---|
${checks.join('\n')}
| **total** | **${info.totalPoints}** | |

- The check cells are read-only. At grading they are replaced by the teacher's versions, which also
  contain hidden tests (typical mistakes the visible checks do not catch): passing the visible checks is
  necessary, not sufficient. Editing a check cell does not help, and the report says that it was edited.
- Your notebook runs from top to bottom in a fresh kernel: define everything your answers need in your
  cells, not only in a kernel session.
- Limits: ${limits.cellSeconds} s per cell and ${limits.memoryMb} MB of memory. A cell that runs longer
  or uses more is stopped, and the checks after it score zero. Your code may write files only in its
  temporary folder (\`os.tmpdir()\`), and may not start processes.
- You get a report with the points of each check and, for each failed one, the error to act on.
`;
}

export interface ReleaseResult {
  name: string;
  /** The released notebook. */
  notebook: string;
  readme: string;
  info: AssignmentInfo;
}

/** Default limits, shown in the README and used by `grade`. */
export const DEFAULT_LIMITS = { cellSeconds: 60, memoryMb: 2048 } as const;

/**
 * Writes assignments/<name>/<name>.ipynb and README.md from source/<name>/<name>.ipynb, plus copies of
 * the other files of source/<name>/ (data the notebook reads).
 */
export function releaseAssignment(layout: CourseLayout, name: string, limits: { cellSeconds: number; memoryMb: number } = DEFAULT_LIMITS): ReleaseResult {
  const file = sourceNotebookPath(layout, name);
  if (!fs.existsSync(file)) throw new InputError(file, `no such teacher notebook (expected source/${name}/${name}.ipynb)`);
  const teacher = readNotebook(file);
  const rel = path.relative(layout.root, file);
  const student = releaseNotebook(teacher, rel);
  const info = assignmentInfo(teacher, rel);
  const outDir = releaseDir(layout, name);
  const notebook = path.join(outDir, `${name}.ipynb`);
  const readme = path.join(outDir, 'README.md');
  writeNotebook(notebook, student);
  writeFileAtomic(readme, studentReadme(name, info, limits));
  for (const entry of fs.readdirSync(path.dirname(file), { withFileTypes: true })) {
    if (entry.isFile() && entry.name !== `${name}.ipynb`) fs.copyFileSync(path.join(path.dirname(file), entry.name), path.join(outDir, entry.name));
  }
  return { name, notebook, readme, info };
}
