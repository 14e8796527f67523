import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@gradsync/core';
import { ProtocolError } from '@gradsync/protocol';
import { type FrameSink, MAX_WS_HEADER_BYTES, OPCODE_BINARY, OPCODE_CLOSE, writeFrameHeader, WsFrameParser } from './ws-frames';

const PREFIX = 8;
/** ws's frame writer (not in its type declarations). */
const { Sender } = createRequire(import.meta.url)('ws') as { Sender: { frame(data: Buffer, options: object): Buffer[] } };

/** A sink that records what the parser hands it, with one destination array per message. */
function recorder() {
  const messages: { prefix: number[]; body: Uint8Array }[] = [];
  const events: string[] = [];
  const sink: FrameSink = {
    begin(prefix, length) {
      const body = new Uint8Array(length - PREFIX);
      messages.push({ prefix: [...prefix], body });
      events.push(`begin ${length}`);
      return body;
    },
    end: () => events.push('end'),
    close: (code, reason) => events.push(`close ${code} ${reason}`),
    ping: (payload) => events.push(`ping ${[...payload].join(',')}`),
  };
  return { sink, messages, events };
}

/** Frames as a stock ws endpoint writes them (ws's own Sender), masked like a client or not. */
function wsFrame(payload: Uint8Array, opcode: number, mask: boolean, fin = true): Buffer {
  const parts = Sender.frame(Buffer.from(payload), { fin, opcode, mask, readOnly: false, rsv1: false });
  return Buffer.concat(parts);
}

function message(length: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  return Uint8Array.from({ length }, () => Math.floor(rand() * 256));
}

/** A stream of binary messages of awkward sizes (all three length encodings) and control frames. */
function stream(mask: boolean): { bytes: Buffer; payloads: Uint8Array[] } {
  const payloads = [PREFIX, PREFIX + 1, 125, 126, 65535, 65536, 70_001].map((n, i) => message(n, i + 1));
  const frames: Buffer[] = [];
  payloads.forEach((p, i) => {
    frames.push(wsFrame(p, OPCODE_BINARY, mask));
    if (i === 2) frames.push(wsFrame(Uint8Array.of(1, 2, 3), 0x9, mask));
  });
  const close = Buffer.alloc(2 + 4);
  close.writeUInt16BE(1000, 0);
  close.write('done', 2);
  frames.push(wsFrame(close, OPCODE_CLOSE, mask));
  return { bytes: Buffer.concat(frames), payloads };
}

function expectStream(r: ReturnType<typeof recorder>, payloads: Uint8Array[]): void {
  expect(r.messages.map((m) => m.body.length + PREFIX)).toEqual(payloads.map((p) => p.length));
  r.messages.forEach((m, i) => {
    expect(m.prefix).toEqual([...payloads[i].subarray(0, PREFIX)]);
    expect(Buffer.from(m.body).equals(Buffer.from(payloads[i].subarray(PREFIX)))).toBe(true);
  });
  expect(r.events.filter((e) => e === 'end')).toHaveLength(payloads.length);
  expect(r.events).toContain('ping 1,2,3');
  expect(r.events.at(-1)).toBe('close 1000 done');
}

