// The all-reduce benchmark's options, result type and text table (bench-allreduce.ts measures).

/**
 * ring-tls: the ring over mutual TLS (each rank its own in-memory certificate, pinned), for what
 * TLS costs. raw: one WebSocket stream (ws, same framing); raw-tcp: one bare TCP stream received
 * in place; gloo: PyTorch's gloo all-reduce (gloo-anchor.ts), the anchor.
 */
export type BenchKind = 'ring' | 'halving-doubling' | 'ring-bf16' | 'ring-fp16' | 'ring-tls' | 'star' | 'raw' | 'raw-tcp' | 'raw-ring' | 'gloo';

/** The ring kinds: the same RingAllReducer, over plain TCP with each wire dtype or over TLS. */
/** Kinds the peer-to-peer reducer runs (the `ring` kind with halving-doubling off, the `halving-doubling` kind with it always on). */
export const RING_KINDS: readonly BenchKind[] = ['ring', 'halving-doubling', 'ring-bf16', 'ring-fp16', 'ring-tls'];

/** warm: operations back to back; cold: one every `gapMs` (50 ms: a training step), as training does. */
export type BenchMode = 'warm' | 'cold';

export interface BenchOptions {
  /** Buffer sizes in bytes (default 64 KiB, 1 MiB, 16 MiB, 64 MiB; quick: 64 KiB, 256 KiB). */
  sizesBytes?: number[];
  /** Numbers of worker processes (default 2, 3, 4; quick: 2). */
  worlds?: number[];
  /** halving-doubling runs only at power-of-two worlds ≥ 4 (others are skipped). */
  algorithms?: ('ring' | 'halving-doubling' | 'star')[];
  segmentBytes?: number;
  /** Timed operations per configuration (default by size: 30 up to 1 MiB, 10 up to 16 MiB, 5 above; quick: 3). */
  repeats?: number;
  /** Untimed operations first (default 50; quick: 3): JIT, page faults and TCP windows settle. */
  warmup?: number;
  /** Also time the ring (and gloo) with `gapMs` between operations, as in training (default true; quick: false). */
  cold?: boolean;
  /** The gap of the cold mode (default 50 ms). */
  gapMs?: number;
  /** Measure PyTorch's gloo at the same sizes and worlds where python3-torch is installed (default true; quick: false). */
  gloo?: boolean;
  /** Measure the raw single stream (default true). */
  raw?: boolean;
  /** Also measure N concurrent streams around a ring (default false). */
  ringCeiling?: boolean;
  /** Also measure the ring over TLS with 2 ranks (kind ring-tls; default false). */
  tlsRing?: boolean;
  /** Also measure the ring with these 16-bit wire dtypes (kinds ring-bf16, ring-fp16; default none). */
  wireDtypes?: ('bf16' | 'fp16')[];
  /**
   * Send RFC-masked client frames on ring and raw links (default false), to measure what masking
   * costs. Star always masks: its links are coordinator links, WebSocket clients as in training.
   */
  maskFrames?: boolean;
  quick?: boolean;
  /**
   * Where each benchmark process runs: process i under `hosts[i].launcher` (a command prefix such
   * as `ip netns exec NS`), listening on `hosts[i].address` (default: all on 127.0.0.1).
   */
  hosts?: readonly { launcher: readonly string[]; address: string }[];
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Per-operation timeout inside the workers (default 120 s). */
  timeoutMs?: number;
}

