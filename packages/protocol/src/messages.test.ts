import { describe, expect, it } from 'vitest';
import { encode, PROTOCOL_VERSION } from './codec';
import { encodeMessage, indicesFromBytes, indicesToBytes, parseCoordinatorMessage, parseWorkerMessage } from './messages';

describe('coordinator ⇄ worker messages', () => {
  it('round-trips a step with raw index bytes', () => {
    const indices = new Uint32Array([5, 9, 4000000000]);
    const frame = encodeMessage({ type: 'step', step: 3, epoch: 0, lr: 1e-3, indices: indicesToBytes(indices), globalCount: 64, op: 7, reportHash: false });
    const msg = parseCoordinatorMessage(frame);
    expect(msg.type).toBe('step');
    if (msg.type !== 'step') return;
    expect(Array.from(indicesFromBytes(msg.indices))).toEqual([5, 9, 4000000000]);
    // The indices travel as 12 raw bytes, not as a msgpack list of numbers.
    expect(frame.byteLength).toBeLessThan(120);
  });

  it('accepts a hello and names the protocol version on mismatch', () => {
    const hello = { type: 'hello', v: PROTOCOL_VERSION, host: 'h', pid: 1, backend: 'wasm', device: 'cpu', peerUrl: null };
    expect(parseWorkerMessage(encode(hello)).type).toBe('hello');
    expect(() => parseWorkerMessage(encode({ ...hello, v: 99 }))).toThrow(/invalid worker message "hello".*v/);
  });

  it('rejects wrong types, unknown fields, bad lengths and garbage with a ProtocolError', () => {
    const base = { type: 'eval-done', evalId: 1, lossSum: 1, correct: 1, count: 2, confusion: new Array(100).fill(0) };
    expect(parseWorkerMessage(encode(base)).type).toBe('eval-done');
    expect(() => parseWorkerMessage(encode({ ...base, confusion: [1, 2] }))).toThrow(/confusion/);
    expect(() => parseWorkerMessage(encode({ ...base, extra: 1 }))).toThrow(/Unrecognized key/);
    expect(() => parseWorkerMessage(encode({ ...base, lossSum: 'x' }))).toThrow(/lossSum/);
    expect(() => parseWorkerMessage(encode({ type: 'nope' }))).toThrow(/invalid worker message "nope"/);
    expect(() => parseWorkerMessage(encode({ type: { toString: 1 } }))).toThrow(/of type object/);
    expect(() => parseWorkerMessage(new Uint8Array([0xc1, 0xff, 0x00]))).toThrow(expect.objectContaining({ code: 'E_PROTOCOL' }));
    expect(() => indicesFromBytes(new Uint8Array(7))).toThrow(/multiple of 4/);
  });
});

describe('step-done resource figures', () => {
  const done = { type: 'step-done', step: 1, op: 2, loss: 0.5, correct: 3, count: 8, computeMs: 1, allreduceMs: 1, waitMs: 0, applied: true };

  it('are optional, so a worker that sends none is still understood', () => {
    expect(parseWorkerMessage(encode(done))).toMatchObject({ type: 'step-done', step: 1 });
  });

  it('carry CPU %, RSS beyond 4 GiB and GPU bytes', () => {
    const rss = 6 * 2 ** 30;
    expect(parseWorkerMessage(encode({ ...done, cpuPercent: 187.5, rssBytes: rss, gpuBytes: 12345 }))).toMatchObject({
      cpuPercent: 187.5,
      rssBytes: rss,
      gpuBytes: 12345,
    });
  });

  it('are refused when negative, fractional bytes, infinite or of the wrong type, naming the field', () => {
    expect(() => parseWorkerMessage(encode({ ...done, cpuPercent: -1 }))).toThrow(/cpuPercent/);
    expect(() => parseWorkerMessage(encode({ ...done, cpuPercent: Infinity }))).toThrow(/cpuPercent/);
    expect(() => parseWorkerMessage(encode({ ...done, rssBytes: 1.5 }))).toThrow(/rssBytes/);
    expect(() => parseWorkerMessage(encode({ ...done, gpuBytes: '1' }))).toThrow(/gpuBytes/);
  });
});
