/** Optimisers for the hand-written training loops. */
export * from './adam';
