/**
 * Notebook 08's controls: the standard VAE and the two-net VAE differ in two things at once, the likelihood
 * (Bernoulli against Gaussian) and the decoder (one mean net against a mean net plus a std net whose sigma
 * is learnt). Two more VAEs put one change between each pair of neighbours in the chain
 *
 *   standard (Bernoulli, one net, sigmoid mean)
 *   -> fixed-variance Gaussian (one net, sigmoid mean, sigma = fixedStd everywhere)     the likelihood
 *   -> two-net with sigma frozen (mean net with a linear output, std net kept at init)  the decoder
 *   -> two-net (the std net learns sigma)                                              learning sigma
 *
 * The frozen std net gives sigma ~ 0.72 on average at initialisation (per pixel 0.18-1.8, measured over
 * prior samples for seed 1), so the default fixedStd 1/sqrt(2) = 0.707 keeps the likelihood's scale about
 * the same across the middle step. Same encoder, same mean-net shape, same data, epochs and seed for all four.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EpochRecord, trainOrLoad } from '../models/train';
import type { Vae } from '../models/vae';
import { quantile } from '../geometry/support';
import { repoRoot } from '../notebook/env';
import { FashionData, FashionModels, FashionSettings, fashionVaeConfig, reconstructionMse } from './fashion-study';

export interface FashionControls {
  /** Gaussian likelihood with a constant sigma, one decoder net. */
  fixedVariance: Vae;
  /** The two-net VAE with its std net frozen at its initial weights. */
  frozenTwoNet: Vae;
  history: { fixedVariance: EpochRecord[]; frozenTwoNet: EpochRecord[] };
  fromCache: boolean;
}

/** Trains (or reloads) the two control VAEs with the settings of the other two. */
export async function fashionControls(data: FashionData, s: FashionSettings, opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<FashionControls> {
  const cacheOpts = { cacheDir: opts.cacheDir ?? path.join(repoRoot(), '.cache', 'models'), log: opts.log };
  const x = data.train.images;
  const fixed = await trainOrLoad({ model: fashionVaeConfig('gaussian-fixed', { fixedStd: s.fixedStd }), training: s.training }, x, cacheOpts);
  const frozen = await trainOrLoad({ model: fashionVaeConfig('gaussian', { freezeStd: true }), training: s.training }, x, cacheOpts);
  return {
    fixedVariance: fixed.vae,
    frozenTwoNet: frozen.vae,
    history: { fixedVariance: fixed.history, frozenTwoNet: frozen.history },
    fromCache: fixed.fromCache && frozen.fromCache,
  };
}

export function disposeFashionControls(c: FashionControls): void {
  c.fixedVariance.dispose();
  c.frozenTwoNet.dispose();
}

export interface ChainStep {
  /** The key in results.json's reconstruction_mse. */
  key: string;
  label: string;
  /** What changes from the previous model of the chain ('' for the first). */
  change: string;
  vae: Vae;
  history: EpochRecord[];
}

/** The four VAEs in chain order, each one change away from the previous. */
export function fashionChain(m: FashionModels, c: FashionControls): ChainStep[] {
  return [
    { key: 'standard_vae', label: 'standard VAE (Bernoulli)', change: '', vae: m.standard, history: m.history.standard },
    { key: 'fixed_variance_vae', label: 'Gaussian, fixed σ', change: 'likelihood: Bernoulli -> Gaussian with a constant sigma', vae: c.fixedVariance, history: c.history.fixedVariance },
    { key: 'two_net_frozen_sigma_vae', label: 'two-net, σ frozen', change: 'decoder: one net -> mean net (linear output) + std net frozen at init', vae: c.frozenTwoNet, history: c.history.frozenTwoNet },
    { key: 'two_net_vae', label: 'two-net, σ learnt', change: 'the std net learns sigma', vae: m.twoNet, history: m.history.twoNet },
  ];
}

export type ChainRow = { model: string; change: string; reconstruction_mse: number; change_in_mse: number; final_kl: number };

/** Test reconstruction MSE of every model of the chain, and how much each change moved it. */
export function chainReconstruction(chain: ChainStep[], testImages: Float32Array): ChainRow[] {
  const mse = chain.map((c) => reconstructionMse(c.vae, testImages));
  return chain.map((c, i) => ({
    model: c.key,
    change: c.change,
    reconstruction_mse: mse[i],
    change_in_mse: i === 0 ? 0 : mse[i] - mse[i - 1],
    final_kl: c.history.at(-1)?.kl ?? NaN,
  }));
}

/**
 * The sigma a Gaussian VAE's likelihood uses at the encoder means of `images` [N, D] (at most 1,000 rows):
 * mean and 5th / 95th percentiles over pixels and images. Shows what the frozen and the learnt std nets give.
 */
export function likelihoodStdSummary(vae: Vae, images: Float32Array, maxRows = 1000): { mean: number; p5: number; p95: number } {
  const D = vae.inputDim;
  const n = Math.min(maxRows, images.length / D);
  const sigma = tf.tidy(() => {
    const z = tf.tensor2d(vae.encodeMeans(images.subarray(0, n * D)), [n, vae.latentDim]);
    const s = vae.likelihoodStd(z);
    return s ? (s.dataSync() as Float32Array) : new Float32Array(0);
  });
  if (sigma.length === 0) return { mean: NaN, p5: NaN, p95: NaN };
  const all = Float64Array.from(sigma);
  return { mean: all.reduce((a, b) => a + b, 0) / all.length, p5: quantile(all, 0.05), p95: quantile(all, 0.95) };
}
