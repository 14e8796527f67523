// A worker thread's entry: Node 20 does not carry tsx's loader into worker threads, so the
// thread registers it before importing its TypeScript module (workerData.entry).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
