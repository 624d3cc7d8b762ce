/**
 * Loaded with --require into every sandboxed kernel (sandbox.ts), before tslab: turns file watching off.
 *
 * tslab's compiler watches the files it has read, and a change event while it has a rebuild pending
 * throws ("Unexpected pending rebuildTimer") from the event handler, which kills the kernel. The package
 * mirror is made of hard links, so removing another mirror (another grading run finishing) changes the
 * link count of the very files a kernel watches and fires those events. A grading kernel has no use for
 * watching: the files it reads do not change while it runs.
 */
import { EventEmitter } from 'node:events';
// The module object itself (a namespace import would be a read-only copy).
import fs = require('node:fs');

/** A watcher that never fires: enough of fs.FSWatcher / fs.StatWatcher for TypeScript's use. */
function inertWatcher(): fs.FSWatcher & fs.StatWatcher {
  const w = new EventEmitter() as fs.FSWatcher & fs.StatWatcher;
  w.close = () => undefined;
  w.ref = () => w;
  w.unref = () => w;
  return w;
}

fs.watch = (() => inertWatcher()) as unknown as typeof fs.watch;
fs.watchFile = (() => inertWatcher()) as unknown as typeof fs.watchFile;
fs.unwatchFile = (() => undefined) as typeof fs.unwatchFile;
