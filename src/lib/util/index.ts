/** The bottom layer: the seeded Rng, InputError, atomic writes, progress display. */
export * from './rng';
export * from './errors';
export * from './atomic';
export * from './progress';
