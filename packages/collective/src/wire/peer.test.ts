import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@gradsync/core';
import { decode, encode, ProtocolError } from '@gradsync/protocol';
import {
  decodeFrameHeader,
  encodeFrameHeader,
  FRAME_HEADER_BYTES,
  FrameReader,
  isFrameHeader,
  peerHello,
  peerWelcome,
  validatePeerHello,
  validatePeerWelcome,
  validateRingSegment,
  validateStarFrame,
  type RingSegmentHeader,
} from './peer';

const segment: RingSegmentHeader = { kind: 'ring-segment', opId: 9, phase: 'all-gather', step: 2, chunk: 3, segment: 4, floatCount: 5 };

describe('peer handshake messages', () => {
  it('validate a hello and a welcome', () => {
    const hello = validatePeerHello(decode(encode(peerHello({ runId: 'run-1', rank: 2, token: 's3cret', segmentBytes: 65536 }))));
    expect(hello).toEqual({ type: 'peer-hello', v: 1, runId: 'run-1', rank: 2, token: 's3cret', segmentBytes: 65536 });
    const noToken = validatePeerHello(decode(encode(peerHello({ runId: 'r', rank: 0, segmentBytes: 4 }))));
    expect(noToken).not.toBeInstanceOf(ProtocolError);
    const limited = validatePeerHello(decode(encode(peerHello({ runId: 'r', rank: 0, segmentBytes: 4, halvingDoublingMaxBytes: 0 }))));
    expect(limited).toMatchObject({ halvingDoublingMaxBytes: 0 });
    expect('token' in (noToken as object)).toBe(false);
    expect(validatePeerWelcome(peerWelcome({ runId: 'r', rank: 1 }), { runId: 'r', rank: 1 })).toEqual({ type: 'peer-welcome', v: 1, runId: 'r', rank: 1 });
  });

  it.each([
    [null, /must be an object/],
    [[1], /must be an object/],
    [{ type: 'peer-welcome', v: 1 }, /expected a 'peer-hello'/],
    [{ type: 'peer-hello', v: 2, runId: 'r', rank: 0, segmentBytes: 4 }, /version 2/],
    [{ type: 'peer-hello', v: 1, runId: '', rank: 0, segmentBytes: 4 }, /runId must have 1\.\./],
    [{ type: 'peer-hello', v: 1, runId: 'r', rank: -1, segmentBytes: 4 }, /rank must be an integer/],
    [{ type: 'peer-hello', v: 1, runId: 'r', rank: 1.5, segmentBytes: 4 }, /rank must be an integer/],
    [{ type: 'peer-hello', v: 1, runId: 'r', rank: 0, token: 5, segmentBytes: 4 }, /token must be a string/],
    [{ type: 'peer-hello', v: 1, runId: 'r', rank: 0, segmentBytes: 2 }, /segmentBytes/],
    [{ type: 'peer-hello', v: 1, runId: 'x'.repeat(300), rank: 0, segmentBytes: 4 }, /runId/],
    [{ type: 'peer-hello', v: 1, runId: 'r', rank: 0, segmentBytes: 4, halvingDoublingMaxBytes: -1 }, /halvingDoublingMaxBytes must be an integer/],
    [{ type: 'peer-hello', v: 1, runId: 'r', rank: 0, segmentBytes: 4, halvingDoublingMaxBytes: 'big' }, /halvingDoublingMaxBytes/],
  ])('refuse a malformed hello %#', (value, re) => {
    const result = validatePeerHello(value);
    expect(result).toBeInstanceOf(ProtocolError);
    expect((result as ProtocolError).message).toMatch(re);
  });

  it('refuse a welcome from another run or rank', () => {
    expect((validatePeerWelcome(peerWelcome({ runId: 'a', rank: 1 }), { runId: 'b', rank: 1 }) as Error).message).toMatch(/run "a"/);
    expect((validatePeerWelcome(peerWelcome({ runId: 'a', rank: 2 }), { runId: 'a', rank: 1 }) as Error).message).toMatch(/rank 2, expected rank 1/);
  });
});

