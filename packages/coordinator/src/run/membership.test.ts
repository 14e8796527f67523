import { describe, expect, it } from 'vitest';
import { fakeMember } from './fake-member';
import { Membership } from './membership';

describe('Membership', () => {
  it('admits up to --max-workers, with provisional ranks in arrival order', () => {
    const m = new Membership({ expectWorkers: 2, minWorkers: 1, maxWorkers: 2 });
    expect(m.admit(fakeMember(-1))).toEqual({ ok: true, provisionalRank: 0 });
    expect(m.admit(fakeMember(-1))).toEqual({ ok: true, provisionalRank: 1 });
    expect(m.admit(fakeMember(-1))).toEqual({ ok: false, reason: 'the run already has 2 workers (--max-workers 2)' });
  });

  it('forms a group of the survivors then the joiners whose data has arrived, ranked in that order', () => {
    const m = new Membership({ expectWorkers: 1, minWorkers: 1, maxWorkers: 8 });
    const [a, b, c] = [fakeMember(-1), fakeMember(-1), fakeMember(-1)];
    for (const w of [a, b, c]) m.admit(w);
    m.markDataReady(c);
    m.markDataReady(a);
    expect(m.readyJoiners()).toEqual([a, c]);
    expect(m.formGroup(m.readyJoiners())).toEqual([a, c]);
    expect([a.rank, c.rank]).toEqual([0, 1]);
    expect(m.joining).toEqual([b]);
    expect(m.describeWaiting(3)).toBe('2 of 3 worker(s) ready, 1 receiving data, 0 not connected yet');
    expect(m.leave(a)).toBe('member');
    expect(m.leave(b)).toBe('joining');
    expect(m.leave(b)).toBe('unknown');
    m.markDataReady(fakeMember(-1)); // never admitted: no effect on the group
    expect(m.formGroup([])).toEqual([c]);
    expect(c.rank).toBe(0);
  });

  it('needs --workers before the first group and --min-workers after; wakes waiters on every change', async () => {
    const m = new Membership({ expectWorkers: 3, minWorkers: 2, maxWorkers: 8 });
    expect(m.needed(true)).toBe(3);
    expect(m.needed(false)).toBe(2);
    const woke = m.nextChange();
    m.admit(fakeMember(-1));
    await expect(woke).resolves.toBeUndefined();
  });
});
