/** Riemannian geometry of latent spaces: the Metric interface and its capabilities, decoder and posterior metrics, fields, curves, geodesics, exp/log maps, graphs, distances; the metric worker is started by path, not exported. */
export * from './metric';
export * from './decoder-metric';
export * from './posterior-metric';
export * from './reference-metrics';
export * from './log-volume';
export * from './tangent-qr';
export * from './fields';
export * from './parallel-fields';
export * from './support';
export * from './curves';
export * from './curve-energy';
export * from './geodesics';
export * from './graph';
export * from './expmap';
export * from './distances';
export * from './potential-interpolation';
