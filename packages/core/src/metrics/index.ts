export * from './records';
export * from './jsonl';
