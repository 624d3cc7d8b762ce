/**
 * Where a notebook runs: its profile (how much compute) and the folders it writes to. Both are resolved
 * the same way from Jupyter, from `npm run reproduce` and from tests.
 *
 * The full profile owns what is committed: figures/ and the notebooks' outputs. The quick profile (the
 * default, and CI's) writes to out/quick/ (git-ignored), so a first look never spoils the committed
 * full-profile figures and numbers, headless or in Jupyter.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../util/errors';
import { PACKAGE_NAME, findCheckout, findRepoRoot } from '../util/paths';

export { PACKAGE_NAME, findRepoRoot };

/** 'quick' for CI and a first look (minutes), 'full' for the papers' numbers (hours). */
export type Profile = 'quick' | 'full';
export const PROFILES: readonly Profile[] = ['quick', 'full'];

/** A one-word file at the checkout's root that picks the profile when LSO_PROFILE is not set (git-ignored). */
export const PROFILE_FILE = '.lso-profile';

function checkProfile(value: string, where: string): Profile {
  if ((PROFILES as readonly string[]).includes(value)) return value as Profile;
  throw new InputError(where, `expected one of ${PROFILES.map((p) => `"${p}"`).join(', ')}, got "${value}"`);
}

/**
 * The profile: LSO_PROFILE when set, else the word in `<checkout>/.lso-profile` (for Jupyter started where
 * no environment variable can be set), else 'quick'. Anything else is an error, not a silent 'quick'.
 * `root` is the checkout whose .lso-profile counts (null: none).
 */
export function currentProfile(env: NodeJS.ProcessEnv = process.env, root: string | null = findCheckout()): Profile {
  if (env.LSO_PROFILE !== undefined && env.LSO_PROFILE !== '') return checkProfile(env.LSO_PROFILE, 'LSO_PROFILE');
  if (root) {
    const file = path.join(root, PROFILE_FILE);
    if (fs.existsSync(file)) return checkProfile(fs.readFileSync(file, 'utf8').trim(), file);
  }
  return 'quick';
}

/** The value for the current profile, e.g. `byProfile({ quick: 2, full: 50 })` epochs. */
export function byProfile<T>(choices: Record<Profile, T>, profile: Profile = currentProfile()): T {
  return choices[profile];
}

/**
 * The checkout: found from the working directory (a notebook's folder in Jupyter), else from this file,
 * which Node loads through its real path even when `latent-geometry` is a symlink in node_modules.
 */
export function repoRoot(cwd: string = process.cwd()): string {
  const root = findCheckout(cwd);
  if (!root) throw new InputError('repository', `no folder above ${cwd} has a package.json named "${PACKAGE_NAME}"`);
  return root;
}

/** The quick profile's output folder, relative to the checkout. */
export const QUICK_OUTPUT_DIR = path.join('out', 'quick');

/**
 * The figures root of `profile`: $LSO_FIGURES_DIR when set, else figures/ of the checkout for the full
 * profile and out/quick/ for the quick one. Each notebook writes to <root>/<notebook>/.
 */
export function outputRoot(profile: Profile, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  if (env.LSO_FIGURES_DIR) return path.resolve(cwd, env.LSO_FIGURES_DIR);
  return path.join(repoRoot(cwd), profile === 'full' ? 'figures' : QUICK_OUTPUT_DIR);
}

/** The figures root of the current profile (see outputRoot). */
export function figuresRoot(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return outputRoot(currentProfile(env, findCheckout(cwd)), env, cwd);
}

/** Whether `dir` is the checkout's committed figures/ folder (whose notebooks' outputs are committed too). */
export function isCommittedFigures(dir: string, cwd: string = process.cwd()): boolean {
  return path.resolve(dir) === path.join(repoRoot(cwd), 'figures');
}

/** Set by the runner for its kernels: a staging folder that mirrors the figures root (see workbook-run.ts). */
export const ENV_STAGE_DIR = 'LSO_STAGE_DIR';
