export * from './gradsync-error';
export * from './run-cli';
export { asWriteFailure, WriteFailure, writeFileNamed } from './write-failure';
