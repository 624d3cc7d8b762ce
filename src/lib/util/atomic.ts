/**
 * Writing output files so that nothing is lost and nothing is half-written:
 * - a regular file (or a new one) is written to a temporary sibling with a name that cannot collide
 *   (pid and random bytes, created exclusively), fsynced, renamed over the target (atomic on POSIX within
 *   one file system), and the directory fsynced; an existing file keeps its permission bits;
 * - a symbolic link is followed: its target is replaced atomically and the link stays a link;
 * - a FIFO or a character device (/dev/null, a terminal) is written through, as a shell redirection
 *   would: renaming over it would replace the device node by a regular file; /dev/stdout and /dev/stderr
 *   (also as /dev/fd/1, /proc/self/fd/2...) go to the process's own streams, whatever they are;
 * - a directory, a socket or a block device is refused with the reason (writing JSON over a disk is
 *   never what was meant);
 * - the async writer removes its temporary file when the process gets SIGINT or SIGTERM, then exits
 *   with 130 or 143 as a shell expects.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from './errors';

/** Where a write to a path lands. */
export interface OutputTarget {
  /** The path written: symbolic links resolved. */
  path: string;
  /** 'file': written atomically (new or regular); 'stream': written through (FIFO, character device). */
  kind: 'file' | 'stream';
  /** An existing regular file's stat, whose mode (and, as root, owner) the new file keeps. */
  existing?: fs.Stats;
  /**
   * kind 'stream' to this process's own stdout (1) or stderr (2), named as /dev/stdout, /dev/fd/1,
   * /proc/self/fd/1...: written through the process's stream, since a socket (as a parent process's
   * pipe often is) cannot be opened by name.
   */
  stdio?: 1 | 2;
}

/** The fd 1 or 2 that a name such as /dev/stdout, /dev/fd/2 or /proc/self/fd/1 stands for, else null. */
function stdioOf(file: string): 1 | 2 | null {
  const p = path.resolve(file);
  const m = /^\/(?:dev\/fd|proc\/self\/fd|proc\/\d+\/fd)\/([12])$/.exec(p);
  if (m && (!p.startsWith('/proc/') || p.startsWith('/proc/self/') || p.startsWith(`/proc/${process.pid}/`))) return Number(m[1]) as 1 | 2;
  return p === '/dev/stdout' ? 1 : p === '/dev/stderr' ? 2 : null;
}

const MAX_LINK_HOPS = 40;

/**
 * Resolves `file` (following symbolic links, also dangling ones, whose target is then created, and the
 * kernel's magic links such as /dev/stdout -> /proc/self/fd/1 -> pipe:[...]) and says how it will be
 * written. Throws an InputError naming `where` for a target that is not written to: a directory, a
 * socket, a block device, a link loop.
 */
export function resolveOutputTarget(file: string, where: string = file): OutputTarget {
  const stdio = stdioOf(file);
  if (stdio !== null) return { path: path.resolve(file), kind: 'stream', stdio };
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new InputError(where, `${file}: too many levels of symbolic links (a loop?)`);
    // Missing, or under something that is no folder (ENOTDIR): whoever writes it reports that.
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new InputError(where, `cannot look at ${file} (${code ?? String(err)})`);
  }
  if (st?.isFile()) return { path: fs.realpathSync(file), kind: 'file', existing: st };
  // Opened by its own name, which also works for magic links that have no path to resolve to.
  if (st?.isFIFO() || st?.isCharacterDevice()) return { path: path.resolve(file), kind: 'stream' };
  if (st) {
    const what = st.isDirectory() ? 'a directory' : st.isSocket() ? 'a socket' : st.isBlockDevice() ? 'a block device' : 'not a regular file';
    const real = realpathOrSelf(file);
    const via = real === path.resolve(file) ? '' : ` (a link to ${real})`;
    throw new InputError(where, `${file}${via} is ${what}; expected a file name (a FIFO or a character device such as /dev/null is written through)`);
  }
  return { path: danglingTarget(file, where), kind: 'file' };
}

function realpathOrSelf(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** The path a missing `file` is created at: the end of its chain of (dangling) symbolic links. */
function danglingTarget(file: string, where: string): string {
  let p = path.resolve(file);
  for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
    let link: string;
    try {
      if (!fs.lstatSync(p).isSymbolicLink()) return p;
      link = fs.readlinkSync(p);
    } catch {
      return p; // missing (or under a missing folder): created as it is
    }
    p = path.resolve(path.dirname(p), link);
  }
  throw new InputError(where, `${file}: too many levels of symbolic links (a loop?)`);
}

