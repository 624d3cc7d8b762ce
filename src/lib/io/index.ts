/** File formats: decoder-json/v1, the shipped decoders' and the CLI's format. */
export * from './decoder-json';
export * from './png';
