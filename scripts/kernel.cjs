#!/usr/bin/env node
// npm run kernel [-- --python PY] : registers this checkout's tslab as the Jupyter kernel "tslab".
//
// The python that matters is the one whose Jupyter will start the kernel. On Debian, `apt-get install
// jupyter-notebook` puts Jupyter on /usr/bin/python3, while the python3 first on PATH may be pyenv's or
// conda's without Jupyter; so we look for the python that has jupyter_client (and IPython, which tslab's
// installer imports) instead of trusting PATH.
//
// After `tslab install`, kernel.json is rewritten to start this checkout's tslab with this node by
// absolute paths (Jupyter launched from a desktop or a service has no nvm/npx PATH) and to set
// LSO_IN_NOTEBOOK=1, which the library reads to draw progress bars as notebook lines.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tslabBin = path.join(root, 'node_modules', 'tslab', 'bin', 'tslab');

const HELP = `Usage: npm run kernel -- [--python PY] [--print-python]

Registers the TypeScript kernel "tslab" (this checkout's tslab) with Jupyter.

  --python PY      the python of the Jupyter to register with (default: found,
                   see below)
  --print-python   print that python's path and exit (scripts use it)
  -h, --help       this text

The python is the first of: the interpreter of the \`jupyter\` on PATH (its
shebang, or the prefix \`jupyter --paths\` reports), /usr/bin/python3, python3,
python, that can import jupyter_client and IPython.
No Jupyter yet? On Debian/Ubuntu: apt-get install jupyter-notebook python3-ipykernel
(or jupyter-nbconvert python3-ipykernel for headless runs).
`;

function parseArgs(argv) {
  const args = { python: null, printPython: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') return null;
    else if (a === '--print-python') args.printPython = true;
    else if (a === '--python') args.python = argv[++i];
    else if (a.startsWith('--python=')) args.python = a.slice('--python='.length);
    else throw new Error(`unknown argument ${a} (see --help)`);
    if (args.python === undefined) throw new Error('--python needs a value');
  }
  return args;
}

function which(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {}
  }
  return null;
}

/** Pythons that the `jupyter` on PATH runs on, best guess first. */
function jupyterPythons() {
  const found = [];
  const jupyter = which('jupyter');
  if (!jupyter) return found;
  try {
    const first = fs.readFileSync(fs.realpathSync(jupyter), 'utf8').split('\n', 1)[0];
    const m = /^#!\s*(\S*python[\d.]*)\s*$/.exec(first);
    if (m) found.push(m[1]);
  } catch {}
  // A shim (pyenv) is a shell script: ask Jupyter for its data folders, one of which is <prefix>/share/jupyter.
  const res = spawnSync(jupyter, ['--paths', '--json'], { encoding: 'utf8' });
  if (res.status === 0) {
    try {
      for (const dir of JSON.parse(res.stdout).data || []) {
        const m = /^(.*)[\\/]share[\\/]jupyter$/.exec(dir);
        if (m) for (const py of ['python3', 'python']) found.push(path.join(m[1], 'bin', py));
      }
    } catch {}
  }
  return found;
}

/** Why `py` cannot be used, or null when it has what tslab's installer imports. */
function problemWith(py) {
  const res = spawnSync(py, ['-c', 'import sys, jupyter_client, IPython; print(sys.executable)'], { encoding: 'utf8' });
  if (res.error) return `cannot run (${res.error.code || res.error.message})`;
  if (res.status !== 0) {
    const missing = /No module named '([^']+)'/.exec(res.stderr);
    return missing ? `has no ${missing[1]}` : `failed: ${res.stderr.trim().split('\n').pop()}`;
  }
  return null;
}

function findPython(explicit) {
  const candidates = explicit ? [explicit] : [...jupyterPythons(), '/usr/bin/python3', 'python3', 'python'];
  const tried = [];
  for (const py of [...new Set(candidates)]) {
    if (path.isAbsolute(py) && !fs.existsSync(py)) {
      if (explicit) tried.push(`${py}: does not exist`);
      continue;
    }
    const problem = problemWith(py);
    if (!problem) return { python: py, tried };
    tried.push(`${py}: ${problem}`);
  }
  return { python: null, tried };
}

function pythonOut(py, code) {
  const res = spawnSync(py, ['-c', code], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${py} -c ...: ${res.stderr.trim()}`);
  return res.stdout.trim();
}

function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args) {
    process.stdout.write(HELP);
    return 0;
  }
  const { python, tried } = findPython(args.python);
  if (!python) {
    console.error(`No Jupyter found for the tslab kernel.\n  ${tried.join('\n  ') || '(no python found)'}`);
    console.error('Install one (Debian/Ubuntu): apt-get install jupyter-notebook python3-ipykernel, or pass --python /path/to/python.');
    return 1;
  }
  if (args.printPython) {
    console.log(python);
    return 0;
  }
  if (!fs.existsSync(tslabBin)) {
    console.error(`${tslabBin} is missing: run npm install first.`);
    return 1;
  }
  console.log(`Jupyter's python: ${python}`);
  const install = spawnSync(process.execPath, [tslabBin, 'install', `--python=${python}`, `--binary=${tslabBin}`], { stdio: 'inherit' });
  if (install.status !== 0) {
    console.error(`tslab install failed (exit ${install.status}).`);
    return 1;
  }
  const dir = pythonOut(python, "from jupyter_client.kernelspec import KernelSpecManager as K; print(K().get_kernel_spec('tslab').resource_dir)");
  const file = path.join(dir, 'kernel.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  spec.argv = [process.execPath, tslabBin, 'kernel', '--config-path', '{connection_file}'];
  spec.env = { ...(spec.env || {}), LSO_IN_NOTEBOOK: '1' };
  writeAtomic(file, JSON.stringify(spec, null, 1) + '\n');
  console.log(`Kernel "tslab" registered in ${dir}\n  argv: ${spec.argv.join(' ')}`);
  console.log('Start Jupyter (e.g. `jupyter notebook notebooks/`) and pick the "TypeScript" kernel.');
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(err.message || String(err));
  process.exitCode = 1;
}
