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

export const zeroMask = (mask: Uint8Array): void => {
  mask.fill(0);
};

/** Longest close reason RFC 6455 allows (ws throws beyond it). */
const MAX_REASON_BYTES = 123;

/** Cuts `reason` to at most 123 UTF-8 bytes without splitting a character. */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let cut = reason.slice(0, MAX_REASON_BYTES);
  while (Buffer.byteLength(cut) > MAX_REASON_BYTES - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}

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
export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_POLICY = 1008;
export const CLOSE_INTERNAL = 1011;
