import { hostname } from 'node:os';
import { type AllReducer, RingAllReducer } from './allreduce/index';
import type { RingProvider } from './session/worker-session';

export interface RingProviderOptions {
  listenHost: string;
  advertiseHost?: string;
  local: boolean;
  token?: string;
  log: (line: string) => void;
}

/**
 * One ring endpoint per group: each membership change gets a fresh listener (a RingAllReducer
 * links up once), announced to the coordinator before the group's neighbours are known.
 */
export async function createRingProvider(o: RingProviderOptions): Promise<RingProvider & { close(): Promise<void> }> {
  const advertiseHost = o.advertiseHost ?? (o.local ? '127.0.0.1' : hostname());
  const listen = () => RingAllReducer.listen({ host: o.listenHost, advertiseHost });
  let current = await listen();
  let used = false;
  o.log(`ring endpoint ${current.url}`);
  return {
    get peerUrl() {
      return current.url;
    },
    prepare: async () => {
      if (used) {
        await current.close();
        current = await listen();
        used = false;
      }
      return current.url;
    },
    join: async ({ rank, world, peers, runId }): Promise<AllReducer> => {
      used = true;
      await current.connect({ rank, world, peers, runId, token: o.token });
      return current;
    },
    close: () => current.close(),
  };
}
