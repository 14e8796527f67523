export * from './run-config';
export * from './recipes';
export * from './recipe-options';
export * from './threads';
export * from './run-config-file';
export * from './conventions';