describe('float frames', () => {
  it('round-trip ring and star headers', () => {
    const bytes = encodeFrameHeader(segment);
    expect(bytes.byteLength).toBe(FRAME_HEADER_BYTES);
    expect(isFrameHeader(bytes)).toBe(true);
    expect(isFrameHeader(encode({ type: 'x' }))).toBe(false);
    expect(decodeFrameHeader(bytes)).toEqual(segment);
    const star = { kind: 'star-contribution', opId: 0xffffffff, rank: 3, floatCount: 0 } as const;
    expect(decodeFrameHeader(encodeFrameHeader(star))).toEqual(star);
    // A header inside a larger buffer at an odd offset decodes too.
    const padded = new Uint8Array(FRAME_HEADER_BYTES + 3);
    padded.set(bytes, 3);
    expect(decodeFrameHeader(padded.subarray(3))).toEqual(segment);
  });

  it('refuse bad headers with a reason', () => {
    const cases: [(b: Uint8Array) => Uint8Array, RegExp][] = [
      [(b) => b.subarray(0, 23), /24 bytes, got 23/],
      [(b) => ((b[0] = 0x80), b), /starts with 0x80/],
      [(b) => ((b[1] = 7), b), /version 7/],
      [(b) => ((b[2] = 9), b), /unknown kind 9/],
      [(b) => ((b[3] = 2), b), /unknown phase/],
      [(b) => (new DataView(b.buffer).setUint32(20, 2 ** 29, true), b), /more than the limit/],
      [(b) => ((b[2] = 3), b), /reserved/],
    ];
    for (const [mutate, re] of cases) {
      const result = decodeFrameHeader(mutate(encodeFrameHeader(segment)));
      expect(result).toBeInstanceOf(ProtocolError);
      expect((result as Error).message).toMatch(re);
    }
    expect(() => encodeFrameHeader({ ...segment, opId: -1 })).toThrow(ProtocolError);
  });

  it('FrameReader pairs a header with its payload and refuses a wrong length', () => {
    const reader = new FrameReader('link from rank 1');
    expect(reader.push(encodeFrameHeader(segment))).toBeNull();
    expect(reader.awaitingPayload).toBe(true);
    const payload = new Uint8Array(20);
    expect(reader.push(payload)).toEqual({ header: segment, payload });
    expect(reader.push(encodeFrameHeader({ ...segment, floatCount: 0 }))).toMatchObject({ header: { floatCount: 0 } });
    reader.push(encodeFrameHeader(segment));
    const err = reader.push(new Uint8Array(19));
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/link from rank 1: ring-segment payload has 19 bytes, its header announced 20/);
    // Out of step for good.
    expect(reader.push(encodeFrameHeader(segment))).toBe(err);
  });

  it('FrameReader survives random garbage by reporting ProtocolError', () => {
    const rand = mulberry32(1);
    for (let i = 0; i < 2000; i++) {
      const reader = new FrameReader('fuzz');
      const bytes = new Uint8Array(Math.floor(rand() * 48));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      if (rand() < 0.5) bytes[0] = 0xc1;
      const out = reader.push(bytes);
      expect(out === null || out instanceof ProtocolError || typeof out === 'object').toBe(true);
    }
  });

  it('validateRingSegment compares every field with the schedule', () => {
    const expected = { opId: 9, phase: 'all-gather' as const, step: 2, chunk: 3, segment: 4, floatCount: 5 };
    expect(validateRingSegment(segment, expected)).toBeNull();
    for (const change of [{ opId: 8 }, { phase: 'reduce-scatter' as const }, { step: 1 }, { chunk: 0 }, { segment: 3 }, { floatCount: 6 }]) {
      const err = validateRingSegment(segment, { ...expected, ...change });
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err!.message).toMatch(/expected ring segment op \d+ .* got op 9 all-gather step 2 chunk 3 segment 4 \(5 floats\)/);
    }
    expect(validateRingSegment(segment, null)!.message).toMatch(/no segment is expected/);
    expect(validateRingSegment({ kind: 'star-result', opId: 1, rank: 0, floatCount: 1 }, expected)!.message).toMatch(/star-result/);
  });

  it('validateStarFrame checks kind, op, length and rank', () => {
    const h = { kind: 'star-contribution' as const, opId: 1, rank: 2, floatCount: 3 };
    expect(validateStarFrame(h, { kind: 'star-contribution', opId: 1, floatCount: 3, rank: 2 })).toEqual(h);
    expect((validateStarFrame(h, { kind: 'star-result', opId: 1, floatCount: 3 }) as Error).message).toMatch(/expected a star-result/);
    expect((validateStarFrame(h, { kind: 'star-contribution', opId: 2, floatCount: 3 }) as Error).message).toMatch(/expected op 2/);
    expect((validateStarFrame(h, { kind: 'star-contribution', opId: 1, floatCount: 4 }) as Error).message).toMatch(/3 floats, expected 4/);
    expect((validateStarFrame(h, { kind: 'star-contribution', opId: 1, floatCount: 3, rank: 1 }) as Error).message).toMatch(/claims rank 2/);
  });
});
