import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EPOCH_CSV_COLUMNS, EpochsCsvWriter, epochCsvRows } from './epochs-csv';
import type { EpochRecord, MetricRecord } from './records';
import { sampleRun } from './test-support/records';

/** Parses the file back into objects (numbers, or null for an empty cell). */
function readCsv(file: string): Record<string, number | null>[] {
  const [head, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const names = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((cell, i) => [names[i], cell === '' ? null : Number(cell)])));
}

const epochsOf = (records: MetricRecord[]) => records.filter((r): r is EpochRecord => r.kind === 'epoch');

describe('epochs.csv', () => {
  it('starts with the Keras CSVLogger columns', () => {
    expect(EPOCH_CSV_COLUMNS.slice(0, 6)).toEqual(['epoch', 'accuracy', 'loss', 'lr', 'val_accuracy', 'val_loss']);
  });

  it('writes one row an epoch with the figures of the epoch records', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'csv-')), 'run', 'epochs.csv');
    const records = sampleRun(3, 4);
    const writer = new EpochsCsvWriter(file);
    for (const r of records) writer.append(r);
    const rows = readCsv(file);
    expect(Object.keys(rows[0])).toEqual([...EPOCH_CSV_COLUMNS]);
    const epochs = epochsOf(records);
    expect(rows).toHaveLength(epochs.length);
    rows.forEach((row, i) => {
      const e = epochs[i];
      expect(row.epoch).toBe(e.epoch);
      expect(row.loss).toBe(e.trainLoss);
      expect(row.accuracy).toBe(e.trainAccuracy);
      expect(row.lr).toBe(e.lr);
      expect(row.val_loss).toBe(e.validation!.loss);
      expect(row.val_accuracy).toBe(e.validation!.accuracy);
      expect(row.test_accuracy).toBe(e.test?.accuracy ?? null);
      expect(row.test_loss).toBe(e.test?.loss ?? null);
      expect(row.images_per_sec).toBe(e.imagesPerSec);
      expect(row.epoch_sec).toBe(e.durationSec);
      expect(row.elapsed_sec).toBeCloseTo((e.t - records[0].t) / 1000, 9);
    });
  });

  it('on resume keeps the earlier rows and replaces an epoch that ran again, never repeating it', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'csv-')), 'epochs.csv');
    const first = sampleRun(3, 2);
    // The resumed process starts from a checkpoint after epoch 1: epochs 1 and 2 run again.
    const again = epochsOf(sampleRun(3, 2, first[0].t + 60_000))
      .slice(1)
      .map((e) => ({ ...e, trainLoss: e.trainLoss / 2 }));
    const writer = new EpochsCsvWriter(file, first);
    expect(readCsv(file).map((r) => r.epoch)).toEqual([0, 1, 2]);
    writer.append(again[0]);
    writer.append(again[1]);
    const rows = readCsv(file);
    expect(rows.map((r) => r.epoch)).toEqual([0, 1, 2]);
    expect(rows.map((r) => r.loss)).toEqual([epochsOf(first)[0].trainLoss, again[0].trainLoss, again[1].trainLoss]);
    expect(rows).toEqual(epochCsvRows([...first, ...again]));
  });

  it('leaves validation and test cells empty when the run had none', () => {
    const [run, , , epoch] = sampleRun(1, 2);
    const rows = epochCsvRows([run, { ...(epoch as EpochRecord), validation: null, test: null }]);
    expect(rows[0].val_loss).toBeNull();
    expect(rows[0].test_accuracy).toBeNull();
  });
});
