export * from './run-config';
export * from './recipe-options';
