/** Numerics on plain float64 arrays, each routine once: dense linear algebra, block-tridiagonal solves, statistics. */
export * from './dense';
export * from './block-tridiagonal';
export * from './statistics';
