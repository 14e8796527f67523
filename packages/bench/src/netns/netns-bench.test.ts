import { noteSkip } from '@gradsync/test-skips';
import { describe, expect, it } from 'vitest';
import { benchNetns, formatNetnsTable, ringBoundMs } from './netns-bench';
import { execFileSync } from 'node:child_process';
import { netnsUnavailable, VirtualLan } from './virtual-lan';

describe('the ring bound 2(n−1)/n · S / B', () => {
  it('counts the bytes on the wire: half of them on a 16-bit wire, all of them once for one stream', () => {
    // 1 Gbit/s = 125,000 bytes per ms.
    expect(ringBoundMs({ kind: 'ring', bytes: 1_000_000, world: 2 }, 1000)).toBeCloseTo(8, 9);
    expect(ringBoundMs({ kind: 'ring', bytes: 1_000_000, world: 8 }, 1000)).toBeCloseTo(14, 9);
    expect(ringBoundMs({ kind: 'ring-bf16', bytes: 1_000_000, world: 8 }, 1000)).toBeCloseTo(7, 9);
    expect(ringBoundMs({ kind: 'raw-tcp', bytes: 1_000_000, world: 2 }, 10_000)).toBeCloseTo(0.8, 9);
  });
});

const why = netnsUnavailable();
if (why) noteSkip({ suite: 'the netns all-reduce bench (packages/bench/src/netns/netns-bench.test.ts)', why, apt: ['iproute2'] });

describe.skipIf(why !== null)('benchNetns over a capped LAN of namespaces', () => {
  it('runs the ring and a bf16 ring between namespace hosts at 1 Gbit/s, exact, near the bound', { timeout: 240_000 }, async () => {
    const results = await benchNetns({ ratesMbit: [1000], worlds: [3], sizesBytes: [256 * 1024], repeats: 3, warmup: 3, computeMs: 2 });
    expect(new Set(results.map((r) => r.kind))).toEqual(new Set(['raw-tcp', 'ring', 'ring-bf16']));
    for (const r of results) {
      if (r.kind !== 'raw-tcp') expect(r.verified).toBe(true);
      expect(r.boundMs).toBeCloseTo(ringBoundMs(r, 1000), 9);
      expect(r.ofBound).toBeCloseTo(r.boundMs / r.medianMs, 9);
      if (r.mode === 'cold') expect(r.weakScaling).toBeCloseTo(2 / (2 + r.medianMs), 9);
    }
    expect(formatNetnsTable(results, 2).split('\n')).toHaveLength(results.length + 2);
  });
});

describe.skipIf(why !== null)('VirtualLan.shape', () => {
  it("caps every host's eth0 with a token bucket at the rate, and refuses a rate that is not positive", () => {
    const lan = new VirtualLan(`gst${process.pid % 10000}`);
    try {
      lan.create({ a: '10.215.0.1/24', b: '10.215.0.2/24' });
      lan.shape(2500);
      for (const host of ['a', 'b']) {
        const qdisc = execFileSync('tc', ['-n', lan.ns(host), 'qdisc', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
        expect(qdisc).toMatch(/qdisc tbf .*rate 2500Mbit/);
      }
      expect(() => lan.shape(0)).toThrow(/positive rate, got 0 Mbit\/s/);
    } finally {
      lan.destroy();
    }
  });
});
