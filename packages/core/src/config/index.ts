export * from './run-config';
export * from './recipe-options';
export * from './threads';
