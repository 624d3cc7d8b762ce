/** Messages between the notebook runner and its kernel child process (over Node's IPC channel). */
import type { Output } from './ipynb';

export type ToKernel = { kind: 'execute'; code: string; count: number } | { kind: 'exit' };

export type FromKernel = { kind: 'ready' } | { kind: 'done'; ok: boolean; outputs: Output[]; count?: number };

/** Environment the runner gives the child. */
export const ENV_ECHO = 'LSO_RUNNER_ECHO';

/** Set to '1' in the runner's kernels: headless, so figures must be complete (no live-session fallbacks). */
export const ENV_RUNNER = 'LSO_RUNNER';
