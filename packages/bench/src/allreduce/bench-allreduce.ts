/**
 * (The processes it drives are bench-process.ts and, for star, bench-star.ts; its options and
 * table are bench-table.ts, its command line bench-args.ts.)
 *
 * All-reduce benchmark: ring and star, each rank a separate process on this machine, over loopback
 * WebSockets, against the raw throughput of one WebSocket stream with the same library, framing
 * and segment size.
 *
 *   npx tsx packages/bench/src/allreduce/bench-allreduce.ts [--quick] [--sizes 64K,1M,16M,64M]
 *     [--worlds 2,3,4] [--algorithms ring,star] [--segment 256K] [--repeats N] [--warmup N]
 *     [--mask] [--ring-ceiling] [--tls] [--wire-dtype bf16,fp16] [--no-cold] [--gap MS] [--no-gloo] [--no-raw] [--json]
 *     (--tls: also the ring over TLS, 2 ranks; --wire-dtype: also the ring with 16-bit wire
 *     elements, kinds ring-bf16 / ring-fp16, whose bandwidths count the float32 buffer; cold: the ring and gloo again with MS (50) between
 *     operations, as in training; gloo: PyTorch's, where python3-torch is installed)
 *
 * Time of one operation: from the first rank starting to the last rank finishing, on a clock the
 * processes share; ranks are released together by a 4-byte all-reduce just before (a barrier).
 * Raw streams: from the sender starting to its receiver having everything. Median over `repeats`
 * after `warmup`. The worker processes are forked once and reused for every configuration. algbw = bytes / time; busbw = algbw · 2(N−1)/N (NCCL's convention: the traffic each
 * link carries in a ring all-reduce, so it compares with a link's raw bandwidth). `raw` is one
 * sender process streaming `bytes` to one receiver process. `--ring-ceiling` also measures N
 * processes streaming around a ring at once (no reduction): what the links can carry when N of
 * them share this machine's cores, the real upper bound for busbw here.
 *
 * Inputs are exact in float32 (multiples of 1/64; of 1/8 on a 16-bit wire), so the sum is exact in any order: every run
 * checks that all ranks end with the same bytes and the exact sum.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GradsyncError, median } from '@gradsync/core';
import { runCli } from '@gradsync/core/node';
import type { BenchRole, ChildMessage, ParentMessage } from './bench-process';
import { DEFAULT_SEGMENT_BYTES, halvingDoublingPossible } from '@gradsync/collective';
import { benchGloo, findTorchPython } from './gloo-anchor';
import { parseArgs } from './bench-args';
import {
  type BenchKind,
  type BenchMode,
  type BenchOptions,
  type BenchResult,
  formatBenchTable,
  formatRow,
  formatSize,
  relateToAnchors,
  RING_KINDS,
  tableHeader,
} from './bench-table';

export { formatBenchTable, relateToAnchors } from './bench-table';
export type { BenchKind, BenchMode, BenchOptions, BenchResult } from './bench-table';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The seed CNN's gradient: 169,066 floats. */
export const SEED_CNN_GRADIENT_BYTES = 676_264;
const benchProcessPath = fileURLToPath(new URL('./bench-process.ts', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A forked benchmark process and the messages it has sent. */
class BenchChild {
  private readonly proc: ChildProcess;
  private readonly inbox: ChildMessage[] = [];
  private waiter: (() => void) | null = null;
  private exited: string | null = null;

  constructor(
    readonly rank: number,
    readonly host?: { launcher: readonly string[]; address: string },
  ) {
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    this.proc = host
      ? spawn(host.launcher[0], [...host.launcher.slice(1), process.execPath, '--import', tsxLoader, benchProcessPath], { stdio })
      : fork(benchProcessPath, [], { execArgv: ['--import', tsxLoader], stdio });
    this.proc.on('message', (m: ChildMessage) => {
      this.inbox.push(m);
      this.waiter?.();
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = `benchmark process ${rank} exited (${signal ?? `code ${code}`})`;
      this.waiter?.();
    });
  }

  send(message: ParentMessage): void {
    this.proc.send(message);
  }

  /** The next message, which must be of `type`. */
  async next<T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.inbox.shift();
      if (m) {
        if (m.type === 'error') throw new GradsyncError('E_BENCH', `benchmark process ${this.rank}: ${m.message}`);
        if (m.type !== type) throw new GradsyncError('E_BENCH', `benchmark process ${this.rank} sent ${m.type}, expected ${type}`);
        return m as Extract<ChildMessage, { type: T }>;
      }
      if (this.exited) throw new GradsyncError('E_BENCH', this.exited);
      const left = deadline - Date.now();
      if (left <= 0) throw new GradsyncError('E_BENCH', `benchmark process ${this.rank} did not send ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    try {
      this.send({ type: 'exit' });
    } catch {
      // already disconnected
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

interface Group {
  /** Processes that take part in each timed operation. */
  workers: BenchChild[];
  all: BenchChild[];
  /** The star hub, which serves the operations without being told about them. */
  hub?: BenchChild;
}

const STEP_TIMEOUT_MS = 180_000;

async function startGroup(
  pool: BenchChild[],
  kind: Exclude<BenchKind, 'gloo'>,
  world: number,
  options: Required<Pick<BenchOptions, 'segmentBytes' | 'maskFrames' | 'timeoutMs'>>,
): Promise<Group> {
  const role: BenchRole = kind === 'raw' || kind === 'raw-ring' ? 'raw' : RING_KINDS.includes(kind) ? 'ring' : (kind as BenchRole);
  const wireDtype = kind === 'ring-bf16' ? 'bf16' : kind === 'ring-fp16' ? 'fp16' : 'f32';
  // raw-tcp: the receiver (rank 1) dials the sender, see raw-tcp-stream.ts.
  const workers = pool.slice(0, world);
  const hub = kind === 'star' ? pool[world] : null;
  const all = hub ? [...workers, hub] : workers;
  try {
    all.forEach((c, rank) =>
      c.send({
        type: 'init',
        role: c === hub ? 'star-hub' : role,
        rank,
        world,
        ...options,
        tls: kind === 'ring-tls',
        wireDtype,
        halvingDoubling: kind === 'halving-doubling',
        host: c.host?.address,
      }),
    );
    const urls = await Promise.all(all.map((c) => c.next('listening', STEP_TIMEOUT_MS)));
    const peers = urls.slice(0, world).map((u) => u.url ?? '');
    const hubUrl = hub ? (urls[world].url ?? undefined) : undefined;
    workers.forEach((c, rank) => {
      const next = kind === 'raw' ? (rank === 0 ? peers[1] : null) : kind === 'raw-tcp' ? (rank === 1 ? peers[0] : null) : peers[(rank + 1) % world];
      c.send({ type: 'group', peers, hubUrl, next });
    });
    hub?.send({ type: 'group', peers });
    await Promise.all(all.map((c) => c.next('connected', STEP_TIMEOUT_MS)));
    return { workers, all, hub: hub ?? undefined };
  } catch (err) {
    await releaseGroup({ workers, all });
    throw err;
  }
}

async function releaseGroup(group: Group): Promise<void> {
  group.all.forEach((c) => c.send({ type: 'reset' }));
  await Promise.all(group.all.map((c) => c.next('reset-done', STEP_TIMEOUT_MS)));
}

interface Timing {
  medianMs: number;
  cpuMsPerOp: number;
  minorFaultsPerOp: number;
  verified: boolean;
}

async function hubCpuMs(group: Group): Promise<number> {
  if (!group.hub) return 0;
  group.hub.send({ type: 'cpu' });
  return (await group.hub.next('cpu', STEP_TIMEOUT_MS)).ms;
}

async function measure(group: Group, kind: BenchKind, bytes: number, repeats: number, warmup: number, opBase: number, gapMs: number): Promise<Timing> {
  const world = group.workers.length;
  group.workers.forEach((c, rank) => {
    if (kind === 'raw' || kind === 'raw-tcp') c.send({ type: 'prepare', bytes, sendBytes: rank === 0 ? bytes : 0, expectBytes: rank === 0 ? 0 : bytes });
    else if (kind === 'raw-ring') c.send({ type: 'prepare', bytes, sendBytes: linkBytes(bytes, world), expectBytes: linkBytes(bytes, world) });
    else c.send({ type: 'prepare', bytes });
  });
  await Promise.all(group.workers.map((c) => c.next('prepared', STEP_TIMEOUT_MS)));
  const times: number[] = [];
  const cpu: number[] = [];
  const faults: number[] = [];
  let verified = true;
  let hubCpu = 0;
  for (let rep = 0; rep < warmup + repeats; rep++) {
    if (rep === warmup) hubCpu = await hubCpuMs(group);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    group.workers.forEach((c) => c.send({ type: 'go', rep, opId: opBase + 2 * rep }));
    const done = await Promise.all(group.workers.map((c) => c.next('done', STEP_TIMEOUT_MS)));
    if (rep === 0 && (RING_KINDS.includes(kind) || kind === 'star')) {
      verified = done.every((d) => d.exact === true && d.digest === done[0].digest);
    }
    if (rep < warmup) continue;
    cpu.push(done.reduce((sum, d) => sum + d.cpuMs, 0));
    faults.push(done.reduce((sum, d) => sum + d.minorFaults, 0));
    if (kind === 'raw' || kind === 'raw-tcp' || kind === 'raw-ring') {
      // Each link: from its sender starting to its receiver having everything.
      const links = kind !== 'raw-ring' ? [[0, 1]] : done.map((_, r) => [r, (r + 1) % world]);
      times.push(Math.max(...links.map(([from, to]) => done[to].end - done[from].start)));
    } else {
      times.push(Math.max(...done.map((d) => d.end)) - Math.min(...done.map((d) => d.start)));
    }
  }
  // The hub's share: its CPU over the timed operations (and their 4-byte barriers), per operation.
  hubCpu = group.hub ? ((await hubCpuMs(group)) - hubCpu) / repeats : 0;
  return { medianMs: median(times), cpuMsPerOp: median(cpu) + hubCpu, minorFaultsPerOp: median(faults), verified };
}

/** Bytes each link carries in a ring all-reduce of `bytes` over `world` ranks (multiple of 4). */
function linkBytes(bytes: number, world: number): number {
  return Math.round((bytes * 2 * (world - 1)) / world / 4) * 4;
}

function defaultsFor(bytes: number, options: BenchOptions): { repeats: number; warmup: number } {
  if (options.quick) return { repeats: options.repeats ?? 3, warmup: options.warmup ?? 3 };
  return {
    repeats: options.repeats ?? (bytes <= MiB ? 30 : bytes <= 16 * MiB ? 10 : 5),
    warmup: options.warmup ?? 50,
  };
}

/** Runs the benchmark; see the file comment. */
export async function benchAllReduce(options: BenchOptions = {}): Promise<BenchResult[]> {
  const quick = options.quick ?? false;
  const sizes = options.sizesBytes ?? (quick ? [64 * KiB, 256 * KiB] : [64 * KiB, SEED_CNN_GRADIENT_BYTES, MiB, 16 * MiB, 64 * MiB]);
  const cold = options.cold ?? !quick;
  const gapMs = options.gapMs ?? 50;
  const worlds = options.worlds ?? (quick ? [2] : [2, 3, 4]);
  const algorithms = options.algorithms ?? ['ring', 'halving-doubling', 'star'];
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const settings = { segmentBytes, maskFrames: options.maskFrames ?? false, timeoutMs: options.timeoutMs ?? 120_000 };
  const log = options.log ?? (() => {});
  for (const b of sizes) {
    if (!Number.isInteger(b) || b <= 0 || b % 4 !== 0) throw new GradsyncError('E_BENCH_ARG', `sizes must be positive multiples of 4 bytes, got ${b}`);
  }
  for (const w of worlds) if (!Number.isInteger(w) || w < 2) throw new GradsyncError('E_BENCH_ARG', `worlds must be integers ≥ 2, got ${w}`);

  const results: BenchResult[] = [];
  let opBase = 1;
  const record = (kind: BenchKind, world: number, bytes: number, repeats: number, t: Timing, mode: BenchMode = 'warm') => {
    const algbw = kind === 'raw-ring' ? linkBytes(bytes, world) / t.medianMs / 1e6 : bytes / t.medianMs / 1e6;
    const busbw = RING_KINDS.includes(kind) || kind === 'star' || kind === 'gloo' ? (algbw * 2 * (world - 1)) / world : algbw;
    const r: BenchResult = {
      kind,
      mode,
      world,
      bytes,
      segmentBytes,
      repeats,
      medianMs: t.medianMs,
      algbwGBps: algbw,
      busbwGBps: busbw,
      rawGBps: Number.NaN,
      busbwOverRaw: Number.NaN,
      tcpGBps: Number.NaN,
      busbwOverTcp: Number.NaN,
      cpuMsPerOp: t.cpuMsPerOp,
      minorFaultsPerOp: t.minorFaultsPerOp,
      vsGloo: Number.NaN,
      verified: t.verified,
    };
    results.push(r);
    relateToAnchors(results);
    log(formatRow(r));
  };

  const runGroup = async (kind: Exclude<BenchKind, 'gloo'>, world: number) => {
    const group = await startGroup(pool, kind, world, settings);
    try {
      for (const bytes of sizes) {
        const { repeats, warmup } = defaultsFor(bytes, options);
        const t = await measure(group, kind, bytes, repeats, warmup, opBase, 0);
        opBase += 2 * (repeats + warmup);
        record(kind, kind === 'raw' || kind === 'raw-tcp' ? 2 : world, bytes, repeats, t);
        if (cold && RING_KINDS.includes(kind) && kind !== 'ring-tls' && bytes <= 16 * MiB) {
          const c = await measure(group, kind, bytes, repeats, warmup, opBase, gapMs);
          opBase += 2 * (repeats + warmup);
          record(kind, world, bytes, repeats, c, 'cold');
        }
      }
    } finally {
      await releaseGroup(group);
    }
  };

  const python = (options.gloo ?? !quick) ? findTorchPython() : null;
  if ((options.gloo ?? !quick) && python === null) log('gloo: no python3 with torch here (Debian: apt-get install python3-torch); no anchor in this run');
  const runGloo = (world: number) => {
    if (python === null) return;
    const modes: [BenchMode, number][] = cold
      ? [
          ['warm', 0],
          ['cold', gapMs],
        ]
      : [['warm', 0]];
    for (const [mode, gap] of modes) {
      const measured = sizes.filter((b) => mode === 'warm' || b <= 16 * MiB);
      // One repeat count for the whole call: the smallest size's (gloo runs all sizes in one group).
      const { repeats, warmup } = defaultsFor(Math.min(...measured), options);
      for (const g of benchGloo(python, { world, sizes: measured, warmup, repeats, gapMs: gap })) record('gloo', world, g.bytes, repeats, g, mode);
    }
  };

  const poolSize = Math.max(2, ...worlds) + (algorithms.includes('star') ? 1 : 0);
  if (options.hosts && options.hosts.length < poolSize)
    throw new GradsyncError('E_BENCH_ARG', `${poolSize} benchmark processes need as many hosts, got ${options.hosts.length}`);
  const pool = Array.from({ length: poolSize }, (_, i) => new BenchChild(i, options.hosts?.[i]));
  try {
    if (options.raw ?? true) {
      await runGroup('raw-tcp', 2);
      await runGroup('raw', 2);
    }
    for (const world of worlds) {
      runGloo(world);
      for (const algorithm of algorithms) {
        if (algorithm === 'halving-doubling' && !halvingDoublingPossible(world, 'f32')) continue;
        await runGroup(algorithm, world);
      }
      for (const wire of options.wireDtypes ?? []) await runGroup(wire === 'bf16' ? 'ring-bf16' : 'ring-fp16', world);
      if (options.ringCeiling) await runGroup('raw-ring', world);
    }
    if (options.tlsRing) await runGroup('ring-tls', 2);
  } finally {
    await Promise.all(pool.map((c) => c.stop()));
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runCli(async () => {
    const { json, ...options } = parseArgs(process.argv.slice(2));
    const segment = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    process.stdout.write(
      `all-reduce benchmark: node ${process.version}, ${cpus().length} CPUs, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, ` + `segment ${formatSize(segment)}${options.maskFrames ? ', masked frames' : ''}\n`,
    );
    if (!json) process.stdout.write(`${tableHeader()}\n`);
    const results = await benchAllReduce({ ...options, log: json ? undefined : (line) => process.stdout.write(`${line}\n`) });
    if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else
      process.stdout.write(
        `\nsorted:\n${formatBenchTable(results)}\nload after: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}\n`,
      );
  });
}
