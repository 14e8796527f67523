import type { WorkerMessage } from '@gradsync/protocol';

/**
 * What a session needs from the process that hosts it (a Node worker or a browser tab): the link
 * to the coordinator, and what it reports about its own process. Hosts implement these; the
 * session imports nothing of theirs.
 */
export interface CoordinatorLink {
  /** Encodes and sends at once (the message is not held); dropped when the link is not open. */
  send(message: WorkerMessage): void;
  close(code?: number, reason?: string): void;
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** What a worker reports about its own process with each step (see the step-done message). */
export interface ProcessUsage {
  /** CPU time since the previous sample as a percentage of one core (200 = two cores busy). */
  cpuPercent: number;
  rssBytes: number;
  gpuBytes?: number;
}
