/**
 * `pnpm bench:netns`: the ring all-reduce between "hosts" on a private LAN of network namespaces
 * (virtual-lan.ts), every host's link capped by tc at a NIC's rate, at 2, 4 and 8 ranks:
 * what the ring does when the wire, not loopback's memory copies, is the limit.
 *
 *   pnpm bench:netns [--rates 1000,10000] [--worlds 2,4,8] [--sizes 660K,16M] [--wire-dtype bf16]
 *     [--compute-ms 5] [--repeats N] [--warmup N] [--json]
 *
 * Each result is set against the ring's bound, 2(n−1)/n · S / B: S the bytes the wire carries (the
 * float32 buffer, or half of it on a 16-bit wire), B the capped rate. `raw-tcp` is one TCP stream
 * between two hosts: what the capped link gives a single connection.
 *
 * A stand-in for GPU workers: each operation follows `--compute-ms` of idle time in every rank
 * (the cold mode's gap, as a GPU step leaves the CPU idle), and the weak-scaling efficiency
 * against N independent workers is compute / (compute + all-reduce). This is the collective alone:
 * the coordinator's orders and the optimizer are not in it.
 *
 * Needs root, iproute2 and tc; all benchmark processes share this machine's cores, so a rate the
 * CPUs cannot feed shows as a low fraction of the bound.
 */
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { GradsyncError } from '@gradsync/core';
import { runCli } from '@gradsync/core/node';
import { benchAllReduce, type BenchResult, SEED_CNN_GRADIENT_BYTES } from '../allreduce/bench-allreduce';
import { parseArgs } from '../allreduce/bench-args';
import { alignedRow, percent, resultCells } from '../allreduce/bench-table';
import { netnsUnavailable, VirtualLan } from './virtual-lan';

export interface NetnsBenchOptions {
  /** Link rates in Mbit/s (default 1,000 and 10,000). */
  ratesMbit?: number[];
  worlds?: number[];
  sizesBytes?: number[];
  /** 16-bit wires measured beside float32 (default bf16). */
  wireDtypes?: ('bf16' | 'fp16')[];
  /** Idle time before each operation, the GPU step stand-in (default 5 ms). */
  computeMs?: number;
  repeats?: number;
  warmup?: number;
  log?: (line: string) => void;
}

export interface NetnsResult extends BenchResult {
  rateMbit: number;
  /** The ring's bound for the bytes on the wire at this rate (raw-tcp: S / B). */
  boundMs: number;
  /** boundMs / medianMs: 1 is the wire's speed. */
  ofBound: number;
  /** Cold rows: compute / (compute + all-reduce), against N workers that never communicate. */
  weakScaling: number;
}

const MiB = 1024 * 1024;

function wireBytes(r: BenchResult): number {
  return r.kind === 'ring-bf16' || r.kind === 'ring-fp16' ? r.bytes / 2 : r.bytes;
}

/** The ring's lower bound on one all-reduce of `r` at `rateMbit`, in ms. */
export function ringBoundMs(r: Pick<BenchResult, 'kind' | 'bytes' | 'world'>, rateMbit: number): number {
  const bytesPerMs = (rateMbit * 1e6) / 8 / 1000;
  const S = wireBytes(r as BenchResult);
  const carried = r.kind === 'raw-tcp' ? S : (2 * (r.world - 1) * S) / r.world;
  return carried / bytesPerMs;
}

