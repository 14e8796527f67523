import { describe, expect, it } from 'vitest';
import { ringChunkBounds, ringNext, ringOwnedChunk, ringPrev, ringSchedule, ringStep } from './ring-schedule';

describe('ringChunkBounds', () => {
  it.each([
    [0, 1],
    [0, 4],
    [3, 4],
    [4, 4],
    [10, 3],
    [1_000_001, 8],
    [7, 7],
    [1, 8],
  ])('length %i over %i ranks: contiguous, covering, sizes differ by at most one', (length, world) => {
    const b = ringChunkBounds(length, world);
    expect(b).toHaveLength(world);
    expect(b[0].start).toBe(0);
    expect(b[world - 1].end).toBe(length);
    for (let c = 1; c < world; c++) expect(b[c].start).toBe(b[c - 1].end);
    const sizes = b.map((x) => x.end - x.start);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(sizes.every((s) => s >= 0)).toBe(true);
  });

  it('gives empty trailing chunks when length < world', () => {
    expect(ringChunkBounds(2, 4).map((x) => x.end - x.start)).toEqual([1, 1, 0, 0]);
  });

  it('refuses bad arguments', () => {
    expect(() => ringChunkBounds(-1, 2)).toThrow(/length/);
    expect(() => ringChunkBounds(1.5, 2)).toThrow(/length/);
    expect(() => ringChunkBounds(4, 0)).toThrow(/world/);
  });
});

describe('ring schedule', () => {
  for (let world = 1; world <= 8; world++) {
    it(`world ${world}: what rank r sends at a step is what rank r+1 receives`, () => {
      for (let r = 0; r < world; r++) {
        const mine = ringSchedule(r, world);
        const next = ringSchedule(ringNext(r, world), world);
        expect(mine).toHaveLength(2 * (world - 1));
        mine.forEach((s, t) => {
          expect(s.globalStep).toBe(t);
          expect(next[t].recvChunk).toBe(s.sendChunk);
          expect(next[t].combine).toBe(s.combine);
        });
        expect(ringPrev(ringNext(r, world), world)).toBe(r);
      }
    });

    it(`world ${world}: each chunk is summed along the whole ring once, then copied to every rank`, () => {
      // Track, per rank and chunk, the set of ranks whose contributions are included.
      const has = Array.from({ length: world }, (_, r) => Array.from({ length: world }, () => new Set([r])));
      for (let t = 0; t < 2 * (world - 1); t++) {
        const moves = Array.from({ length: world }, (_, r) => {
          const s = ringSchedule(r, world)[t];
          return { to: ringNext(r, world), chunk: s.sendChunk, set: new Set(has[r][s.sendChunk]) };
        });
        for (const m of moves) {
          const s = ringSchedule(m.to, world)[t];
          if (s.combine === 'add') {
            // Adding must never count a contribution twice.
            for (const x of m.set) expect(has[m.to][m.chunk].has(x)).toBe(false);
            for (const x of m.set) has[m.to][m.chunk].add(x);
          } else {
            has[m.to][m.chunk] = m.set;
          }
        }
        if (t === world - 2) {
          for (let r = 0; r < world; r++) expect(has[r][ringOwnedChunk(r, world)].size).toBe(world);
        }
      }
      for (let r = 0; r < world; r++) for (let c = 0; c < world; c++) expect(has[r][c].size).toBe(world);
    });
  }

  it('names the phase and combine of each step', () => {
    expect(ringStep(0, 4, 'reduce-scatter', 0)).toMatchObject({ sendChunk: 0, recvChunk: 3, combine: 'add', globalStep: 0 });
    expect(ringStep(0, 4, 'all-gather', 0)).toMatchObject({ sendChunk: 1, recvChunk: 0, combine: 'copy', globalStep: 3 });
    expect(() => ringStep(0, 4, 'all-gather', 3)).toThrow(/step/);
    expect(() => ringStep(4, 4, 'all-gather', 0)).toThrow(/rank/);
  });
});
