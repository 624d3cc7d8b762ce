/**
 * A notebook's numbers: results.json (what the gallery and the papers' tables read) and CSV tables.
 * Both are written atomically so a crashed run never leaves a half-written file that looks valid.
 *
 * Tables go through nodejs-polars for what it does well: a typed schema (integer columns stay integers
 * in the CSV instead of JavaScript's "1.0"), RFC 4180 quoting, and a typed text rendering; measured cost:
 * about 50 ms and 24 MB resident to load its native module, once per kernel, when the first table is written.
 */
import * as path from 'node:path';
import type { DataFrame } from 'nodejs-polars';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic';
import { InputError } from '../util/errors';
import { checkPlainName } from '../plots/export';
import { escapeHtml } from '../plots/html';
import { currentProfile, type Profile } from './env';
import type { MimeBundle } from './ipynb';

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

/** nodejs-polars loads a native module: only pay for it when a table is written. */
function polars(): typeof import('nodejs-polars') {
  return require('nodejs-polars') as typeof import('nodejs-polars');
}

/** Columns whose every present value is a safe integer (JavaScript has one number type; the CSV should not). */
export function integerColumns(rows: Record<string, unknown>[]): string[] {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return names.filter((name) => {
    let seen = false;
    for (const r of rows) {
      const v = r[name];
      if (v === null || v === undefined) continue;
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return false;
      seen = true;
    }
    return seen;
  });
}

/** The rows as a polars DataFrame with integer columns typed Int64 (polars reads every JS number as Float64). */
export function typedFrame(rows: Record<string, unknown>[]): DataFrame {
  const pl = polars();
  const df = pl.DataFrame(rows);
  const ints = integerColumns(rows);
  return ints.length ? df.withColumns(...ints.map((c) => pl.col(c).cast(pl.Int64))) : df;
}

/** Writes dir/name.csv through polars (integer columns as integers) and returns the typed DataFrame. */
export function writeTable(dir: string, name: string, rows: Record<string, unknown>[]): DataFrame {
  checkPlainName(name, 'table name');
  if (!Array.isArray(rows) || rows.length === 0) throw new InputError(`table ${name}`, 'expected a non-empty array of rows');
  const df = typedFrame(rows);
  writeFileAtomic(path.join(dir, `${name}.csv`), df.writeCSV());
  return df;
}

const TABLE_STYLE = 'border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums';
const CELL_STYLE = 'border:1px solid #ddd;padding:2px 8px;text-align:right';

/** A table's cell as shown: numbers with at most 6 significant digits (the CSV keeps them all). */
function cellText(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString();
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/**
 * A table as one notebook output: text/html (a plain table with each column's type under its name) and
 * text/plain (polars' own typed rendering).
 */
export function tableBundle(name: string, df: DataFrame): MimeBundle {
  const columns = df.columns;
  const types = df.dtypes.map((t) => String(t).replace(/^DataType\((.*)\)$/, '$1'));
  const records = df.toRecords() as Record<string, unknown>[];
  const head = columns.map((c, i) => `<th style="${CELL_STYLE}">${escapeHtml(c)}<br><small style="color:#888;font-weight:normal">${escapeHtml(types[i])}</small></th>`).join('');
  const body = records.map((r) => `<tr>${columns.map((c) => `<td style="${CELL_STYLE}">${escapeHtml(cellText(r[c]))}</td>`).join('')}</tr>`).join('\n');
  const html = `<table style="${TABLE_STYLE}"><caption style="text-align:left;color:#555">${escapeHtml(name)}.csv: ${records.length} rows</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
  return { 'text/html': html, 'text/plain': `${name}.csv\n${String(df)}` };
}

/** One finding set beside the paper's: what the gallery leads a notebook with (results.json's `headline`). */
export interface Headline {
  /** The finding, one line: "sigma far from the data over at the codes, RBF precision net (MNIST {0, 1})". */
  finding: string;
  /** Our value (full profile), e.g. 8063.8, or "0.871 vs 0.867". */
  value: number | string;
  /** How sure: "95% CI 0.85-0.89 over 5 seeds", "single run, seed 1". */
  spread?: string;
  /** The paper's value, only when the paper states it; `source` says where (figure, table, page). */
  paper?: { value: number | string; spread?: string; source: string };
  /** Where and why we differ, one line. */
  note?: string;
}

/** Checks headline entries (an unsourced paper value is refused: never present an unverified number as the paper's). */
export function checkHeadlines(h: Headline | Headline[]): Headline[] {
  const list = Array.isArray(h) ? h : [h];
  if (list.length === 0) throw new InputError('headline', 'expected at least one entry');
  list.forEach((e, i) => {
    const at = `headline[${i}]`;
    if (!e || typeof e.finding !== 'string' || !e.finding.trim()) throw new InputError(`${at}.finding`, 'expected a one-line description of the finding');
    if (typeof e.value !== 'number' && typeof e.value !== 'string') throw new InputError(`${at}.value`, 'expected a number or a string');
    if (e.spread !== undefined && typeof e.spread !== 'string') throw new InputError(`${at}.spread`, 'expected a string such as "95% CI 0.85-0.89 over 5 seeds"');
    if (e.paper !== undefined) {
      if (typeof e.paper.source !== 'string' || !e.paper.source.trim()) throw new InputError(`${at}.paper.source`, "expected where the paper states it (e.g. \"LSO table 1\")");
      if (typeof e.paper.value !== 'number' && typeof e.paper.value !== 'string') throw new InputError(`${at}.paper.value`, 'expected a number or a string');
    }
  });
  return list;
}
