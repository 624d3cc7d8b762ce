/** Distributions, samplers and walks on the learned manifold: Gaussian/GMM baselines, the LAND, random walks, HMC. */
export * from './gaussian';
export * from './land';
export * from './random-walk';
export * from './hmc';
export * from './sampler';
export * from './official-hmc';
export * from './density-quadrature';
