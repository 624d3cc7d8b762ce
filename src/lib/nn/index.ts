/** Nets: activations, dense layers, MLPs and RBF layers with forward-mode Jacobians, net configs and hand-written backprop. */
export * from './activations';
export * from './linear';
export * from './mlp';
export * from './rbf';
export * from './jacobian';
export * from './net-config';
export * from './backprop';