export async function benchNetns(options: NetnsBenchOptions = {}): Promise<NetnsResult[]> {
  const why = netnsUnavailable();
  if (why) throw new GradsyncError('E_BENCH_ENV', `the netns bench cannot run here: ${why}`);
  const rates = options.ratesMbit ?? [1000, 10_000];
  const worlds = options.worlds ?? [2, 4, 8];
  const computeMs = options.computeMs ?? 5;
  const log = options.log ?? (() => {});
  const out: NetnsResult[] = [];
  const hostCount = Math.max(2, ...worlds);
  for (const rateMbit of rates) {
    const lan = new VirtualLan(`gsb${process.pid % 10000}`);
    const names = Array.from({ length: hostCount }, (_, i) => `h${i + 1}`);
    try {
      lan.create(Object.fromEntries(names.map((n, i) => [n, `10.214.0.${i + 1}/24`])));
      lan.shape(rateMbit);
      log(`${rateMbit} Mbit/s links, ${hostCount} hosts:`);
      const results = await benchAllReduce({
        worlds,
        sizesBytes: options.sizesBytes ?? [SEED_CNN_GRADIENT_BYTES, 16 * MiB],
        algorithms: ['ring', 'halving-doubling'],
        wireDtypes: options.wireDtypes ?? ['bf16'],
        hosts: names.map((n, i) => ({ launcher: lan.on(n), address: `10.214.0.${i + 1}` })),
        gloo: false,
        cold: true,
        gapMs: computeMs,
        repeats: options.repeats,
        warmup: options.warmup ?? 20,
        log: (line) => log(`  ${line}`),
      });
      for (const r of results) {
        if (r.kind === 'raw') continue; // the ws stream adds nothing the TCP one does not show here
        const boundMs = ringBoundMs(r, rateMbit);
        const weakScaling = r.mode === 'cold' ? computeMs / (computeMs + r.medianMs) : Number.NaN;
        out.push({ ...r, rateMbit, boundMs, ofBound: boundMs / r.medianMs, weakScaling });
      }
    } finally {
      lan.destroy();
    }
  }
  return out;
}

const HEADER = ['link', 'size', 'kind', 'mode', 'N', 'median ms', 'bound ms', 'of bound', 'busbw GB/s', 'cpu ms/op', 'weak scaling', 'exact'];
const WIDTHS = [10, 8, 9, 4, 2, 10, 9, 8, 10, 9, 12, 5];

export function formatNetnsTable(results: readonly NetnsResult[], computeMs: number): string {
  const lines = [
    alignedRow(HEADER, WIDTHS),
    ...results.map((r) =>
      alignedRow(
        [
          r.rateMbit >= 1000 ? `${r.rateMbit / 1000} Gbit/s` : `${r.rateMbit} Mbit/s`,
          ...resultCells(r),
          r.boundMs.toFixed(2),
          percent(r.ofBound),
          r.busbwGBps.toFixed(3),
          r.cpuMsPerOp.toFixed(1),
          percent(r.weakScaling),
          r.kind === 'raw-tcp' ? '-' : r.verified ? 'yes' : 'NO',
        ],
        WIDTHS,
      ),
    ),
  ];
  return `${lines.join('\n')}\n(cold: one operation after ${computeMs} ms idle in every rank, a GPU step's stand-in; weak scaling = ${computeMs} / (${computeMs} + median))`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runCli(async () => {
    const argv = process.argv.slice(2);
    const take = (flag: string): string | undefined => {
      const i = argv.indexOf(flag);
      if (i < 0) return undefined;
      const v = argv[i + 1];
      if (v === undefined) throw new GradsyncError('E_BENCH_ARG', `${flag} needs a value`);
      argv.splice(i, 2);
      return v;
    };
    const rates = take('--rates')?.split(',').map(Number);
    const computeText = take('--compute-ms');
    const computeMs = computeText === undefined ? 5 : Number(computeText);
    if (!(computeMs > 0)) throw new GradsyncError('E_BENCH_ARG', `--compute-ms must be a positive number, got ${computeText}`);
    if (rates?.some((r) => !(r > 0))) throw new GradsyncError('E_BENCH_ARG', `--rates takes positive Mbit/s values, got ${rates.join(',')}`);
    const { json, worlds, sizesBytes, wireDtypes, repeats, warmup } = parseArgs(argv);
    process.stderr.write(`netns all-reduce bench: node ${process.version}, ${cpus().length} CPUs\n`);
    const results = await benchNetns({
      ratesMbit: rates,
      worlds,
      sizesBytes,
      wireDtypes,
      computeMs,
      repeats,
      warmup,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${formatNetnsTable(results, computeMs)}\n`);
  });
}
