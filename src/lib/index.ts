/**
 * latent-geometry: the Riemannian geometry of deep generative models' latent spaces.
 * The root re-exports the library's layers, lowest first (data flows one way: util/runtime -> data -> nn
 * -> models -> geometry -> algorithms -> plots/notebook); the per-notebook studies and the teaching
 * machinery are namespaces, `studies` and `classroom`. See DEVELOPERS.md for the layout.
 */
export * from './util';
export * from './runtime';
export * from './numerics';
export * from './data';
export * from './stats';
export * from './nn';
export * from './optim';
export * from './models';
export * from './io';
export * from './geometry';
export * from './sampling';
export * from './evaluation';
export * from './plots';
export * from './notebook';
export * from './classroom/checks';
export * as studies from './pipelines';
export * as classroom from './classroom';
