// Notebooks import the library by its package name (tslab refuses imports outside the notebook's folder),
// so the package must resolve from node_modules. Link it to this checkout after every install.
const fs = require('node:fs');
const path = require('node:path');
const root = path.resolve(__dirname, '..');
const link = path.join(root, 'node_modules', 'latent-geometry');
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  const st = fs.lstatSync(link);
  if (st.isSymbolicLink() && fs.readlinkSync(link) === '..') process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {}
fs.symlinkSync('..', link, 'dir');