describe('WsFrameParser', () => {
  for (const mask of [false, true]) {
    it(`reads ws's own ${mask ? 'masked client' : 'server'} frames whole, byte by byte and in random chunks`, () => {
      const { bytes, payloads } = stream(mask);
      const rand = mulberry32(7);
      for (const chunking of ['whole', 'bytes', 'random'] as const) {
        const r = recorder();
        const parser = new WsFrameParser(r.sink, PREFIX, 1 << 20, 'test link');
        let at = 0;
        while (at < bytes.length) {
          const n = chunking === 'whole' ? bytes.length : chunking === 'bytes' ? 1 : 1 + Math.floor(rand() * 3000);
          expect(parser.push(bytes.subarray(at, at + n))).toBeNull();
          at += n;
        }
        expectStream(r, payloads);
      }
    });

    it(`reads ${mask ? 'masked' : 'unmasked'} payloads into their destination when the socket reads where it says`, () => {
      const { bytes, payloads } = stream(mask);
      const r = recorder();
      const parser = new WsFrameParser(r.sink, PREFIX, 1 << 20, 'test link');
      const scratch = new Uint8Array(100);
      const rand = mulberry32(11);
      let at = 0;
      let direct = 0;
      while (at < bytes.length) {
        // As a socket's onread does: read at most the buffer's length into it.
        const into = parser.nextReadBuffer(scratch);
        expect(into.length).toBeGreaterThan(0);
        const n = Math.min(into.length, bytes.length - at, 1 + Math.floor(rand() * 20_000));
        into.set(bytes.subarray(at, at + n));
        if (into !== scratch) direct += n;
        expect(parser.received(into, n)).toBeNull();
        at += n;
      }
      expectStream(r, payloads);
      // Most payload bytes never passed through the scratch.
      const bodyBytes = payloads.reduce((s, p) => s + p.length - PREFIX, 0);
      expect(direct).toBeGreaterThan(0.9 * bodyBytes);
    });
  }

  it('reads the frames its own header writer makes, at every length encoding', () => {
    for (const length of [PREFIX, 125, 126, 65535, 65536]) {
      const payload = message(length, length);
      const head = new Uint8Array(MAX_WS_HEADER_BYTES);
      const n = writeFrameHeader(head, 0, OPCODE_BINARY, length, new Uint8Array(4));
      const r = recorder();
      const parser = new WsFrameParser(r.sink, PREFIX, 1 << 20, 'test link');
      expect(parser.push(Buffer.concat([head.subarray(0, n), payload]))).toBeNull();
      expect(Buffer.from(r.messages[0].body).equals(Buffer.from(payload.subarray(PREFIX)))).toBe(true);
      expect(r.events).toEqual([`begin ${length}`, 'end']);
    }
  });

  const bad: [string, Buffer, RegExp][] = [
    ['a text message', wsFrame(Buffer.from('hello, ring'), 0x1, false), /text message on a binary link/],
    ['a fragmented message', wsFrame(message(20, 1), OPCODE_BINARY, false, false), /fragmented messages are not used/],
    ['a continuation frame', wsFrame(message(20, 1), 0x0, false), /continuation frame without a message/],
    ['RSV bits', Buffer.from([0x80 | 0x40 | OPCODE_BINARY, 10, ...message(10, 2)]), /RSV bits set/],
    ['an unknown opcode', Buffer.from([0x80 | 0x3, 0]), /unknown opcode 0x3/],
    ['a message over the limit', wsFrame(message(2000, 3), OPCODE_BINARY, false), /2000 bytes is over the limit of 1024/],
    ['a message shorter than the frame header', wsFrame(message(3, 4), OPCODE_BINARY, false), /3 bytes is shorter than a 8-byte frame header/],
    ['a 1-byte close payload', wsFrame(Uint8Array.of(3), OPCODE_CLOSE, false), /close frame with a 1-byte payload/],
    ['a control frame over 125 bytes', Buffer.from([0x80 | 0x9, 126, 0, 200, ...new Uint8Array(200)]), /control frame is fragmented or over 125 bytes/],
  ];
  for (const [what, bytes, error] of bad) {
    it(`refuses ${what}, naming the link, and stays failed`, () => {
      const r = recorder();
      const parser = new WsFrameParser(r.sink, PREFIX, 1024, 'ring link from rank 3');
      const err = parser.push(bytes);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err!.message).toMatch(/^ring link from rank 3: /);
      expect(err!.message).toMatch(error);
      // Out of step for good: later bytes, even a good frame, give the same error.
      expect(parser.push(wsFrame(message(PREFIX, 5), OPCODE_BINARY, false))).toBe(err);
      expect(r.events.filter((e) => e === 'end')).toHaveLength(0);
    });
  }

  it("stops at the consumer's refusal and when the consumer's destination has the wrong length", () => {
    const refusal = new ProtocolError('not now');
    const refusing = new WsFrameParser({ ...recorder().sink, begin: () => refusal }, PREFIX, 1024, 'link');
    expect(refusing.push(wsFrame(message(20, 1), OPCODE_BINARY, false))).toBe(refusal);
    const wrong = new WsFrameParser({ ...recorder().sink, begin: () => new Uint8Array(3) }, PREFIX, 1024, 'link');
    expect(wrong.push(wsFrame(message(20, 1), OPCODE_BINARY, false))?.message).toMatch(/consumer gave 3 bytes for a 12-byte payload/);
  });
});
