/** Rings of reducers on loopback for the all-reduce tests. */
import type { TlsIdentity } from '@gradsync/cluster';
import type { WireDtype } from '../algorithms/index';
import { RingAllReducer, type RingAllReducerOptions } from './ring-all-reducer';

/** `world` ring reducers on 127.0.0.1, linked into one ring. */
export async function ringGroup(
  world: number,
  options: RingAllReducerOptions & {
    runId?: string;
    token?: string;
    wireDtype?: WireDtype;
    /** One TLS identity per rank: links over mutual TLS. */ identities?: TlsIdentity[];
  } = {},
): Promise<RingAllReducer[]> {
  const { identities, wireDtype: _wire, ...listenOptions } = options;
  const reducers = await Promise.all(
    Array.from({ length: world }, (_, rank) => RingAllReducer.listen({ host: '127.0.0.1', ...listenOptions, tls: identities?.[rank] })),
  );
  const peers = reducers.map((r) => r.url);
  await Promise.all(
    reducers.map((r, rank) => r.connect({ rank, world, peers, runId: options.runId ?? 'test-run', token: options.token, wireDtype: options.wireDtype })),
  );
  return reducers;
}
