/** Generative models: the Decoder interface, the VAE, its trainer, checkpoints, the RBF precision fit, and the generator zoo (DAE, GAN). */
export * from './decoder';
export * from './vae';
export * from './decoder-fields';
export * from './train-config';
export * from './train';
export * from './checkpoint';
export * from './rbf-fit';
export * from './generator-zoo';
export * from './dae';
export * from './gan';
export * from './weights';
export * from './model-store';
export * from './trainer';
export * from './training-callbacks';
