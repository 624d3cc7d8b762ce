/**
 * latent-geometry: the Riemannian geometry of deep generative models' latent spaces.
 * Data flows one way: data -> models -> geometry (metrics) -> algorithms -> plots/notebook.
 */
export * from './util/rng';
export * from './util/errors';
export * from './util/atomic';
export * from './util/progress';
export * from './runtime/backend';
export * from './nn/activations';
export * from './nn/linear';
export * from './nn/mlp';
export * from './nn/rbf';
export * from './nn/jacobian';
export * from './models';
export * from './stats';
export * from './geometry/metric';
export * from './geometry/decoder-metric';
export * from './geometry/linalg';
export * from './geometry/fields';
export * from './geometry/support';
export * from './geometry/tangent-qr';
export * from './geometry/curves';
export * from './geometry/curve-energy';
export * from './geometry/block-tridiagonal';
export * from './geometry/geodesics';
export * from './geometry/graph';
export * from './geometry/expmap';
export * from './geometry/distances';
export * from './geometry/reference-metrics';
export * from './geometry/parallel-fields';
export * from './runtime/pool';
export * from './runtime/batch';
export * from './io/decoder-json';
export * from './data';
export * from './plots';
export * from './notebook';
export * from './pipelines/lso';
export * from './classroom/checks';
export * from './classroom/nbgrader';
export * from './classroom/release';
export * from './classroom/grade';
export * from './classroom/report';
export * from './models/generator-zoo';
export * from './models/dae';
export * from './models/gan';
export * from './pipelines/zoo-study';
export * from './pipelines/fashion-study';
