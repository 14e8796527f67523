import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { asWriteFailure } from '@gradsync/core/node';
import path from 'node:path';
import type { EpochRecord, MetricRecord } from './records';

/**
 * runs/<name>/epochs.csv: one row an epoch. The first six columns are the ones Keras' CSVLogger
 * writes (epoch is 0-based there too), so scripts made for Keras logs read it unchanged.
 */
export const EPOCH_CSV_COLUMNS = [
  'epoch',
  'accuracy',
  'loss',
  'lr',
  'val_accuracy',
  'val_loss',
  'test_accuracy',
  'test_loss',
  'images_per_sec',
  'epoch_sec',
  /** Seconds from the run's first record to the end of this epoch (resumed runs include the pause). */
  'elapsed_sec',
] as const;

export type EpochCsvRow = Record<(typeof EPOCH_CSV_COLUMNS)[number], number | null>;

export function epochCsvRow(record: EpochRecord, runStartMs: number): EpochCsvRow {
  return {
    epoch: record.epoch,
    accuracy: record.trainAccuracy,
    loss: record.trainLoss,
    lr: record.lr,
    val_accuracy: record.validation?.accuracy ?? null,
    val_loss: record.validation?.loss ?? null,
    test_accuracy: record.test?.accuracy ?? null,
    test_loss: record.test?.loss ?? null,
    images_per_sec: record.imagesPerSec,
    epoch_sec: record.durationSec,
    elapsed_sec: (record.t - runStartMs) / 1000,
  };
}

/**
 * The rows of a run's records: an epoch run twice (resumed from a checkpoint older than the last
 * logged epoch) keeps its latest figures, so each epoch appears once, in epoch order.
 */
export function epochCsvRows(records: readonly MetricRecord[]): EpochCsvRow[] {
  const byEpoch = new Map<number, EpochCsvRow>();
  let runStartMs: number | null = null;
  for (const r of records) {
    runStartMs ??= r.t;
    if (r.kind === 'epoch') byEpoch.set(r.epoch, epochCsvRow(r, runStartMs));
  }
  return [...byEpoch.values()].sort((a, b) => (a.epoch ?? 0) - (b.epoch ?? 0));
}

/** Numbers only, so no cell needs quoting; a missing figure (no validation split) is an empty cell. */
export function formatEpochCsv(rows: readonly EpochCsvRow[]): string {
  const lines: string[] = [EPOCH_CSV_COLUMNS.join(',')];
  for (const row of rows) lines.push(EPOCH_CSV_COLUMNS.map((c) => (row[c] === null ? '' : String(row[c]))).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * Keeps epochs.csv equal to epochCsvRows(every record so far). The file is rewritten whole (it
 * holds one short line an epoch) through a rename, so a reader never sees half a file and a
 * repeated epoch replaces its row instead of adding a second one.
 */
export class EpochsCsvWriter {
  private readonly records: MetricRecord[];

  constructor(
    readonly file: string,
    history: readonly MetricRecord[] = [],
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    // Only what the rows need: the first record (the run's start) and the epochs.
    this.records = history.filter((r, i) => i === 0 || r.kind === 'epoch');
    this.write();
  }

  append(record: MetricRecord): void {
    if (this.records.length > 0 && record.kind !== 'epoch') return;
    this.records.push(record);
    if (record.kind === 'epoch' || this.records.length === 1) this.write();
  }

  /** Written beside and renamed: epochs.csv is always whole. Throws a WriteFailure naming it. */
  private write(): void {
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, formatEpochCsv(epochCsvRows(this.records)));
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw asWriteFailure(err, this.file);
    }
  }
}
