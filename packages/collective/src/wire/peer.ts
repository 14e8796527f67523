/**
 * Messages on the all-reduce data plane: the peer links of the ring, and the float frames that
 * ring segments travel in. The star kinds (2, 3) are defined and checked but no link carries them
 * now: the star all-reduce goes over the coordinator link as `star-part` / `star-sum` messages
 * (messages.ts); the benchmark-only star that used them was deleted in issue 13.
 *
 * ## Handshake (MessagePack, see codec.ts)
 * The rank that dials (rank r dials rank r+1) sends `peer-hello`; the listener checks the run id,
 * that the dialer is the rank it expects, the token and the segment size, then answers
 * `peer-welcome` or closes the link with the reason. The token is a shared secret of the run,
 * sent in the clear: it keeps strays from other runs out, it is not transport security.
 *
 * ## Float frames (hot path, not MessagePack)
 * On a ring link a float frame is one binary WebSocket message: a fixed 24-byte header, then the
 * raw float32 payload (little-endian) of exactly 4·floatCount bytes. The sender writes both in one
 * writev straight from its Float32Array; the receiver reads the header first and puts the payload
 * where it belongs (see transport/segment-link.ts). `FrameReader` below reads the older pairing
 * (header message, then payload message) that the benchmark's raw ws stream still uses.
 *
 *     offset size field
 *      0     1   magic 0xC1: the one byte MessagePack never uses, so a float frame header can
 *                never be mistaken for a MessagePack message sharing the link
 *      1     1   protocol version (PROTOCOL_VERSION)
 *      2     1   kind: 1 ring-segment, 2 star-contribution, 3 star-result
 *      3     1   ring phase: 0 reduce-scatter, 1 all-gather (0 for star frames)
 *      4     4   operation id (u32)
 *      8     4   ring: step within the phase; star: the contributing rank (0 for a result)
 *     12     4   ring: chunk index (0 for star)
 *     16     4   ring: segment index within the chunk (0 for star)
 *     20     4   floatCount (u32)
 *
 * All integers little-endian. Every field is checked; reserved fields must be 0. `FrameReader`
 * pairs headers with payloads and checks the payload length; `validateRingSegment` and
 * `validateStarFrame` check a frame against what the schedule expects next.
 */
import type { RingPhase } from '../algorithms/ring-schedule';
import { isWireDtype, WIRE_DTYPES, type WireDtype } from '../algorithms/wire-dtype';
import { expectHeader, expectInt, expectRecord, expectString, PROTOCOL_VERSION, ProtocolError } from '@gradsync/protocol';

// ---- Handshake ----

export const MAX_RUN_ID_LENGTH = 256;
export const MAX_TOKEN_LENGTH = 1024;
/** Ranks are below this (matches allreduce's MAX_WORLD). */
export const MAX_PEER_RANK = 4095;
export const MIN_SEGMENT_BYTES = 4;
export const MAX_SEGMENT_BYTES = 1 << 30;

export interface PeerHello {
  type: 'peer-hello';
  v: number;
  runId: string;
  /** The dialing rank. */
  rank: number;
  token?: string;
  /** Segment size the dialer cuts chunks into; the listener must use the same. */
  segmentBytes: number;
  /** What the dialer's floats travel as; absent means f32. The listener must use the same. */
  wireDtype?: WireDtype;
  /** Largest buffer the dialer reduces by halving-doubling (Note [Algorithm by size]); absent means the default. The listener must use the same. */
  halvingDoublingMaxBytes?: number;
}

export interface PeerWelcome {
  type: 'peer-welcome';
  v: number;
  runId: string;
  /** The listening rank. */
  rank: number;
}

export function peerHello(fields: Omit<PeerHello, 'type' | 'v'>): PeerHello {
  return { type: 'peer-hello', v: PROTOCOL_VERSION, ...fields };
}

