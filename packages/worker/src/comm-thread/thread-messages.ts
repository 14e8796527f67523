/** What the worker's main thread and its communication thread say to each other (comm-thread.ts). */
import type { PortRange, TlsIdentity } from '@gradsync/cluster';
import type { WireDtype } from '@gradsync/collective';

/** createRingProvider's options, as a worker thread can receive them (no functions: the allow list as its entries). */
export interface ThreadRingOptions {
  listenHost: string;
  advertiseHost?: string;
  local: boolean;
  token?: string;
  portRange?: PortRange;
  allowEntries: readonly string[] | null;
  tls?: TlsIdentity;
}

export interface JoinSetup {
  rank: number;
  world: number;
  peers: string[];
  runId: string;
  wireDtype: WireDtype;
}

export type ToThread =
  | { kind: 'prepare'; id: number }
  | { kind: 'join'; id: number; setup: JoinSetup }
  /** Sum `length` floats at `byteOffset` of `memory` in place, as operation `op`, after every reduce sent before it. */
  | { kind: 'reduce'; id: number; memory: SharedArrayBuffer; byteOffset: number; length: number; op: number }
  | { kind: 'close-group'; id: number }
  | { kind: 'close'; id: number };

export type FromThread =
  | { kind: 'started'; peerUrl: string | null }
  | { kind: 'log'; line: string }
  | { kind: 'done'; id: number; peerUrl?: string | null; wire?: { sent: number; received: number } }
  | { kind: 'failed'; id: number; code: string; message: string; wire?: { sent: number; received: number } };
