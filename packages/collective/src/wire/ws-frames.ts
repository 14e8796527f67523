/**
 * RFC 6455 framing for the ring's data links, after the ws handshake (see Note [Link take-over]
 * in transport/segment-link.ts): an encoder for the header of one binary or close frame, and a
 * streaming parser that copies each binary frame's payload straight into a buffer its consumer
 * chooses once it has seen the first bytes. No allocation per frame on the receive path.
 *
 * Only what the ring needs is accepted: unfragmented binary frames (FIN set, opcode 2), close,
 * ping and pong. Text, continuation and reserved opcodes, RSV bits (no extension is negotiated)
 * and payloads over the limit are protocol errors, as a stock ws endpoint treats them.
 */
import { ProtocolError } from '@gradsync/protocol';

export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

/** Largest header: 2 bytes, an 8-byte length, a 4-byte mask key. */
export const MAX_WS_HEADER_BYTES = 14;

/**
 * Writes the header of one final frame of `opcode` with a payload of `length` bytes into `out` at
 * `offset`; returns the bytes written. `mask` (4 bytes) sets the MASK bit and the key: RFC 6455
 * asks it of every client→server frame (an all-zero key leaves the payload as it is, see
 * peer-socket.ts).
 */
export function writeFrameHeader(out: Uint8Array, offset: number, opcode: number, length: number, mask: Uint8Array | null): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new ProtocolError(`frame length must be a non-negative integer, got ${length}`);
  let at = offset;
  out[at++] = 0x80 | opcode;
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) {
    out[at++] = maskBit | length;
  } else if (length < 0x10000) {
    out[at++] = maskBit | 126;
    out[at++] = length >>> 8;
    out[at++] = length & 0xff;
  } else {
    out[at++] = maskBit | 127;
    const high = Math.floor(length / 2 ** 32);
    const low = length >>> 0;
    for (const word of [high, low]) {
      out[at++] = word >>> 24;
      out[at++] = (word >>> 16) & 0xff;
      out[at++] = (word >>> 8) & 0xff;
      out[at++] = word & 0xff;
    }
  }
  if (mask) {
    out.set(mask.subarray(0, 4), at);
    at += 4;
  }
  return at - offset;
}

/** What the parser hands its consumer. */
export interface FrameSink {
  /**
   * The first `prefixBytes` bytes of a binary message have arrived (in `prefix`, valid only during
   * the call), with `length` the whole payload's size. Return where the remaining
   * `length − prefixBytes` bytes go (exactly that long), or a ProtocolError to stop.
   */
  begin(prefix: Uint8Array, length: number): Uint8Array | ProtocolError;
  /** The payload chosen in `begin` is complete. */
  end(): void;
  /** A close frame: its code (1005 when it carries none) and reason. */
  close(code: number, reason: string): void;
  /** A ping: answer with a pong of the same payload. */
  ping(payload: Uint8Array): void;
}

type State = 'header' | 'prefix' | 'body' | 'control' | 'failed';

/**
 * Parses the bytes of one direction of a link. `prefixBytes` bytes of each binary payload are
 * gathered before `begin` (the gradsync frame header); a binary payload shorter than that, or
 * longer than `maxPayload`, is a protocol error. After an error the link is out of step: every
 * later `push` returns the same error.
 */
export class WsFrameParser {
  private state: State = 'header';
  private readonly head = new Uint8Array(MAX_WS_HEADER_BYTES);
  private headHave = 0;
  private opcode = 0;
  private length = 0;
  private readonly mask = new Uint8Array(4);
  private masked = false;
  /** Payload bytes of the current frame consumed so far (for the mask's phase). */
  private done = 0;
  private readonly prefix: Uint8Array;
  private target: Uint8Array = new Uint8Array(0);
  private control = new Uint8Array(125);
  private error: ProtocolError | null = null;

  constructor(
    private readonly sink: FrameSink,
    private readonly prefixBytes: number,
    private readonly maxPayload: number,
    private readonly what: string,
  ) {
    this.prefix = new Uint8Array(prefixBytes);
  }

  /** Feeds received bytes; null while all is well. */
  push(chunk: Uint8Array): ProtocolError | null {
    let at = 0;
    while (at < chunk.length) {
      switch (this.state) {
        case 'failed':
          return this.error;
        case 'header':
          at = this.readHeader(chunk, at);
          break;
        case 'prefix':
        case 'body':
        case 'control':
          at = this.readPayload(chunk, at);
          break;
      }
      if (this.error) return this.error;
    }
    return this.error;
  }

  /**
   * Where the next socket read should land (for a socket's `onread`): the rest of the current
   * payload's destination while a body is under way, so its bytes arrive in their final place;
   * otherwise `scratch`, whose bytes `received` then parses as `push` does.
   */
  nextReadBuffer(scratch: Uint8Array): Uint8Array {
    if (this.state === 'body') return this.target.subarray(this.done - this.prefixBytes);
    return scratch;
  }

  /** `n` bytes were read into `buffer`, which `nextReadBuffer` gave; null while all is well. */
  received(buffer: Uint8Array, n: number): ProtocolError | null {
    const into = this.done - this.prefixBytes;
    if (this.state !== 'body' || buffer.buffer !== this.target.buffer || buffer.byteOffset !== this.target.byteOffset + into) {
      return this.push(buffer.subarray(0, n));
    }
    if (this.masked) this.unmask(this.target, into, n, this.done);
    this.done += n;
    if (into + n === this.target.length) {
      this.state = 'header';
      this.sink.end();
    }
    return this.error;
  }