/** `.NAME.<pid>.<12 random hex>.tmp` beside the target, NAME cut so that the whole stays within 255 bytes. */
function tempName(target: string): string {
  const base = Buffer.from(path.basename(target)).subarray(0, 200).toString().replace(/\uFFFD+$/, '');
  return path.join(path.dirname(target), `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** The mode for the new file: an existing file's permission bits, else the default 0666 less the umask. */
function keepOwnership(fd: number, existing: fs.Stats | undefined): void {
  if (!existing) return;
  fs.fchmodSync(fd, existing.mode & 0o7777);
  // Only root can give a file away; for anyone else the file is theirs, as with any new file.
  if (process.getuid?.() === 0) fs.fchownSync(fd, existing.uid, existing.gid);
}

/** fsync of the directory, so that the rename itself survives a crash (not possible on every platform). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open a directory; some file systems refuse fsync on one. The data itself is synced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Writes a file so that readers never see it half-written (see the top of this file). Parent folders are
 * created. On failure the temporary file is removed. Synchronous: a signal during the write ends the
 * process by default and may leave the temporary file; long writes of the CLI use writeFileAtomicAsync.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const target = resolveOutputTarget(file);
  if (target.stdio) {
    (target.stdio === 1 ? process.stdout : process.stderr).write(data);
    return;
  }
  if (target.kind === 'stream') {
    fs.writeFileSync(target.path, data);
    return;
  }
  fs.mkdirSync(path.dirname(target.path), { recursive: true });
  const tmp = tempName(target.path);
  try {
    const fd = fs.openSync(tmp, 'wx', 0o666);
    try {
      keepOwnership(fd, target.existing);
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target.path);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  syncDirectory(path.dirname(target.path));
}

/** JSON with a trailing newline, written atomically. */
export function writeJsonAtomic(file: string, value: unknown, indent = 2): void {
  writeFileAtomic(file, JSON.stringify(value, null, indent) + '\n');
}

// --- temporary files removed on SIGINT / SIGTERM ---

const pendingTemps = new Set<string>();
const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

function onSignal(signal: 'SIGINT' | 'SIGTERM'): void {
  for (const tmp of pendingTemps) fs.rmSync(tmp, { force: true });
  process.exit(SIGNAL_EXIT[signal]);
}

/**
 * The handlers are installed only while a temporary file exists: during a long synchronous compute
 * a handler would keep Ctrl-C from ending the process at all.
 */
function trackTemp(tmp: string): void {
  if (pendingTemps.size === 0) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
  pendingTemps.add(tmp);
}

function untrackTemp(tmp: string): void {
  if (!pendingTemps.delete(tmp) || pendingTemps.size > 0) return;
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
}

/** Data to write: one string or buffer, or pieces (so that a large result need not be one string). */
export type WriteData = string | Uint8Array | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

const SLICE = 1 << 22;

async function* pieces(data: WriteData): AsyncGenerator<Uint8Array> {
  const whole = typeof data === 'string' ? Buffer.from(data) : data instanceof Uint8Array ? data : null;
  if (whole) {
    // In slices, so that a signal is handled between them.
    for (let at = 0; at < whole.length; at += SLICE) yield whole.subarray(at, at + SLICE);
    return;
  }
  for await (const p of data as AsyncIterable<string | Uint8Array>) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function writeAll(fh: fs.promises.FileHandle, data: WriteData): Promise<void> {
  for await (const p of pieces(data)) {
    for (let at = 0; at < p.length; ) at += (await fh.write(p, at, p.length - at)).bytesWritten;
  }
}

/**
 * writeFileAtomic for long writes: asynchronous, in pieces, and on SIGINT / SIGTERM the temporary file
 * is removed and the process exits with 130 / 143. A FIFO is opened without blocking the event loop.
 */
export async function writeFileAtomicAsync(file: string, data: WriteData): Promise<void> {
  const target = resolveOutputTarget(file);
  if (target.stdio) {
    const stream = target.stdio === 1 ? process.stdout : process.stderr;
    for await (const p of pieces(data)) await new Promise<void>((resolve, reject) => stream.write(p, (err) => (err ? reject(err) : resolve())));
    return;
  }
  if (target.kind === 'stream') {
    const fh = await fs.promises.open(target.path, 'w');
    try {
      await writeAll(fh, data);
    } finally {
      await fh.close();
    }
    return;
  }
  await fs.promises.mkdir(path.dirname(target.path), { recursive: true });
  const tmp = tempName(target.path);
  const fh = await fs.promises.open(tmp, 'wx', 0o666);
  trackTemp(tmp);
  try {
    try {
      keepOwnership(fh.fd, target.existing);
      await writeAll(fh, data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, target.path);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  } finally {
    untrackTemp(tmp);
  }
  syncDirectory(path.dirname(target.path));
}

/**
 * Refuses an output path that is one of the inputs (the same file by device and inode, so also through
 * a symbolic or hard link): writing it would destroy the input. `inputs` maps names for the message
 * (e.g. '--points') to paths.
 */
export function refuseOutputOverInput(out: string, outName: string, inputs: Record<string, string>): void {
  let o: fs.Stats;
  try {
    o = fs.statSync(out);
  } catch {
    return; // does not exist (yet), so it is none of the existing inputs
  }
  // Writing through to /dev/null or a FIFO destroys nothing, even if it was also given as an input.
  if (!o.isFile()) return;
  for (const [name, file] of Object.entries(inputs)) {
    let i: fs.Stats;
    try {
      i = fs.statSync(file);
    } catch {
      continue;
    }
    if (i.dev === o.dev && i.ino === o.ino) {
      throw new InputError(outName, `${out} is the same file as ${name} ${file}; writing it would destroy the input (choose another output file)`);
    }
  }
}
