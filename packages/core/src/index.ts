export * from './errors/index';
export * from './random/index';
