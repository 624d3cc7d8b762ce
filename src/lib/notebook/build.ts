/**
 * Notebooks import the package by name, i.e. dist/ through node_modules/latent-geometry. Running them on
 * a stale or missing build would give old results silently, so the runner checks (and builds) first.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type BuildState = 'missing' | 'stale' | 'fresh';

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(ext)) continue;
    const file = path.join(entry.parentPath, entry.name);
    newest = Math.max(newest, fs.statSync(file).mtimeMs);
  }
  return newest;
}

/** Whether dist/lib/index.js exists and is newer than every source file. */
export function buildState(root: string): BuildState {
  const entry = path.join(root, 'dist', 'lib', 'index.js');
  if (!fs.existsSync(entry)) return 'missing';
  return newestMtime(path.join(root, 'src'), '.ts') > fs.statSync(entry).mtimeMs ? 'stale' : 'fresh';
}

export interface EnsureBuiltResult {
  state: BuildState;
  /** Seconds spent in tsc, 0 when the build was fresh. */
  seconds: number;
}

/**
 * Builds with the project's tsc when dist/ is missing or stale and links node_modules/latent-geometry.
 * Throws with tsc's first errors when the build fails: results from half-compiled code are not results.
 */
export function ensureBuilt(root: string, log: (msg: string) => void = () => undefined): EnsureBuiltResult {
  const state = buildState(root);
  let seconds = 0;
  if (state !== 'fresh') {
    log(`dist/ is ${state}: building (tsc -p tsconfig.json) ...`);
    const t0 = Date.now();
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const res = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
    seconds = (Date.now() - t0) / 1000;
    if (res.status !== 0) {
      const errors = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(0, 20).join('\n');
      throw new Error(`npm run build failed (tsc exit ${res.status ?? res.signal}); fix these or pass --no-build:\n${errors}`);
    }
  }
  const link = spawnSync(process.execPath, [path.join(root, 'scripts', 'link-self.cjs')], { cwd: root, encoding: 'utf8' });
  if (link.status !== 0) throw new Error(`node scripts/link-self.cjs failed: ${link.stderr}`);
  return { state, seconds };
}
