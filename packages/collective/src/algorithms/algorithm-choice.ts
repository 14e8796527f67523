/**
 * Note [Algorithm by size]
 * Each operation's algorithm is chosen from what every rank of the group shares (the buffer's
 * bytes, the world, the wire dtype) by this pure function, so all ranks choose the same one
 * without a word on the wire. Halving-doubling takes 2·log2(N) steps where the ring takes
 * 2·(N−1), for the same bytes per rank: where each step's latency sets the time (small buffers,
 * N ≥ 4) it is faster; the ring pipelines segments across its steps and stays for large buffers.
 * Halving-doubling needs N a power of two and a float32 wire (its staging is float32); the ring
 * serves every other case. The two sum in different orders, so their results may differ in the
 * last bit, but within a group every rank runs the same one and replicas stay identical.
 */
import { isPowerOfTwo } from './halving-doubling';
import type { WireDtype } from './wire-dtype';

export type AllReduceAlgorithm = 'ring' | 'halving-doubling';

/** Largest buffer halving-doubling takes by default (measured: docs/PERFORMANCE.md, issue 26). */
export const HALVING_DOUBLING_MAX_BYTES = 1024 * 1024;

/** Whether a group of `world` over `wire` can run halving-doubling at all (and so needs its links). */
export function halvingDoublingPossible(world: number, wire: WireDtype): boolean {
  return world >= 4 && isPowerOfTwo(world) && wire === 'f32';
}

export function chooseAlgorithm(o: { bytes: number; world: number; wire: WireDtype; maxHalvingDoublingBytes?: number }): AllReduceAlgorithm {
  const limit = o.maxHalvingDoublingBytes ?? HALVING_DOUBLING_MAX_BYTES;
  return halvingDoublingPossible(o.world, o.wire) && o.bytes <= limit ? 'halving-doubling' : 'ring';
}
