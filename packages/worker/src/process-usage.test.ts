import { describe, expect, it } from 'vitest';
import { cpuPercent, ProcessUsageSampler } from './process-usage';

describe('process usage', () => {
  it('turns CPU microseconds over wall milliseconds into % of one core', () => {
    expect(cpuPercent({ user: 150_000, system: 50_000 }, 100)).toBe(200);
    expect(cpuPercent({ user: 25_000, system: 0 }, 100)).toBe(25);
    expect(cpuPercent({ user: 5, system: 5 }, 0)).toBe(0);
  });

  it('measures a busy interval as busy, and the real resident memory', () => {
    const sampler = new ProcessUsageSampler(() => undefined);
    const until = performance.now() + 150;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const busy = sampler.sample();
    expect(x).toBeGreaterThan(0);
    // A spinning loop keeps one core busy; a loaded shared machine may give it less, but not nothing.
    expect(busy.cpuPercent).toBeGreaterThan(20);
    expect(busy.rssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(busy.gpuBytes).toBeUndefined();
  });

  it('passes on the GPU bytes a backend reports', () => {
    expect(new ProcessUsageSampler(() => 4096).sample().gpuBytes).toBe(4096);
  });
});
