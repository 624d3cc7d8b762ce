/** Generative models: the Decoder interface, the VAE, its trainer, checkpoints and the RBF precision fit. */
export * from './decoder';
export * from './vae';
export * from './decoder-fields';
export * from './train-config';
export * from './train';
export * from './checkpoint';
export * from './rbf-fit';
