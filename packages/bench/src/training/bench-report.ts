/**
 * The report of `pnpm bench`: what was measured (one object, written as JSON with --json), the
 * targets it is held to, and the table printed on screen.
 */
import type { BenchResult } from '../allreduce/bench-allreduce';
import { formatBenchTable, SEED_CNN_GRADIENT_BYTES } from '../allreduce/bench-allreduce';
import type { ComputeSuiteResult, MachineInfo } from '../compute/compute-bench';
import { formatComputeTable, THREADED_BACKENDS } from '../compute/compute-bench';
import type { BrowserTabResult, BrowserTabRun } from './browser-tab-bench';
import type { SyncBnCostResult } from './sync-bn-cost';
import type { MixedSpeedsResult } from './mixed-speeds';
import type { ParallelComputeResult } from './parallel-compute';
import type { ScalingResult, TrainingBenchResult, TrainingRunResult } from './training-bench';

export interface BenchReport {
  quick: boolean;
  /** ISO time the benchmark started. */
  startedAt: string;
  wallSec: number;
  machine: MachineInfo & {
    /** The backend `--backend auto` picks here, which the training runs use. */
    backend: string;
    device: string;
    /** 1-, 5- and 15-minute load averages before and after: other work on the machine shows here. */
    loadAvgStart: number[];
    loadAvgEnd: number[];
  };
  /** Floats one all-reduce of the training step carries (trainable weights + BatchNorm statistics). */
  gradientFloats: number;
  compute: ComputeSuiteResult | null;
  allreduce: { results: BenchResult[] } | null;
  training: TrainingBenchResult | null;
  /**
   * Compute-only processes started together, no sockets: one alone and two side by side at the
   * solo batch (what two processes cost each other on this machine) and at half of it (what two
   * workers of the global batch could reach at best). Measured with the training part.
   */
  ceiling: { solo: ParallelComputeResult; sameBatch: ParallelComputeResult; splitBatch: ParallelComputeResult } | null;
  /** 2 workers at 64 images each (global batch 128) against 2 × the solo run at 64. */
  weakScaling: (ScalingResult & { globalBatch: number; run: TrainingRunResult }) | null;
  /** An onednn and a wasm worker, --split equal against --split speed (absent in reports from before the part). */
  mixedSpeeds?: MixedSpeedsResult | { skipped: string } | null;
  /** A Node worker and a browser tab (star) against two Node workers (star, ring) (absent in reports from before the part). */
  browserTab?: BrowserTabResult | { skipped: string } | null;
  /** 2 workers with per-worker BatchNorm against --sync-bn (absent in reports from before the part). */
  syncBatchNorm?: SyncBnCostResult | { skipped: string } | null;
  targets: TargetCheck[];
}

export interface TargetCheck {
  what: string;
  /** The measured figure; null when this run did not measure it (e.g. --quick). */
  value: number | null;
  /** The figure must be at least this. */
  atLeast: number;
  met: boolean | null;
}

const MiB = 1024 * 1024;

