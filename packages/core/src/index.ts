export * from './errors/index';
export * from './random/index';
export * from './terminal/index';