  private fail(message: string): number {
    this.state = 'failed';
    this.error = new ProtocolError(`${this.what}: ${message}`);
    return Number.MAX_SAFE_INTEGER;
  }

  private readHeader(chunk: Uint8Array, at: number): number {
    const head = this.head;
    while (at < chunk.length) {
      head[this.headHave++] = chunk[at++];
      const need = this.headerLength();
      if (need === null || this.headHave < need) continue;
      return this.startFrame(at);
    }
    return at;
  }

  /** Bytes the current header needs, or null while its first two bytes are not in. */
  private headerLength(): number | null {
    if (this.headHave < 2) return null;
    const len7 = this.head[1] & 0x7f;
    const maskBytes = this.head[1] & 0x80 ? 4 : 0;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + maskBytes;
  }

  private startFrame(at: number): number {
    const head = this.head;
    const fin = head[0] & 0x80;
    const rsv = head[0] & 0x70;
    const opcode = head[0] & 0x0f;
    const len7 = head[1] & 0x7f;
    let i = 2;
    let length = len7;
    if (len7 === 126) {
      length = (head[2] << 8) | head[3];
      i = 4;
    } else if (len7 === 127) {
      const high = ((head[2] << 24) | (head[3] << 16) | (head[4] << 8) | head[5]) >>> 0;
      const low = ((head[6] << 24) | (head[7] << 16) | (head[8] << 8) | head[9]) >>> 0;
      if (high > 0x1fffff) return this.fail('frame length over 2^53');
      length = high * 2 ** 32 + low;
      i = 10;
    }
    this.masked = (head[1] & 0x80) !== 0;
    if (this.masked) this.mask.set(head.subarray(i, i + 4));
    this.headHave = 0;
    this.opcode = opcode;
    this.length = length;
    this.done = 0;
    if (rsv !== 0) return this.fail('frame has RSV bits set but no extension was negotiated');
    if (opcode === OPCODE_BINARY) {
      if (!fin) return this.fail('fragmented messages are not used on ring links');
      if (length > this.maxPayload) return this.fail(`message of ${length} bytes is over the limit of ${this.maxPayload}`);
      if (length < this.prefixBytes) return this.fail(`message of ${length} bytes is shorter than a ${this.prefixBytes}-byte frame header`);
      this.state = 'prefix';
      return this.prefixBytes === 0 ? this.beginBody(at) : at;
    }
    if (opcode === OPCODE_CLOSE || opcode === OPCODE_PING || opcode === OPCODE_PONG) {
      if (!fin || length > 125) return this.fail('control frame is fragmented or over 125 bytes');
      this.state = 'control';
      return length === 0 ? this.endControl(at) : at;
    }
    if (opcode === 0x1) return this.fail('text message on a binary link');
    if (opcode === 0x0) return this.fail('continuation frame without a message to continue');
    return this.fail(`unknown opcode 0x${opcode.toString(16)}`);
  }

  /** Copies payload bytes from `chunk` into the current destination, unmasking if needed. */
  private readPayload(chunk: Uint8Array, at: number): number {
    const state = this.state;
    const dest = state === 'prefix' ? this.prefix : state === 'control' ? this.control : this.target;
    const base = state === 'body' ? this.prefixBytes : 0;
    const want = (state === 'prefix' ? this.prefixBytes : state === 'control' ? this.length : this.length - this.prefixBytes) - (this.done - base);
    const n = Math.min(want, chunk.length - at);
    const into = this.done - base;
    dest.set(chunk.subarray(at, at + n), into);
    if (this.masked) this.unmask(dest, into, n, this.done);
    this.done += n;
    at += n;
    if (n < want) return at;
    if (state === 'prefix') return this.beginBody(at);
    if (state === 'control') return this.endControl(at);
    this.state = 'header';
    this.sink.end();
    return at;
  }

  private unmask(dest: Uint8Array, from: number, n: number, phase: number): void {
    const m = this.mask;
    if ((m[0] | m[1] | m[2] | m[3]) === 0) return;
    for (let k = 0; k < n; k++) dest[from + k] ^= m[(phase + k) & 3];
  }

  private beginBody(at: number): number {
    const target = this.sink.begin(this.prefix, this.length);
    if (target instanceof ProtocolError) {
      this.state = 'failed';
      this.error = target;
      return Number.MAX_SAFE_INTEGER;
    }
    if (target.length !== this.length - this.prefixBytes) {
      return this.fail(`consumer gave ${target.length} bytes for a ${this.length - this.prefixBytes}-byte payload`);
    }
    this.target = target;
    this.state = 'body';
    if (target.length === 0) {
      this.state = 'header';
      this.sink.end();
    }
    return at;
  }

  private endControl(at: number): number {
    const payload = this.control.subarray(0, this.length);
    this.state = 'header';
    if (this.opcode === OPCODE_CLOSE) {
      if (this.length === 1) return this.fail('close frame with a 1-byte payload');
      const code = this.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
      this.sink.close(code, Buffer.from(payload.subarray(2)).toString('utf8'));
    } else if (this.opcode === OPCODE_PING) {
      this.sink.ping(payload.slice());
    }
    return at;
  }
}
