import { hostname } from 'node:os';
import { RingAllReducer } from './allreduce/index';
import type { RingProvider } from './session/worker-session';

export interface RingProviderOptions {
  listenHost: string;
  advertiseHost?: string;
  local: boolean;
  token?: string;
  log: (line: string) => void;
}

/**
 * Listens for ring links before joining, so the hello can tell the coordinator where this worker
 * is reached; the coordinator's group message then says who the neighbours are.
 */
export async function createRingProvider(o: RingProviderOptions): Promise<RingProvider & { close(): Promise<void> }> {
  const advertiseHost = o.advertiseHost ?? (o.local ? '127.0.0.1' : hostname());
  const ring = await RingAllReducer.listen({ host: o.listenHost, advertiseHost });
  return {
    peerUrl: ring.url,
    join: async ({ rank, world, peers, runId }) => {
      await ring.connect({ rank, world, peers, runId, token: o.token });
      return ring;
    },
    close: () => ring.close(),
  };
}
