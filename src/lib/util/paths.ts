/**
 * The checkout, and paths as notebooks and logs show them. Outputs that get committed (notebook outputs,
 * results.json) must not carry the absolute paths of the machine that ran them, so every path a user
 * sees is relative to the checkout: `.cache/models/vae-....json`, `figures/02-expected-metric/results.json`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PACKAGE_NAME = 'latent-geometry';

function isPackageRoot(dir: string): boolean {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    return pkg.name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** The nearest folder at or above `start` whose package.json is this package, or null. */
export function findRepoRoot(start: string): string | null {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (isPackageRoot(dir)) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

/** The checkout from the working directory, else from this file (loaded through its real path); or null. */
export function findCheckout(cwd: string = process.cwd()): string | null {
  return findRepoRoot(cwd) ?? findRepoRoot(__dirname);
}

/**
 * `file` relative to the checkout `root` when it lies inside it (with '/' separators), else unchanged:
 * what logs and notebook outputs print.
 */
export function checkoutPath(file: string, root: string | null = findCheckout()): string {
  if (!root) return file;
  const rel = path.relative(root, path.resolve(file));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return file;
  return rel.split(path.sep).join('/');
}

/**
 * Every occurrence of the checkout's absolute path in `text` made relative (`<root>/a/b` -> `a/b`): the last
 * guard before notebook outputs are saved, for paths printed by code that does not use checkoutPath.
 */
export function relativizeText(text: string, root: string): string {
  const base = root.replace(/[\\/]+$/, '');
  if (!base) return text;
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`${escaped}(?:[\\\\/]|(?![\\w.-]))`, 'g'), (m) => (m.length > base.length ? '' : '.'));
}
