export * from './records';
export * from './jsonl';
export * from './epochs-csv';
export * from './tfevents';
export * from './tensorboard-scalars';
export * from './tensorboard-writer';
export * from './run-metrics-files';
export * from './run-summary';
