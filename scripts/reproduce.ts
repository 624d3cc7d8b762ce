/**
 * npm run reproduce [-- options] [prefix ...]: runs the workbook's notebooks headless, in order, and
 * rebuilds the figures gallery. No Python and no Jupyter: tslab's executor runs the cells (see
 * src/lib/notebook/runner.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildGallery, currentProfile, ensureBuilt, failureSummary, outputRoot, readTimings, recordTiming, repoRoot, reproduceNotebook, RunProgress } from '../src/lib/notebook';
import { checkoutPath } from '../src/lib/util/paths';
import { fmtSecs } from '../src/lib/util/progress';

const HELP = `Usage: npm run reproduce -- [options] [prefix ...]

Executes notebooks/NN-*.ipynb in order with tslab's executor (no Python or Jupyter
needed), stops at the first failing cell, prints a summary and rebuilds the gallery.

Where the outputs go depends on the profile:
  full    figures/<notebook>/ and the notebooks' own outputs (what is committed)
  quick   out/quick/<notebook>/ (git-ignored), the executed notebook included;
          figures/ and notebooks/ are left as they are
A notebook's files are moved into place only when its last cell has finished: a
failing notebook changes nothing (its executed copy is in out/failed/).

  prefix        run only notebooks whose file name starts with it (e.g. 04)
  --no-build    do not run tsc first (use dist/ as it is)
  --quiet       do not echo the cells' output while they run
  --list        print the notebooks that would run, and exit
  -h, --help    this text

Environment:
  LSO_PROFILE=quick|full   how much compute the notebooks spend (default quick, or the
                           word in .lso-profile at the checkout's root)
  LSO_FIGURES_DIR=DIR      write figures (and executed notebooks) to DIR instead
  LSO_INTERACTIVE=1        also keep interactive chart outputs in the notebooks
  LSO_CHROMIUM=PATH        the Chromium used to export PNG/SVG (default /usr/bin/chromium)
`;

interface Args {
  prefixes: string[];
  build: boolean;
  echo: boolean;
  list: boolean;
}

function parseArgs(argv: string[]): Args | 'help' {
  const args: Args = { prefixes: [], build: true, echo: true, list: false };
  for (const a of argv) {
    if (a === '-h' || a === '--help') return 'help';
    else if (a === '--no-build') args.build = false;
    else if (a === '--quiet') args.echo = false;
    else if (a === '--list') args.list = true;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a} (see --help)`);
    else args.prefixes.push(a);
  }
  return args;
}

const NOTEBOOK = /^\d\d-.*\.ipynb$/;

/** notebooks/NN-*.ipynb in name order, filtered by prefix. */
function selectNotebooks(dir: string, prefixes: string[]): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => NOTEBOOK.test(f) && (prefixes.length === 0 || prefixes.some((p) => f.startsWith(p))))
    .sort()
    .map((f) => path.join(dir, f));
}

interface Row {
  notebook: string;
  seconds: string;
  status: string;
}

function table(rows: Row[]): string {
  const cols: (keyof Row)[] = ['notebook', 'seconds', 'status'];
  const width = (c: keyof Row) => Math.max(c.length, ...rows.map((r) => r[c].length));
  const line = (r: Row) => cols.map((c) => (c === 'seconds' ? r[c].padStart(width(c)) : r[c].padEnd(width(c)))).join('  ');
  const header = { notebook: 'notebook', seconds: 'seconds', status: 'status' };
  return [line(header), cols.map((c) => '-'.repeat(width(c))).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const root = repoRoot(path.resolve(__dirname, '..'));
  const profile = currentProfile(process.env, root);
  const notebooks = selectNotebooks(path.join(root, 'notebooks'), args.prefixes);
  if (notebooks.length === 0) {
    console.error(`no notebooks/NN-*.ipynb${args.prefixes.length ? ` starting with ${args.prefixes.join(' or ')}` : ''}`);
    return 1;
  }
  if (args.list) {
    for (const nb of notebooks) console.log(path.relative(root, nb));
    return 0;
  }
  if (args.build) {
    const built = ensureBuilt(root, (msg) => console.log(msg));
    if (built.state !== 'fresh') console.log(`built in ${fmtSecs(built.seconds)}`);
  }
  const figures = outputRoot(profile, process.env, root);
  console.log(`profile ${profile}: ${notebooks.length} notebook(s), outputs to ${checkoutPath(figures, root)}/\n`);
  const timingsFile = path.join(root, 'out', 'timings.json');
  const names = notebooks.map((nb) => path.basename(nb, '.ipynb'));
  const progress = new RunProgress(names, readTimings(timingsFile, profile));
  const rows: Row[] = notebooks.map((nb) => ({ notebook: path.basename(nb), seconds: '', status: 'not run' }));
  let failure: unknown = null;
  for (const [i, nb] of notebooks.entries()) {
    progress.begin(i);
    console.log(`=== ${path.relative(root, nb)}  [${progress.line()}]`);
    const t0 = Date.now();
    try {
      await reproduceNotebook(nb, {
        profile,
        root,
        echo: args.echo,
        onCell: ({ count, total }) => args.echo && console.log(`--- cell ${count}/${total}  [${progress.line()}]`),
      });
      rows[i].status = 'ok';
    } catch (err) {
      rows[i].status = `FAILED at ${failureSummary(err)}`;
      failure = err;
    }
    const seconds = (Date.now() - t0) / 1000;
    rows[i].seconds = seconds.toFixed(1);
    progress.end(i, seconds);
    if (failure) break;
    recordTiming(timingsFile, profile, names[i], seconds);
  }
  const gallery = buildGallery(figures);
  if (failure) {
    console.error(`\n${failure instanceof Error ? failure.message : String(failure)}`);
    console.error(`\nnothing of ${rows.find((r) => r.status.startsWith('FAILED'))?.notebook} was written; its executed copy is in out/failed/`);
  }
  console.log(`\n${table(rows)}\n\ngallery: ${checkoutPath(gallery, root)}`);
  return failure ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
