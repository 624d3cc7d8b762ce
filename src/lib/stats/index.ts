/** Clustering on plain typed arrays: k-means, k-medoids and their scores. */
export * from './kmeans';
export * from './clustering-metrics';
export * from './paired';
