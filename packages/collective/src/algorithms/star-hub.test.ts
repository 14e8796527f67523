import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@gradsync/protocol';
import { StarReductionHub } from './star-hub';

const f = (...v: number[]) => new Float32Array(v);

describe('StarReductionHub', () => {
  it('returns the rank-ordered sum when the last rank arrives, in any order', () => {
    const hub = new StarReductionHub({ world: 3 });
    expect(hub.contribute(7, 2, f(1e8))).toBeNull();
    expect(hub.contribute(7, 0, f(-1e8))).toBeNull();
    expect(hub.pendingOps).toBe(1);
    const sum = hub.contribute(7, 1, f(1));
    // Rank order: (−1e8 + 1) + 1e8 = 0 in float32; arrival order would give 1.
    expect(Array.from(sum!)).toEqual([0]);
    expect(hub.pendingOps).toBe(0);
  });

  it('keeps operations apart', () => {
    const hub = new StarReductionHub({ world: 2 });
    hub.contribute(1, 0, f(1, 1));
    hub.contribute(2, 1, f(5, 5));
    expect(Array.from(hub.contribute(2, 0, f(1, 2))!)).toEqual([6, 7]);
    expect(Array.from(hub.contribute(1, 1, f(2, 3))!)).toEqual([3, 4]);
  });

  it('refuses unknown ranks, duplicates, wrong lengths, completed and runaway operations', () => {
    const hub = new StarReductionHub({ world: 2, maxPendingOps: 2 });
    const expectProtocol = (fn: () => unknown, re: RegExp) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        expect((err as ProtocolError).code).toBe('E_PROTOCOL');
        expect((err as Error).message).toMatch(re);
        return;
      }
      throw new Error('expected a ProtocolError');
    };
    expectProtocol(() => hub.contribute(1, 2, f(1)), /rank 2 is not in 0\.\.1/);
    expectProtocol(() => hub.contribute(1, -1, f(1)), /rank -1/);
    expectProtocol(() => hub.contribute(-1, 0, f(1)), /operation id/);
    hub.contribute(1, 0, f(1, 2));
    expectProtocol(() => hub.contribute(1, 0, f(1, 2)), /contributed twice/);
    expectProtocol(() => hub.contribute(1, 1, f(1)), /sent 1 floats, expected 2/);
    hub.contribute(1, 1, f(1, 2));
    expectProtocol(() => hub.contribute(1, 1, f(1, 2)), /after the operation completed/);
    hub.contribute(2, 0, f(1));
    hub.contribute(3, 0, f(1));
    expectProtocol(() => hub.contribute(4, 0, f(1)), /in flight/);
    hub.abort(3);
    expect(hub.contribute(4, 0, f(1))).toBeNull();
  });

  it('handles a world of one and empty buffers', () => {
    expect(Array.from(new StarReductionHub({ world: 1 }).contribute(0, 0, f(4))!)).toEqual([4]);
    const hub = new StarReductionHub({ world: 2 });
    hub.contribute(0, 1, f());
    expect(hub.contribute(0, 0, f())!.length).toBe(0);
  });
});
