export * from './test-pki';
export * from './float-inputs';