export function peerWelcome(fields: { runId: string; rank: number }): PeerWelcome {
  return { type: 'peer-welcome', v: PROTOCOL_VERSION, ...fields };
}

/** The header, run id and rank that both handshake messages carry. */
function expectRunAndRank(r: Record<string, unknown>, what: 'peer-hello' | 'peer-welcome'): { runId: string; rank: number } | ProtocolError {
  const header = expectHeader(r, what);
  if (header) return header;
  const runId = expectString(r, 'runId', what, { minLength: 1, maxLength: MAX_RUN_ID_LENGTH });
  if (runId instanceof ProtocolError) return runId;
  const rank = expectInt(r, 'rank', 0, MAX_PEER_RANK, what);
  if (rank instanceof ProtocolError) return rank;
  return { runId: runId!, rank };
}

/** Checks the shape of a decoded `peer-hello`. Run id, expected rank and token are the listener's policy. */
export function validatePeerHello(value: unknown): PeerHello | ProtocolError {
  const r = expectRecord(value, 'peer-hello');
  if (r instanceof ProtocolError) return r;
  const who = expectRunAndRank(r, 'peer-hello');
  if (who instanceof ProtocolError) return who;
  const { runId, rank } = who;
  const token = expectString(r, 'token', 'peer-hello', { maxLength: MAX_TOKEN_LENGTH, optional: true });
  if (token instanceof ProtocolError) return token;
  const segmentBytes = expectInt(r, 'segmentBytes', MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES, 'peer-hello');
  if (segmentBytes instanceof ProtocolError) return segmentBytes;
  const hello: PeerHello = { type: 'peer-hello', v: PROTOCOL_VERSION, runId, rank, segmentBytes };
  if (token !== undefined) hello.token = token;
  if (r.wireDtype !== undefined) {
    if (!isWireDtype(r.wireDtype))
      return new ProtocolError(`peer-hello: wireDtype must be one of ${WIRE_DTYPES.join(', ')}, got ${JSON.stringify(r.wireDtype)}`);
    hello.wireDtype = r.wireDtype;
  }
  if (r.halvingDoublingMaxBytes !== undefined) {
    const limit = expectInt(r, 'halvingDoublingMaxBytes', 0, Number.MAX_SAFE_INTEGER, 'peer-hello');
    if (limit instanceof ProtocolError) return limit;
    hello.halvingDoublingMaxBytes = limit;
  }
  return hello;
}

/** Checks a decoded `peer-welcome` and that it comes from `expect.rank` of `expect.runId`. */
export function validatePeerWelcome(value: unknown, expect: { runId: string; rank: number }): PeerWelcome | ProtocolError {
  const r = expectRecord(value, 'peer-welcome');
  if (r instanceof ProtocolError) return r;
  const who = expectRunAndRank(r, 'peer-welcome');
  if (who instanceof ProtocolError) return who;
  const { runId, rank } = who;
  if (runId !== expect.runId) return new ProtocolError(`peer-welcome is for run ${JSON.stringify(runId)}, this is run ${JSON.stringify(expect.runId)}`);
  if (rank !== expect.rank) return new ProtocolError(`peer-welcome came from rank ${rank}, expected rank ${expect.rank}`);
  return { type: 'peer-welcome', v: PROTOCOL_VERSION, runId: runId!, rank };
}

// ---- Float frames ----

export const FRAME_MAGIC = 0xc1;
export const FRAME_HEADER_BYTES = 24;
/** Largest payload of one frame: 2^28 floats (1 GiB). */
export const MAX_FRAME_FLOATS = 1 << 28;

const KIND_CODES = { 'ring-segment': 1, 'star-contribution': 2, 'star-result': 3 } as const;
const PHASE_CODES = { 'reduce-scatter': 0, 'all-gather': 1 } as const;

export interface RingSegmentHeader {
  kind: 'ring-segment';
  opId: number;
  phase: RingPhase;
  step: number;
  chunk: number;
  segment: number;
  floatCount: number;
}

