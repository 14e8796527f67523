/** Helpers shared by the all-reduce tests and the benchmark: groups of reducers on loopback. */
import WebSocket from 'ws';
import { mulberry32 } from '@gradsync/core';
import type { TlsIdentity } from '@gradsync/core/cluster';
import { RingAllReducer, type RingAllReducerOptions } from './ring-all-reducer';
import { StarAllReducer } from './star-all-reducer';
import { StarHubServer } from './star-hub-server';
import { wsFrameChannel } from './ws-frame-channel';
import { zeroMask } from './peer-socket';

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

/** A star hub and `world` star reducers connected to it over WebSocket. */
export async function starGroup(world: number, timeoutMs?: number): Promise<{ hub: StarHubServer; reducers: StarAllReducer[]; close(): Promise<void> }> {
  const hub = await StarHubServer.listen({ world });
  const sockets = await Promise.all(
    Array.from({ length: world }, (_, rank) => {
      const ws = new WebSocket(`${hub.url}/?rank=${rank}`, { perMessageDeflate: false, generateMask: zeroMask, maxPayload: 2 ** 30 });
      return new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    }),
  );
  const reducers = sockets.map((ws, rank) => new StarAllReducer({ rank, world, channel: wsFrameChannel(ws), timeoutMs }));
  return {
    hub,
    reducers,
    async close() {
      await Promise.all(reducers.map((r) => r.close()));
      for (const ws of sockets) ws.close();
      await hub.close();
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
