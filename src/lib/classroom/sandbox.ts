/**
 * Where untrusted notebooks run: Node's permission model (Node 20: --experimental-permission) with reads
 * limited to a mirror of the packages and the submission's own folder, writes to a tmp/ folder in it only,
 * and no child processes, worker threads, addons or WASI (their --allow-* flags are never given).
 *
 * Why a mirror of node_modules, made of hard links: the permission model follows symbolic links, so
 * granting the checkout's node_modules would also grant node_modules/latent-geometry, the link to the
 * checkout itself, through which a submission could read the teacher's solutions and hidden tests. And a
 * mirror of symbolic links does not work either: TypeScript (tslab's compiler) resolves a package through
 * its real path and then needs to see the real node_modules folder. Hard links have no "real path"
 * elsewhere; making ~10,000 of them takes about half a second. Only the package's package.json and dist/
 * stand in for latent-geometry.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PACKAGE_NAME, findRepoRoot } from '../notebook/env';
import { InputError } from '../util/errors';

/** Links (or, across file systems, copies) the files of `src` into `dst`, recursively. */
function mirrorTree(src: string, dst: string, skip: (name: string) => boolean = () => false): void {
  fs.mkdirSync(dst, { recursive: true });
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    if (skip(entry.name)) continue;
    const from = path.join(src, entry.name);
    const to = path.join(dst, entry.name);
    // Packages are plain trees; a symbolic link inside one is followed to what it names.
    const stat = entry.isSymbolicLink() ? fs.statSync(from) : entry;
    if (stat.isDirectory()) mirrorTree(from, to);
    else if (stat.isFile()) linkOrCopy(from, to);
  }
}

function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM') throw err;
    fs.copyFileSync(from, to);
  }
}

/** A folder on the same file system as `near`, so that hard links work: the temp dir, else `fallback`. */
function sameDeviceParent(near: string, fallback: string): string {
  const tmp = os.tmpdir();
  if (fs.statSync(tmp).dev === fs.statSync(near).dev) return tmp;
  fs.mkdirSync(fallback, { recursive: true });
  return fallback;
}

/**
 * A read-only package tree for sandboxed kernels, shared by all the submissions of one grading run, and
 * the private working folders of the submissions beside it.
 */
export class Sandbox {
  private workspaces = 0;

  private constructor(
    /** The sandbox root: node_modules/ (the mirror) and work-N/ folders. */
    readonly dir: string,
  ) {}

  /**
   * Mirrors the node_modules of `root`, the package's checkout (built: dist/ must exist), into a fresh
   * temporary folder. Call dispose() when done.
   */
  static create(root: string = packageRoot()): Sandbox {
    const modules = path.join(root, 'node_modules');
    for (const file of ['notebook/kernel-child.js', 'classroom/grading-kernel.js', 'classroom/sandbox-preload.js']) {
      if (!fs.existsSync(path.join(root, 'dist', 'lib', file))) throw new InputError(path.join(root, 'dist', 'lib', file), 'missing: run npm run build first (sandboxed notebooks use the compiled package)');
    }
    const parent = sameDeviceParent(modules, path.join(root, '.cache', 'classroom'));
    const sandbox = new Sandbox(fs.mkdtempSync(path.join(parent, 'lg-sandbox-')));
    liveSandboxes.add(sandbox.dir);
    if (!exitHook) process.once('exit', () => liveSandboxes.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
    exitHook = true;
    try {
      const mirror = path.join(sandbox.dir, 'node_modules');
      const self = path.join(mirror, 'latent-geometry');
      mirrorTree(modules, mirror, (name) => name === 'latent-geometry' || name === '.bin' || name.startsWith('.package-lock'));
      fs.mkdirSync(self);
      fs.copyFileSync(path.join(root, 'package.json'), path.join(self, 'package.json'));
      mirrorTree(path.join(root, 'dist'), path.join(self, 'dist'));
    } catch (err) {
      sandbox.dispose();
      throw err;
    }
    return sandbox;
  }

  get modules(): string {
    return path.join(this.dir, 'node_modules');
  }

  /** The compiled kernel inside the mirror (a sandboxed kernel cannot read the checkout's). */
  get kernelScript(): string {
    return path.join(this.modules, 'latent-geometry', 'dist', 'lib', 'notebook', 'kernel-child.js');
  }

  /** The autograder's kernel (grading-kernel.ts) inside the mirror. */
  get gradingKernelScript(): string {
    return path.join(this.modules, 'latent-geometry', 'dist', 'lib', 'classroom', 'grading-kernel.js');
  }

  /** Loaded before the kernel: no file watching (see sandbox-preload.ts). */
  get preloadScript(): string {
    return path.join(this.modules, 'latent-geometry', 'dist', 'lib', 'classroom', 'sandbox-preload.js');
  }

  /**
   * A fresh working folder for one submission: the kernel's working directory, read-only, holding the
   * only writable folder, `tmp/` (the kernel's HOME and TMPDIR). A writable working directory would let
   * a submission plant node_modules/latent-geometry there and replace the package, check helpers
   * included, for the check cells that import it: module lookup walks up from the working directory,
   * never down into tmp/.
   */
  workspace(): string {
    const dir = path.join(this.dir, `work-${++this.workspaces}`);
    fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    return dir;
  }

  /**
   * Node flags for a kernel working in `workspace`: read the packages and the workspace, write its tmp/
   * only. Other submissions' workspaces are neither readable nor writable.
   */
  nodeArgs(workspace: string): string[] {
    return [
      permissionFlag(),
      `--allow-fs-read=${this.modules}`,
      `--allow-fs-read=${workspace}`,
      `--allow-fs-write=${writableDir(workspace)}`,
      ...(process.allowedNodeEnvironmentFlags.has('--disable-warning') ? ['--disable-warning=ExperimentalWarning'] : []),
      '--require',
      this.preloadScript,
    ];
  }

  /** The only environment a sandboxed kernel sees. */
  env(workspace: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const tmp = writableDir(workspace);
    return { HOME: tmp, TMPDIR: tmp, LSO_PROFILE: 'quick', LSO_QUIET: '1', LSO_THREADS: '1', LSO_FIGURES_DIR: path.join(tmp, 'figures'), ...extra };
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    liveSandboxes.delete(this.dir);
  }
}

/** Sandboxes not disposed yet: removed when the process exits (a CLI turns SIGINT and SIGTERM into exit). */
const liveSandboxes = new Set<string>();
let exitHook = false;

/** The checkout this module belongs to (whatever folder holds the course). */
export function packageRoot(): string {
  const root = findRepoRoot(__dirname);
  if (!root) throw new InputError(__dirname, `not inside a checkout of ${PACKAGE_NAME}`);
  return root;
}

/** The one folder a sandboxed kernel may write to. */
export function writableDir(workspace: string): string {
  return path.join(workspace, 'tmp');
}

/** Node 20 calls the permission model experimental; later versions name the flag --permission. */
function permissionFlag(): string {
  return process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
}

/** Messages Node gives when the permission model refuses something. */
export const ACCESS_DENIED = /ERR_ACCESS_DENIED|Access to this API has been restricted|requires full fs\.read and fs\.write permissions/;
