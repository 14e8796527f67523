/** @gradsync/data/browser: the half of the data package a browser bundle can load (no files, no network). */
export * from './types';
export * from './format';
export * from './synthetic';
export * from './validation-split';
export * from './checksum';
export * from './sampler';
