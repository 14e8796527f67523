export * from './test-pki';
export * from './float-inputs';
export * from './one-training-step';
export * from './bucketed-step';
export * from './fixed-batch-losses';
export * from './tmpfs';
