import type { EndRecord, EpochRecord, MetricRecord, RunRecord } from './records';

/** One line of the compare view's table: a run's configuration and its final figures. */
export interface RunSummary {
  name: string;
  model: string | null;
  /** Epochs completed, and the number the run was configured for. */
  epochsDone: number;
  epochsPlanned: number | null;
  batchSize: number | null;
  lr: number | null;
  /** Most workers that took part in one step. */
  workers: number;
  /** The workers' backends, as they reported them ("onednn", "wasm, webgpu"); null for a run with no worker records (pnpm train). */
  backend: string | null;
  finalTestAccuracy: number | null;
  bestValidationAccuracy: number | null;
  /** Time spent running: the sum over its sessions (a resumed run has several). */
  wallSec: number | null;
  /** Mean over its epochs of the training images per second. */
  imagesPerSec: number | null;
  status: EndRecord['status'] | 'running';
  /** Time of the first record (ms), to order runs. */
  startedAt: number | null;
}

const numberOr = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function summarizeRun(name: string, records: readonly MetricRecord[]): RunSummary {
  let run: RunRecord | null = null;
  const epochs = new Map<number, EpochRecord>();
  const ends: EndRecord[] = [];
  const backends = new Set<string>();
  let workers = 0;
  for (const r of records) {
    if (r.kind === 'run') run ??= r;
    else if (r.kind === 'epoch') epochs.set(r.epoch, r);
    else if (r.kind === 'end') ends.push(r);
    else if (r.kind === 'worker') backends.add(r.backend);
    else if (r.kind === 'step') workers = Math.max(workers, r.workers?.length ?? 0);
  }
  const latest = [...epochs.values()];
  const lastEnd = ends.at(-1) ?? null;
  const lastTested = latest
    .filter((e) => e.test)
    .sort((a, b) => a.epoch - b.epoch)
    .at(-1);
  const validations = latest.flatMap((e) => (e.validation ? [e.validation.accuracy] : []));
  const rates = latest.map((e) => e.imagesPerSec).filter(Number.isFinite);
  const config = run?.config ?? {};
  const lastT = records.at(-1)?.t;
  return {
    name,
    model: typeof config.model === 'string' ? config.model : null,
    epochsDone: epochs.size,
    epochsPlanned: numberOr(config.epochs),
    batchSize: numberOr(config.batchSize),
    lr: numberOr(config.lr),
    workers,
    backend: backends.size ? [...backends].sort().join(', ') : null,
    // The end's test (after the last epoch) is the final word; a run still going has its latest tested epoch.
    finalTestAccuracy: lastEnd?.test?.accuracy ?? lastTested?.test?.accuracy ?? null,
    bestValidationAccuracy: validations.length ? Math.max(...validations) : null,
    wallSec: ends.length ? ends.reduce((a, e) => a + e.wallSec, 0) : records.length && lastT !== undefined ? (lastT - records[0].t) / 1000 : null,
    imagesPerSec: rates.length ? rates.reduce((a, x) => a + x, 0) / rates.length : null,
    // Training after the last end (a resumed run going on) means it is running again.
    status: lastEnd && !records.slice(records.lastIndexOf(lastEnd) + 1).some((r) => r.kind === 'step' || r.kind === 'epoch') ? lastEnd.status : 'running',
    startedAt: records[0]?.t ?? null,
  };
}
