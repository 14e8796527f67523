import { describe, expect, it } from 'vitest';
import { benchAllReduce, formatBenchTable } from './bench-allreduce';

describe('benchAllReduce --quick', () => {
  it('measures raw, ring and star with positive finite numbers and exact results', { timeout: 180_000 }, async () => {
    const results = await benchAllReduce({ quick: true });
    const kinds = new Set(results.map((r) => r.kind));
    expect(kinds).toEqual(new Set(['raw', 'ring', 'star']));
    for (const r of results) {
      for (const key of ['bytes', 'world', 'segmentBytes', 'repeats', 'medianMs', 'algbwGBps', 'busbwGBps', 'rawGBps', 'busbwOverRaw', 'cpuMsPerOp'] as const) {
        expect(Number.isFinite(r[key]), `${r.kind} ${key}`).toBe(true);
        expect(r[key], `${r.kind} ${key}`).toBeGreaterThan(0);
      }
      expect(r.verified).toBe(true);
    }
    expect(formatBenchTable(results).split('\n')).toHaveLength(results.length + 1);
  });
});
