/** Scores of generators: the in-repo classifier, FID on its features, precision and recall. */
export * from './classifier';
export * from './fid';
export * from './precision-recall';
export * from './collapse';
export * from './memorisation';
export * from './confidence';
