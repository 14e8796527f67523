import { hostname } from 'node:os';
import { type AllowList, listenInRange, type PortRange, refusalReporter, type TlsIdentity } from '@gradsync/cluster';
import { type AllReducer, RingAllReducer } from '@gradsync/collective';
import type { RingProvider } from './session/worker-session';

export interface RingProviderOptions {
  listenHost: string;
  advertiseHost?: string;
  local: boolean;
  token?: string;
  /** --peer-port: listen on the first free port of this range (default: any free port). */
  portRange?: PortRange;
  /** --allow: ring links only from these addresses. */
  allow?: AllowList | null;
  /** Ring links over TLS with this certificate (announced by fingerprint, see allreduce/ring-tls.ts). */
  tls?: TlsIdentity;
  log: (line: string) => void;
}

/**
 * One ring endpoint per group: each membership change gets a fresh listener (a RingAllReducer
 * links up once), announced to the coordinator before the group's neighbours are known.
 */
export async function createRingProvider(o: RingProviderOptions): Promise<RingProvider & { close(): Promise<void> }> {
  const advertiseHost = o.advertiseHost ?? (o.local ? '127.0.0.1' : hostname());
  const refusals = refusalReporter(o.log, (address) => `refused a ring connection from ${address}: not in --allow ${o.allow?.ranges.join(' ')}`);
  const onRefused = (address: string) => refusals.refused(address);
  const listen = () =>
    listenInRange(
      o.portRange,
      (port) => RingAllReducer.listen({ host: o.listenHost, port, advertiseHost, allow: o.allow, onRefused, tls: o.tls }),
      `ring links on ${o.listenHost}`,
    );
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
    join: async ({ rank, world, peers, runId, wireDtype }): Promise<AllReducer> => {
      used = true;
      await current.connect({ rank, world, peers, runId, token: o.token, wireDtype });
      return current;
    },
    close: () => {
      refusals.flush();
      return current.close();
    },
  };
}
