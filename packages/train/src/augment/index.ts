export * from './params';
export * from './apply';
