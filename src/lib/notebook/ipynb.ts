/**
 * Jupyter's notebook format (nbformat 4), read and written the way Jupyter does (sorted keys, one-space
 * indent, multi-line text as lists of lines), so a notebook run headless diffs cleanly against one saved
 * from Jupyter.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { writeFileAtomic } from '../util/atomic';
import { InputError } from '../util/errors';

/** A JSON mime type's value (application/vnd.plotly.v1+json, application/json) is stored as an object. */
export type MimeValue = string | string[] | { [key: string]: unknown };
export type MimeBundle = Record<string, MimeValue>;

/** Mime types whose value is JSON (kept as an object on disk), per nbformat. */
export function isJsonMime(mime: string): boolean {
  return mime === 'application/json' || /^application\/.+\+json$/.test(mime);
}

export interface StreamOutput {
  output_type: 'stream';
  name: 'stdout' | 'stderr';
  text: string | string[];
}
export interface DisplayDataOutput {
  output_type: 'display_data';
  data: MimeBundle;
  metadata: Record<string, unknown>;
}
export interface ExecuteResultOutput {
  output_type: 'execute_result';
  data: MimeBundle;
  metadata: Record<string, unknown>;
  execution_count: number | null;
}
export interface ErrorOutput {
  output_type: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

export interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  metadata: Record<string, unknown>;
  id?: string;
  outputs?: Output[];
  execution_count?: number | null;
  [key: string]: unknown;
}

export interface NotebookJson {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** Text of a stream or mime value: line lists joined, JSON values as JSON text. */
export function joinText(text: MimeValue): string {
  if (Array.isArray(text)) return text.join('');
  return typeof text === 'string' ? text : JSON.stringify(text);
}

/** "a\nb\n" -> ["a\n", "b\n"]: nbformat's on-disk form of multi-line strings. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function cellSource(cell: Cell): string {
  return joinText(cell.source);
}

export function readNotebook(file: string): NotebookJson {
  let nb: NotebookJson;
  try {
    nb = JSON.parse(fs.readFileSync(file, 'utf8')) as NotebookJson;
  } catch (err) {
    throw new InputError(file, `not a readable notebook: ${(err as Error).message}`);
  }
  if (nb.nbformat !== 4 || !Array.isArray(nb.cells)) throw new InputError(file, `expected an nbformat 4 notebook, got nbformat ${String(nb.nbformat)}`);
  return nb;
}

/** Text mime types and streams are stored as line lists; base64 images stay single strings. */
function diskBundle(data: MimeBundle): MimeBundle {
  return Object.fromEntries(
    Object.entries(data).map(([mime, v]) => [mime, !isJsonMime(mime) && (mime.startsWith('text/') || mime === 'image/svg+xml') ? splitLines(joinText(v)) : v]),
  );
}

function diskOutput(o: Output): Output {
  switch (o.output_type) {
    case 'stream':
      return { ...o, text: splitLines(joinText(o.text)) };
    case 'display_data':
    case 'execute_result':
      return { ...o, data: diskBundle(o.data) };
    default:
      return o;
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export function serializeNotebook(nb: NotebookJson): string {
  const cells = nb.cells.map((c) => ({
    ...c,
    source: splitLines(joinText(c.source)),
    ...(c.outputs ? { outputs: c.outputs.map(diskOutput) } : {}),
  }));
  return JSON.stringify(sortKeys({ ...nb, cells }), null, 1) + '\n';
}

/** nbformat >= 4.5 requires cell ids; Jupyter adds missing ones on save, and so do we (once: then they stay). */
export function ensureCellIds(nb: NotebookJson): void {
  if (nb.nbformat_minor < 5) return;
  const used = new Set(nb.cells.map((c) => c.id).filter((id): id is string => typeof id === 'string'));
  for (const cell of nb.cells) {
    if (typeof cell.id === 'string') continue;
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (used.has(id));
    used.add(id);
    cell.id = id;
  }
}

export function writeNotebook(file: string, nb: NotebookJson): void {
  writeFileAtomic(file, serializeNotebook(nb));
}

/** What a terminal would show: text after the last carriage return of each line (progress bars redraw). */
export function collapseCarriageReturns(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const trimmed = line.replace(/\r+$/, '');
      return trimmed.slice(trimmed.lastIndexOf('\r') + 1);
    })
    .join('\n');
}

/** Adjacent stream chunks of one stream become one output, as Jupyter front-ends show them. */
export function coalesceStreams(outputs: Output[]): Output[] {
  const out: Output[] = [];
  for (const o of outputs) {
    const last = out[out.length - 1];
    if (o.output_type === 'stream' && last?.output_type === 'stream' && last.name === o.name) {
      out[out.length - 1] = { ...last, text: joinText(last.text) + joinText(o.text) };
    } else {
      out.push(o.output_type === 'stream' ? { ...o, text: joinText(o.text) } : o);
    }
  }
  return out.map((o) => (o.output_type === 'stream' ? { ...o, text: collapseCarriageReturns(joinText(o.text)) } : o));
}
