export * from './log';
export * from './program';
