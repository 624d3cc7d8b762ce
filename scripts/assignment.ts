/**
 * npm run assignment -- <command>: the classroom side of the workbook, after nbgrader's workflow.
 *
 *   release <notebook|name ...>            source/<name>/<name>.ipynb -> assignments/<name>/ (student version)
 *   grade <name> <submission.ipynb ...>    autograde submissions in a sandbox; a report per submission
 *   list                                   the assignments in source/ with their checks and points
 *
 * See docs/classroom.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assignmentInfo, DEFAULT_LIMITS, releaseAssignment } from '../src/lib/classroom/release';
import { gradeSubmissions, verifyRelease, type GradeReport } from '../src/lib/classroom/grade';
import { assignmentName, sourceNotebookPath, type CourseLayout } from '../src/lib/classroom/nbgrader';
import { gradesCsv, writeReport, type GradeReportFormat } from '../src/lib/classroom/report';
import { Sandbox } from '../src/lib/classroom/sandbox';
import { isolationPlan } from '../src/lib/classroom/isolation';
import { ensureBuilt, readNotebook, repoRoot } from '../src/lib/notebook';
import { writeFileAtomic } from '../src/lib/util/atomic';
import { InputError } from '../src/lib/util/errors';

const HELP = `Usage: npm run assignment -- <command> [options]

Teacher notebooks live in source/<name>/<name>.ipynb (nbgrader's layout) with nbgrader cell
metadata: solution cells with // BEGIN SOLUTION ... // END SOLUTION regions, check cells with
points and optional // BEGIN HIDDEN TESTS ... // END HIDDEN TESTS. See docs/classroom.md.

Commands:
  release <notebook|name ...>          write the student version to assignments/<name>/: solutions
                                       stubbed, hidden tests removed, outputs cleared, README.md;
                                       then run it to check that it compiles (--no-verify skips)
  grade <name> <submission.ipynb ...>  run each submission in a sandbox with the teacher's checks
                                       (hidden tests included); write <stem>.report.json and .md
  list                                 the assignments in source/ with their checks and points

Options (grade):
  --out DIR            write the reports there (default: beside each submission), plus grades.csv
  --html               also write <stem>.report.html
  --cell-seconds N     time limit per cell (default ${DEFAULT_LIMITS.cellSeconds})
  --memory-mb N        memory limit per kernel (default ${DEFAULT_LIMITS.memoryMb})
  --jobs N             submissions graded at once (default 2)
  --keep-notebooks DIR copy the executed notebooks there (they contain the hidden tests)
  --echo               print the kernels' output while they run
Options (release, grade):
  --no-build           do not rebuild dist/ first (notebooks import the built package)
  -h, --help           this text

Examples:
  npm run assignment -- release expected-metric rbf-precision curve-energy
  npm run assignment -- grade expected-metric submissions/*.ipynb --out feedback/expected-metric
`;

interface Parsed {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string>;
}

const VALUE_OPTIONS = new Set(['out', 'cell-seconds', 'memory-mb', 'jobs', 'keep-notebooks']);
const FLAG_OPTIONS = new Set(['html', 'echo', 'no-build', 'no-verify', 'help']);

function parseArgs(argv: string[]): Parsed {
  const out: Parsed = { positional: [], flags: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') out.flags.add('help');
    else if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
      if (FLAG_OPTIONS.has(name)) out.flags.add(name);
      else if (VALUE_OPTIONS.has(name)) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new InputError(`--${name}`, 'expected a value');
        out.values.set(name, value);
      } else throw new InputError(arg, 'unknown option (see --help)');
    } else out.positional.push(arg);
  }
  return out;
}

function positiveNumber(args: Parsed, name: string): number | undefined {
  const raw = args.values.get(name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!(Number.isFinite(v) && v > 0)) throw new InputError(`--${name}`, `expected a positive number, got ${JSON.stringify(raw)}`);
  return v;
}

function build(root: string, args: Parsed): void {
  if (args.flags.has('no-build')) return;
  const built = ensureBuilt(root, (msg) => console.log(msg));
  if (built.state !== 'fresh') console.log(`built in ${built.seconds.toFixed(1)} s`);
}

async function release(layout: CourseLayout, args: Parsed): Promise<number> {
  if (args.positional.length === 0) throw new InputError('release', 'name at least one notebook or assignment (see --help)');
  build(layout.root, args);
  const names = args.positional.map(assignmentName);
  for (const name of names) {
    const res = releaseAssignment(layout, name);
    console.log(`${name}: ${path.relative(process.cwd(), res.notebook)} (${res.info.checks.length} checks, ${res.info.totalPoints} points) and README.md`);
  }
  if (args.flags.has('no-verify')) return 0;
  const sandbox = Sandbox.create();
  try {
    const verdicts = await Promise.all(names.map((name) => verifyRelease(layout, name, { sandbox })));
    verdicts.forEach((problems, i) => {
      if (problems.length === 0) console.log(`${names[i]}: the student version compiles; its checks fail with "not implemented yet" until solved`);
      else console.error(`${names[i]}: the student version has problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    });
    return verdicts.some((p) => p.length) ? 1 : 0;
  } finally {
    sandbox.dispose();
  }
}

function summary(reports: readonly GradeReport[]): string {
  const rows = reports.map((r) => {
    const failed = r.checks.filter((c) => c.status !== 'passed').map((c) => c.gradeId);
    const notes = [r.kernel.stopped ? 'stopped early' : '', r.tampered.length ? 'edited checks' : '', r.violations.length ? 'sandbox refusals' : '', r.flags.length ? 'flagged code' : '']
      .filter(Boolean)
      .join(', ');
    return [r.submission, `${r.points} / ${r.maxPoints}`, failed.join(' ') || '-', notes || '-'];
  });
  const all = [['submission', 'points', 'not passed', 'notes'], ...rows];
  const w = all[0].map((_, j) => Math.max(...all.map((r) => r[j].length)));
  return all.map((r) => r.map((c, j) => c.padEnd(w[j])).join('  ').trimEnd()).join('\n');
}

async function grade(layout: CourseLayout, args: Parsed): Promise<number> {
  const [nameArg, ...files] = args.positional;
  if (!nameArg || files.length === 0) throw new InputError('grade', 'usage: grade <name> <submission.ipynb ...> (see --help)');
  const name = assignmentName(nameArg);
  for (const f of files) if (!fs.existsSync(f)) throw new InputError(f, 'no such submission');
  if (!fs.existsSync(sourceNotebookPath(layout, name))) throw new InputError(sourceNotebookPath(layout, name), `no teacher notebook for assignment "${name}"`);
  build(layout.root, args);
  const out = args.values.get('out');
  const stems = files.map((f) => path.resolve(out ?? path.dirname(f), path.basename(f, '.ipynb')));
  const clash = stems.find((s, i) => stems.indexOf(s) !== i);
  if (clash) throw new InputError(`${path.basename(clash)}.ipynb`, 'two submissions would write the same report; rename one or grade them separately');
  const formats: GradeReportFormat[] = args.flags.has('html') ? ['json', 'md', 'html'] : ['json', 'md'];
  const jobs = positiveNumber(args, 'jobs');
  const plan = isolationPlan();
  if (plan.warning) console.error(`WARNING: ${plan.warning}`);
  else console.log(plan.summary);
  // Each report is written as soon as its submission is done: a grader stopped midway keeps them.
  const done: GradeReport[] = [];
  const reports = await gradeSubmissions(files, {
    layout,
    name,
    jobs: jobs === undefined ? undefined : Math.floor(jobs),
    echo: args.flags.has('echo'),
    keepNotebooks: args.values.get('keep-notebooks'),
    limits: { cellSeconds: positiveNumber(args, 'cell-seconds') ?? DEFAULT_LIMITS.cellSeconds, memoryMb: positiveNumber(args, 'memory-mb') ?? DEFAULT_LIMITS.memoryMb },
    onReport: (r, file) => {
      writeReport(r, out ?? path.dirname(file), path.basename(file, '.ipynb'), formats);
      done.push(r);
      if (out) writeFileAtomic(path.join(out, 'grades.csv'), gradesCsv(done));
      console.log(`${r.submission}: ${r.points} / ${r.maxPoints}`);
    },
  });
  if (out) writeFileAtomic(path.join(out, 'grades.csv'), gradesCsv(reports));
  console.log(`\n${summary(reports)}\n\nreports: ${out ?? 'beside each submission'} (<stem>.report.${formats.join(', .')})`);
  return 0;
}

function list(layout: CourseLayout): number {
  const dir = path.join(layout.root, 'source');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => fs.existsSync(sourceNotebookPath(layout, n))).sort() : [];
  for (const name of names) {
    const info = assignmentInfo(readNotebook(sourceNotebookPath(layout, name)), name);
    console.log(`${name}: ${info.title} (${info.totalPoints} points)`);
    for (const c of info.checks) console.log(`  ${c.gradeId.padEnd(36)} ${String(c.points).padStart(3)} point(s)${c.hidden ? ', hidden tests' : ''}`);
  }
  if (names.length === 0) console.log('no assignments in source/');
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const args = parseArgs(rest);
  if (!command || command === '-h' || command === '--help' || command === 'help' || args.flags.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  const layout: CourseLayout = { root: repoRoot(path.resolve(__dirname, '..')) };
  switch (command) {
    case 'release':
      return release(layout, args);
    case 'grade':
      return grade(layout, args);
    case 'list':
      return list(layout);
    default:
      throw new InputError(command, 'unknown command; expected release, grade or list (see --help)');
  }
}

// Exiting kills the sandboxed kernels still running (the runner's exit hook); Ctrl-C alone would not.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(err instanceof InputError ? 2 : 1);
  },
);
