/**
 * WebSocket close codes and reasons, shared by every link (coordinator ⇄ worker, ring peers), so
 * that a refusal sent by one side is recognised as one by the other.
 */

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  /** The worker's token is missing or wrong. */
  wrongToken: 4001,
  /** The run already has --max-workers workers. */
  runFull: 4002,
  /** The run is over: nothing left to join. */
  runOver: 4003,
} as const;

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

const REFUSALS: ReadonlySet<number> = new Set([
  CLOSE.protocolError,
  CLOSE.unsupportedData,
  CLOSE.policy,
  CLOSE.tooBig,
  CLOSE.wrongToken,
  CLOSE.runFull,
  CLOSE.runOver,
]);

/** True for a close that says "you may not (or need not) come back": retrying would only be refused again. */
export function isRefusal(code: number): boolean {
  return REFUSALS.has(code);
}

/** Longest close reason RFC 6455 allows; ws throws (synchronously) beyond it. */
export const MAX_CLOSE_REASON_BYTES = 123;

const utf8 = new TextEncoder();
/** Bytes of `text` in UTF-8 (TextEncoder, not Buffer: a browser tab worker closes links too). */
function utf8Bytes(text: string): number {
  return utf8.encode(text).byteLength;
}

/** Cuts `reason` to at most 123 UTF-8 bytes without splitting a character (surrogate pairs included). */
export function closeReason(reason: string): string {
  if (utf8Bytes(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  let cut = reason.slice(0, MAX_CLOSE_REASON_BYTES);
  while (utf8Bytes(cut) > MAX_CLOSE_REASON_BYTES - 3) cut = cut.slice(0, -1);
  // A lone high surrogate at the end would be encoded as U+FFFD (3 bytes): drop it.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}...`;
}
