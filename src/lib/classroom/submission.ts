/**
 * Reading a submission as untrusted input: every field the grader uses is checked, and a malformed
 * notebook gets one line naming the file, the cell and the field (not "text.match is not a function" from
 * deep inside). The result holds fresh objects with the known fields only; outputs are dropped (the
 * grader runs the notebook itself).
 */
import * as fs from 'node:fs';
import type { Cell, NotebookJson } from '../notebook/ipynb';
import { InputError } from '../util/errors';

/** Submissions larger than this are refused before parsing. */
export const MAX_SUBMISSION_BYTES = 20 << 20;

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function text(v: unknown, where: string, field: string): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join('');
  throw new InputError(where, `field "${field}" must be a string or a list of strings, got ${kind(v)}`);
}

function checkNbgrader(meta: unknown, where: string): void {
  if (meta === undefined) return;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new InputError(where, `field "metadata.nbgrader" must be an object, got ${kind(meta)}`);
  const m = meta as Record<string, unknown>;
  if (m.grade_id !== undefined && typeof m.grade_id !== 'string') throw new InputError(where, `field "metadata.nbgrader.grade_id" must be a string, got ${kind(m.grade_id)}`);
  for (const flag of ['grade', 'solution', 'locked'] as const) {
    if (m[flag] !== undefined && typeof m[flag] !== 'boolean') throw new InputError(where, `field "metadata.nbgrader.${flag}" must be true or false, got ${kind(m[flag])}`);
  }
}

/** A submission's notebook from parsed JSON; `file` names it in errors. */
export function parseSubmission(raw: unknown, file: string): NotebookJson {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(file, `not a notebook: the top level must be an object, got ${kind(raw)}`);
  const nb = raw as Record<string, unknown>;
  if (nb.nbformat !== 4) throw new InputError(file, `field "nbformat" must be 4 (a Jupyter notebook), got ${JSON.stringify(nb.nbformat) ?? 'nothing'}`);
  if (!Array.isArray(nb.cells)) throw new InputError(file, `field "cells" must be a list, got ${kind(nb.cells)}`);
  const cells: Cell[] = nb.cells.map((c: unknown, i: number) => {
    const where = `${file}: cell ${i + 1}`;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new InputError(where, `must be an object, got ${kind(c)}`);
    const cell = c as Record<string, unknown>;
    const type = cell.cell_type;
    if (type !== 'code' && type !== 'markdown' && type !== 'raw') throw new InputError(where, `field "cell_type" must be "code", "markdown" or "raw", got ${JSON.stringify(type) ?? 'nothing'}`);
    const source = text(cell.source ?? '', where, 'source');
    const metadata = cell.metadata ?? {};
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new InputError(where, `field "metadata" must be an object, got ${kind(metadata)}`);
    checkNbgrader((metadata as Record<string, unknown>).nbgrader, where);
    const out: Cell = { cell_type: type, source, metadata: structuredClone(metadata) as Record<string, unknown> };
    if (typeof cell.id === 'string') out.id = cell.id;
    if (type === 'code') {
      out.outputs = [];
      out.execution_count = null;
    }
    return out;
  });
  const metadata = typeof nb.metadata === 'object' && nb.metadata !== null && !Array.isArray(nb.metadata) ? (structuredClone(nb.metadata) as Record<string, unknown>) : {};
  return { cells, metadata, nbformat: 4, nbformat_minor: typeof nb.nbformat_minor === 'number' ? nb.nbformat_minor : 5 };
}

/** Reads and checks a submission file. */
export function readSubmission(file: string): NotebookJson {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (err) {
    throw new InputError(file, `cannot read the submission (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (size > MAX_SUBMISSION_BYTES) throw new InputError(file, `the submission is ${Math.round(size / (1 << 20))} MB, more than the limit of ${MAX_SUBMISSION_BYTES >> 20} MB`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(file, `not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  return parseSubmission(raw, file);
}
