import { afterEach, describe, expect, it, vi } from 'vitest';
import { GradsyncError } from '@gradsync/core';
import { floatsToBytes, type WorkerMessage } from '@gradsync/protocol';
import { StarClient } from './star-client';

/** A client whose sent messages are recorded: the test plays the coordinator's StarRelay. */
function client(timeoutMs?: number) {
  const sent: WorkerMessage[] = [];
  return { star: new StarClient({ send: (m) => sent.push(m), timeoutMs }), sent };
}

async function rejection(p: Promise<unknown>): Promise<GradsyncError> {
  const err = await p.then(
    () => new Error('expected the promise to reject'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GradsyncError);
  return err as GradsyncError;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('StarClient', () => {
  it('sends its part and writes the sum into the caller’s array (in place)', async () => {
    const { star, sent } = client();
    const data = new Float32Array([1, 2, 3]);
    const result = star.allReduceSum(data, 7);
    expect(sent).toEqual([{ type: 'star-part', op: 7, data: floatsToBytes(new Float32Array([1, 2, 3])) }]);
    expect(star.state).toBe('reducing');
    expect(star.deliver(7, floatsToBytes(new Float32Array([10, 20, 30])))).toEqual({ ok: true });
    expect(await result).toBe(data);
    expect([...data]).toEqual([10, 20, 30]);
    expect(star.state).toBe('idle');
  });

  it('counts the gradient up and the sum down as its traffic', async () => {
    const { star } = client();
    const result = star.allReduceSum(new Float32Array(250), 3);
    expect(star.wire).toEqual({ sent: 1000, received: 0 });
    expect(star.deliver(3, new Uint8Array(1000)).ok).toBe(true);
    await result;
    expect(star.wire).toEqual({ sent: 1000, received: 1000 });
  });

  it('takes a sum whose bytes are not 4-byte aligned', async () => {
    const { star } = client();
    const data = new Float32Array(2);
    const result = star.allReduceSum(data, 1);
    const unaligned = new Uint8Array(9).subarray(1);
    unaligned.set(floatsToBytes(new Float32Array([0.5, -4])));
    star.deliver(1, unaligned);
    expect([...(await result)]).toEqual([0.5, -4]);
  });

  it('drops a sum that arrives before its step, and one for an op it is not running', async () => {
    const { star } = client();
    expect(star.deliver(3, floatsToBytes(new Float32Array([1])))).toEqual({ ok: false, reason: expect.stringMatching(/op 3 dropped: the client is idle/) });
    const data = new Float32Array([1]);
    const result = star.allReduceSum(data, 4);
    expect(star.deliver(3, floatsToBytes(new Float32Array([9])))).toEqual({ ok: false, reason: expect.stringMatching(/op 3 dropped: op 4 is running/) });
    expect([...data]).toEqual([1]);
    star.deliver(4, floatsToBytes(new Float32Array([2])));
    expect([...(await result)]).toEqual([2]);
  });

  it('refuses a second operation while one runs, and bad arguments', async () => {
    const { star, sent } = client();
    void star.allReduceSum(new Float32Array(1), 1);
    expect((await rejection(star.allReduceSum(new Float32Array(1), 2))).code).toBe('E_ALLREDUCE_BUSY');
    expect((await rejection(star.allReduceSum(new Float32Array(1), -1))).code).toBe('E_ALLREDUCE_ARG');
    expect((await rejection(star.allReduceSum([1] as unknown as Float32Array, 3))).code).toBe('E_ALLREDUCE_ARG');
    expect(sent).toHaveLength(1);
  });

  it('a sum of the wrong length fails the operation and the client for good', async () => {
    const { star } = client();
    const result = star.allReduceSum(new Float32Array(2), 1);
    expect(star.deliver(1, floatsToBytes(new Float32Array(3))).ok).toBe(false);
    expect((await rejection(result)).message).toMatch(/12 bytes, expected 8/);
    expect(star.state).toBe('failed');
    expect((await rejection(star.allReduceSum(new Float32Array(2), 2))).message).toMatch(/12 bytes, expected 8/);
  });

  it('times out without a sum, and stays failed: a late sum is dropped', async () => {
    vi.useFakeTimers();
    const { star } = client(500);
    const result = star.allReduceSum(new Float32Array(1), 9);
    const failed = rejection(result);
    vi.advanceTimersByTime(500);
    const err = await failed;
    expect(err.code).toBe('E_ALLREDUCE_TIMEOUT');
    expect(err.message).toMatch(/op 9: no sum from the coordinator within 500 ms/);
    expect(star.deliver(9, floatsToBytes(new Float32Array(1))).ok).toBe(false);
    expect((await rejection(star.allReduceSum(new Float32Array(1), 10))).code).toBe('E_ALLREDUCE_TIMEOUT');
  });

  it('close rejects the running operation (a member left) and every later one', async () => {
    const { star } = client();
    const result = star.allReduceSum(new Float32Array(1), 5);
    await star.close();
    expect((await rejection(result)).message).toMatch(/op 5: the reducer was closed/);
    expect(star.deliver(5, floatsToBytes(new Float32Array(1))).ok).toBe(false);
    expect((await rejection(star.allReduceSum(new Float32Array(1), 6))).code).toBe('E_ALLREDUCE_CLOSED');
  });
});
