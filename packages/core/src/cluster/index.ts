export * from './allow-list';
export * from './cluster-options';
export * from './connection-guard';
export * from './coordinator-url';
export * from './cuda-devices';
export * from './port-range';
export * from './refusal-reporter';
