export * from './test-pki';
export * from './float-inputs';
export * from './one-training-step';
