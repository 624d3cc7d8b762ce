/**
 * The one model store: trained models live in .cache/models as `<kind>-<key>.json`, the key a sha256 of
 * everything that decides the weights (the resolved configs and the training data's fingerprint), so that
 * a notebook re-run with the same config and data reloads instead of training, and several checkouts share
 * one cache. A file that cannot be used (unreadable, corrupt, another key) is reported and replaced; a new
 * file is written atomically (weights.ts's format inside).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../util/errors';
import { isInNotebook } from '../util/progress';
import { checkoutPath } from '../util/paths';

/** sha256 (hex) of the array's bytes: two arrays get the same fingerprint exactly when their values are equal. */
export function fingerprintData(x: Float32Array): string {
  return crypto.createHash('sha256').update(Buffer.from(x.buffer, x.byteOffset, x.byteLength)).digest('hex');
}

/** JSON with object keys sorted, so that key order does not change a hash. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Where the store's lines go by default: stderr (stdout in a notebook); nothing under LSO_QUIET=1. */
export function storeLog(line: string): void {
  if (process.env.LSO_QUIET === '1') return;
  (isInNotebook() ? process.stdout : process.stderr).write(`${line}\n`);
}

/** The store's file of a model: `<cacheDir>/<prefix>-<first 24 hex of key>.json`. */
export function storeFile(cacheDir: string, prefix: string, key: string): string {
  return path.join(cacheDir, `${prefix}-${key.slice(0, 24)}.json`);
}

export interface StoreEntry<T> {
  /** The file (see storeFile). */
  file: string;
  /** Names the model in the log lines. */
  label: string;
  /** Reads the file; throws InputError (or SyntaxError) when it cannot be used. */
  load(file: string): T;
  /** Trains a fresh model. */
  train(): Promise<T>;
  /** Writes the model to the file (atomically). */
  save(file: string, value: T): void;
  /** The log line after a load and after training (default: plain ones); `file` comes relative to the checkout. */
  loadedLine?(value: T, file: string): string;
  trainedLine?(value: T, file: string, seconds: number): string;
  /** Train even if a stored model exists (and overwrite it). */
  force?: boolean;
  log?: (line: string) => void;
  /** Frees a value whose save failed. */
  dispose?(value: T): void;
}

/** The stored model when there is a usable one, else a freshly trained and stored one. */
export async function loadOrTrain<T>(entry: StoreEntry<T>): Promise<{ value: T; fromCache: boolean; file: string }> {
  const log = entry.log ?? storeLog;
  const { file, label } = entry;
  if (!entry.force && fs.existsSync(file)) {
    try {
      const value = entry.load(file);
      log(entry.loadedLine ? entry.loadedLine(value, checkoutPath(file)) : `${label}: loaded from ${checkoutPath(file)}`);
      return { value, fromCache: true, file };
    } catch (err) {
      if (!(err instanceof InputError) && !(err instanceof SyntaxError)) throw err;
      log(`${label}: ignoring an unusable cache file (${err.message}); training again`);
    }
  }
  const start = Date.now();
  const value = await entry.train();
  try {
    entry.save(file, value);
  } catch (err) {
    entry.dispose?.(value);
    throw err;
  }
  log(entry.trainedLine ? entry.trainedLine(value, checkoutPath(file), (Date.now() - start) / 1000) : `${label}: trained and saved to ${checkoutPath(file)}`);
  return { value, fromCache: false, file };
}
