import { describe, expect, it } from 'vitest';
import { benchComputeBackends, computeLabel, type ComputeSuiteResult, defaultThreadCounts, formatComputeTable } from './compute-bench';

describe('thread counts of bench:compute', () => {
  it('measures onednn at 1 thread and at every core by default, once when they are the same', () => {
    expect(defaultThreadCounts(8)).toEqual([1, 8]);
    expect(defaultThreadCounts(1)).toEqual([1]);
  });

  it('labels a threaded result with its thread count', () => {
    expect(computeLabel({ backend: 'onednn', threads: 2 })).toBe('onednn×2');
    expect(computeLabel({ backend: 'wasm' })).toBe('wasm');
  });

  it('shows the thread count in the table', () => {
    const row = {
      device: 'CPU',
      model: 'linear',
      batchSize: 64,
      trainImagesPerSec: 10,
      predictImagesPerSec: 20,
      trainReps: 1,
      predictReps: 1,
      trainStepMs: [1],
    };
    const suite: ComputeSuiteResult = {
      model: 'linear',
      batchSize: 64,
      warmup: 0,
      reps: 1,
      results: [
        { ...row, backend: 'onednn', threads: 1 },
        { ...row, backend: 'onednn', threads: 4 },
        { ...row, backend: 'wasm' },
      ],
      skipped: [],
    };
    const lines = formatComputeTable(suite).split('\n');
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['onednn×1', 'onednn×4', 'wasm']);
  });
});

describe('benchComputeBackends with --threads', () => {
  it('runs onednn once per thread count, other backends once, and skips a backend that does not load once', { timeout: 60_000 }, async () => {
    const suite = await benchComputeBackends({ model: 'linear', batchSize: 8, warmup: 0, reps: 1, backends: ['onednn', 'nosuch', 'cpu'], threads: [1, 2] });
    expect(suite.skipped.map((s) => s.backend)).toContain('nosuch');
    const onednn = suite.results.filter((r) => r.backend === 'onednn');
    if (suite.skipped.some((s) => s.backend === 'onednn')) {
      // The addon is not built here: one line says so, not one per thread count.
      expect(onednn).toHaveLength(0);
      expect(suite.skipped.filter((s) => s.backend === 'onednn')).toHaveLength(1);
    } else {
      expect(onednn.map((r) => r.threads)).toEqual([1, 2]);
      expect(onednn.map((r) => r.device)).toEqual([expect.stringMatching(/\b1 thread\b/), expect.stringMatching(/\b2 threads\b/)]);
    }
    const cpu = suite.results.filter((r) => r.backend === 'cpu');
    expect(cpu).toHaveLength(1);
    expect(cpu[0].threads).toBeUndefined();
  });
});
