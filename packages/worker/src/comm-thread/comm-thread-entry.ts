/**
 * The communication thread's side (see comm-thread.ts): it owns the ring endpoint and its sockets,
 * so segments move while the main thread is inside a synchronous backward pass.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GradsyncError } from '@gradsync/core';
import { parseAllowList } from '@gradsync/cluster';
import type { AllReducer } from '@gradsync/collective';
import { createRingProvider } from '../ring-provider';
import type { FromThread, ThreadRingOptions, ToThread } from './thread-messages';

const port = parentPort!;
const send = (m: FromThread) => port.postMessage(m);
const options = (workerData as { options: ThreadRingOptions }).options;
const provider = await createRingProvider({
  ...options,
  allow: options.allowEntries ? parseAllowList(options.allowEntries) : null,
  log: (line) => send({ kind: 'log', line }),
});
let group: AllReducer | null = null;
/** Reductions run one after another, in the order the main thread sent them (Note [Bucket plan]). */
let queue: Promise<unknown> = Promise.resolve();

function failure(id: number, err: unknown): FromThread {
  const e = err instanceof GradsyncError ? err : new GradsyncError('E_ALLREDUCE', err instanceof Error ? err.message : String(err));
  return { kind: 'failed', id, code: e.code, message: e.message, wire: group ? { ...group.wire } : undefined };
}

async function handle(m: ToThread): Promise<FromThread> {
  switch (m.kind) {
    case 'prepare':
      return { kind: 'done', id: m.id, peerUrl: await provider.prepare() };
    case 'join':
      group = await provider.join(m.setup);
      return { kind: 'done', id: m.id };
    case 'reduce': {
      const reducer = group;
      if (!reducer) throw new GradsyncError('E_ALLREDUCE_STATE', `all-reduce op ${m.op}: this worker is in no ring group`);
      const data = new Float32Array(m.memory, m.byteOffset, m.length);
      const run = queue.then(() => reducer.allReduceSum(data, m.op));
      queue = run.catch(() => {});
      await run;
      return { kind: 'done', id: m.id, wire: { ...reducer.wire } };
    }
    case 'close-group': {
      const reducer = group;
      group = null;
      await reducer?.close();
      return { kind: 'done', id: m.id };
    }
    case 'close':
      await provider.close();
      return { kind: 'done', id: m.id };
  }
}

port.on('message', (m: ToThread) => {
  handle(m).then(send, (err: unknown) => send(failure(m.id, err)));
});
send({ kind: 'started', peerUrl: provider.peerUrl });
