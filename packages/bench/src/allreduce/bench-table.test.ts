import { describe, expect, it } from 'vitest';
import { type BenchResult, formatBenchTable, relateToAnchors } from './bench-table';

function row(kind: BenchResult['kind'], bytes: number, medianMs: number, busbwGBps: number, over: Partial<BenchResult> = {}): BenchResult {
  return {
    kind,
    mode: 'warm',
    world: 2,
    bytes,
    segmentBytes: 65536,
    repeats: 3,
    medianMs,
    algbwGBps: busbwGBps,
    busbwGBps,
    rawGBps: Number.NaN,
    busbwOverRaw: Number.NaN,
    tcpGBps: Number.NaN,
    busbwOverTcp: Number.NaN,
    cpuMsPerOp: 1,
    minorFaultsPerOp: 0,
    vsGloo: Number.NaN,
    verified: true,
    ...over,
  };
}

describe('relateToAnchors', () => {
  it('relates each row to the raw streams at its size and to gloo at its size, world and mode', () => {
    const results = [
      row('raw-tcp', 1024, 1, 2),
      row('raw', 1024, 2, 1),
      row('gloo', 1024, 4, 0.5),
      row('gloo', 1024, 8, 0.25, { mode: 'cold' }),
      row('ring', 1024, 2, 0.5),
      row('ring', 1024, 4, 0.25, { mode: 'cold' }),
      row('ring', 1024, 3, 0.5, { world: 3 }),
      row('ring', 2048, 3, 0.5),
    ];
    relateToAnchors(results);
    const [tcp, ws, , glooCold, warm, cold, three, otherSize] = results;
    expect(tcp.busbwOverTcp).toBe(1);
    expect(ws.busbwOverTcp).toBe(0.5);
    expect(warm.busbwOverRaw).toBe(0.5);
    expect(warm.busbwOverTcp).toBe(0.25);
    expect(warm.vsGloo).toBe(0.5);
    expect(cold.vsGloo).toBe(0.5);
    expect(glooCold.vsGloo).toBeNaN();
    // No gloo at world 3 or at 2048 bytes; no raw stream at 2048 bytes.
    expect(three.vsGloo).toBeNaN();
    expect(three.busbwOverTcp).toBe(0.25);
    expect(otherSize.vsGloo).toBeNaN();
    expect(otherSize.busbwOverRaw).toBeNaN();
    const table = formatBenchTable(results).split('\n');
    expect(table).toHaveLength(results.length + 1);
    expect(table.find((l) => /ring\s+cold/.test(l))).toMatch(/0\.50×/);
  });
});
