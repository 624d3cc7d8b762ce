/**
 * Models a notebook disposes in its last cell. In a notebook kernel the cells stay re-runnable in any
 * order after Run All, so that closing "dispose" must not pull the models from under the cells above it
 * (a re-run figure cell would fail with tfjs' "Cannot read properties of null (reading 'backend')"): there
 * the models stay alive for the kernel's life, and its memory goes with it. Everywhere else (scripts,
 * tests and their leak checks) they are disposed at once.
 */

/** True inside a tslab executor (Jupyter's kernel or the headless runner's): it defines `__tslab__` before any cell. */
export function inNotebookKernel(): boolean {
  return '__tslab__' in globalThis;
}

/** Runs `dispose` unless in a notebook kernel (see the header); true when it ran. */
export function releaseModels(dispose: () => void): boolean {
  if (inNotebookKernel()) return false;
  dispose();
  return true;
}

/**
 * `obj` with a dispose that, in a notebook kernel, keeps it alive (see the header): for objects a notebook
 * disposes directly, e.g. `evaluator.classifier.dispose()`.
 */
export function keptAliveInKernel<T extends { dispose(): void }>(obj: T): T {
  if (!inNotebookKernel()) return obj;
  const dispose = obj.dispose.bind(obj);
  return Object.assign(obj, { dispose: () => void releaseModels(dispose) });
}
