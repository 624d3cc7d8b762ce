/** Statistics on plain typed arrays. */
export * from './kmeans';
