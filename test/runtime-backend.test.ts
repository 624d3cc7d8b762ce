/** The backend resolver with an injected loader: preference order, fall-backs, and LSO_BACKEND forcing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKEND_CANDIDATES, resolveBackend } from '../src/lib/runtime/backend';

/** A loader for which only `available` packages load; it records what was tried, in order. */
function loader(available: string[]): { load: (pkg: string) => unknown; tried: string[] } {
  const tried: string[] = [];
  return {
    tried,
    load: (pkg) => {
      tried.push(pkg);
      if (!available.includes(pkg)) throw new Error(`Cannot find module '${pkg}'\nRequire stack: ...`);
      return {};
    },
  };
}

const GPU = '@tensorflow/tfjs-node-gpu';
const NODE = '@tensorflow/tfjs-node';
const WASM = '@tensorflow/tfjs-backend-wasm';

test('picks tensorflow-gpu when its package loads', () => {
  const l = loader([GPU, NODE, WASM]);
  const c = resolveBackend(l.load);
  assert.equal(c.name, 'tensorflow-gpu');
  assert.equal(c.tfName, 'tensorflow');
  assert.deepEqual(c.skipped, []);
  assert.deepEqual(l.tried, [GPU]);
});

test('falls back in order: tensorflow-gpu, tensorflow, wasm, cpu', () => {
  const cases: [string[], string, string[]][] = [
    [[NODE, WASM], 'tensorflow', ['tensorflow-gpu']],
    [[WASM], 'wasm', ['tensorflow-gpu', 'tensorflow']],
    [[], 'cpu', ['tensorflow-gpu', 'tensorflow', 'wasm']],
  ];
  for (const [available, want, skipped] of cases) {
    const l = loader(available);
    const c = resolveBackend(l.load);
    assert.equal(c.name, want);
    assert.deepEqual(
      c.skipped.map((s) => s.name),
      skipped,
    );
    // The reason is the loader's first line only.
    for (const s of c.skipped) assert.ok(!s.reason.includes('\n') && s.reason.startsWith('Cannot find module'), s.reason);
    assert.deepEqual(l.tried, BACKEND_CANDIDATES.filter((x) => x.pkg).slice(0, skipped.length + (want === 'cpu' ? 0 : 1)).map((x) => x.pkg));
  }
});

test('LSO_BACKEND forces a backend even when a better one loads', () => {
  const l = loader([GPU, NODE, WASM]);
  assert.equal(resolveBackend(l.load, 'wasm').name, 'wasm');
  assert.deepEqual(l.tried, [WASM]);
  const none = loader([]);
  assert.equal(resolveBackend(none.load, 'cpu').name, 'cpu');
  assert.deepEqual(none.tried, [], 'cpu needs no package');
  assert.equal(resolveBackend(loader([NODE]).load, 'tfjs-node').name, 'tensorflow', 'tfjs-node is an alias of tensorflow');
});

test('an unknown forced name is an error listing the backends', () => {
  assert.throws(() => resolveBackend(loader([WASM]).load, 'webgpu'), /LSO_BACKEND=webgpu: unknown backend; expected one of tensorflow-gpu, tensorflow, wasm, cpu/);
});

test('a forced backend whose package is missing is an error, not a silent fall-back', () => {
  assert.throws(
    () => resolveBackend(loader([WASM]).load, 'tensorflow-gpu'),
    (err: unknown) => err instanceof Error && err.message.includes(GPU) && err.message.includes('LSO_BACKEND') && !err.message.includes('\n'),
  );
});
