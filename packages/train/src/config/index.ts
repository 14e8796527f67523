export * from './run-config';
export * from './run-config-check';
export * from './run-config-options';
export * from './recipes';
export * from './conventions';