export interface BenchResult {
  kind: BenchKind;
  mode: BenchMode;
  /** Worker processes (raw: 2, a sender and a receiver; star: plus the hub process). */
  world: number;
  bytes: number;
  segmentBytes: number;
  repeats: number;
  medianMs: number;
  /** bytes / time, GB/s (1e9 bytes/s). raw-ring: bytes each link carried / time. */
  algbwGBps: number;
  /** algbw · 2(N−1)/N; for raw and raw-ring, the link throughput itself. */
  busbwGBps: number;
  /** Raw single-stream throughput at the same size (GB/s); NaN when raw was not measured. */
  rawGBps: number;
  /** busbw / raw. */
  busbwOverRaw: number;
  /** Bare TCP single-stream throughput at the same size (GB/s, raw-tcp); NaN when not measured. */
  tcpGBps: number;
  /** busbw / tcpGBps: the share of what the two processes' loopback can carry. */
  busbwOverTcp: number;
  /**
   * CPU milliseconds (user + system) spent per operation by all its processes together (star:
   * including the hub). Unlike time, barely moved by other jobs on the machine: the measure of
   * what a change costs.
   */
  cpuMsPerOp: number;
  /** Minor page faults per operation, all its processes together: fresh pages written. */
  minorFaultsPerOp: number;
  /** medianMs / gloo's medianMs at the same size, world and mode (NaN without gloo): below 1 is faster than gloo. */
  vsGloo: number;
  /** All ranks bit-identical and exactly the sum (raw: always true). */
  verified: boolean;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Fills each result's comparisons from the anchor rows among `results` (in place): raw (one ws
 * stream) and raw-tcp at the same size, gloo at the same size, world and mode. A comparison
 * whose anchor was not measured stays NaN.
 */
export function relateToAnchors(results: BenchResult[]): void {
  const find = (kind: BenchKind, r: BenchResult, sameWorld: boolean) =>
    results.find((a) => a.kind === kind && a.bytes === r.bytes && (!sameWorld || (a.world === r.world && a.mode === r.mode)));
  for (const r of results) {
    r.rawGBps = find('raw', r, false)?.busbwGBps ?? Number.NaN;
    r.busbwOverRaw = r.busbwGBps / r.rawGBps;
    r.tcpGBps = find('raw-tcp', r, false)?.busbwGBps ?? Number.NaN;
    r.busbwOverTcp = r.busbwGBps / r.tcpGBps;
    const gloo = r.kind === 'gloo' ? undefined : find('gloo', r, true);
    r.vsGloo = gloo ? r.medianMs / gloo.medianMs : Number.NaN;
  }
}

export function formatSize(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

const HEADER = ['size', 'kind', 'mode', 'N', 'median ms', 'algbw GB/s', 'busbw GB/s', 'busbw/ws', 'busbw/tcp', 'cpu ms/op', 'faults/op', 'vs gloo', 'exact'];
const WIDTHS = [8, 9, 4, 2, 10, 10, 10, 8, 9, 9, 9, 7, 5];
/** A ratio as a whole percentage; '-' where there is none (NaN). */
export const percent = (x: number): string => (Number.isNaN(x) ? '-' : `${(x * 100).toFixed(0)}%`);

/** The cells that name a result and give its time, first in every all-reduce table. */
export function resultCells(r: BenchResult): string[] {
  return [formatSize(r.bytes), r.kind, r.mode, String(r.world), r.medianMs.toFixed(2)];
}

/** One table line: each cell right-aligned to its column's width. */
export function alignedRow(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => c.padStart(widths[i])).join('  ');
}

export function formatRow(r: BenchResult): string {
  const cells = [
    ...resultCells(r),
    r.algbwGBps.toFixed(3),
    r.busbwGBps.toFixed(3),
    percent(r.busbwOverRaw),
    percent(r.busbwOverTcp),
    r.cpuMsPerOp.toFixed(1),
    r.minorFaultsPerOp.toFixed(0),
    Number.isNaN(r.vsGloo) ? '-' : `${r.vsGloo.toFixed(2)}×`,
    r.verified ? 'yes' : 'NO',
  ];
  return alignedRow(cells, WIDTHS);
}

/** The table's header line. */
export function tableHeader(): string {
  return alignedRow(HEADER, WIDTHS);
}

/** The results as a text table, sorted by size then kind. */
export function formatBenchTable(results: BenchResult[]): string {
  const order: BenchKind[] = ['raw-tcp', 'raw', 'raw-ring', 'gloo', 'ring', 'ring-bf16', 'ring-fp16', 'ring-tls', 'star'];
  const sorted = [...results].sort(
    (a, b) => a.bytes - b.bytes || a.world - b.world || a.mode.localeCompare(b.mode) * -1 || order.indexOf(a.kind) - order.indexOf(b.kind),
  );
  return [tableHeader(), ...sorted.map(formatRow)].join('\n');
}
