export * from './gradsync-error';
export { asWriteFailure, WriteFailure, writeFileNamed } from './write-failure';
