/** The per-notebook studies (the root index exports them as the namespace `studies`). */
export * from './lso';
export * from './geodesic-study';
export * from './zoo-study';
export * from './fashion-study';
export * from './geometric-vae';
export * from './density-study';
export * from './geometric-vae-figures';
export * from './zoo-seeds';
export * from './fashion-controls';
export * from './gvae-fidelity';
export * from './walk-study';
export * from './land-study';
export * from './graph-distance-check';