/** The project's speed targets, checked against what the report measured. */
export function checkTargets(report: Pick<BenchReport, 'allreduce' | 'training' | 'mixedSpeeds' | 'ceiling'>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const check = (what: string, value: number | null | undefined, atLeast: number) =>
    checks.push({ what, value: value ?? null, atLeast, met: value == null ? null : value >= atLeast });
  const allreduce = (kind: BenchResult['kind'], bytes: number, world: number, mode: BenchResult['mode'] = 'warm') =>
    report.allreduce?.results.find((r) => r.kind === kind && r.bytes === bytes && r.world === world && r.mode === mode);
  for (const kind of ['ring', 'star'] as const)
    check(`${kind} all-reduce of 16 MiB over 4 workers: busbw / raw ws stream`, allreduce(kind, 16 * MiB, 4)?.busbwOverRaw, 0.7);
  check('ring all-reduce of 16 MiB over 2 workers: busbw / raw TCP stream', allreduce('ring', 16 * MiB, 2)?.busbwOverTcp, 0.9);
  // vsGloo is ring time / gloo time: its inverse is the speed-up, which the check wants at least.
  const overGloo = (bytes: number, mode: BenchResult['mode']) => {
    const row = allreduce('ring', bytes, 2, mode);
    return row && Number.isFinite(row.vsGloo) ? 1 / row.vsGloo : null;
  };
  check('ring 660 KiB (the seed CNN) over 2 workers, back to back: gloo time / ring time', overGloo(SEED_CNN_GRADIENT_BYTES, 'warm'), 1);
  check('ring 660 KiB over 2 workers, one every 50 ms: gloo time / ring time', overGloo(SEED_CNN_GRADIENT_BYTES, 'cold'), 1);
  check('ring 64 KiB over 2 workers, back to back: gloo time / ring time', overGloo(64 * 1024, 'warm'), 1 / 1.5);
  const two = report.training?.scaling.find((s) => s.workers === 2);
  const ceiling = report.ceiling?.splitBatch;
  check(
    `2 workers end to end: img/s / the compute ceiling (2 compute-only processes × batch ${ceiling?.batchSize ?? '?'})`,
    two && ceiling ? two.imagesPerSec / ceiling.total : null,
    0.95,
  );
  const mixed = report.mixedSpeeds && !('skipped' in report.mixedSpeeds) ? report.mixedSpeeds : null;
  check('mixed speeds (an onednn and a wasm worker): --split speed img/s / --split equal img/s', mixed?.ratio, 1.3);
  return checks;
}

const formatBytes = (b: number) => (b >= MiB ? `${b / MiB} MiB` : `${b / 1024} KiB`);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const cells = (values: string[], widths: number[]) => values.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');

function describeRepeats(results: BenchResult[]): string {
  const bySize = new Map<number, number>();
  for (const r of results) bySize.set(r.bytes, r.repeats);
  const groups = new Map<number, number[]>();
  for (const [bytes, reps] of [...bySize].sort((a, b) => a[0] - b[0])) groups.set(reps, [...(groups.get(reps) ?? []), bytes]);
  return [...groups].map(([reps, sizes]) => `${reps} at ${sizes.map(formatBytes).join(', ')}`).join('; ');
}

