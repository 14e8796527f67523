/** Helpers shared by the all-reduce tests and the benchmark: groups of reducers on loopback. */
import { mulberry32 } from '@gradsync/core';
import type { TlsIdentity } from '@gradsync/core/cluster';
import type { StarClient } from '../session/star-client';
import { joinStarCoordinator, listenStarCoordinator } from './bench-star';
import { RingAllReducer, type RingAllReducerOptions } from './ring-all-reducer';

/** `world` ring reducers on 127.0.0.1, linked into one ring. */
export async function ringGroup(
  world: number,
  options: RingAllReducerOptions & { runId?: string; token?: string; /** One TLS identity per rank: links over mutual TLS. */ identities?: TlsIdentity[] } = {},
): Promise<RingAllReducer[]> {
  const { identities, ...listenOptions } = options;
  const reducers = await Promise.all(Array.from({ length: world }, (_, rank) => RingAllReducer.listen({ host: '127.0.0.1', ...listenOptions, tls: identities?.[rank] })));
  const peers = reducers.map((r) => r.url);
  await Promise.all(reducers.map((r, rank) => r.connect({ rank, world, peers, runId: options.runId ?? 'test-run', token: options.token })));
  return reducers;
}

/** The training path's star group in one process: a coordinator (WorkerHub + StarRelay) and `world` StarClients, indexed by rank. */
export async function starGroup(world: number, timeoutMs = 60_000): Promise<{ reducers: StarClient[]; close(): Promise<void> }> {
  const log = () => {};
  const coordinator = await listenStarCoordinator(world, log);
  const ranks = await Promise.all(Array.from({ length: world }, () => joinStarCoordinator(coordinator.url, { timeoutMs, log })));
  ranks.sort((a, b) => a.rank - b.rank);
  return {
    reducers: ranks.map((r) => r.reducer),
    async close() {
      await Promise.all(ranks.map((r) => r.close()));
      await coordinator.close();
    },
  };
}

/** Reproducible inputs in [−1, 1), one array per rank. */
export function randomInputs(world: number, length: number, seed: number): Float32Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: world }, () => {
    const x = new Float32Array(length);
    for (let i = 0; i < length; i++) x[i] = rand() * 2 - 1;
    return x;
  });
}

export function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
