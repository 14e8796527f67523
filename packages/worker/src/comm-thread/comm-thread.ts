/**
 * The worker's ring on a thread of its own, for an all-reduce that overlaps the backward pass.
 *
 * The main thread's backward pass is synchronous (tfjs kernels, the onednn addon), so the event
 * loop that would move ring segments stands still until it ends. Here the ring endpoint, its
 * sockets and its adds live on a worker thread; the step buffer is a SharedArrayBuffer both
 * threads see, and each bucket is handed over by a message that the thread receives at once,
 * while the main thread goes on computing the earlier layers' gradients. Every reduction sums in
 * place in that shared memory, in the order the main thread asked (the thread queues them).
 */
import { Worker } from 'node:worker_threads';
import { GradsyncError } from '@gradsync/core';
import type { AllReducer, WireBytes } from '@gradsync/collective';
import type { RingProviderOptions } from '../ring-provider';
import type { RingProvider } from '../session/worker-session';
import type { FromThread, JoinSetup, ToThread } from './thread-messages';

type Done = Extract<FromThread, { kind: 'done' }>;
type Request = ToThread extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

/** A float32 array over shared memory, which the communication thread reduces without a copy. */
function sharedFloats(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

class CommThread {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (m: Done) => void; reject: (e: Error) => void }>();
  private broken: GradsyncError | null = null;

  constructor(
    readonly worker: Worker,
    private readonly onDone: (m: Done | Extract<FromThread, { kind: 'failed' }>) => void,
  ) {
    worker.on('message', (m: FromThread) => {
      if (m.kind !== 'done' && m.kind !== 'failed') return;
      this.onDone(m);
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.kind === 'done') w?.resolve(m);
      else w?.reject(new GradsyncError(m.code, m.message));
    });
    const lost = (why: string) => {
      this.broken = new GradsyncError('E_COMM_THREAD', `the worker's communication thread ${why}`);
      for (const w of this.waiting.values()) w.reject(this.broken);
      this.waiting.clear();
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited (code ${code})`));
  }

  ask(request: Request): Promise<Done> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } as ToThread);
    });
  }
}

/** One ring group's reducer, a view of the thread's: several operations may be in flight, run in call order. */
class ThreadedRingReducer implements AllReducer {
  readonly algorithm = 'ring' as const;
  readonly queuesOperations = true;
  readonly wire: WireBytes = { sent: 0, received: 0 };
  private closed = false;

  constructor(private readonly thread: CommThread) {}

  async allReduceSum(data: Float32Array, opId: number): Promise<Float32Array> {
    if (this.closed) throw new GradsyncError('E_ALLREDUCE_CLOSED', `ring all-reduce op ${opId}: the reducer is closed`);
    // Memory the thread cannot see (a synchronised BatchNorm statistic, say) goes through a shared copy.
    const shared = data.buffer instanceof SharedArrayBuffer ? data : sharedFloats(data.length);
    if (shared !== data) shared.set(data);
    const memory = shared.buffer as SharedArrayBuffer;
    await this.thread.ask({ kind: 'reduce', memory, byteOffset: shared.byteOffset, length: shared.length, op: opId });
    if (shared !== data) data.set(shared);
    return data;
  }

  noteWire(wire: WireBytes | undefined): void {
    if (!wire) return;
    this.wire.sent = wire.sent;
    this.wire.received = wire.received;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.thread.ask({ kind: 'close-group' });
  }
}

/**
 * createRingProvider's endpoints, each on the communication thread. Its reducers take several
 * operations in flight (`queuesOperations`), which is what lets a step start each bucket's
 * all-reduce the moment the backward pass has it.
 */
export async function createThreadedRingProvider(o: RingProviderOptions): Promise<RingProvider & { close(): Promise<void> }> {
  const { log, allow, ...rest } = o;
  const worker = new Worker(new URL('./boot.mjs', import.meta.url), {
    workerData: { entry: new URL('./comm-thread-entry.ts', import.meta.url).href, options: { ...rest, allowEntries: allow ? [...allow.ranges] : null } },
    name: 'gradsync comm',
  });
  let current: ThreadedRingReducer | null = null;
  const thread = new CommThread(worker, (m) => current?.noteWire(m.wire));
  let peerUrl: string | null = null;
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromThread) => {
      if (m.kind === 'log') log(m.line);
      if (m.kind === 'started') {
        peerUrl = m.peerUrl;
        resolve();
      }
    };
    worker.on('message', onMessage);
    worker.once('error', (err) =>
      reject(err instanceof GradsyncError ? err : new GradsyncError('E_COMM_THREAD', `the communication thread did not start: ${err.message}`)),
    );
    worker.once('exit', (code) => reject(new GradsyncError('E_COMM_THREAD', `the communication thread exited while starting (code ${code})`)));
  });
  return {
    get peerUrl() {
      return peerUrl;
    },
    prepare: async () => {
      peerUrl = (await thread.ask({ kind: 'prepare' })).peerUrl ?? null;
      return peerUrl;
    },
    join: async (setup: JoinSetup): Promise<AllReducer> => {
      current = new ThreadedRingReducer(thread);
      await thread.ask({ kind: 'join', setup });
      return current;
    },
    close: async () => {
      await thread.ask({ kind: 'close' }).catch(() => {});
      await worker.terminate();
    },
  };
}
