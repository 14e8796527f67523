import { CLOSE, type WorkerMessage } from '@gradsync/protocol';
import { describe, expect, it, vi } from 'vitest';
import { fakeMember } from './fake-member';
import { ReplyCollector } from './reply-collector';

const endpoint = (groupId: number): WorkerMessage => ({ type: 'endpoint', groupId, peerUrl: `ws://127.0.0.1:${7100 + groupId}` });

describe('ReplyCollector', () => {
  it("gathers one answer from each member, matching the key, typed by the message's type", async () => {
    const replies = new ReplyCollector();
    const [a, b] = [fakeMember(0), fakeMember(1)];
    const wait = replies.gather(['endpoint'], (m) => m.groupId === 2, [a, b], 60_000);
    replies.accept(a, endpoint(1)); // another group's: kept for later, not taken
    replies.accept(a, endpoint(2));
    replies.accept(b, endpoint(2));
    const got = await wait;
    expect(got.ok).toBe(true);
    if (got.ok) expect([...got.answers.values()].map((m) => m.peerUrl)).toEqual(['ws://127.0.0.1:7102', 'ws://127.0.0.1:7102']);
  });

  it('keeps an answer that arrives before its wait begins (a sum or a report ahead of the coordinator)', async () => {
    const replies = new ReplyCollector();
    const a = fakeMember(0);
    replies.accept(a, endpoint(3));
    const got = await replies.gather(['endpoint'], (m) => m.groupId === 3, [a], 60_000);
    expect(got.ok && got.answers.get(a)?.peerUrl).toBe('ws://127.0.0.1:7103');
  });

  it('a duplicate answer, or a flood of unclaimed ones, closes that member with a protocol error', async () => {
    const replies = new ReplyCollector();
    const [a, b] = [fakeMember(0), fakeMember(1)];
    void replies.gather(['endpoint'], (m) => m.groupId === 1, [a, b], 60_000);
    replies.accept(a, endpoint(1));
    replies.accept(a, endpoint(1));
    expect(a.closed).toEqual({ code: CLOSE.protocolError, reason: "duplicate 'endpoint'" });
    for (let i = 0; i < 17; i++) replies.accept(b, { type: 'ready', phase: 'group', groupId: 100 + i });
    expect(b.closed).toEqual({ code: CLOSE.protocolError, reason: "unexpected 'ready'" });
  });

  it('a broken group ends every wait with { ok: false } and the answers that had arrived', async () => {
    const replies = new ReplyCollector();
    const [a, b] = [fakeMember(0), fakeMember(1)];
    const wait = replies.gather(['endpoint'], (m) => m.groupId === 1, [a, b], 60_000);
    replies.accept(a, endpoint(1));
    replies.interruptAll('rank 1 left');
    const got = await wait;
    expect(got.ok).toBe(false);
    if (!got.ok) {
      expect(got.reason).toBe('rank 1 left');
      expect([...got.partial.keys()]).toEqual([a]);
    }
  });

  it('a failing run rejects the waits in progress and every later one', async () => {
    const replies = new ReplyCollector();
    const wait = replies.gather(['state'], () => true, [fakeMember(0)], 60_000);
    replies.failAll(new Error('disk full'));
    await expect(wait).rejects.toThrow('disk full');
    await expect(replies.gather(['state'], () => true, [fakeMember(1)], 60_000)).rejects.toThrow('disk full');
  });

  it('closes a member silent past the deadline (it then leaves the group: a rogue member delays, never hangs, a run)', async () => {
    vi.useFakeTimers();
    try {
      const replies = new ReplyCollector();
      const [a, b] = [fakeMember(0), fakeMember(1)];
      void replies.gather(['endpoint'], (m) => m.groupId === 1, [a, b], 5_000);
      replies.accept(a, endpoint(1));
      vi.advanceTimersByTime(5_001);
      expect(a.closed).toBeNull();
      expect(b.closed).toEqual({ code: CLOSE.policy, reason: "no 'endpoint' within 5 s" });
    } finally {
      vi.useRealTimers();
    }
  });
});
