import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file so that readers never see it half-written: write a temporary sibling, then rename (atomic
 * on POSIX within one file system). Parent folders are created. On failure the temporary file is removed.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** JSON with a trailing newline, written atomically. */
export function writeJsonAtomic(file: string, value: unknown, indent = 2): void {
  writeFileAtomic(file, JSON.stringify(value, null, indent) + '\n');
}
