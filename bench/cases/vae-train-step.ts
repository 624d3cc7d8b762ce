/**
 * One Adam step (batch 128) of the MNIST VAE of the paper: encoder 784-256(relu)-64(tanh) -> (mu, logvar)
 * in R^2, decoder 2-64(tanh)-256(softplus)-784 logits, Bernoulli loss. PyTorch on 2 CPU threads: ~26 ms.
 * The time includes the host-to-device copy of the batch, as in training. The detail has the kernel
 * profile of a few steps (ms per step by tfjs kernel).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/runtime/backend';
import { Vae, mnistVaeConfig } from '../../src/lib/models/vae';
import { Rng } from '../../src/lib/util/rng';

const BATCH = 128;
const WARMUP = 5;
const STEPS = 50;
const PROFILED = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** ms per step by kernel name, over `steps` profiled steps (op wrappers such as fusedMatMul__op left out). */
async function kernelProfile(step: () => void, steps: number): Promise<Record<string, number>> {
  const byKernel: Record<string, number> = {};
  for (let i = 0; i < steps; i++) {
    const info = await tf.profile(step);
    for (const k of info.kernels) {
      if (k.name.endsWith('__op') || typeof k.kernelTimeMs !== 'number') continue;
      byKernel[k.name] = (byKernel[k.name] ?? 0) + k.kernelTimeMs / steps;
    }
  }
  return Object.fromEntries(
    Object.entries(byKernel)
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => [name, Math.round(ms * 1000) / 1000]),
  );
}

export const benchCase = {
  name: 'vae-train-step',
  unit: 'ms',
  target: 20,
  run: async (): Promise<{ value: number; detail: Record<string, unknown> }> => {
    const backend = await initBackend({ quiet: true });
    const rng = new Rng(1);
    // MNIST-like: mostly zeros, some ink in [0, 1].
    const batches = Array.from({ length: 4 }, () => Float32Array.from({ length: BATCH * 784 }, () => (rng.uniform() < 0.2 ? rng.uniform() : 0)));
    const vae = new Vae(mnistVaeConfig({ seed: 1 }));
    try {
      let i = 0;
      const step = (): void => vae.trainStep(batches[i++ % batches.length]);
      for (let w = 0; w < WARMUP; w++) step();
      const times: number[] = [];
      for (let s = 0; s < STEPS; s++) {
        const t0 = performance.now();
        step();
        times.push(performance.now() - t0);
      }
      const stats = vae.takeTrainingStats();
      const profile = await kernelProfile(step, PROFILED);
      const sorted = [...times].sort((a, b) => a - b);
      return {
        value: Math.round(median(times) * 100) / 100,
        detail: {
          backend: backend.name,
          steps: STEPS,
          min_ms: Math.round(sorted[0] * 100) / 100,
          p90_ms: Math.round(sorted[Math.floor(0.9 * (sorted.length - 1))] * 100) / 100,
          loss_after_warmup_and_steps: Math.round(stats.loss * 100) / 100,
          kernel_ms_per_step: profile,
        },
      };
    } finally {
      vae.dispose();
    }
  },
};
