/**
 * Chooses the tfjs backend once per process. Preference: tfjs-node-gpu, tfjs-node, wasm, cpu; the native
 * ones are optional installs (GPU users add them), so each is tried by loading its package.
 * `LSO_BACKEND=<name>` forces one. The module loader is injectable so the choice can be tested without a GPU.
 */
import * as tf from '@tensorflow/tfjs';
import { isInNotebook } from '../util/progress';
import { inNotebookKernel } from '../util/lifetime';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

interface Candidate {
  name: BackendName;
  /** The package that registers the backend. */
  pkg: string | null;
  /** The name tfjs registers it under. */
  tfName: string;
}

export const BACKEND_CANDIDATES: readonly Candidate[] = [
  { name: 'tensorflow-gpu', pkg: '@tensorflow/tfjs-node-gpu', tfName: 'tensorflow' },
  { name: 'tensorflow', pkg: '@tensorflow/tfjs-node', tfName: 'tensorflow' },
  { name: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm', tfName: 'wasm' },
  { name: 'cpu', pkg: null, tfName: 'cpu' },
];

export interface BackendChoice {
  name: BackendName;
  tfName: string;
  /** Why the better candidates were passed over. */
  skipped: { name: BackendName; reason: string }[];
}

/**
 * Picks the first candidate whose package loads. `forced` (from LSO_BACKEND) must name one of them; a forced
 * backend that cannot load is an error rather than a silent fallback.
 */
export function resolveBackend(load: (pkg: string) => unknown, forced?: string): BackendChoice {
  const skipped: BackendChoice['skipped'] = [];
  if (forced) {
    const c = BACKEND_CANDIDATES.find((x) => x.name === forced || (forced === 'tfjs-node' && x.name === 'tensorflow'));
    if (!c) {
      throw new Error(
        `LSO_BACKEND=${forced}: unknown backend; expected one of ${BACKEND_CANDIDATES.map((x) => x.name).join(', ')}`,
      );
    }
    if (c.pkg) {
      try {
        load(c.pkg);
      } catch (err) {
        throw new Error(`LSO_BACKEND=${forced}: cannot load ${c.pkg} (${firstLine(err)}); install it or unset LSO_BACKEND`);
      }
    }
    return { name: c.name, tfName: c.tfName, skipped };
  }
  for (const c of BACKEND_CANDIDATES) {
    if (!c.pkg) return { name: c.name, tfName: c.tfName, skipped };
    try {
      load(c.pkg);
      return { name: c.name, tfName: c.tfName, skipped };
    } catch (err) {
      skipped.push({ name: c.name, reason: firstLine(err) });
    }
  }
  /* istanbul ignore next: cpu has no package, so the loop always returns */
  return { name: 'cpu', tfName: 'cpu', skipped };
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0];
}

let ready: Promise<BackendChoice> | null = null;
let current: BackendChoice | null = null;

/**
 * Initialises the best backend (once; later calls return the same promise). Logs the choice once (stdout
 * in a notebook, else stderr) unless `quiet` or LSO_QUIET=1.
 */
export function initBackend(opts: { quiet?: boolean } = {}): Promise<BackendChoice> {
  if (ready) return ready;
  ready = (async () => {
    const choice = resolveBackend((pkg) => require(pkg), process.env.LSO_BACKEND);
    const ok = await tf.setBackend(choice.tfName);
    if (!ok) throw new Error(`tfjs backend '${choice.tfName}' failed to initialise`);
    await tf.ready();
    current = choice;
    if (!opts.quiet && process.env.LSO_QUIET !== '1') {
      // A notice, not a warning: in a notebook it goes to stdout (Jupyter shows stderr in a red box).
      (isInNotebook() || inNotebookKernel() ? process.stdout : process.stderr).write(`latent-geometry: tfjs backend ${choice.name}\n`);
    }
    return choice;
  })();
  return ready;
}

/** The chosen backend, or null before initBackend() resolved. */
export function currentBackend(): BackendChoice | null {
  return current;
}
