import type { RingProvider } from './session/worker-session';

export interface RingProviderOptions {
  listenHost: string;
  advertiseHost?: string;
  local: boolean;
  token?: string;
  log: (line: string) => void;
}

/** Placeholder until the ring transport lands: no peer endpoint, so the coordinator picks star. */
export async function createRingProvider(_o: RingProviderOptions): Promise<RingProvider & { close(): Promise<void> }> {
  return {
    peerUrl: null,
    join: async () => {
      throw new Error('ring all-reduce is not available in this build');
    },
    close: async () => {},
  };
}
