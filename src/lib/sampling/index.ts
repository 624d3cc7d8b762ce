/** Distributions and walks on the learned manifold: Gaussian/GMM baselines, the LAND, random walks. */
export * from './gaussian';
export * from './land';
export * from './random-walk';
