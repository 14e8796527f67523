import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { mulberry32 } from '@gradsync/core';
import { decode, encode, floatsFromBytes, floatsToBytes, PROTOCOL_VERSION, ProtocolError } from './codec';

function expectProtocolError(fn: () => unknown, re?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  expect((thrown as ProtocolError).code).toBe('E_PROTOCOL');
  if (re) expect((thrown as Error).message).toMatch(re);
}

// A packer with msgpackr's full type set, to craft what a hostile or buggy peer could send.
const rich = new Packr({ moreTypes: true, structuredClone: true, useRecords: false });

describe('codec', () => {
  it('round-trips plain data and omits undefined fields', () => {
    const msg = {
      type: 'x',
      v: PROTOCOL_VERSION,
      n: -3,
      f: 0.5,
      s: 'é',
      ok: true,
      none: null,
      list: [1, [2, { a: 'b' }]],
      bytes: new Uint8Array([1, 2, 3]),
      gone: undefined,
    };
    const back = decode(encode(msg)) as Record<string, unknown>;
    expect(back).toEqual({ ...msg, bytes: back.bytes, gone: undefined });
    expect('gone' in back).toBe(false);
    expect(Array.from(back.bytes as Uint8Array)).toEqual([1, 2, 3]);
    expect(back.bytes).toBeInstanceOf(Uint8Array);
  });

  it('refuses to encode what a message cannot carry', () => {
    expectProtocolError(() => encode({ g: new Float32Array(2) }), /Float32Array.*floatsToBytes/);
    expectProtocolError(() => encode({ d: new Date() }), /Date/);
    expectProtocolError(() => encode({ m: new Map() }), /Map/);
    expectProtocolError(() => encode(undefined), /undefined/);
    expectProtocolError(() => encode({ f: () => 1 }), /function/);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expectProtocolError(() => encode(deep), /nested/);
  });

  it('decodes only plain data: extension types are refused', () => {
    for (const value of [new Date(0), new Set([1]), /re/, new Error('x'), new Float32Array(2), 10n ** 30n, { u: undefined }]) {
      expectProtocolError(() => decode(rich.pack({ value })));
    }
  });

  it('does not let __proto__ keys reach the prototype', () => {
    const bytes = rich.pack(JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}'));
    const back = decode(bytes) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it('throws only ProtocolError on garbage, empty input and trailing bytes', () => {
    expectProtocolError(() => decode(new Uint8Array(0)), /empty/);
    expectProtocolError(() => decode(new Uint8Array([0xc1])));
    expectProtocolError(() => decode(new Uint8Array([0x92, 0x01])), /malformed/);
    const good = encode({ a: 1 });
    const trailing = new Uint8Array(good.length + 1);
    trailing.set(good);
    expectProtocolError(() => decode(trailing));
    expectProtocolError(() => decode('text' as unknown as Uint8Array), /expected bytes/);
    // Deep nesting that could overflow the stack.
    expectProtocolError(() => decode(new Uint8Array(100_000).fill(0x91)));
    // Random bytes: either plain data or a ProtocolError, never anything else.
    const rand = mulberry32(42);
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(1 + Math.floor(rand() * 40));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      try {
        decode(bytes);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw new Error(`non-protocol error for ${Buffer.from(bytes).toString('hex')}: ${String(err)}`, { cause: err });
      }
    }
  });

  it('carries floats as raw bytes: a view when aligned, a copy when not', () => {
    const floats = new Float32Array([1.5, -2, 3.25]);
    const bytes = floatsToBytes(floats);
    expect(bytes.buffer).toBe(floats.buffer);
    const view = floatsFromBytes(bytes);
    expect(view.buffer).toBe(floats.buffer);
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    const copy = floatsFromBytes(shifted.subarray(1));
    expect(copy.buffer).not.toBe(shifted.buffer);
    expect(Array.from(copy)).toEqual([1.5, -2, 3.25]);
    expectProtocolError(() => floatsFromBytes(new Uint8Array(6)), /6 bytes, not a multiple of 4/);
    // Inside a message, as a byte field.
    const back = decode(encode({ g: floatsToBytes(floats) })) as { g: Uint8Array };
    expect(Array.from(floatsFromBytes(back.g))).toEqual([1.5, -2, 3.25]);
  });
});