export function formatBenchReport(r: BenchReport): string {
  const out: string[] = [];
  const m = r.machine;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  out.push(`gradsync benchmark${r.quick ? ' --quick (smoke run: figures not representative)' : ''}, ${r.startedAt}, ${r.wallSec.toFixed(0)} s`);
  out.push(`machine: ${m.cpus} × ${m.cpuModel}, Node ${m.node}, ${m.platform}; backend ${m.backend} on ${m.device}`);
  out.push(`load average (1, 5, 15 min): ${load(m.loadAvgStart)} before, ${load(m.loadAvgEnd)} after`);

  if (r.compute) {
    const c = r.compute;
    out.push(
      '',
      `compute: ${c.model}, batch ${c.batchSize}, one process; median of ${c.reps} steps after ${c.warmup} warm-up (train = augment, forward, backward, pack, Adam)`,
    );
    out.push(formatComputeTable(c));
  }

  if (r.allreduce) {
    const a = r.allreduce.results;
    out.push(
      '',
      `all-reduce: sum of float32 buffers, one process per rank on loopback WebSockets, ${a[0] ? `${formatBytes(a[0].segmentBytes)} segments` : ''}; ` +
        `time from the first rank starting to the last finishing, median of ${describeRepeats(a)} operations after warm-up`,
      `algbw = bytes / time; busbw = algbw × 2(N−1)/N; ws = one WebSocket stream between two processes, same library, frames and sizes; tcp = one bare TCP stream received in place; ` +
        `cold = one operation every 50 ms, as training does; vs gloo = time / PyTorch gloo's at the same size, world and mode; all measured in this run`,
    );
    out.push(formatBenchTable(a));
  }

  if (r.training) {
    const t = r.training;
    out.push(
      '',
      `training end to end: pnpm start (coordinator + worker processes), ${t.model}, global batch ${t.batchSize}, synthetic ${t.dataset.train} train + ${t.dataset.validation} validation + ${t.dataset.test} test images, ${t.epochs} epoch(s); first ${t.warmupSteps} steps skipped`,
    );
    const w1 = [7, 10, 8, 6, 17, 20, 8];
    out.push(cells(['workers', 'all-reduce', 'backend', 'steps', 'img/s median step', 'img/s images / time', 'step ms'], w1));
    for (const run of t.runs) {
      out.push(
        cells(
          [
            String(run.workers),
            run.allreduce,
            THREADED_BACKENDS.includes(run.backend) && run.threads != null ? `${run.backend}×${run.threads}` : run.backend,
            String(run.steady.steps),
            run.steady.medianImagesPerSec.toFixed(1),
            run.steady.meanImagesPerSec.toFixed(1),
            run.steady.medianStepMs.toFixed(1),
          ],
          w1,
        ),
      );
    }
    out.push(
      '',
      'step split, median per step and rank: compute includes applying the summed gradient; all-reduce includes waiting for the slower rank;',
      "wait = idle before the step's orders are handled (orders go out a step ahead); exposed = the run's median step ms − the rank's compute ms (communication the step waits on);",
      'all-reduce share = least all-reduce ms of any rank / step ms (the transfer alone):',
    );
    const w2 = [7, 4, 7, 10, 13, 7, 10, 16];
    out.push(cells(['workers', 'rank', 'samples', 'compute ms', 'all-reduce ms', 'wait ms', 'exposed ms', 'all-reduce share'], w2));
    for (const run of t.runs) {
      for (const k of run.steady.ranks) {
        out.push(
          cells(
            [
              String(run.workers),
              String(k.rank),
              String(k.samples),
              k.computeMs.toFixed(1),
              k.allreduceMs.toFixed(2),
              k.waitMs.toFixed(1),
              (run.steady.medianStepMs - k.computeMs).toFixed(1),
              k.rank === 0 ? pct(run.steady.allreduceShare) : '',
            ],
            w2,
          ),
        );
      }
    }
    out.push('', `scaling (median per-step global img/s; solo = a 1-worker run at the same global batch ${t.batchSize}, on the same data, run just before):`);
    for (const s of t.scaling) {
      out.push(
        `  ${s.workers} workers: ${s.imagesPerSec.toFixed(1)} img/s = ${pct(s.ratio)} of ${s.workers} × solo (${s.sumOfSolo.toFixed(1)} img/s); by images / time: ${pct(s.meanRatio)}`,
      );
    }
  }

  if (r.weakScaling) {
    const w = r.weakScaling;
    const split = w.run.steady.ranks
      .map((k) => `rank ${k.rank}: compute ${k.computeMs.toFixed(1)}, all-reduce ${k.allreduceMs.toFixed(2)}, wait ${k.waitMs.toFixed(1)} ms`)
      .join('; ');
    out.push(
      '',
      `weak scaling (${w.globalBatch / w.workers} images per worker, global batch ${w.globalBatch}, median of ${w.run.steady.steps} steps):`,
      `  ${w.workers} workers: ${w.imagesPerSec.toFixed(1)} img/s = ${pct(w.ratio)} of ${w.workers} × solo (${w.sumOfSolo.toFixed(1)} img/s); ${split}`,
    );
  }

  if (r.ceiling) {
    const { solo, sameBatch, splitBatch } = r.ceiling;
    const row = (c: ParallelComputeResult) =>
      `  ${c.processes} process(es) × batch ${c.batchSize}: ${c.perProcess.map((x) => x.toFixed(1)).join(' + ')} = ${c.total.toFixed(1)} img/s = ${pct(c.total / (c.processes * solo.total))} of ${c.processes} × solo${c.threads != null && THREADED_BACKENDS.includes(r.machine.backend) ? `; --threads ${c.threads} each` : ''}`;
    out.push(
      '',
      `compute ceiling (compute-only processes started together, no sockets; median train img/s of each; solo = 1 process × batch ${solo.batchSize} in this measurement):`,
    );
    out.push(row(solo), row(sameBatch), row(splitBatch));
    const two = r.training?.scaling.find((s) => s.workers === 2);
    if (two)
      out.push(
        `  2 workers end to end reach ${pct(two.imagesPerSec / splitBatch.total)} of the 2 × batch ${splitBatch.batchSize} ceiling (${two.imagesPerSec.toFixed(1)} of ${splitBatch.total.toFixed(1)} img/s)`,
      );
  }

  if (r.mixedSpeeds) out.push('', ...formatMixedSpeeds(r.mixedSpeeds));
  if (r.browserTab) out.push('', ...formatBrowserTab(r.browserTab));
  if (r.syncBatchNorm) out.push('', ...formatSyncBnCost(r.syncBatchNorm));

  out.push('', 'targets:');
  for (const c of r.targets) {
    const mark = c.met === null ? '[n/a] ' : c.met ? '[met] ' : '[MISS]';
    out.push(`  ${mark} ${c.what}: ${c.value === null ? 'not measured in this run' : pct(c.value)} (target ≥ ${pct(c.atLeast)})`);
  }
  out.push(`gradient buffer of the training step: ${r.gradientFloats} floats = ${((r.gradientFloats * 4) / 1024).toFixed(0)} KiB per all-reduce`);
  return out.join('\n');
}