export interface StarFrameHeader {
  kind: 'star-contribution' | 'star-result';
  opId: number;
  /** Contributing rank; 0 in a result. */
  rank: number;
  floatCount: number;
}

export type FrameHeader = RingSegmentHeader | StarFrameHeader;

export interface Frame {
  header: FrameHeader;
  /** Exactly 4·floatCount bytes; any alignment (see codec's floatsFromBytes). */
  payload: Uint8Array;
}

/** True when `message` starts like a float frame header (and so is not MessagePack). */
export function isFrameHeader(message: Uint8Array): boolean {
  return message.byteLength > 0 && message[0] === FRAME_MAGIC;
}

const U32_MAX = 0xffffffff;

function checkU32(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new ProtocolError(`frame ${name} must be a u32, got ${value}`);
}

/** The 24-byte header message of a float frame. Throws ProtocolError for out-of-range fields. */
export function encodeFrameHeader(header: FrameHeader): Uint8Array {
  const bytes = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  checkU32(header.opId, 'opId');
  if (!Number.isInteger(header.floatCount) || header.floatCount < 0 || header.floatCount > MAX_FRAME_FLOATS) {
    throw new ProtocolError(`frame floatCount must be an integer in 0..${MAX_FRAME_FLOATS}, got ${header.floatCount}`);
  }
  bytes[0] = FRAME_MAGIC;
  bytes[1] = PROTOCOL_VERSION;
  bytes[2] = KIND_CODES[header.kind];
  view.setUint32(4, header.opId, true);
  view.setUint32(20, header.floatCount, true);
  if (header.kind === 'ring-segment') {
    checkU32(header.step, 'step');
    checkU32(header.chunk, 'chunk');
    checkU32(header.segment, 'segment');
    bytes[3] = PHASE_CODES[header.phase];
    view.setUint32(8, header.step, true);
    view.setUint32(12, header.chunk, true);
    view.setUint32(16, header.segment, true);
  } else {
    checkU32(header.rank, 'rank');
    view.setUint32(8, header.rank, true);
  }
  return bytes;
}

/** Parses a header message. Returns the header or a ProtocolError naming what is wrong. */
export function decodeFrameHeader(message: Uint8Array): FrameHeader | ProtocolError {
  if (message.byteLength !== FRAME_HEADER_BYTES) {
    return new ProtocolError(`float frame header must be ${FRAME_HEADER_BYTES} bytes, got ${message.byteLength}`);
  }
  if (message[0] !== FRAME_MAGIC) return new ProtocolError(`float frame header starts with 0x${message[0].toString(16)}, expected 0xc1`);
  if (message[1] !== PROTOCOL_VERSION) {
    return new ProtocolError(`float frame speaks protocol version ${message[1]}, this side speaks ${PROTOCOL_VERSION}`);
  }
  const view = new DataView(message.buffer, message.byteOffset, FRAME_HEADER_BYTES);
  const opId = view.getUint32(4, true);
  const a = view.getUint32(8, true);
  const chunk = view.getUint32(12, true);
  const segment = view.getUint32(16, true);
  const floatCount = view.getUint32(20, true);
  if (floatCount > MAX_FRAME_FLOATS) return new ProtocolError(`float frame announces ${floatCount} floats, more than the limit ${MAX_FRAME_FLOATS}`);
  const phaseCode = message[3];
  switch (message[2]) {
    case 1: {
      if (phaseCode > 1) return new ProtocolError(`ring segment has unknown phase code ${phaseCode}`);
      return { kind: 'ring-segment', opId, phase: phaseCode === 0 ? 'reduce-scatter' : 'all-gather', step: a, chunk, segment, floatCount };
    }
    case 2:
    case 3: {
      const kind = message[2] === 2 ? 'star-contribution' : 'star-result';
      if (phaseCode !== 0 || chunk !== 0 || segment !== 0) return new ProtocolError(`${kind} frame has non-zero reserved fields`);
      if (kind === 'star-result' && a !== 0) return new ProtocolError(`star-result frame has rank ${a}, expected 0`);
      return { kind, opId, rank: a, floatCount };
    }
    default:
      return new ProtocolError(`float frame has unknown kind ${message[2]}`);
  }
}

