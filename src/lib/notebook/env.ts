/**
 * Where a notebook runs: its profile (how much compute) and the repository folders it writes to. Both
 * are resolved the same way from Jupyter, from `npm run reproduce` and from tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../util/errors';

export const PACKAGE_NAME = 'latent-geometry';

/** 'quick' for CI and a first look (minutes), 'full' for the papers' numbers (hours). */
export type Profile = 'quick' | 'full';
export const PROFILES: readonly Profile[] = ['quick', 'full'];

/** The profile from LSO_PROFILE (default 'quick'); anything else is an error, not a silent 'quick'. */
export function currentProfile(env: NodeJS.ProcessEnv = process.env): Profile {
  const v = env.LSO_PROFILE === undefined || env.LSO_PROFILE === '' ? 'quick' : env.LSO_PROFILE;
  if ((PROFILES as readonly string[]).includes(v)) return v as Profile;
  throw new InputError('LSO_PROFILE', `expected one of ${PROFILES.map((p) => `"${p}"`).join(', ')}, got "${v}"`);
}

/** The value for the current profile, e.g. `byProfile({ quick: 2, full: 50 })` epochs. */
export function byProfile<T>(choices: Record<Profile, T>, profile: Profile = currentProfile()): T {
  return choices[profile];
}

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

/**
 * The checkout: found from the working directory (a notebook's folder in Jupyter), else from this file,
 * which Node loads through its real path even when `latent-geometry` is a symlink in node_modules.
 */
export function repoRoot(cwd: string = process.cwd()): string {
  const root = findRepoRoot(cwd) ?? findRepoRoot(__dirname);
  if (!root) throw new InputError('repository', `no folder above ${cwd} has a package.json named "${PACKAGE_NAME}"`);
  return root;
}

/** figures/ of the checkout, or $LSO_FIGURES_DIR (tests and checks write elsewhere). */
export function figuresRoot(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  if (env.LSO_FIGURES_DIR) return path.resolve(cwd, env.LSO_FIGURES_DIR);
  return path.join(repoRoot(cwd), 'figures');
}