function formatMixedSpeeds(m: MixedSpeedsResult | { skipped: string }): string[] {
  if ('skipped' in m) return [`mixed speeds: skipped: ${m.skipped}`];
  const line = (run: TrainingRunResult) =>
    `  --split ${run.split}: ${run.steady.medianImagesPerSec.toFixed(1)} img/s, step ${run.steady.medianStepMs.toFixed(1)} ms; ` +
    run.steady.ranks.map((k) => `rank ${k.rank}: ${k.samples} samples, compute ${k.computeMs.toFixed(1)} ms`).join('; ');
  return [
    `mixed speeds: 2 workers (--worker-backend ${m.workerBackend}: rank order is join order), global batch ${m.equal.steady.globalBatch}, median of ${m.speed.steady.steps} steps after ${m.speed.steady.warmupSteps}:`,
    line(m.equal),
    line(m.speed),
    `  speed / equal: ${m.ratio.toFixed(2)}× (by images / time: ${m.meanRatio.toFixed(2)}×)`,
  ];
}

export function formatBrowserTab(b: BrowserTabResult | { skipped: string }): string[] {
  if ('skipped' in b) return [`browser tab: skipped: ${b.skipped}`];
  const line = (run: BrowserTabRun) =>
    `  ${run.members}, ${run.allreduce}: ${run.steady.medianImagesPerSec.toFixed(1)} img/s, step ${run.steady.medianStepMs.toFixed(1)} ms; ` +
    run.steady.ranks
      .map((k) => `rank ${k.rank}: ${k.samples} samples, compute ${k.computeMs.toFixed(1)} ms, all-reduce ${k.allreduceMs.toFixed(1)} ms`)
      .join('; ');
  const s = b.nodeAndTabStar.steady;
  return [
    `browser tab: ${b.model}, global batch ${s.globalBatch}, median of ${s.steps} steps after ${s.warmupSteps}; the tab: ${b.tab.host}, ${b.tab.device}`,
    line(b.nodeAndTabStar),
    line(b.nodeNodeStar),
    line(b.nodeNodeRing),
    `  node + tab (star) / node + node (ring): ${(s.medianImagesPerSec / b.nodeNodeRing.steady.medianImagesPerSec).toFixed(2)}×; star / ring between two Node workers: ${(
      b.nodeNodeStar.steady.medianImagesPerSec / b.nodeNodeRing.steady.medianImagesPerSec
    ).toFixed(2)}×`,
  ];
}

export function formatSyncBnCost(c: SyncBnCostResult | { skipped: string }): string[] {
  if ('skipped' in c) return [`synchronised BatchNorm: skipped: ${c.skipped}`];
  const line = (label: string, run: TrainingRunResult) =>
    `  ${label}: ${run.steady.medianImagesPerSec.toFixed(1)} img/s, step ${run.steady.medianStepMs.toFixed(1)} ms; ` +
    run.steady.ranks.map((k) => `rank ${k.rank}: compute ${k.computeMs.toFixed(1)}, all-reduce ${k.allreduceMs.toFixed(2)} ms`).join('; ');
  return [
    `synchronised BatchNorm (2 workers, global batch ${c.perWorker.steady.globalBatch}, median of ${c.synced.steady.steps} steps):`,
    line('per-worker statistics', c.perWorker),
    line('--sync-bn            ', c.synced),
    `  --sync-bn / per-worker: ${c.ratio.toFixed(2)}× the img/s, ${c.addedStepMs >= 0 ? '+' : ''}${c.addedStepMs.toFixed(1)} ms a step`,
  ];
}