/**
 * Reassembles float frames from the messages of one link: a header, then (if floatCount > 0) the
 * payload message. After it returns a ProtocolError, the link is out of step and must be closed.
 */
export class FrameReader {
  private pending: FrameHeader | null = null;
  private failed: ProtocolError | null = null;

  constructor(private readonly what: string) {}

  /** True between a header and its payload. */
  get awaitingPayload(): boolean {
    return this.pending !== null;
  }

  /** Feeds one received message: a complete frame, null (header read, payload to come), or an error. */
  push(message: Uint8Array): Frame | null | ProtocolError {
    if (this.failed) return this.failed;
    const header = this.pending;
    if (header === null) {
      const parsed = decodeFrameHeader(message);
      if (parsed instanceof ProtocolError) return this.fail(parsed.message);
      if (parsed.floatCount === 0) return { header: parsed, payload: new Uint8Array(0) };
      this.pending = parsed;
      return null;
    }
    if (message.byteLength !== header.floatCount * 4) {
      return this.fail(`${header.kind} payload has ${message.byteLength} bytes, its header announced ${header.floatCount * 4}`);
    }
    this.pending = null;
    return { header, payload: message };
  }

  private fail(message: string): ProtocolError {
    this.failed = new ProtocolError(`${this.what}: ${message}`);
    return this.failed;
  }
}

/** What the ring schedule expects next on a link: a segment header's fields. */
export type ExpectedSegment = Omit<RingSegmentHeader, 'kind'>;

function describeSegment(s: Omit<ExpectedSegment, 'floatCount'> & { floatCount: number }): string {
  return `op ${s.opId} ${s.phase} step ${s.step} chunk ${s.chunk} segment ${s.segment} (${s.floatCount} floats)`;
}

/** Checks a frame against the next segment of the schedule; null when it matches. */
export function validateRingSegment(header: FrameHeader, expected: ExpectedSegment | null): ProtocolError | null {
  if (header.kind !== 'ring-segment') return new ProtocolError(`expected a ring segment, got a ${header.kind} frame`);
  if (expected === null) return new ProtocolError(`got ring segment ${describeSegment(header)} but no segment is expected`);
  if (
    header.opId !== expected.opId ||
    header.phase !== expected.phase ||
    header.step !== expected.step ||
    header.chunk !== expected.chunk ||
    header.segment !== expected.segment ||
    header.floatCount !== expected.floatCount
  ) {
    return new ProtocolError(`expected ring segment ${describeSegment(expected)}, got ${describeSegment(header)}`);
  }
  return null;
}

/** Checks a star frame against the expected kind, operation, length and (for contributions) rank. */
export function validateStarFrame(
  header: FrameHeader,
  expected: { kind: StarFrameHeader['kind']; opId: number; floatCount: number; rank?: number },
): StarFrameHeader | ProtocolError {
  if (header.kind !== expected.kind) return new ProtocolError(`expected a ${expected.kind} frame, got a ${header.kind} frame`);
  if (header.opId !== expected.opId) return new ProtocolError(`${header.kind} is for op ${header.opId}, expected op ${expected.opId}`);
  if (header.floatCount !== expected.floatCount) {
    return new ProtocolError(`${header.kind} for op ${header.opId} has ${header.floatCount} floats, expected ${expected.floatCount}`);
  }
  if (expected.rank !== undefined && header.rank !== expected.rank) {
    return new ProtocolError(`${header.kind} for op ${header.opId} claims rank ${header.rank}, expected rank ${expected.rank}`);
  }
  return header;
}
