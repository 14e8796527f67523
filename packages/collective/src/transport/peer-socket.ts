/**
 * WebSocket settings and small socket helpers shared by the all-reduce links.
 *
 * - No per-message deflate: gradients do not compress, and deflate costs CPU on both ends.
 * - Client frames are sent with an all-zero mask. RFC 6455 masks client→server frames so that a
 *   browser cannot be used to poison an intermediary's cache; between our own processes there is
 *   no such intermediary, and ws skips the XOR pass (and the copy it implies) when the mask is
 *   zero, so a Float32Array view goes to the socket untouched. Measured: masking halves the
 *   throughput of a loopback stream (see bench-allreduce.ts).
 * - Nagle's algorithm is already off: ws calls setNoDelay() on every socket it opens or accepts.
 */
import type WebSocket from 'ws';
import { closeReason } from '@gradsync/protocol';

export const zeroMask = (mask: Uint8Array): void => {
  mask.fill(0);
};

/**
 * Closes a socket with a code and reason, and makes sure it goes: a peer that does not answer the
 * closing handshake within `graceMs` is cut off.
 */
export function closeLink(ws: WebSocket, code: number, reason: string, graceMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve();
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    const timer = setTimeout(() => ws.terminate(), graceMs);
    if (ws.readyState === ws.CONNECTING) ws.terminate();
    else if (ws.readyState === ws.OPEN) ws.close(code, closeReason(reason));
  });
}

/** Close codes used on the links (RFC 6455 §7.4.1). */
