/**
 * One notebook of `npm run reproduce`, run so that it never spoils what is committed:
 *  - its profile decides where everything goes (env.ts): the full profile writes figures/<notebook>/ and the
 *    notebook's own outputs (committed); the quick profile writes out/quick/<notebook>/, the executed
 *    notebook included, and leaves the committed .ipynb alone;
 *  - while it runs, every file goes to a staging folder (in the system's temporary folder); only when the
 *    last cell has finished are the files moved into place, each atomically (a rename, or a copy written
 *    beside the destination and renamed), the notebook last. A failing
 *    notebook leaves its committed outputs and results as they were; its executed copy, with the error,
 *    goes to out/failed/ for reading;
 *  - absolute paths of the checkout in the outputs are made relative before anything is saved.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic';
import { relativizeText } from '../util/paths';
import { ENV_STAGE_DIR, isCommittedFigures, outputRoot, type Profile } from './env';
import { NotebookError, runNotebook, type NotebookRun, type RunNotebookOptions } from './runner';

/** Staging folders' names contain this (git-ignored, should one ever be made in the checkout). */
export const STAGING_PREFIX = '.staging-';

export interface NotebookTargets {
  /** The figures root the notebook's folder goes into. */
  figuresRoot: string;
  /** Where the executed notebook goes: the committed .ipynb itself only when the figures are the committed ones. */
  notebookOut: string;
  /** Where the executed copy of a failed run goes. */
  failedOut: string;
}

/** Where a run of `file` in `profile` writes (see the header); `root` is the checkout. */
export function notebookTargets(file: string, profile: Profile, root: string, env: NodeJS.ProcessEnv = process.env): NotebookTargets {
  const figuresRoot = outputRoot(profile, env, root);
  const base = path.basename(file);
  const stem = base.replace(/\.ipynb$/, '');
  const committed = isCommittedFigures(figuresRoot, root);
  return {
    figuresRoot,
    notebookOut: committed ? path.resolve(file) : path.join(figuresRoot, stem, base),
    failedOut: path.join(root, 'out', 'failed', base),
  };
}

/** Files under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** Moves `src` to `dst` in one rename (atomic); across file systems, a copy written atomically. */
function moveFile(src: string, dst: string): void {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  try {
    fs.renameSync(src, dst);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    writeFileAtomic(dst, fs.readFileSync(src));
    fs.rmSync(src);
  }
}

/** Moves every file of the staging folder to the same place under `root`; returns the destinations. */
export function publishStaged(stage: string, root: string): string[] {
  return filesUnder(stage).map((rel) => {
    const dst = path.join(root, rel);
    moveFile(path.join(stage, rel), dst);
    return dst;
  });
}

export interface ReproduceOptions extends Pick<RunNotebookOptions, 'echo' | 'onCell' | 'env'> {
  profile: Profile;
  /** The checkout. */
  root: string;
  /** Overrides of where things go (tests). */
  targets?: Partial<NotebookTargets>;
  /** Where the staging folder is made; default the system's temporary folder. */
  stageParent?: string;
}

export interface ReproduceResult {
  run: NotebookRun;
  targets: NotebookTargets;
  /** Files moved into place, the notebook last. */
  written: string[];
}

/**
 * Runs `file` headless in `opts.profile`, staged (see the header). Throws the NotebookError of the failing
 * cell (nothing of the destination touched; the executed copy is at targets.failedOut).
 */
export async function reproduceNotebook(file: string, opts: ReproduceOptions): Promise<ReproduceResult> {
  const targets = { ...notebookTargets(file, opts.profile, opts.root, { ...process.env, ...opts.env }), ...opts.targets };
  fs.mkdirSync(targets.figuresRoot, { recursive: true });
  // Outside the checkout: the kernel's TypeScript service watches the checkout, and folders appearing there
  // while cells run make it throw "Unexpected pending rebuildTimer" into the outputs.
  const stage = fs.mkdtempSync(path.join(opts.stageParent ?? os.tmpdir(), `lso${STAGING_PREFIX}`));
  const stagedNotebook = path.join(stage, `${STAGING_PREFIX}notebook`, path.basename(file));
  try {
    const run = await runNotebook(file, {
      echo: opts.echo,
      onCell: opts.onCell,
      env: { ...opts.env, LSO_PROFILE: opts.profile, LSO_FIGURES_DIR: targets.figuresRoot, [ENV_STAGE_DIR]: stage },
      outFile: stagedNotebook,
      failedOutFile: targets.failedOut,
      rewriteText: (text) => relativizeText(text, opts.root),
    });
    if (run.failures.length) throw run.failures[0];
    const notebook = path.join(stage, `${STAGING_PREFIX}notebook`);
    const staged = fs.readFileSync(stagedNotebook);
    fs.rmSync(notebook, { recursive: true, force: true });
    const written = publishStaged(stage, targets.figuresRoot);
    writeFileAtomic(targets.notebookOut, staged);
    return { run, targets, written: [...written, targets.notebookOut] };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** "cell #12: RangeError: no data" for a summary table: where a notebook failed and the error's first line. */
export function failureSummary(err: unknown): string {
  if (err instanceof NotebookError) {
    // A V8 stack of code run in a vm starts with the location and the code line: the "Name: message" line is the one.
    const lines = err.detail.split('\n').map((l) => l.trim()).filter(Boolean);
    const first = lines.find((l) => /^[A-Za-z_$][\w$]*(Error|Exception)\b/.test(l)) ?? lines[0] ?? 'unknown error';
    return `cell #${err.cellIndex + 1}: ${first}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0];
}
