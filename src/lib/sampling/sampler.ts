/**
 * One interface for the latent samplers (as pythae's samplers/): fit to the training codes, then draw n
 * codes. A study picks a sampler by name and never branches on how it works; every sampler that needs a
 * geometry takes any Metric.
 */
import type { Metric } from '../geometry/metric';
import { Rng } from '../util/rng';
import { Gmm, GmmOptions, fitGmm, sampleGmm } from './gaussian';
import { HmcOptions, hmc, riemannianUniform } from './hmc';

/** n codes [n, d], and what the sampler reports besides (a Markov chain's acceptance rate). */
export interface SamplerDraw {
  z: Float32Array;
  acceptanceRate?: number;
}

export interface LatentSampler {
  /** Fits to training codes [N, d] (a fixed prior only notes d). */
  fit(codes: Float32Array, dim: number): this;
  /** n codes drawn from `rng`'s stream. */
  sample(n: number, rng: Rng): SamplerDraw;
}

/** The prior N(0, I). */
export class NormalPrior implements LatentSampler {
  private dim = 0;

  fit(_codes: Float32Array, dim: number): this {
    this.dim = dim;
    return this;
  }

  sample(n: number, rng: Rng): SamplerDraw {
    return { z: rng.normals(n * this.dim) };
  }
}

/** A full-covariance Gaussian mixture fitted by EM (k-means++ start) to the codes. */
export class GmmSampler implements LatentSampler {
  private gmm: Gmm | null;

  constructor(
    private readonly components: number,
    private readonly opts: GmmOptions = {},
    fitted: Gmm | null = null,
  ) {
    this.gmm = fitted;
  }

  /** A sampler of an already fitted mixture. */
  static of(gmm: Gmm): GmmSampler {
    return new GmmSampler(gmm.weights.length, {}, gmm);
  }

  get model(): Gmm {
    if (!this.gmm) throw new Error('GmmSampler: fit() first');
    return this.gmm;
  }

  fit(codes: Float32Array, dim: number): this {
    this.gmm = fitGmm(codes, dim, this.components, this.opts).model;
    return this;
  }

  sample(n: number, rng: Rng): SamplerDraw {
    return { z: Float32Array.from(sampleGmm(this.model, n, rng).points) };
  }
}

/** A chain run from starting points [n, d] with a seed: its final states and acceptance rate. */
export type ChainRun = (starts: Float32Array, seed: number) => { samples: Float32Array; acceptanceRate: number };

/** Markov chains, one per sample, started at training codes drawn with replacement. */
export class ChainSampler implements LatentSampler {
  private codes: Float32Array | null = null;
  private dim = 0;

  constructor(private readonly run: ChainRun) {}

  fit(codes: Float32Array, dim: number): this {
    this.codes = codes;
    this.dim = dim;
    return this;
  }

  sample(n: number, rng: Rng): SamplerDraw {
    if (!this.codes) throw new Error('ChainSampler: fit() first');
    const res = this.run(randomRows(this.codes, this.dim, n, rng), rng.seed());
    return { z: res.samples, acceptanceRate: res.acceptanceRate };
  }
}

/** HMC on the Riemannian uniform distribution sqrt(det G) of any metric (Chadebec & Allassonniere 2022). */
export function riemannianUniformSampler(metric: Metric, opts: HmcOptions = {}): ChainSampler {
  return new ChainSampler((starts, seed) => hmc(riemannianUniform(metric), starts, { seed, ...opts }));
}

/** n rows of codes [N, d] drawn with replacement: [n, d]. */
export function randomRows(codes: Float32Array, dim: number, n: number, rng: Rng): Float32Array {
  const count = codes.length / dim;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const r = rng.int(count);
    out.set(codes.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return out;
}
