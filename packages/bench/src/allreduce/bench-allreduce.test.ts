import { noteSkip } from '@gradsync/test-skips';
import { describe, expect, it } from 'vitest';
import { benchAllReduce, formatBenchTable } from './bench-allreduce';
import { findTorchPython } from './gloo-anchor';

const FIGURES = [
  'bytes',
  'world',
  'segmentBytes',
  'repeats',
  'medianMs',
  'algbwGBps',
  'busbwGBps',
  'rawGBps',
  'busbwOverRaw',
  'tcpGBps',
  'busbwOverTcp',
  'cpuMsPerOp',
] as const;

describe('benchAllReduce --quick', () => {
  it('measures raw TCP, raw ws, ring and star with positive finite numbers and exact results', { timeout: 180_000 }, async () => {
    const results = await benchAllReduce({ quick: true });
    const kinds = new Set(results.map((r) => r.kind));
    expect(kinds).toEqual(new Set(['raw-tcp', 'raw', 'ring', 'star']));
    for (const r of results) {
      for (const key of FIGURES) {
        expect(Number.isFinite(r[key]), `${r.kind} ${key}`).toBe(true);
        expect(r[key], `${r.kind} ${key}`).toBeGreaterThan(0);
      }
      expect(r.minorFaultsPerOp, `${r.kind} faults`).toBeGreaterThanOrEqual(0);
      expect(r.mode).toBe('warm');
      expect(r.verified).toBe(true);
    }
    // Each anchor against itself.
    for (const r of results.filter((x) => x.kind === 'raw')) expect(r.busbwOverRaw).toBe(1);
    for (const r of results.filter((x) => x.kind === 'raw-tcp')) expect(r.busbwOverTcp).toBe(1);
    expect(formatBenchTable(results).split('\n')).toHaveLength(results.length + 1);
  });
});

const python = findTorchPython();
if (python === null) {
  noteSkip({
    suite: 'the all-reduce bench against gloo (packages/bench/src/allreduce/bench-allreduce.test.ts)',
    why: 'no python3 with torch.distributed',
    apt: ['python3-torch'],
  });
}

/** A 2-rank ring, warm and with a 5 ms gap, a few operations each: the modes, not the figures. */
const SHORT_COLD_RING = { worlds: [2], algorithms: ['ring' as const], raw: false, cold: true, gapMs: 5, warmup: 2, repeats: 3 };

describe('benchAllReduce, cold and against gloo', () => {
  it('times the ring again with a gap between operations', { timeout: 180_000 }, async () => {
    const results = await benchAllReduce({ ...SHORT_COLD_RING, sizesBytes: [64 * 1024], gloo: false });
    expect(results.map((r) => `${r.kind}/${r.mode}`)).toEqual(['ring/warm', 'ring/cold']);
    for (const r of results) expect(r.verified).toBe(true);
  });

  it.skipIf(python === null)('measures gloo at the same sizes and relates each ring row to it', { timeout: 300_000 }, async () => {
    const sizes = [64 * 1024, 676_264];
    const results = await benchAllReduce({ ...SHORT_COLD_RING, sizesBytes: sizes, gloo: true });
    const gloo = results.filter((r) => r.kind === 'gloo');
    expect(gloo.map((r) => `${r.bytes}/${r.mode}`).sort()).toEqual(sizes.flatMap((b) => [`${b}/cold`, `${b}/warm`]).sort());
    for (const r of gloo) {
      expect(r.verified, `gloo ${r.bytes} exact`).toBe(true);
      expect(r.medianMs).toBeGreaterThan(0);
    }
    for (const r of results.filter((x) => x.kind === 'ring')) {
      const anchor = gloo.find((g) => g.bytes === r.bytes && g.mode === r.mode)!;
      expect(r.vsGloo).toBeCloseTo(r.medianMs / anchor.medianMs, 10);
    }
  });
});
