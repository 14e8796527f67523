/** @gradsync/core/node: the Node-only half of the base: CLI runner, file writes that name the file, log lines, progress bars. */
export * from './errors/run-cli';
export { appendWhole, asWriteFailure, WriteFailure, writeFileNamed } from './errors/write-failure';
export * from './terminal/index';
export * from './progress/index';
