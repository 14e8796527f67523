import { describe, expect, it } from 'vitest';
import { BufferPool, sizeClass } from './buffer-pool';

describe('sizeClass', () => {
  it('is exact up to 4 KiB, then one of 8 classes per power of two, never smaller and at most 12.5% larger', () => {
    for (const n of [1, 4, 100, 4096]) expect(sizeClass(n)).toBe(n);
    expect(sizeClass(4097)).toBe(4608);
    expect(sizeClass(8192)).toBe(8192);
    for (let n = 4097; n < 3_000_000; n = Math.ceil(n * 1.013)) {
      const c = sizeClass(n);
      expect(c).toBeGreaterThanOrEqual(n);
      expect(c / n).toBeLessThanOrEqual(1.125);
      expect(sizeClass(c)).toBe(c); // a class is its own class
    }
  });
});

describe('BufferPool', () => {
  it('hands out a class-sized buffer and reuses it for any request of that class or up to two classes smaller', () => {
    const pool = new BufferPool();
    const big = pool.take(36 * 1000);
    expect(big.byteLength).toBe(sizeClass(36_000));
    pool.retain(big);
    pool.release(big);
    expect(pool.pooledBytes).toBe(big.byteLength);
    // 30 images' worth where 36 were freed: two classes down (30,720 → 32,768 → 36,864 bytes), the same buffer.
    expect(pool.take(30 * 1000)).toBe(big);
    expect(pool.pooledBytes).toBe(0);
  });

  it('does not hand a much larger buffer to a small request, nor reuse across small exact sizes', () => {
    const pool = new BufferPool();
    const big = pool.take(64 * 1000);
    pool.retain(big);
    pool.release(big);
    expect(pool.take(20 * 1000)).not.toBe(big);
    const small = pool.take(100);
    pool.retain(small);
    pool.release(small);
    expect(pool.take(96)).not.toBe(small);
    expect(pool.take(100)).toBe(small);
  });

  it('keeps at most its capacity waiting; past it, freed buffers go to the garbage collector', () => {
    const pool = new BufferPool(10_000);
    const a = pool.take(8192);
    const b = pool.take(8192);
    for (const x of [a, b]) {
      pool.retain(x);
      pool.release(x);
    }
    expect(pool.pooledBytes).toBe(8192);
  });
});
