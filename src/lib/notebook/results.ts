/**
 * A notebook's numbers: results.json (what the gallery and the papers' tables read) and CSV tables.
 * Both are written atomically so a crashed run never leaves a half-written file that looks valid.
 */
import * as path from 'node:path';
import type { DataFrame } from 'nodejs-polars';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic';
import { InputError } from '../util/errors';
import { checkPlainName } from '../plots/export';
import { currentProfile, type Profile } from './env';

export const RESULTS_FILE = 'results.json';

/** `values` with the run's profile first, refusing a conflicting `profile` key rather than hiding it. */
export function withProfile(values: Record<string, unknown>, profile: Profile): Record<string, unknown> {
  if ('profile' in values && values.profile !== profile) {
    throw new InputError('results.profile', `the run's profile is "${profile}" (LSO_PROFILE) but the results say "${String(values.profile)}"`);
  }
  return { profile, ...values };
}

/** Writes dir/results.json (pretty, atomic) with `profile` always present; returns its path. */
export function writeResults(dir: string, values: Record<string, unknown>, profile: Profile = currentProfile()): string {
  const file = path.join(dir, RESULTS_FILE);
  writeJsonAtomic(file, withProfile(values, profile));
  return file;
}

/** nodejs-polars loads a ~100 MB native module: only pay for it when a table is written. */
function polars(): typeof import('nodejs-polars') {
  return require('nodejs-polars') as typeof import('nodejs-polars');
}

/** Writes dir/name.csv through polars and returns the DataFrame, which a notebook cell can show. */
export function writeTable(dir: string, name: string, rows: Record<string, unknown>[]): DataFrame {
  checkPlainName(name, 'table name');
  if (!Array.isArray(rows) || rows.length === 0) throw new InputError(`table ${name}`, 'expected a non-empty array of rows');
  const df = polars().DataFrame(rows);
  writeFileAtomic(path.join(dir, `${name}.csv`), df.writeCSV());
  return df;
}
