/**
 * The library's layering, read from the import statements of src/lib: every folder has a rank, a module
 * imports only its own folder or folders of lower rank (data flows one way, util/runtime at the bottom),
 * and no chain of imports between files comes back to where it started.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const LIB = path.resolve(__dirname, '..', 'src', 'lib');

/** Lowest first: a folder may import its own files and folders of a lower rank only. */
export const LAYERS: Record<string, number> = {
  util: 0,
  runtime: 1,
  numerics: 1,
  data: 2,
  stats: 2,
  nn: 3,
  optim: 3,
  models: 4,
  io: 5,
  geometry: 6,
  sampling: 7,
  evaluation: 7,
  plots: 8,
  notebook: 9,
  pipelines: 10,
  classroom: 10,
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports and re-exports of a file (type-only ones included: they are dependencies too), resolved to files. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)].map((m) => m[1]);
  return specs.map((s) => {
    const p = path.resolve(path.dirname(file), s);
    for (const c of [`${p}.ts`, path.join(p, 'index.ts')]) if (fs.existsSync(c)) return c;
    throw new Error(`${path.relative(LIB, file)}: cannot resolve '${s}'`);
  });
}

const folderOf = (file: string) => path.relative(LIB, file).split(path.sep)[0];
const files = sourceFiles(LIB).filter((f) => path.dirname(f) !== LIB); // the root index re-exports every layer
const graph = new Map(files.map((f) => [f, importsOf(f)]));

test('every folder of src/lib has a layer', () => {
  const folders = [...new Set(files.map(folderOf))];
  assert.deepEqual(folders.filter((f) => !(f in LAYERS)), []);
});

test('imports run down the layers only (or stay in their folder)', () => {
  const upward: string[] = [];
  for (const [file, deps] of graph) {
    const from = folderOf(file);
    for (const dep of deps) {
      const to = folderOf(dep);
      if (to !== from && !(LAYERS[to] < LAYERS[from])) upward.push(`${path.relative(LIB, file)} -> ${path.relative(LIB, dep)}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('no import cycle between files', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const dep of graph.get(f) ?? []) {
      if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].map((x) => path.relative(LIB, x)).join(' -> '));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});

test('files stay under 600 lines', () => {
  const long = files.map((f) => [path.relative(LIB, f), fs.readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 600);
  assert.deepEqual(long, []);
});
